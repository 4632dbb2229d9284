package journal

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
)

// backfillChunk bounds the events one backfill transaction rewrites, so
// ingest waits at most for one short transaction (a variable for tests).
var backfillChunk = 100

// backfillPause is the writer's rest between two backfill chunks.
var backfillPause = 20 * time.Millisecond

// backfill brings the events stored before layout 4 up to it, in the
// background after Open, newest first (recent history becomes searchable
// first): each is added to the search index and, if stored raw, compressed
// (its size and the byte count follow, in the same transaction as the
// saved state). meta index_from records the progress, so a restart goes on
// where it stopped. Start-up never waits for it.
func (j *Journal) backfill() {
	defer j.done.Done()
	defer close(j.backfilled)
	for !j.stopping() {
		more, err := j.backfillChunk()
		if err != nil {
			j.warnTick("backfill", "indexing and compressing the events of an older journal failed; will retry", err)
		}
		if !more && err == nil {
			return
		}
		select {
		case <-j.stop:
			return
		case <-time.After(backfillPause):
		}
	}
}

// backfillChunk indexes and compresses the newest backfillChunk events
// below index_from; more reports that some remain.
func (j *Journal) backfillChunk() (more bool, err error) {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	if j.w == nil {
		return false, nil
	}
	var from int64
	if err := j.w.QueryRow(`SELECT v FROM meta WHERE k = 'index_from'`).Scan(&from); err != nil {
		return false, fmt.Errorf("journal backfill: %w", err)
	}
	if from <= int64(j.oldest.Load()) {
		return false, nil
	}
	var delta int64
	var n int
	err = j.writeTxLocked(func(tx *sql.Tx) error {
		rows, err := tx.Query(`SELECT `+eventCols+`, size FROM events WHERE seq < ? ORDER BY seq DESC LIMIT ?`, from, backfillChunk)
		if err != nil {
			return err
		}
		type redo struct {
			row   eventRow
			codec int64
			ev    *event.Event
			size  int64
		}
		var todo []redo
		for rows.Next() {
			var r redo
			if err := rows.Scan(append(r.row.cols(), &r.size)...); err != nil {
				rows.Close()
				return err
			}
			r.codec = r.row.PayloadCodec // (rowEvent makes a block row's payload raw)
			if r.ev, err = j.rowEvent(&r.row); err != nil {
				j.log.Warn("backfill: skipping an event that does not decode", "error", err)
				continue
			}
			todo = append(todo, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		low := int64(0) // none left: index_from goes to 0
		if len(todo) == backfillChunk {
			low = todo[len(todo)-1].row.Seq
		}
		ins := tx.Stmt(j.ins.index)
		for _, r := range todo {
			if !noIndex {
				doc := docOf(r.ev)
				if _, err := ins.Exec(indexValues(j.search, r.row.Seq, &doc)...); err != nil {
					return err
				}
			}
			if r.codec != codecRaw {
				continue
			}
			nr := rowOf(r.ev)
			if nr.PayloadCodec == codecRaw {
				continue
			}
			size := rowSize(&nr)
			if _, err := tx.Exec(`UPDATE events SET payload = ?, payload_codec = ?, size = ? WHERE seq = ?`, nr.Payload, nr.PayloadCodec, size, nr.Seq); err != nil {
				return err
			}
			delta += size - r.size
		}
		n = len(todo)
		if _, err := tx.Exec(`UPDATE meta SET v = ? WHERE k = 'index_from'`, low); err != nil {
			return err
		}
		more = low > 0
		return j.writeState(tx, j.bytes.Load()+delta)
	}, func() { j.bytes.Add(delta); j.stateSaved() })
	if err != nil {
		return false, fmt.Errorf("journal backfill: %w", err)
	}
	if n > 0 {
		j.log.Debug("backfill: indexed and compressed older events", "events", n, "bytes_saved", -delta)
	}
	return more, nil
}
