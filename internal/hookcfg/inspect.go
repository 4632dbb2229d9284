package hookcfg

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/mpm-dev/mpm/internal/paths"
)

// Entry is one of our hook entries found in a settings file.
type Entry struct {
	// Event is the hook event it is registered on.
	Event string
	// Group and Index locate it: hooks.<Event>[Group].hooks[Index].
	Group, Index int
	// Matcher is the group's matcher; HasMatcher is false when it has none.
	Matcher    string
	HasMatcher bool
	// Kind is ModeCommand or ModeHTTP.
	Kind Mode
	// Command is the command as written (command entries).
	Command string
	// Binary is the executable the command runs, resolved (~ and $HOME
	// expanded, bare names looked up in PATH); BinaryExists and
	// BinaryExecutable say whether it is there and runnable.
	Binary           string
	BinaryExists     bool
	BinaryExecutable bool
	// URL is the http hook's URL.
	URL string
	// Addr is where the entry sends events: an http hook's host:port; for a
	// command hook, the MPM_ADDR=… written before the binary, else the
	// default (what a Claude Code without MPM_ADDR in its environment uses).
	Addr string
	// DataDir is a command hook's MPM_DATA_DIR=…, "" when it has none.
	DataDir string
	// TokenHeader is true when an http entry sends an Authorization header
	// drawing on a variable listed in allowedEnvVars.
	TokenHeader bool
	// Async is the entry's async flag.
	Async bool
	// Timeout is the entry's timeout in seconds (0 when unset).
	Timeout float64
	// Raw is the entry's JSON as written.
	Raw json.RawMessage
}

// State is a word for the entry in status listings: "ok", or what is
// wrong with it first (the event, then the binary).
func (e Entry) State() string {
	if _, bad := Forbidden[e.Event]; bad {
		return "FORBIDDEN EVENT"
	}
	if _, known := LookupEvent(e.Event); !known {
		return "UNKNOWN EVENT"
	}
	if e.Kind == ModeCommand {
		switch {
		case !e.BinaryExists:
			return "MISSING"
		case !e.BinaryExecutable:
			return "NOT EXECUTABLE"
		}
	}
	return "ok"
}

// ScopeReport describes one settings file.
type ScopeReport struct {
	// Scope is which file this is.
	Scope Scope
	// Path is the file's path; Real is where a symlink leads (== Path
	// otherwise).
	Path, Real string
	// Exists is false when the file is not there (not an error).
	Exists bool
	// Err is set when the file could not be read or does not parse; a
	// *ParseError carries the line and column.
	Err error
	// Entries are our entries, in file order.
	Entries []Entry
	// Duplicates are the events holding more than one of our entries.
	Duplicates []string
	// Problems say what is wrong and what to do.
	Problems Problems
}

// Events returns the distinct events wired in this file, sorted.
func (s ScopeReport) Events() []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range s.Entries {
		if !seen[e.Event] {
			seen[e.Event] = true
			out = append(out, e.Event)
		}
	}
	sort.Strings(out)
	return out
}

// Report describes our wiring across all settings files.
type Report struct {
	// Executable is the mpm-hook path this process would install.
	Executable string
	// Addr is the daemon address http entries are expected to use.
	Addr string
	// Scopes has one report per scope, user, project, local.
	Scopes []ScopeReport
	// Problems are cross-file problems (an event wired twice with different
	// targets, so each of its events would be delivered twice) and what
	// Claude Code's policy settings block.
	Problems Problems
}

// ProblemKind says what a Problem is about, so that a tool can tell the
// kinds it reports its own way (mpm-verify runs the binaries and checks the
// http entries itself) without reading the sentences.
type ProblemKind string

// The kinds of Problem.
const (
	ProblemForbiddenEvent  ProblemKind = "forbidden-event"  // wired on an event mpm must never use
	ProblemUnknownEvent    ProblemKind = "unknown-event"    // wired on an event install never registers
	ProblemMatcher         ProblemKind = "matcher"          // in a group whose matcher filters events
	ProblemMissingBinary   ProblemKind = "missing-binary"   // the command's binary does not exist
	ProblemNotExecutable   ProblemKind = "not-executable"   // the command's binary is not executable
	ProblemNotAsync        ProblemKind = "not-async"        // a command hook Claude Code waits for
	ProblemHTTPUnsupported ProblemKind = "http-unsupported" // an http hook on an event that takes none
	ProblemNoToken         ProblemKind = "no-token"         // an http hook that sends no token
	ProblemWrongAddr       ProblemKind = "wrong-addr"       // an http hook aimed at another address
	ProblemDuplicate       ProblemKind = "duplicate"        // an event with two mpm entries in one file
	ProblemConflict        ProblemKind = "conflict"         // an event wired to different targets across files
	ProblemPolicy          ProblemKind = "policy"           // a Claude Code setting blocks the hooks
)

// Problem is one thing wrong with the wiring.
type Problem struct {
	// Kind says what it is about.
	Kind ProblemKind
	// Text says what is wrong and what to do, in a sentence.
	Text string
}

// String is the sentence.
func (p Problem) String() string { return p.Text }

// Problems is a list of Problem.
type Problems []Problem

// String is the sentences, one a line.
func (ps Problems) String() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Text)
	}
	return b.String()
}

// Wired reports whether any scope has at least one of our entries.
func (r Report) Wired() bool {
	for _, s := range r.Scopes {
		if len(s.Entries) > 0 {
			return true
		}
	}
	return false
}

// AllProblems returns every problem of every scope, prefixed with the file.
func (r Report) AllProblems() []string {
	var out []string
	for _, s := range r.Scopes {
		if s.Err != nil {
			out = append(out, s.Err.Error())
		}
		for _, p := range s.Problems {
			out = append(out, s.Path+": "+p.Text)
		}
	}
	for _, p := range r.Problems {
		out = append(out, p.Text)
	}
	return out
}

// Inspect reads the three settings files and reports our entries in them.
// It never writes. The error is only for options it cannot resolve; file
// problems are in each ScopeReport.
func Inspect(opts Options) (Report, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return Report{}, err
	}
	r := Report{Executable: o.Executable, Addr: o.Addr}
	var pol policy
	for _, sc := range Scopes {
		r.Scopes = append(r.Scopes, inspectScope(o, sc, &pol))
	}
	// Claude Code merges the files and drops identical handlers; different
	// targets for one event mean each event is sent twice.
	targets := map[string]map[string][]string{} // event -> target -> scopes
	for _, s := range r.Scopes {
		for _, e := range s.Entries {
			t := e.Command
			if e.Kind == ModeHTTP {
				t = e.URL
			}
			if targets[e.Event] == nil {
				targets[e.Event] = map[string][]string{}
			}
			targets[e.Event][t] = append(targets[e.Event][t], string(s.Scope))
		}
	}
	var evs []string
	for ev, ts := range targets {
		if len(ts) > 1 {
			evs = append(evs, ev)
		}
	}
	sort.Strings(evs)
	for _, ev := range evs {
		var parts []string
		for t, scs := range targets[ev] {
			parts = append(parts, fmt.Sprintf("%s (%s)", t, strings.Join(scs, ", ")))
		}
		sort.Strings(parts)
		r.Problems = append(r.Problems, Problem{ProblemConflict, fmt.Sprintf("%s is wired to different mpm targets: %s; each event would reach mpm more than once: keep one (mpm-hook uninstall --scope ...)", ev, strings.Join(parts, "; "))})
	}
	r.Problems = append(r.Problems, pol.problems(r)...)
	return r, nil
}

func inspectScope(o Options, sc Scope, pol *policy) ScopeReport {
	s := ScopeReport{Scope: sc, Path: o.SettingsPath(sc)}
	s.Real = s.Path
	f, err := readSettings(s.Path)
	if err != nil {
		s.Err = err
		return s
	}
	s.Real, s.Exists = f.Real, f.Exists
	if !f.Exists {
		return s
	}
	d, err := loadDoc(f.Data)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			pe.Path = f.Path
		}
		s.Err = err
		return s
	}
	pol.add(f.Path, d.root)
	if _, ok := d.root.get("hooks"); !ok {
		return s
	}
	hooks, _, err := d.hooksObject()
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			pe.Path = f.Path
		}
		s.Err = err
		return s
	}
	count := map[string]int{}
	for _, m := range hooks.members {
		if kind(m.val) != '[' {
			continue
		}
		_, groups, err := eventGroups(m.key, m.val)
		if err != nil {
			continue
		}
		for gi, g := range groups {
			if g.obj == nil {
				continue
			}
			for hi, h := range g.hooks {
				if !isOurs(h, o.Executable) {
					continue
				}
				e := describeEntry(o, m.key, gi, hi, g, h)
				s.Entries = append(s.Entries, e)
				count[m.key]++
				s.Problems = append(s.Problems, entryProblems(o, e)...)
			}
		}
	}
	for _, e := range s.Entries {
		if count[e.Event] > 1 {
			s.Duplicates = append(s.Duplicates, e.Event)
			count[e.Event] = 0
		}
	}
	sort.Strings(s.Duplicates)
	for _, ev := range s.Duplicates {
		s.Problems = append(s.Problems, Problem{ProblemDuplicate, fmt.Sprintf("%s holds more than one mpm entry; if they differ each event reaches mpm twice: run mpm-hook install --scope %s to fold them into one", ev, sc)})
	}
	return s
}

func describeEntry(o Options, event string, gi, hi int, g *group, raw json.RawMessage) Entry {
	he, _ := decodeEntry(raw)
	e := Entry{Event: event, Group: gi, Index: hi, Raw: raw}
	if mr, ok := g.obj.get("matcher"); ok {
		e.HasMatcher = true
		_ = json.Unmarshal(mr, &e.Matcher)
	}
	if he.Async != nil {
		e.Async = *he.Async
	}
	if he.Timeout != nil {
		e.Timeout = *he.Timeout
	}
	switch he.Type {
	case "http":
		e.Kind = ModeHTTP
		e.URL = he.URL
		if u, err := url.Parse(he.URL); err == nil {
			e.Addr = u.Host
		}
		auth := ""
		for k, v := range he.Headers {
			if strings.EqualFold(k, "Authorization") {
				auth = v
			}
		}
		for _, v := range he.AllowedEnvVars {
			if v != "" && (strings.Contains(auth, "$"+v) || strings.Contains(auth, "${"+v+"}")) {
				e.TokenHeader = true
			}
		}
	default:
		e.Kind = ModeCommand
		e.Command = he.Command
		e.Binary, e.BinaryExists, e.BinaryExecutable = resolveBinary(commandExecutable(he.Command), o.HomeDir)
		env := CommandEnv(he.Command)
		e.Addr, e.DataDir = env[paths.EnvAddr], env[paths.EnvDataDir]
		if e.Addr == "" {
			e.Addr = paths.DefaultAddr
		}
	}
	return e
}

// resolveBinary finds the file a command's executable word names.
func resolveBinary(word, home string) (path string, exists, executable bool) {
	p := expandHome(word, home)
	if p == "" {
		return "", false, false
	}
	if !strings.ContainsAny(p, `/\`) {
		lp, err := exec.LookPath(p)
		if err != nil {
			return p, false, false
		}
		p = lp
	}
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return p, err == nil, false
	}
	if runtime.GOOS == "windows" {
		ext := strings.ToLower(filepath.Ext(p))
		return p, true, ext == ".exe" || ext == ".bat" || ext == ".cmd" || ext == ""
	}
	return p, true, fi.Mode().Perm()&0o111 != 0
}

// isApprovalEntry reports whether e is install --approvals' waiting
// PermissionRequest entry (approvalEntry), which is not async on purpose.
func isApprovalEntry(e Entry) bool {
	if e.Event != ApprovalEvent {
		return false
	}
	for _, w := range shellWords(e.Command) {
		if !isAssignment(w) {
			return false
		}
		if strings.HasPrefix(w, EnvApprovalWait+"=") {
			return true
		}
	}
	return false
}

func entryProblems(o Options, e Entry) Problems {
	var out Problems
	add := func(k ProblemKind, format string, args ...any) {
		out = append(out, Problem{k, fmt.Sprintf(format, args...)})
	}
	where := e.Event
	spec, known := LookupEvent(e.Event)
	if why, bad := Forbidden[e.Event]; bad {
		add(ProblemForbiddenEvent, "mpm is wired on %s, which it must never be: %s; run mpm-hook install again (it removes that entry)", e.Event, why)
	} else if !known {
		add(ProblemUnknownEvent, "mpm is wired on %q, an event mpm-hook install never registers; run mpm-hook install again (it removes that entry)", e.Event)
	}
	if e.HasMatcher && e.Matcher != "" && e.Matcher != "*" {
		add(ProblemMatcher, "%s: the mpm entry sits in a group with matcher %q, so only some occurrences reach mpm; run mpm-hook install again to wire it for all", where, e.Matcher)
	}
	switch e.Kind {
	case ModeCommand:
		switch {
		case !e.BinaryExists:
			add(ProblemMissingBinary, "%s runs %s, which does not exist; run `mpm-hook install` again from the mpm-hook you mean to use", where, e.Binary)
		case !e.BinaryExecutable:
			add(ProblemNotExecutable, "%s runs %s, which is not executable; chmod +x it or run `mpm-hook install` again", where, e.Binary)
		}
		if !e.Async && !(known && spec.Sync) && !isApprovalEntry(e) {
			add(ProblemNotAsync, "%s: the mpm command hook is not async, so Claude Code waits for it; run mpm-hook install again", where)
		}
		if o.Addr != "" && e.Addr != o.Addr {
			add(ProblemWrongAddr, "%s sends to %s (unless Claude Code's own environment sets MPM_ADDR) but the daemon address is %s; run mpm-hook install --addr %s again", where, e.Addr, o.Addr, o.Addr)
		}
	case ModeHTTP:
		if known && !spec.HTTP {
			add(ProblemHTTPUnsupported, "%s does not accept http hooks, so no event arrives from it; run mpm-hook install again (it uses a command hook there)", where)
		}
		if !e.TokenHeader {
			add(ProblemNoToken, "%s: the http hook sends no token (Authorization header from allowedEnvVars), the daemon will refuse it (401); run mpm-hook install --mode http again", where)
		}
		if o.Addr != "" && e.Addr != o.Addr {
			add(ProblemWrongAddr, "%s posts to %s but the daemon address is %s; run mpm-hook install --mode http --addr %s again, or set MPM_ADDR", where, e.Addr, o.Addr, o.Addr)
		}
	}
	return out
}
