//go:build windows

package hook

import (
	"errors"
	"net"
	"time"
)

// errTimeout is returned when the daemon did not answer within the bound.
var errTimeout = errors.New("daemon did not answer in time")

// roundTrip sends the parts of req to addr over TCP and returns the HTTP status code of
// the answer, all before deadline (with whole, also the answer up to EOF).
// Windows uses the net package (raw Winsock calls are not worth their code
// there).
func roundTrip(addr string, req [][]byte, deadline time.Time, whole bool) (int, []byte, error) {
	ip, port, err := resolveAddr(addr)
	if err != nil {
		return 0, nil, err
	}
	dst := &net.TCPAddr{IP: net.IP(ip), Port: port}
	c, err := net.DialTimeout("tcp", dst.String(), time.Until(deadline))
	if err != nil {
		return 0, nil, err
	}
	defer c.Close()
	c.SetDeadline(deadline)
	bufs := net.Buffers(req)
	_, writeErr := bufs.WriteTo(c)
	resp := make([]byte, 512)
	if whole {
		resp = make([]byte, maxAnswer)
	}
	got, code := 0, 0
	for got < len(resp) {
		n, err := c.Read(resp[got:])
		got += n
		if code == 0 {
			if c, ok, serr := statusLine(resp[:got]); serr != nil {
				return 0, nil, serr
			} else if ok {
				code = c
				if !whole {
					return code, nil, nil
				}
			}
		}
		if err != nil {
			if code != 0 {
				return code, resp[:got], nil
			}
			if writeErr != nil {
				return 0, nil, writeErr
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return 0, nil, errTimeout
			}
			return 0, nil, err
		}
	}
	if code != 0 {
		return code, resp[:got], nil
	}
	return 0, nil, errNoStatus
}

// socketTransport is false on Windows: the hook posts over TCP only.
const socketTransport = false

// roundTripSocket is never called on Windows (socketTransport).
func roundTripSocket(path string, req [][]byte, deadline time.Time, whole bool) (int, []byte, error) {
	return 0, nil, errors.ErrUnsupported
}
