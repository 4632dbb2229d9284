package logging

import (
	"testing"
	"time"
)

func TestLimiterLetsOneLinePerPeriodAndCounts(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewLimiter(10 * time.Second)
	l.now = func() time.Time { return now }
	steps := []struct {
		advance    time.Duration
		key        string
		ok         bool
		suppressed int
	}{
		{0, "a", true, 0},
		{time.Second, "a", false, 0},
		{time.Second, "a", false, 0},
		{0, "b", true, 0}, // another key is independent
		{8 * time.Second, "a", true, 2},
		{time.Second, "a", false, 0},
		{10 * time.Second, "a", true, 1},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		ok, n := l.Allow(s.key)
		if ok != s.ok || n != s.suppressed {
			t.Fatalf("step %d (%s): Allow = %v, %d; want %v, %d", i, s.key, ok, n, s.ok, s.suppressed)
		}
	}
	l.Allow("a")
	if n := l.Reset("a"); n != 1 {
		t.Fatalf("Reset = %d, want 1 suppressed", n)
	}
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("after Reset the next line must pass")
	}
}
