package testutil

import (
	"context"
	"testing"

	"github.com/mpm-dev/mpm/internal/client"
	"github.com/mpm-dev/mpm/internal/protocol"
)

// StreamSessions streams every session frame of c's daemon into frames
// until ctx ends, and returns once the stream is connected (fatal if ctx
// ends first); the returned channel gets Stream's result.
func StreamSessions(t testing.TB, ctx context.Context, c *client.Client, frames chan<- protocol.Session) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	connected := make(chan struct{}, 10)
	go func() {
		done <- c.Stream(ctx, client.Subscription{}, client.Handlers{
			Event:   func(protocol.Event) error { return nil },
			Session: func(s protocol.Session) error { frames <- s; return nil },
			State: func(st client.State) error {
				if st.Kind == client.StateConnected {
					connected <- struct{}{}
				}
				return nil
			},
		})
	}()
	select {
	case <-connected:
	case <-ctx.Done():
		t.Fatal("the session stream did not connect")
	}
	return done
}
