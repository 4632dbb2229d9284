package approvals

import (
	"errors"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// TestRemoteRequests: another machine's requests (a fleet hub) are listed
// read-only from the edge's events, end with the edge's decision or at
// their expiry, and can be neither answered, waited on, nor ended by this
// machine's own rules.
func TestRemoteRequests(t *testing.T) {
	now := time.Now()
	got := make(chan Resolution, 8)
	added := make(chan protocol.Approval, 8)
	r := New(Config{OnAdd: func(a protocol.Approval) { added <- a }, OnResolve: func(res Resolution) { got <- res }}, "hub00000")
	req := func(id, session string, expires time.Time) []byte {
		return RequestEvent(protocol.Approval{ID: id, Seq: 7, SessionID: session, ToolName: "Bash", ToolInput: protocol.RawJSON(`{"command":"ls"}`),
			RequestedAt: now, ExpiresAt: expires})
	}
	decision := func(id, session, outcome string) []byte {
		return Resolution{Approval: protocol.Approval{ID: id, SessionID: session}, Outcome: outcome, By: "dashboard 127.0.0.1:1", At: now}.Event()
	}

	// Listed read-only with its origin; the session id is the record's.
	if !r.ObserveRemote("edge-a", "s1", protocol.EventApprovalRequest, req("e1-1", "forged", now.Add(time.Hour))) {
		t.Fatal("the request event was not taken")
	}
	a := <-added
	if !a.ReadOnly || a.Origin != "edge-a" || a.SessionID != "s1" || a.ID != "e1-1" || string(a.ToolInput) != `{"command":"ls"}` {
		t.Fatalf("listed %+v", a)
	}
	// Not answerable here, not waitable, not ended by this machine's rules.
	var ro *ReadOnlyError
	if _, err := r.Decide("e1-1", protocol.ApprovalDecision{Decision: "allow"}, "x"); !errors.As(err, &ro) || ro.Origin != "edge-a" {
		t.Fatalf("decide: %v", err)
	}
	if _, _, err := r.Wait(make(chan struct{}), "e1-1", time.Millisecond); !errors.Is(err, ErrUnknown) {
		t.Fatalf("wait: %v", err)
	}
	r.Observe("s1", "PostToolUse", "Bash", func() []byte { return []byte(`{"tool_input":{"command":"ls"}}`) })
	r.ReleaseAll("me", "switched off")
	if p := r.Pending(); len(p) != 1 {
		t.Fatalf("pending after local rules: %+v", p)
	}
	// Another origin's decision does not end it; its own does.
	r.ObserveRemote("edge-b", "s1", protocol.EventApprovalDecision, decision("e1-1", "s1", "allow"))
	if p := r.Pending(); len(p) != 1 {
		t.Fatalf("another origin ended it: %+v", r.Pending())
	}
	r.ObserveRemote("edge-a", "s1", protocol.EventApprovalDecision, decision("e1-1", "s1", "deny"))
	if res := <-got; res.Outcome != "deny" || res.Approval.ID != "e1-1" || res.Decided() {
		t.Fatalf("resolved %+v", res)
	}

	// A decision before its request: the request is not listed after.
	r.ObserveRemote("edge-a", "s2", protocol.EventApprovalDecision, decision("e1-2", "s2", "allow"))
	r.ObserveRemote("edge-a", "s2", protocol.EventApprovalRequest, req("e1-2", "s2", now.Add(time.Hour)))
	// An expired one is not listed; one that expires here goes by itself.
	r.ObserveRemote("edge-a", "s3", protocol.EventApprovalRequest, req("e1-3", "s3", now.Add(-time.Second)))
	r.ObserveRemote("edge-a", "s4", protocol.EventApprovalRequest, req("e1-4", "s4", time.Now().Add(50*time.Millisecond)))
	if a := <-added; a.ID != "e1-4" {
		t.Fatalf("listed %+v", a)
	}
	if res := <-got; res.Approval.ID != "e1-4" || res.Outcome != protocol.ApprovalExpired || res.By != "edge-a" {
		t.Fatalf("expiry: %+v", res)
	}
	if p := r.Pending(); len(p) != 0 {
		t.Fatalf("pending: %+v", p)
	}
	// A local request never takes a remote one's id.
	r.ObserveRemote("edge-a", "s5", protocol.EventApprovalRequest, req("hub00000-1", "s5", now.Add(time.Hour)))
	<-added
	local := r.Add(protocol.Approval{SessionID: "s6", ToolName: "Bash"}, time.Hour)
	<-added
	if local.ID == "hub00000-1" || len(r.Pending()) != 2 {
		t.Fatalf("local id %q, pending %+v", local.ID, r.Pending())
	}
	// Local events and payloads that do not parse are ignored.
	if r.ObserveRemote("", "s7", protocol.EventApprovalRequest, req("x", "s7", now.Add(time.Hour))) ||
		r.ObserveRemote("edge-a", "s7", protocol.EventApprovalRequest, []byte(`{"approval":7}`)) ||
		r.ObserveRemote("edge-a", "s7", "PreToolUse", []byte(`{}`)) {
		t.Fatal("took an event it should ignore")
	}
	r.Close()
}
