package web_test

// Browser tests: the dashboard in a real Chromium (Debian's, driven with
// chromedp) against a real mpm-wsd. Without /usr/bin/chromium they skip,
// unless MPM_REQUIRE_BROWSER=1 (CI), where they fail. Screenshots go to
// $MPM_TEST_OUT/web, or testout/web at the repository root.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// chromiumPath is the browser the tests drive (MPM_CHROMIUM overrides).
func chromiumPath(t testing.TB) string {
	t.Helper()
	p := os.Getenv("MPM_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("MPM_REQUIRE_BROWSER") == "1" {
			t.Fatalf("MPM_REQUIRE_BROWSER=1 but no browser at %s: apt-get install -y chromium", p)
		}
		t.Skipf("no browser at %s (apt-get install -y chromium, or set MPM_CHROMIUM): skipping browser tests", p)
	}
	return p
}

// outDir is where screenshots go; it is created on demand.
func outDir(t testing.TB) string {
	t.Helper()
	base := os.Getenv("MPM_TEST_OUT")
	if base == "" {
		base = filepath.Join(testutil.ModuleRoot(t), "testout")
	}
	dir := filepath.Join(base, "web")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// page is one browser tab on the dashboard.
type page struct {
	t   testing.TB
	ctx context.Context
	d   *testutil.Daemon

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// The browser is started once per test binary (it takes seconds on a busy
// machine) with a fresh user-data dir; each test gets its own tab, so its
// own sessionStorage.
var (
	browserMu     sync.Mutex
	browserCtx    context.Context
	browserCancel func()
	browserDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	browserMu.Lock()
	if browserCancel != nil {
		browserCancel()
	}
	if browserDir != "" {
		// Chromium's children may still write for a moment after it exits.
		for i := 0; i < 50 && os.RemoveAll(browserDir) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	}
	browserMu.Unlock()
	os.Exit(code)
}

// browser returns the shared browser context, starting Chromium if needed.
func browser(t testing.TB) context.Context {
	t.Helper()
	exe := chromiumPath(t)
	browserMu.Lock()
	defer browserMu.Unlock()
	if browserCtx != nil {
		return browserCtx
	}
	dir, err := os.MkdirTemp("", "mpm-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 800),
	}
	// MPM_BENCH_JS_FLAGS passes V8 flags to the browser (for the benchmarks:
	// "--trace-deopt --trace-generalization" says which code V8 throws away
	// and why); the browser's output goes to the file MPM_BENCH_BROWSER_LOG.
	if f := os.Getenv("MPM_BENCH_JS_FLAGS"); f != "" {
		opts = append(opts, chromedp.Flag("js-flags", f))
		if lp := os.Getenv("MPM_BENCH_BROWSER_LOG"); lp != "" {
			lf, err := os.Create(lp)
			if err != nil {
				t.Fatalf("MPM_BENCH_BROWSER_LOG: %v", err)
			}
			opts = append(opts, chromedp.CombinedOutput(lf))
		}
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		cancelB()
		cancelA()
		os.RemoveAll(dir)
		t.Fatalf("start %s: %v", exe, err)
	}
	browserCtx, browserDir = bctx, dir
	browserCancel = func() {
		cancelB()
		cancelA()
	}
	return browserCtx
}

// newPage opens a new tab in the shared browser.
func newPage(t testing.TB, d *testutil.Daemon) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser(t))
	t.Cleanup(cancel)
	p := &page{t: t, ctx: ctx, d: d}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m)
			p.mu.Unlock()
		}
	}()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	t.Cleanup(p.checkConsole)
	return p
}

// checkConsole fails the test on an uncaught exception, a console.error, or
// a CSP violation. Network errors (a refused token, a stopped daemon) are
// expected in some tests and are only logged.
func (p *page) checkConsole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.console {
		switch {
		case m.IsException():
			p.t.Errorf("page exception: %s", m.String())
		case m.Source == "security" || strings.Contains(m.Text, "Content Security Policy"):
			p.t.Errorf("CSP violation: %s", m.Text)
		case m.Type == "error" && m.Source == "":
			p.t.Errorf("console.error: %s", m.Text)
		case m.Type == "error" || m.Type == "warning":
			p.t.Logf("browser %s (%s): %s", m.Type, m.Source, m.Text)
		}
	}
}

func (p *page) navigate(url string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.Navigate(url)); err != nil {
		p.t.Fatalf("navigate %s: %v", url, err)
	}
}

// awaitPromise makes eval wait for the promise the expression returns.
func awaitPromise() chromedp.EvaluateOption { return chromedp.EvalAwaitPromise }

// eval runs a JavaScript expression and decodes its value into T.
func eval[T any](p *page, js string, opts ...chromedp.EvaluateOption) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](js, opts...))
	if err != nil {
		p.t.Fatalf("eval %s: %v", js, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it is true or the deadline
// passes; on failure it saves a screenshot and reports the page state.
func (p *page) waitFor(what, js string, timeout time.Duration) {
	p.t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool]("!!("+js+")"))
		if err == nil && ok {
			if el := time.Since(start); el > time.Second {
				p.t.Logf("waited %v for %s", el.Round(time.Millisecond), what)
			}
			return
		}
		if time.Now().After(deadline) {
			p.shot("fail-" + strings.ReplaceAll(p.t.Name(), "/", "-"))
			p.t.Fatalf("timed out after %v waiting for %s (%s; eval error %v)\npage: %s\ndaemon log tail:\n%s", timeout, what, js, err, p.state(), tail(p.d.Log.String(), 1500))
		}
		time.Sleep(40 * time.Millisecond)
	}
}

// state is a one-line summary of the page for failure messages.
func (p *page) state() string {
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`JSON.stringify({conn: document.getElementById("conn").textContent, status: document.getElementById("status").textContent, count: document.body.dataset.count, shown: document.body.dataset.shown, url: location.href, notices: document.getElementById("notices").textContent, search: document.getElementById("search").value, active: document.activeElement && (document.activeElement.id || document.activeElement.className)})`))
	if err != nil {
		return "(page state unavailable: " + err.Error() + ")"
	}
	return s
}

// shot saves a PNG screenshot of the viewport as <name>.png.
func (p *page) shot(name string) string {
	p.t.Helper()
	buf, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(outDir(p.t), name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		p.t.Logf("write screenshot: %v", err)
	}
	return path
}

// colorScheme emulates prefers-color-scheme: "light" or "dark".
func (p *page) colorScheme(v string) {
	p.t.Helper()
	err := chromedp.Do(p.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v}},
		})
		return err
	}))
	if err != nil {
		p.t.Fatalf("emulate %s: %v", v, err)
	}
}

// click clicks the element sel matches, waiting up to 10 s for it to be
// visible.
//
// chromedp clicks in steps (find the node, read its box, send the mouse
// events); when the page renders the element anew in between (a live
// update redraws the session tree), the node it found is gone and the
// step fails. A person's click lands on whatever is there when it
// happens: the click is tried again on the element as it now is.
func (p *page) click(sel string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	for {
		err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel)))
		if err == nil {
			return
		}
		if !nodeGone(err) || ctx.Err() != nil {
			p.t.Fatalf("click %s: %v\npage: %s", sel, err, p.state())
		}
	}
}

// nodeGone reports whether err is the browser saying that a node chromedp
// had found is no longer in the page.
func nodeGone(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Could not find node with given id") || strings.Contains(msg, "No node with given id") || strings.Contains(msg, "Node is detached")
}

func (p *page) keys(k string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.KeyEvent(k)); err != nil {
		p.t.Fatalf("keys %q: %v", k, err)
	}
}

// press sends one key as a browser does when the page's keydown handler
// cancels it: a rawKeyDown and a keyUp, no char event (chromedp's KeyEvent
// always sends the char, which a real browser would suppress).
func (p *page) press(key, code string, keyCode int64) {
	p.t.Helper()
	err := chromedp.Do(p.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			_, err := chromedp.Call(ctx, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Key: key, Code: code, WindowsVirtualKeyCode: keyCode, NativeVirtualKeyCode: keyCode,
			})
			if err != nil {
				return err
			}
		}
		return nil
	}))
	if err != nil {
		p.t.Fatalf("press %s: %v", key, err)
	}
}

// dashURL is the daemon's dashboard address with query and the token in
// the fragment.
func dashURL(d *testutil.Daemon, query, tok string) string {
	u := d.URL("/")
	if query != "" {
		u += "?" + query
	}
	if tok != "" {
		u += "#token=" + tok
	}
	return u
}

// post sends one hook event to the daemon and returns its seq header.
func post(t testing.TB, d *testutil.Daemon, tok string, ev map[string]any) string {
	t.Helper()
	return postWith(t, d, tok, ev, nil)
}

// postWith is post with extra request headers.
func postWith(t testing.TB, d *testutil.Daemon, tok string, ev map[string]any, hdr map[string]string) string {
	t.Helper()
	body, _ := json.Marshal(ev)
	req, _ := http.NewRequest(http.MethodPost, d.URL("/v1/events"), bytes.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Mpm-Sent-At", fmt.Sprint(time.Now().UnixNano()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post event: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("post event: status %d", resp.StatusCode)
	}
	return resp.Header.Get("Mpm-Seq")
}

func hookEvent(session, name string, extra map[string]any) map[string]any {
	ev := map[string]any{"session_id": session, "hook_event_name": name, "cwd": "/home/dev/" + session[:4], "transcript_path": "/tmp/t.jsonl"}
	for k, v := range extra {
		ev[k] = v
	}
	return ev
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// js quotes a Go string as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestClickSurvivesRedraw: the harness's click does not fail when the page
// replaces the element while chromedp is clicking it (as a live update
// redraws the session tree): it clicks the element as it now is. (A click
// whose mouse-down and mouse-up fall on two different elements is not a
// click for the page, as for a person's: some of these are lost.)
func TestClickSurvivesRedraw(t *testing.T) {
	p := newPage(t, nil)
	p.navigate(`data:text/html,<div id=box></div><script>
let clicks = 0;
function draw() {
	const b = document.createElement("button");
	b.id = "target";
	b.textContent = "click me";
	b.onclick = () => { clicks++; document.title = String(clicks); };
	document.getElementById("box").replaceChildren(b);
}
draw();
setInterval(draw, 1);
</script>`)
	for range 10 {
		p.click("#target") // fails the test if the click fails
	}
	if got := eval[string](p, `document.title`); got == "" {
		t.Errorf("none of 10 clicks landed")
	} else {
		t.Logf("%s of 10 clicks landed", got)
	}
}
