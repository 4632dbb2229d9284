package codec

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
)

func TestEventLineKeepsRecordOrCompacts(t *testing.T) {
	raw := []byte(`{"seq":3,"received":"2026-01-01T00:00:00Z","session_id":"s","event":"Stop","payload":{"a" : 1}}`)
	ev, err := DecodeEvent(raw)
	if err != nil || ev.Seq != 3 || ev.Event != "Stop" || string(ev.Payload) != `{"a" : 1}` {
		t.Fatalf("%+v %v", ev, err)
	}
	if got := EventLine(&ev); !bytes.Equal(got, raw) {
		t.Fatalf("one-line record changed: %s", got)
	}
	ev.Raw = []byte("{\"seq\":3,\n\"payload\":{\"a\":\r\n1}}")
	if got := string(EventLine(&ev)); got != `{"seq":3,"payload":{"a":1}}` {
		t.Fatalf("multi-line record: %q", got)
	}
	ev = protocol.Event{Seq: 1, Received: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), SessionID: "s", Event: "E", Payload: []byte(`{}`)}
	if got := string(EventLine(&ev)); got != `{"seq":1,"received":"2026-01-01T00:00:00Z","session_id":"s","event":"E","payload":{}}` {
		t.Fatalf("record without Raw: %s", got)
	}
}

// FuzzEventLine: whatever the daemon sends, a record that decodes becomes
// exactly one line, and stays valid JSON.
func FuzzEventLine(f *testing.F) {
	f.Add([]byte(`{"seq":1,"received":"2026-01-01T00:00:00Z","session_id":"s","event":"E","payload":{}}`))
	f.Add([]byte("{\"seq\":2,\"payload\":{\"x\":\n\"a\\nb\"}}"))
	f.Add([]byte(`{"seq":-1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := DecodeEvent(data)
		if err != nil {
			return
		}
		line := EventLine(&ev)
		if bytes.ContainsAny(line, "\r\n") {
			t.Fatalf("not one line: %q", line)
		}
		if json.Valid(data) && !json.Valid(line) {
			t.Fatalf("valid record became invalid: %q -> %q", data, line)
		}
	})
}

// TestServerMessagesRoundTrip: every message the daemon sends decodes to
// the value it was encoded from, whether "type" comes first (as the daemon
// writes it) or not.
func TestServerMessagesRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 25, 21, 0, 0, 123456789, time.UTC)
	since := uint64(40)
	for _, m := range []any{
		protocol.Hello{Type: protocol.TypeHello, Protocol: protocol.Version, Instance: "i", Version: "v", LastSeq: 41, OldestSeq: 1, ServerTime: now, HeartbeatMS: 10000},
		protocol.Subscribed{Type: protocol.TypeSubscribed, Sessions: []string{"a"}, Since: &since, ReplayTo: 57, OldestSeq: 1, Truncated: true},
		protocol.Subscribed{Type: protocol.TypeSubscribed, Sessions: []string{}},
		protocol.Events{Type: protocol.TypeEvents, Events: []protocol.RawJSON{protocol.RawJSON(`{"seq":1}`), protocol.RawJSON(`{"seq":2}`)}},
		protocol.Live{Type: protocol.TypeLive, Seq: 57},
		protocol.Heartbeat{Type: protocol.TypeHeartbeat, LastSeq: 57, ServerTime: now},
		protocol.ErrorMsg{Type: protocol.TypeError, Error: "tail must be >= 0"},
		protocol.Pong{Type: protocol.TypePong},
		protocol.ApprovalFrame{Type: protocol.TypeApproval, Approval: protocol.Approval{ID: "ab-1", Seq: 9, SessionID: "s", Cwd: "/p", ToolName: "Bash",
			ToolInput: protocol.RawJSON(`{"command":"ls"}`), PermissionSuggestions: protocol.RawJSON(`[{"type":"setMode"}]`), RequestedAt: now, ExpiresAt: now.Add(time.Minute)}},
		protocol.ApprovalResolvedFrame{Type: protocol.TypeApprovalResolved, ID: "ab-1", SessionID: "s", Outcome: protocol.ApprovalDeny, By: "monitor 127.0.0.1:1", Message: "no", At: now},
	} {
		data := Encode(m)
		typ, got, err := DecodeServerMsg(data)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("%s: decoded %s as %q %#v, %v", reflect.TypeOf(m).Name(), data, typ, got, err)
		}
		// The same object with "type" last.
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(data, &obj); err != nil {
			t.Fatal(err)
		}
		typRaw := obj["type"]
		delete(obj, "type")
		rest := Encode(obj)
		moved := append(append(append([]byte(nil), rest[:len(rest)-1]...), `,"type":`...), typRaw...)
		if len(obj) == 0 {
			moved = append([]byte(`{"type":`), typRaw...)
		}
		moved = append(moved, '}')
		if _, got2, err := DecodeServerMsg(moved); err != nil || !reflect.DeepEqual(got2, m) {
			t.Errorf("%s with type last: decoded %s as %#v, %v", reflect.TypeOf(m).Name(), moved, got2, err)
		}
	}
}

func TestDecodeServerMsgRefusesBadJSON(t *testing.T) {
	for _, bad := range []string{``, `[]`, `{"type":"events","events":[{]}`, `{"type":"future", "x": }`, `{"type":"hello","protocol":"one"}`, `nope`} {
		if _, _, err := DecodeServerMsg([]byte(bad)); err == nil {
			t.Errorf("DecodeServerMsg(%s) accepted", bad)
		}
	}
	typ, m, err := DecodeServerMsg([]byte(` { "type" : "future", "x": [1] }`))
	if err != nil || typ != "future" || m != nil {
		t.Errorf("unknown type: %q %v %v", typ, m, err)
	}
}

// FuzzDecodeServerMsg: any frame is decoded or refused, never a panic; a
// decoded known message is valid JSON of its type.
func FuzzDecodeServerMsg(f *testing.F) {
	f.Add([]byte(`{"type":"hello","protocol":1,"instance":"a","last_seq":3}`))
	f.Add([]byte(`{"type":"events","events":[{"seq":1,"payload":{}}]}`))
	f.Add([]byte(` {"events":[], "type":"events"}`))
	f.Add([]byte(`{"type":"ev\u0065nts"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		typ, m, err := DecodeServerMsg(data)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q as %q", data, typ)
		}
		if m != nil {
			if _, _, err := DecodeServerMsg(Encode(m)); err != nil {
				t.Fatalf("%q: re-encoded %T does not decode: %v", data, m, err)
			}
		}
	})
}
