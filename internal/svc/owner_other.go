//go:build !unix

package svc

// fileOwner is unknown where files have no uid.
func fileOwner(string) (int, bool) { return 0, false }
