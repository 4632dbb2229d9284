package journal

import (
	"fmt"
	"strings"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
)

// eventRow is the journal's stored form of an event: one row of the events
// table (see schema), column for column. It is its own type, apart from the
// daemon's event.Event and the wire record (protocol.Event), so that a
// change to either does not silently change what is on disk, nor a change
// to the file what clients get: a field reaches the file only by being
// added here, to eventCols and to the schema (with a migration).
type eventRow struct {
	Seq            int64 // seq
	ReceivedNS     int64 // received_ns: Unix nanoseconds
	SentNS         int64 // sent_ns: Unix nanoseconds, 0 when unknown
	SessionID      string
	Event          string // event: hook_event_name
	Tool           string
	ToolUseID      string
	Cwd            string
	TranscriptPath string
	Reason         string
	Payload        []byte // payload: the hook JSON as stored by PayloadCodec
	Origin         string // '' for local events
	OriginSeq      int64  // 0 for local events
	PayloadCodec   int64  // payload_codec: codecRaw (every row before layout 4), codecZstdV1 or codecBlockV1 (blocks.go)
	// With numbered (layout 7: names.go), the session_id, event and tool
	// columns hold SessionNum, EventNum and ToolNum (0: no tool), the
	// numbers of SessionID, Event and Tool in the names table (set for
	// a row to store). numCols says which columns of a row read held
	// numbers (bits 1, 2 and 4: nameCol).
	numbered                      bool
	numCols                       uint8
	SessionNum, EventNum, ToolNum int64
}

// nameCol is a column that holds a name: as text (SessionID, Event, Tool)
// or, in a numbered row, as its number. It scans either (setting its bit
// in numCols for a number) and is stored as the row says.
type nameCol struct {
	r   *eventRow
	s   *string
	n   *int64
	bit uint8 // in eventRow.numCols
}

// Scan implements sql.Scanner.
func (c nameCol) Scan(v any) error {
	switch v := v.(type) {
	case int64:
		*c.n = v
		c.r.numCols |= c.bit
	case string:
		*c.s = v
	case []byte:
		*c.s = string(v)
	default:
		return fmt.Errorf("journal: a name column holds %T", v)
	}
	return nil
}

// value is what the column stores.
func (c nameCol) value() any {
	if c.r.numbered {
		return *c.n
	}
	return *c.s
}

// eventCols are eventRow's columns, in the order of its fields (cols).
const eventCols = `seq, received_ns, sent_ns, session_id, event, tool, tool_use_id, cwd, transcript_path, reason, payload, origin, origin_seq, payload_codec`

// prefixCols qualifies each column of cols (eventCols) with prefix, for a
// join.
func prefixCols(prefix, cols string) string {
	return prefix + strings.ReplaceAll(cols, ", ", ", "+prefix)
}

// cols returns pointers to r's fields in eventCols order: Scan's
// destinations.
func (r *eventRow) cols() []any {
	return []any{&r.Seq, &r.ReceivedNS, &r.SentNS, nameCol{r, &r.SessionID, &r.SessionNum, 1},
		nameCol{r, &r.Event, &r.EventNum, 2}, nameCol{r, &r.Tool, &r.ToolNum, 4}, &r.ToolUseID,
		&r.Cwd, &r.TranscriptPath, &r.Reason, &r.Payload, &r.Origin, &r.OriginSeq, &r.PayloadCodec}
}

// values returns r's fields in eventCols order, then extra: Exec's
// arguments.
func (r *eventRow) values(extra ...any) []any {
	vs := r.cols()
	for i, p := range vs {
		switch p := p.(type) {
		case *int64:
			vs[i] = *p
		case *string:
			vs[i] = *p
		case *[]byte:
			vs[i] = *p
		case nameCol:
			vs[i] = p.value()
		}
	}
	return append(vs, extra...)
}

// rowOf is the row that stores ev, its payload compressed (encodePayload:
// this runs in the commit batch, not on the hook's request path).
//
// Since layout 5 the columns tool_use_id, cwd, transcript_path and reason
// hold a value only when it differs from what the payload says (never, for
// an event event.Parse made): the payload has them, and each row repeating
// a ~100-byte transcript path and the cwd cost ~130 bytes an event. They
// are read back from the payload (event).
func rowOf(ev *event.Event) eventRow {
	r := rowMeta(ev)
	r.Payload, r.PayloadCodec = encodePayload(ev.Payload)
	return r
}

// rowMeta is rowOf without the payload encoded (the payload as it came).
func rowMeta(ev *event.Event) eventRow {
	r := eventRow{
		Seq: int64(ev.Seq), ReceivedNS: ev.Received.UnixNano(), SessionID: ev.SessionID, Event: ev.Name,
		Tool: ev.Tool, Payload: ev.Payload, Origin: ev.Origin, OriginSeq: int64(ev.OriginSeq),
	}
	d := event.FieldsOf(ev.Payload)
	r.ToolUseID, r.Cwd, r.TranscriptPath, r.Reason = unlessSame(ev.ToolUseID, d.ToolUseID), unlessSame(ev.Cwd, d.Cwd),
		unlessSame(ev.TranscriptPath, d.TranscriptPath), unlessSame(ev.Reason, d.Reason)
	if !ev.Sent.IsZero() {
		r.SentNS = ev.Sent.UnixNano()
	}
	return r
}

// event is the event r stores, its payload decoded byte for byte. Its
// idempotency key is not in the row (it is in the keys table) and a stored
// event is never ephemeral.
func (r *eventRow) event() (*event.Event, error) {
	payload, err := decodePayload(r.Payload, r.PayloadCodec)
	if err != nil {
		return nil, fmt.Errorf("event %d: %w", r.Seq, err)
	}
	ev := &event.Event{
		Seq: uint64(r.Seq), Received: time.Unix(0, r.ReceivedNS), SessionID: r.SessionID, Name: r.Event,
		Tool: r.Tool, ToolUseID: r.ToolUseID, Cwd: r.Cwd, TranscriptPath: r.TranscriptPath,
		Reason: r.Reason, Payload: payload, Origin: r.Origin, OriginSeq: uint64(r.OriginSeq),
	}
	if r.SentNS != 0 {
		ev.Sent = time.Unix(0, r.SentNS)
	}
	// Not columns, or empty columns (rowOf): read from the payload.
	d := event.FieldsOf(payload)
	ev.AgentID, ev.AgentType = d.AgentID, d.AgentType
	for _, f := range []struct{ col, payload *string }{
		{&ev.ToolUseID, &d.ToolUseID}, {&ev.Cwd, &d.Cwd}, {&ev.TranscriptPath, &d.TranscriptPath}, {&ev.Reason, &d.Reason},
	} {
		if *f.col == "" {
			*f.col = *f.payload
		}
	}
	return ev, nil
}

// unlessSame is v, or "" when the payload says the same (derived).
func unlessSame(v, derived string) string {
	if v == derived {
		return ""
	}
	return v
}
