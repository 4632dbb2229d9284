package event

import (
	"bytes"
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
		// Claude Code's names, exactly; the first occurrence counts (before
		// the fix "Session_Id" overrode session_id: encoding/json folds case
		// and keeps the last).
		{name: "case differs", in: `{"session_id":"lower","Session_Id":"mixed","hook_event_name":"Stop"}`, session: "lower", event: "Stop"},
		{name: "case differs first", in: `{"Session_Id":"mixed","session_id":"lower","hook_event_name":"Stop"}`, session: "lower", event: "Stop"},
		{name: "only other case", in: `{"SESSION_ID":"x","hook_event_name":"Stop"}`, reason: ReasonMissingField},
		{name: "duplicate first wins", in: `{"session_id":"first","hook_event_name":"Stop","session_id":"second","tool_name":"A","tool_name":"B"}`, session: "first", event: "Stop", tool: "A"},
		{name: "duplicate null first", in: `{"session_id":null,"session_id":"x","hook_event_name":"Stop"}`, reason: ReasonMissingField},
		{name: "escaped key", in: `{"session\u005fid":"esc","hook_event_name":"Stop"}`, session: "esc", event: "Stop"},
		{name: "escaped value", in: `{"session_id":"a\"b","hook_event_name":"Stop","tool_name":"T\u00e9"}`, session: `a"b`, event: "Stop", tool: "Té"},
		{name: "nested names ignored", in: `{"tool_input":{"session_id":"inner","x":["}",{"a":"\"}"}]},"session_id":"outer","hook_event_name":"Stop"}`, session: "outer", event: "Stop"},
		{name: "tool not string", in: `{"session_id":"a","hook_event_name":"X","tool_name":{"a":1}}`, reason: ReasonMissingField},
		{name: "numbers and literals", in: `{"n":-1.5e3,"t":true,"f":false,"z":null,"session_id":"a","hook_event_name":"X"}`, session: "a", event: "X"},
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

// referenceFields decodes the first occurrence of each top-level string
// member of a valid JSON object with encoding/json's tokenizer: what Parse
// must find.
func referenceFields(t *testing.T, in []byte) map[string]string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(in))
	if _, err := dec.Token(); err != nil {
		t.Fatalf("accepted payload does not tokenize: %v", err)
	}
	out := map[string]string{}
	seen := map[string]bool{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		key := k.(string)
		if seen[key] {
			continue
		}
		seen[key] = true
		if s, ok := v.(string); ok {
			out[key] = s
		}
	}
	return out
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"session_id":"lower","Session_Id":"mixed","hook_event_name":"X","session_id":"again"}`))
	f.Add([]byte(`{"a":{"session_id":"in"},"session\u005fid":"e\"sc","hook_event_name":"X","tool_name":"[{"}`))
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
		want := referenceFields(t, in)
		got := []string{ev.SessionID, ev.Name, ev.Tool, ev.ToolUseID, ev.Cwd, ev.TranscriptPath}
		for i, name := range fieldNames[:fReason] {
			if got[i] != want[name] {
				t.Fatalf("%s = %q, the first exact %q member says %q\n%q", name, got[i], name, want[name], in)
			}
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
