package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mpm-dev/mpm/internal/hookcfg"
	"github.com/mpm-dev/mpm/internal/paths"
)

// checkHooks is check 7: which events each Claude Code settings file
// (user, project, local) wires to mpm, whether the mpm-hook binaries they
// name exist and run, and duplicates or other problems hookcfg finds.
func checkHooks(ctx context.Context, st *state) Result {
	res := Result{Name: "hooks"}
	cfg := st.cfg
	opts := hookcfg.Options{
		HomeDir:    cfg.HomeDir,
		ConfigDir:  cfg.ClaudeConfigDir,
		ProjectDir: cfg.ProjectDir,
		Executable: hookExecutable(cfg),
		Addr:       cfg.Addr,
		DataDir:    cfg.DataDir,
	}
	r, err := hookcfg.Inspect(opts)
	if err != nil {
		res.Status = Fail
		res.Detail = fmt.Sprintf("cannot locate Claude Code's settings: %v", err)
		res.Fix = "set HOME (and run mpm-verify from your project directory, or pass --project DIR)"
		return res
	}

	var parts, fails, warns []string
	failScope := hookcfg.Scope("")
	flag := func(sc hookcfg.Scope) {
		if failScope == "" {
			failScope = sc
		}
	}
	ran := map[string]string{} // binary -> "" when it runs, else why not
	wrongAddr := map[string]bool{}
	seenFile := map[string]hookcfg.Scope{}
	for _, s := range r.Scopes {
		if first, dup := seenFile[s.Real]; dup {
			// The project is the home directory: one file, two scopes.
			parts = append(parts, fmt.Sprintf("%s %s: the same file as %s", s.Scope, s.Path, first))
			continue
		}
		seenFile[s.Real] = s.Scope
		switch {
		case s.Err != nil:
			parts = append(parts, fmt.Sprintf("%s %s: unusable", s.Scope, s.Path))
			fails = append(fails, fmt.Sprintf("%s cannot be read: %v (Claude Code cannot read it either)", s.Path, s.Err))
			flag(s.Scope)
			continue
		case !s.Exists:
			parts = append(parts, fmt.Sprintf("%s %s: no file", s.Scope, s.Path))
			continue
		case len(s.Entries) == 0:
			parts = append(parts, fmt.Sprintf("%s %s: no mpm entries", s.Scope, s.Path))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s: %d events (%s) → %s", s.Scope, s.Path, len(s.Events()), strings.Join(s.Events(), ", "), targets(s)))
		for _, e := range s.Entries {
			switch e.Kind {
			case hookcfg.ModeHTTP:
				if e.Addr != cfg.Addr {
					fails = append(fails, fmt.Sprintf("%s: %s posts to %s, not to %s", s.Path, e.Event, e.URL, cfg.Addr))
					flag(s.Scope)
				}
				if !e.TokenHeader {
					fails = append(fails, fmt.Sprintf("%s: the http hook on %s sends no token, the daemon refuses it (401)", s.Path, e.Event))
					flag(s.Scope)
				}
			default:
				// What Claude Code will use: the MPM_ADDR the command
				// carries, else the default (not this shell's MPM_ADDR).
				if e.Addr != cfg.Addr && !wrongAddr[s.Path] {
					wrongAddr[s.Path] = true
					fails = append(fails, fmt.Sprintf("%s: the mpm-hook command sends to %s (it carries no MPM_ADDR=%s), not to %s, unless Claude Code's own environment sets MPM_ADDR", s.Path, e.Addr, cfg.Addr, cfg.Addr))
					flag(s.Scope)
				}
				why, seen := ran[e.Binary]
				if !seen {
					why = binaryProblem(ctx, cfg, e)
					ran[e.Binary] = why
					if why != "" {
						fails = append(fails, fmt.Sprintf("%s: %s", s.Path, why))
						flag(s.Scope)
					}
				}
			}
		}
		for _, p := range s.Problems {
			if !checkedHere(p) {
				warns = append(warns, s.Path+": "+p.Text)
			}
		}
	}
	for _, p := range r.Problems {
		warns = append(warns, p.Text)
	}
	if r.Wired() {
		warns = append(warns, outdated(r)...)
	}
	var good []string
	for b, why := range ran {
		if why == "" {
			good = append(good, b)
		}
	}
	sort.Strings(good)
	if len(good) > 0 {
		parts = append(parts, strings.Join(good, ", ")+" runs")
	}

	switch {
	case !r.Wired() && len(fails) == 0:
		res.Status = Fail
		res.Detail = sentences(append(parts, "mpm-hook is not wired into any Claude Code settings file, so Claude Code sends no events")...)
		res.Fix = installCmd(cfg, hookcfg.ScopeUser) + "  (then restart open Claude Code sessions)"
	case len(fails) > 0:
		res.Status = Fail
		res.Detail = sentences(append(append(parts, fails...), warns...)...)
		res.Fix = installCmd(cfg, failScope) + "  (rewrites mpm's entries to point at that mpm-hook, keeps a backup; then restart open Claude Code sessions)"
		if errScope(r, failScope) {
			res.Fix = "fix the JSON of the file named above (Claude Code ignores a settings file it cannot parse), then run: " + installCmd(cfg, failScope)
		}
	case len(warns) > 0:
		res.Status = Warn
		res.Detail = sentences(append(parts, warns...)...)
		res.Fix = "re-run the installer, which folds duplicates and rewrites mpm's entries: " + installCmd(cfg, firstScopeWithProblems(r))
	default:
		res.Status = OK
		res.Detail = sentences(parts...)
	}
	return res
}

// outdated says what an older install lacks: events the session state
// needs that no scope wires, and async command hooks where mpm now
// installs a sync one (SessionEnd, which Claude Code cuts off at exit).
// Running mpm-hook install again upgrades both.
func outdated(r hookcfg.Report) []string {
	wired := map[string]bool{}
	var async []string
	for _, s := range r.Scopes {
		for _, e := range s.Entries {
			wired[e.Event] = true
			if spec, ok := hookcfg.LookupEvent(e.Event); ok && spec.Sync && e.Kind == hookcfg.ModeCommand && e.Async {
				async = append(async, fmt.Sprintf("%s: the mpm hook on %s is async, so Claude Code cuts it off when it exits and sessions never end in mpm (an older install)", s.Path, e.Event))
			}
		}
	}
	var missing []string
	for _, name := range hookcfg.StateEvents {
		if !wired[name] {
			missing = append(missing, name)
		}
	}
	var out []string
	if len(missing) > 0 {
		out = append(out, fmt.Sprintf("no settings file wires %s, which the session state needs (an older install, or --events left them out)", strings.Join(missing, ", ")))
	}
	return append(out, async...)
}

// hookExecutable is the mpm-hook this installation would wire in.
func hookExecutable(cfg Config) string {
	if cfg.HookExecutable != "" {
		return cfg.HookExecutable
	}
	return hookcfg.HookPath()
}

// installCmd is the mpm-hook install command for scope, with this
// installation's mpm-hook when it exists.
func installCmd(cfg Config, sc hookcfg.Scope) string {
	exe := "mpm-hook"
	if p := hookExecutable(cfg); p != "" {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			exe = shellArg(p)
		}
	}
	cmd := exe + " install"
	if cfg.Addr != paths.DefaultAddr {
		cmd += " --addr " + shellArg(cfg.Addr)
	}
	if cfg.DataDir != "" && cfg.DataDir != paths.DefaultDataDir() {
		cmd += " --data-dir " + shellArg(cfg.DataDir)
	}
	if sc != "" && sc != hookcfg.ScopeUser {
		cmd += " --scope " + string(sc)
		if cfg.ProjectDir != "" {
			cmd += " --dir " + shellArg(cfg.ProjectDir)
		}
	}
	return cmd
}

// shellArg quotes s for a POSIX shell when it needs it.
func shellArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`!*?[]{}();&|<>#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// targets describes what a scope's entries point at.
func targets(s hookcfg.ScopeReport) string {
	seen := map[string]bool{}
	var out []string
	for _, e := range s.Entries {
		t := e.Binary + " (command)"
		if e.Kind == hookcfg.ModeHTTP {
			t = e.URL + " (http)"
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return strings.Join(out, ", ")
}

// binaryProblem says why a command entry's binary cannot work, "" when it
// exists, is executable and `mpm-hook help` exits 0.
func binaryProblem(ctx context.Context, cfg Config, e hookcfg.Entry) string {
	switch {
	case !e.BinaryExists:
		return fmt.Sprintf("the mpm entries run %s, which does not exist (a dangling hook path: Claude Code gets an error and mpm gets no event)", e.Binary)
	case !e.BinaryExecutable:
		return fmt.Sprintf("the mpm entries run %s, which is not executable", e.Binary)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.HookRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.Binary, "help")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = cfg.HookRunTimeout
	err := cmd.Run()
	if err == nil {
		return ""
	}
	if ctx.Err() != nil {
		return fmt.Sprintf("the mpm entries run %s, which did not finish `help` within %s", e.Binary, cfg.HookRunTimeout)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(out.String()), "\n")
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return sentences(fmt.Sprintf("the mpm entries run %s, which fails (`%s help`: %v)", e.Binary, filepath.Base(e.Binary), err), line)
	}
	return fmt.Sprintf("the mpm entries run %s, which cannot be started: %v", e.Binary, err)
}

// checkedHere reports whether this check already reports problem p as a
// failure of its own (it runs the binaries and checks the http entries).
func checkedHere(p hookcfg.Problem) bool {
	switch p.Kind {
	case hookcfg.ProblemMissingBinary, hookcfg.ProblemNotExecutable, hookcfg.ProblemNoToken, hookcfg.ProblemWrongAddr:
		return true
	}
	return false
}

func errScope(r hookcfg.Report, sc hookcfg.Scope) bool {
	for _, s := range r.Scopes {
		if s.Scope == sc {
			return s.Err != nil
		}
	}
	return false
}

func firstScopeWithProblems(r hookcfg.Report) hookcfg.Scope {
	for _, s := range r.Scopes {
		if len(s.Problems) > 0 {
			return s.Scope
		}
	}
	for _, s := range r.Scopes {
		if len(s.Entries) > 0 {
			return s.Scope
		}
	}
	return hookcfg.ScopeUser
}
