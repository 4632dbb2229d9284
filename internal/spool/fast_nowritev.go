//go:build !linux && !darwin

package spool

// appendFast never handles the append here: the general path does.
func appendFast(path string, parts [][]byte, size, segLimit int64) (handled bool, err error) {
	return false, nil
}
