package lean

import (
	"syscall"

	"github.com/mpm-dev/mpm/internal/ascii"
)

// Transports, as the debug line names them.
const (
	viaSocket = "socket"
	viaTCP    = "tcp"
)

// post is internal/hook's post: the daemon's Unix socket in the data
// directory first (no token), then TCP with the token when the socket could
// not be reached or refused this user (403). A socket that took the
// request but did not answer in time is not retried over TCP.
func post(addr, dataDir, key string, sent int64, body []byte, deadline int64) (code int, via string, err error) {
	req := BuildRequest(addr, "", key, sent, body, "")
	code, err = exchange(syscall.AF_UNIX, &syscall.SockaddrUnix{Name: dataDir + "/wsd.sock"}, req, deadline)
	if err == nil && code != 403 {
		return code, viaSocket, nil
	}
	if _, dial := err.(*dialError); err != nil && !dial {
		return code, viaSocket, err
	}
	tok, terr := readToken(dataDir + "/token")
	if terr != nil {
		return code, viaTCP, terr
	}
	sa, family, err := sockaddr(addr)
	if err != nil {
		return 0, viaTCP, err
	}
	req = BuildRequest(addr, tok, key, sent, body, "")
	code, err = exchange(family, sa, req, deadline)
	return code, viaTCP, err
}

// sockaddr resolves addr, an IP literal and a port.
func sockaddr(addr string) (syscall.Sockaddr, int, error) {
	host, port, err := HostPort(addr)
	if err != nil {
		return nil, 0, err
	}
	ip, ok := ParseIP(host)
	if !ok {
		return nil, 0, errString("address " + addr + ": the hook needs an IP address (e.g. 127.0.0.1:8765), not a host name")
	}
	if len(ip) == 4 {
		s := &syscall.SockaddrInet4{Port: port}
		copy(s.Addr[:], ip)
		return s, syscall.AF_INET, nil
	}
	s := &syscall.SockaddrInet6{Port: port}
	copy(s.Addr[:], ip)
	return s, syscall.AF_INET6, nil
}

// dialError is a failure to connect: nothing was sent.
type dialError struct{ err error }

func (e *dialError) Error() string { return "connect: " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// exchange connects a stream socket of family to sa, sends the parts of
// req and returns the status code of the answer, all before deadline
// (internal/hook's exchange, answer's status line only).
func exchange(family int, sa syscall.Sockaddr, req [][]byte, deadline int64) (int, error) {
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, &dialError{err}
	}
	defer syscall.Close(fd)
	if family != syscall.AF_UNIX {
		// One write, but no tail segment should wait for a delayed ACK.
		syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	}
	err = syscall.Connect(fd, sa)
	if err == syscall.EINPROGRESS || err == syscall.EINTR || err == syscall.EALREADY {
		if err := wait(fd, pollOut, deadline); err != nil {
			return 0, err
		}
		soerr, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
		if err != nil {
			return 0, &dialError{err}
		}
		if soerr != 0 {
			return 0, &dialError{syscall.Errno(soerr)}
		}
	} else if err != nil {
		return 0, &dialError{err}
	}

	var writeErr error
parts:
	for _, part := range req {
		for off := 0; off < len(part); {
			n, err := syscall.Write(fd, part[off:])
			if n > 0 {
				off += n
			}
			if err == syscall.EAGAIN || err == syscall.EINTR {
				if err := wait(fd, pollOut, deadline); err != nil {
					return 0, err
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

	var resp [512]byte
	got := 0
	for got < len(resp) {
		n, err := syscall.Read(fd, resp[got:])
		if err == syscall.EAGAIN || err == syscall.EINTR {
			if err := wait(fd, pollIn, deadline); err != nil {
				return 0, err
			}
			continue
		}
		if err != nil {
			if writeErr != nil {
				return 0, writeErr
			}
			return 0, err
		}
		if n == 0 {
			break // EOF
		}
		got += n
		code, ok, err := StatusLine(resp[:got])
		if err != nil {
			return 0, err
		}
		if ok {
			return code, nil
		}
	}
	if writeErr != nil {
		return 0, writeErr
	}
	return 0, ErrNoStatus
}

// tokenFileMax is token.MaxFileSize: a valid token and the white space
// around it fit.
const tokenFileMax = 2 << 10

// pathError is fs.PathError's text: "op path: err".
type pathError struct {
	op, path string
	err      error
}

func (e *pathError) Error() string { return e.op + " " + e.path + ": " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }

// errInvalidToken is token.ErrInvalid.
const errInvalidToken = errString("the token file is empty or damaged: delete it and restart mpm-wsd to create a new one")

// readToken is internal/hook's readToken: the token file read with plain
// system calls (O_NONBLOCK keeps a FIFO planted there from hanging the
// hook), trimmed, checked as token.Parse checks it.
func readToken(path string) (string, error) {
	const flags = syscall.O_RDONLY | syscall.O_CLOEXEC | syscall.O_NONBLOCK
	fd, err := syscall.Open(path, flags, 0)
	for err == syscall.EINTR {
		fd, err = syscall.Open(path, flags, 0)
	}
	if err != nil {
		return "", &pathError{"open", path, err}
	}
	defer syscall.Close(fd)
	var small [128]byte
	buf := small[:]
	n := 0
	for n < tokenFileMax {
		if n == len(buf) {
			buf = append(buf, make([]byte, tokenFileMax-len(buf))...)
		}
		m, err := syscall.Read(fd, buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return "", &pathError{"read", path, err}
		}
		if m <= 0 {
			break
		}
		n += m
	}
	t := trimSpace(string(buf[:n]))
	if !printable(t, 1024) {
		return "", &pathError{"read token", path, errInvalidToken}
	}
	return t, nil
}

// printable is protocol.Printable: 1 to max bytes of printable ASCII
// without spaces.
func printable(s string, max int) bool { return ascii.Printable(s, max) }
