//go:build unix && !linux

package hook

// sockFlags is 0 where socket(2) may not take SOCK_NONBLOCK|SOCK_CLOEXEC
// (macOS): exchange sets them with fcntl.
const sockFlags = 0
