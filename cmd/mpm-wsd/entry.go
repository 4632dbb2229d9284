// Command mpm-wsd is the mpm event daemon: it ingests Claude Code hook
// events, sequences and keeps them, and streams them to the dashboard and
// terminal clients. See internal/daemon, docs/protocol.md and README.md.
package main

import (
	"os"

	"github.com/mpm-dev/mpm/internal/daemon"
)

func main() { os.Exit(daemon.Main(os.Args[1:], os.Stdout, os.Stderr)) }
