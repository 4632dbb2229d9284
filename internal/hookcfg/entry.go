package hookcfg

import (
	"encoding/json"
	"net/netip"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/mpm-dev/mpm/internal/paths"
)

// Mode is how Claude Code delivers events to mpm.
type Mode string

const (
	// ModeCommand runs mpm-hook for every event; it spools events while the
	// daemon is down.
	ModeCommand Mode = "command"
	// ModeHTTP has Claude Code POST events to the daemon itself: no process
	// per event, but events are lost while the daemon is down.
	ModeHTTP Mode = "http"
)

// HookBinaryName is the base name (without .exe) that marks a command as
// ours.
const HookBinaryName = "mpm-hook"

// EventsPath is the daemon's ingest path; an http hook aimed at it on a
// loopback host is ours.
const EventsPath = "/v1/events"

// TokenEnvVar is the environment variable an http hook's Authorization
// header reads the token from.
const TokenEnvVar = paths.EnvToken

// Target is what our entries point at.
type Target struct {
	// Executable is the absolute path of mpm-hook written into command
	// entries.
	Executable string
	// Addr is the daemon's host:port: http entries post to it, command
	// entries carry it as MPM_ADDR=… before the binary when it is not the
	// default (a Claude Code started without MPM_ADDR would otherwise send
	// to 127.0.0.1:8765).
	Addr string
	// DataDir is mpm's data directory; command entries carry it as
	// MPM_DATA_DIR=… when it is not the OS's default (the hook finds the
	// token, socket and spool there).
	DataDir string
}

// command is the shell command of our command entries: the binary, after
// the environment it needs when that differs from the defaults.
func (t Target) command() string {
	var b strings.Builder
	if t.Addr != "" && t.Addr != paths.DefaultAddr {
		b.WriteString(paths.EnvAddr + "=" + shellQuote(t.Addr) + " ")
	}
	if t.DataDir != "" && t.DataDir != paths.DefaultDataDir() {
		b.WriteString(paths.EnvDataDir + "=" + shellQuote(t.DataDir) + " ")
	}
	b.WriteString(shellQuote(t.Executable))
	return b.String()
}

// CommandEnv returns the NAME=value assignments before a command's
// executable (MPM_ADDR=… MPM_DATA_DIR=… /path/mpm-hook), unquoted.
func CommandEnv(cmd string) map[string]string {
	env := map[string]string{}
	for _, w := range shellWords(cmd) {
		if !isAssignment(w) {
			break
		}
		k, v, _ := strings.Cut(w, "=")
		env[k] = v
	}
	return env
}

// orderedEntry builds a compact JSON object in the given key order.
func orderedEntry(kv ...any) json.RawMessage {
	o := &object{}
	for i := 0; i+1 < len(kv); i += 2 {
		v, _ := json.Marshal(kv[i+1])
		o.members = append(o.members, member{key: kv[i].(string), val: v})
	}
	return o.marshal()
}

// desiredEntry is the hook entry we want on ev in mode m.
func desiredEntry(ev EventSpec, m Mode, t Target) json.RawMessage {
	if m == ModeHTTP && ev.HTTP {
		return orderedEntry(
			"type", "http",
			"url", eventsURL(t.Addr),
			"headers", map[string]string{"Authorization": "Bearer $" + TokenEnvVar},
			"allowedEnvVars", []string{TokenEnvVar},
			"timeout", ev.Timeout,
		)
	}
	return orderedEntry(
		"type", "command",
		"command", t.command(),
		"async", !ev.Sync,
		"timeout", ev.Timeout,
	)
}

// ApprovalEvent is the event install --approvals makes wait for a decision.
const ApprovalEvent = "PermissionRequest"

// EnvApprovalWait is the variable the approval entry's command sets for
// mpm-hook (internal/hook.EnvApprovalWait).
const EnvApprovalWait = "MPM_HOOK_APPROVAL_WAIT"

// approvalGraceSeconds is how much longer than mpm-hook's wait Claude
// Code's timeout is: posting, the daemon's answer at expiry, start-up.
const approvalGraceSeconds = 30

// approvalEntry is the PermissionRequest entry of install --approvals: a
// command hook that is not async (Claude Code reads its answer) and waits
// for a decision from mpm up to wait; Claude Code's timeout is above that
// wait, so mpm-hook always returns on its own (with nothing to print when
// nobody decided). The wait rides in the command as an environment
// assignment: Claude Code runs hook commands with a POSIX shell.
func approvalEntry(t Target, wait time.Duration) json.RawMessage {
	secs := int(wait / time.Second)
	return orderedEntry(
		"type", "command",
		"command", EnvApprovalWait+"="+strconv.Itoa(secs)+"s "+t.command(),
		"async", false,
		"timeout", secs+approvalGraceSeconds,
	)
}

// desiredGroup is a fresh matcher group holding only our entry.
func desiredGroup(ev EventSpec, entry json.RawMessage) json.RawMessage {
	o := &object{}
	if ev.ToolMatcher {
		o.members = append(o.members, member{key: "matcher", val: json.RawMessage(`"*"`)})
	}
	o.members = append(o.members, member{key: "hooks", val: marshalArray([]json.RawMessage{entry})})
	return o.marshal()
}

// eventsURL is the daemon's ingest URL for addr.
func eventsURL(addr string) string {
	return (&url.URL{Scheme: "http", Host: addr, Path: EventsPath}).String()
}

// shellQuote quotes p for the POSIX shell Claude Code runs commands with,
// only when it needs it (spaces, backslashes, quotes...).
func shellQuote(p string) string {
	safe := p != ""
	for _, c := range p {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/._-+=:@%,", c)) {
			safe = false
			break
		}
	}
	if safe {
		return p
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}

// hookEntry is the part of a hook entry we look at.
type hookEntry struct {
	Type           string
	Command        string
	URL            string
	Async          *bool
	Timeout        *float64
	Headers        map[string]string
	AllowedEnvVars []string
}

// decodeEntry reads a raw hook entry; ok is false when it is not an object.
// Keys are matched exactly, as Claude Code reads them ("tYpe" is not
// "type"), and a duplicate key counts by its last occurrence, as
// JavaScript's JSON.parse keeps it. A field of an unexpected type is left
// at its zero value.
func decodeEntry(raw json.RawMessage) (hookEntry, bool) {
	var e hookEntry
	o, err := parseObject(raw)
	if err != nil {
		return e, false
	}
	field(o, "type", &e.Type)
	field(o, "command", &e.Command)
	field(o, "url", &e.URL)
	field(o, "async", &e.Async)
	field(o, "timeout", &e.Timeout)
	field(o, "headers", &e.Headers)
	field(o, "allowedEnvVars", &e.AllowedEnvVars)
	return e, true
}

// field decodes the member key of o into *dst; *dst is left alone when the
// member is missing or of another type.
func field[T any](o *object, key string, dst *T) {
	v, ok := o.get(key)
	if !ok {
		return
	}
	var x T
	if json.Unmarshal(v, &x) == nil {
		*dst = x
	}
}

// isOurs reports whether a raw hook entry is one of ours: a command whose
// executable is named mpm-hook (or is exactly self), or an http hook posting
// to /v1/events on a loopback host.
func isOurs(raw json.RawMessage, self string) bool {
	e, ok := decodeEntry(raw)
	if !ok {
		return false
	}
	switch e.Type {
	case "command":
		return isOurCommand(e.Command, self)
	case "http":
		return isOurURL(e.URL)
	}
	return false
}

// isOurCommand reports whether a shell command runs mpm-hook.
func isOurCommand(cmd, self string) bool {
	exe := commandExecutable(cmd)
	if exe == "" {
		return false
	}
	if self != "" && (exe == self || strings.TrimSpace(cmd) == self) {
		return true
	}
	if isHookBinaryName(exe) {
		return true
	}
	// An unquoted Windows path loses its backslashes to shell escaping in
	// shellWords; look at the first raw word as well.
	if f := strings.Fields(cmd); len(f) > 0 {
		return isHookBinaryName(strings.Trim(f[0], `'"`))
	}
	return false
}

// isHookBinaryName reports whether path's base name is mpm-hook or
// mpm-hook.exe (either slash counts as a separator: the file may come from
// another OS).
func isHookBinaryName(path string) bool {
	base := path
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	if base == HookBinaryName {
		return true
	}
	return strings.EqualFold(base, HookBinaryName+".exe") || (runtime.GOOS == "windows" && strings.EqualFold(base, HookBinaryName))
}

// isOurURL reports whether u is the daemon's ingest URL on a loopback host.
func isOurURL(u string) bool {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") {
		return false
	}
	if strings.TrimRight(p.Path, "/") != EventsPath {
		return false
	}
	return isLoopbackHost(p.Hostname())
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(h, "[]"))
	return err == nil && ip.IsLoopback()
}

// commandExecutable returns the executable word of a shell command: the
// first word after any leading NAME=value assignments, with quotes and
// backslash escapes removed. It understands the simple shapes installers
// write, not all of shell.
func commandExecutable(cmd string) string {
	for _, w := range shellWords(cmd) {
		if isAssignment(w) {
			continue
		}
		return w
	}
	return ""
}

func isAssignment(w string) bool {
	i := strings.IndexByte(w, '=')
	if i <= 0 {
		return false
	}
	for j, c := range w[:i] {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// shellWords splits a command into words, honouring single quotes, double
// quotes and backslash escapes; it stops at an unquoted ; & | < > or #.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
			i++
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				cur.WriteString(s[i+1:])
				i = len(s)
			} else {
				cur.WriteString(s[i+1 : i+1+j])
				i += j + 2
			}
		case c == '"':
			inWord = true
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`+"`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
				i++
			}
			i++
		case c == '\\' && i+1 < len(s):
			inWord = true
			cur.WriteByte(s[i+1])
			i += 2
		case strings.IndexByte(";&|<>", c) >= 0 || (c == '#' && !inWord):
			if inWord {
				words = append(words, cur.String())
			}
			return words
		default:
			inWord = true
			cur.WriteByte(c)
			i++
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// expandHome resolves a leading ~, $HOME or ${HOME} in an executable path,
// as the shell running the hook would.
func expandHome(p, home string) string {
	if home == "" {
		return p
	}
	for _, pre := range []string{"~", "$HOME", "${HOME}"} {
		if p == pre {
			return home
		}
		if strings.HasPrefix(p, pre+"/") {
			return filepath.Join(home, p[len(pre)+1:])
		}
	}
	return p
}
