package wsd

import (
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// rateLog logs a repeated warning at most once per interval and key,
// saying how many were held back since, so that a condition that persists
// (a stranded spool, a hook with the wrong token) is visible without
// flooding the log.
type rateLog struct {
	log   hclog.Logger
	every time.Duration
	mu    sync.Mutex
	last  map[string]time.Time
	held  map[string]int
}

func newRateLog(log hclog.Logger, every time.Duration) *rateLog {
	return &rateLog{log: log, every: every, last: map[string]time.Time{}, held: map[string]int{}}
}

// warn logs msg with args at WARN level unless the same key was logged less
// than the interval ago; it reports whether it logged. A nil rateLog does
// nothing.
func (r *rateLog) warn(key, msg string, args ...any) bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	now := time.Now()
	if last, ok := r.last[key]; ok && now.Sub(last) < r.every {
		r.held[key]++
		r.mu.Unlock()
		return false
	}
	held := r.held[key]
	r.last[key], r.held[key] = now, 0
	r.mu.Unlock()
	if held > 0 {
		args = append(args, "repeats_not_logged", held)
	}
	r.log.Warn(msg, args...)
	return true
}

// forget lets the next warning of key through at once (the condition
// cleared).
func (r *rateLog) forget(key string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	delete(r.last, key)
	delete(r.held, key)
	r.mu.Unlock()
}
