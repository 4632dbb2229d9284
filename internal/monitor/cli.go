// Package monitor's Main is mpm-monitor's command line: it tails
// mpm-wsd's events in the terminal, filtered, human lines or NDJSON,
// resuming after the last printed seq across daemon restarts and network
// drops. See README.md.
package monitor

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"syscall"

	"github.com/mpm-dev/mpm/internal/cli"
	"github.com/mpm-dev/mpm/internal/client"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/protocol"
)

// DefaultLast is how many events mpm-monitor prints before following,
// as tail does.
const DefaultLast = 10

// about is mpm-monitor's help text before the flags.
const about = `mpm-monitor prints mpm-wsd's events as they happen, one line each, like
tail -f. It reconnects on its own and resumes after the last event it
printed.`

// notes follow the flags in mpm-monitor's help.
const notes = `Examples:
  mpm-monitor                          the last 10 events, then follow every session
  mpm-monitor -n 20                    the last 20 events, then follow
  mpm-monitor -n 0                     live events only
  mpm-monitor --session 4f1c --tool Bash,Edit
  mpm-monitor --event UserPromptSubmit --no-follow --since 0
  mpm-monitor --json | jq .payload.tool_input
  mpm-monitor --origin laptop-a,ci     on a fleet hub: only these machines
  mpm-monitor sessions                 every session's state, those that need you first
  mpm-monitor sessions --watch         the same, kept live (--json: one session per line)
  mpm-monitor --status-line            "2 need you · 3 working · 1 idle", for tmux and prompts
  mpm-monitor usage --since week       cost and tokens this week, per project, model and day
  mpm-monitor approvals                permission requests waiting for an answer from mpm
  mpm-monitor approve ID [--always N]  allow one (deny ID [--message M] denies it)

The tail also prints a line when a session changes state (needs permission,
waiting for input, idle, ...), unless --event or --tool filter the events.

On a fleet hub (mpm-wsd --nats URL --fleet) each line shows the event's
origin before its session (laptop-a/4f1c2b3a); --json records carry
"origin" and "origin_seq".

Exit status: 0 after Ctrl-C, --count or a closed pipe; 1 when the daemon
cannot be reached with --no-follow; 2 on bad flags.`

// sinceFlag is an optional seq.
type sinceFlag struct{ v *uint64 }

func (s *sinceFlag) String() string {
	if s.v == nil {
		return ""
	}
	return strconv.FormatUint(*s.v, 10)
}
func (s *sinceFlag) Set(v string) error {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return errors.New("want a seq number (0 = all retained history)")
	}
	s.v = &n
	return nil
}

// Main runs mpm-monitor with args = os.Args[1:] and returns its exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if historyCmd(args) {
		return historyMain(args, stdout, stderr) // search, export (history.go)
	}
	if len(args) > 0 && args[0] == "usage" {
		return usageMain(args[1:], stdout, stderr) // usage.go
	}
	if len(args) > 0 && slices.Contains(ApprovalCommands, args[0]) {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return ApprovalsMain(ctx, args[0], args[1:], stdout, stderr)
	}
	p := &cli.Program{
		Name: "mpm-monitor",
		Synopsis: []string{"mpm-monitor [--addr A] [--data-dir D] [--token T] [--session ID]... [--event E]... [--tool T]...",
			"            [--since SEQ | -n N | --last N] [--no-follow] [--count N] [--json] [--color auto|always|never]",
			"mpm-monitor sessions [--watch] [--json]",
			"mpm-monitor search QUERY [--session ID] [--since T] [--json]    (see mpm-monitor search --help)",
			"mpm-monitor export SESSION [--format markdown|ndjson]",
			"mpm-monitor --status-line",
			"mpm-monitor usage [--since today|week|T] [--bucket hour|day] [--json]    (see mpm-monitor usage --help)",
			"mpm-monitor approvals [--json] [--on|--off] | approve ID [--always N] | deny ID [--message M]"},
		About:  about,
		Env:    []string{paths.EnvAddr, paths.EnvDataDir, "NO_COLOR"},
		Notes:  notes,
		Stdout: stdout, Stderr: stderr,
	}
	fs := p.FlagSet()
	addr := fs.String("addr", paths.Addr(), "mpm-wsd's address")
	dataDir := fs.String("data-dir", paths.DataDir(), "mpm-wsd's data directory, for the token")
	tok := fs.String("token", "", "access token (default: read from the data directory)")
	var sessions, events, tools, origins cli.Multi
	fs.Var(&sessions, "session", "only this session; a prefix of the id is enough (repeatable, comma list)")
	fs.Var(&events, "event", "only these hook events, e.g. PreToolUse,UserPromptSubmit (repeatable, comma list)")
	fs.Var(&tools, "tool", "only these tools, e.g. Bash,Edit or mcp__github__* (repeatable, comma list)")
	fs.Var(&origins, "origin", "only events from these fleet origins (machine names on a fleet hub); a prefix is enough, case ignored (repeatable, comma list)")
	var since sinceFlag
	fs.Var(&since, "since", "first print the retained events after this seq")
	last := fs.Int("last", DefaultLast, "first print the last N matching events of the history, like tail (0: live events only; with --since or --no-follow the default is all of them)")
	fs.IntVar(last, "n", DefaultLast, "the same as --last")
	noFollow := fs.Bool("no-follow", false, "print the history and exit (all of it, unless --since/--last)")
	count := fs.Int("count", 0, "exit after printing N events")
	jsonOut := fs.Bool("json", false, "write one JSON event record per line (NDJSON)")
	colorMode := fs.String("color", "auto", "colour human lines: auto (a terminal without NO_COLOR), always, never")
	statusLine := fs.Bool("status-line", false, "print one line such as \"2 need you · 3 working · 1 idle\" (sessions active in the last 24 h) and exit; \"mpm down\" and exit status 1 when the daemon does not answer")
	watch := fs.Bool("watch", false, "with sessions: keep the board live")
	p.Args = true // "sessions" may come before, between or after the flags
	if code, done := p.Parse(fs, args); done {
		return code
	}
	bad := p.Usage
	sessionsCmd := fs.NArg() > 0 && fs.Arg(0) == "sessions"
	if sessionsCmd {
		if code, done := p.Parse(fs, fs.Args()[1:]); done {
			return code
		}
	}
	if fs.NArg() > 0 {
		return bad("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !given["last"] && !given["n"] && (since.v != nil || *noFollow) {
		*last = 0 // all of the history after --since, or all of it
	}
	if *last < 0 {
		return bad("--last must be 0 or more")
	}
	if *count < 0 {
		return bad("--count must be 0 or more")
	}
	out, _ := stdout.(*os.File)
	var color bool
	switch *colorMode {
	case "auto":
		color = !*jsonOut && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb" && out != nil && IsTerminal(out) && EnableColor(out)
	case "always":
		color = !*jsonOut
		if out != nil {
			EnableColor(out)
		}
	case "never":
	default:
		return bad("--color %q: use auto, always or never", *colorMode)
	}
	c, err := client.New(client.Config{Addr: *addr, DataDir: *dataDir, Token: *tok})
	if err != nil {
		return bad("%v", err)
	}
	width := 0
	if out != nil && IsTerminal(out) {
		width = TermWidth(out)
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		width = n
	}

	// A reader that goes away (| head) must give EPIPE, not kill us.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, stop := cli.Context()
	defer stop()

	if *statusLine {
		if err := PrintStatusLine(ctx, c, stdout); err != nil {
			return p.Fail("%v", err)
		}
		return cli.ExitOK
	}
	if sessionsCmd {
		err := Sessions(ctx, SessionsOptions{
			Client: c, JSON: *jsonOut, Watch: *watch, Color: color, Width: width,
			Terminal: out != nil && IsTerminal(out), Stdout: stdout, Stderr: stderr,
		})
		if err != nil && !errors.Is(err, ErrBrokenPipe) {
			return p.Fail("%v", err)
		}
		return cli.ExitOK
	}

	err = Run(ctx, Options{
		Client: c,
		Filter: Filter{
			Sessions: protocol.SplitList(sessions),
			Events:   protocol.SplitList(events),
			Tools:    protocol.SplitList(tools),
			Origins:  protocol.SplitList(origins),
		},
		Since:  since.v,
		Last:   *last,
		Follow: !*noFollow,
		Count:  *count,
		Format: Format{JSON: *jsonOut, Color: color, Width: width},
		Stdout: stdout,
		Stderr: stderr,
	})
	switch {
	case err == nil, errors.Is(err, ErrBrokenPipe):
		return cli.ExitOK
	default:
		return p.Fail("%v", err)
	}
}
