package client

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestEventLineKeepsRecordOrCompacts(t *testing.T) {
	raw := []byte(`{"seq":3,"received":"2026-01-01T00:00:00Z","session_id":"s","event":"Stop","payload":{"a" : 1}}`)
	evs, err := decodeEvents([]json.RawMessage{raw})
	if err != nil || evs[0].Seq != 3 || evs[0].Event != "Stop" {
		t.Fatalf("%+v %v", evs, err)
	}
	if got := evs[0].Line(); !bytes.Equal(got, raw) {
		t.Fatalf("one-line record changed: %s", got)
	}
	evs[0].Raw = []byte("{\"seq\":3,\n\"payload\":{\"a\":\r\n1}}")
	if got := string(evs[0].Line()); got != `{"seq":3,"payload":{"a":1}}` {
		t.Fatalf("multi-line record: %q", got)
	}
}

// FuzzEventLine: whatever the daemon sends, a record that decodes becomes
// exactly one line, and stays valid JSON.
func FuzzEventLine(f *testing.F) {
	f.Add([]byte(`{"seq":1,"received":"2026-01-01T00:00:00Z","session_id":"s","event":"E","payload":{}}`))
	f.Add([]byte("{\"seq\":2,\"payload\":{\"x\":\n\"a\\nb\"}}"))
	f.Add([]byte(`{"seq":-1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := decodeEvents([]json.RawMessage{data})
		if err != nil {
			return
		}
		line := evs[0].Line()
		if bytes.ContainsAny(line, "\r\n") {
			t.Fatalf("not one line: %q", line)
		}
		if json.Valid(data) && !json.Valid(line) {
			t.Fatalf("valid record became invalid: %q -> %q", data, line)
		}
	})
}
