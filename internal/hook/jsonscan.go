package hook

// This file finds where the one JSON value on stdin ends, without
// encoding/json (whose weight the hook does not carry): a structural scanner
// that follows strings and nesting as bytes arrive, and a full validator run
// only before an event is spooled (the daemon validates what it receives).

import "bytes"

// scanStatus is what the structural scanner knows after some bytes.
type scanStatus int

const (
	scanMore scanStatus = iota // the value has not ended yet
	scanDone                   // the value ended at scanner.end
	scanBad                    // not a JSON object
)

// scanner follows a JSON object's structure byte by byte. It checks only
// what it needs to find the end: the first non-space byte is '{', strings
// and escapes, and bracket depth.
type scanner struct {
	// off is the absolute offset of the next byte to scan.
	off int
	// start is the offset of the value's first byte ('{'), -1 before it.
	start int
	// end is the offset just past the value, once status is scanDone.
	end int
	// depth counts open '{' and '['.
	depth int
	// inStr is true inside a string, esc right after a backslash in one.
	inStr, esc bool
	// status is the scan's state.
	status scanStatus
}

func newScanner() scanner { return scanner{start: -1} }

// feed scans b, the bytes that follow everything fed so far.
func (s *scanner) feed(b []byte) scanStatus {
	if s.status != scanMore {
		return s.status
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case s.start < 0:
			switch c {
			case ' ', '\t', '\n', '\r':
			case '{':
				s.start = s.off + i
				s.depth = 1
			default:
				s.status = scanBad
				s.off += i
				return s.status
			}
		case s.inStr:
			switch {
			case s.esc:
				s.esc = false
			case c == '\\':
				s.esc = true
			case c == '"':
				s.inStr = false
			default:
				// Jump to the next quote or backslash: most of a
				// payload is string bytes.
				rest := b[i:]
				q := bytes.IndexByte(rest, '"')
				if q < 0 {
					q = len(rest)
				}
				if e := bytes.IndexByte(rest[:q], '\\'); e >= 0 {
					q = e
				}
				i += q - 1
			}
		default:
			switch c {
			case '"':
				s.inStr = true
			case '{', '[':
				s.depth++
			case '}', ']':
				s.depth--
				if s.depth == 0 {
					s.end = s.off + i + 1
					s.status = scanDone
					s.off = s.end
					return s.status
				}
			}
		}
	}
	s.off += len(b)
	return s.status
}

// maxNesting bounds the validator's recursion.
const maxNesting = 10000

// validObject reports whether b is exactly one JSON object (RFC 8259), with
// optional surrounding white space, in valid UTF-8.
func validObject(b []byte) bool {
	v := validator{b: b}
	v.space()
	if v.i >= len(b) || b[v.i] != '{' {
		return false
	}
	if !v.value(0) {
		return false
	}
	v.space()
	return v.i == len(b)
}

type validator struct {
	b []byte
	i int
}

func (v *validator) space() {
	for v.i < len(v.b) {
		switch v.b[v.i] {
		case ' ', '\t', '\n', '\r':
			v.i++
		default:
			return
		}
	}
}

func (v *validator) lit(s string) bool {
	if len(v.b)-v.i < len(s) || string(v.b[v.i:v.i+len(s)]) != s {
		return false
	}
	v.i += len(s)
	return true
}

func (v *validator) value(depth int) bool {
	if depth > maxNesting || v.i >= len(v.b) {
		return false
	}
	switch c := v.b[v.i]; {
	case c == '{':
		return v.list('}', depth, true)
	case c == '[':
		return v.list(']', depth, false)
	case c == '"':
		return v.str()
	case c == 't':
		return v.lit("true")
	case c == 'f':
		return v.lit("false")
	case c == 'n':
		return v.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return v.num()
	}
	return false
}

// list validates an object (keyed: members are "key": value) or an array,
// starting at its opening bracket, up to close.
func (v *validator) list(close byte, depth int, keyed bool) bool {
	v.i++
	v.space()
	if v.i < len(v.b) && v.b[v.i] == close {
		v.i++
		return true
	}
	for {
		v.space()
		if keyed {
			if v.i >= len(v.b) || v.b[v.i] != '"' || !v.str() {
				return false
			}
			v.space()
			if v.i >= len(v.b) || v.b[v.i] != ':' {
				return false
			}
			v.i++
			v.space()
		}
		if !v.value(depth + 1) {
			return false
		}
		v.space()
		if v.i >= len(v.b) {
			return false
		}
		if v.b[v.i] == close {
			v.i++
			return true
		}
		if v.b[v.i] != ',' {
			return false
		}
		v.i++
	}
}

// str validates a string starting at the opening quote.
func (v *validator) str() bool {
	v.i++ // opening quote
	for v.i < len(v.b) {
		// Plain printable ASCII, most of a payload, in a tight loop.
		for v.i < len(v.b) {
			if c := v.b[v.i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
				break
			}
			v.i++
		}
		if v.i >= len(v.b) {
			return false
		}
		c := v.b[v.i]
		switch {
		case c == '"':
			v.i++
			return true
		case c == '\\':
			v.i++
			if v.i >= len(v.b) {
				return false
			}
			switch v.b[v.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				v.i++
			case 'u':
				if len(v.b)-v.i < 5 {
					return false
				}
				for _, h := range v.b[v.i+1 : v.i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false
					}
				}
				v.i += 5
			default:
				return false
			}
		case c < 0x20:
			return false
		case c < 0x80:
			v.i++
		default:
			n := utf8Len(v.b[v.i:])
			if n == 0 {
				return false
			}
			v.i += n
		}
	}
	return false
}

// utf8Len returns the length of the valid UTF-8 sequence starting b, or 0.
func utf8Len(b []byte) int {
	c := b[0]
	var n int
	var min rune
	switch {
	case c&0xE0 == 0xC0:
		n, min = 2, 0x80
	case c&0xF0 == 0xE0:
		n, min = 3, 0x800
	case c&0xF8 == 0xF0:
		n, min = 4, 0x10000
	default:
		return 0
	}
	if len(b) < n {
		return 0
	}
	r := rune(c) & (0x7F >> n)
	for _, cc := range b[1:n] {
		if cc&0xC0 != 0x80 {
			return 0
		}
		r = r<<6 | rune(cc&0x3F)
	}
	if r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF) {
		return 0
	}
	return n
}

func (v *validator) num() bool {
	if v.b[v.i] == '-' {
		v.i++
	}
	if v.i >= len(v.b) {
		return false
	}
	if v.b[v.i] == '0' {
		v.i++
	} else if !v.digits() {
		return false
	}
	if v.i < len(v.b) && v.b[v.i] == '.' {
		v.i++
		if !v.digits() {
			return false
		}
	}
	if v.i < len(v.b) && (v.b[v.i] == 'e' || v.b[v.i] == 'E') {
		v.i++
		if v.i < len(v.b) && (v.b[v.i] == '+' || v.b[v.i] == '-') {
			v.i++
		}
		if !v.digits() {
			return false
		}
	}
	return true
}

func (v *validator) digits() bool {
	s := v.i
	for v.i < len(v.b) && v.b[v.i] >= '0' && v.b[v.i] <= '9' {
		v.i++
	}
	return v.i > s
}
