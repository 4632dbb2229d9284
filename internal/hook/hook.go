// Package hook is what mpm-hook does when Claude Code runs it for an event:
// read the one JSON object on stdin, POST it to mpm-wsd, and if the daemon
// does not take it in time, append it to the spool that the daemon drains
// later. It never fails and prints nothing on stdout, except one thing: a
// PermissionRequest hook installed with --approvals (approval.go) waits for
// a person's decision from mpm and prints it for Claude Code.
//
// Start-up time is the product here, so the package links as little as it
// can: no net/http, not even the net package on unix (raw socket calls), no
// encoding/json (a byte scanner finds the object's end), no fmt, no crypto.
// deps_test.go pins the list.
package hook

import (
	"io"
	"os"
	"time"

	"github.com/mpm-dev/mpm/internal/hook/lean"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/spool"
)

const (
	// DefaultTimeout bounds how long the hook waits for the daemon:
	// connecting, sending and reading the status line together. Past it
	// the event is spooled (the daemon may still have taken it: the
	// idempotency key makes the spooled copy a harmless duplicate).
	DefaultTimeout = time.Duration(lean.DefaultTimeout)
	// DefaultStdinTimeout bounds how long the hook waits for one whole JSON
	// object on stdin. Claude Code writes it at once; stdin may never be
	// closed, and the hook must not hang on it.
	DefaultStdinTimeout = time.Duration(lean.DefaultStdinTimeout)

	// EnvTimeout overrides DefaultTimeout (a Go duration: "300ms").
	EnvTimeout = paths.EnvHookTimeout
	// EnvStdinTimeout overrides DefaultStdinTimeout (a Go duration: "2s").
	EnvStdinTimeout = paths.EnvHookStdinTimeout
	// EnvDebug, when "1", makes the hook write one line on stderr saying
	// what it did with the event. Never set it in Claude Code's settings.
	EnvDebug = paths.EnvHookDebug
)

// Config is where and how long the hook forwards.
type Config struct {
	// Addr is the daemon's host:port (an IP literal; "localhost" is read
	// as 127.0.0.1).
	Addr string
	// DataDir holds the token and the spool.
	DataDir string
	// Timeout bounds the wait for the daemon.
	Timeout time.Duration
	// StdinTimeout bounds the wait for the JSON object on stdin.
	StdinTimeout time.Duration
	// Debug, when not nil, receives one line describing the outcome.
	Debug io.Writer
	// ApprovalWait, when > 0, makes a PermissionRequest wait that long for
	// a decision from mpm (MPM_HOOK_APPROVAL_WAIT; approval.go).
	ApprovalWait time.Duration
	// Stdout receives the decision, if one is made.
	Stdout io.Writer
}

// ConfigFromEnv returns the configuration from the environment: MPM_ADDR,
// MPM_DATA_DIR, MPM_HOOK_TIMEOUT, MPM_HOOK_STDIN_TIMEOUT, MPM_HOOK_DEBUG.
// Unparsable durations fall back to the defaults.
func ConfigFromEnv() Config {
	c := Config{
		Addr:         paths.Addr(),
		DataDir:      paths.DataDir(),
		Timeout:      envDuration(EnvTimeout, DefaultTimeout),
		StdinTimeout: envDuration(EnvStdinTimeout, DefaultStdinTimeout),
	}
	if os.Getenv(EnvDebug) == "1" {
		c.Debug = os.Stderr
	}
	if os.Getenv(EnvApprovalWait) != "" {
		c.ApprovalWait = min(envDuration(EnvApprovalWait, 0), maxApprovalWait)
		c.Stdout = os.Stdout
	}
	return c
}

func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			return d
		}
	}
	return def
}

// Outcome says what became of one hook run's event.
type Outcome string

const (
	// Accepted: the daemon answered 202.
	Accepted Outcome = "accepted"
	// Duplicate: the daemon answered 200 (it had the key already).
	Duplicate Outcome = "duplicate"
	// Rejected: the daemon refused the event for good (4xx but 401);
	// nothing to retry. Also the answer for input that is not a JSON object, which is
	// sent so that the daemon counts it.
	Rejected Outcome = "rejected"
	// Spooled: the daemon was down, hung or busy, or refused our token
	// (401, Status says so); the event is in the spool.
	Spooled Outcome = "spooled"
	// Lost: the daemon did not take a valid event and the spool append
	// failed too (disk full, unwritable data dir).
	Lost Outcome = "lost"
	// Invalid: stdin held no whole JSON object (as the structural scan
	// sees it) and the daemon could not be told. An object whose
	// contents are bad is spooled: the daemon counts it as it drains it.
	Invalid Outcome = "invalid"
	// NoInput: nothing arrived on stdin before the deadline or EOF.
	NoInput Outcome = "no-input"
)

// Result is the outcome with its details, for the debug line and tests.
type Result struct {
	Outcome Outcome
	// Status is the daemon's HTTP status, 0 when none came.
	Status int
	// Err is why the daemon was not reached, or why spooling failed.
	Err error
	// Bytes is the payload's size.
	Bytes int
	// Via is the transport last tried: "socket" or "tcp" ("" when none).
	Via string
	// Approval says what came of waiting for a decision ("" when the hook
	// did not wait); Decision is what was printed.
	Approval string
	Decision []byte
}

// Run forwards the event read from stdin per cfg. It never panics (a panic
// becomes Outcome Lost) and writes nothing but cfg.Debug, and a decision
// to cfg.Stdout (approval.go).
func Run(cfg Config, stdin io.Reader) Result {
	return finish(cfg, func() input { return readInput(stdin, cfg.StdinTimeout) })
}

// finish reads the input with read and delivers it, turning a panic into
// Outcome Lost and writing the debug line.
func finish(cfg Config, read func() input) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			res = Result{Outcome: Lost, Err: panicError{p}}
		}
		if cfg.Debug != nil {
			io.WriteString(cfg.Debug, lean.DebugLine(string(res.Outcome), res.Bytes, res.Via, res.Status, res.Err, res.Approval))
		}
	}()
	res = deliver(cfg, read())
	if res.Decision != nil && cfg.Stdout != nil {
		cfg.Stdout.Write(append(res.Decision, '\n'))
	}
	return res
}

// deliver posts in to the daemon, or spools it.
func deliver(cfg Config, in input) (res Result) {
	res.Bytes = len(in.data)
	if len(in.data) == 0 {
		res.Outcome = NoInput
		return res
	}
	key := newKey()
	sent := time.Now()

	// A PermissionRequest that waits for a decision goes over TCP with the
	// token (approval.go: the wait is a TCP endpoint); every other event
	// takes post's socket-then-TCP path.
	approval := waitsForApproval(cfg, in.data)
	var code int
	var via, tok string
	var resp []byte
	var err error
	if approval {
		res.Approval = ApprovalNotAsked
		code, resp, tok, err = postApproval(cfg, key, sent, in.data, sent.Add(cfg.Timeout))
		via = viaTCP
	} else {
		code, via, err = post(cfg, key, sent, in.data, sent.Add(cfg.Timeout))
	}
	res.Status, res.Err, res.Via = code, err, via
	switch {
	case err != nil:
		// Down, hung, refused, no token: spool below.
	case code == 202, code == 200:
		res.Outcome = Accepted
		if code == 200 {
			res.Outcome = Duplicate
		}
		if approval {
			var werr error
			res.Decision, res.Approval, werr = awaitDecision(cfg, tok, resp, cfg.ApprovalWait)
			if werr != nil {
				res.Err = werr
			}
		}
		return res
	case code == 401:
		// Our token is not the daemon's (a token file replaced, or
		// another data directory): spool it; the daemon drains the
		// spool with no token, and mpm-verify reports the mismatch.
	case code >= 400 && code < 500, code < 200, code >= 300 && code < 400:
		// Final: the event is bad or the token wrong; the daemon
		// counted it. Retrying would be refused again.
		res.Outcome = Rejected
		return res
	default:
		// 503 (shutting down, store failed) and other 5xx: retry later.
	}

	// Only a whole object is spooled. Its contents are not checked here:
	// the daemon checks each spooled event as it drains it, and counts
	// and logs one it cannot accept (mpm_events_rejected_total), as it
	// does for a post; checking here only cost time (~70 µs at 256 KiB)
	// and dropped such an event uncounted.
	if !in.complete {
		if res.Status != 0 {
			res.Outcome = Rejected
		} else {
			res.Outcome = Invalid
		}
		return res
	}
	rec := spool.Record{Key: key, SentAt: sent, Payload: in.data}
	if err := spool.Append(paths.Spool(cfg.DataDir), rec); err != nil {
		res.Outcome, res.Err = Lost, err
		return res
	}
	res.Outcome = Spooled
	return res
}

type panicError struct{ v any }

func (p panicError) Error() string {
	if e, ok := p.v.(error); ok {
		return "panic: " + e.Error()
	}
	if s, ok := p.v.(string); ok {
		return "panic: " + s
	}
	return "panic"
}

// newKey returns a fresh Idempotency-Key (lean.NewKey: 32 hex digits from
// the runtime's randomly seeded generator).
func newKey() string { return lean.NewKey() }
