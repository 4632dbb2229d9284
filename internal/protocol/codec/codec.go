// Package codec encodes and decodes internal/protocol's wire shapes as JSON:
// one encoder and one decoder for each, so that the daemon, the client,
// mpm-verify and the fleet read the wire the same way. It is apart from
// package protocol because it links encoding/json, which mpm-hook (which
// links protocol) must not.
//
// The one exception to "one encoder" is the event record: the daemon writes
// it with a hand-written encoder on its hot path (internal/event's
// AppendWire), which a fuzz test holds to DecodeEvent.
package codec

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// Encode returns v's JSON. v is one of package protocol's types, which
// always encode: anything else that does not is a programming error, and
// Encode panics.
func Encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("codec: encoding %T: %v", v, err))
	}
	return b
}

// DecodeEvent decodes one event record, keeping raw in Raw (and Payload
// pointing into it).
func DecodeEvent(raw []byte) (protocol.Event, error) {
	var ev protocol.Event
	err := decodeEvent(raw, &ev)
	return ev, err
}

// DecodeEvents decodes the records of an events frame or page.
func DecodeEvents(raws []protocol.RawJSON) ([]protocol.Event, error) {
	out := make([]protocol.Event, len(raws))
	for i, r := range raws {
		if err := decodeEvent(r, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func decodeEvent(raw []byte, ev *protocol.Event) error {
	if err := json.Unmarshal(raw, ev); err != nil {
		*ev = protocol.Event{}
		return err
	}
	ev.Raw = raw
	return nil
}

// DecodeServerMsg decodes one message from the daemon by its type: msg is
// a protocol.Hello, Subscribed, Events, Live, Heartbeat, ErrorMsg, Pong or
// SessionFrame, ApprovalFrame or ApprovalResolvedFrame
// (a value, not a pointer). For a type this package does not know (a newer
// daemon's), msg is nil and err is nil: the caller may ignore it.
func DecodeServerMsg(data []byte) (typ string, msg any, err error) {
	typ, err = msgType(data)
	if err != nil {
		return "", nil, err
	}
	switch typ {
	case protocol.TypeHello:
		return decodeAs[protocol.Hello](typ, data)
	case protocol.TypeSubscribed:
		return decodeAs[protocol.Subscribed](typ, data)
	case protocol.TypeEvents:
		return decodeAs[protocol.Events](typ, data)
	case protocol.TypeLive:
		return decodeAs[protocol.Live](typ, data)
	case protocol.TypeHeartbeat:
		return decodeAs[protocol.Heartbeat](typ, data)
	case protocol.TypeError:
		return decodeAs[protocol.ErrorMsg](typ, data)
	case protocol.TypePong:
		return decodeAs[protocol.Pong](typ, data)
	case protocol.TypeSession:
		return decodeAs[protocol.SessionFrame](typ, data)
	case protocol.TypeApproval:
		return decodeAs[protocol.ApprovalFrame](typ, data)
	case protocol.TypeApprovalResolved:
		return decodeAs[protocol.ApprovalResolvedFrame](typ, data)
	}
	if !json.Valid(data) { // msgType may not have read it all
		var v struct{}
		return "", nil, json.Unmarshal(data, &v) // the decoder's own message
	}
	return typ, nil, nil
}

func decodeAs[M any](typ string, data []byte) (string, any, error) {
	var m M
	if err := json.Unmarshal(data, &m); err != nil {
		return typ, nil, fmt.Errorf("%s message: %w", typ, err)
	}
	return typ, m, nil
}

// DecodeClientMsg decodes one message from a client (subscribe, ping).
func DecodeClientMsg(data []byte) (protocol.ClientMsg, error) {
	var m protocol.ClientMsg
	err := json.Unmarshal(data, &m)
	return m, err
}

// DecodeHealth decodes a /healthz answer. Whether it came from an mpm-wsd
// is the caller's judgement (Service is protocol.ServiceName).
func DecodeHealth(body []byte) (protocol.Health, error) {
	var h protocol.Health
	err := json.Unmarshal(body, &h)
	return h, err
}

// msgType returns a message's "type". The daemon writes "type" first, so
// that is read without a pass over the whole (possibly large) frame, which
// the caller validates as it decodes it; a message with "type" elsewhere
// is decoded in full.
func msgType(data []byte) (string, error) {
	if t, ok := leadingType(data); ok {
		return t, nil
	}
	var env struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return "", err
	}
	return env.Type, nil
}

// leadingType reads `{"type":"X"` at the start of data (white space
// allowed), X without escapes.
func leadingType(data []byte) (string, bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return "", false
	}
	i = skipSpace(data, i+1)
	const key = `"type"`
	if !bytes.HasPrefix(data[i:], []byte(key)) {
		return "", false
	}
	i = skipSpace(data, i+len(key))
	if i >= len(data) || data[i] != ':' {
		return "", false
	}
	i = skipSpace(data, i+1)
	if i >= len(data) || data[i] != '"' {
		return "", false
	}
	start := i + 1
	for j := start; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return string(data[start:j]), true
		case c == '\\' || c < 0x20:
			return "", false
		}
	}
	return "", false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// EventLine returns the record as one line of JSON (NDJSON): the record as
// it came (Raw) when it has no line break, else compacted; without Raw, ev
// encoded. No trailing newline.
func EventLine(ev *protocol.Event) []byte {
	raw := []byte(ev.Raw)
	if len(raw) == 0 {
		b, err := json.Marshal(ev)
		if err != nil {
			return nil
		}
		return b
	}
	if bytes.IndexByte(raw, '\n') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		return raw
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r"), nil), []byte("\n"), []byte(" "))
	}
	return buf.Bytes()
}

// DecodeSearchResult decodes the body of GET /v1/search.
func DecodeSearchResult(body []byte) (protocol.SearchResult, error) {
	var r protocol.SearchResult
	if err := json.Unmarshal(body, &r); err != nil {
		return r, fmt.Errorf("search result: %w", err)
	}
	return r, nil
}
