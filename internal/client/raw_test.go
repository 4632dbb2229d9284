package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// serve runs h on a free 127.0.0.1 port until the test ends.
func serve(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func TestHealthRaw(t *testing.T) {
	ctx := context.Background()
	d := testutil.StartDaemon(t)
	raw, err := newClient(t, d).HealthRaw(ctx)
	if err != nil || raw.Code != http.StatusOK || len(raw.Body) == 0 {
		t.Fatalf("daemon: %d %q %v", raw.Code, raw.Body, err)
	}

	// A stranger's answer comes back as it is, with its status.
	addr := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte("not mpm"))
	})
	c, _ := New(Config{Addr: addr, Token: "x"})
	raw, err = c.HealthRaw(ctx)
	if err != nil || raw.Code != http.StatusTeapot || string(raw.Body) != "not mpm" {
		t.Fatalf("stranger: %d %q %v", raw.Code, raw.Body, err)
	}
	var nm *NotMPMError
	if _, err := c.Health(ctx); !errors.As(err, &nm) {
		t.Fatalf("Health on a stranger: want NotMPMError, got %v", err)
	}

	c, _ = New(Config{Addr: testutil.FreeAddr(t), Token: "x"})
	var ue *UnreachableError
	if _, err := c.HealthRaw(ctx); !errors.As(err, &ue) {
		t.Fatalf("nothing listening: want UnreachableError, got %v", err)
	}
}

func TestDialHelloError(t *testing.T) {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	// A WebSocket server whose first message is not a hello.
	addr := serve(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.WriteJSON(map[string]string{"type": "welcome"})
		c.ReadMessage() // until the client goes
	})
	c, _ := New(Config{Addr: addr, Token: "x"})
	_, _, err := c.Dial(context.Background())
	var he *HelloError
	if !errors.As(err, &he) || he.First != "welcome" || he.Err != nil {
		t.Fatalf("want HelloError with First welcome, got %#v", err)
	}

	// One that says nothing: the hello wait ends with ctx's deadline, well
	// before the 10s limit.
	silent := serve(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.ReadMessage()
	})
	c, _ = New(Config{Addr: silent, Token: "x"})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, _, err := c.Dial(ctx); done <- err }()
	select {
	case err := <-done:
		if !errors.As(err, &he) || he.Err == nil {
			t.Fatalf("want HelloError with a read error, got %#v", err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("Dial ignored ctx's deadline while waiting for the hello")
	}
}
