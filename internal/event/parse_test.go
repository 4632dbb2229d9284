package event

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	big := `{"session_id":"s","hook_event_name":"PostToolUse","tool_response":"` + strings.Repeat("x", 2000) + `"}`
	tests := []struct {
		name    string
		in      string
		max     int
		reason  Reason
		session string
		event   string
		tool    string
	}{
		{name: "pre tool use", in: `{"session_id":"abc","hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"t1","tool_input":{"command":"ls"}}`, session: "abc", event: "PreToolUse", tool: "Bash"},
		{name: "white space kept", in: " \n{\"session_id\":\"a\",\n \"hook_event_name\":\"Stop\"}\n", session: "a", event: "Stop"},
		{name: "unknown fields", in: `{"session_id":"a","hook_event_name":"X","new_field":[1,2,{"z":null}]}`, session: "a", event: "X"},
		{name: "empty", in: ``, reason: ReasonInvalidJSON},
		{name: "blank", in: "  \n", reason: ReasonInvalidJSON},
		{name: "garbage", in: `hello`, reason: ReasonInvalidJSON},
		{name: "truncated", in: `{"session_id":"a","hook_event_name":"X"`, reason: ReasonInvalidJSON},
		{name: "array", in: `[1,2]`, reason: ReasonNotObject},
		{name: "string", in: `"x"`, reason: ReasonNotObject},
		{name: "no session", in: `{"hook_event_name":"X"}`, reason: ReasonMissingField},
		{name: "empty session", in: `{"session_id":"","hook_event_name":"X"}`, reason: ReasonMissingField},
		{name: "no event", in: `{"session_id":"a"}`, reason: ReasonMissingField},
		{name: "session not string", in: `{"session_id":5,"hook_event_name":"X"}`, reason: ReasonMissingField},
		{name: "invalid utf8", in: "{\"session_id\":\"a\xff\",\"hook_event_name\":\"X\"}", reason: ReasonInvalidUTF8},
		{name: "too large", in: big, max: 1000, reason: ReasonTooLarge},
		{name: "large ok", in: big, max: 1 << 20, session: "s", event: "PostToolUse"},
		{name: "trailing garbage", in: `{"session_id":"a","hook_event_name":"X"} x`, reason: ReasonInvalidJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Parse([]byte(tt.in), tt.max)
			if tt.reason != "" {
				if err == nil {
					t.Fatalf("Parse accepted %q, want rejection %s", tt.in, tt.reason)
				}
				if got := ReasonOf(err); got != tt.reason {
					t.Fatalf("reason = %q (%v), want %q", got, err, tt.reason)
				}
				if err.Error() == "" {
					t.Fatal("empty error message")
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if ev.SessionID != tt.session || ev.Name != tt.event || ev.Tool != tt.tool {
				t.Fatalf("got session=%q event=%q tool=%q", ev.SessionID, ev.Name, ev.Tool)
			}
			if string(ev.Payload) != tt.in {
				t.Fatal("payload was not kept byte for byte")
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"session_id":"abc","hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"t1"}`))
	f.Add([]byte(`{"session_id":"a","hook_event_name":"X","x":"\u00e9\ud83d\ude00"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte("{\"session_id\":\"\xff\"}"))
	f.Fuzz(func(t *testing.T, in []byte) {
		ev, err := Parse(in, 1<<16)
		if err != nil {
			if ReasonOf(err) == "" {
				t.Fatalf("error without reason: %v", err)
			}
			return
		}
		if ev.SessionID == "" || ev.Name == "" {
			t.Fatal("accepted an event without session or name")
		}
		ev.Seq = 1
		ev.Received = time.Unix(0, 0)
		var out map[string]json.RawMessage
		if err := json.Unmarshal(ev.Wire(), &out); err != nil {
			t.Fatalf("accepted payload gives invalid wire JSON: %v\n%q", err, ev.Wire())
		}
		if string(out["payload"]) != string(in) && string(out["payload"]) != strings.TrimSpace(string(in)) {
			// encoding/json trims surrounding white space of a RawMessage value.
			t.Fatalf("payload not preserved: %q vs %q", out["payload"], in)
		}
	})
}
