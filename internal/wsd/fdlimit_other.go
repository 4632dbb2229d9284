//go:build !unix

package wsd

// raiseFileLimit has nothing to raise here (Windows has no RLIMIT_NOFILE
// for sockets): 0 means the limit is unknown.
func raiseFileLimit() uint64 { return 0 }
