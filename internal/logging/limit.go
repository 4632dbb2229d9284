package logging

import (
	"sync"
	"time"
)

// Limiter lets a repeated log line through at most once per period and
// counts the ones it held back, so that a condition that fails every write
// (a full disk) says so once in a while instead of thousands of times a
// second. Lines are told apart by a key. The zero Limiter is not usable: use
// NewLimiter.
type Limiter struct {
	period time.Duration
	mu     sync.Mutex
	keys   map[string]*limitState
	// now is the clock (tests).
	now func() time.Time
}

type limitState struct {
	last       time.Time
	suppressed int
}

// NewLimiter returns a Limiter that lets each key through once per period.
func NewLimiter(period time.Duration) *Limiter {
	return &Limiter{period: period, keys: map[string]*limitState{}, now: time.Now}
}

// Allow reports whether the line keyed key may be logged now; when it may,
// suppressed is how many were held back since the previous one.
func (l *Limiter) Allow(key string) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	st := l.keys[key]
	if st == nil {
		l.keys[key] = &limitState{last: now}
		return true, 0
	}
	if now.Sub(st.last) < l.period {
		st.suppressed++
		return false, 0
	}
	n := st.suppressed
	st.last, st.suppressed = now, 0
	return true, n
}

// Reset forgets key (the condition cleared, the next line passes) and
// returns how many lines were held back since the last one let through.
func (l *Limiter) Reset(key string) (suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if st := l.keys[key]; st != nil {
		suppressed = st.suppressed
		delete(l.keys, key)
	}
	return suppressed
}
