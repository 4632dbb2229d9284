package web_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestListIncremental: the list's view of the held records stays exactly
// "the records that match the filters", in order, while it is kept up to
// date piecemeal: a filter change scanned in slices (events arriving in the
// middle of the scan), records dropped at MAX_RECORDS leaving the front of
// a filtered list (the rows on screen stay put while paused), and a lone
// live event drawn at once, without waiting for an animation frame. The page
// runs with MAX_RECORDS lowered to 300 and slices of 64 records
// (window.__mpmMaxRecords, window.__mpmSliceMs); events are fed to the
// page's own Connection.onEvents, the path WebSocket frames take.
func TestListIncremental(t *testing.T) {
	d := testutil.StartDaemon(t)
	tok := d.Token()
	ps := newPoster(d)
	for i := 0; i < 200; i++ {
		ps.post(t, scaleEvent(sessA, i))
	}
	p := newPage(t, d)
	p.addScript(`window.__mpmMaxRecords = 300; window.__mpmSliceMs = 0;`)
	p.navigate(dashURL(d, "", tok))
	p.waitFor("200 events, live", `document.body.dataset.count === "200" && document.body.dataset.live === "1"`, 20*time.Second)

	res := eval[map[string]any](p, `(async () => {
		const { S } = await import("/js/state.js");
		const { refilter, scanning } = await import("/js/view.js");
		const { matches } = await import("/js/model.js");
		const keys = (a) => a.map((r) => r.key).join(",");
		const want = () => keys(S.model.records.filter((r) => matches(r, S.filter)));
		let seq = 200;
		const batch = (n) => {
			const evs = [];
			for (let i = 0; i < n; i++) {
				seq++;
				const tool = seq % 3 ? "Bash" : "Read";
				evs.push({ seq, received: new Date().toISOString(), session_id: `+js(sessA)+`, event: "PostToolUse", tool, tool_use_id: "x" + seq, payload: { tool_name: tool, tool_response: { stdout: "fed " + seq } } });
			}
			S.conn.onEvents(evs);
		};
		const frame = () => new Promise((r) => requestAnimationFrame(() => r(undefined)));
		// settle: the list has drawn what it was asked to (a scroll event
		// comes a frame after the scroll, and asks for a render then).
		const settle = async () => {
			for (let i = 0; i < 3 || S.list.pending || S.list.dirty; i++) await frame();
		};
		const refiltered = () => new Promise((r) => refilter(() => r(undefined)));
		const out = {};

		// A filter change in slices, with events arriving meanwhile.
		S.filter.tool = "Bash";
		let done = false;
		refilter(() => { done = true; });
		out.sliced = scanning() && !done;
		batch(5);
		while (!done) await new Promise((r) => setTimeout(r, 0));
		out.scanned = keys(S.list.items) === want();
		out.shownAfterScan = S.list.items.length;

		// Past MAX_RECORDS: batches drop records from the front of the
		// filtered list, nothing else moves.
		await settle();
		S.list.setFollow(false);
		const el = S.list.el;
		el.scrollTop = 30 * S.list.rowH;
		await settle();
		out.scrolled = el.scrollTop === 30 * S.list.rowH && !S.list.follow;
		const rowAt = () => {
			const top = el.getBoundingClientRect().top;
			let best = null;
			for (const r of el.querySelectorAll(".row")) {
				const y = r.getBoundingClientRect().top - top;
				if (y >= 0 && (best === null || y < best.y)) best = { y, key: r.dataset.key };
			}
			return best;
		};
		const before = rowAt();
		for (let i = 0; i < 8; i++) batch(25);
		await settle();
		const after = rowAt();
		out.trimmed = S.model.trimmed;
		out.held = S.model.records.length;
		out.afterTrim = keys(S.list.items) === want();
		out.stayed = before !== null && after !== null && before.key === after.key && Math.abs(before.y - after.y) < 2;
		out.before = before && before.key;
		out.after = after && after.key;
		out.noDroppedShown = !S.list.items.some((r) => r.dropped);
		const dom = [...el.querySelectorAll(".row")].map((r) => r.dataset.key);
		out.domUnique = new Set(dom).size === dom.length;
		out.domInView = dom.every((k) => S.list.pos.has(k));
		out.notInView = dom.filter((k) => !S.list.pos.has(k)).join(" ");
		out.y = (before && before.y) + " → " + (after && after.y);

		// Filters off again: every held record.
		S.filter.tool = "";
		await refiltered();
		out.all = keys(S.list.items) === want() && S.list.items.length === S.model.records.length;

		// A lone live event on an idle page is in the DOM as soon as it is
		// handled (no frame in between).
		S.list.setFollow(true);
		out.immediate = false;
		for (let i = 0; i < 3 && !out.immediate; i++) {
			await frame();
			await new Promise((r) => setTimeout(r, 40));
			batch(1);
			out.immediate = !!el.querySelector('.row[data-key="0:' + seq + '"]');
		}
		return out;
	})()`, awaitPromise())
	t.Logf("%v", res)
	for _, k := range []string{"sliced", "scanned", "scrolled", "afterTrim", "stayed", "noDroppedShown", "domUnique", "domInView", "all", "immediate"} {
		if res[k] != true {
			t.Errorf("%s: got %v (all: %v)", k, res[k], res)
		}
	}
	if got := fmt.Sprint(res["held"]); got != "300" {
		t.Errorf("the page holds %s records, want 300 (MAX_RECORDS lowered)", got)
	}
	if got := res["trimmed"].(float64); got < 100 {
		t.Errorf("%v records dropped, want ≥ 100", got)
	}
}

// TestSearchInFrames: a text search over the held records runs in
// animation frames only (no slice in the input's own task, where it came at
// any moment of a frame and the next frame's slice followed at once: frames
// of 20–28 ms at 50,000 records), gives exactly the matching records across
// slices (their search text derived in the slices, not yet in idle time),
// draws those rows, and clearing it (Esc) brings every record back with
// focus on a row. Slices of 64 records (window.__mpmSliceMs = 0).
func TestSearchInFrames(t *testing.T) {
	const n = 400
	p, _ := slicedPage(t, n, "")

	res := eval[map[string]any](p, `(async () => {
		const { S } = await import("/js/state.js");
		const { refilter, scanning } = await import("/js/view.js");
		const { matches } = await import("/js/model.js");
		const keys = (a) => a.map((r) => r.key).join(",");
		const want = () => S.model.records.filter((r) => matches(r, S.filter));
		const frame = () => new Promise((r) => requestAnimationFrame(() => r(undefined)));
		const out = {};
		// The search text not derived yet: the slices derive it.
		for (const r of S.model.records) r.text = undefined;
		const search = document.getElementById("search");
		const q = "/p07/file"; // the calls whose input names a file in p07
		// The box waits 120 ms for more typing, then sets the filter and asks
		// for the scan: at the end of that task (a microtask queued when the
		// filter is set) no slice may have run.
		let val = S.filter.search;
		const taskEnd = new Promise((res) => Object.defineProperty(S.filter, "search", {
			configurable: true,
			get: () => val,
			set: (v) => {
				val = v;
				if (v === q) queueMicrotask(() => res({ inTask: performance.getEntriesByName("mpm:filter-chunk").length, scanning: scanning() }));
			},
		}));
		performance.clearMeasures();
		search.focus();
		search.value = q.toUpperCase(); // the search ignores case
		search.dispatchEvent(new Event("input"));
		const te = await taskEnd;
		out.inTask = te.inTask;
		out.scanningAfterTask = te.scanning;
		delete S.filter.search;
		S.filter.search = val;
		while (scanning()) await frame();
		// refilter itself returns before any slice.
		performance.clearMeasures();
		let done = false;
		refilter(() => { done = true; });
		out.syncSlices = performance.getEntriesByName("mpm:filter-chunk").length;
		out.syncDone = done;
		let frames = 0;
		while (!done) { await frame(); frames++; }
		out.frames = frames;
		out.slices = performance.getEntriesByName("mpm:filter-chunk").length;
		const w = want();
		out.want = w.length;
		out.correct = keys(S.list.items) === keys(w);
		out.allMatch = S.list.items.every((r) => r.text.includes(q));
		out.shown = document.body.dataset.shown;
		for (let i = 0; i < 3 || S.list.pending || S.list.dirty; i++) await frame();
		const rows = [...document.querySelectorAll("#list .row")];
		out.rows = rows.length;
		out.rowsInResult = rows.every((el) => S.list.pos.has(el.dataset.key));
		out.lastRowShown = rows.some((el) => el.dataset.key === w[w.length - 1].key);
		// Esc clears the search: every record, focus on a row.
		search.focus();
		search.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
		out.clearedAtOnce = search.value === "" && S.filter.search === "";
		while (scanning()) await frame();
		for (let i = 0; i < 3 || S.list.pending || S.list.dirty; i++) await frame();
		out.restored = keys(S.list.items) === keys(want()) && S.list.items.length === S.model.records.length;
		out.shownAfter = document.body.dataset.shown;
		out.focusOnRow = document.activeElement.matches("#list .row");
		return out;
	})()`, awaitPromise())
	t.Logf("%v", res)
	for k, want := range map[string]any{"inTask": 0.0, "scanningAfterTask": true, "syncSlices": 0.0, "syncDone": false, "correct": true, "allMatch": true, "rowsInResult": true, "lastRowShown": true, "clearedAtOnce": true, "restored": true, "focusOnRow": true} {
		if res[k] != want {
			t.Errorf("%s: got %v, want %v (all: %v)", k, res[k], want, res)
		}
	}
	// 400 records in slices of 64: at least 7 slices, one a frame.
	if s, f := res["slices"].(float64), res["frames"].(float64); s < 7 || f < s {
		t.Errorf("%v slices in %v frames, want ≥ 7 slices, one a frame", s, f)
	}
	if w := res["want"].(float64); w < 2 || w > n/2 || fmt.Sprint(res["shown"]) != fmt.Sprint(w) || res["rows"].(float64) != w {
		t.Errorf("%v records match, %v shown, %v rows: want a few, all shown and drawn", w, res["shown"], res["rows"])
	}
	if fmt.Sprint(res["shownAfter"]) != fmt.Sprint(n) {
		t.Errorf("after Esc %v shown, want %d", res["shownAfter"], n)
	}
}

// TestFilterSetAndClear: a type or tool filter set and cleared over records
// scanned in many slices shows exactly the matching records, in order, and
// clearing restores every record with the last rows drawn. The scan and the
// incoming events read a copy of S.filter taken when the scan began
// (view.js, viewFilter: V8 threw the scan's optimized code away mid-scan
// when S.filter's fields were first assigned), so a change of S.filter that
// has not asked for a scan yet does not leak into one under way.
func TestFilterSetAndClear(t *testing.T) {
	const n = 400
	// __mpmRenderMs = 0: a scan's rows are drawn in the frame after it
	// ends, as on a busy machine.
	p, ps := slicedPage(t, n, `window.__mpmRenderMs = 0;`)
	p.waitFor("the type chips", `document.querySelector('#types .chip[data-type="PreToolUse"]')`, 20*time.Second)

	steps := []struct{ name, action, want string }{
		{"type filter", `document.querySelector('#types .chip[data-type="PostToolUse"]').click()`, `(r) => !r.ev || r.ev.event === "PostToolUse"`},
		{"clear filters", `document.getElementById("clear-filters").click()`, `(r) => true`},
		{"tool filter", `(() => { const s = document.getElementById("tool-filter"); s.value = "Bash"; s.dispatchEvent(new Event("change")); })()`, `(r) => !r.ev || r.ev.tool === "Bash"`},
		{"type filter too", `document.querySelector('#types .chip[data-type="PreToolUse"]').click()`, `(r) => !r.ev || r.ev.tool === "Bash" && r.ev.event === "PreToolUse"`},
		{"clear filters again", `document.getElementById("clear-filters").click()`, `(r) => true`},
	}
	for _, s := range steps {
		res := eval[map[string]any](p, `(async () => {
			const { S } = await import("/js/state.js");
			const { scanning, viewFilter } = await import("/js/view.js");
			const frame = () => new Promise((r) => requestAnimationFrame(() => r(undefined)));
			const keys = (a) => a.map((r) => r.key).join(",");
			const want = S.model.records.filter(`+s.want+`);
			performance.clearMeasures();
			// Whenever the page says how many records it shows, their rows
			// are drawn (a script that waits for the count then finds them).
			const early = [];
			const mo = new MutationObserver(() => {
				const fresh = [...document.querySelectorAll("#list .row")].filter((el) => !el.dataset.stale);
				if (Number(document.body.dataset.shown) !== S.list.items.length || (S.list.items.length > 0 && fresh.length === 0))
					early.push(document.body.dataset.shown + " shown, " + fresh.length + " rows drawn");
			});
			mo.observe(document.body, { attributes: true, attributeFilter: ["data-shown"] });
			`+s.action+`;
			const out = { scanning: scanning() };
			// Changed without asking for a scan: the scan under way does not see it.
			S.filter.types.add("UserPromptSubmit");
			await frame();
			S.filter.types.delete("UserPromptSubmit");
			out.copy = typeof viewFilter === "function" && viewFilter() !== S.filter && !viewFilter().types.has("UserPromptSubmit");
			while (scanning()) await frame();
			for (let i = 0; i < 3 || S.list.pending || S.list.dirty; i++) await frame();
			out.slices = performance.getEntriesByName("mpm:filter-chunk").length;
			out.want = want.length;
			out.correct = keys(S.list.items) === keys(want);
			out.shown = Number(document.body.dataset.shown);
			const rows = [...document.querySelectorAll("#list .row")];
			out.rows = rows.length;
			out.rowsInList = rows.length > 0 && rows.every((el) => S.list.pos.has(el.dataset.key));
			out.lastDrawn = rows.some((el) => el.dataset.key === want[want.length - 1].key);
			mo.disconnect();
			out.shownBeforeDrawn = early.join("; ");
			return out;
		})()`, awaitPromise())
		t.Logf("%s: %v", s.name, res)
		for k, w := range map[string]any{"scanning": true, "copy": true, "correct": true, "rowsInList": true, "lastDrawn": true, "shownBeforeDrawn": ""} {
			if res[k] != w {
				t.Errorf("%s: %s = %v, want %v (all: %v)", s.name, k, res[k], w, res)
			}
		}
		if res["shown"] != res["want"] || res["slices"].(float64) < 6 {
			t.Errorf("%s: %v shown of %v wanted in %v slices: want all shown, in ≥ 6 slices (400 records, 64 a slice)", s.name, res["shown"], res["want"], res["slices"])
		}
	}
	if got := eval[string](p, `document.body.dataset.shown`); got != fmt.Sprint(n) {
		t.Errorf("after clearing, %s shown, want all %d", got, n)
	}

	// The periodic work (board and session panel every second, charts)
	// waits while a filter change is scanned and its rows drawn: scans
	// started again and again for 1.5 s keep it waiting; it runs after.
	res := eval[map[string]any](p, `(async () => {
		const { refilter, filterBusy } = await import("/js/view.js");
		const frame = () => new Promise((r) => requestAnimationFrame(() => r(undefined)));
		performance.clearMeasures();
		const t0 = performance.now();
		let busyAll = true;
		while (performance.now() - t0 < 1500) {
			refilter();
			await frame();
			busyAll = busyAll && filterBusy();
		}
		const t1 = performance.now();
		const during = performance.getEntriesByName("mpm:panel").filter((e) => e.startTime >= t0 && e.startTime < t1).length;
		while (performance.getEntriesByName("mpm:panel").length === 0 && performance.now() - t1 < 5000) await frame();
		const after = performance.getEntriesByName("mpm:panel").filter((e) => e.startTime >= t1);
		return { busyAll, during, after: after.length, notBusyAfter: !filterBusy() };
	})()`, awaitPromise())
	t.Logf("periodic work: %v", res)
	if res["busyAll"] != true || res["during"] != 0.0 || res["after"].(float64) < 1 || res["notBusyAfter"] != true {
		t.Errorf("the session panel ran %v times while filters were scanned (want 0; busy throughout: %v), %v times after (want ≥ 1), busy after: %v", res["during"], res["busyAll"], res["after"], !res["notBusyAfter"].(bool))
	}

	// An incoming event is filtered with the filter the list shows.
	eval[bool](p, `(document.querySelector('#types .chip[data-type="PostToolUse"]').click(), true)`)
	p.waitFor("filtered", `!document.querySelector('#list .row[data-key="0:1"]') && document.body.dataset.shown !== "`+fmt.Sprint(n)+`"`, 10*time.Second)
	ps.post(t, scaleEvent(sessA, n+2)) // a PreToolUse (seq n+1): not shown
	ps.post(t, scaleEvent(sessA, n+3)) // its PostToolUse (seq n+2): shown
	p.waitFor("the PostToolUse shown", fmt.Sprintf(`document.body.dataset.count === "%d" && document.querySelector('#list .row[data-key="0:%d"]')`, n+2, n+2), 10*time.Second)
	if eval[bool](p, fmt.Sprintf(`(async () => { const { S } = await import("/js/state.js"); return S.list.pos.has("0:%d"); })()`, n+1), awaitPromise()) {
		t.Errorf("the PreToolUse is shown under a PostToolUse filter")
	}
}

// slicedPage opens the dashboard on a daemon holding n events of one
// session, with the filter scanned in slices of 64 records
// (__mpmSliceMs = 0) and the page's measures on, plus script; it returns
// once every event is loaded and the page is live, with the poster that
// posted them.
func slicedPage(t *testing.T, n int, script string) (*page, *poster) {
	t.Helper()
	d := testutil.StartDaemon(t)
	ps := newPoster(d)
	for i := 0; i < n; i++ {
		ps.post(t, scaleEvent(sessA, i))
	}
	p := newPage(t, d)
	p.addScript(`window.__mpmPerf = true; window.__mpmSliceMs = 0;` + script)
	p.navigate(dashURL(d, "", d.Token()))
	p.waitFor("events, live", fmt.Sprintf(`document.body.dataset.count === "%d" && document.body.dataset.live === "1"`, n), 20*time.Second)
	return p, ps
}
