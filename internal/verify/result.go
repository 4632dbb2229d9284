// Package verify checks every link of the chain from Claude Code to the
// dashboard — the address, the daemon, the token, the WebSocket, a live
// round trip, the manager, the hook wiring in Claude Code's settings, the
// hook spool and, in fleet mode, the daemon's NATS link — and says, for
// each link that is broken, what to run or edit to fix it. mpm-verify is
// its command-line face.
//
// Each check is a function returning a Result; Run calls them in order and
// skips a check whose precondition failed earlier (daemon down: no
// WebSocket check), so one cause is reported once.
package verify

import "strings"

// Status is the outcome of one check.
type Status string

const (
	// OK: the link works.
	OK Status = "ok"
	// Fail: the link is broken; Fix says how to repair it.
	Fail Status = "fail"
	// Warn: the link works but something is off (or could not be checked
	// fully); events still flow.
	Warn Status = "warn"
	// Skip: the check was not run because an earlier one failed; Detail
	// says which.
	Skip Status = "skip"
)

// Symbol is the one-character mark printed before a check's name.
func (s Status) Symbol() string {
	switch s {
	case OK:
		return "✓"
	case Fail:
		return "✗"
	case Warn:
		return "!"
	default:
		return "-"
	}
}

// Result is the outcome of one check, as printed and as in --json.
type Result struct {
	// Name identifies the check: address, daemon, token, websocket,
	// round-trip, manager, hooks, spool, and fleet (only when the daemon
	// runs in fleet mode, mpm-wsd --nats).
	Name string `json:"name"`
	// Status is ok, fail, warn or skip.
	Status Status `json:"status"`
	// Detail says what the check found, in one or more sentences.
	Detail string `json:"detail"`
	// Fix is the exact command or edit that repairs a failure (also given
	// for some warnings); empty when there is nothing to do.
	Fix string `json:"fix"`
}

// Report is the outcome of a whole run.
type Report struct {
	// Version is this mpm-verify's version.
	Version string `json:"version"`
	// Addr is the daemon address that was checked.
	Addr string `json:"addr"`
	// DataDir is the data directory that was checked.
	DataDir string `json:"data_dir"`
	// Checks are the results, in the order they ran.
	Checks []Result `json:"checks"`
	// OK is true when no check failed (warnings allowed).
	OK bool `json:"ok"`
	// DashboardURL opens the dashboard with the token; empty when the
	// token could not be read.
	DashboardURL string `json:"dashboard_url,omitempty"`
	// SessionURL opens the dashboard on the session given with --session.
	SessionURL string `json:"session_url,omitempty"`
}

// Count returns how many checks have status s.
func (r Report) Count(s Status) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

// Get returns the result of the named check.
func (r Report) Get(name string) (Result, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Result{}, false
}

// ExitCode is 0 when nothing failed, 1 otherwise.
func (r Report) ExitCode() int {
	if r.Count(Fail) > 0 {
		return 1
	}
	return 0
}

// sentences joins non-empty parts with "; ".
func sentences(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}
