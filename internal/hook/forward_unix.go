//go:build unix

package hook

import (
	"io/fs"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpm-dev/mpm/internal/token"
)

// Forward is what mpm-hook does with no arguments: read the event from this
// process's stdin (fd 0), deliver or spool it, then drop what else is
// already waiting on stdin. Like Run, it never panics and writes nothing
// but cfg.Debug (and a decision to cfg.Stdout).
//
// Everything here runs on the calling goroutine with plain system calls:
// no reader goroutine, no timer, no network poller, so the Go runtime starts
// no thread beyond those an empty program starts.
func Forward(cfg Config) Result {
	res := finish(cfg, func() input { return readStdin(0, cfg.StdinTimeout) })
	discardRest(0, 100*time.Millisecond)
	return res
}

// readToken reads the token file with plain system calls: os.ReadFile
// would start the runtime's network poller (an epoll set, an eventfd and a
// thread blocked on them) for one small file. O_NONBLOCK costs nothing on a
// regular file and keeps a FIFO planted there from hanging the hook: its
// read returns at once, empty or EAGAIN, and the token is then invalid.
func readToken(path string) (string, error) {
	const flags = unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK
	fd, err := unix.Open(path, flags, 0)
	for err == unix.EINTR {
		fd, err = unix.Open(path, flags, 0)
	}
	if err != nil {
		return "", &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	// A token file is 65 bytes: a small buffer on the stack holds it (2 KiB
	// there would make the goroutine's stack grow: a copy and fresh pages);
	// a larger file moves to the heap, up to token.MaxFileSize.
	var small [128]byte
	buf := small[:]
	n := 0
	for n < token.MaxFileSize {
		if n == len(buf) {
			buf = append(buf, make([]byte, token.MaxFileSize-len(buf))...)
		}
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if m <= 0 {
			break
		}
		n += m
	}
	return token.Parse(buf[:n], path)
}
