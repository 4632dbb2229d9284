package hookcfg

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/mpm-dev/mpm/internal/cli"
	"github.com/mpm-dev/mpm/internal/hook"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/token"
)

// usageText is mpm-hook's help text before the environment; %s is the
// default event list.
const usageText = `mpm-hook forwards Claude Code hook events to mpm-wsd, and wires itself
into Claude Code's settings.

Usage:
  mpm-hook                 forward one event from stdin (what Claude Code runs)
  mpm-hook install   [--scope user|project|local] [--mode command|http]
                     [--events LIST] [--addr HOST:PORT] [--dir DIR] [--dry-run]
                     [--approvals [--approval-timeout 2m]]
  mpm-hook uninstall [--scope user|project|local|all] [--dir DIR] [--dry-run]
  mpm-hook status    [--addr HOST:PORT] [--dir DIR]
  mpm-hook help | version
"mpm-hook COMMAND --help" lists a command's flags and their defaults.

Forwarding prints nothing and exits 0, always (but a person's decision on a
PermissionRequest installed with --approvals). It waits at most 2 s for the
JSON on stdin and 300 ms for the daemon; if the daemon is down or hung, the
event goes to <data dir>/spool and mpm-wsd delivers it when it is back.

Scopes (Claude Code's settings files):
  user      ~/.claude/settings.json ($CLAUDE_CONFIG_DIR/settings.json), every session (default)
  project   <dir>/.claude/settings.json, usually committed: your binary's path would be shared
  local     <dir>/.claude/settings.local.json, this project, not committed

Modes:
  command   Claude Code runs mpm-hook (async) for each event. When the daemon is
            down, mpm-hook spools the event and the daemon delivers it later:
            nothing is lost. Costs one tiny process per event. (default)
  http      Claude Code POSTs each event to http://ADDR/v1/events itself: no
            process per event, but events are lost while the daemon is down
            (Claude Code shows a hook error). SessionStart and Setup accept no
            http hooks, so they keep command hooks. The token comes from the
            MPM_TOKEN environment variable of Claude Code (install says how).

Events (--events, default all): %s

--approvals answers permission requests from the dashboard or mpm-monitor:
PermissionRequest becomes a waiting (not async) hook that prints the decision
made in mpm, or nothing after --approval-timeout (default 2m) or when mpm-wsd
is down, so Claude Code asks in the terminal. Nothing is allowed by default.
Without it PermissionRequest is only monitored.

install keeps everything else in the file, writes a timestamped backup
(settings.json.bak-YYYYMMDDTHHMMSSZ) before changing it, replaces it atomically
and changes nothing when mpm is already wired as asked. Claude Code reads hooks
when a session starts: restart open sessions afterwards (or review them in /hooks).`

// DefaultApprovalTimeout is install --approvals' default wait.
const DefaultApprovalTimeout = 2 * time.Minute

// env are the environment variables mpm-hook and mpm-hookctl read.
var env = []string{paths.EnvAddr, paths.EnvDataDir, paths.EnvHookTimeout, paths.EnvHookStdinTimeout,
	paths.EnvHookDebug, EnvApprovalWait, paths.EnvToken, EnvClaudeConfigDir}

// program describes mpm-hook (cmd "") or one of its commands. Run by
// mpm-hook (which sets MPM_HOOK_BIN), it speaks as mpm-hook; run
// directly, as mpm-hookctl.
func program(cmd string, stdout, stderr io.Writer) *cli.Program {
	name := "mpm-hook"
	if os.Getenv(hook.EnvHookBin) == "" {
		name = hook.CtlName
	}
	if cmd != "" {
		name += " " + cmd
	}
	return &cli.Program{Name: name, Env: env, Stdout: stdout, Stderr: stderr}
}

// Main runs `mpm-hook install|uninstall|status|help|version` with args =
// os.Args[1:] and returns the exit code: 0 done, 1 failed, 2 bad usage.
func Main(args []string, stdout, stderr io.Writer) int {
	return Run(args, stdout, stderr, Options{})
}

// Run is Main with injectable options (tests use temp directories).
func Run(args []string, stdout, stderr io.Writer, opts Options) int {
	top := program("", stdout, stderr)
	if len(args) == 0 {
		return top.Usage("a command is needed: install, uninstall or status")
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		printUsage(stdout)
		return 0
	case "version", "--version", "-version":
		top.PrintVersion()
		return 0
	case "install":
		return runInstall(program("install", stdout, stderr), args[1:], opts)
	case "uninstall":
		return runUninstall(program("uninstall", stdout, stderr), args[1:], opts)
	case "status":
		return runStatus(program("status", stdout, stderr), args[1:], opts)
	}
	return top.Usage("unknown command %q", args[0])
}

// Usage returns mpm-hook's help text.
func Usage() string {
	var b strings.Builder
	p := &cli.Program{Env: env, Stdout: &b}
	fmt.Fprintf(&b, usageText+"\n\n", strings.Join(DefaultEvents(), ","))
	p.PrintEnv()
	return b.String()
}

func printUsage(w io.Writer) { fmt.Fprint(w, Usage()) }

// commonFlags are the flags shared by the subcommands.
type commonFlags struct {
	scope   string
	addr    string
	dataDir string
	dir     string
	dryRun  bool
}

func newFlagSet(p *cli.Program, c *commonFlags, withScope bool) *flag.FlagSet {
	fs := p.FlagSet()
	if withScope {
		fs.StringVar(&c.scope, "scope", string(ScopeUser), "settings file: user, project or local")
		fs.BoolVar(&c.dryRun, "dry-run", false, "print the change as a diff; write nothing")
	}
	fs.StringVar(&c.addr, "addr", paths.Addr(), "the daemon's `HOST:PORT`")
	fs.StringVar(&c.dataDir, "data-dir", paths.DataDir(), "mpm's data `DIR` (token, socket, spool)")
	fs.StringVar(&c.dir, "dir", "", "project `DIR` for the project and local scopes (default: the current directory)")
	return fs
}

// flagGiven reports whether the command line set flag name.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// apply puts the flags given on the command line into opts.
func (c commonFlags) apply(fs *flag.FlagSet, opts Options) Options {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if given["addr"] {
		opts.Addr = c.addr
	}
	if given["data-dir"] {
		if abs, err := filepath.Abs(c.dataDir); err == nil {
			opts.DataDir = abs
		}
	}
	if c.dir != "" {
		opts.ProjectDir = c.dir
	}
	return opts
}

func runInstall(p *cli.Program, args []string, opts Options) int {
	var c commonFlags
	var mode, events string
	var approvals bool
	var approvalTimeout time.Duration
	stdout, stderr := p.Stdout, p.Stderr
	p.Synopsis = []string{"mpm-hook install [--scope user|project|local] [--mode command|http] [--events LIST] [--addr HOST:PORT] [--dir DIR] [--dry-run] [--approvals [--approval-timeout 2m]]"}
	fs := newFlagSet(p, &c, true)
	fs.StringVar(&mode, "mode", string(ModeCommand), "command (spools while the daemon is down) or http (no process per event)")
	fs.StringVar(&events, "events", "", "comma-separated hook events (default: all of "+strings.Join(DefaultEvents(), ",")+")")
	fs.BoolVar(&approvals, "approvals", false, "answer permission requests from the dashboard or mpm-monitor (PermissionRequest waits for a decision)")
	fs.DurationVar(&approvalTimeout, "approval-timeout", DefaultApprovalTimeout, "with --approvals: how long a permission request waits for an answer from mpm")
	if code, done := p.Parse(fs, args); done {
		return code
	}
	if approvals && (approvalTimeout < time.Second || approvalTimeout > time.Hour) {
		fmt.Fprintf(stderr, "mpm-hook install: --approval-timeout %v: give 1s to 1h (default %v)\n", approvalTimeout, DefaultApprovalTimeout)
		return 2
	}
	scope, err := ParseScope(c.scope)
	if err != nil {
		fmt.Fprintln(stderr, "mpm-hook install:", err)
		return 2
	}
	m := Mode(strings.ToLower(mode))
	if m != ModeCommand && m != ModeHTTP {
		fmt.Fprintf(stderr, "mpm-hook install: unknown mode %q: use command (default; spools while the daemon is down) or http (no process per event)\n", mode)
		return 2
	}
	specs, err := ParseEvents(events)
	if err != nil {
		fmt.Fprintln(stderr, "mpm-hook install:", err)
		return 2
	}
	o, err := c.apply(fs, opts).withDefaults()
	if err != nil {
		fmt.Fprintln(stderr, "mpm-hook install:", err)
		return 1
	}
	if o.Executable == "" {
		fmt.Fprintln(stderr, "mpm-hook install: cannot tell where this mpm-hook binary is; run it by its absolute path")
		return 1
	}
	if GoRunBuild(o.Executable) {
		fmt.Fprintf(stderr, "mpm-hook install: %s is a temporary build of go run, deleted when it exits: Claude Code would run a binary that is gone.\n"+
			"Install the binaries first (go install ./cmd/... puts them in $(go env GOPATH)/bin), then run that mpm-hook install.\n", o.Executable)
		return 1
	}
	if tmp := os.TempDir(); tmp != "" && strings.HasPrefix(o.Executable, canonical(tmp)+string(filepath.Separator)) {
		fmt.Fprintf(stderr, "mpm-hook install: note: %s is in the temporary directory; if it is cleaned up, Claude Code's hooks fail: install it somewhere permanent (go install ./cmd/...) and run mpm-hook install again.\n", o.Executable)
	}
	// The hook must reach the daemon this installer was pointed at, also
	// from a Claude Code without MPM_ADDR/MPM_DATA_DIR: the command carries
	// them (the address always when not the default; the data directory
	// when one was chosen, by --data-dir or MPM_DATA_DIR).
	target := Target{Executable: o.Executable, Addr: o.Addr}
	if flagGiven(fs, "data-dir") || os.Getenv(paths.EnvDataDir) != "" {
		target.DataDir = o.DataDir
	}
	path := o.SettingsPath(scope)
	f, err := readSettings(path)
	if err != nil {
		fmt.Fprintln(stderr, "mpm-hook install:", err)
		return 1
	}
	plan := Plan{Mode: m, Events: specs, Target: target}
	if approvals {
		found := false
		for _, e := range specs {
			found = found || e.Name == ApprovalEvent
		}
		if !found {
			fmt.Fprintln(stderr, "mpm-hook install: --approvals needs the PermissionRequest event: add it to --events")
			return 2
		}
		plan.ApprovalWait = approvalTimeout
	}
	res, err := Install(f.Data, plan)
	if err != nil {
		reportEditError(stderr, "install", f, err)
		return 1
	}
	if !res.Changed {
		fmt.Fprintf(stdout, "Nothing to change: %s already wires mpm-hook (%s mode) for %s.\n", f.Path, m, eventList(res.Changes))
		return 0
	}
	if c.dryRun {
		fmt.Fprint(stdout, UnifiedDiff(f.Path, f.Path+" (after install)", res.Before, res.After))
		fmt.Fprintf(stdout, "Dry run: %s was not changed.\n", f.Path)
		return 0
	}
	backup, err := writeEdited(f, &res, func(b []byte) (Result, error) { return Install(b, plan) }, o.Now())
	if err != nil {
		fmt.Fprintln(stderr, "mpm-hook install:", err)
		return 1
	}
	fmt.Fprintf(stdout, "Wired mpm-hook (%s mode) into %s", m, f.Path)
	if f.Real != f.Path {
		fmt.Fprintf(stdout, " (written through the symlink to %s)", f.Real)
	}
	fmt.Fprintln(stdout, ".")
	printChanges(stdout, res.Changes)
	if backup != "" {
		fmt.Fprintf(stdout, "The previous file is saved as %s.\n", backup)
	}
	if m == ModeHTTP {
		printTokenHelp(stdout, o)
	}
	if approvals {
		fmt.Fprintf(stdout, "Permission requests wait up to %v for an answer from the dashboard or `mpm-monitor approve|deny`; Claude Code's own prompt still shows at once, and whoever answers first wins. Switch answering from mpm off and on with `mpm-monitor approvals --off|--on`.\n", approvalTimeout)
	}
	if m == ModeCommand && target.command() != shellQuote(target.Executable) {
		fmt.Fprintf(stdout, "The hook command carries %s: Claude Code needs no such variable of its own.\n", strings.TrimSuffix(target.command(), " "+shellQuote(target.Executable)))
	}
	if scope == ScopeProject {
		fmt.Fprintln(stdout, "Note: .claude/settings.json is usually committed, and it now holds this machine's path to mpm-hook; --scope local keeps it out of the repository.")
	}
	fmt.Fprintln(stdout, "Claude Code reads hooks when a session starts: restart open Claude Code sessions (or open /hooks in them) to pick this up.")
	return 0
}

func runUninstall(p *cli.Program, args []string, opts Options) int {
	var c commonFlags
	stdout, stderr := p.Stdout, p.Stderr
	p.Synopsis = []string{"mpm-hook uninstall [--scope user|project|local|all] [--dir DIR] [--dry-run]"}
	fs := newFlagSet(p, &c, true)
	if code, done := p.Parse(fs, args); done {
		return code
	}
	scopes := Scopes
	if !strings.EqualFold(c.scope, "all") {
		sc, err := ParseScope(c.scope)
		if err != nil {
			fmt.Fprintln(stderr, "mpm-hook uninstall:", err, "(or all)")
			return 2
		}
		scopes = []Scope{sc}
	}
	o, err := c.apply(fs, opts).withDefaults()
	if err != nil {
		fmt.Fprintln(stderr, "mpm-hook uninstall:", err)
		return 1
	}
	code := 0
	for _, sc := range scopes {
		path := o.SettingsPath(sc)
		f, err := readSettings(path)
		if err != nil {
			fmt.Fprintln(stderr, "mpm-hook uninstall:", err)
			code = 1
			continue
		}
		if !f.Exists {
			fmt.Fprintf(stdout, "Nothing to change: %s does not exist.\n", path)
			continue
		}
		res, err := Uninstall(f.Data, o.Executable)
		if err != nil {
			reportEditError(stderr, "uninstall", f, err)
			code = 1
			continue
		}
		if !res.Changed {
			fmt.Fprintf(stdout, "Nothing to change: %s has no mpm-hook entries.\n", path)
			continue
		}
		if c.dryRun {
			fmt.Fprint(stdout, UnifiedDiff(f.Path, f.Path+" (after uninstall)", res.Before, res.After))
			fmt.Fprintf(stdout, "Dry run: %s was not changed.\n", f.Path)
			continue
		}
		backup, err := writeEdited(f, &res, func(b []byte) (Result, error) { return Uninstall(b, o.Executable) }, o.Now())
		if err != nil {
			fmt.Fprintln(stderr, "mpm-hook uninstall:", err)
			code = 1
			continue
		}
		fmt.Fprintf(stdout, "Removed mpm-hook from %s.\n", f.Path)
		printChanges(stdout, res.Changes)
		if backup != "" {
			fmt.Fprintf(stdout, "The previous file is saved as %s.\n", backup)
		}
	}
	if code == 0 && !c.dryRun {
		fmt.Fprintln(stdout, "Claude Code reads hooks when a session starts: restart open sessions for this to take effect.")
	}
	return code
}

func runStatus(p *cli.Program, args []string, opts Options) int {
	var c commonFlags
	stdout, stderr := p.Stdout, p.Stderr
	p.Synopsis = []string{"mpm-hook status [--addr HOST:PORT] [--dir DIR]"}
	fs := newFlagSet(p, &c, false)
	if code, done := p.Parse(fs, args); done {
		return code
	}
	o, err := c.apply(fs, opts).withDefaults()
	if err != nil {
		fmt.Fprintln(stderr, "mpm-hook status:", err)
		return 1
	}
	r, err := Inspect(o)
	if err != nil {
		fmt.Fprintln(stderr, "mpm-hook status:", err)
		return 1
	}
	WriteReport(stdout, r)
	h, err := CheckDaemon(context.Background(), o.Addr, HealthTimeout)
	switch {
	case err != nil:
		fmt.Fprintf(stdout, "daemon: not answering on %s (%v).\n  Start it: mpm-manager start (or run mpm-wsd). Command hooks spool events meanwhile; http hooks lose them.\n", o.Addr, err)
	case !h.OK:
		fmt.Fprintf(stdout, "daemon: %s %s (pid %d) on %s answers but is not healthy (HTTP %d); mpm-manager restarts it, or run mpm-manager restart.\n", h.Service, h.Version, h.Pid, o.Addr, h.Status)
	default:
		fmt.Fprintf(stdout, "daemon: %s %s (pid %d) answering on %s, up %.0fs, last seq %d.\n", h.Service, h.Version, h.Pid, o.Addr, h.Uptime, h.LastSeq)
	}
	if !r.Wired() {
		fmt.Fprintln(stdout, "mpm-hook is not wired into any settings file: run mpm-hook install.")
	}
	return 0
}

// WriteReport prints a Report for people.
func WriteReport(w io.Writer, r Report) {
	for _, s := range r.Scopes {
		fmt.Fprintf(w, "%s: %s", s.Scope, s.Path)
		if s.Real != s.Path {
			fmt.Fprintf(w, " -> %s", s.Real)
		}
		switch {
		case s.Err != nil:
			fmt.Fprintf(w, "\n  cannot use it: %v\n", s.Err)
			continue
		case !s.Exists:
			fmt.Fprintln(w, " (no such file)")
			continue
		case len(s.Entries) == 0:
			fmt.Fprintln(w, " (no mpm entries)")
			continue
		}
		fmt.Fprintf(w, " (%d events wired)\n", len(s.Events()))
		for _, e := range s.Entries {
			switch e.Kind {
			case ModeHTTP:
				fmt.Fprintf(w, "  %-19s http    %s [%s]\n", e.Event, e.URL, e.State())
			default:
				fmt.Fprintf(w, "  %-19s command %s [%s]\n", e.Event, e.Binary, e.State())
			}
		}
		for _, p := range s.Problems {
			fmt.Fprintf(w, "  problem: %s\n", p)
		}
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "problem: %s\n", p)
	}
}

func reportEditError(stderr io.Writer, verb string, f *settingsFile, err error) {
	var pe *ParseError
	if errors.As(err, &pe) {
		pe.Path = f.Path
		fmt.Fprintf(stderr, "mpm-hook %s: %v\n%s was left untouched: fix it (or move it away), then run mpm-hook %s again.\n", verb, pe, f.Path, verb)
		return
	}
	fmt.Fprintf(stderr, "mpm-hook %s: %v\n", verb, err)
}

func printChanges(w io.Writer, changes []Change) {
	by := map[Action][]string{}
	for _, c := range changes {
		by[c.Action] = append(by[c.Action], c.Event)
	}
	for _, a := range []Action{Added, Updated, Removed, Unchanged} {
		if len(by[a]) > 0 {
			fmt.Fprintf(w, "  %-9s %s\n", string(a)+":", strings.Join(by[a], ", "))
		}
	}
}

func eventList(changes []Change) string {
	var n []string
	for _, c := range changes {
		n = append(n, c.Event)
	}
	if len(n) == len(Events) {
		return fmt.Sprintf("all %d events", len(n))
	}
	return strings.Join(n, ", ")
}

// printTokenHelp says how Claude Code gets the token for http hooks.
func printTokenHelp(w io.Writer, o Options) {
	tp := paths.Token(o.DataDir)
	fmt.Fprintf(w, "http hooks send the token from the %s environment variable of Claude Code (never written into settings).\n", TokenEnvVar)
	if runtime.GOOS == "windows" {
		fmt.Fprintf(w, "Set it for your user once, then open a new terminal before starting claude:\n  setx %s (Get-Content '%s')\n", TokenEnvVar, tp)
	} else {
		fmt.Fprintf(w, "Add this line to your shell profile (~/.bashrc, ~/.zshrc, ...), then open a new terminal before starting claude:\n  export %s=\"$(cat '%s')\"\n", TokenEnvVar, tp)
	}
	if t, err := token.Read(tp); err != nil {
		fmt.Fprintf(w, "(%s does not exist yet: mpm-wsd creates it on its first start.)\n", tp)
	} else if v := os.Getenv(TokenEnvVar); v != "" && v != t {
		fmt.Fprintf(w, "Warning: %s is set in this shell but differs from %s: the daemon will refuse those events (401).\n", TokenEnvVar, tp)
	}
}
