//go:build unix

package hook

import "syscall"

// execCtl replaces this process with path: stdin, stdout, stderr and the
// exit code are the installer's own. It returns only on failure.
func execCtl(path string, argv, env []string) (int, error) {
	return 1, syscall.Exec(path, argv, env)
}
