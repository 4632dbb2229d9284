package web_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mpm-dev/mpm/internal/web"
)

// TestHandlerHeaders: every file is served with its type and the strict
// headers; the CSP admits no inline script or style.
func TestHandlerHeaders(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	for path, ctype := range map[string]string{
		"/":            "text/html",
		"/style.css":   "text/css",
		"/js/app.js":   "text/javascript",
		"/js/conn.js":  "text/javascript",
		"/favicon.svg": "image/svg+xml",
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", path, resp.StatusCode)
		}
		if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, ctype) {
			t.Errorf("%s: Content-Type %q, want %s", path, got, ctype)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-") {
			t.Errorf("%s: CSP %q allows unsafe sources", path, csp)
		}
		if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s: Referrer-Policy %q", path, got)
		}
	}
}

// TestNoMarkupFromData: the page's code never turns strings into markup,
// and the HTML has no inline script, style or handler (the CSP would block
// them anyway; this catches them before a browser does).
func TestNoMarkupFromData(t *testing.T) {
	forbiddenJS := regexp.MustCompile(`\binnerHTML\b|\bouterHTML\b|insertAdjacentHTML|document\.write|\beval\(|new Function\(|setAttribute\(\s*["']on|createContextualFragment|DOMParser`)
	forbiddenHTML := regexp.MustCompile(`(?i)\sstyle\s*=|\son[a-z]+\s*=|<style|<script(?:\s[^>]*)?>[^<\s]`)
	err := filepath.WalkDir("dist", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		switch filepath.Ext(path) {
		case ".js":
			for _, m := range forbiddenJS.FindAllString(string(b), -1) {
				t.Errorf("%s uses %q: build DOM with dom.js (textContent) instead", path, m)
			}
		case ".html":
			for _, m := range forbiddenHTML.FindAllString(string(b), -1) {
				t.Errorf("%s has inline %q: move it to a file", path, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
