package protocol

import (
	"strings"
	"testing"
)

func TestSplitList(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"a, b", "", "c,,"}, "a|b|c"},
		{[]string{" x "}, "x"},
		{[]string{"a,b", "c\t, d"}, "a|b|c|d"},
		{[]string{",,"}, ""},
	} {
		if got := strings.Join(SplitList(c.in), "|"); got != c.want {
			t.Errorf("SplitList(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestPrintable(t *testing.T) {
	for _, c := range []struct {
		s    string
		max  int
		want bool
	}{
		{"", 5, false}, {"abc", 5, true}, {"abcdef", 5, false}, {"a b", 5, false},
		{"a\x7f", 5, false}, {"é", 5, false}, {"~!", 5, true},
	} {
		if got := Printable(c.s, c.max); got != c.want {
			t.Errorf("Printable(%q, %d) = %v", c.s, c.max, got)
		}
	}
}
