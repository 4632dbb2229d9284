package journal

import (
	"database/sql"
	"fmt"
	"time"
)

// The search index is written right behind the commits rather than in
// them: FTS5 flushes its pending terms into a new segment at every commit
// and merges segments as they pile up, which costs much more per event in
// the daemon's small commits (a few events each) than in batches of
// indexChunk. Search catches up before it queries (catchUpIndex), so it
// always sees every committed event.

// indexChunk bounds the events one index transaction adds.
const indexChunk = 128

// indexInterval is how often the indexer catches up.
var indexInterval = 250 * time.Millisecond

// indexLoop catches the index up every indexInterval until Close.
func (j *Journal) indexLoop() {
	j.every(indexInterval, false, func() {
		if err := j.catchUpIndex(); err != nil {
			j.warnTick("index", "adding events to the search index failed; will retry", err)
		}
	})
}

// catchUpIndex adds every committed event after indexed_to to the index.
func (j *Journal) catchUpIndex() error {
	for j.indexedTo.Load() < j.last.Load() && !j.stopping() {
		if err := j.indexNext(); err != nil {
			return err
		}
	}
	return nil
}

// indexNext indexes up to indexChunk events after indexed_to, in one
// transaction that also moves indexed_to.
func (j *Journal) indexNext() error {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	if j.w == nil {
		return nil
	}
	from, last := j.indexedTo.Load(), j.last.Load()
	if from >= last {
		return nil
	}
	to := last
	err := j.writeTxLocked(func(tx *sql.Tx) error {
		rows, err := tx.Query(`SELECT `+eventCols+` FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`, int64(from), int64(last), indexChunk)
		if err != nil {
			return err
		}
		ins := tx.Stmt(j.ins.index)
		defer ins.Close()
		n := 0
		var docs []searchDoc
		var seqs []int64
		for rows.Next() {
			var r eventRow
			if err := rows.Scan(r.cols()...); err != nil {
				rows.Close()
				return err
			}
			n++
			to = uint64(r.Seq)
			ev, err := r.event()
			if err != nil {
				j.log.Warn("search index: skipping an event that does not decode", "error", err)
				continue
			}
			if !noIndex {
				docs = append(docs, docOf(ev))
				seqs = append(seqs, r.Seq)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if n < indexChunk {
			to = last // the rest were dropped by retention
		}
		for i := range docs {
			if _, err := ins.Exec(indexValues(seqs[i], &docs[i])...); err != nil {
				return err
			}
		}
		_, err = tx.Exec(`UPDATE meta SET v = ? WHERE k = 'indexed_to'`, int64(to))
		return err
	}, func() { j.indexedTo.Store(to) })
	if err != nil {
		return fmt.Errorf("journal: search index: %w", err)
	}
	return nil
}
