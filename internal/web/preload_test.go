package web_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// TestModulePreload: index.html preloads exactly the modules app.js imports,
// directly or through others, so that the browser fetches them all at once
// instead of one import level after another (the page's first rows come
// sooner). A module added to or removed from the graph must be added to or
// removed from index.html's list.
func TestModulePreload(t *testing.T) {
	importRe := regexp.MustCompile(`(?m)^import[^;]*?from "\./([a-z0-9_-]+\.js)";`)
	seen := map[string]bool{}
	var walk func(name string)
	walk = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		src, err := os.ReadFile(filepath.Join("dist", "js", name))
		if err != nil {
			t.Fatalf("module %s: %v", name, err)
		}
		for _, m := range importRe.FindAllSubmatch(src, -1) {
			walk(string(m[1]))
		}
	}
	walk("app.js")
	delete(seen, "app.js") // the page's script itself
	var want []string
	for m := range seen {
		want = append(want, m)
	}
	slices.Sort(want)

	html, err := os.ReadFile(filepath.Join("dist", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range regexp.MustCompile(`<link rel="modulepreload" href="js/([^"]+)">`).FindAllSubmatch(html, -1) {
		got = append(got, string(m[1]))
	}
	slices.Sort(got)
	for _, m := range want {
		if !slices.Contains(got, m) {
			t.Errorf(`index.html does not preload js/%s (app.js imports it): add <link rel="modulepreload" href="js/%s">`, m, m)
		}
	}
	for _, m := range got {
		if !seen[m] {
			t.Errorf("index.html preloads js/%s, which app.js does not import: remove it", m)
		}
	}
}
