//go:build !windows

package hookcfg

import (
	"io/fs"
	"os"
	"syscall"
)

// sameOwner gives f the owner of like, when we may (running as root on
// someone's file); failures are ignored, the file is still theirs to read.
func sameOwner(f *os.File, like fs.FileInfo) {
	st, ok := like.Sys().(*syscall.Stat_t)
	if !ok || os.Geteuid() != 0 {
		return
	}
	_ = f.Chown(int(st.Uid), int(st.Gid))
}
