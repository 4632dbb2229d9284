// Command mpm-manager installs mpm as an OS service and, as that service
// ("mpm-manager run"), keeps mpm-wsd running. See internal/manager and
// deploy/INSTALL.md.
package main

import (
	"os"

	"github.com/mpm-dev/mpm/internal/manager"
)

func main() { os.Exit(manager.Main(os.Args[1:], os.Stdout, os.Stderr)) }
