package verify

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/version"
)

// Usage is mpm-verify's help text.
const Usage = `mpm-verify checks every link from Claude Code to the dashboard and says
what is broken and how to fix it.

Usage:
  mpm-verify [--addr HOST:PORT] [--data-dir DIR] [--project DIR]
             [--session ID] [--timeout 5s] [--json]

Checks, in order (✓ ok, ✗ failed, ! warning, - skipped):
  address     the address is IPv4 loopback; what localhost resolves to
  daemon      something listens there and it is mpm-wsd (version, pid)
  token       the token file is readable (mode 0600) and the daemon accepts it
  websocket   the WebSocket handshake with the token and the daemon's origin
  round-trip  a private, unstored probe event comes back over the WebSocket
  manager     the OS service, mpm-manager's state, daemon restarts, last exit
  hooks       Claude Code's settings (user, project, local) wire mpm-hook,
              the binary they name exists and runs, no duplicates
  spool       the hook spool is empty or draining; dropped events
  fleet       only when mpm-wsd runs with --nats: connected to NATS, the
              stream present, the edge's outbox draining (lag), or the
              hub consuming

Flags:
  --addr HOST:PORT  daemon address (default MPM_ADDR, else 127.0.0.1:8765)
  --data-dir DIR    data directory with the token, spool and manager state
                    (default MPM_DATA_DIR, else the OS's per-user state dir)
  --project DIR     project whose .claude/settings.json and
                    settings.local.json are checked (default: .)
  --session ID      also print the dashboard URL for that session
  --timeout D       limit for each network step (default 5s)
  --json            print the report as JSON: {"ok":…,"checks":[{"name",
                    "status":"ok|fail|warn|skip","detail","fix"}],…}
  --version         print the version

Claude Code's user settings are found through HOME (or CLAUDE_CONFIG_DIR).
Exit status: 0 when no check failed (warnings allowed), 1 when one failed,
2 for bad usage.
`

// Main runs mpm-verify with args = os.Args[1:] and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mpm-verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, Usage) }
	var (
		cfg      Config
		asJSON   bool
		showVers bool
	)
	fs.StringVar(&cfg.Addr, "addr", paths.Addr(), "daemon address")
	fs.StringVar(&cfg.DataDir, "data-dir", paths.DataDir(), "data directory")
	fs.StringVar(&cfg.ProjectDir, "project", "", "project directory")
	fs.StringVar(&cfg.Session, "session", "", "session id for the dashboard URL")
	fs.DurationVar(&cfg.Timeout, "timeout", DefaultTimeout, "limit for each network step")
	fs.BoolVar(&asJSON, "json", false, "JSON output")
	fs.BoolVar(&showVers, "version", false, "print the version")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, Usage)
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mpm-verify: unexpected argument %q; run mpm-verify --help\n", fs.Arg(0))
		return 2
	}
	if showVers {
		fmt.Fprintln(stdout, "mpm-verify", version.Version)
		return 0
	}
	if cfg.Timeout <= 0 {
		fmt.Fprintln(stderr, "mpm-verify: --timeout must be positive, e.g. 5s")
		return 2
	}
	cfg.Addr = strings.TrimSpace(cfg.Addr)
	cfg.Session = strings.TrimSpace(cfg.Session)
	if cfg.ProjectDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			fmt.Fprintf(stderr, "mpm-verify: cannot find the working directory (%v): pass --project DIR\n", err)
			return 2
		}
		cfg.ProjectDir = wd
	}
	cfg.Service = func(ctx context.Context) []ServiceState {
		ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		return SystemService(ctx)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	r := Run(ctx, cfg)
	if asJSON {
		if err := WriteJSON(stdout, r); err != nil {
			fmt.Fprintln(stderr, "mpm-verify:", err)
			return 1
		}
	} else {
		WriteText(stdout, r)
	}
	return r.ExitCode()
}
