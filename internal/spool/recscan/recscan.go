// Package recscan parses the spool's records (their format is package
// spool's documentation) and its "dropped" counter, importing nothing but
// the checksum and the key rule: package spool reads segments with it, and
// mpm-hook's Linux path (internal/hook/lean, which links neither time nor
// strconv) counts what it drops from a full spool with it too.
package recscan

import (
	"github.com/mpm-dev/mpm/internal/ascii"
	"github.com/mpm-dev/mpm/internal/spool/crc32c"
)

// Magic starts every record header.
const Magic = "MPM1 "

// MaxKeyLen is the longest key a record may carry (protocol.MaxKeyLen).
const MaxKeyLen = 128

// MaxPayload is the largest payload a record may carry; a header claiming
// more is treated as damage.
const MaxPayload = 1 << 30

// MaxHeaderLen bounds a header line: magic, key, two 20-digit numbers, a
// checksum and separators.
const MaxHeaderLen = len(Magic) + MaxKeyLen + 1 + 20 + 1 + 20 + 1 + 8 + 1

// Record is one record as it stands in a segment; Key and Payload alias
// the segment's bytes.
type Record struct {
	Key      []byte
	SentNano int64
	Payload  []byte
}

// Scan walks the records in data, a segment's bytes, in order. For each
// complete record it calls fn with the record and the offset just past it;
// if fn returns an error, Scan stops and returns it. Damaged bytes (a torn
// record, a bad header, a checksum that does not match, a torn tail) are
// skipped up to the next record that checks out; damaged counts the
// damaged stretches, each one lost record.
func Scan(data []byte, fn func(rec Record, end int) error) (damaged int, err error) {
	p := 0
	inDamage := false
	for p < len(data) {
		rec, end, ok := At(data, p)
		if !ok {
			if !inDamage {
				damaged++
				inDamage = true
			}
			next := indexMagic(data, p+1)
			if next < 0 {
				break
			}
			p = next
			continue
		}
		inDamage = false
		if err := fn(rec, end); err != nil {
			return damaged, err
		}
		p = end
	}
	return damaged, nil
}

// Count is the number of records Scan finds in data, damaged stretches
// included (each one lost record): what dropping the segment loses.
func Count(data []byte) int64 {
	var n int64
	damaged, _ := Scan(data, func(Record, int) error { n++; return nil })
	return n + int64(damaged)
}

// indexMagic returns the offset of the next Magic at or after from, or -1.
func indexMagic(data []byte, from int) int {
	for i := from; i+len(Magic) <= len(data); i++ {
		if data[i] == 'M' && string(data[i:i+len(Magic)]) == Magic {
			return i
		}
	}
	return -1
}

// At parses one record starting at data[p]; end is the offset just past it.
func At(data []byte, p int) (rec Record, end int, ok bool) {
	h, ok := ParseHead(data[p:])
	if !ok {
		return rec, 0, false
	}
	start := p + h.Size
	if int64(len(data)-start) < h.Len+1 {
		return rec, 0, false
	}
	end = start + int(h.Len)
	if data[end] != '\n' {
		return rec, 0, false
	}
	payload := data[start:end:end]
	if crc32c.Checksum(payload) != h.Sum {
		return rec, 0, false
	}
	return Record{Key: h.Key, SentNano: h.SentNano, Payload: payload}, end + 1, true
}

// Head is a record's header line.
type Head struct {
	Key      []byte // aliases the bytes parsed
	SentNano int64
	// Len is the payload's length, Sum its CRC-32C.
	Len int64
	Sum uint32
	// Size is the header line's length, its newline included: the
	// payload starts Size bytes after the magic.
	Size int
}

// ParseHead parses the header line at the start of b (which need not hold
// more of the record); ok is false when b does not start with a well-formed
// header within its first MaxHeaderLen bytes.
func ParseHead(b []byte) (h Head, ok bool) {
	if len(b) < len(Magic) || string(b[:len(Magic)]) != Magic {
		return h, false
	}
	// Find the header's end within MaxHeaderLen.
	nl := -1
	for i := len(Magic); i < min(MaxHeaderLen, len(b)); i++ {
		if b[i] == '\n' {
			nl = i
			break
		}
	}
	if nl < 0 {
		return h, false
	}
	var fields [4][]byte
	if !splitSpaces(b[len(Magic):nl], &fields) {
		return h, false
	}
	if !ascii.Printable(string(fields[0]), MaxKeyLen) {
		return h, false
	}
	ns, ok := parseDec(fields[1], true)
	if !ok {
		return h, false
	}
	n, ok := parseDec(fields[2], false)
	if !ok || n > MaxPayload {
		return h, false
	}
	sum, ok := parseHex32(fields[3])
	if !ok {
		return h, false
	}
	return Head{Key: fields[0], SentNano: ns, Len: n, Sum: sum, Size: nl + 1}, true
}

// splitSpaces splits b at single spaces into exactly four fields.
func splitSpaces(b []byte, out *[4][]byte) bool {
	n, start := 0, 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == ' ' {
			if n == len(out) {
				return false
			}
			out[n] = b[start:i]
			n++
			start = i + 1
		}
	}
	return n == len(out)
}

// parseDec parses a canonical decimal (no sign unless signed and '-', no
// leading zeros but "0", at most 19 digits).
func parseDec(b []byte, signed bool) (int64, bool) {
	neg := false
	if signed && len(b) > 0 && b[0] == '-' {
		neg = true
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 || (len(b) > 1 && b[0] == '0') {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if v > (1<<63-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		if v == 0 {
			return 0, false
		}
		v = -v
	}
	return v, true
}

func parseHex32(b []byte) (uint32, bool) {
	if len(b) != 8 {
		return 0, false
	}
	var v uint32
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(d)
	}
	return v, true
}

// ParseDropped reads the "dropped" counter's contents: a decimal with
// optional sign and trailing white space (newline, carriage return,
// space), as strconv.ParseInt takes it; 0 when absent, unparsable or
// negative.
func ParseDropped(b []byte) int64 {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		if b[0] == '-' {
			return 0 // negative, or -0: 0 either way
		}
		b = b[1:]
	}
	if len(b) == 0 {
		return 0
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0
		}
		d := int64(c - '0')
		if v > (1<<63-1-d)/10 {
			return 0 // out of range
		}
		v = v*10 + d
	}
	return v
}
