package recscan

import (
	"strconv"
	"testing"

	"github.com/mpm-dev/mpm/internal/protocol"
)

func TestMaxKeyLenIsProtocols(t *testing.T) {
	if MaxKeyLen != protocol.MaxKeyLen {
		t.Fatalf("recscan.MaxKeyLen %d, protocol.MaxKeyLen %d", MaxKeyLen, protocol.MaxKeyLen)
	}
}

// dropped is what package spool read from "dropped" before ParseDropped:
// strconv.ParseInt of the trimmed text, 0 when that fails or is negative.
func dropped(b []byte) int64 {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || v < 0 {
		return 0
	}
	return v
}

func TestParseDropped(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"", 0}, {"0\n", 0}, {"42\n", 42}, {"42", 42}, {"42 \r\n", 42}, {"+7\n", 7}, {"-7\n", 0}, {"-0", 0},
		{"007", 7}, {" 42", 0}, {"4 2", 0}, {"x", 0}, {"+", 0}, {"9223372036854775807", 1<<63 - 1},
		{"9223372036854775808", 0}, {"1_000", 0},
	} {
		if got := ParseDropped([]byte(c.in)); got != c.want || got != dropped([]byte(c.in)) {
			t.Errorf("ParseDropped(%q) = %d, want %d (strconv: %d)", c.in, got, c.want, dropped([]byte(c.in)))
		}
	}
}

func FuzzParseDropped(f *testing.F) {
	for _, s := range []string{"42\n", "+1", "-1", "9223372036854775808", "0x10"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := ParseDropped(b), dropped(b); got != want {
			t.Fatalf("ParseDropped(%q) = %d, strconv says %d", b, got, want)
		}
	})
}
