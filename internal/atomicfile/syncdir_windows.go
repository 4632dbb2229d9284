//go:build windows

package atomicfile

// SyncDir is a no-op on Windows, where a directory cannot be opened for
// flushing; NTFS journals the rename.
func SyncDir(dir string) {}
