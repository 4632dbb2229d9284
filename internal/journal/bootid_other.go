//go:build !linux && !darwin

package journal

// bootID is unknown here: after an unclean shutdown the journal always
// continues after the reserved seq block (see highwater.go).
func bootID() string { return "" }
