package cli_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// binaries are the six mpm programs; each follows internal/cli's convention.
var binaries = []string{"mpm-wsd", "mpm-manager", "mpm-hook", "mpm-hookctl", "mpm-verify", "mpm-monitor"}

// subcommands are the commands with flags of their own, whose --help the
// tests also read.
var subcommands = map[string][]string{
	"mpm-manager": {"install", "uninstall", "start", "status", "run"},
	"mpm-hook":    {"install", "uninstall", "status"},
	"mpm-hookctl": {"install", "uninstall", "status"},
	"mpm-monitor": {"search", "export", "approvals", "usage"}, // approve and deny share approvals' flags
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs bin with args, stdin empty, in a scratch HOME, and returns
// what it printed and its exit code.
func run(t *testing.T, bin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(testutil.Binary(t, bin), args...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+home, "MPM_DATA_DIR="+filepath.Join(home, "data"), "MPM_HOOK_BIN=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return result{out.String(), errb.String(), code}
}

// buildAll builds the binaries into one directory, as go install does
// (mpm-hook needs mpm-hookctl beside it).
func buildAll(t *testing.T) {
	for _, b := range binaries {
		testutil.Binary(t, b)
	}
}

func TestEveryBinaryHelpVersionAndBadFlag(t *testing.T) {
	buildAll(t)
	for _, bin := range binaries {
		t.Run(bin, func(t *testing.T) {
			for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
				r := run(t, bin, args...)
				if r.code != 0 || !strings.Contains(r.stdout, "Usage:") || r.stderr != "" {
					t.Errorf("%s %v: exit %d, want 0 with the usage on stdout and nothing on stderr\nstdout: %s\nstderr: %s", bin, args, r.code, r.stdout, r.stderr)
				}
			}
			var versions []string
			for _, args := range [][]string{{"--version"}, {"version"}} {
				r := run(t, bin, args...)
				name := bin
				if r.code != 0 || !strings.HasPrefix(r.stdout, name+" ") || strings.Count(r.stdout, "\n") != 1 || r.stderr != "" {
					t.Errorf("%s %v: exit %d, stdout %q, stderr %q; want exit 0 and one line %q on stdout", bin, args, r.code, r.stdout, r.stderr, name+" VERSION")
				}
				versions = append(versions, r.stdout)
			}
			if versions[0] != versions[1] {
				t.Errorf("%s: --version says %q, version says %q", bin, versions[0], versions[1])
			}
			for _, bad := range [][]string{{"--no-such-flag"}, {"-no-such-flag=1"}} {
				r := run(t, bin, bad...)
				typed, _, _ := strings.Cut(bad[0], "=")
				if r.code != 2 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 ||
					!strings.Contains(r.stderr, typed) || !strings.Contains(r.stderr, "see "+bin+" --help") {
					t.Errorf("%s %v: exit %d, stdout %q, stderr %q; want exit 2 and one line on stderr naming %s and pointing at %s --help",
						bin, bad, r.code, r.stdout, r.stderr, typed, bin)
				}
			}
			for _, sub := range subcommands[bin] {
				r := run(t, bin, sub, "--help")
				if r.code != 0 || !strings.Contains(r.stdout, "Flags:") || r.stderr != "" {
					t.Errorf("%s %s --help: exit %d\nstdout: %s\nstderr: %s", bin, sub, r.code, r.stdout, r.stderr)
				}
				r = run(t, bin, sub, "--no-such-flag")
				if r.code != 2 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "--no-such-flag") {
					t.Errorf("%s %s --no-such-flag: exit %d, stdout %q, stderr %q; want exit 2, one line", bin, sub, r.code, r.stdout, r.stderr)
				}
			}
		})
	}
}

var flagRE = regexp.MustCompile(`(?m)(?:^|[\s\[(|])--([a-z][a-z0-9-]+)`)

// flagNames returns the --flags named in text.
func flagNames(text string) []string {
	var out []string
	for _, m := range flagRE.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}

// readmeSection returns the fenced blocks of README's "## <bin>" section.
func readmeSection(t *testing.T, readme, bin string) string {
	t.Helper()
	i := strings.Index(readme, "\n## "+bin+" ")
	if i < 0 {
		t.Fatalf("README has no section \"## %s ...\"", bin)
	}
	sec := readme[i+1:]
	if j := strings.Index(sec[3:], "\n## "); j >= 0 {
		sec = sec[:j+3]
	}
	var blocks []string
	parts := strings.Split(sec, "```")
	for k := 1; k < len(parts); k += 2 {
		blocks = append(blocks, parts[k])
	}
	return strings.Join(blocks, "\n")
}

// TestReadmeUsageMatchesHelp: every flag a binary's --help (and its
// commands' --help) lists is in README's usage block for it, and every
// flag the block names exists.
func TestReadmeUsageMatchesHelp(t *testing.T) {
	buildAll(t)
	b, err := os.ReadFile(filepath.Join(testutil.ModuleRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, bin := range []string{"mpm-wsd", "mpm-manager", "mpm-hook", "mpm-verify", "mpm-monitor"} {
		help := run(t, bin, "--help").stdout
		for _, sub := range subcommands[bin] {
			help += run(t, bin, sub, "--help").stdout
		}
		inHelp := flagNames(flagsPart(help))
		inReadme := flagNames(readmeSection(t, readme, bin))
		for _, f := range inHelp {
			if f != "help" && f != "version" && !slices.Contains(inReadme, f) {
				t.Errorf("%s --help lists --%s, README's usage block for %s does not", bin, f, bin)
			}
		}
		for _, f := range inReadme {
			if f != "help" && f != "version" && !slices.Contains(inHelp, f) {
				t.Errorf("README's usage block for %s names --%s, which %s --help does not list", bin, f, bin)
			}
		}
	}
}

// flagsPart keeps the flag definitions of help texts: the lines of their
// "Flags:" and "Run flags" sections that start with a flag.
func flagsPart(help string) string {
	var b strings.Builder
	for _, line := range strings.Split(help, "\n") {
		if strings.HasPrefix(line, "  --") {
			f, _, _ := strings.Cut(strings.TrimSpace(line), " ")
			b.WriteString(f + "\n")
		}
	}
	return b.String()
}
