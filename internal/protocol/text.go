package protocol

import "strings"

// SplitList reads a list given as repeated values, each of which may be
// comma separated (?session=a,b&session=c; --tool Bash,Edit --tool Read),
// into trimmed, non-empty items: the daemon's query parameters and the
// command lines' list flags use this one rule.
func SplitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// Printable reports whether s is 1 to max printable ASCII characters
// without spaces, so that it fits an HTTP header as it is: the rule of
// Idempotency-Keys (ValidKey) and of the access token (token.Valid).
func Printable(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
