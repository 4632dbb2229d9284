//go:build !unix

package wsd

import "time"

// processCPU is not available here: the governor stays off.
func processCPU() (time.Duration, bool) { return 0, false }
