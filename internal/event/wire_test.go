package event

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/protocol/codec"
)

// record is the event record ev stands for on the wire.
func record(ev *Event) protocol.Event {
	r := protocol.Event{
		Seq: ev.Seq, Received: ev.Received.UTC(), SessionID: ev.SessionID, Event: ev.Name,
		Tool: ev.Tool, ToolUseID: ev.ToolUseID, Ephemeral: ev.Ephemeral,
		Origin: ev.Origin, OriginSeq: ev.OriginSeq, Payload: bytes.Trim(ev.Payload, " \t\r\n"),
	}
	if !ev.Sent.IsZero() {
		r.Sent = ev.Sent.UTC()
	}
	return r
}

// checkWire holds AppendWire, the daemon's hand-written encoder of the
// record, to protocol's definition of it: codec.DecodeEvent gives back
// every field, and the JSON is the same value encoding/json writes for the
// protocol.Event (same keys, omitted when absent alike).
func checkWire(t *testing.T, ev *Event) {
	t.Helper()
	wire := ev.AppendWire(nil)
	got, err := codec.DecodeEvent(wire)
	if err != nil {
		t.Fatalf("codec.DecodeEvent refused AppendWire's %q: %v", wire, err)
	}
	want := record(ev)
	if !got.Received.Equal(want.Received) || !got.Sent.Equal(want.Sent) {
		t.Fatalf("times: got %v, %v; want %v, %v", got.Received, got.Sent, want.Received, want.Sent)
	}
	if !bytes.Equal(got.Raw, wire) {
		t.Fatalf("Raw is not the record as it came")
	}
	g, w := got, want
	g.Received, g.Sent, g.Raw, w.Received, w.Sent = time.Time{}, time.Time{}, nil, time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("AppendWire's %q decodes to\n%#v, want\n%#v", wire, g, w)
	}
	if a, b := jsonValue(t, wire), jsonValue(t, codec.Encode(want)); !reflect.DeepEqual(a, b) {
		t.Fatalf("AppendWire and encoding/json disagree on the record:\n%q\n%q", wire, codec.Encode(want))
	}
	// The hub writes the record in parts, from the head Encode caches (or
	// not yet): the same bytes, and Size counts them.
	cp := *ev
	for _, encoded := range []bool{false, true} {
		if encoded {
			cp.Encode()
		}
		var parts bytes.Buffer
		if err := cp.WriteWire(&parts); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(parts.Bytes(), wire) || !bytes.Equal(cp.Wire(), wire) {
			t.Fatalf("encoded %v: WriteWire %q, Wire %q, want AppendWire's %q", encoded, parts.Bytes(), cp.Wire(), wire)
		}
		if cp.Size() != len(wire) {
			t.Fatalf("encoded %v: Size %d, want %d", encoded, cp.Size(), len(wire))
		}
	}
}

func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v\n%q", err, b)
	}
	return v
}

func TestWireRoundTrip(t *testing.T) {
	received := time.Date(2026, 11, 25, 21, 0, 0, 123, time.UTC)
	for name, set := range map[string]func(*Event){
		"minimal":   func(ev *Event) {},
		"sent":      func(ev *Event) { ev.Sent = received.Add(-time.Millisecond) },
		"ephemeral": func(ev *Event) { ev.Seq, ev.Ephemeral = 0, true },
		"fleet":     func(ev *Event) { ev.Origin, ev.OriginSeq = "box <1> & \"a\"", 7 },
		"local zone": func(ev *Event) {
			ev.Received = received.In(time.FixedZone("x", 3600))
			ev.Sent = ev.Received
		},
	} {
		t.Run(name, func(t *testing.T) {
			payload := "{\"session_id\":\"s<1>&\",\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Bash\",\n\"tool_use_id\":\"t\\u0001\"}"
			ev, err := Parse([]byte(payload), 0)
			if err != nil {
				t.Fatal(err)
			}
			ev.Seq, ev.Received = 42, received
			set(ev)
			checkWire(t, ev)
			if got, _ := codec.DecodeEvent(ev.Wire()); string(got.Payload) != payload || got.SessionID != "s<1>&" || got.ToolUseID != "t\x01" {
				t.Fatalf("payload or fields changed: %+v", got)
			}
		})
	}
}

// FuzzWireRoundTrip: for any event the daemon can hold, AppendWire writes
// what protocol defines (see checkWire).
func FuzzWireRoundTrip(f *testing.F) {
	f.Add([]byte(`{"session_id":"abc","hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"t1"}`), uint64(1), int64(1764104400123456789), int64(0), false, "", uint64(0))
	f.Add([]byte("{\"session_id\":\"a\\u2028<>&\\\"\",\"hook_event_name\":\"X\",\"x\":\"\u00e9😀\"}\n"), uint64(0), int64(-1), int64(5), true, "pc-1", uint64(9))
	f.Add([]byte(`{"hook_event_name":"Stop","session_id":"s","tool_name":"\u0000\t\\"}`), uint64(1<<63), int64(0), int64(-5), false, "o\x7f\u00ff", uint64(1))
	f.Fuzz(func(t *testing.T, payload []byte, seq uint64, recv, sent int64, ephemeral bool, origin string, originSeq uint64) {
		ev, err := Parse(payload, 0)
		if err != nil || !utf8.ValidString(origin) {
			return // not an event the daemon holds: Parse refuses it, fleet.Config.Validate such an origin
		}
		switch {
		case origin == "":
			originSeq = 0 // an origin seq comes only with an origin,
		case originSeq == 0:
			originSeq = 1 // and an origin with its seq there (fleet's decode refuses 0)
		}
		ev.Seq, ev.Received, ev.Ephemeral, ev.Origin, ev.OriginSeq = seq, time.Unix(0, recv), ephemeral, origin, originSeq
		if sent != 0 {
			ev.Sent = time.Unix(0, sent)
		}
		checkWire(t, ev)
	})
}

// TestWriteWireAllocates: writing an encoded event to a client allocates
// nothing (the hub writes every event to every subscriber: a 320-byte
// scratch buffer that escaped cost the fan-out a quarter of its throughput
// in memory mode), and Size allocates nothing either way.
func TestWriteWireAllocates(t *testing.T) {
	ev, err := Parse([]byte(`{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"Bash"}`), 0)
	if err != nil {
		t.Fatal(err)
	}
	ev.Seq, ev.Received = 7, time.Now()
	var w bytes.Buffer
	w.Grow(1 << 16)
	if n := testing.AllocsPerRun(100, func() { ev.Size() }); n != 0 {
		t.Errorf("Size of an event not yet encoded: %.0f allocations, want 0", n)
	}
	ev.Encode()
	if n := testing.AllocsPerRun(100, func() {
		w.Reset()
		ev.WriteWire(&w)
		ev.Size()
	}); n != 0 {
		t.Errorf("WriteWire and Size of an encoded event: %.0f allocations, want 0", n)
	}
}

// TestAppendWireOfAChangedCopy: a copy of an encoded event whose fields
// change (the fleet edge sets the origin on its copy) encodes what it holds
// now, not the head its original cached.
func TestAppendWireOfAChangedCopy(t *testing.T) {
	ev, err := Parse([]byte(`{"session_id":"s","hook_event_name":"Stop"}`), 0)
	if err != nil {
		t.Fatal(err)
	}
	ev.Seq, ev.Received = 3, time.Now()
	ev.Encode()
	c := *ev
	c.Origin, c.OriginSeq = "box", 3
	got, err := codec.DecodeEvent(c.AppendWire(nil))
	if err != nil || got.Origin != "box" || got.OriginSeq != 3 {
		t.Fatalf("the copy's encoding: %+v, %v; want origin box, origin seq 3", got, err)
	}
	if !bytes.Equal(c.Wire(), c.AppendWire(nil)) {
		t.Fatalf("Wire and AppendWire differ for the copy")
	}
}
