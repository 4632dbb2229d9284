package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestDashboardRestart: a hung daemon is noticed (2.5 heartbeats of
// silence) and the page resumes after it; a restarted daemon, with its
// journal or without it, leaves every event on the page exactly once.
func TestDashboardRestart(t *testing.T) {
	for _, mode := range []struct {
		name      string
		flags     []string
		wantReset bool
	}{
		{"journal", nil, false},
		{"memory", []string{"--journal=false"}, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			d := testutil.StartDaemon(t, append([]string{"--heartbeat", "400ms"}, mode.flags...)...)
			tok := d.Token()
			var want []string
			send := func(tag string, n int) {
				for i := 1; i <= n; i++ {
					m := fmt.Sprintf("%s-%d", tag, i)
					want = append(want, m)
					post(t, d, tok, hookEvent(sessA, "Notification", map[string]any{"message": m}))
				}
			}
			send("before", 4)
			p := newPage(t, d)
			p.navigate(dashURL(d, "", tok))
			p.waitFor("connected", `document.body.dataset.conn === "connected" && document.body.dataset.count === "4"`, 15*time.Second)
			inst := eval[string](p, `document.body.dataset.instance`)

			if mode.name == "journal" && freeze(t, d) {
				p.waitFor("a silent daemon noticed", `document.body.dataset.conn === "reconnecting"`, 5*time.Second)
				thaw(t, d)
				p.waitFor("reconnected after the daemon woke", `document.body.dataset.conn === "connected"`, 15*time.Second)
				send("thawed", 2)
				p.waitFor("events after the thaw", `document.body.dataset.count === "6"`, 5*time.Second)
			}

			d.Stop()
			p.waitFor("the page saw the daemon go", `document.body.dataset.conn === "reconnecting"`, 5*time.Second)
			d.Start()
			send("after", 3)
			p.waitFor("reconnected to the new daemon with all events",
				fmt.Sprintf(`document.body.dataset.conn === "connected" && document.body.dataset.instance !== %s && document.body.dataset.count === "%d" && document.getElementById("conn").dataset.restarted === "1"`, js(inst), len(want)),
				20*time.Second)
			send("live", 1)
			p.waitFor("live after the restart", fmt.Sprintf(`document.body.dataset.count === "%d" && document.querySelectorAll("#list .row .sum").length === %d`, len(want), len(want)), 5*time.Second)

			got := eval[[]string](p, `[...document.querySelectorAll("#list .row .sum")].map(e => e.textContent)`)
			seen := map[string]int{}
			for _, g := range got {
				seen[g]++
			}
			for _, w := range want {
				if seen[w] != 1 {
					t.Errorf("event %q shown %d times, want once (rows: %q)", w, seen[w], got)
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d rows, want %d: %q", len(got), len(want), got)
			}
			dividers := eval[int](p, `document.querySelectorAll("#list .row.divider").length`)
			if mode.wantReset && dividers != 1 {
				t.Errorf("in-memory daemon restarted: %d 'history reset' dividers, want 1", dividers)
			}
			if !mode.wantReset && dividers != 0 {
				t.Errorf("journal daemon restarted: %d 'history reset' dividers, want 0 (seq continues)", dividers)
			}
			if n := eval[string](p, `document.getElementById("notices").textContent`); !strings.Contains(n, "restarted") {
				t.Errorf("no restart notice: %q", n)
			}
			p.shot("restart-" + mode.name)
		})
	}
}
