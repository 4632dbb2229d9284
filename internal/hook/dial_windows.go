//go:build windows

package hook

import (
	"errors"
	"net"
	"time"
)

// errTimeout is returned when the daemon did not answer within the bound.
var errTimeout = errors.New("daemon did not answer in time")

// roundTrip sends req to addr over TCP and returns the HTTP status code of
// the answer, all before deadline. Windows uses the net package (raw
// Winsock calls are not worth their code there).
func roundTrip(addr string, req []byte, deadline time.Time) (int, error) {
	host, port, err := hostPort(addr)
	if err != nil {
		return 0, err
	}
	ip, ok := parseIP(host)
	if !ok {
		return 0, errors.New("address " + addr + ": the hook needs an IP address (e.g. 127.0.0.1:8765), not a host name")
	}
	dst := &net.TCPAddr{IP: net.IP(ip), Port: port}
	c, err := net.DialTimeout("tcp", dst.String(), time.Until(deadline))
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(deadline)
	_, writeErr := c.Write(req)
	var resp [512]byte
	got := 0
	for got < len(resp) {
		n, err := c.Read(resp[got:])
		got += n
		if code, ok, serr := statusLine(resp[:got]); serr != nil {
			return 0, serr
		} else if ok {
			return code, nil
		}
		if err != nil {
			if writeErr != nil {
				return 0, writeErr
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return 0, errTimeout
			}
			return 0, err
		}
	}
	return 0, errNoStatus
}
