package hook

import (
	"errors"
	"strconv"
)

// The hook speaks just enough HTTP/1.1 to POST one event and read the status
// line, on a raw socket: net/http (and even the net package) costs more
// start-up time than the rest of the hook (see the package benchmark).

// EventsPath is the daemon's ingest endpoint.
const EventsPath = "/v1/events"

// copyBodyMax is the largest body buildRequest copies behind the header so
// that the request goes out in one write; a larger one is sent as it is,
// after the header: copying it would touch as many fresh pages again.
const copyBodyMax = 64 << 10

// buildRequest returns POST /v1/events carrying body, in the parts to write
// in order: one for a typical event, the header and the body for a large
// one.
func buildRequest(addr, tok, key string, sentNano int64, body []byte) [][]byte {
	return buildRequestHeader(addr, tok, key, sentNano, body, "")
}

// buildRequestHeader is buildRequest with extra header lines (each ending
// in \r\n) before the body.
func buildRequestHeader(addr, tok, key string, sentNano int64, body []byte, extra string) [][]byte {
	n := 320 + len(addr) + len(tok) + len(extra)
	if len(body) <= copyBodyMax {
		n += len(body)
	}
	b := make([]byte, 0, n)
	b = append(b, "POST "+EventsPath+" HTTP/1.1\r\nHost: "...)
	b = append(b, addr...)
	if tok != "" { // none over the Unix socket
		b = append(b, "\r\nAuthorization: Bearer "...)
		b = append(b, tok...)
	}
	b = append(b, "\r\nIdempotency-Key: "...)
	b = append(b, key...)
	b = append(b, "\r\nMpm-Sent-At: "...)
	b = strconv.AppendInt(b, sentNano, 10)
	b = append(b, "\r\nContent-Type: application/json\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\nUser-Agent: mpm-hook\r\nConnection: close\r\n"...)
	b = append(b, extra...)
	b = append(b, "\r\n"...)
	if len(body) > copyBodyMax {
		return [][]byte{b, body}
	}
	return [][]byte{append(b, body...)}
}

// errNoStatus is returned when the answer does not start with an HTTP/1.x
// status line.
var errNoStatus = errors.New("daemon answer is not an HTTP/1.x status line")

// statusLine returns the status code in resp when it holds a whole status
// line ("HTTP/1.1 202 Accepted\r\n"); ok is false while more bytes are
// needed; err is set when it can never be one.
func statusLine(resp []byte) (code int, ok bool, err error) {
	const proto = "HTTP/1."
	n := len(resp)
	if n > len(proto) {
		n = len(proto)
	}
	if string(resp[:n]) != proto[:n] {
		return 0, false, errNoStatus
	}
	eol := -1
	for i, c := range resp {
		if c == '\n' {
			eol = i
			break
		}
	}
	if eol < 0 {
		if len(resp) > 1024 {
			return 0, false, errNoStatus
		}
		return 0, false, nil
	}
	line := resp[:eol]
	// "HTTP/1.x NNN"
	if len(line) < 12 || line[8] != ' ' {
		return 0, false, errNoStatus
	}
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return 0, false, errNoStatus
		}
		code = code*10 + int(c-'0')
	}
	if len(line) > 12 && line[12] != ' ' && line[12] != '\r' {
		return 0, false, errNoStatus
	}
	return code, true, nil
}

// resolveAddr turns "ip:port" into the address bytes (4 or 16) and port.
// The hook takes only IP literals: resolving a name costs start-up time and
// "localhost" may resolve to ::1 (hostPort reads it as 127.0.0.1).
func resolveAddr(addr string) ([]byte, int, error) {
	host, port, err := hostPort(addr)
	if err != nil {
		return nil, 0, err
	}
	ip, ok := parseIP(host)
	if !ok {
		return nil, 0, errors.New("address " + addr + ": the hook needs an IP address (e.g. 127.0.0.1:8765), not a host name")
	}
	return ip, port, nil
}

// hostPort splits "host:port" or "[v6]:port".
func hostPort(addr string) (host string, port int, err error) {
	i := len(addr) - 1
	for i >= 0 && addr[i] != ':' {
		i--
	}
	if i < 0 {
		return "", 0, errors.New("address " + strconv.Quote(addr) + " has no port; want host:port, e.g. 127.0.0.1:8765")
	}
	host = addr[:i]
	port, err = strconv.Atoi(addr[i+1:])
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, errors.New("address " + strconv.Quote(addr) + " has a bad port")
	}
	if len(host) >= 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	return host, port, nil
}

// parseIP parses an IPv4 dotted quad or an IPv6 literal (no zone, no
// embedded IPv4); "localhost" means 127.0.0.1. It returns 4 or 16 bytes.
func parseIP(host string) ([]byte, bool) {
	if host == "localhost" {
		return []byte{127, 0, 0, 1}, true
	}
	if ip, ok := parseIPv4(host); ok {
		return ip, true
	}
	return parseIPv6(host)
}

func parseIPv4(s string) ([]byte, bool) {
	ip := make([]byte, 0, 4)
	for len(ip) < 4 {
		j := 0
		v := 0
		for j < len(s) && j < 3 && s[j] >= '0' && s[j] <= '9' {
			v = v*10 + int(s[j]-'0')
			j++
		}
		if j == 0 || v > 255 || (j > 1 && s[0] == '0') {
			return nil, false
		}
		ip = append(ip, byte(v))
		s = s[j:]
		if len(ip) < 4 {
			if len(s) == 0 || s[0] != '.' {
				return nil, false
			}
			s = s[1:]
		}
	}
	return ip, len(s) == 0
}

func parseIPv6(s string) ([]byte, bool) {
	ip := make([]byte, 16)
	gap := -1 // byte index of "::"
	i := 0
	if len(s) >= 2 && s[:2] == "::" {
		gap = 0
		s = s[2:]
	}
	for len(s) > 0 && i < 16 {
		v, j := 0, 0
		for j < len(s) && j < 4 {
			c := s[j]
			var d int
			switch {
			case c >= '0' && c <= '9':
				d = int(c - '0')
			case c >= 'a' && c <= 'f':
				d = int(c-'a') + 10
			case c >= 'A' && c <= 'F':
				d = int(c-'A') + 10
			default:
				goto end
			}
			v = v<<4 | d
			j++
		}
	end:
		if j == 0 {
			return nil, false
		}
		ip[i], ip[i+1] = byte(v>>8), byte(v)
		i += 2
		s = s[j:]
		if len(s) == 0 {
			break
		}
		if s[0] != ':' {
			return nil, false
		}
		s = s[1:]
		if len(s) > 0 && s[0] == ':' {
			if gap >= 0 {
				return nil, false
			}
			gap = i
			s = s[1:]
		} else if len(s) == 0 {
			return nil, false
		}
	}
	if len(s) != 0 {
		return nil, false
	}
	if gap < 0 {
		if i != 16 {
			return nil, false
		}
		return ip, true
	}
	if i == 16 {
		return nil, false
	}
	n := i - gap
	copy(ip[16-n:], ip[gap:i])
	for k := gap; k < 16-n; k++ {
		ip[k] = 0
	}
	return ip, true
}
