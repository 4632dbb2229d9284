package journal

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sort"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/sessions"
	"github.com/mpm-dev/mpm/internal/store"
)

// readerStmts are the prepared statements of the read pool.
type readerStmts struct {
	// readAll, readSession: ascending from a seq; tailAll, tailSession:
	// descending to a seq. Each is one range scan of an index.
	readAll, readSession, tailAll, tailSession *sql.Stmt
	// seqsSession lists a session's seqs in a range (the index alone);
	// bySeq reads one event.
	seqsSession, bySeq *sql.Stmt
	// tailStartAll, tailStartSessions find the n-th last matching seq
	// (the index alone; the sessions as a JSON array).
	tailStartAll, tailStartSessions *sql.Stmt
	// key looks up an idempotency key.
	key *sql.Stmt
	// search runs a full-text search (search.go).
	search *sql.Stmt
	// block reads a block of payloads (blocks.go).
	block *sql.Stmt
}

func (s *readerStmts) prepare(db *sql.DB, hashedKeys bool) error {
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
	s.seqsSession = prep(`SELECT seq FROM events WHERE session_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?`)
	s.bySeq = prep(`SELECT ` + eventCols + ` FROM events WHERE seq = ?`)
	s.tailStartAll = prep(`SELECT seq FROM events WHERE seq > ? AND seq <= ? ORDER BY seq DESC LIMIT 1 OFFSET ?`)
	s.tailStartSessions = prep(`SELECT seq FROM events WHERE session_id IN (SELECT value FROM json_each(?)) AND seq > ? AND seq <= ? ORDER BY seq DESC LIMIT 1 OFFSET ?`)
	_, lookupKey, _ := keyStmts(hashedKeys)
	s.key = prep(lookupKey)
	s.search = prep(searchSQL)
	s.block = prep(`SELECT data FROM blocks WHERE id = ?`)
	return err
}

func (s *readerStmts) close() {
	for _, st := range []*sql.Stmt{s.readAll, s.readSession, s.tailAll, s.tailSession, s.seqsSession, s.bySeq, s.tailStartAll, s.tailStartSessions, s.key, s.search, s.block} {
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
	return j.query(after, upto, f, limit, 0, false)
}

// Page implements store.Store.
func (j *Journal) Page(after, upto uint64, f store.Filter, limit, maxBytes int) ([]*event.Event, error) {
	return j.query(after, upto, f, limit, maxBytes, false)
}

// Tail implements store.Store.
func (j *Journal) Tail(after, upto uint64, f store.Filter, n int) ([]*event.Event, error) {
	return j.query(after, upto, f, n, 0, true)
}

// TailStart implements store.Store: one scan of an index (seq only; SQLite
// skips the first n-1 rows without building them).
func (j *Journal) TailStart(after, upto uint64, f store.Filter, n int) (uint64, error) {
	if err := j.waitCommitted(); err != nil {
		return 0, err
	}
	upto = min(upto, 1<<63-1)
	if n <= 0 || after >= upto {
		return after, nil
	}
	var row *sql.Row
	if f.All() {
		row = j.rd.tailStartAll.QueryRow(int64(after), int64(upto), n-1)
	} else {
		args := make([]any, len(f.Sessions))
		for i, id := range f.Sessions {
			args[i] = j.sessionArg(id)
		}
		ids, err := json.Marshal(args)
		if err != nil {
			return 0, err
		}
		row = j.rd.tailStartSessions.QueryRow(string(ids), int64(after), int64(upto), n-1)
	}
	var seq int64
	switch err := row.Scan(&seq); err {
	case nil:
		return uint64(seq) - 1, nil
	case sql.ErrNoRows:
		return after, nil // n or fewer match: all of them
	default:
		return 0, fmt.Errorf("journal: read: %w", err)
	}
}

// uniq returns ids without repeats, in order.
func uniq(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// query runs Read or Page (tail false) or Tail (tail true). Several sessions
// are read one index range each and merged, so each query stays an index
// scan bounded by limit; with a byte bound, the merge is of seqs only and
// the page's events are then read one by one until the bound.
func (j *Journal) query(after, upto uint64, f store.Filter, limit, maxBytes int, tail bool) ([]*event.Event, error) {
	if err := j.waitCommitted(); err != nil {
		return nil, err
	}
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
		return j.scanEvents(st, tail, maxBytes, int64(after), int64(upto), sqlLimit(limit))
	}
	ids := uniq(f.Sessions)
	if len(ids) > 1 && maxBytes > 0 && !tail {
		return j.pageSessions(after, upto, ids, limit, maxBytes)
	}
	st := j.rd.readSession
	if tail {
		st = j.rd.tailSession
	}
	var out []*event.Event
	for _, id := range ids {
		evs, err := j.scanEvents(st, tail, maxBytes, j.sessionArg(id), int64(after), int64(upto), sqlLimit(limit))
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	if len(ids) > 1 {
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

// pageSessions is Page over several sessions: their seqs in range are
// merged (8 bytes each, at most limit per session), then the events are
// read in seq order until limit or maxBytes.
func (j *Journal) pageSessions(after, upto uint64, ids []string, limit, maxBytes int) ([]*event.Event, error) {
	var seqs []int64
	for _, id := range ids {
		rows, err := j.rd.seqsSession.Query(j.sessionArg(id), int64(after), int64(upto), sqlLimit(limit))
		if err != nil {
			return nil, fmt.Errorf("journal: read: %w", err)
		}
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				rows.Close()
				return nil, fmt.Errorf("journal: read: %w", err)
			}
			seqs = append(seqs, seq)
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("journal: read: %w", err)
		}
	}
	sort.Slice(seqs, func(a, b int) bool { return seqs[a] < seqs[b] })
	var out []*event.Event
	size := 0
	for _, seq := range seqs {
		if (limit > 0 && len(out) >= limit) || size >= maxBytes {
			break
		}
		evs, err := j.scanEvents(j.rd.bySeq, false, 0, seq)
		if err != nil {
			return nil, err
		}
		for _, ev := range evs { // none when retention just dropped it
			out = append(out, ev)
			size += store.EventBytes(ev)
		}
	}
	return out, nil
}

// scanEvents runs st and decodes its rows; descending results are reversed.
// With maxBytes > 0 it stops after the row that brings the events'
// store.EventBytes to maxBytes.
func (j *Journal) scanEvents(st *sql.Stmt, desc bool, maxBytes int, args ...any) ([]*event.Event, error) {
	rows, err := st.Query(args...)
	if err != nil {
		return nil, fmt.Errorf("journal: read: %w", err)
	}
	defer rows.Close()
	var out []*event.Event
	size := 0
	for rows.Next() {
		ev, err := j.scanEvent(rows)
		if errors.Is(err, errBlockGone) {
			continue // retention deleted it since the query began
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
		if size += store.EventBytes(ev); maxBytes > 0 && size >= maxBytes {
			break
		}
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
func (j *Journal) scanEvent(rows *sql.Rows, extra ...any) (*event.Event, error) {
	var r eventRow
	if err := rows.Scan(append(r.cols(), extra...)...); err != nil {
		return nil, fmt.Errorf("journal: read: %w", err)
	}
	return j.rowEvent(&r)
}

// LastSeq implements store.Store: the last accepted seq.
func (j *Journal) LastSeq() uint64 { return j.appended.Load() }

// OldestSeq implements store.Store.
func (j *Journal) OldestSeq() uint64 { return j.oldest.Load() }

// Bytes is the retained events' accounted size (what --retain-bytes bounds),
// counted when the events are committed (it waits for the committer).
func (j *Journal) Bytes() int64 {
	j.waitCommitted()
	return j.bytes.Load()
}

// LookupKey implements store.Store: one lookup in the keys index.
func (j *Journal) LookupKey(key string) (uint64, bool) {
	if len(j.kf.maybeStored([]string{key})) == 0 {
		return 0, false
	}
	found := map[string]uint64{}
	if j.inflightKeys([]string{key}, found); len(found) > 0 {
		return found[key], true
	}
	var seq int64
	if err := j.rd.key.QueryRow(j.keyArg(key)).Scan(&seq); err != nil {
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
// (or its key_hashes form: keyStmts)
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
	_, _, lookupIn := keyStmts(j.hashedKeys)
	q = append(q, lookupIn...)
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
	// Accepted but not yet committed keys first: a key leaves the
	// in-flight map only after its commit, so one not found there is
	// either new or already in the table.
	if len(keys) > 0 {
		j.inflightKeys(keys, found)
		if len(found) > 0 {
			keys = slices.DeleteFunc(slices.Clone(keys), func(k string) bool { _, ok := found[k]; return ok })
		}
	}
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
		var byHash map[int64][]string
		if j.hashedKeys {
			byHash = make(map[int64][]string, n)
		}
		for i := range args {
			k := chunk[min(i, n-1)] // padded with the last key
			args[i] = k
			if byHash != nil {
				h := keyHash(k)
				args[i] = h
				if i < n {
					byHash[h] = append(byHash[h], k)
				}
			}
		}
		rows, err := st.Query(args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k any
			var seq int64
			if err := rows.Scan(&k, &seq); err != nil {
				rows.Close()
				return nil, err
			}
			switch k := k.(type) {
			case int64:
				for _, key := range byHash[k] {
					found[key] = uint64(seq)
				}
			case string:
				found[k] = uint64(seq)
			case []byte:
				found[string(k)] = uint64(seq)
			}
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// Sessions implements store.Store: the stored summaries, most recent first.
func (j *Journal) Sessions() ([]sessions.Info, error) {
	if err := j.waitCommitted(); err != nil {
		return nil, err
	}
	j.smu.RLock()
	out := make([]sessions.Info, 0, len(j.sess))
	for _, in := range j.sess {
		out = append(out, *in.Clone())
	}
	j.smu.RUnlock()
	sort.Slice(out, func(a, b int) bool { return out[a].LastSeq > out[b].LastSeq })
	return out, nil
}
