package main

import (
	"os/exec"
	"sort"
	"strings"
	"testing"
)

// The daemon may link heavy dependencies, but each one on purpose: this
// test fails when mpm-wsd starts linking a module that is not listed here
// (say chromedp, which only the browser tests need), as mpm-hook's
// deps_test does for the hook. Adding one means writing down why.
var allowedModules = map[string]string{
	"github.com/mpm-dev/mpm/":            "mpm itself",
	"github.com/gorilla/websocket":       "GET /v1/ws",
	"github.com/hashicorp/go-hclog":      "logs (named loggers, JSON lines)",
	"github.com/fatih/color":             "go-hclog's colours",
	"github.com/mattn/go-colorable":      "go-hclog's colours",
	"github.com/mattn/go-isatty":         "go-hclog's colours",
	"github.com/prometheus/":             "GET /metrics",
	"github.com/beorn7/perks":            "prometheus client",
	"github.com/cespare/xxhash":          "prometheus client",
	"github.com/munnerz/goautoneg":       "prometheus client (content negotiation)",
	"google.golang.org/protobuf":         "prometheus client (its data model)",
	"modernc.org/":                       "the journal: SQLite in pure Go",
	"github.com/dustin/go-humanize":      "modernc.org/sqlite",
	"github.com/google/uuid":             "modernc.org/sqlite",
	"github.com/ncruces/go-strftime":     "modernc.org/sqlite",
	"github.com/remyoudompheng/bigfft":   "modernc.org/sqlite",
	"github.com/bits-and-blooms/":        "the journal's idempotency-key filter",
	"github.com/nats-io/nats.go":         "fleet mode's NATS client",
	"github.com/nats-io/nkeys":           "NATS client (nkey auth)",
	"github.com/nats-io/nuid":            "NATS client (inbox ids)",
	"github.com/klauspost/compress":      "NATS client (compression)",
	"golang.org/x/crypto":                "NATS client (nkeys)",
	"golang.org/x/sys":                   "system calls (also mpm-hook's)",
	"github.com/antithesishq/antithesis": "NATS client's no-op test hooks",
}

// deniedPackages must never be in the daemon: test-only tools and the
// NATS server (tests start one; the daemon is only a client).
var deniedPackages = []string{
	"testing",
	"github.com/chromedp/chromedp",
	"github.com/chromedp/cdproto",
	"github.com/nats-io/nats-server/v2/server",
}

func TestMpmWSDLinksOnlyWhatItNeeds(t *testing.T) {
	for _, goos := range []string{"linux", "darwin", "windows"} {
		cmd := exec.Command("go", "list", "-deps", ".")
		cmd.Env = append(cmd.Environ(), "GOOS="+goos)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps (GOOS=%s): %v", goos, err)
		}
		deps := strings.Fields(string(out))
		sort.Strings(deps)
		for _, p := range deps {
			for _, d := range deniedPackages {
				if p == d {
					t.Errorf("GOOS=%s: mpm-wsd links %s", goos, p)
				}
			}
			first, _, _ := strings.Cut(p, "/")
			if !strings.Contains(first, ".") {
				continue // the standard library
			}
			ok := false
			for m := range allowedModules {
				if p == m || strings.HasPrefix(p, strings.TrimSuffix(m, "/")+"/") || (strings.HasSuffix(m, "/") && strings.HasPrefix(p, m)) {
					ok = true
					break
				}
			}
			if !ok {
				t.Errorf("GOOS=%s: mpm-wsd links %s, which is not in allowedModules: add it there with the reason, or drop the import", goos, p)
			}
		}
	}
}
