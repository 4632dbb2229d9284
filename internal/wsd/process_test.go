package wsd

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestGracefulShutdown: SIGTERM to the real daemon while a client is
// connected: the client gets every acknowledged event, then a 1001 close,
// and the process exits 0.
func TestGracefulShutdown(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGTERM")
	}
	d := testutil.StartDaemon(t, "--journal=false")
	tok := d.Token()
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+d.Addr+"/v1/ws?since=0", http.Header{"Authorization": {"Bearer " + tok}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const n = 200
	for i := 0; i < n; i++ {
		req, _ := http.NewRequest(http.MethodPost, d.URL("/v1/events"), bytes.NewReader(payload("s", "Stop", fmt.Sprintf(`,"i":%d`, i))))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("post: %d", resp.StatusCode)
		}
	}
	d.Cmd.Process.Signal(syscall.SIGTERM)
	var got uint64
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
				t.Fatalf("connection ended with %v, want close 1001", err)
			}
			break
		}
		got += uint64(bytes.Count(data, []byte(`{"seq":`)))
	}
	if got != n {
		t.Fatalf("client got %d events before the close, want %d", got, n)
	}
	select {
	case <-d.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("daemon did not exit after SIGTERM")
	}
	if code := d.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0\n%s", code, d.Log.String())
	}
	d.Cmd = nil
	if !strings.Contains(d.Log.String(), "stopped") {
		t.Fatalf("no shutdown log line:\n%s", d.Log.String())
	}
}

// TestBusyPort: a second daemon on a held address exits 3 and names the
// mpm-wsd holding it; a stranger holding it is reported too.
func TestBusyPort(t *testing.T) {
	d := testutil.StartDaemon(t, "--journal=false")
	out, err := exec.Command(testutil.Binary(t, "mpm-wsd"), "--addr", d.Addr, "--data-dir", t.TempDir(), "--journal=false").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("second daemon: %v, want exit 3\n%s", err, out)
	}
	if want := fmt.Sprintf("in use by another mpm-wsd (pid %d", d.Pid()); !strings.Contains(string(out), want) {
		t.Fatalf("message %q does not say %q", out, want)
	}
	d.Kill()
	stranger := testutil.FreeAddr(t)
	srv := &http.Server{Addr: stranger, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello") })}
	ln, err := net.Listen("tcp", stranger)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	out, err = exec.Command(testutil.Binary(t, "mpm-wsd"), "--addr", stranger, "--data-dir", t.TempDir(), "--journal=false").CombinedOutput()
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(string(out), "already in use by another program") {
		t.Fatalf("stranger on the port: %v\n%s", err, out)
	}
}
