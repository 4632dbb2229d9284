package main

import (
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// Start-up time is what mpm-hook costs Claude Code on every event, and it
// grows with what the binary links: on the 2-core test VM, linking the net
// package alone (which also turns on cgo: a dynamically linked binary, ld.so
// and libc at every start) made a run ~1.8x an empty Go program, net/http
// ~2.5x; the installer's packages (encoding/json, regexp, fmt, flag, ...)
// added ~0.2x through their init functions and size, which is why the
// installer is a separate binary, mpm-hookctl (see internal/hook's
// BenchmarkHook). These tests make adding a heavy import a deliberate act,
// as tailscale's tstest/deptest does.

// denied must never be linked into mpm-hook.
var denied = []string{
	"net", "net/http", "crypto/tls", "crypto/x509", "crypto/rand", "runtime/cgo",
	"github.com/hashicorp/go-hclog",
	"github.com/prometheus/client_golang/prometheus",
	"github.com/gorilla/websocket",
	"modernc.org/sqlite",
}

// allowedLinux is everything mpm-hook may link on linux: internal/hook/lean
// with the syscall package alone. Linking os, time, strconv and
// golang.org/x/sys/unix cost ~0.07x an empty Go program per run with the
// daemon down, ~0.03x up (docs/benchmarks.md); bytes (and what it imports)
// is here for bytes.IndexByte in the scanner. Anything new must be
// justified by a start-up measurement.
var allowedLinux = []string{
	"bytes", "cmp", "errors", "io", "iter", "math/bits", "runtime", "slices",
	"sync", "sync/atomic", "syscall", "unicode", "unicode/utf8", "unsafe",
	"path", // path.Join: the data dir cleaned as internal/paths cleans it
	"github.com/mpm-dev/mpm/cmd/mpm-hook",
	"github.com/mpm-dev/mpm/internal/ascii", // no imports: protocol.Printable's rule
	"github.com/mpm-dev/mpm/internal/hook/lean",
	"github.com/mpm-dev/mpm/internal/spool/crc32c",  // no imports but sync/atomic: the spool's checksum
	"github.com/mpm-dev/mpm/internal/spool/recscan", // imports ascii and crc32c: counts what a full spool drops
}

// deniedLinux must never be linked into mpm-hook on linux (denied too).
var deniedLinux = []string{
	"os", "time", "strconv", "fmt", "golang.org/x/sys/unix", "reflect",
	"github.com/mpm-dev/mpm/internal/hook",
	"github.com/mpm-dev/mpm/internal/spool",
	"github.com/mpm-dev/mpm/internal/paths",
}

// allowedPortable is everything mpm-hook may link on darwin (and the other
// systems without the Linux path): internal/hook.
var allowedPortable = []string{
	"bytes", "cmp", "encoding/binary", "errors", "io", "io/fs", "iter",
	"math", "math/bits", "os", "path", "path/filepath", "reflect", "runtime",
	"slices", "sort", "strconv", "strings", "sync", "sync/atomic", "syscall", "time",
	"unicode", "unicode/utf8", "unsafe",
	"golang.org/x/sys/unix", "fmt", // fmt: x/sys/unix imports it on darwin
	"github.com/mpm-dev/mpm/cmd/mpm-hook",
	"github.com/mpm-dev/mpm/internal/hook",
	"github.com/mpm-dev/mpm/internal/ascii",
	"github.com/mpm-dev/mpm/internal/hook/lean",
	"github.com/mpm-dev/mpm/internal/jsonobj",
	"github.com/mpm-dev/mpm/internal/paths",
	"github.com/mpm-dev/mpm/internal/protocol", // imports only time and internal/ascii: the Idempotency-Key rule
	"github.com/mpm-dev/mpm/internal/spool",
	"github.com/mpm-dev/mpm/internal/spool/crc32c",
	"github.com/mpm-dev/mpm/internal/spool/recscan",
	"github.com/mpm-dev/mpm/internal/token",
}

type pkgInfo struct {
	imports []string
}

// deps returns pkg's dependencies for goos, with their direct imports.
func deps(t *testing.T, goos, pkg string) map[string]pkgInfo {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", pkg)
	cmd.Env = append(cmd.Environ(), "GOOS="+goos, "GOARCH=amd64")
	if goos == "darwin" {
		cmd.Env = append(cmd.Env, "GOARCH=arm64")
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s (GOOS=%s): %v", pkg, goos, err)
	}
	m := map[string]pkgInfo{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		m[f[0]] = pkgInfo{imports: f[1:]}
	}
	return m
}

// chain returns an import path from root to target, for the error message.
func chain(m map[string]pkgInfo, root, target string) string {
	prev := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == target {
			var path []string
			for ; p != ""; p = prev[p] {
				path = append([]string{p}, path...)
			}
			return strings.Join(path, " -> ")
		}
		for _, imp := range m[p].imports {
			if _, seen := prev[imp]; !seen {
				prev[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return target
}

func TestMpmHookLinksNoHeavyPackage(t *testing.T) {
	const root = "github.com/mpm-dev/mpm/cmd/mpm-hook"
	for _, goos := range []string{"linux", "darwin"} {
		m := deps(t, goos, root)
		deny := denied
		if goos == "linux" {
			deny = append(append([]string(nil), denied...), deniedLinux...)
		}
		for _, d := range deny {
			if _, ok := m[d]; ok {
				t.Errorf("GOOS=%s: mpm-hook links %s: %s", goos, d, chain(m, root, d))
			}
		}
	}
}

func TestMpmHookAllowList(t *testing.T) {
	const root = "github.com/mpm-dev/mpm/cmd/mpm-hook"
	for goos, list := range map[string][]string{"linux": allowedLinux, "darwin": allowedPortable} {
		m := deps(t, goos, root)
		allowed := map[string]bool{}
		for _, p := range list {
			allowed[p] = true
		}
		var extra []string
		for p := range m {
			if !allowed[p] && !strings.HasPrefix(p, "internal/") && !strings.HasPrefix(p, "vendor/") {
				extra = append(extra, chain(m, root, p))
			}
		}
		sort.Strings(extra)
		for _, e := range extra {
			t.Errorf("GOOS=%s: mpm-hook links a package not on the allow-list: %s", goos, e)
		}
	}
}

// TestMpmHookBinaryLinksNoOS checks the built Linux binary itself: no
// symbol of os, strconv, x/sys/unix or internal/hook (the runtime defines
// os.runtime_args and time.now for those packages; lean reads the former).
func TestMpmHookBinaryLinksNoOS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the syscall-only path is Linux's")
	}
	bin := testutil.Binary(t, "mpm-hook")
	out, err := exec.Command("go", "tool", "nm", bin).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		n++
		sym := f[len(f)-1]
		for _, pkg := range []string{"os.", "strconv.", "fmt.", "golang.org/x/sys/unix.", "github.com/mpm-dev/mpm/internal/hook."} {
			if strings.HasPrefix(sym, pkg) && sym != "os.runtime_args" {
				t.Errorf("mpm-hook holds %s", sym)
			}
		}
		if strings.HasPrefix(sym, "time.") && sym != "time.now" {
			t.Errorf("mpm-hook holds %s", sym)
		}
	}
	if n < 100 {
		t.Fatalf("go tool nm listed %d symbols: not a symbol table", n)
	}
}
