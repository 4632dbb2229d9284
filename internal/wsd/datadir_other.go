//go:build !unix

package wsd

import (
	"io/fs"

	"github.com/hashicorp/go-hclog"
)

// restrictUmask does nothing where there is no umask: a new file under
// %LocalAppData% inherits the user's private ACL.
func restrictUmask() {}

// tighten does nothing on Windows, whose ACLs are not mode bits.
func tighten(path string, perm fs.FileMode, log hclog.Logger) {}

// securePath does nothing on Windows (see tighten).
func securePath(dir string, log hclog.Logger) error { return nil }
