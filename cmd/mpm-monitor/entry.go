// Command mpm-monitor tails mpm-wsd's events in the terminal: filtered,
// human lines or NDJSON, resuming after the last printed seq across daemon
// restarts and network drops. See internal/monitor and README.md.
package main

import (
	"os"

	"github.com/mpm-dev/mpm/internal/monitor"
)

func main() { os.Exit(monitor.Main(os.Args[1:], os.Stdout, os.Stderr)) }
