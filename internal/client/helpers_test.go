package client

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// newClient returns a client of d with fast reconnects.
func newClient(t testing.TB, d *testutil.Daemon) *Client {
	t.Helper()
	c, err := New(Config{Addr: d.Addr, DataDir: d.DataDir, BackoffMin: 10 * time.Millisecond, BackoffMax: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// payload builds a hook payload with an "n" field identifying it.
func payload(session, name string, n int) []byte {
	return fmt.Appendf(nil, `{"session_id":%q,"hook_event_name":%q,"tool_name":"Bash","tool_input":{"command":"echo %d"},"n":%d}`, session, name, n, n)
}

// post posts and fails the test on error.
func post(t testing.TB, c *Client, body []byte) uint64 {
	t.Helper()
	res, err := c.Post(context.Background(), body, PostOptions{})
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	return res.Seq
}

// collector runs a Stream in the background and records what it delivers.
type collector struct {
	mu     sync.Mutex
	evs    []protocol.Event
	states []State
	lives  []uint64
	done   chan struct{}
	err    error
	cancel context.CancelFunc
	poke   chan struct{}
}

func startStream(t testing.TB, c *Client, sub Subscription) *collector {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	col := &collector{done: make(chan struct{}), cancel: cancel, poke: make(chan struct{}, 1)}
	go func() {
		defer close(col.done)
		err := c.Stream(ctx, sub, Handlers{
			Event: func(e protocol.Event) error {
				col.mu.Lock()
				col.evs = append(col.evs, e)
				col.mu.Unlock()
				col.wake()
				return nil
			},
			Live: func(seq uint64) error {
				col.mu.Lock()
				col.lives = append(col.lives, seq)
				col.mu.Unlock()
				col.wake()
				return nil
			},
			State: func(s State) error {
				col.mu.Lock()
				col.states = append(col.states, s)
				col.mu.Unlock()
				col.wake()
				return nil
			},
		})
		col.mu.Lock()
		col.err = err
		col.mu.Unlock()
	}()
	t.Cleanup(func() { cancel(); <-col.done })
	return col
}

func (col *collector) wake() {
	select {
	case col.poke <- struct{}{}:
	default:
	}
}

// waitFor polls cond under the lock until it holds; fails after 30 s.
func (col *collector) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		col.mu.Lock()
		ok := cond()
		col.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-col.poke:
		case <-col.done:
			col.mu.Lock()
			ok := cond()
			err := col.err
			col.mu.Unlock()
			if !ok {
				t.Fatalf("waiting for %s: stream ended: %v", what, err)
			}
			return
		case <-deadline.C:
			col.mu.Lock()
			n, states := len(col.evs), append([]State(nil), col.states...)
			col.mu.Unlock()
			t.Fatalf("timed out waiting for %s (have %d events, states %v)", what, n, states)
		}
	}
}

func (col *collector) events() []protocol.Event {
	col.mu.Lock()
	defer col.mu.Unlock()
	return append([]protocol.Event(nil), col.evs...)
}

func (col *collector) hasState(k StateKind) bool {
	for _, s := range col.states {
		if s.Kind == k {
			return true
		}
	}
	return false
}

// seqs returns the events' seqs.
func seqs(evs []protocol.Event) []uint64 {
	out := make([]uint64, len(evs))
	for i, e := range evs {
		out[i] = e.Seq
	}
	return out
}
