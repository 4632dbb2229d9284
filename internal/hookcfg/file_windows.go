//go:build windows

package hookcfg

import (
	"io/fs"
	"os"
)

// sameOwner is a no-op on Windows: a new file inherits the directory's ACL.
func sameOwner(f *os.File, like fs.FileInfo) {}
