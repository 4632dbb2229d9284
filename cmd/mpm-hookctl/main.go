// Command mpm-hookctl wires mpm-hook into Claude Code's settings: install,
// uninstall, status and help. Users run it as `mpm-hook install` (and so
// on): mpm-hook hands every subcommand to the mpm-hookctl installed beside
// it, so that the binary Claude Code starts on every event links nothing
// but the forwarding path. Run directly, it installs the mpm-hook found
// beside itself.
package main

import (
	"os"

	"github.com/mpm-dev/mpm/internal/hook"
	"github.com/mpm-dev/mpm/internal/hookcfg"
)

func main() {
	// mpm-hook on Linux hands rare work to this binary (hook.Handoff).
	if code, ok := hook.Handoff(os.Args[1:]); ok {
		os.Exit(code)
	}
	os.Exit(hookcfg.Main(os.Args[1:], os.Stdout, os.Stderr))
}
