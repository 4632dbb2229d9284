package hook

// This file finds where the one JSON value on stdin ends, without
// encoding/json (whose weight the hook does not carry): a structural scanner
// that follows strings and nesting as bytes arrive. The full check
// (jsonobj.Valid, the daemon's own) runs only before an event is spooled:
// the daemon checks what it receives.

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
