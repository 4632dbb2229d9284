package hook

import (
	"errors"

	"github.com/mpm-dev/mpm/internal/hook/lean"
)

// The hook speaks just enough HTTP/1.1 to POST one event and read the status
// line, on a raw socket (internal/hook/lean holds the parts mpm-hook's Linux
// path shares).

// EventsPath is the daemon's ingest endpoint.
const EventsPath = lean.EventsPath

// buildRequest returns POST /v1/events carrying body, in the parts to write
// in order (lean.BuildRequest).
func buildRequest(addr, tok, key string, sentNano int64, body []byte) [][]byte {
	return lean.BuildRequest(addr, tok, key, sentNano, body, "")
}

// buildRequestHeader is buildRequest with extra header lines (each ending
// in \r\n) before the body.
func buildRequestHeader(addr, tok, key string, sentNano int64, body []byte, extra string) [][]byte {
	return lean.BuildRequest(addr, tok, key, sentNano, body, extra)
}

// errNoStatus is returned when the answer does not start with an HTTP/1.x
// status line.
var errNoStatus error = lean.ErrNoStatus

// statusLine returns the status code in resp when it holds a whole status
// line; ok is false while more bytes are needed; err is set when it can
// never be one (lean.StatusLine).
func statusLine(resp []byte) (code int, ok bool, err error) { return lean.StatusLine(resp) }

// resolveAddr turns "ip:port" into the address bytes (4 or 16) and port.
// The hook takes only IP literals: resolving a name costs start-up time and
// "localhost" may resolve to ::1 (hostPort reads it as 127.0.0.1).
func resolveAddr(addr string) ([]byte, int, error) {
	host, port, err := lean.HostPort(addr)
	if err != nil {
		return nil, 0, err
	}
	ip, ok := lean.ParseIP(host)
	if !ok {
		return nil, 0, errors.New("address " + addr + ": the hook needs an IP address (e.g. 127.0.0.1:8765), not a host name")
	}
	return ip, port, nil
}

// hostPort splits "host:port" or "[v6]:port" (lean.HostPort).
func hostPort(addr string) (string, int, error) { return lean.HostPort(addr) }

// parseIP parses an IPv4 dotted quad or an IPv6 literal (lean.ParseIP).
func parseIP(host string) ([]byte, bool) { return lean.ParseIP(host) }
