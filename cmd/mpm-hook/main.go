// Command mpm-hook is what Claude Code runs for each hook event: with no
// arguments it forwards the JSON object on stdin to mpm-wsd (or spools it
// when the daemon does not answer), prints nothing (but a person's decision
// on a PermissionRequest installed with --approvals) and exits 0, always.
//
// Everything else (help, version, install, uninstall, status) is carried
// out by mpm-hookctl, installed beside it, so that this binary links
// nothing but the forwarding path: its start-up time is what every event
// costs (cmd/mpm-hook/deps_test.go pins its imports).
package main

import (
	"os"

	"github.com/mpm-dev/mpm/internal/hook"
)

func main() {
	if len(os.Args) > 1 {
		os.Exit(hook.RunCtl(os.Args[1:]))
	}
	if hook.StdinIsTerminal() {
		os.Stderr.WriteString(hook.AtTerminal)
		os.Exit(0)
	}
	forward()
}

// forward runs the hook path: exit 0 whatever happens.
func forward() {
	defer func() {
		recover()
		os.Exit(0)
	}()
	hook.Forward(hook.ConfigFromEnv())
}
