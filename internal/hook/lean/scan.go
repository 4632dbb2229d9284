package lean

// This file finds where the one JSON value on stdin ends, without
// encoding/json (whose weight mpm-hook does not carry): a structural scanner
// that follows strings and nesting as bytes arrive. The full check
// (jsonobj.Valid) is the daemon's: on what it receives, and on each spooled
// event as it drains the spool.

import "bytes"

// ScanStatus is what the structural scanner knows after some bytes.
type ScanStatus int

const (
	ScanMore ScanStatus = iota // the value has not ended yet
	ScanDone                   // the value ended at Scanner.End
	ScanBad                    // not a JSON object
)

// Scanner follows a JSON object's structure byte by byte. It checks only
// what it needs to find the end: the first non-space byte is '{', strings
// and escapes, and bracket depth.
type Scanner struct {
	// off is the absolute offset of the next byte to scan.
	off int
	// Start is the offset of the value's first byte ('{'), -1 before it.
	Start int
	// End is the offset just past the value, once Status is ScanDone.
	End int
	// depth counts open '{' and '['.
	depth int
	// inStr is true inside a string, esc right after a backslash in one.
	inStr, esc bool
	// Status is the scan's state.
	Status ScanStatus
}

func NewScanner() Scanner { return Scanner{Start: -1} }

// Feed scans b, the bytes that follow everything fed so far.
func (s *Scanner) Feed(b []byte) ScanStatus {
	if s.Status != ScanMore {
		return s.Status
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case s.Start < 0:
			switch c {
			case ' ', '\t', '\n', '\r':
			case '{':
				s.Start = s.off + i
				s.depth = 1
			default:
				s.Status = ScanBad
				s.off += i
				return s.Status
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
					s.End = s.off + i + 1
					s.Status = ScanDone
					s.off = s.End
					return s.Status
				}
			}
		}
	}
	s.off += len(b)
	return s.Status
}
