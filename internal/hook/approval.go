package hook

import (
	"bytes"
	"errors"
	"strconv"
	"time"

	"github.com/mpm-dev/mpm/internal/jsonobj"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/protocol"
)

// Answering permission requests from mpm (mpm-hook install --approvals):
// on a PermissionRequest, with MPM_HOOK_APPROVAL_WAIT set (install writes
// it into that event's command only), the hook posts the event saying it
// waits, then long-polls the daemon for a person's decision and prints it
// for Claude Code. Anything but a decision — timeout, daemon down or hung,
// an error, answering from mpm switched off — prints nothing: Claude Code
// then asks in the terminal (its own prompt never waits for the hook).
// Nothing is ever allowed by default.

const (
	// EnvApprovalWait is how long the hook waits for a decision (a Go
	// duration, "2m"); unset or bad: it does not wait.
	EnvApprovalWait = "MPM_HOOK_APPROVAL_WAIT"
	// approvalGrace is how much longer than the wait the hook gives the
	// daemon to answer the long poll (it answers at the expiry itself).
	approvalGrace = 3 * time.Second
	// maxApprovalWait bounds the wait (the daemon's own bound).
	maxApprovalWait = time.Hour
)

// Approval outcomes in Result.Approval (debug line, tests).
const (
	ApprovalDecided  = "decided"
	ApprovalNone     = "none"     // waited, no decision: timeout, expired, answered elsewhere
	ApprovalOff      = "off"      // answering from mpm is switched off
	ApprovalNotAsked = "not-sent" // the event did not reach the daemon
	ApprovalFailed   = "failed"   // the wait failed (daemon down or hung, bad answer)
)

// permissionRequestMarker is how Claude Code's compact JSON names the event.
var permissionRequestMarker = []byte(`"hook_event_name":"PermissionRequest"`)

// waitsForApproval reports whether this run waits for a decision on data.
func waitsForApproval(cfg Config, data []byte) bool {
	return cfg.ApprovalWait > 0 && bytes.Contains(data, permissionRequestMarker)
}

// approvalHeader is the extra header of a PermissionRequest whose hook waits.
func approvalHeader(wait time.Duration) string {
	secs := int64(wait / time.Second)
	if secs < 1 {
		secs = 1
	}
	return protocol.HeaderApprovalWait + ": " + strconv.FormatInt(secs, 10) + "\r\n"
}

// headerValue returns the value of the header name (canonical case, as
// Go's server writes it) in an HTTP answer, "" when absent.
func headerValue(resp []byte, name string) string {
	end := bytes.Index(resp, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(resp)
	}
	key := []byte("\r\n" + name + ": ")
	i := bytes.Index(resp[:end], key)
	if i < 0 {
		return ""
	}
	v := resp[i+len(key) : end]
	if j := bytes.IndexByte(v, '\r'); j >= 0 {
		v = v[:j]
	}
	return string(v)
}

// validApprovalID accepts the daemon's ids only (letters, digits, '-'), so
// nothing else goes into the request line.
func validApprovalID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// postApproval posts a PermissionRequest whose hook waits, over TCP with
// the token, and returns the whole answer (its headers name the request)
// and the token for the wait.
func postApproval(cfg Config, key string, sent time.Time, body []byte, deadline time.Time) (code int, resp []byte, tok string, err error) {
	tok, err = readToken(paths.Token(cfg.DataDir))
	if err != nil {
		return 0, nil, "", err
	}
	req := buildRequestHeader(cfg.Addr, tok, key, sent.UnixNano(), body, approvalHeader(cfg.ApprovalWait))
	code, resp, err = roundTrip(cfg.Addr, req, deadline, true)
	return code, resp, tok, err
}

var errBadDecision = errors.New("the daemon's answer is not a PermissionRequest decision")

// awaitDecision long-polls the daemon for request id's decision and
// returns what to print: nil unless a person decided.
func awaitDecision(cfg Config, tok string, resp []byte, wait time.Duration) (out []byte, outcome string, err error) {
	switch headerValue(resp, protocol.HeaderApproval) {
	case "pending":
	case "off":
		return nil, ApprovalOff, nil
	default:
		return nil, ApprovalFailed, errors.New("the daemon did not register the request (an older mpm-wsd?)")
	}
	id := headerValue(resp, protocol.HeaderApprovalID)
	if !validApprovalID(id) {
		return nil, ApprovalFailed, errors.New("the daemon answered a bad approval id")
	}
	secs := strconv.FormatInt(int64(wait/time.Second), 10)
	code, body, err := Get(cfg.Addr, "/v1/approvals/"+id+"/wait?timeout="+secs, tok, wait+approvalGrace)
	switch {
	case err != nil:
		return nil, ApprovalFailed, err
	case code == 204:
		return nil, ApprovalNone, nil
	case code != 200:
		return nil, ApprovalFailed, errors.New("the daemon answered the wait with status " + strconv.Itoa(code))
	}
	if !bytes.HasPrefix(body, []byte(protocol.ApprovalOutputPrefix)) || !jsonobj.Valid(body) {
		return nil, ApprovalFailed, errBadDecision
	}
	return body, ApprovalDecided, nil
}
