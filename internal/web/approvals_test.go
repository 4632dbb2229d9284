package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// permissionRequest is a PermissionRequest whose hook waits for an answer
// from mpm.
func permissionRequest(session, command string) map[string]any {
	return hookEvent(session, "PermissionRequest", map[string]any{
		"tool_name": "Bash", "tool_input": map[string]any{"command": command},
		"permission_suggestions": []any{
			map[string]any{"type": "addRules", "rules": []any{map[string]any{"toolName": "Bash", "ruleContent": command}}, "behavior": "allow", "destination": "localSettings"},
		},
	})
}

// journaled returns the MpmApprovalDecision payloads in the daemon's history.
func journaled(t *testing.T, d *testutil.Daemon, tok string) []map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", d.URL("/v1/events?since=0"), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var page struct {
		Events []struct {
			Event   string          `json:"event"`
			Payload json.RawMessage `json:"payload"`
		} `json:"events"`
	}
	json.Unmarshal(b, &page)
	var out []map[string]any
	for _, ev := range page.Events {
		if ev.Event == protocol.EventApprovalDecision {
			var m map[string]any
			json.Unmarshal(ev.Payload, &m)
			out = append(out, m)
		}
	}
	return out
}

// TestDashboardApprovals answers permission requests from the page: the
// card shows the command, cwd and session; y allows, a typed message and
// Deny deny, "Always allow" applies a suggestion, and a request answered
// elsewhere says so and by whom. Each decision is journaled as the
// dashboard's.
func TestDashboardApprovals(t *testing.T) {
	d := testutil.StartDaemon(t)
	tok := d.Token()
	wait := map[string]string{protocol.HeaderApprovalWait: "120"}
	p := newPage(t, d)
	p.navigate(dashURL(d, "", tok))
	p.waitFor("connected", `document.body.dataset.conn === "connected" && document.body.dataset.live === "1"`, 15*time.Second)
	if !eval[bool](p, `document.getElementById("approvals").hidden`) {
		t.Error("the permission requests section shows with nothing pending")
	}

	card := `document.querySelector(".appr-card:not([data-outcome])")`
	postWith(t, d, tok, permissionRequest(sessA, "rm -rf build"), wait)
	p.waitFor("the card", card+` !== null`, 10*time.Second)
	txt := eval[string](p, card+`.textContent`)
	for _, want := range []string{"Bash", "rm -rf build", "/home/dev/" + sessA[:4], "session " + sessA[:8], "s left", "Always allow Bash(rm -rf build) (localSettings)"} {
		if !strings.Contains(txt, want) {
			t.Errorf("card %q lacks %q", txt, want)
		}
	}
	if n := eval[string](p, `document.body.dataset.approvals`); n != "1" {
		t.Errorf("data-approvals %q", n)
	}
	// An Edit shows its diff, as the event detail does.
	postWith(t, d, tok, hookEvent(sessB, "PermissionRequest", map[string]any{"tool_name": "Edit",
		"tool_input": map[string]any{"file_path": "/home/dev/proj/main.go", "old_string": "a := 1\n", "new_string": "a := 2\n"}}), wait)
	p.waitFor("the Edit card's diff", `[...document.querySelectorAll(".appr-card")].some(c => c.textContent.includes("main.go") && c.querySelector(".appr-what .added, .appr-what [data-label]"))`, 10*time.Second)
	p.shot("approvals")
	eval[bool](p, `(() => { const c = [...document.querySelectorAll(".appr-card")].find(c => c.textContent.includes("main.go")); c.querySelector(".appr-deny").click(); return true })()`)
	p.waitFor("the Edit denied", `document.querySelector(".appr-card[data-outcome=deny]") !== null`, 10*time.Second)

	// y allows the first card.
	p.press("y", "KeyY", 89)
	p.waitFor("allowed", `document.querySelector(".appr-card[data-outcome=allow]")?.textContent.includes("Allowed by dashboard 127.0.0.1:")`, 10*time.Second)

	// A message, then Deny.
	postWith(t, d, tok, permissionRequest(sessA, "git push --force"), wait)
	p.waitFor("the second card", card+`?.textContent.includes("git push --force")`, 10*time.Second)
	if err := chromedp.Do(p.ctx, chromedp.SendKeys(`.appr-card:not([data-outcome]) .appr-msg`, "use --force-with-lease")); err != nil {
		t.Fatal(err)
	}
	p.click(`.appr-card:not([data-outcome]) .appr-deny`)
	p.waitFor("denied", `[...document.querySelectorAll(".appr-card[data-outcome=deny]")].some(c => c.textContent.includes("use --force-with-lease"))`, 10*time.Second)

	// Always allow: the first suggestion.
	postWith(t, d, tok, permissionRequest(sessA, "make test"), wait)
	p.waitFor("the third card", card+`?.textContent.includes("make test")`, 10*time.Second)
	eval[bool](p, `(() => { const s = document.querySelector(".appr-card:not([data-outcome]) .appr-always"); s.value = "0"; s.dispatchEvent(new Event("change")); return true })()`)
	p.waitFor("always allowed", `[...document.querySelectorAll(".appr-card[data-outcome=allow]")].some(c => c.textContent.includes("make test"))`, 10*time.Second)

	// Answered elsewhere (mpm-monitor): the card says by whom.
	resp := postRaw(t, d, tok, permissionRequest(sessA, "ls"), wait)
	id := resp.Header.Get(protocol.HeaderApprovalID)
	p.waitFor("the fourth card", card+`?.textContent.includes("ls")`, 10*time.Second)
	req, _ := http.NewRequest("POST", d.URL("/v1/approvals/"+id), strings.NewReader(`{"decision":"deny"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set(protocol.HeaderClient, "monitor")
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 200 {
		t.Fatalf("deny from elsewhere: %v %v", r, err)
	}
	p.waitFor("resolved elsewhere", `[...document.querySelectorAll(".appr-card[data-outcome=deny]")].some(c => c.textContent.includes("Denied by monitor 127.0.0.1:"))`, 10*time.Second)

	j := journaled(t, d, tok)
	// (j[0] is the Edit, denied without a message.)
	if len(j) != 5 || j[0]["outcome"] != "deny" || j[1]["outcome"] != "allow" || j[2]["outcome"] != "deny" || j[2]["message"] != "use --force-with-lease" ||
		j[3]["suggestion"] != 0.0 || !strings.HasPrefix(j[1]["by"].(string), "dashboard ") || !strings.HasPrefix(j[4]["by"].(string), "monitor ") {
		t.Errorf("journaled %v", j)
	}
	// The cards go once they have said what happened.
	p.waitFor("the cards gone", `document.getElementById("approvals").hidden`, 15*time.Second)
}

// postRaw posts one hook event and returns the answer.
func postRaw(t *testing.T, d *testutil.Daemon, tok string, ev map[string]any, hdr map[string]string) *http.Response {
	t.Helper()
	body, _ := json.Marshal(ev)
	req, _ := http.NewRequest(http.MethodPost, d.URL("/v1/events"), strings.NewReader(string(body)))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
