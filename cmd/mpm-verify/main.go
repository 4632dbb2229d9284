// Command mpm-verify checks every link from Claude Code to the mpm
// dashboard and says what is broken and how to fix it. See
// internal/verify.
package main

import (
	"os"

	"github.com/mpm-dev/mpm/internal/verify"
)

func main() { os.Exit(verify.Main(os.Args[1:], os.Stdout, os.Stderr)) }
