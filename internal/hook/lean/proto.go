package lean

// The hook speaks just enough HTTP/1.1 to POST one event and read the status
// line, on a raw socket: net/http (and even the net package) costs more
// start-up time than the rest of the hook. These helpers are shared by
// internal/hook (every OS) and this package's Linux path; they import
// nothing (not even strconv).

// EventsPath is the daemon's ingest endpoint.
const EventsPath = "/v1/events"

// CopyBodyMax is the largest body BuildRequest copies behind the header so
// that the request goes out in one write; a larger one is sent as it is,
// after the header: copying it would touch as many fresh pages again.
const CopyBodyMax = 64 << 10

// BuildRequest returns POST /v1/events carrying body, in the parts to write
// in order: one for a typical event, the header and the body for a large
// one. tok is the bearer token ("" over the Unix socket); extra is more
// header lines (each ending in \r\n) before the body.
func BuildRequest(addr, tok, key string, sentNano int64, body []byte, extra string) [][]byte {
	n := 320 + len(addr) + len(tok) + len(extra)
	if len(body) <= CopyBodyMax {
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
	b = AppendInt(b, sentNano)
	b = append(b, "\r\nContent-Type: application/json\r\nContent-Length: "...)
	b = AppendInt(b, int64(len(body)))
	b = append(b, "\r\nUser-Agent: mpm-hook\r\nConnection: close\r\n"...)
	b = append(b, extra...)
	b = append(b, "\r\n"...)
	if len(body) > CopyBodyMax {
		return [][]byte{b, body}
	}
	return [][]byte{append(b, body...)}
}

// errString is an error without the errors package's allocation.
type errString string

func (e errString) Error() string { return string(e) }

// ErrNoStatus is returned when the answer does not start with an HTTP/1.x
// status line.
const ErrNoStatus = errString("daemon answer is not an HTTP/1.x status line")

// StatusLine returns the status code in resp when it holds a whole status
// line ("HTTP/1.1 202 Accepted\r\n"); ok is false while more bytes are
// needed; err is set when it can never be one.
func StatusLine(resp []byte) (code int, ok bool, err error) {
	const proto = "HTTP/1."
	n := len(resp)
	if n > len(proto) {
		n = len(proto)
	}
	if string(resp[:n]) != proto[:n] {
		return 0, false, ErrNoStatus
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
			return 0, false, ErrNoStatus
		}
		return 0, false, nil
	}
	line := resp[:eol]
	// "HTTP/1.x NNN"
	if len(line) < 12 || line[8] != ' ' {
		return 0, false, ErrNoStatus
	}
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return 0, false, ErrNoStatus
		}
		code = code*10 + int(c-'0')
	}
	if len(line) > 12 && line[12] != ' ' && line[12] != '\r' {
		return 0, false, ErrNoStatus
	}
	return code, true, nil
}

// HostPort splits "host:port" or "[v6]:port".
func HostPort(addr string) (host string, port int, err error) {
	i := len(addr) - 1
	for i >= 0 && addr[i] != ':' {
		i--
	}
	if i < 0 {
		return "", 0, errString("address " + Quote(addr) + " has no port; want host:port, e.g. 127.0.0.1:8765")
	}
	host = addr[:i]
	port, ok := atoiPort(addr[i+1:])
	if !ok {
		return "", 0, errString("address " + Quote(addr) + " has a bad port")
	}
	if len(host) >= 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	return host, port, nil
}

// ParseIP parses an IPv4 dotted quad or an IPv6 literal (no zone, no
// embedded IPv4); "localhost" means 127.0.0.1. It returns 4 or 16 bytes.
func ParseIP(host string) ([]byte, bool) {
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

// atoiPort parses a decimal port, 1 to 65535.
func atoiPort(s string) (int, bool) {
	if len(s) == 0 || len(s) > 5 {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, v > 0 && v <= 65535
}

// AppendInt appends v in decimal, as strconv.AppendInt(b, v, 10) does.
func AppendInt(b []byte, v int64) []byte {
	var d [20]byte
	i := len(d)
	u := uint64(v)
	if v < 0 {
		u = -u
	}
	for {
		i--
		d[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	if v < 0 {
		b = append(b, '-')
	}
	return append(b, d[i:]...)
}

// Quote returns s in double quotes with Go escapes for quotes, backslashes,
// control characters and bytes that are not UTF-8, as strconv.Quote does
// for the text of errors (printable non-ASCII text is kept as it is).
func Quote(s string) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x80 {
			if n := utf8Len(s[i:]); n > 0 {
				b = append(b, s[i:i+n]...)
				i += n
				continue
			}
		}
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\a':
			b = append(b, '\\', 'a')
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\v':
			b = append(b, '\\', 'v')
		case c < ' ' || c >= 0x7f:
			b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
		i++
	}
	return string(append(b, '"'))
}

// utf8Len returns the length of the valid UTF-8 sequence (2 to 4 bytes, no
// surrogate, no overlong form) that starts s, 0 when there is none.
func utf8Len(s string) int {
	c := s[0]
	n := 0
	lo, hi := byte(0x80), byte(0xbf)
	switch {
	case c >= 0xc2 && c <= 0xdf:
		n = 2
	case c == 0xe0:
		n, lo = 3, 0xa0
	case c >= 0xe1 && c <= 0xec, c == 0xee, c == 0xef:
		n = 3
	case c == 0xed:
		n, hi = 3, 0x9f
	case c == 0xf0:
		n, lo = 4, 0x90
	case c >= 0xf1 && c <= 0xf3:
		n = 4
	case c == 0xf4:
		n, hi = 4, 0x8f
	default:
		return 0
	}
	if len(s) < n || s[1] < lo || s[1] > hi {
		return 0
	}
	for k := 2; k < n; k++ {
		if s[k] < 0x80 || s[k] > 0xbf {
			return 0
		}
	}
	return n
}
