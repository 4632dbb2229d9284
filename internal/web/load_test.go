package web_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestDashboard10k: 10,000 events (the Bash results carrying 100 lines of
// output each) load, the list renders only what is visible, scrolling stays
// responsive (figures logged, no thresholds), a large output opens in the
// detail view folded, and "load older" pages back through GET /v1/events
// without duplicates.
func TestDashboard10k(t *testing.T) {
	const total = 10000
	d := testutil.StartDaemon(t)
	tok := d.Token()
	sessions := []string{sessA, sessB, "cccc1111-2222-3333-4444-555566667777"}
	tools := []string{"Bash", "Read", "Edit", "Grep"}
	start := time.Now()
	var wg sync.WaitGroup
	const workers = 8
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// Each worker owns whole tool calls, so a Pre precedes its Post.
			for i := w; i < total/2; i += workers {
				s := sessions[i%len(sessions)]
				tool := tools[i%len(tools)]
				id := fmt.Sprintf("toolu_%05d", i)
				post(t, d, tok, hookEvent(s, "PreToolUse", map[string]any{"tool_name": tool, "tool_use_id": id, "tool_input": map[string]any{"command": fmt.Sprintf("step %d", i)}}))
				out := strings.Repeat("x", 200)
				if tool == "Bash" {
					out = bigOutput(i, 100)
				}
				post(t, d, tok, hookEvent(s, "PostToolUse", map[string]any{"tool_name": tool, "tool_use_id": id, "tool_response": map[string]any{"stdout": out, "stderr": "", "interrupted": false}}))
			}
		}(w)
	}
	wg.Wait()
	t.Logf("posted %d events in %v", total, time.Since(start).Round(time.Millisecond))

	p := newPage(t, d)
	start = time.Now()
	p.navigate(dashURL(d, "tail=0", tok))
	p.waitFor("10,000 events loaded", fmt.Sprintf(`document.body.dataset.count === "%d" && document.body.dataset.live === "1"`, total), 60*time.Second)
	loaded := time.Since(start)
	raw := eval[string](p, `new Promise((res) => { const t0 = performance.now(); let n = 0, bytes = 0; const ws = new WebSocket("ws://" + location.host + "/v1/ws?since=0&tail=0&token=" + sessionStorage.getItem("mpm.token")); ws.onmessage = (m) => { bytes += m.data.length; if (m.data.startsWith('{"type":"events"')) n++; if (m.data.startsWith('{"type":"live"')) { ws.close(); res(n + " frames, " + bytes + " bytes in " + Math.round(performance.now() - t0) + " ms"); } }; })`, awaitPromise())
	t.Logf("for comparison, the same replay on a bare WebSocket in the loaded page: %s", raw)
	p.waitFor("rows on screen", `document.querySelectorAll("#list .row").length > 10`, 5*time.Second)
	t.Logf("10,000 events: navigation to all shown and live in %v (in-page: %s ms from navigation start to live)", loaded.Round(time.Millisecond), eval[string](p, `document.body.dataset.loadMs`))
	if n := eval[int](p, `document.querySelectorAll("#list .row").length`); n > 200 {
		t.Errorf("%d rows in the DOM for %d events: the list is not virtualised", n, total)
	}

	// Scroll through the whole list, one frame per step.
	res := eval[map[string]float64](p, `new Promise((done) => {
		const el = document.getElementById("list");
		const steps = 60, t0 = performance.now();
		let i = 0, worst = 0, last = t0, maxRows = 0;
		const step = () => {
			const now = performance.now();
			worst = Math.max(worst, now - last);
			last = now;
			maxRows = Math.max(maxRows, el.querySelectorAll(".row").length);
			if (i > steps) { done({ms: now - t0, worst, maxRows, top: el.scrollTop}); return; }
			el.scrollTop = (el.scrollHeight - el.clientHeight) * (1 - i / steps);
			i++;
			requestAnimationFrame(step);
		};
		requestAnimationFrame(step);
	})`+"\n", awaitPromise())
	t.Logf("jump-scroll bottom to top in 60 frames (every frame all new rows): %.1f ms a frame on average, worst %.1f ms, at most %.0f rows in the DOM", res["ms"]/61, res["worst"], res["maxRows"])
	// Wheel-like scrolling: 3 rows a frame, as a mouse wheel moves.
	wheel := eval[map[string]float64](p, `new Promise((done) => {
		const el = document.getElementById("list");
		const t0 = performance.now();
		let i = 0, worst = 0, last = t0;
		const step = () => {
			const now = performance.now();
			worst = Math.max(worst, now - last);
			last = now;
			if (i > 120) { done({ms: now - t0, worst}); return; }
			el.scrollTop += 84;
			i++;
			requestAnimationFrame(step);
		};
		requestAnimationFrame(step);
	})`, awaitPromise())
	idle := eval[float64](p, `new Promise((done) => { const t0 = performance.now(); let i = 0; const f = () => { if (++i > 60) { done(performance.now() - t0); return; } requestAnimationFrame(f); }; requestAnimationFrame(f); })`, awaitPromise())
	t.Logf("wheel-like scroll, 3 rows a frame: %.1f ms a frame on average, worst %.1f ms (idle page: %.1f ms a frame)", wheel["ms"]/121, wheel["worst"], idle/60)
	// A large output opens folded, and unfolds on request.
	start = time.Now()
	eval[bool](p, `(() => { const r = [...document.querySelectorAll("#list .row")].find(e => e.querySelector(".type").textContent === "PostToolUse" && e.querySelector(".tool").textContent === "Bash"); r.querySelector(".line").click(); return true })()`)
	p.waitFor("a 100-line Bash output in the detail view", `document.querySelector("#detail-body [data-label=stdout] pre")?.textContent.split("\n").length === 100`, 5*time.Second)
	t.Logf("opening a call with a 100-line output: %v", time.Since(start).Round(time.Millisecond))
	p.press("Escape", "Escape", 27)
	eval[int](p, `document.getElementById("list").scrollTop = 0`)
	p.waitFor("the first event at the top", `document.querySelector('#list .row[data-key="0:1"]') !== null && document.getElementById("follow").dataset.follow === "0"`, 5*time.Second)

	// A filter over 10,000 events.
	start = time.Now()
	p.click(`#types .chip[data-type="PostToolUse"]`)
	p.waitFor("PostToolUse only", fmt.Sprintf(`document.body.dataset.shown === "%d"`, total/2), 5*time.Second)
	t.Logf("type filter over 10,000 events: %v", time.Since(start).Round(time.Millisecond))
	p.click("#clear-filters")
	p.click("#follow")
	p.waitFor("following again", `document.getElementById("follow").dataset.follow === "1"`, 5*time.Second)
	p.waitFor("tool stats", `document.querySelectorAll("#chart-tools .tname").length === 4`, 5*time.Second)
	p.colorScheme("light")
	p.shot("10k-light")
	p.colorScheme("dark")
	p.shot("10k-dark")
	p.colorScheme("light")

	// The default tail, then "load older" through GET /v1/events.
	p.navigate(dashURL(d, "tail=300", ""))
	p.waitFor("the last 300", `document.body.dataset.count === "300" && document.body.dataset.live === "1" && !document.getElementById("older").hidden`, 15*time.Second)
	if first := eval[string](p, `document.getElementById("older").title`); first != "load events before #9701" {
		t.Errorf("load-older button's title says %q, want before #9701", first)
	}
	p.click("#older")
	p.waitFor("500 older events prepended", `document.body.dataset.count === "800" && document.getElementById("older").title.includes("#9201")`, 15*time.Second)
	post(t, d, tok, hookEvent(sessA, "Notification", map[string]any{"message": "after load older"}))
	p.waitFor("live still flowing", `document.body.dataset.count === "801"`, 5*time.Second)
	keys := eval[[]string](p, `[...document.querySelectorAll("#list .row")].map(e => e.dataset.key)`)
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			t.Errorf("row %s rendered twice", k)
		}
		seen[k] = true
	}
}

// bigOutput is n lines of command output, like a build log.
func bigOutput(i, n int) string {
	var b strings.Builder
	for l := 0; l < n; l++ {
		fmt.Fprintf(&b, "step %d line %03d: compiling package example.com/proj/internal/p%02d ... ok (%d ms)\n", i, l, l%37, l*7%1000)
	}
	return b.String()
}
