package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestDashboardToken: a missing or wrong token is said plainly, with what
// to do; the token typed into the form, or a new #token= pasted into the
// same tab, connects.
func TestDashboardToken(t *testing.T) {
	d := testutil.StartDaemon(t)
	tok := d.Token()
	post(t, d, tok, hookEvent(sessA, "SessionStart", nil))
	p := newPage(t, d)

	authShown := func(title string) string {
		return `document.body.dataset.conn === "auth" && !document.getElementById("auth").hidden && document.getElementById("auth-title").textContent === ` + js(title) +
			` && document.getElementById("auth").textContent.includes("Open the URL printed by mpm-wsd / mpm-verify")`
	}

	p.navigate(dashURL(d, "", ""))
	p.waitFor("token missing", authShown("Token missing"), 10*time.Second)
	if c := eval[string](p, `document.getElementById("conn").textContent`); c != "token missing" {
		t.Errorf("connection badge says %q", c)
	}
	p.shot("token-missing")

	// A new URL with a (wrong) token in the same tab changes only the fragment.
	wrong := strings.Repeat("0", 64)
	p.navigate(dashURL(d, "", wrong))
	p.waitFor("token wrong", authShown("Token wrong"), 10*time.Second)
	if href := eval[string](p, `location.href`); strings.Contains(href, wrong) {
		t.Errorf("wrong token left in the URL: %s", href)
	}
	p.colorScheme("dark")
	p.shot("token-wrong-dark")
	p.colorScheme("light")

	// A fresh load with the wrong token says the same.
	p.navigate(dashURL(d, "x=1", wrong))
	p.waitFor("token wrong after a load", authShown("Token wrong"), 10*time.Second)

	// Typing the right token connects.
	if err := chromedp.Do(p.ctx, chromedp.SendKeys(chromedp.CSS("#auth-token"), tok+"\n")); err != nil {
		t.Fatal(err)
	}
	p.waitFor("connected with the typed token", `document.body.dataset.conn === "connected" && document.body.dataset.count === "1" && document.getElementById("auth").hidden`, 10*time.Second)
	if got := eval[string](p, `sessionStorage.getItem("mpm.token")`); got != tok {
		t.Errorf("typed token not kept for reloads")
	}

	// And a reload keeps working from sessionStorage.
	if err := chromedp.Do(p.ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	p.waitFor("connected after a reload", `document.body.dataset.conn === "connected" && document.body.dataset.count === "1"`, 10*time.Second)
}
