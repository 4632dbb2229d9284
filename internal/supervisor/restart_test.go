package supervisor

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mpm-dev/mpm/internal/managerstate"
)

// TestManagerRestartDelay: a manager that follows one that crashed soon
// after starting waits longer each time (no delay after a single crash),
// so a service manager that restarts it at once never gives up and never
// spins; a clean stop or a long run starts the count over.
func TestManagerRestartDelay(t *testing.T) {
	o, _ := Options{WSDPath: "x", Addr: "a", DataDir: "d"}.withDefaults()
	now := time.Now()
	const dead = 1 << 30 // no such pid
	for _, tc := range []struct {
		name    string
		prev    managerstate.State
		crashes int
		delay   time.Duration
	}{
		{"clean stop", managerstate.State{ManagerPID: dead, Phase: managerstate.PhaseStopped, ManagerStarted: now.Add(-time.Second)}, 0, 0},
		{"no manager before", managerstate.State{}, 0, 0},
		{"first crash", managerstate.State{ManagerPID: dead, Phase: managerstate.PhaseRunning, ManagerStarted: now.Add(-time.Second)}, 1, 0},
		{"second crash", managerstate.State{ManagerPID: dead, Phase: managerstate.PhaseRunning, ManagerStarted: now.Add(-time.Second), ManagerCrashes: 1}, 2, time.Second},
		{"fifth crash", managerstate.State{ManagerPID: dead, Phase: managerstate.PhaseBackoff, ManagerStarted: now.Add(-5 * time.Second), ManagerCrashes: 4}, 5, 8 * time.Second},
		{"many crashes: capped", managerstate.State{ManagerPID: dead, Phase: managerstate.PhaseBackoff, ManagerStarted: now.Add(-70 * time.Second), ManagerCrashes: 20}, 21, 60 * time.Second},
		{"crash after a long run", managerstate.State{ManagerPID: dead, Phase: managerstate.PhaseRunning, ManagerStarted: now.Add(-time.Hour), ManagerCrashes: 4}, 1, 0},
	} {
		c, d := managerRestartDelay(tc.prev, 12345, now, o)
		if c != tc.crashes || d != tc.delay {
			t.Errorf("%s: %d crashes, delay %v; want %d, %v", tc.name, c, d, tc.crashes, tc.delay)
		}
	}
}

// TestHealthPeriodFromStart: checks start every interval, however long
// one took, so 3 failed checks of 30 s with a 5 s timeout replace a hung
// daemon within 95 s, not 105 s.
func TestHealthPeriodFromStart(t *testing.T) {
	start := time.Now()
	for _, tc := range []struct {
		took, want time.Duration
	}{
		{10 * time.Millisecond, 30*time.Second - 10*time.Millisecond},
		{5 * time.Second, 25 * time.Second},
		{31 * time.Second, 0},
	} {
		if got := untilNextCheck(start, 30*time.Second, start.Add(tc.took)); got != tc.want {
			t.Errorf("a check that took %v: next in %v, want %v", tc.took, got, tc.want)
		}
	}
}

// TestRelayedLogHidesToken: a daemon line with a dashboard URL (one that
// believed it had a terminal) never reaches the manager's log with the
// token; the URL stays last on its line.
func TestRelayedLogHidesToken(t *testing.T) {
	for in, want := range map[string]string{
		"Dashboard: http://127.0.0.1:8765/#token=abc123":       "Dashboard: http://127.0.0.1:8765/#token=REDACTED",
		`{"@message":"dashboard: http://a/#token=ff00","x":1}`: `{"@message":"dashboard: http://a/#token=REDACTED","x":1}`,
		"two #token=a1 and #token=b2 here":                     "two #token=REDACTED and #token=REDACTED here",
		"no token here":                                        "no token here",
		"#token=":                                              "#token=",
	} {
		if got := redactToken(in); got != want {
			t.Errorf("redactToken(%q) = %q, want %q", in, got, want)
		}
	}
	var out strings.Builder
	w := &logWriter{log: hclog.New(&hclog.LoggerOptions{Name: "m", Output: &out}).Named("wsd"), stream: "stderr"}
	w.Write([]byte(`{"@level":"info","@message":"dashboard (mpm-verify prints the URL with the token)","@module":"mpm-wsd","url":"http://127.0.0.1:8765/"}` + "\n"))
	w.Write([]byte("Dashboard: http://127.0.0.1:8765/#token=0123abcd\n"))
	s := out.String()
	if strings.Contains(s, "0123abcd") || strings.Contains(s, "module=mpm-wsd") || !strings.Contains(s, "token): url=http://127.0.0.1:8765/\n") {
		t.Errorf("manager log:\n%s", s)
	}
}

// FuzzRedactToken: whatever a daemon line holds, every "#token=" in the
// relayed line is followed by REDACTED or by nothing that could be a token.
func FuzzRedactToken(f *testing.F) {
	f.Add("Dashboard: http://127.0.0.1:8765/#token=0123abcd")
	f.Add(`{"@message":"x #token=ab\"c #token= #token=#token=zz"}`)
	f.Fuzz(func(t *testing.T, line string) {
		out := redactToken(line)
		for rest := out; ; {
			i := strings.Index(rest, "#token=")
			if i < 0 {
				break
			}
			rest = rest[i+len("#token="):]
			if rest != "" && !strings.HasPrefix(rest, "REDACTED") && !strings.ContainsRune(" \t\"'\\<>", rune(rest[0])) && !strings.HasPrefix(rest, "#token=") {
				t.Fatalf("redactToken(%q) = %q leaves a value after #token=", line, out)
			}
		}
	})
}
