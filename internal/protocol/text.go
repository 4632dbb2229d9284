package protocol

import "github.com/mpm-dev/mpm/internal/ascii"

// SplitList reads a list given as repeated values, each of which may be
// comma separated (?session=a,b&session=c; --tool Bash,Edit --tool Read),
// into trimmed, non-empty items: the daemon's query parameters and the
// command lines' list flags use this one rule. (Written without package
// strings: protocol imports only time and internal/ascii.)
func SplitList(values []string) []string {
	var out []string
	for _, v := range values {
		start := 0
		for i := 0; i <= len(v); i++ {
			if i < len(v) && v[i] != ',' {
				continue
			}
			if item := trimSpace(v[start:i]); item != "" {
				out = append(out, item)
			}
			start = i + 1
		}
	}
	return out
}

// trimSpace trims ASCII white space.
func trimSpace(s string) string {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' }
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// Printable reports whether s is 1 to max printable ASCII characters
// without spaces, so that it fits an HTTP header as it is: the rule of
// Idempotency-Keys (ValidKey) and of the access token (token.Valid).
func Printable(s string, max int) bool { return ascii.Printable(s, max) }
