package supervisor

import (
	"time"

	"github.com/mpm-dev/mpm/internal/retry"
)

// backoff yields restart delays: min, 2·min, 4·min … capped at max, each
// shortened by up to 20 % of jitter so that several managers do not
// restart in step (retry.Backoff, the rule every retry in mpm follows).
type backoff struct {
	// min is the first delay, max the cap.
	min, max time.Duration
	// n counts the delays handed out since the last reset.
	n int
}

// next returns the next delay.
func (b *backoff) next() time.Duration {
	b.n++
	return retry.Backoff(b.n, b.min, b.max, 0.2)
}

// reset starts the sequence over (the daemon stayed up long enough).
func (b *backoff) reset() { b.n = 0 }
