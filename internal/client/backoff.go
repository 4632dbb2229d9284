package client

import (
	"math/rand/v2"
	"time"
)

// backoff returns the wait before reconnect attempt n (1, 2, ...): doubling
// from min up to max, with "equal jitter" (between half and all of it) so
// that many clients of a restarted daemon do not reconnect in lockstep.
func backoff(n int, min, max time.Duration) time.Duration {
	d := min
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}
