package fleet

import (
	"fmt"
	"os"
	"runtime"
	"strings"
)

// ReadSecret reads a secret (a NATS password or token) from path, for
// --nats-password-file and --nats-token-file: a service then carries the
// file's name in its arguments, not the secret. The file must be readable
// by its owner only (0600 or 0400) where the OS has such modes, and hold
// the secret on its first line.
func ReadSecret(flag, path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", flag, path, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s %s: not a regular file", flag, path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s %s: the file may be read by others (mode %04o): run chmod 600 %s", flag, path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", flag, path, err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimRight(line, "\r")
	if line == "" {
		return "", fmt.Errorf("%s %s: the file is empty: put the secret on its first line", flag, path)
	}
	return line, nil
}
