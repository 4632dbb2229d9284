package wsd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestStoreThatCannotWriteIsReportedAndRecovers makes the real daemon's
// journal unable to write, the way a full disk does, without root: its
// RLIMIT_FSIZE is set to 0 (prlimit), so every write to the journal fails
// (EFBIG). /healthz must say so (degraded, store_error) while staying ok
// (a restart does not cure a full disk), the log must not repeat the error
// per event, /metrics counts the failures, and once the limit is lifted
// events are stored again and /healthz clears.
func TestStoreThatCannotWriteIsReportedAndRecovers(t *testing.T) {
	d := testutil.StartDaemon(t)
	tok := d.Token()
	post := func(i int) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, d.URL("/v1/events"), bytes.NewReader(payload("s", "Stop", fmt.Sprintf(`,"i":%d`, i))))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	health := func() protocol.Health {
		t.Helper()
		resp, err := http.Get(d.URL("/healthz"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var h protocol.Health
		if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || resp.StatusCode != 200 {
			t.Fatalf("/healthz: %d %v", resp.StatusCode, err)
		}
		return h
	}
	metric := func(name string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, d.URL("/metrics"), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, name+" ") {
				return strings.TrimSpace(strings.TrimPrefix(line, name))
			}
		}
		return ""
	}
	if code := post(0); code != 202 {
		t.Fatalf("first post: %d", code)
	}
	var old unix.Rlimit
	if err := unix.Prlimit(d.Pid(), unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: 0, Max: unix.RLIM_INFINITY}, &old); err != nil {
		t.Skipf("prlimit on the daemon: %v", err)
	}
	start := time.Now()
	const n = 300
	for i := 1; i <= n; i++ {
		if code := post(i); code != 503 {
			t.Fatalf("post %d while the store cannot write: %d, want 503", i, code)
		}
	}
	elapsed := time.Since(start)
	h := health()
	if !h.OK || !h.Degraded || !strings.Contains(h.StoreError, "cannot write") {
		t.Fatalf("/healthz while the store cannot write: %+v, want ok, degraded and a store_error", h)
	}
	t.Logf("store_error: %s", h.StoreError)
	lines := strings.Count(d.Log.String(), "storing events failed")
	// One line, then at most one per 10 s (storeLogPeriod).
	if max := 1 + int(elapsed/storeLogPeriod); lines < 1 || lines > max {
		t.Fatalf("%d ERROR lines for %d failed posts in %v, want 1..%d:\n%s", lines, n, elapsed, max, d.Log.String())
	}
	if got := metric("mpm_store_degraded"); got != "1" {
		t.Fatalf("mpm_store_degraded %q, want 1", got)
	}
	if got := metric("mpm_store_write_failures_total"); got == "" || got == "0" {
		t.Fatalf("mpm_store_write_failures_total %q, want the failed commits", got)
	}

	if err := unix.Prlimit(d.Pid(), unix.RLIMIT_FSIZE, &old, nil); err != nil {
		t.Fatal(err)
	}
	if code := post(n + 1); code != 202 {
		t.Fatalf("post after the store can write again: %d, want 202\n%s", code, d.Log.String())
	}
	if h := health(); h.Degraded || h.StoreError != "" || !h.OK {
		t.Fatalf("/healthz after recovery: %+v", h)
	}
	if got := metric("mpm_store_degraded"); got != "0" {
		t.Fatalf("mpm_store_degraded %q after recovery, want 0", got)
	}
	if !strings.Contains(d.Log.String(), "storing events works again") {
		t.Fatalf("no recovery line:\n%s", d.Log.String())
	}
}
