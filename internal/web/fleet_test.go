package web_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/testutil"
	"github.com/mpm-dev/mpm/internal/testutil/natstest"
)

// TestDashboardFleet: on a real fleet hub (mpm-wsd --nats --fleet) fed by two
// real edges, the page shows an origin column, an origin filter and each
// session's origin; on an edge (no origins) none of it appears.
const sessC = "cccc1111-2222-3333-4444-555566667777"

func TestDashboardFleet(t *testing.T) {
	// One Claude config directory for the three daemons (one machine): the
	// edge reads its session's transcript there, the hub never does.
	claudeDir := t.TempDir()
	t.Setenv("CLAUDE_CONFIG_DIR", claudeDir)
	url, _ := natstest.Start(t)
	hub := testutil.StartDaemon(t, "--nats", url, "--fleet", "--origin", "hub")
	edgeA := testutil.StartDaemon(t, "--nats", url, "--origin", "laptop-a")
	edgeB := testutil.StartDaemon(t, "--nats", url, "--origin", "ci-runner-b")
	tokA, tokB := edgeA.Token(), edgeB.Token()
	post(t, edgeA, tokA, hookEvent(sessA, "SessionStart", map[string]any{"source": "startup"}))
	post(t, edgeA, tokA, hookEvent(sessA, "UserPromptSubmit", map[string]any{"prompt": "from laptop a"}))
	post(t, edgeB, tokB, hookEvent(sessB, "SessionStart", map[string]any{"source": "startup"}))
	post(t, edgeB, tokB, hookEvent(sessB, "PreToolUse", map[string]any{"tool_name": "Bash", "tool_use_id": "toolu_b1", "tool_input": map[string]any{"command": "make"}}))
	post(t, edgeB, tokB, hookEvent(sessB, "Stop", nil))

	p := newPage(t, hub)
	p.navigate(dashURL(hub, "", hub.Token()))
	p.waitFor("the hub's 5 events", `document.body.dataset.conn === "connected" && document.body.dataset.count === "5"`, 30*time.Second)
	p.waitFor("fleet mode on the page", `document.body.dataset.fleet === "1" && !document.getElementById("origin-filter").hidden`, 5*time.Second)
	if d := eval[string](p, `getComputedStyle(document.querySelector(".list-head .origin")).display`); d == "none" {
		t.Error("the origin column head is hidden on a fleet hub")
	}
	rowOrigins := `[...document.querySelectorAll("#list .row .line")].map(l => l.querySelector(".origin").textContent + "/" + l.querySelector(".sess").textContent).sort().join(",")`
	p.waitFor("rows with origin/session", rowOrigins+` === "ci-runner-b/bbbb1111,ci-runner-b/bbbb1111,ci-runner-b/bbbb1111,laptop-a/aaaa1111,laptop-a/aaaa1111"`, 5*time.Second)
	p.waitFor("the origin options", `[...document.getElementById("origin-filter").options].map(o => o.value).join(",") === ",ci-runner-b,laptop-a"`, 5*time.Second)

	// Filter by origin: only laptop-a's events; then all again.
	setOrigin := func(v string) {
		eval[bool](p, `(() => { const s = document.getElementById("origin-filter"); s.value = `+js(v)+`; s.dispatchEvent(new Event("change")); return true })()`)
	}
	setOrigin("laptop-a")
	p.waitFor("laptop-a's 2 events shown", `document.body.dataset.shown === "2" && `+rowOrigins+` === "laptop-a/aaaa1111,laptop-a/aaaa1111"`, 5*time.Second)
	// A live event from the other origin stays hidden; one from laptop-a shows.
	post(t, edgeB, tokB, hookEvent(sessB, "Notification", map[string]any{"message": "b waits"}))
	post(t, edgeA, tokA, hookEvent(sessA, "Stop", nil))
	p.waitFor("7 events, 3 shown", `document.body.dataset.count === "7" && document.body.dataset.shown === "3"`, 30*time.Second)
	p.shot("fleet-filtered")
	setOrigin("")
	p.waitFor("all 7 shown", `document.body.dataset.shown === "7"`, 5*time.Second)
	p.click("#clear-filters")

	// The sessions panel names each session's origin, and keeps it after
	// /v1/sessions (which does not carry it) is merged: a new session makes
	// the page fetch it, and a SessionEnd's reason comes only from there.
	sorigin := func(id string) string {
		return `document.querySelector('#sessions li[data-id="` + id + `"] .sorigin')?.textContent`
	}
	p.waitFor("session origins", sorigin(sessA)+` === "laptop-a" && `+sorigin(sessB)+` === "ci-runner-b"`, 5*time.Second)
	post(t, edgeB, tokB, hookEvent(sessC, "SessionEnd", map[string]any{"reason": "logout"}))
	p.waitFor("the merged session list", `document.querySelector('#sessions li[data-id="`+sessC+`"] .state')?.textContent === "ended (logout)"`, 30*time.Second)
	if got := eval[string](p, sorigin(sessC)); got != "ci-runner-b" {
		t.Errorf("after /v1/sessions the origin is %q", got)
	}
	p.shot("fleet")

	// ?origin= in the URL opens the page filtered to that origin, with the
	// select set; choosing "all origins" takes it out of the URL again.
	o := newPage(t, hub)
	o.navigate(dashURL(hub, "origin=ci-runner-b", hub.Token()))
	o.waitFor("only ci-runner-b's events", `document.body.dataset.conn === "connected" && document.body.dataset.count === "8" && document.body.dataset.shown === "5" && document.getElementById("origin-filter").value === "ci-runner-b"`, 30*time.Second)
	if got := eval[string](o, rowOrigins); strings.Contains(got, "laptop-a") {
		t.Errorf("?origin=ci-runner-b shows other origins: %s", got)
	}
	eval[bool](o, `(() => { const s = document.getElementById("origin-filter"); s.value = ""; s.dispatchEvent(new Event("change")); return true })()`)
	o.waitFor("all 8 shown, the URL without origin", `document.body.dataset.shown === "8" && !location.search.includes("origin")`, 5*time.Second)

	// An edge's page (no origins): no column, no filter, no session badge.
	q := newPage(t, edgeA)
	q.navigate(dashURL(edgeA, "", tokA))
	q.waitFor("the edge's 3 events and its session", `document.body.dataset.conn === "connected" && document.body.dataset.count === "3" && document.querySelector("#list .row .origin") && document.querySelector("#sessions .sorigin")`, 15*time.Second)
	if got := eval[string](q, `JSON.stringify([document.body.dataset.fleet || "", document.getElementById("origin-filter").hidden, getComputedStyle(document.querySelector(".list-head .origin")).display, getComputedStyle(document.querySelector("#list .row .origin")).display, getComputedStyle(document.querySelector("#sessions .sorigin")).display])`); got != `["",true,"none","none","none"]` {
		t.Errorf("single machine page shows origin pieces: %s", got)
	}
	if !strings.Contains(eval[string](q, `document.querySelector(".list-head").textContent`), "session") {
		t.Error("list head lost its session column")
	}

	// Fleet usage and read-only requests on the hub's page: laptop-a's
	// session card shows the cost its edge read from the transcript, and
	// its pending permission request is a card with its origin and no
	// buttons (y does nothing); answered on the edge, the card says so.
	transcript := filepath.Join(claudeDir, "projects", "-home-dev-aaaa", sessA+".jsonl")
	if err := os.MkdirAll(filepath.Dir(transcript), 0o700); err != nil {
		t.Fatal(err)
	}
	fixture, err := os.ReadFile("../usage/testdata/handwritten-cost-state.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(transcript, fixture, 0o600); err != nil {
		t.Fatal(err)
	}
	post(t, edgeA, tokA, hookEvent(sessA, "UserPromptSubmit", map[string]any{"prompt": "what did it cost?", "transcript_path": transcript}))
	cost := `document.querySelector('#sessions li[data-id="` + sessA + `"] .usage')`
	p.waitFor("the remote session's cost on its card", cost+`?.hidden === false && `+cost+`.querySelector(".cost").textContent === "$0.04"`, 30*time.Second)
	// The edge's usage snapshot (MpmUsage) fed that card but is no row and
	// is not counted in "events loaded"; its type chip lists it when
	// picked, and unpicked it goes again.
	usageChip := `document.querySelector('#types .chip[data-type="MpmUsage"]')`
	usageRows := `document.querySelectorAll('#list .row .type[data-type="MpmUsage"]').length`
	rows := `document.querySelectorAll('#list .row:not(.divider)').length`
	p.waitFor("the MpmUsage chip", usageChip+` && Number(`+usageChip+`.querySelector(".ccount").textContent) >= 1`, 30*time.Second)
	if got := eval[string](p, `JSON.stringify([document.body.dataset.count === String(`+rows+`), document.body.dataset.shown === String(`+rows+`), `+usageRows+`])`); got != `[true,true,0]` {
		t.Errorf("count = rows, shown = rows, MpmUsage rows, with no filter: %s, want [true,true,0]: usage snapshots are listed or counted", got)
	}
	shownAll := eval[string](p, `document.body.dataset.shown`)
	eval[bool](p, `(`+usageChip+`.click(), true)`)
	p.waitFor("MpmUsage rows once its chip is picked", usageRows+` >= 1 && document.body.dataset.shown === String(`+usageRows+`)`, 5*time.Second)
	eval[bool](p, `(`+usageChip+`.click(), true)`)
	p.waitFor("no MpmUsage row once unpicked", usageRows+` === 0 && document.body.dataset.shown === "`+shownAll+`"`, 5*time.Second)

	resp := postRaw(t, edgeA, tokA, permissionRequest(sessA, "rm -rf build"), map[string]string{protocol.HeaderApprovalWait: "120"})
	id := resp.Header.Get(protocol.HeaderApprovalID)
	if id == "" {
		t.Fatalf("the edge did not register the request: %s", resp.Header.Get(protocol.HeaderApproval))
	}
	card := `document.querySelector('.appr-card[data-id="` + id + `"]')`
	p.waitFor("the read-only card", card+`?.dataset.readOnly === "1" && `+card+`.textContent.includes("laptop-a") && `+card+`.textContent.includes("rm -rf build")`, 30*time.Second)
	if got := eval[string](p, `JSON.stringify([`+card+`.querySelectorAll(".appr-allow, .appr-deny, .appr-msg, .appr-always").length, `+card+`.querySelector(".appr-readonly").textContent])`); got != `[0,"Answer it on laptop-a: shown here read-only."]` {
		t.Errorf("the read-only card's actions: %s", got)
	}
	p.shot("fleet-approval-readonly")
	p.press("y", "KeyY", 89)
	req, _ := http.NewRequest("POST", edgeA.URL("/v1/approvals/"+id), strings.NewReader(`{"decision":"deny","message":"not from here"}`))
	req.Header.Set("Authorization", "Bearer "+tokA)
	req.Header.Set(protocol.HeaderClient, "monitor")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("deny on the edge: %s (the hub's page answered it?)", r.Status)
	}
	p.waitFor("the card says how the edge ended it", card+`?.dataset.outcome === "deny" && `+card+`.textContent.includes("Denied by monitor")`, 30*time.Second)
	if msg := eval[string](p, card+`.querySelector(".appr-err").textContent`); msg != "" {
		t.Errorf("y tried to answer the read-only request on the hub: %q", msg)
	}
}
