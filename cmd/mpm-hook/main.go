// Command mpm-hook is what Claude Code runs for each hook event: with no
// arguments it forwards the JSON object on stdin to mpm-wsd (or spools it
// when the daemon does not answer), prints nothing and exits 0, always.
// With a subcommand (install, uninstall, status, help) it wires itself into
// Claude Code's settings.
package main

import (
	"os"

	"github.com/mpm-dev/mpm/internal/hook"
	"github.com/mpm-dev/mpm/internal/hookcfg"
)

func main() {
	if len(os.Args) > 1 {
		os.Exit(hookcfg.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	forward()
}

// forward runs the hook path: exit 0 whatever happens.
func forward() {
	defer func() {
		recover()
		os.Exit(0)
	}()
	hook.Run(hook.ConfigFromEnv(), os.Stdin)
}
