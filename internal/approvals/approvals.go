// Package approvals keeps the permission requests that wait for an answer
// from mpm (mpm-hook install --approvals): the pending registry with its
// expiry, the decisions and what ends a request otherwise (the person
// answered in the terminal, the hook went away, answering from mpm was
// switched off), the persisted on/off switch, and the JSON the hook prints
// for Claude Code. It holds no network code: mpm-wsd serves it
// (docs/protocol.md, "Permission requests answered from mpm").
//
// Safety rules it keeps: nothing is allowed unless a person decided so
// through POST /v1/approvals/{id} while the request was pending; every
// other end (expiry, answered elsewhere, shutdown) gives the hook nothing
// to print, so Claude Code asks in the terminal.
package approvals

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// Limits.
const (
	// MaxMessage bounds a deny message, in bytes.
	MaxMessage = 4096
	// MaxBody bounds a decision body.
	MaxBody = 8192
	// MinWait and MaxWait bound how long a hook may ask to wait.
	MinWait = time.Second
	MaxWait = time.Hour
	// keepResolved is how long a resolved request is remembered (so that a
	// late answer gets 409, not 404, and a late waiter its decision).
	keepResolved = 10 * time.Minute
)

// Errors of Decide and Wait.
var (
	// ErrUnknown: no such request (404).
	ErrUnknown = errors.New("no such permission request (it may be older than 10 minutes)")
	// ErrBadSuggestion: the suggestion index is not one of the request's
	// permission_suggestions (400).
	ErrBadSuggestion = errors.New("suggestion is not an index into the request's permission_suggestions")
)

// ResolvedError is Decide's error when the request was already resolved
// (409): Resolution says how.
type ResolvedError struct{ Resolution Resolution }

func (e *ResolvedError) Error() string {
	return "the permission request is already resolved: " + e.Resolution.Outcome
}

// Resolution is how a request ended.
type Resolution struct {
	// Approval is the request.
	Approval protocol.Approval
	// Outcome is protocol.ApprovalAllow, Deny, Expired or AnsweredElsewhere.
	Outcome string
	// Message is the deny message, or why it ended otherwise.
	Message string
	// Suggestion is the permission_suggestions index applied with allow.
	Suggestion *int
	// By says who decided: "dashboard 127.0.0.1:5555", "mpm-wsd".
	By string
	// At is when.
	At time.Time
	// Output is what the hook prints (allow and deny only).
	Output []byte
}

// Decided reports whether a person decided (allow or deny).
func (r Resolution) Decided() bool { return len(r.Output) > 0 }

// Event returns the payload of the synthetic MpmApprovalDecision event
// the daemon journals in the request's session.
func (r Resolution) Event() []byte {
	a := r.Approval
	v := decisionEvent{a.SessionID, a.Cwd, protocol.EventApprovalDecision, a.ID, a.Seq, a.ToolName, r.Outcome, r.Message,
		r.Suggestion, r.By, r.At.UTC().Format(time.RFC3339Nano), a.RequestedAt.UTC().Format(time.RFC3339Nano)}
	b, _ := json.Marshal(v)
	return b
}

// ParseDecision reads the body of POST /v1/approvals/{id}: one JSON object
// with "decision" ("allow" or "deny"), an optional "message" (deny only,
// at most MaxMessage bytes) and an optional "suggestion" (allow only, an
// index >= 0). Anything else is an error that says what is wrong.
func ParseDecision(body []byte) (protocol.ApprovalDecision, error) {
	var d protocol.ApprovalDecision
	if len(body) > MaxBody {
		return d, fmt.Errorf("the body is more than %d bytes", MaxBody)
	}
	if !utf8.Valid(body) {
		return d, errors.New("the body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return protocol.ApprovalDecision{}, fmt.Errorf(`want {"decision":"allow"|"deny","message":"…","suggestion":N}: %v`, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return protocol.ApprovalDecision{}, errors.New("the body holds more than one JSON value")
	}
	switch d.Decision {
	case protocol.ApprovalAllow:
		if d.Message != "" {
			return protocol.ApprovalDecision{}, errors.New(`"message" goes with "deny" only`)
		}
		if d.Suggestion != nil && *d.Suggestion < 0 {
			return protocol.ApprovalDecision{}, errors.New(`"suggestion" must be an index >= 0`)
		}
	case protocol.ApprovalDeny:
		if d.Suggestion != nil {
			return protocol.ApprovalDecision{}, errors.New(`"suggestion" goes with "allow" only`)
		}
		if len(d.Message) > MaxMessage {
			return protocol.ApprovalDecision{}, fmt.Errorf(`"message" is longer than %d bytes`, MaxMessage)
		}
	default:
		return protocol.ApprovalDecision{}, fmt.Errorf(`"decision" must be "allow" or "deny", not %q`, d.Decision)
	}
	return d, nil
}

// HookOutput is what the hook prints for a decision: Claude Code's
// PermissionRequest answer (checked against the real client in
// TestClaudeCodePermissionHookContract). suggestion, when not nil, is the
// permission_suggestions entry applied as updatedPermissions.
func HookOutput(d protocol.ApprovalDecision, suggestion json.RawMessage) []byte {
	type decision struct {
		Behavior           string            `json:"behavior"`
		Message            string            `json:"message,omitempty"`
		UpdatedPermissions []json.RawMessage `json:"updatedPermissions,omitempty"`
	}
	dd := decision{Behavior: d.Decision, Message: d.Message}
	if d.Decision == protocol.ApprovalAllow && suggestion != nil {
		dd.UpdatedPermissions = []json.RawMessage{suggestion}
	}
	out := struct {
		H struct {
			Name     string   `json:"hookEventName"`
			Decision decision `json:"decision"`
		} `json:"hookSpecificOutput"`
	}{}
	out.H.Name = "PermissionRequest"
	out.H.Decision = dd
	b, _ := json.Marshal(out)
	return b
}

// OutputPrefix is how every HookOutput starts: the hook prints an answer
// only when it does.
const OutputPrefix = protocol.ApprovalOutputPrefix

// Config configures a Registry.
type Config struct {
	// Now is the clock (time.Now).
	Now func() time.Time
	// OnAdd is called (outside the registry's lock) when a request is
	// added.
	OnAdd func(protocol.Approval)
	// OnResolve is called (outside the lock, once per request) when it
	// ends, except at Close. It must not block for long: it may run on the
	// daemon's ingest loop.
	OnResolve func(Resolution)
}

// entry is one request.
type entry struct {
	a           protocol.Approval
	suggestions []json.RawMessage
	// done is closed when res is set.
	done  chan struct{}
	res   *Resolution
	timer *time.Timer
	// waiters counts Wait calls in progress; waited is set once one began.
	waiters int
	waited  bool
}

// Registry holds the requests.
type Registry struct {
	cfg Config
	mu  sync.Mutex
	// byID holds pending and recently resolved requests.
	byID map[string]*entry
	// pending counts the entries without a resolution.
	pending int
	// closed is set by Close.
	closed  bool
	closing chan struct{}
	// next numbers ids.
	next uint64
	// prefix makes ids differ across daemon runs.
	prefix string
}

// New returns an empty registry; instance (the daemon run's id) prefixes
// the request ids, so that an id never names two requests.
func New(cfg Config, instance string) *Registry {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if len(instance) > 8 {
		instance = instance[:8]
	}
	return &Registry{cfg: cfg, byID: map[string]*entry{}, closing: make(chan struct{}), prefix: instance}
}

// Add registers a pending request (a.ID, RequestedAt and ExpiresAt are set
// here from wait) and returns it.
func (r *Registry) Add(a protocol.Approval, wait time.Duration) protocol.Approval {
	wait = min(max(wait, MinWait), MaxWait)
	var sugg []json.RawMessage
	if len(a.PermissionSuggestions) > 0 {
		if json.Unmarshal(a.PermissionSuggestions, &sugg) != nil {
			sugg = nil
		}
	}
	now := r.cfg.Now()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return a
	}
	for {
		r.next++
		a.ID = r.prefix + "-" + strconv.FormatUint(r.next, 10)
		if _, taken := r.byID[a.ID]; !taken { // by another machine's request (fleet.go)
			break
		}
	}
	a.RequestedAt, a.ExpiresAt = now, now.Add(wait)
	e := &entry{a: a, suggestions: sugg, done: make(chan struct{})}
	r.byID[a.ID] = e
	r.pending++
	id := a.ID
	e.timer = time.AfterFunc(wait, func() {
		r.resolve(id, Resolution{Outcome: protocol.ApprovalExpired, By: "mpm-wsd", Message: "nobody answered from mpm in time: Claude Code asks in the terminal"})
	})
	r.pruneLocked(now)
	r.mu.Unlock()
	if r.cfg.OnAdd != nil {
		r.cfg.OnAdd(a)
	}
	return a
}

// pruneLocked forgets requests resolved more than keepResolved ago.
func (r *Registry) pruneLocked(now time.Time) {
	for id, e := range r.byID {
		if e.res != nil && now.Sub(e.res.At) > keepResolved {
			delete(r.byID, id)
		}
	}
}

// Pending returns the pending requests, oldest first.
func (r *Registry) Pending() []protocol.Approval {
	r.mu.Lock()
	out := make([]protocol.Approval, 0, r.pending)
	for _, e := range r.byID {
		if e.res == nil {
			out = append(out, e.a)
		}
	}
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// PendingFor returns the pending requests of the listed sessions (all
// when none is listed).
func (r *Registry) PendingFor(sessions []string) []protocol.Approval {
	all := r.Pending()
	if len(sessions) == 0 {
		return all
	}
	var out []protocol.Approval
	for _, a := range all {
		for _, s := range sessions {
			if a.SessionID == s {
				out = append(out, a)
				break
			}
		}
	}
	return out
}

// Decide applies a person's decision to a pending request.
func (r *Registry) Decide(id string, d protocol.ApprovalDecision, by string) (Resolution, error) {
	r.mu.Lock()
	e, ok := r.byID[id]
	if !ok {
		r.mu.Unlock()
		return Resolution{}, ErrUnknown
	}
	if e.a.ReadOnly {
		r.mu.Unlock()
		return Resolution{}, &ReadOnlyError{Origin: e.a.Origin}
	}
	if e.res != nil {
		res := *e.res
		r.mu.Unlock()
		return Resolution{}, &ResolvedError{Resolution: res}
	}
	var sugg json.RawMessage
	if d.Suggestion != nil {
		if *d.Suggestion >= len(e.suggestions) {
			r.mu.Unlock()
			return Resolution{}, ErrBadSuggestion
		}
		sugg = e.suggestions[*d.Suggestion]
	}
	r.mu.Unlock()
	res := Resolution{Outcome: d.Decision, Message: d.Message, Suggestion: d.Suggestion, By: by,
		Output: HookOutput(d, sugg)}
	got, won := r.resolve(id, res)
	if !won {
		return Resolution{}, &ResolvedError{Resolution: got}
	}
	return got, nil
}

// resolve ends request id with res unless it already ended; it returns the
// resolution that holds and whether it is res.
func (r *Registry) resolve(id string, res Resolution) (Resolution, bool) {
	r.mu.Lock()
	e, ok := r.byID[id]
	if !ok || r.closed {
		r.mu.Unlock()
		return Resolution{}, false
	}
	if e.res != nil {
		got := *e.res
		r.mu.Unlock()
		return got, false
	}
	res.Approval = e.a
	res.At = r.cfg.Now()
	e.res = &res
	r.pending--
	e.timer.Stop()
	close(e.done)
	r.mu.Unlock()
	if r.cfg.OnResolve != nil {
		r.cfg.OnResolve(res)
	}
	return res, true
}

// Wait waits up to timeout for request id to end, and returns its
// resolution; ok is false when it is still pending (timeout), or the
// registry closed. A waiter that goes away (cancel closed: the hook's
// connection dropped) while it was the only one leaves nobody to take a
// decision: the request ends as answered_elsewhere (Claude Code asks in
// the terminal, or already did).
func (r *Registry) Wait(cancel <-chan struct{}, id string, timeout time.Duration) (res Resolution, ok bool, err error) {
	r.mu.Lock()
	e, found := r.byID[id]
	if !found || e.a.ReadOnly { // another machine's hook waits there, not here
		r.mu.Unlock()
		return Resolution{}, false, ErrUnknown
	}
	if e.res != nil {
		res := *e.res
		r.mu.Unlock()
		return res, true, nil
	}
	e.waiters++
	e.waited = true
	r.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	gone := false
	select {
	case <-e.done:
	case <-t.C:
	case <-r.closing:
	case <-cancel:
		gone = true
	}
	r.mu.Lock()
	e.waiters--
	last := e.waiters == 0
	if e.res != nil {
		res := *e.res
		r.mu.Unlock()
		return res, true, nil
	}
	r.mu.Unlock()
	if gone && last {
		r.resolve(id, Resolution{Outcome: protocol.ApprovalAnsweredElsewhere, By: "mpm-hook",
			Message: "the hook stopped waiting: Claude Code asks in the terminal"})
	}
	return Resolution{}, false, nil
}

// Observe ends, as answered_elsewhere, the pending requests that the
// session's later events show were answered in the terminal: the call's
// PostToolUse or PostToolUseFailure (same tool and input), or a
// UserPromptSubmit, Stop, StopFailure or SessionEnd of the session. It is
// cheap when nothing is pending.
func (r *Registry) Observe(session, name, tool string, payload func() []byte) {
	switch name {
	case "PostToolUse", "PostToolUseFailure", "UserPromptSubmit", "Stop", "StopFailure", "SessionEnd":
	default:
		return
	}
	r.mu.Lock()
	if r.pending == 0 {
		r.mu.Unlock()
		return
	}
	var ids, tools []string
	var inputs []protocol.RawJSON
	for id, e := range r.byID {
		if e.res == nil && e.a.SessionID == session && !e.a.ReadOnly {
			ids = append(ids, id)
			tools = append(tools, e.a.ToolName)
			inputs = append(inputs, e.a.ToolInput)
		}
	}
	r.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	isTool := name == "PostToolUse" || name == "PostToolUseFailure"
	var input json.RawMessage
	if isTool {
		var p struct {
			ToolInput json.RawMessage `json:"tool_input"`
		}
		json.Unmarshal(payload(), &p)
		input = p.ToolInput
	}
	for k, id := range ids {
		// A tool event ends only the request of its own call: another
		// call of the turn (run in parallel) may end while one waits.
		if isTool && (tools[k] != tool || !sameJSON(inputs[k], input)) {
			continue
		}
		r.resolve(id, Resolution{Outcome: protocol.ApprovalAnsweredElsewhere, By: "terminal",
			Message: "answered in the terminal (" + name + " arrived)"})
	}
}

// sameJSON compares two JSON values, ignoring insignificant space.
func sameJSON(a, b []byte) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// ReleaseAll ends every pending request as answered_elsewhere with why
// (answering from mpm was switched off): their hooks return at once.
func (r *Registry) ReleaseAll(by, why string) {
	r.mu.Lock()
	var ids []string
	for id, e := range r.byID {
		if e.res == nil && !e.a.ReadOnly { // another machine's switch says for those
			ids = append(ids, id)
		}
	}
	r.mu.Unlock()
	for _, id := range ids {
		r.resolve(id, Resolution{Outcome: protocol.ApprovalAnsweredElsewhere, By: by, Message: why})
	}
}

// Close wakes every waiter with nothing (the daemon stops: the hooks print
// nothing and Claude Code asks in the terminal) and refuses new requests.
func (r *Registry) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	for _, e := range r.byID {
		if e.timer != nil {
			e.timer.Stop()
		}
	}
	close(r.closing)
}

// CleanBy makes a client's self-description safe to journal: at most 32
// printable ASCII characters, lower case; "api" when empty.
func CleanBy(client string) string {
	var b strings.Builder
	for i := 0; i < len(client) && b.Len() < 32; i++ {
		c := client[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
			b.WriteByte(c)
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		}
	}
	if b.Len() == 0 {
		return "api"
	}
	return b.String()
}
