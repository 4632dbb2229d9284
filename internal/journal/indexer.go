package journal

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
)

// The search index is written right behind the commits rather than in
// them: FTS5 flushes its pending terms into a new segment at every commit
// and merges segments as they pile up, which costs much more per event in
// the daemon's small commits (a few events each) than in batches of
// indexChunk. Search catches up before it queries (catchUpIndex), so it
// always sees every committed event.
//
// The indexer takes the committed events from memory (Append queues them,
// up to maxPendingBytes of payload), so it neither reads them back nor
// decompresses them, and extracts their text (docOf) before it takes the
// writer: a commit waits only for the FTS5 inserts. Events it does not
// have in memory (a queue that overflowed, the events after a restart)
// are read from the file.

// indexChunk bounds the events one index transaction adds.
const indexChunk = 1024

// maxPendingBytes bounds the payload bytes queued for the indexer; past it
// the queue is dropped and the indexer reads those events from the file
// (a variable for tests).
var maxPendingBytes = 32 << 20

// indexInterval is how often the indexer catches up.
var indexInterval = 250 * time.Millisecond

// indexBehind is how many committed events not yet indexed wake the
// indexer before its tick (commitLocked): in a burst the index keeps up
// in transactions of about that many, on the other core, rather than all
// at once when the burst ends (or a search waits for it).
var indexBehind uint64 = 512

// indexLoop catches the index up every indexInterval, and when indexBehind
// events wait for it, until Close.
func (j *Journal) indexLoop() {
	j.everyOrWoken(indexInterval, false, j.indexKick, func() {
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

// queueForIndex hands committed events to the indexer. The caller holds
// wmu, right after the commit. It reports whether the queue holds half of
// maxPendingBytes or more: the indexer is then woken (commitLocked), so
// that large events (Read outputs of whole files) are indexed from memory
// before the queue overflows, not read back and decompressed (which took
// ~10 % of the daemon's CPU at 256 KiB events).
func (j *Journal) queueForIndex(evs []*event.Event) (half bool) {
	n := 0
	for _, ev := range evs {
		n += len(ev.Payload)
	}
	j.pmu.Lock()
	defer j.pmu.Unlock()
	if j.pendBytes+n > maxPendingBytes {
		clear(j.pend)
		j.pend, j.pendBytes = j.pend[:0], 0 // read from the file instead
		return true
	}
	j.pend = append(j.pend, evs...)
	j.pendBytes += n
	return j.pendBytes >= maxPendingBytes/2
}

// takePending returns up to indexChunk queued events that directly follow
// seq from, and forgets the queued events up to from; none when the queue
// does not start right after from.
func (j *Journal) takePending(from uint64) []*event.Event {
	j.pmu.Lock()
	defer j.pmu.Unlock()
	i := 0
	for i < len(j.pend) && j.pend[i].Seq <= from {
		j.pendBytes -= len(j.pend[i].Payload)
		i++
	}
	if i > 0 {
		rest := copy(j.pend, j.pend[i:])
		clear(j.pend[rest:])
		j.pend = j.pend[:rest]
	}
	if len(j.pend) == 0 || j.pend[0].Seq != from+1 {
		return nil
	}
	return append([]*event.Event(nil), j.pend[:min(len(j.pend), indexChunk)]...)
}

// indexNext indexes up to indexChunk events after indexed_to, in one
// transaction that also moves indexed_to.
func (j *Journal) indexNext() error {
	from := j.indexedTo.Load()
	if evs := j.takePending(from); len(evs) > 0 {
		var docs []searchDoc
		if !noIndex {
			docs = make([]searchDoc, len(evs))
			for i, ev := range evs {
				docs[i] = docOf(ev)
			}
		}
		return j.indexDocs(from, evs[len(evs)-1].Seq, evs, docs)
	}
	return j.indexFromFile()
}

// indexDocs adds docs (of evs, seqs from+1 to to; none with noIndex) to the
// index unless another indexNext did since from, skipping the events that
// retention deleted meanwhile.
func (j *Journal) indexDocs(from, to uint64, evs []*event.Event, docs []searchDoc) error {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	if j.w == nil || j.indexedTo.Load() != from {
		return nil
	}
	oldest := j.oldest.Load()
	err := j.writeTxLocked(func(tx *sql.Tx) error {
		ins := tx.Stmt(j.ins.index)
		defer ins.Close()
		for i := range docs {
			if evs[i].Seq < oldest {
				continue
			}
			if _, err := ins.Exec(indexValues(j.search, int64(evs[i].Seq), &docs[i])...); err != nil {
				return err
			}
		}
		_, err := tx.Exec(`UPDATE meta SET v = ? WHERE k = 'indexed_to'`, int64(to))
		return err
	}, func() { j.indexedTo.Store(to) })
	if err != nil {
		return fmt.Errorf("journal: search index: %w", err)
	}
	return nil
}

// indexFromFile indexes up to indexChunk events after indexed_to read
// from the file, in one transaction that also moves indexed_to.
func (j *Journal) indexFromFile() error {
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
			ev, err := j.rowEvent(&r)
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
			if _, err := ins.Exec(indexValues(j.search, seqs[i], &docs[i])...); err != nil {
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
