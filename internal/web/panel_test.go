package web_test

import (
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestPanelIncremental: the session panel kept up to date (its tree grown by
// the records that came, the rows of calls it drew before reused) shows
// exactly what a panel built from all records shows: after batches of new
// calls and their results, after records dropped at MAX_RECORDS (lowered to
// 400 here), with a subagent, after a filter change, and after switching to
// another session. Events are fed to the page's own Connection.onEvents, the
// path WebSocket frames take.
func TestPanelIncremental(t *testing.T) {
	d := testutil.StartDaemon(t)
	tok := d.Token()
	ps := newPoster(d)
	for i := 0; i < 120; i++ {
		ps.post(t, scaleEvent(sessA, i))
	}
	for i := 0; i < 10; i++ {
		ps.post(t, scaleEvent(sessB, i))
	}
	p := newPage(t, d)
	p.addScript(`window.__mpmMaxRecords = 400;`)
	p.navigate(dashURL(d, "", tok))
	p.waitFor("130 events, live", `document.body.dataset.count === "130" && document.body.dataset.live === "1"`, 20*time.Second)
	p.click(`#sessions li[data-id="` + sessA + `"] .proj`)
	p.waitFor("session A's tree", `document.body.dataset.live === "1" && document.querySelectorAll("#focus details.agentnode").length === 1`, 10*time.Second)

	// compare renders the panel as the page keeps it, then from scratch
	// (board.js resetPanel), and says where they differ; reused counts the
	// rows of the first render that were already in the page before.
	const lib = `
		const { S } = await import("/js/state.js");
		const { renderPanel, resetPanel } = await import("/js/board.js");
		const { refilter } = await import("/js/view.js");
		const box = document.getElementById("focus");
		const snap = () => [...box.querySelectorAll("details.agentnode")].map((d) =>
			[d.dataset.agent, d.open, d.querySelector("summary").textContent,
			 ...[...d.querySelectorAll("li")].map((li) => { const c = li.querySelector(".call"); return li.textContent.replace(/ running.*$/, " running") + (c ? "|" + c.dataset.state + "|" + (c.dataset.running || "") + "|" + li.querySelector(".calllink").title : ""); })].join("\n")).join("\n\n");
		const compare = (what, out) => {
			for (const li of box.querySelectorAll("li")) li.__before = true;
			renderPanel();
			const lis = [...box.querySelectorAll("li")];
			out[what + " reused"] = lis.filter((li) => li.__before).length;
			out[what + " rows"] = lis.length;
			const kept = snap();
			resetPanel();
			renderPanel();
			const full = snap();
			if (kept !== full) out[what + " differs"] = kept + "\n---- a full build:\n" + full;
		};
		let seq = 100000;
		const ev = (session, event, payload) => ({ seq: ++seq, received: new Date(Date.now() - 60000 + seq % 1000).toISOString(), session_id: session, event, tool: payload.tool_name, tool_use_id: payload.tool_use_id, payload });
		const call = (session, n, agent, post) => {
			const p = { tool_name: ["Bash", "Read"][n % 2], tool_use_id: "live" + n, tool_input: { command: "step " + n, file_path: "/f" + n }, agent_id: agent };
			return post ? ev(session, "PostToolUse", { ...p, tool_response: { stdout: "ok" } }) : ev(session, "PreToolUse", p);
		};
	`
	res := eval[map[string]any](p, `(async () => {`+lib+`
		const out = {};
		compare("start", out);
		const A = `+js(sessA)+`, B = `+js(sessB)+`;
		// New calls, running; then their results, one batch at a time.
		S.conn.onEvents([call(A, 1, undefined, false), call(A, 2, undefined, false), call(B, 3, undefined, false)]);
		compare("new calls", out);
		S.conn.onEvents([call(A, 1, undefined, true)]);
		compare("a result", out);
		// A subagent with calls of its own.
		S.conn.onEvents([ev(A, "SubagentStart", { agent_id: "agent0001", agent_type: "Explore" }), call(A, 4, "agent0001", false), call(A, 4, "agent0001", true)]);
		compare("a subagent", out);
		// Past MAX_RECORDS (400): batches drop the oldest records, a call's
		// PreToolUse may leave before its result, the subagent's start too.
		for (let i = 0; i < 40; i++) {
			const evs = [];
			for (let j = 0; j < 10; j++) {
				const n = 10 + i * 10 + j;
				evs.push(call(A, n, n % 7 ? undefined : "agent0001", false));
				if (j % 3) evs.push(call(A, n - 1, (n - 1) % 7 ? undefined : "agent0001", true));
			}
			S.conn.onEvents(evs);
			compare("trim " + i, out);
		}
		out.trimmed = S.model.trimmed;
		// A filter change: the panel is the session's, whatever is listed.
		S.filter.tool = "Bash";
		await new Promise((r) => refilter(() => r(undefined)));
		S.conn.onEvents([call(A, 9001, undefined, false)]);
		compare("filtered", out);
		S.filter.tool = "";
		await new Promise((r) => refilter(() => r(undefined)));
		return out;
	})()`, awaitPromise())
	for k, v := range res {
		if len(k) > 8 && k[len(k)-8:] == " differs" {
			t.Errorf("%s:\n%v", k, v)
		}
	}
	if n, _ := res["trimmed"].(float64); n < 300 {
		t.Errorf("only %v records dropped at MAX_RECORDS: the trims were not exercised", res["trimmed"])
	}
	// Rows are reused: a batch of a few calls redraws the rows it changed.
	for _, k := range []string{"a result", "trim 20", "trim 39"} {
		reused, _ := res[k+" reused"].(float64)
		rows, _ := res[k+" rows"].(float64)
		if rows < 10 || reused < rows-25 {
			t.Errorf("%s: %v of %v rows reused", k, reused, rows)
		}
	}

	// Another session: its own tree, the same kept as built.
	p.click("#sess-all")
	p.waitFor("all sessions again", `document.body.dataset.live === "1" && document.querySelectorAll("#sessions li.session.selected").length === 0`, 10*time.Second)
	p.click(`#sessions li[data-id="` + sessB + `"] .proj`)
	p.waitFor("session B's tree", `document.body.dataset.live === "1" && document.getElementById("focus-h").textContent.startsWith("Session `+sessB[:8]+`")`, 10*time.Second)
	res = eval[map[string]any](p, `(async () => {`+lib+`
		const out = {};
		compare("session B", out);
		S.conn.onEvents([call(`+js(sessB)+`, 7001, undefined, false), call(`+js(sessA)+`, 7002, undefined, false)]);
		compare("session B, new call", out);
		out.rowsB = box.querySelectorAll(".calllink").length;
		return out;
	})()`, awaitPromise())
	for k, v := range res {
		if len(k) > 8 && k[len(k)-8:] == " differs" {
			t.Errorf("%s:\n%v", k, v)
		}
	}
	if n, _ := res["rowsB"].(float64); n < 5 {
		t.Errorf("session B's panel lists %v calls", res["rowsB"])
	}
}
