package journal

import (
	"database/sql"
	"fmt"
	"math/bits"
	"sort"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/sessions"
	"github.com/mpm-dev/mpm/internal/store"
)

// readerStmts are the prepared statements of the read pool.
type readerStmts struct {
	// readAll, readSession: ascending from a seq; tailAll, tailSession:
	// descending to a seq. Each is one range scan of an index.
	readAll, readSession, tailAll, tailSession *sql.Stmt
	// key looks up an idempotency key.
	key *sql.Stmt
}

// eventCols are the columns scanEvent reads, in order.
const eventCols = `seq, received_ns, sent_ns, session_id, event, tool, tool_use_id, cwd, transcript_path, reason, payload, origin, origin_seq`

func (s *readerStmts) prepare(db *sql.DB) error {
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = db.Prepare(q)
		return st
	}
	s.readAll = prep(`SELECT ` + eventCols + ` FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`)
	s.readSession = prep(`SELECT ` + eventCols + ` FROM events WHERE session_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?`)
	s.tailAll = prep(`SELECT ` + eventCols + ` FROM events WHERE seq > ? AND seq <= ? ORDER BY seq DESC LIMIT ?`)
	s.tailSession = prep(`SELECT ` + eventCols + ` FROM events WHERE session_id = ? AND seq > ? AND seq <= ? ORDER BY seq DESC LIMIT ?`)
	s.key = prep(`SELECT seq FROM keys WHERE k = ?`)
	return err
}

func (s *readerStmts) close() {
	for _, st := range []*sql.Stmt{s.readAll, s.readSession, s.tailAll, s.tailSession, s.key} {
		if st != nil {
			st.Close()
		}
	}
}

// sqlLimit maps "0 or less: no limit" to SQLite's -1.
func sqlLimit(n int) int64 {
	if n <= 0 {
		return -1
	}
	return int64(n)
}

// Read implements store.Store.
func (j *Journal) Read(after, upto uint64, f store.Filter, limit int) ([]*event.Event, error) {
	return j.query(after, upto, f, limit, false)
}

// Tail implements store.Store.
func (j *Journal) Tail(after, upto uint64, f store.Filter, n int) ([]*event.Event, error) {
	return j.query(after, upto, f, n, true)
}

// query runs Read (tail false) or Tail (tail true). Several sessions are
// read one index range each and merged, so each query stays an index scan
// bounded by limit.
func (j *Journal) query(after, upto uint64, f store.Filter, limit int, tail bool) ([]*event.Event, error) {
	if upto > 1<<63-1 {
		upto = 1<<63 - 1
	}
	if after >= upto {
		return nil, nil
	}
	if f.All() {
		st := j.rd.readAll
		if tail {
			st = j.rd.tailAll
		}
		return scanEvents(st, tail, int64(after), int64(upto), sqlLimit(limit))
	}
	st := j.rd.readSession
	if tail {
		st = j.rd.tailSession
	}
	var out []*event.Event
	seen := make(map[string]bool, len(f.Sessions))
	for _, id := range f.Sessions {
		if seen[id] {
			continue
		}
		seen[id] = true
		evs, err := scanEvents(st, tail, id, int64(after), int64(upto), sqlLimit(limit))
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	if len(seen) > 1 {
		sort.Slice(out, func(a, b int) bool { return out[a].Seq < out[b].Seq })
		if limit > 0 && len(out) > limit {
			if tail {
				out = out[len(out)-limit:]
			} else {
				out = out[:limit]
			}
		}
	}
	return out, nil
}

// scanEvents runs st and decodes its rows; descending results are reversed.
func scanEvents(st *sql.Stmt, desc bool, args ...any) ([]*event.Event, error) {
	rows, err := st.Query(args...)
	if err != nil {
		return nil, fmt.Errorf("journal: read: %w", err)
	}
	defer rows.Close()
	var out []*event.Event
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: read: %w", err)
	}
	if desc {
		for a, b := 0, len(out)-1; a < b; a, b = a+1, b-1 {
			out[a], out[b] = out[b], out[a]
		}
	}
	return out, nil
}

// scanEvent decodes the row rows is on, selected as eventCols followed by
// the columns for extra.
func scanEvent(rows *sql.Rows, extra ...any) (*event.Event, error) {
	var ev event.Event
	var seq, recv, sent, originSeq int64
	dest := append([]any{&seq, &recv, &sent, &ev.SessionID, &ev.Name, &ev.Tool, &ev.ToolUseID,
		&ev.Cwd, &ev.TranscriptPath, &ev.Reason, &ev.Payload, &ev.Origin, &originSeq}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return nil, fmt.Errorf("journal: read: %w", err)
	}
	ev.Seq = uint64(seq)
	ev.OriginSeq = uint64(originSeq)
	ev.Received = time.Unix(0, recv)
	if sent != 0 {
		ev.Sent = time.Unix(0, sent)
	}
	ev.FillAgent()
	return &ev, nil
}

// LastSeq implements store.Store.
func (j *Journal) LastSeq() uint64 { return j.last.Load() }

// OldestSeq implements store.Store.
func (j *Journal) OldestSeq() uint64 { return j.oldest.Load() }

// Bytes is the retained events' accounted size (what --retain-bytes bounds).
func (j *Journal) Bytes() int64 { return j.bytes.Load() }

// LookupKey implements store.Store: one lookup in the keys index.
func (j *Journal) LookupKey(key string) (uint64, bool) {
	if len(j.kf.maybeStored([]string{key})) == 0 {
		return 0, false
	}
	var seq int64
	if err := j.rd.key.QueryRow(key).Scan(&seq); err != nil {
		if err != sql.ErrNoRows {
			j.log.Warn("idempotency key lookup failed; treating the event as new", "error", err)
		}
		return 0, false
	}
	return uint64(seq), true
}

// lookupChunk bounds the keys asked in one query (SQLite's variable limit
// is far above it).
const lookupChunk = 512

// lookupStmt returns the prepared `SELECT k, seq FROM keys WHERE k IN (...)`
// with n placeholders, n a power of two up to lookupChunk: preparing a
// statement costs as much as running it, so each size is prepared once
// and short lists are padded to the next size.
func (j *Journal) lookupStmt(n int) (*sql.Stmt, error) {
	class := bits.Len(uint(n - 1)) // n <= 1<<class
	j.lkMu.Lock()
	defer j.lkMu.Unlock()
	if st := j.lookup[class]; st != nil {
		return st, nil
	}
	q := make([]byte, 0, 48+2<<class)
	q = append(q, "SELECT k, seq FROM keys WHERE k IN (?"...)
	for i := 1; i < 1<<class; i++ {
		q = append(q, ",?"...)
	}
	q = append(q, ')')
	st, err := j.r.Prepare(string(q))
	if err != nil {
		return nil, err
	}
	j.lookup[class] = st
	return st, nil
}

// LookupKeys implements store.Store: the key filter rules out the fresh
// keys; the rest are looked up with one indexed query per 512 keys, by a
// statement prepared once per size.
func (j *Journal) LookupKeys(keys []string) (map[string]uint64, error) {
	found := make(map[string]uint64)
	keys = j.kf.maybeStored(keys)
	for len(keys) > 0 {
		n := min(len(keys), lookupChunk)
		chunk := keys[:n]
		keys = keys[n:]
		st, err := j.lookupStmt(n)
		if err != nil {
			return nil, err
		}
		size := 1 << bits.Len(uint(n-1))
		args := make([]any, size)
		for i := range args {
			args[i] = chunk[min(i, n-1)] // padded with the last key
		}
		rows, err := st.Query(args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k string
			var seq int64
			if err := rows.Scan(&k, &seq); err != nil {
				rows.Close()
				return nil, err
			}
			found[k] = uint64(seq)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// Sessions implements store.Store: the stored summaries, most recent first.
func (j *Journal) Sessions() ([]sessions.Info, error) {
	j.smu.RLock()
	out := make([]sessions.Info, 0, len(j.sess))
	for _, in := range j.sess {
		out = append(out, *in.Clone())
	}
	j.smu.RUnlock()
	sort.Slice(out, func(a, b int) bool { return out[a].LastSeq > out[b].LastSeq })
	return out, nil
}
