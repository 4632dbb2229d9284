//go:build !linux && !darwin

package spool

import "time"

// appendFast never handles the append here: the general path does.
func appendFast(path string, parts [][]byte, size, segLimit int64, deadline time.Time) (handled bool, err error) {
	return false, nil
}
