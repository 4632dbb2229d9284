package verify

import (
	"context"
	"io"
	"os"
	"strings"

	"github.com/mpm-dev/mpm/internal/cli"
	"github.com/mpm-dev/mpm/internal/paths"
)

// about is mpm-verify's help text before the flags.
const about = `mpm-verify checks every link from Claude Code to the dashboard and says
what is broken and how to fix it.`

// notes follow the flags in mpm-verify's help.
const notes = `Checks, in order (✓ ok, ✗ failed, ! warning, - skipped):
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

--json prints {"ok":…,"checks":[{"name","status":"ok|fail|warn|skip",
"detail","fix"}],"dashboard_url":…}.

Exit status: 0 when no check failed (warnings allowed), 1 when one failed,
2 for bad usage.`

// Main runs mpm-verify with args = os.Args[1:] and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	p := &cli.Program{
		Name:     "mpm-verify",
		Synopsis: []string{"mpm-verify [--addr HOST:PORT] [--data-dir DIR] [--project DIR] [--session ID] [--timeout 5s] [--json]"},
		About:    about,
		Env:      []string{paths.EnvAddr, paths.EnvDataDir, "CLAUDE_CONFIG_DIR"},
		Notes:    notes,
		Stdout:   stdout, Stderr: stderr,
	}
	fs := p.FlagSet()
	var (
		cfg    Config
		asJSON bool
	)
	fs.StringVar(&cfg.Addr, "addr", paths.Addr(), "the daemon's `HOST:PORT`")
	fs.StringVar(&cfg.DataDir, "data-dir", paths.DataDir(), "the data directory with the token, spool and manager state")
	fs.StringVar(&cfg.ProjectDir, "project", "", "the project `DIR` whose .claude/settings.json and settings.local.json are checked (default: the current directory)")
	fs.StringVar(&cfg.Session, "session", "", "also print the dashboard URL that opens this session `ID`")
	fs.DurationVar(&cfg.Timeout, "timeout", DefaultTimeout, "limit for each network step")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	if code, done := p.Parse(fs, args); done {
		return code
	}
	if cfg.Timeout <= 0 {
		return p.Usage("--timeout must be positive, e.g. 5s")
	}
	cfg.Addr = strings.TrimSpace(cfg.Addr)
	cfg.Session = strings.TrimSpace(cfg.Session)
	if cfg.ProjectDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return p.Usage("cannot find the working directory (%v): pass --project DIR", err)
		}
		cfg.ProjectDir = wd
	}
	cfg.Service = func(ctx context.Context) []ServiceState {
		ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		return SystemService(ctx)
	}

	ctx, stop := cli.Context()
	defer stop()
	r := Run(ctx, cfg)
	if asJSON {
		if err := WriteJSON(stdout, r); err != nil {
			return p.Fail("%v", err)
		}
	} else {
		WriteText(stdout, r)
	}
	return r.ExitCode()
}
