//go:build unix

package wsd

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/mpm-dev/mpm/internal/paths"
)

// socketClient is an HTTP client that dials the Unix socket at path.
func socketClient(path string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
}

// socketDo sends one request over the socket with no token.
func socketDo(t *testing.T, path, method, target string, body []byte, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://mpm"+target, bytes.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := socketClient(path).Do(req)
	if err != nil {
		t.Fatalf("%s %s over the socket: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// staleSocketAt leaves a socket file at path that nothing listens on.
func staleSocketAt(t *testing.T, path string) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
}

// TestSocketServesIngestOnly: the socket is 0600, takes POST /v1/events
// with no token, refuses everything else and browsers (Origin), and is
// removed at a clean shutdown.
func TestSocketServesIngestOnly(t *testing.T) {
	ts := startServer(t, nil)
	sock := paths.Socket(ts.cfg.DataDir)
	fi, err := os.Lstat(sock)
	if err != nil {
		t.Fatalf("no socket: %v", err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want a socket, 0600", sock, fi.Mode())
	}
	for _, tt := range []struct {
		name, method, target string
		body                 []byte
		hdr                  map[string]string
		want                 int
	}{
		{"ingest without token", "POST", "/v1/events", payload("s-sock", "Stop", ""), map[string]string{HeaderIdempotencyKey: "k1"}, 202},
		{"duplicate", "POST", "/v1/events", payload("s-sock", "Stop", ""), map[string]string{HeaderIdempotencyKey: "k1"}, 200},
		{"bad event", "POST", "/v1/events", []byte("[1]"), nil, 400},
		{"from a browser", "POST", "/v1/events", payload("s-sock", "Stop", ""), map[string]string{"Origin": "http://127.0.0.1:1"}, 403},
		{"history", "GET", "/v1/events", nil, nil, 404},
		{"sessions", "GET", "/v1/sessions", nil, nil, 404},
		{"metrics", "GET", "/metrics", nil, nil, 404},
		{"websocket", "GET", "/v1/ws", nil, nil, 404},
		{"healthz", "GET", "/healthz", nil, nil, 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if code, body := socketDo(t, sock, tt.method, tt.target, tt.body, tt.hdr); code != tt.want {
				t.Errorf("%s %s = %d %q, want %d", tt.method, tt.target, code, body, tt.want)
			}
		})
	}
	if got := ts.store.LastSeq(); got != 1 {
		t.Errorf("last seq %d, want 1 (one event over the socket)", got)
	}
	ts.stop(t)
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("the socket is still there after shutdown: %v", err)
	}
}

// TestSocketAtStart: a stale socket file is replaced; a live one (another
// daemon on the data directory) and a file that is not a socket are left
// alone, and the daemon serves TCP only.
func TestSocketAtStart(t *testing.T) {
	t.Run("stale replaced", func(t *testing.T) {
		dir := t.TempDir()
		staleSocketAt(t, paths.Socket(dir))
		ts := startServer(t, func(c *Config) { c.DataDir = dir })
		if code, body := socketDo(t, paths.Socket(dir), "POST", "/v1/events", payload("s-stale", "Stop", ""), nil); code != 202 {
			t.Fatalf("POST over the replaced socket = %d %q", code, body)
		}
		_ = ts
	})
	t.Run("live left alone", func(t *testing.T) {
		dir := t.TempDir()
		other, err := net.Listen("unix", paths.Socket(dir))
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		ts := startServer(t, func(c *Config) { c.DataDir = dir })
		if ts.sock != nil {
			t.Fatal("the daemon took over a socket another process answers on")
		}
		got := make(chan net.Conn, 1)
		go func() { c, _ := other.Accept(); got <- c }()
		c, err := net.Dial("unix", paths.Socket(dir))
		if err != nil {
			t.Fatalf("the other process's socket is gone: %v", err)
		}
		c.Close()
		if oc := <-got; oc != nil {
			oc.Close()
		}
		if code, _, _ := ts.post(t, payload("s-live", "Stop", ""), nil); code != 202 {
			t.Errorf("TCP ingest = %d, want 202", code)
		}
	})
	t.Run("not a socket left alone", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(paths.Socket(dir), []byte("mine"), 0o600); err != nil {
			t.Fatal(err)
		}
		ts := startServer(t, func(c *Config) { c.DataDir = dir })
		if ts.sock != nil {
			t.Fatal("the daemon replaced a file that is not a socket")
		}
		ts.stop(t)
		if b, err := os.ReadFile(paths.Socket(dir)); err != nil || string(b) != "mine" {
			t.Errorf("the file was changed: %q, %v", b, err)
		}
	})
	t.Run("path too long", func(t *testing.T) {
		dir := t.TempDir() + "/" + strings.Repeat("d", 110)
		ts := startServer(t, func(c *Config) { c.DataDir = dir })
		if ts.sock != nil {
			t.Fatal("a socket at a path longer than sun_path")
		}
		if code, _, _ := ts.post(t, payload("s-long", "Stop", ""), nil); code != 202 {
			t.Errorf("TCP ingest = %d, want 202", code)
		}
	})
}
