package journal

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/mpm-dev/mpm/internal/event"
)

// fleetSchema is a fleet hub's position in the JetStream stream it
// consumes: the stream's identity (its name and creation time, so a stream
// that was deleted and made again is told apart) and the highest stream
// sequence stored. The committer writes seq in the same transaction as the events
// consumed at it, so the journal is the hub's only record of its position.
// A journal that never consumed a stream has no row. (Older mpm versions
// ignore the table; it needs no layout version.)
const fleetSchema = `
CREATE TABLE IF NOT EXISTS fleet_position(
	k INTEGER PRIMARY KEY CHECK (k = 1),
	stream TEXT NOT NULL,
	seq INTEGER NOT NULL
);
`

// storeFleetPosition writes the highest StreamSeq of evs (events consumed
// by a fleet hub) in tx; nothing when none has one.
func storeFleetPosition(tx *sql.Tx, evs []*event.Event) error {
	var pos uint64
	for _, ev := range evs {
		pos = max(pos, ev.StreamSeq)
	}
	if pos == 0 {
		return nil
	}
	if _, err := tx.Exec(`INSERT INTO fleet_position(k, stream, seq) VALUES (1, '', ?)
		ON CONFLICT(k) DO UPDATE SET seq = excluded.seq`, int64(pos)); err != nil {
		return fmt.Errorf("journal: store the fleet stream position %d: %w", pos, err)
	}
	return nil
}

// FleetPosition returns the stream a fleet hub consumed into this journal
// (as given to SetFleetStream) and the highest stream sequence stored from
// it; "" and 0 when it never consumed one.
func (j *Journal) FleetPosition() (stream string, seq uint64, err error) {
	if err := j.waitCommitted(); err != nil {
		return "", 0, err
	}
	j.wmu.Lock()
	defer j.wmu.Unlock()
	if j.w == nil {
		return "", 0, errors.New("journal is closed")
	}
	var s int64
	err = j.w.QueryRow(`SELECT stream, seq FROM fleet_position WHERE k = 1`).Scan(&stream, &s)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("journal: read the fleet stream position: %w", err)
	}
	return stream, uint64(s), nil
}

// SetFleetStream records that the hub now consumes stream (an identity that
// changes when the stream is made again) from its start: the position
// becomes 0 when stream differs from the stored one, and is kept otherwise.
func (j *Journal) SetFleetStream(stream string) error {
	if err := j.waitCommitted(); err != nil {
		return err
	}
	j.wmu.Lock()
	defer j.wmu.Unlock()
	if j.w == nil {
		return errors.New("journal is closed")
	}
	if _, err := j.w.Exec(`INSERT INTO fleet_position(k, stream, seq) VALUES (1, ?, 0)
		ON CONFLICT(k) DO UPDATE SET stream = excluded.stream, seq = 0 WHERE stream <> excluded.stream`, stream); err != nil {
		return fmt.Errorf("journal: store the fleet stream: %w", err)
	}
	return nil
}
