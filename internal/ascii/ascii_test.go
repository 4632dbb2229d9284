package ascii

import "testing"

func TestPrintable(t *testing.T) {
	for _, c := range []struct {
		s    string
		max  int
		want bool
	}{
		{"abc-123_~!", 16, true},
		{"", 16, false},
		{"a b", 16, false},
		{"tab\t", 16, false},
		{"del\x7f", 16, false},
		{"é", 16, false},
		{"abcd", 3, false},
		{"abc", 3, true},
	} {
		if got := Printable(c.s, c.max); got != c.want {
			t.Errorf("Printable(%q, %d) = %v, want %v", c.s, c.max, got, c.want)
		}
	}
}
