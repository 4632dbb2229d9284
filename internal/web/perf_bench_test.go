package web_test

// Browser benchmarks: the dashboard at scale (BenchmarkPageScale) and the
// felt latency, mpm-hook started to its text in the page's DOM
// (BenchmarkFeltLatency). They print figures and assert none: the machine
// is shared. docs/benchmarks.md has the figures and these commands:
//
//	go test -run '^$' -bench PageScale -benchtime 1x -timeout 20m ./internal/web/
//	go test -run '^$' -bench FeltLatency -benchtime 300x ./internal/web/
//
// The page's own timings come from performance.measure entries it writes
// when window.__mpmPerf is set before its scripts run (dist/js/perf.js).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	cdpage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/profiler"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// perfScript runs in the page before its own scripts. It turns the page's
// performance measures on, stamps the first event row, and for the felt
// latency stamps, per marker "felt-<n>-x": the WebSocket message that
// carried it (the MessageEvent's timeStamp: when the browser queued it) and
// the moment its text was added to #list (a MutationObserver: its callback
// runs as a microtask right after the mutation, in the same task).
const perfScript = `(() => {
	window.__mpmPerf = true;
	const B = window.__bench = { firstRow: 0, ws: {}, dom: {}, wsOpen: 0, firstEvents: 0, live: 0, long: [] };
	new PerformanceObserver((l) => { for (const e of l.getEntries()) B.long.push([e.startTime, e.duration]); }).observe({ type: "longtask" });
	const first = new MutationObserver(() => {
		if (document.querySelector("#list .row:not(.divider)")) { B.firstRow = performance.now(); first.disconnect(); }
	});
	first.observe(document, { childList: true, subtree: true });
	const re = /felt-(\d+)-x/g;
	const W = window.WebSocket;
	window.WebSocket = class extends W {
		constructor(...a) {
			super(...a);
			B.wsNew = B.wsNew || performance.now();
			this.addEventListener("open", () => { B.wsOpen = B.wsOpen || performance.now(); });
			this.addEventListener("message", (m) => {
				if (!B.firstEvents && typeof m.data === "string" && m.data.startsWith('{"type":"events"')) B.firstEvents = m.timeStamp;
				if (!B.live && typeof m.data === "string" && m.data.startsWith('{"type":"live"')) B.live = m.timeStamp;
				if (typeof m.data !== "string" || m.data.indexOf("felt-") < 0) return;
				for (const x of m.data.matchAll(re)) if (!(x[1] in B.ws)) B.ws[x[1]] = m.timeStamp;
			});
		}
	};
	document.addEventListener("DOMContentLoaded", () => {
		new MutationObserver((ms) => {
			const now = performance.now();
			for (const m of ms) for (const n of m.addedNodes) {
				const t = n.textContent;
				if (!t || t.indexOf("felt-") < 0) continue;
				for (const x of t.matchAll(re)) if (!(x[1] in B.dom)) B.dom[x[1]] = now;
			}
		}).observe(document.getElementById("list"), { childList: true, subtree: true });
	});
})()`

// addScript makes src run in every new document of the tab before its scripts.
func (p *page) addScript(src string) {
	p.t.Helper()
	err := chromedp.Do(p.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, cdpage.AddScriptToEvaluateOnNewDocument, cdpage.AddScriptToEvaluateOnNewDocumentParams{Source: src})
		return err
	}))
	if err != nil {
		p.t.Fatalf("add script: %v", err)
	}
}

// heap collects garbage and returns the page's used JavaScript heap (bytes).
func (p *page) heap() float64 {
	p.t.Helper()
	var used float64
	err := chromedp.Do(p.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, heapprofiler.CollectGarbage, cdpEmpty{}); err != nil {
			return err
		}
		r, err := chromedp.Call(ctx, cdpruntime.GetHeapUsage, cdpEmpty{})
		used = r.UsedSize
		return err
	}))
	if err != nil {
		p.t.Fatalf("heap usage: %v", err)
	}
	return used
}

// measures returns the durations (ms) of the page's performance.measure
// entries named name, in order.
func (p *page) measures(name string) []float64 {
	return eval[[]float64](p, `performance.getEntriesByName(`+js(name)+`, "measure").map(e => e.duration)`)
}

// poster posts events with keep-alive connections from a few goroutines.
type poster struct {
	d   *testutil.Daemon
	tok string
	c   *http.Client
}

func newPoster(d *testutil.Daemon) *poster {
	return &poster{d: d, tok: d.Token(), c: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
}

func (ps *poster) post(tb testing.TB, ev map[string]any) {
	body, _ := json.Marshal(ev)
	req, _ := http.NewRequest(http.MethodPost, ps.d.URL("/v1/events"), bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+ps.tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := ps.c.Do(req)
	if err != nil {
		tb.Errorf("post event: %v", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		tb.Errorf("post event: status %d", resp.StatusCode)
	}
}

// scaleEvent is event i of a long session: tool calls (a Bash or a Read,
// its result with a few lines of output) and now and then a prompt.
func scaleEvent(session string, i int) map[string]any {
	call := i / 2
	id := fmt.Sprintf("toolu_%07d", call)
	tool := []string{"Bash", "Read", "Grep", "Edit"}[call%4]
	if call%50 == 0 && i%2 == 0 {
		return hookEvent(session, "UserPromptSubmit", map[string]any{"prompt": fmt.Sprintf("prompt %d: make the tests pass and explain what changed", call)})
	}
	if i%2 == 0 {
		return hookEvent(session, "PreToolUse", map[string]any{"tool_name": tool, "tool_use_id": id, "tool_input": map[string]any{"command": fmt.Sprintf("step %d: go test ./internal/p%02d/...", call, call%37), "file_path": fmt.Sprintf("/home/dev/proj/internal/p%02d/file%d.go", call%37, call%11)}})
	}
	return hookEvent(session, "PostToolUse", map[string]any{"tool_name": tool, "tool_use_id": id, "tool_response": map[string]any{"stdout": bigOutput(call, 4), "stderr": "", "interrupted": false}})
}

// pct is the q-quantile (0..1) of xs (sorted in place).
func pct(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	return xs[int(math.Round(q*float64(len(xs)-1)))]
}

func maxOf(xs []float64) float64 {
	m := math.NaN()
	for _, x := range xs {
		if math.IsNaN(m) || x > m {
			m = x
		}
	}
	return m
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// BenchmarkPageScale: a session of 100,000 events (MPM_BENCH_EVENTS) opened
// with ?session=…&tail=0 (its 8-character prefix; the full id with
// MPM_BENCH_FULL_ID=1); then, holding MAX_RECORDS (50,000), incoming
// events one by one and filter changes. Logged: first rows and all loaded
// (from navigation start), the JS heap, and per batch / filter change the
// page's own measures and the longest frame meanwhile.
func BenchmarkPageScale(b *testing.B) {
	total := 100000
	if s := os.Getenv("MPM_BENCH_EVENTS"); s != "" {
		total, _ = strconv.Atoi(s)
	}
	d := testutil.StartDaemon(b)
	tok := d.Token()
	ps := newPoster(d)
	start := time.Now()
	var wg sync.WaitGroup
	const workers = 8
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < total/2; i += workers { // whole calls per worker: a Pre precedes its Post
				ps.post(b, scaleEvent(sessA, 2*i))
				ps.post(b, scaleEvent(sessA, 2*i+1))
			}
		}(w)
	}
	wg.Wait()
	b.Logf("posted %d events in %v", total, time.Since(start).Round(time.Millisecond))
	held := min(total, 50000)

	bare := func(p *page) string {
		return eval[string](p, `new Promise((res) => { const t0 = performance.now(); let n = 0; const ws = new WebSocket("ws://" + location.host + "/v1/ws?session=`+sessA+`&since=0&tail=`+strconv.Itoa(held)+`&token=`+tok+`"); ws.onmessage = (m) => { const j = JSON.parse(m.data); if (j.type === "events") n += j.events.length; if (j.type === "live") { ws.close(); res(n + " events in " + Math.round(performance.now() - t0) + " ms"); } }; })`, awaitPromise())
	}
	if os.Getenv("MPM_BENCH_BARE_FIRST") == "1" {
		p := newPage(b, d)
		p.navigate(d.URL("/favicon.svg"))
		b.Logf("before the page, the replay on a bare WebSocket (JSON.parse, nothing else): %s", bare(p))
	}
	for n := 0; n < b.N; n++ {
		p := newPage(b, d)
		p.addScript(perfScript)
		prof := os.Getenv("MPM_BENCH_PROFILE") == "1"
		if prof {
			p.navigate(d.URL("/favicon.svg"))
			p.profile(true)
		}
		start = time.Now()
		sel := sessA[:8] // the prefix mpm-monitor shows: the page resolves it with the session list first
		if os.Getenv("MPM_BENCH_FULL_ID") == "1" {
			sel = sessA // a full id (the address holds it once resolved): the WebSocket opens beside that list
		}
		p.navigate(dashURL(d, "session="+sel+"&tail=0", tok))
		p.waitFor("all loaded", fmt.Sprintf(`document.body.dataset.live === "1" && document.body.dataset.count === "%d"`, held), 120*time.Second)
		wall := time.Since(start)
		if prof {
			p.profile(false)
		}
		first := eval[float64](p, `window.__bench.firstRow`)
		live := eval[float64](p, `Number(document.body.dataset.loadMs)`)
		nav := eval[float64](p, `performance.getEntriesByType("navigation")[0].responseEnd`)
		b.Logf("page measures during the load: %s", eval[string](p, `(() => { const by = {}; for (const e of performance.getEntriesByType("measure")) { const x = by[e.name] || (by[e.name] = {n: 0, sum: 0, max: 0}); x.n++; x.sum += e.duration; x.max = Math.max(x.max, e.duration); } return Object.entries(by).map(([k, x]) => k + " " + x.n + "× sum " + Math.round(x.sum) + " ms max " + x.max.toFixed(1)).join("; "); })()`))
		b.Logf("resources: %s", eval[string](p, `performance.getEntriesByType("resource").map(e => e.name.replace(location.origin, "").slice(0, 30) + " " + Math.round(e.startTime) + "→" + Math.round(e.responseEnd)).join(", ")`))
		batches := p.measures("mpm:batch")
		renders := p.measures("mpm:render")
		heap := p.heap()
		b.Logf("page: WebSocket created %.0f ms, open %.0f ms, first events frame %.0f ms, live frame %.0f ms; long tasks (> 50 ms) during the load: %s",
			eval[float64](p, `window.__bench.wsNew || 0`), eval[float64](p, `window.__bench.wsOpen`), eval[float64](p, `window.__bench.firstEvents`), eval[float64](p, `window.__bench.live`),
			eval[string](p, `(() => { const l = window.__bench.long; return l.length + ", " + Math.round(l.reduce((a, x) => a + x[1], 0)) + " ms in all, longest " + Math.round(Math.max(0, ...l.map(x => x[1]))) + " ms"; })()`))
		b.Logf("for comparison, the same replay on a bare WebSocket in the page (JSON.parse, nothing else): %s", bare(p))
		b.Logf("open %d events (?session=…&tail=0, the page keeps %d): first rows %.0f ms, all loaded and live %.0f ms from navigation start (HTML in at %.0f ms; %v wall); %d batches: p50 %.1f ms, max %.1f ms, sum %.0f ms; %d renders: max %.1f ms; JS heap after GC %.1f MiB",
			total, held, first, live, nav, wall.Round(time.Millisecond), len(batches), pct(batches, 0.5), maxOf(batches), sum(batches), len(renders), maxOf(renders), heap/(1<<20))
		b.ReportMetric(first, "first-rows-ms")
		b.ReportMetric(live, "loaded-ms")
		b.ReportMetric(heap/(1<<20), "heap-MiB")

		// Incoming events, one by one, on a page holding 50,000.
		eval[bool](p, `(performance.clearMeasures(), true)`)
		for i := 0; i < 100; i++ {
			ps.post(b, scaleEvent(sessA, total+i))
		}
		p.waitFor("100 more", fmt.Sprintf(`document.body.dataset.count === "%d" && performance.getEntriesByName("mpm:batch").length > 0 && document.querySelector('#list .row[data-key="0:%d"]')`, held, total+100), 30*time.Second)
		inc := p.measures("mpm:batch")
		b.Logf("incoming at %d held: %d batches, p50 %.2f ms, max %.2f ms (model, filter, list; render after: max %.2f ms)", held, len(inc), pct(inc, 0.5), maxOf(inc), maxOf(p.measures("mpm:render")))
		b.ReportMetric(maxOf(inc), "batch-max-ms")

		// Filter changes at 50,000: how long until done, the page's own
		// filter work, and the longest frame meanwhile.
		filters := []struct{ name, action string }{
			{"type filter (PostToolUse)", `document.querySelector('#types .chip[data-type="PostToolUse"]').click()`},
			{"clear filters", `document.getElementById("clear-filters").click()`},
			{"tool filter (Bash)", `(() => { const s = document.getElementById("tool-filter"); s.value = "Bash"; s.dispatchEvent(new Event("change")); })()`},
			{"clear filters", `document.getElementById("clear-filters").click()`},
			{"search, first (text derived)", `(() => { const s = document.getElementById("search"); s.value = "step 77777"; s.dispatchEvent(new Event("input")); })()`},
			{"search, again", `(() => { const s = document.getElementById("search"); s.value = "p07/file3"; s.dispatchEvent(new Event("input")); })()`},
			{"clear search (Esc)", `(() => { const s = document.getElementById("search"); s.focus(); s.dispatchEvent(new KeyboardEvent("keydown", {key: "Escape", bubbles: true})); })()`},
		}
		trace := os.Getenv("MPM_BENCH_TRACE") == "1"
		for _, f := range filters {
			var tr *pageTrace
			if trace {
				tr = p.startTrace()
			}
			// The page draws frames before the change (a tick each frame), so
			// that every interval measured is a frame's; the change comes
			// 8 ms into a frame, as a keystroke may; the test waits for the
			// filter's end and two frames more (the rows drawn).
			r := eval[map[string]float64](p, `new Promise((done) => {
				const frames = [], lag = [];
				let t0 = 0, after = 0;
				const tick = (ts) => {
					const now = performance.now();
					frames.push(now);
					lag.push(now - ts);
					if (frames.length === 6) setTimeout(() => {
						performance.clearMeasures();
						t0 = performance.now();
						performance.mark("bench:action");
						`+f.action+`;
					}, 8);
					if (t0 && performance.getEntriesByName("mpm:filter").length) after++;
					if (after > 2 || t0 && now - t0 > 30000) {
						const d = [];
						for (let i = 1; i < frames.length; i++) d.push(frames[i] - frames[i - 1]);
						const before = d.slice(0, 5).sort((a, b) => a - b); // the 5 frames before the change
						const display = before[2];
						const during = d.slice(5);
						const m = performance.getEntriesByName("mpm:filter");
						const chunks = performance.getEntriesByName("mpm:filter-chunk").map(e => e.duration);
						done({ms: m.length ? m[0].duration : -1, wait: now - t0, worst: Math.max(...during), display, idleMax: before[4], lag: lag.sort((a, b) => a - b)[lag.length >> 1], late: during.filter(x => x > display * 1.2).length, frames: during.length, chunks: chunks.length, chunkMax: chunks.length ? Math.max(...chunks) : 0, chunkSum: chunks.reduce((a, x) => a + x, 0), shown: Number(document.body.dataset.shown)});
						return;
					}
					requestAnimationFrame(tick);
				};
				requestAnimationFrame(tick);
			})`, awaitPromise())
			b.Logf("%-30s → %6.0f shown: filter done %.1f ms after the change (%0.f slices, %.1f ms of work, longest %.1f ms), seen by the test after %.0f ms; %0.f frames meanwhile: longest %.1f ms, %0.f over 1.2× the display's frame (%.1f ms; the 5 frames before the change: longest %.1f ms; a frame's callbacks start %.1f ms after its time, median)", f.name, r["shown"], r["ms"], r["chunks"], r["chunkSum"], r["chunkMax"], r["wait"], r["frames"], r["worst"], r["late"], r["display"], r["idleMax"], r["lag"])
			// The page's other work meanwhile (the periodic charts and
			// session panel, renders) that took over 1 ms.
			if o := eval[string](p, `performance.getEntriesByType("measure").filter(e => !e.name.startsWith("mpm:filter") && e.duration > 1).map(e => e.name + " " + e.duration.toFixed(1) + " ms at +" + (e.startTime - performance.getEntriesByName("bench:action")[0].startTime).toFixed(0)).join(", ")`); o != "" {
				b.Logf("%-30s   meanwhile: %s", "", o)
			}
			if tr != nil {
				b.Logf("trace: %s", frameReport(tr.stop(), "bench:action", 14))
			}
		}
		// The periodic work (charts, session panel, board) at this size.
		eval[bool](p, `(performance.clearMeasures(), true)`)
		for i := 0; i < 20; i++ {
			ps.post(b, scaleEvent(sessA, total+100+i))
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(2500 * time.Millisecond)
		for _, m := range []string{"mpm:stats", "mpm:panel", "mpm:board"} {
			xs := p.measures(m)
			b.Logf("periodic %-10s %3d runs: p50 %.1f ms, max %.1f ms", m, len(xs), pct(xs, 0.5), maxOf(xs))
		}
		idle := eval[float64](p, `new Promise((done) => { const t0 = performance.now(); let i = 0; const f = () => { if (++i > 60) { done(performance.now() - t0); return; } requestAnimationFrame(f); }; requestAnimationFrame(f); })`, awaitPromise())
		b.Logf("idle page: %.1f ms a frame", idle/60)
	}
}

// BenchmarkFeltLatency: mpm-hook started with a prompt → its text in the
// dashboard's DOM, one event at a time on an idle page (b.N samples).
//
// The clocks: the benchmark's monotonic clock (time.Since(base)) for the
// hook's start and exit; the page's performance.now() for the WebSocket
// message and the DOM stamp. The offset between the two (both are the
// system's monotonic clock) is measured through CDP: read the Go clock,
// evaluate performance.now() in the page, read the Go clock again; of 50
// such round trips the shortest gives the offset, ± half its length (logged,
// with the offset measured again at the end). The daemon's receive time is
// the event's "received" (wall clock), placed on the same line through the
// wall reading taken with base.
func BenchmarkFeltLatency(b *testing.B) {
	d := testutil.StartDaemon(b)
	tok := d.Token()
	hook := testutil.Binary(b, "mpm-hook")
	env := append(os.Environ(), paths.EnvAddr+"="+d.Addr, paths.EnvDataDir+"="+d.DataDir)
	p := newPage(b, d)
	p.addScript(perfScript)
	p.navigate(dashURL(d, "", tok))
	p.waitFor("live", `document.body.dataset.live === "1"`, 30*time.Second)

	base := time.Now()
	mono := func() float64 { return float64(time.Since(base).Nanoseconds()) / 1e6 }
	calibrate := func() (offset, halfRTT float64) {
		best := math.Inf(1)
		for i := 0; i < 50; i++ {
			a := mono()
			v := eval[float64](p, `performance.now()`)
			c := mono()
			if c-a < best {
				best = c - a
				offset = (a+c)/2 - v
			}
		}
		return offset, best / 2
	}

	run := func(i int) (startMs, exitMs float64) {
		ev := hookEvent(sessA, "UserPromptSubmit", map[string]any{"prompt": fmt.Sprintf("felt-%d-x: run the tests again", i)})
		body, _ := json.Marshal(ev)
		r, w, err := os.Pipe()
		if err != nil {
			b.Fatal(err)
		}
		w.Write(body) // fits the pipe: the hook finds its whole input at start
		w.Close()
		cmd := exec.Command(hook)
		cmd.Env = env
		cmd.Stdin = r
		startMs = mono()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		r.Close()
		if err := cmd.Wait(); err != nil {
			b.Fatalf("mpm-hook: %v", err)
		}
		return startMs, mono()
	}
	// Warm up: the binary in the page cache, the page's code paths compiled.
	for i := 0; i < 10; i++ {
		run(1000000 + i)
	}
	p.waitFor("warm-up shown", `window.__bench.dom["1000009"] !== undefined`, 10*time.Second)
	off1, err1 := calibrate()

	starts := make([]float64, b.N)
	exits := make([]float64, b.N)
	eval[bool](p, `(performance.clearMeasures(), true)`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		starts[i], exits[i] = run(i)
		p.waitFor("felt", fmt.Sprintf(`window.__bench.dom["%d"] !== undefined`, i), 10*time.Second)
		time.Sleep(time.Duration(20+i%4*10) * time.Millisecond) // an idle page between events, off the frame grid
	}
	b.StopTimer()
	off2, err2 := calibrate()
	offset := (off1 + off2) / 2

	stamps := eval[map[string]map[string]float64](p, `({ws: window.__bench.ws, dom: window.__bench.dom})`)
	recv := receivedTimes(b, d, tok, base)
	var total, hookProc, toRecv, recvToWS, page []float64
	for i := 0; i < b.N; i++ {
		k := strconv.Itoa(i)
		dom, ws := stamps["dom"][k]+offset, stamps["ws"][k]+offset
		total = append(total, dom-starts[i])
		hookProc = append(hookProc, exits[i]-starts[i])
		page = append(page, dom-ws)
		if rv, ok := recv[k]; ok {
			toRecv = append(toRecv, rv-starts[i])
			recvToWS = append(recvToWS, ws-rv)
		}
	}
	b.Logf("clocks: page→benchmark offset %.3f ms ± %.3f at the start, %.3f ms ± %.3f at the end (drift %.3f ms)", off1, err1, off2, err2, off2-off1)
	row := func(name string, xs []float64) {
		b.Logf("%-42s p50 %6.2f ms  p90 %6.2f ms  p99 %6.2f ms  max %6.2f ms", name, pct(xs, 0.5), pct(xs, 0.9), pct(xs, 0.99), maxOf(xs))
	}
	b.Logf("%d events, one at a time (20–50 ms apart):", b.N)
	row("hook start → text in the DOM (felt)", total)
	row("  hook start → daemon received", toRecv)
	row("  daemon received → WebSocket message", recvToWS)
	row("  WebSocket message → text in the DOM", page)
	row("  (hook start → hook exited)", hookProc)
	for _, m := range []string{"mpm:parse", "mpm:batch", "mpm:render"} {
		xs := p.measures(m)
		b.Logf("  page measure %-10s %4d×: p50 %.2f ms, p99 %.2f ms", m, len(xs), pct(xs, 0.5), pct(xs, 0.99))
	}
	b.ReportMetric(pct(total, 0.5), "p50-ms")
	b.ReportMetric(pct(total, 0.99), "p99-ms")
	b.ReportMetric(pct(page, 0.5), "page-p50-ms")
}

// receivedTimes maps felt marker → the daemon's receive time on the
// benchmark's monotonic line (ms since base, through the wall clock).
func receivedTimes(tb testing.TB, d *testutil.Daemon, tok string, base time.Time) map[string]float64 {
	out := map[string]float64{}
	since := 0
	for {
		req, _ := http.NewRequest(http.MethodGet, d.URL(fmt.Sprintf("/v1/events?since=%d&limit=1000", since)), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			tb.Fatalf("history: %v", err)
		}
		var page struct {
			Events []struct {
				Seq      int       `json:"seq"`
				Received time.Time `json:"received"`
				Payload  struct {
					Prompt string `json:"prompt"`
				} `json:"payload"`
			} `json:"events"`
			NextSince int `json:"next_since"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			tb.Fatalf("history: %v", err)
		}
		for _, e := range page.Events {
			if rest, ok := strings.CutPrefix(e.Payload.Prompt, "felt-"); ok {
				if n, _, ok := strings.Cut(rest, "-x"); ok {
					out[n] = float64(e.Received.Sub(base).Nanoseconds()) / 1e6
				}
			}
		}
		if len(page.Events) == 0 || page.NextSince <= since {
			return out
		}
		since = page.NextSince
	}
}

// cdpEmpty is the parameters of a CDP command that takes none.
type cdpEmpty = cdp.Empty

// profile starts (on) or stops V8's sampling profiler in the tab; stopping
// logs the functions with the most self time.
func (p *page) profile(on bool) {
	p.t.Helper()
	err := chromedp.Do(p.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if on {
			if _, err := chromedp.Call(ctx, profiler.Enable, cdpEmpty{}); err != nil {
				return err
			}
			if _, err := chromedp.Call(ctx, profiler.SetSamplingInterval, profiler.SetSamplingIntervalParams{Interval: 200}); err != nil {
				return err
			}
			_, err := chromedp.Call(ctx, profiler.Start, cdpEmpty{})
			return err
		}
		r, err := chromedp.Call(ctx, profiler.Stop, cdpEmpty{})
		if err != nil || r.Profile == nil {
			return err
		}
		prof := r.Profile
		span := (prof.EndTime - prof.StartTime) / 1000
		hits := int64(0)
		self := map[string]int64{}
		for _, n := range prof.Nodes {
			f := n.CallFrame
			name := fmt.Sprintf("%s %s:%d", f.FunctionName, f.URL[strings.LastIndex(f.URL, "/")+1:], f.LineNumber+1)
			self[name] += n.HitCount
			hits += n.HitCount
		}
		names := make([]string, 0, len(self))
		for k := range self {
			names = append(names, k)
		}
		slices.SortFunc(names, func(a, b string) int { return int(self[b] - self[a]) })
		var out []string
		for _, k := range names[:min(25, len(names))] {
			out = append(out, fmt.Sprintf("%5.0f ms %s", float64(self[k])/float64(hits)*span, k))
		}
		p.t.Logf("profile, %.0f ms, self time:\n%s", span, strings.Join(out, "\n"))
		return nil
	}))
	if err != nil {
		p.t.Fatalf("profile: %v", err)
	}
}
