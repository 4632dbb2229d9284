//go:build !unix

package hook

import (
	"os"

	"github.com/mpm-dev/mpm/internal/token"
)

// Forward is what mpm-hook does with no arguments: read the event from this
// process's stdin, deliver or spool it. Like Run, it never panics and writes
// nothing but cfg.Debug (and a decision to cfg.Stdout).
func Forward(cfg Config) Result { return Run(cfg, os.Stdin) }

// readToken reads the token file.
func readToken(path string) (string, error) { return token.Read(path) }
