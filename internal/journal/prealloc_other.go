//go:build !linux

package journal

import "os"

// preallocate does nothing here: the log's writes allocate as they go.
func preallocate(f *os.File, off, n int64) error { return nil }
