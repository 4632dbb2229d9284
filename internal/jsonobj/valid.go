// Package jsonobj checks that bytes are exactly one JSON object (RFC 8259)
// in valid UTF-8, as encoding/json.Valid plus utf8.Valid plus "starts with
// '{'" would, with no allocation and no dependency: mpm-hook checks a
// payload with it before spooling it (the hook links no encoding/json), and
// the daemon's event.Parse checks every payload with it (it runs several
// times faster than encoding/json.Valid on the long strings a hook payload
// is made of). Both sides therefore agree on what an event is; the fuzz
// tests hold it to encoding/json.
package jsonobj

import "math/bits"

// maxNesting bounds the validator's recursion.
const maxNesting = 10000

// Valid reports whether b is exactly one JSON object (RFC 8259), with
// optional surrounding white space, in valid UTF-8.
func Valid(b []byte) bool {
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
	b := v.b
	i := v.i + 1 // after the opening quote
	for {
		i = plain(b, i)
		if i >= len(b) {
			return false
		}
		c := b[i]
		switch {
		case c >= 0x20 && c < 0x80 && c != '"' && c != '\\':
			i++ // in the tail shorter than a word
		case c == '"':
			v.i = i + 1
			return true
		case c == '\\':
			if i+1 >= len(b) {
				return false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 {
					return false
				}
				for _, h := range b[i+2 : i+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false
					}
				}
				i += 6
			default:
				return false
			}
		case c < 0x20:
			return false
		default:
			n := utf8Len(b[i:])
			if n == 0 {
				return false
			}
			i += n
		}
	}
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

// special returns the high bits of the bytes of w (8 bytes of a string,
// the first in the low byte) that a string cannot simply go on with: a
// control character, a non-ASCII byte, '"' or '\\' (SWAR: subtracting 0x20
// from each byte sets the high bit of a byte below 0x20, subtracting 1 sets
// that of a zero byte of w XOR '"' or w XOR '\\', and w's own high bits are
// the non-ASCII bytes). A borrow only carries into higher bytes, so the
// lowest bit set is exact (bytes above it may be flagged falsely; they get
// their own look in turn): str jumps straight to it.
func special(w uint64) uint64 {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	q := w ^ ('"' * ones)   // zero bytes where w has '"'
	bs := w ^ ('\\' * ones) // zero bytes where w has '\\'
	// A byte below 0x20, a zero byte of q or bs (x - 0x01 borrows into the
	// high bit), or a high bit in w itself.
	return ((w - 0x20*ones) | (q - ones) | (bs - ones) | w) & highs
}

// plain returns the index of the first byte at or after i that needs a
// look (special), or where fewer than 8 bytes are left: plain printable
// ASCII, most of a payload, is passed over 32 bytes at a time (four
// independent words keep the CPU busier than one), then 8 at a time.
func plain(b []byte, i int) int {
	for ; i+32 <= len(b); i += 32 {
		m0, m1 := special(le64(b[i:i+8])), special(le64(b[i+8:i+16]))
		m2, m3 := special(le64(b[i+16:i+24])), special(le64(b[i+24:i+32]))
		if m0|m1|m2|m3 == 0 {
			continue
		}
		switch {
		case m0 != 0:
			return i + bits.TrailingZeros64(m0)>>3
		case m1 != 0:
			return i + 8 + bits.TrailingZeros64(m1)>>3
		case m2 != 0:
			return i + 16 + bits.TrailingZeros64(m2)>>3
		default:
			return i + 24 + bits.TrailingZeros64(m3)>>3
		}
	}
	for ; i+8 <= len(b); i += 8 {
		if m := special(le64(b[i : i+8])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	return i
}

// le64 is the little-endian word of b's 8 bytes (one load).
func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
