package approvals

import (
	"errors"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// TestWaiterGoneEndsRequest: when the only waiting hook goes away (its
// connection dropped), nobody can take a decision any more: the request
// ends as answered_elsewhere at once, and a later answer gets 409.
func TestWaiterGoneEndsRequest(t *testing.T) {
	got := make(chan Resolution, 4)
	r := New(Config{OnResolve: func(res Resolution) { got <- res }}, "abcdef012345")
	a := r.Add(protocol.Approval{SessionID: "s", ToolName: "Bash"}, time.Hour)
	gone := make(chan struct{})
	close(gone)
	if _, ok, err := r.Wait(gone, a.ID, time.Hour); ok || err != nil {
		t.Fatalf("wait: ok %v err %v", ok, err)
	}
	res := <-got
	if res.Outcome != protocol.ApprovalAnsweredElsewhere || res.Decided() {
		t.Fatalf("resolution %+v", res)
	}
	_, err := r.Decide(a.ID, protocol.ApprovalDecision{Decision: "allow"}, "x")
	var re *ResolvedError
	if !errors.As(err, &re) {
		t.Fatalf("decide after: %v", err)
	}
	// A wait that times out leaves the request pending.
	b := r.Add(protocol.Approval{SessionID: "s"}, time.Hour)
	if _, ok, _ := r.Wait(make(chan struct{}), b.ID, time.Millisecond); ok || len(r.Pending()) != 1 {
		t.Fatalf("after a timed-out wait: ok %v pending %v", ok, r.Pending())
	}
	// Close wakes waiters with nothing and resolves nothing.
	done := make(chan bool)
	go func() { _, ok, _ := r.Wait(make(chan struct{}), b.ID, time.Hour); done <- ok }()
	for {
		r.mu.Lock()
		w := r.byID[b.ID].waiters
		r.mu.Unlock()
		if w == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	r.Close()
	if ok := <-done; ok {
		t.Fatal("a closed registry gave a resolution")
	}
	select {
	case res := <-got:
		t.Fatalf("Close resolved %+v", res)
	default:
	}
}
