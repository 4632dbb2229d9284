// Command mpm-monitor tails mpm-wsd's events in the terminal: filtered,
// human lines or NDJSON, resuming after the last printed seq across daemon
// restarts and network drops. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/mpm-dev/mpm/internal/client"
	"github.com/mpm-dev/mpm/internal/monitor"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/version"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

const usage = `Usage: mpm-monitor [flags]

Prints mpm-wsd's events as they happen, one line each, like tail -f.
It reconnects on its own and resumes after the last event it printed.

Examples:
  mpm-monitor                          follow every session, live
  mpm-monitor --last 20                the last 20 events, then follow
  mpm-monitor --session 4f1c --tool Bash,Edit
  mpm-monitor --event UserPromptSubmit --no-follow --since 0
  mpm-monitor --json | jq .payload.tool_input
  mpm-monitor --origin laptop-a,ci     on a fleet hub: only these machines
  mpm-monitor sessions                 every session's state, those that need you first
  mpm-monitor sessions --watch         the same, kept live (--json: one session per line)
  mpm-monitor --status-line            "2 need you · 3 working · 1 idle", for tmux and prompts
  mpm-monitor approvals                permission requests waiting for an answer from mpm
  mpm-monitor approve ID [--always N]  allow one (deny ID [--message M] denies it)

The tail also prints a line when a session changes state (needs permission,
waiting for input, idle, ...), unless --event or --tool filter the events.

On a fleet hub (mpm-wsd --nats URL --fleet) each line shows the event's
origin before its session (laptop-a/4f1c2b3a); --json records carry
"origin" and "origin_seq".

Flags:
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// listFlag collects a repeatable, comma-separated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

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

func run(args []string, stdout *os.File, stderr io.Writer) int {
	if len(args) > 0 && slices.Contains(monitor.ApprovalCommands, args[0]) {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return monitor.ApprovalsMain(ctx, args[0], args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("mpm-monitor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	addr := fs.String("addr", paths.Addr(), "mpm-wsd address (env "+paths.EnvAddr+")")
	dataDir := fs.String("data-dir", paths.DataDir(), "mpm-wsd's data directory, for the token (env "+paths.EnvDataDir+")")
	tok := fs.String("token", "", "access token (default: read from the data directory)")
	var sessions, events, tools, origins listFlag
	fs.Var(&sessions, "session", "only this session; a prefix of the id is enough (repeatable, comma list)")
	fs.Var(&events, "event", "only these hook events, e.g. PreToolUse,UserPromptSubmit (repeatable, comma list)")
	fs.Var(&tools, "tool", "only these tools, e.g. Bash,Edit or mcp__github__* (repeatable, comma list)")
	fs.Var(&origins, "origin", "only events from these fleet origins (machine names on a fleet hub); a prefix is enough, case ignored (repeatable, comma list)")
	var since sinceFlag
	fs.Var(&since, "since", "first print the retained events after this seq")
	last := fs.Int("last", 0, "first print the last N matching events of the history")
	noFollow := fs.Bool("no-follow", false, "print the history and exit (all of it, unless --since/--last)")
	count := fs.Int("count", 0, "exit after printing N events")
	jsonOut := fs.Bool("json", false, "write one JSON event record per line (NDJSON)")
	colorMode := fs.String("color", "auto", "colour human lines: auto (a terminal without NO_COLOR), always, never")
	statusLine := fs.Bool("status-line", false, "print one line such as \"2 need you · 3 working · 1 idle\" (sessions active in the last 24 h) and exit; \"mpm down\" and exit status 1 when the daemon does not answer")
	watch := fs.Bool("watch", false, "with sessions: keep the board live")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "mpm-monitor: "+format+" (see mpm-monitor --help)\n", a...)
		return exitUsage
	}
	// "sessions" may come before, between or after the flags.
	sessionsCmd := fs.NArg() > 0 && fs.Arg(0) == "sessions"
	if sessionsCmd {
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return exitUsage
		}
	}
	if fs.NArg() > 0 {
		return bad("unexpected argument %q", fs.Arg(0))
	}
	if *showVersion {
		fmt.Fprintln(stdout, "mpm-monitor", version.Version)
		return exitOK
	}
	if *last < 0 {
		return bad("--last must be 0 or more")
	}
	if *count < 0 {
		return bad("--count must be 0 or more")
	}
	var color bool
	switch *colorMode {
	case "auto":
		color = !*jsonOut && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb" && monitor.IsTerminal(stdout) && monitor.EnableColor(stdout)
	case "always":
		color = !*jsonOut
		monitor.EnableColor(stdout)
	case "never":
	default:
		return bad("--color %q: use auto, always or never", *colorMode)
	}
	c, err := client.New(client.Config{Addr: *addr, DataDir: *dataDir, Token: *tok})
	if err != nil {
		return bad("%v", err)
	}
	width := 0
	if monitor.IsTerminal(stdout) {
		width = monitor.TermWidth(stdout)
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		width = n
	}

	// A reader that goes away (| head) must give EPIPE, not kill us.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *statusLine {
		if err := monitor.PrintStatusLine(ctx, c, stdout); err != nil {
			fmt.Fprintf(stderr, "mpm-monitor: %v\n", err)
			return exitError
		}
		return exitOK
	}
	if sessionsCmd {
		err := monitor.Sessions(ctx, monitor.SessionsOptions{
			Client: c, JSON: *jsonOut, Watch: *watch, Color: color, Width: width,
			Terminal: monitor.IsTerminal(stdout), Stdout: stdout, Stderr: stderr,
		})
		if err != nil && !errors.Is(err, monitor.ErrBrokenPipe) {
			fmt.Fprintf(stderr, "mpm-monitor: %v\n", err)
			return exitError
		}
		return exitOK
	}

	err = monitor.Run(ctx, monitor.Options{
		Client: c,
		Filter: monitor.Filter{
			Sessions: monitor.SplitList(sessions),
			Events:   monitor.SplitList(events),
			Tools:    monitor.SplitList(tools),
			Origins:  monitor.SplitList(origins),
		},
		Since:  since.v,
		Last:   *last,
		Follow: !*noFollow,
		Count:  *count,
		Format: monitor.Format{JSON: *jsonOut, Color: color, Width: width},
		Stdout: stdout,
		Stderr: stderr,
	})
	switch {
	case err == nil, errors.Is(err, monitor.ErrBrokenPipe):
		return exitOK
	default:
		fmt.Fprintf(stderr, "mpm-monitor: %v\n", err)
		return exitError
	}
}
