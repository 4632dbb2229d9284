// Package retry holds the one backoff rule of mpm: the client's
// reconnects, fleet mode's NATS retries and the supervisor's restarts.
package retry

import (
	"math/rand/v2"
	"time"
)

// Backoff is the wait before attempt n (1, 2, …): lo doubled n-1 times, at
// most hi, then shortened by a random part of at most jitter (0: exact;
// 0.5: between half and all of it), so that many clients of one restarted
// daemon, or several managers, do not retry in step. It is never more
// than hi, and never less than lo·(1-jitter) for n ≥ 1.
func Backoff(n int, lo, hi time.Duration, jitter float64) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	if jitter <= 0 || d <= 0 {
		return d
	}
	cut := time.Duration(float64(d) * min(jitter, 1))
	return d - rand.N(cut+1)
}
