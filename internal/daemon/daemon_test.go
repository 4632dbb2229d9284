package daemon_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestLogNamesTheDaemonOnce: the start-up line reads "mpm-wsd: listening",
// not "mpm-wsd: mpm-wsd listening" (the root logger already names it).
func TestLogNamesTheDaemonOnce(t *testing.T) {
	d := testutil.StartDaemon(t)
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(d.Log.String(), "dashboard:") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling for the line, not ordering
	}
	log := d.Log.String()
	if strings.Contains(log, "mpm-wsd: mpm-wsd") || !strings.Contains(log, "mpm-wsd: listening") {
		t.Errorf("start-up log:\n%s", log)
	}
}

// TestHealthzOtherMethods: POST /healthz is 405 with Allow (it used to
// fall through to the dashboard's "files are read-only").
func TestHealthzOtherMethods(t *testing.T) {
	d := testutil.StartDaemon(t)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(m, d.URL("/healthz"), strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(resp.Header.Get("Allow"), "GET") ||
			!strings.Contains(string(body), "/healthz") || strings.Contains(string(body), "dashboard") {
			t.Errorf("%s /healthz: %d, Allow %q, %s; want 405, Allow: GET and a word on /healthz", m, resp.StatusCode, resp.Header.Get("Allow"), body)
		}
	}
	resp, err := http.Get(d.URL("/healthz"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz: %d", resp.StatusCode)
	}
}
