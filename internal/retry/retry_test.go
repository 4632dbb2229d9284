package retry

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	const lo, hi = 100 * time.Millisecond, time.Second
	for n, base := range map[int]time.Duration{1: lo, 2: 2 * lo, 3: 4 * lo, 4: 8 * lo, 5: hi, 50: hi} {
		if d := Backoff(n, lo, hi, 0); d != base {
			t.Errorf("n=%d, no jitter: %v, want %v", n, d, base)
		}
		for i := 0; i < 200; i++ {
			d := Backoff(n, lo, hi, 0.5)
			if d < base/2 || d > base {
				t.Fatalf("n=%d, jitter 0.5: %v outside [%v, %v]", n, d, base/2, base)
			}
		}
	}
	if d := Backoff(3, 0, hi, 0.5); d != 0 {
		t.Errorf("lo 0: %v", d)
	}
}
