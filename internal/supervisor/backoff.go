package supervisor

import (
	"math/rand/v2"
	"time"
)

// backoff yields restart delays: min, 2·min, 4·min … capped at max, each
// with ±20 % jitter so that several managers do not restart in step.
type backoff struct {
	// min is the first delay, max the cap.
	min, max time.Duration
	// cur is the un-jittered delay returned last; 0 before the first.
	cur time.Duration
}

// next returns the next delay.
func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur *= 2
	}
	if b.cur > b.max {
		b.cur = b.max
	}
	d := time.Duration(float64(b.cur) * (0.8 + 0.4*rand.Float64()))
	if d > b.max {
		d = b.max
	}
	return d
}

// reset starts the sequence over (the daemon stayed up long enough).
func (b *backoff) reset() { b.cur = 0 }
