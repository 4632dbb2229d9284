package journal

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/sessions"
)

// writerStmts are the prepared statements of the writer connection.
type writerStmts struct {
	event, key, session, meta *sql.Stmt
	// block stores a block of payloads (blocks.go).
	block *sql.Stmt
	// index adds an event to the search index (search.go).
	index *sql.Stmt
	// name adds a name (names.go).
	name *sql.Stmt
}

func (s *writerStmts) prepare(db *sql.DB, k searchKind, hashedKeys bool) error {
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = db.Prepare(q)
		return st
	}
	s.event = prep(`INSERT INTO events(` + eventCols + `, size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	insertKey, _, _ := keyStmts(hashedKeys)
	s.key = prep(insertKey)
	s.session = prep(`INSERT INTO sessions(session_id, last_seq, last_ns, info) VALUES (?, ?, ?, ?)
		ON CONFLICT(session_id) DO UPDATE SET last_seq = excluded.last_seq, last_ns = excluded.last_ns, info = excluded.info`)
	s.meta = prep(`UPDATE meta SET v = ? WHERE k = ?`)
	s.block = prep(`INSERT INTO blocks(id, last, data) VALUES (?, ?, ?)`)
	s.name = prep(`INSERT INTO names(n, kind, s) VALUES (?, ?, ?)`)
	s.index = prep(indexInsert(k))
	return err
}

func (s *writerStmts) close() {
	for _, st := range []*sql.Stmt{s.event, s.key, s.session, s.meta, s.index, s.block, s.name} {
		if st != nil {
			st.Close()
		}
	}
}

// rowSize is what a stored event counts against the byte limit: its
// payload as stored (compressed) and text fields plus a fixed allowance
// for the numbers and row overhead, so --retain-bytes bounds the disk the
// events take, and compression keeps more history in the same bound.
func rowSize(r *eventRow) int64 {
	names := len(r.SessionID) + len(r.Event) + len(r.Tool)
	if r.numbered {
		names = 3 // numbers (names.go)
	}
	return int64(len(r.Payload) + names + len(r.ToolUseID) +
		len(r.Cwd) + len(r.TranscriptPath) + len(r.Reason) + len(r.Origin) + 48)
}

// Append implements store.Store: the batch is written to the ingest log
// (ingestlog.go) with one write, and fsynced with Options.Fsync; when it
// returns nil the events survive a crash of the process, and every read
// that starts afterwards sees them (the reads wait for the committer, which
// writes them into SQLite in the background: commitLocked). The idempotency
// keys enter the key filter and the in-flight key map here, so LookupKeys
// finds them at once.
func (j *Journal) Append(evs []*event.Event) error {
	if len(evs) == 0 {
		return nil
	}
	j.lmu.Lock()
	defer j.lmu.Unlock()
	if j.seg == nil {
		return errors.New("journal is closed")
	}
	last := j.appended.Load()
	for i, ev := range evs {
		if ev.Seq != last+uint64(i)+1 {
			return fmt.Errorf("journal: event %d has seq %d, want %d (seqs must directly follow the last stored one)", i, ev.Seq, last+uint64(i)+1)
		}
	}
	if err := j.admit(); err != nil {
		return err
	}
	newLast := evs[len(evs)-1].Seq
	// The keys enter the filter before the write: there is no moment when
	// an accepted key is ruled out (if the write fails they are only false
	// positives).
	var keys []string
	for _, ev := range evs {
		if ev.Key != "" {
			keys = append(keys, ev.Key)
		}
	}
	if len(keys) > 0 {
		j.kf.add(keys)
	}
	if newLast > j.reserved.Load() {
		// A burst ran past the seq lease before the tick renewed it:
		// renew it now, before any client can see these seqs.
		if err := j.persistHighWater(newLast, false); err != nil {
			j.warnTick("seq-lease", "renewing the seq lease failed; storing anyway (seq numbers stay unique unless the journal is also damaged)", err)
		}
	}
	j.encBuf = appendRecord(j.encBuf[:0], evs)
	err := j.writeLog(j.encBuf, newLast)
	if cap(j.encBuf) > 1<<20 {
		j.encBuf = nil // do not hold on to a large batch's buffer
	}
	if err != nil {
		return err
	}
	j.appended.Store(newLast)
	j.enqueue(evs)
	return nil
}

// commitLocked writes evs (logged, in seq order, above the last committed
// seq) and their idempotency keys and fleet position into SQLite in one
// transaction, then folds them into the session summaries and byte count
// and queues them for the search index. The session summaries and the byte
// count are saved by saveState about once a second, not here. The caller
// holds wmu.
func (j *Journal) commitLocked(evs []*event.Event) error {
	if j.w == nil {
		return errors.New("journal is closed")
	}
	if failCommits.Load() > 0 && failCommits.Add(-1) >= 0 {
		return errors.New("journal: commit: injected failure (test)")
	}
	tx, err := j.w.Begin()
	if err != nil {
		return fmt.Errorf("journal: begin: %w", err)
	}
	defer tx.Rollback()
	committed := false
	insEvent, insKey, insBlock := tx.Stmt(j.ins.event), tx.Stmt(j.ins.key), tx.Stmt(j.ins.block)
	rows, sizes, blocks := rowsOf(evs)
	if j.numbered {
		added, err := j.numberRows(tx, rows, sizes)
		if err != nil {
			j.names.forget(added)
			return err
		}
		defer func() {
			if !committed {
				j.names.forget(added)
			}
		}()
	}
	for _, b := range blocks {
		if _, err := insBlock.Exec(b.id, b.last, b.data); err != nil {
			return fmt.Errorf("journal: store the block of events %d-%d: %w", b.id, b.last, err)
		}
	}
	var added int64
	for i, ev := range evs {
		row, size := &rows[i], sizes[i]
		added += size
		if _, err := insEvent.Exec(row.values(size)...); err != nil {
			return fmt.Errorf("journal: store event %d: %w", ev.Seq, err)
		}
		if ev.Key != "" {
			args := []any{row.Seq, ev.Key, row.ReceivedNS}
			if j.hashedKeys {
				args = []any{row.Seq, keyHash(ev.Key)}
			}
			if _, err := insKey.Exec(args...); err != nil {
				return fmt.Errorf("journal: store idempotency key of event %d: %w", ev.Seq, err)
			}
		}
	}
	if err := storeFleetPosition(tx, evs); err != nil {
		return err
	}
	touched := j.foldSessions(evs)
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("journal: commit: %w", err)
	}
	committed = true
	for _, b := range blocks {
		j.blockCache.put(b.id, b.raw)
	}
	j.bytes.Add(added)
	j.last.Store(evs[len(evs)-1].Seq)
	j.swapIn(touched)
	half := j.queueForIndex(evs)
	if (half || j.last.Load()-j.indexedTo.Load() >= indexBehind) && j.indexKick != nil {
		select {
		case j.indexKick <- struct{}{}:
		default:
		}
	}
	return nil
}

// swapIn makes the summaries folded by foldSessions the current ones and
// marks them for the next saveState. The caller holds wmu (or is open,
// before anything else runs).
func (j *Journal) swapIn(touched map[string]*sessions.Info) {
	j.smu.Lock()
	for id, in := range touched {
		j.sess[id] = in
		j.dirty[id] = struct{}{}
	}
	j.smu.Unlock()
}

// foldSessions returns copies of the summaries of the sessions in evs with
// evs folded in by sessions.Info.Apply; the stored ones are untouched until
// the transaction commits.
func (j *Journal) foldSessions(evs []*event.Event) map[string]*sessions.Info {
	touched := make(map[string]*sessions.Info, 4)
	j.smu.RLock()
	for _, ev := range evs {
		in := touched[ev.SessionID]
		if in == nil {
			if old := j.sess[ev.SessionID]; old != nil {
				in = old.Clone()
			} else {
				in = &sessions.Info{}
			}
			touched[ev.SessionID] = in
		}
		in.Apply(ev)
	}
	j.smu.RUnlock()
	return touched
}
