//go:build unix

package hook

import (
	"errors"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// errTimeout is returned when the daemon did not answer within the bound.
var errTimeout = errors.New("daemon did not answer in time")

// roundTrip sends the parts of req, in order, to addr over TCP and returns the HTTP status code of
// the answer, all before deadline. It uses the socket system calls directly:
// linking the net package alone costs more start-up time than everything
// else the hook does. With whole set, it reads the answer up to EOF (at
// most maxAnswer bytes) and returns it too; else it returns as soon as the
// status line is in.
func roundTrip(addr string, req [][]byte, deadline time.Time, whole bool) (int, []byte, error) {
	ip, port, err := resolveAddr(addr)
	if err != nil {
		return 0, nil, err
	}
	var sa unix.Sockaddr
	family := unix.AF_INET
	if len(ip) == 4 {
		s := &unix.SockaddrInet4{Port: port}
		copy(s.Addr[:], ip)
		sa = s
	} else {
		family = unix.AF_INET6
		s := &unix.SockaddrInet6{Port: port}
		copy(s.Addr[:], ip)
		sa = s
	}
	return exchange(family, sa, req, deadline, whole)
}

// socketTransport is true where the hook tries the daemon's Unix socket
// first.
const socketTransport = true

// roundTripSocket is roundTrip over the daemon's Unix socket at path.
// A connect error (no file, a stale file nobody listens on, a full
// backlog) comes back as a *dialError: the caller then uses TCP.
func roundTripSocket(path string, req [][]byte, deadline time.Time, whole bool) (int, []byte, error) {
	return exchange(unix.AF_UNIX, &unix.SockaddrUnix{Name: path}, req, deadline, whole)
}

// exchange connects a stream socket of family to sa and does roundTrip's
// work on it.
func exchange(family int, sa unix.Sockaddr, req [][]byte, deadline time.Time, whole bool) (int, []byte, error) {
	fd, err := socket(family)
	if err != nil {
		return 0, nil, &dialError{err}
	}
	defer unix.Close(fd)
	if family != unix.AF_UNIX {
		// The request goes in one write, but set NODELAY anyway so that no
		// tail segment waits for a delayed ACK.
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}

	err = unix.Connect(fd, sa)
	if err == unix.EINPROGRESS || err == unix.EINTR || err == unix.EALREADY {
		if err := wait(fd, unix.POLLOUT, deadline); err != nil {
			return 0, nil, err
		}
		soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			return 0, nil, &dialError{err}
		}
		if soerr != 0 {
			return 0, nil, &dialError{syscall.Errno(soerr)}
		}
	} else if err != nil {
		return 0, nil, &dialError{err}
	}

	var writeErr error
parts:
	for _, part := range req {
		for off := 0; off < len(part); {
			n, err := unix.Write(fd, part[off:])
			if n > 0 {
				off += n
			}
			if err == unix.EAGAIN || err == unix.EINTR {
				if err := wait(fd, unix.POLLOUT, deadline); err != nil {
					return 0, nil, err
				}
				continue
			}
			if err != nil {
				// The daemon may have answered and closed early (413,
				// 401): read the answer before deciding.
				writeErr = err
				break parts
			}
		}
	}

	resp := make([]byte, 512)
	if whole {
		resp = make([]byte, maxAnswer)
	}
	got := 0
	code := 0
	for got < len(resp) {
		n, err := unix.Read(fd, resp[got:])
		if err == unix.EAGAIN || err == unix.EINTR {
			if err := wait(fd, unix.POLLIN, deadline); err != nil {
				return 0, nil, err
			}
			continue
		}
		if err != nil {
			if code != 0 {
				return code, resp[:got], nil
			}
			if writeErr != nil {
				return 0, nil, writeErr
			}
			return 0, nil, err
		}
		if n == 0 {
			break // EOF
		}
		got += n
		if code == 0 {
			c, ok, err := statusLine(resp[:got])
			if err != nil {
				return 0, nil, err
			}
			if ok {
				code = c
				if !whole {
					return code, nil, nil
				}
			}
		}
	}
	if code != 0 {
		return code, resp[:got], nil
	}
	if writeErr != nil {
		return 0, nil, writeErr
	}
	return 0, nil, errNoStatus
}

// socket returns a new non-blocking, close-on-exec stream socket.
func socket(family int) (int, error) {
	if sockFlags != 0 {
		return unix.Socket(family, unix.SOCK_STREAM|sockFlags, 0)
	}
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(family, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return 0, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return 0, err
	}
	return fd, nil
}

// wait polls fd for events until deadline.
func wait(fd int, events int16, deadline time.Time) error {
	for {
		ms := time.Until(deadline).Milliseconds()
		if ms <= 0 {
			return errTimeout
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: events}}
		n, err := unix.Poll(fds, int(ms))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n > 0 {
			return nil // ready, or an error the next call reports
		}
	}
}
