// Package ascii holds byte-level text rules shared by mpm-hook's
// syscall-only Linux path (internal/hook/lean), which may link nothing
// but the runtime and syscall, and the rest of mpm (internal/protocol).
// It imports nothing.
package ascii

// Printable reports whether s is 1 to max printable ASCII characters
// without spaces, so that it fits an HTTP header as it is.
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
