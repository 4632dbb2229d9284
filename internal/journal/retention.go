package journal

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// retentionLoop enforces the retention limits at start and every
// RetainInterval until Close.
func (j *Journal) retentionLoop() {
	atOpen := j.retainedAtOpen
	j.every(j.opts.RetainInterval, true, func() {
		if err := j.EnforceRetention(); err != nil {
			j.warnTick("retention", "retention pass failed; will retry", err)
		}
		if atOpen != nil {
			close(atOpen)
			atOpen = nil
		}
	})
}

// checkpointLoop copies the WAL back into the database file every
// checkpointInterval, on its own connection, so that the ingest path never
// pays for a checkpoint (the writer's auto-checkpoint is off). In the default
// synchronous=NORMAL mode the checkpoint is also when the WAL is fsynced, and
// a complete one lets the ingest log segments it covers go (trimLog).
func (j *Journal) checkpointLoop() {
	j.every(checkpointInterval, false, func() {
		if err := j.saveState(); err != nil {
			j.warnTick("save-state", "saving the session state failed; will retry (a restart replays it from the events)", err)
		} else {
			j.tickOK("save-state", "saving the session state")
		}
		if err := j.checkpoint(); err != nil {
			j.warnTick("checkpoint", "WAL checkpoint failed; will retry", err)
		} else {
			j.tickOK("checkpoint", "the WAL checkpoint")
		}
		j.tickHighWater()
	})
}

// every runs f every d (and once at once when now) until Close; it is one
// of the background goroutines Close waits for (j.done).
func (j *Journal) every(d time.Duration, now bool, f func()) { j.everyOrWoken(d, now, nil, f) }

// everyOrWoken is every, also running f when wake fires (nil: never).
func (j *Journal) everyOrWoken(d time.Duration, now bool, wake <-chan struct{}, f func()) {
	defer j.done.Done()
	t := time.NewTicker(d)
	defer t.Stop()
	if now {
		f()
	}
	for {
		select {
		case <-j.stop:
			return
		case <-t.C:
		case <-wake:
		}
		f()
	}
}

// stopping reports whether Close has begun.
func (j *Journal) stopping() bool {
	if j.stop == nil {
		return false
	}
	select {
	case <-j.stop:
		return true
	default:
		return false
	}
}

// EnforceRetention drops the oldest events beyond the count, age and byte
// limits (and the names of the sessions left without events), then the idempotency keys older than both their event and the key
// window, then the sessions idle for longer than the age limit. Each
// transaction deletes at most deleteChunk rows, so ingest waits at most one
// short delete. It first waits for the events accepted before the call to
// be committed, so that the limits apply to them too.
func (j *Journal) EnforceRetention() error {
	if err := j.waitCommitted(); err != nil {
		return err
	}
	j.retMu.Lock()
	defer j.retMu.Unlock()
	now := j.opts.now()
	oldest := j.oldest.Load()
	for !j.stopping() {
		more, err := j.dropEvents(now)
		if err != nil || !more {
			if err != nil {
				return err
			}
			break
		}
	}
	if j.oldest.Load() != oldest {
		if err := j.dropNames(); err != nil {
			return fmt.Errorf("journal retention (session names): %w", err)
		}
	}
	if j.hashedKeys {
		if err := j.dropHashedKeys(now.Add(-j.opts.KeyWindow).UnixNano()); err != nil {
			return err
		}
	}
	for !j.hashedKeys && !j.stopping() {
		more, err := j.dropKeys(now.Add(-j.opts.KeyWindow).UnixNano())
		if err != nil || !more {
			if err != nil {
				return err
			}
			break
		}
	}
	if j.opts.RetainAge > 0 {
		return j.dropSessions(now.Add(-j.opts.RetainAge).UnixNano())
	}
	return nil
}

// dropEvents deletes the longest prefix of at most deleteChunk events that
// breaks a limit; more reports that a full chunk was deleted.
func (j *Journal) dropEvents(now time.Time) (more bool, err error) {
	o := j.opts
	last, oldest := j.last.Load(), j.oldest.Load()
	if oldest > last {
		return false, nil
	}
	var countBound uint64
	if o.RetainEvents > 0 && last > uint64(o.RetainEvents) {
		countBound = last - uint64(o.RetainEvents)
	}
	var cutoff int64
	if o.RetainAge > 0 {
		cutoff = now.Add(-o.RetainAge).UnixNano()
	}
	if countBound < oldest && cutoff == 0 && (o.RetainBytes <= 0 || j.bytes.Load() <= o.RetainBytes) {
		return false, nil
	}
	rows, err := j.r.Query(`SELECT seq, received_ns, size FROM events WHERE seq >= ? ORDER BY seq LIMIT ?`, int64(oldest), deleteChunk)
	if err != nil {
		return false, fmt.Errorf("journal retention: %w", err)
	}
	var bound uint64
	var freed, maxRecv int64
	n := 0
	remaining := j.bytes.Load()
	for rows.Next() {
		var seq, recv, size int64
		if err := rows.Scan(&seq, &recv, &size); err != nil {
			rows.Close()
			return false, fmt.Errorf("journal retention: %w", err)
		}
		n++
		if uint64(seq) <= countBound || recv < cutoff || (o.RetainBytes > 0 && remaining > o.RetainBytes) {
			bound = uint64(seq)
			remaining -= size
			freed += size
			maxRecv = max(maxRecv, recv)
			continue
		}
		n = -1 // stopped early
		break
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("journal retention: %w", err)
	}
	if bound == 0 {
		return false, nil
	}
	err = j.writeTx(func(tx *sql.Tx) error {
		// what is deleted, counted in the transaction that deletes it
		if err := tx.QueryRow(`SELECT COALESCE(SUM(size), 0) FROM events WHERE seq <= ?`, int64(bound)).Scan(&freed); err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM events WHERE seq <= ?`, int64(bound)); err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM search WHERE rowid <= ?`, int64(bound)); err != nil {
			return err
		}
		// a block goes with its last event
		if _, err := tx.Exec(`DELETE FROM blocks WHERE id <= ? AND last <= ?`, int64(bound), int64(bound)); err != nil {
			return err
		}
		if err := j.markDropped(tx, bound, maxRecv); err != nil {
			return err
		}
		// The state is saved in the same transaction: the events that
		// replay would fold in must still be there.
		return j.writeState(tx, j.bytes.Load()-freed)
	}, j.stateSaved, func() {
		// under wmu, so the indexer (indexNext) never indexes a
		// deleted event
		j.bytes.Add(-freed)
		j.oldest.Store(bound + 1)
	})
	if err != nil {
		return false, fmt.Errorf("journal retention: %w", err)
	}
	j.log.Debug("retention dropped events", "through_seq", bound, "bytes", freed)
	return n == deleteChunk, nil
}

// dropKeys deletes, in seq order, up to deleteChunk idempotency keys whose
// event is gone and that are older than keyCutoff (Unix ns).
func (j *Journal) dropKeys(keyCutoff int64) (more bool, err error) {
	rows, err := j.r.Query(`SELECT seq, received_ns FROM keys WHERE seq < ? ORDER BY seq LIMIT ?`, int64(j.oldest.Load()), deleteChunk)
	if err != nil {
		return false, fmt.Errorf("journal key retention: %w", err)
	}
	var bound int64
	n := 0
	for rows.Next() {
		var seq, recv int64
		if err := rows.Scan(&seq, &recv); err != nil {
			rows.Close()
			return false, fmt.Errorf("journal key retention: %w", err)
		}
		if recv >= keyCutoff {
			n = -1
			break
		}
		bound = seq
		n++
	}
	rows.Close()
	if bound == 0 {
		return false, rows.Err()
	}
	err = j.writeTx(func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM keys WHERE seq <= ?`, bound)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("journal key retention: %w", err)
	}
	return n == deleteChunk, nil
}

// dropSessions forgets sessions idle since before cutoff (Unix ns), in the
// table and in memory (where a summary not saved yet may be the only copy).
func (j *Journal) dropSessions(cutoff int64) error {
	err := j.writeTx(func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM sessions WHERE last_ns < ?`, cutoff)
		return err
	}, func() {
		j.smu.Lock()
		for id, in := range j.sess {
			if in.LastSeen.UnixNano() < cutoff {
				delete(j.sess, id)
				delete(j.dirty, id)
			}
		}
		j.smu.Unlock()
	})
	if err != nil {
		return fmt.Errorf("journal session retention: %w", err)
	}
	return nil
}

// writeTx runs fn in a transaction on the writer connection, taking turns
// with Append, then the committed funcs (still holding wmu) once the
// transaction has committed.
func (j *Journal) writeTx(fn func(*sql.Tx) error, committed ...func()) error {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	return j.writeTxLocked(fn, committed...)
}

// writeTxLocked is writeTx with wmu held.
func (j *Journal) writeTxLocked(fn func(*sql.Tx) error, committed ...func()) error {
	tx, err := j.w.BeginTx(context.Background(), nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for _, f := range committed {
		f()
	}
	return nil
}
