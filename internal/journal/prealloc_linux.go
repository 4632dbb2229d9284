package journal

import (
	"os"
	"syscall"
)

// fallocKeepSize is FALLOC_FL_KEEP_SIZE: reserve blocks past the end
// without changing the file's size, so that readers (and the log's replay)
// still see only what was written.
const fallocKeepSize = 1

// preallocate reserves the blocks of f's bytes [off, off+n). It is best
// effort (callers ignore the error): on a file system that cannot
// (EOPNOTSUPP), writes allocate as they go.
func preallocate(f *os.File, off, n int64) error {
	return syscall.Fallocate(int(f.Fd()), fallocKeepSize, off, n)
}
