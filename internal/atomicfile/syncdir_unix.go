//go:build !windows

package atomicfile

import "os"

// SyncDir fsyncs a directory so that a rename in it survives power loss
// (best effort: an error leaves the rename as durable as the file system
// makes it anyway).
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
