//go:build !unix

package testutil

// removeStaleBuildDirs is stop_unix.go's; elsewhere nothing is removed.
func removeStaleBuildDirs() {}
