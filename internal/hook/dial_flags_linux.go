package hook

import "golang.org/x/sys/unix"

// sockFlags makes socket(2) return a non-blocking, close-on-exec socket in
// one call (no fcntl calls, no fork lock).
const sockFlags = unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC
