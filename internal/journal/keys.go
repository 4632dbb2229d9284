package journal

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
)

// Hashed idempotency keys (layout 7). A new journal stores each key as a
// 64-bit hash of it (keyHash), in a table ordered by the hash alone
// (WITHOUT ROWID: one b-tree, where the keys table of the layouts before
// is a table and a unique index on the key's text): ~19 bytes a key
// instead of ~40 for the benchmark's short keys and ~100 for a hook's 32
// hex digits. A journal made before layout 7 keeps its keys table.
//
//	key_hashes  h INTEGER PRIMARY KEY (keyHash of the key), seq (the
//	            event it was stored with).
//	key_marks   seq INTEGER PRIMARY KEY, received_ns: retention deleted
//	            the events up to seq, all received by received_ns (the
//	            time a key_hashes row does not hold).
//
// Collisions. A fresh key whose hash equals a stored key's is taken for a
// resend of that key's event: the event is answered as a duplicate and not
// stored. Hook keys are 128 random bits (32 hex digits), and keyHash is
// SHA-256 cut to 64 bits, so with n keys retained a fresh key collides
// with probability n/2^64: with a million keys (a week of a heavy user's
// window) 5.4e-14 an event; over 3e9 events (10 events a second for ten
// years) the expected number of events lost this way is 1.6e-4, far below
// the disk's own error rate. Two colliding keys in one batch are both
// stored, the second key's row ignored (INSERT OR IGNORE): a resend of the
// second is answered with the first's seq.
//
// Retention. A key goes once its event is gone and it is older than the
// key window (Options.KeyWindow). Without a time in the row, dropEvents
// records in key_marks, for each bound it deletes events through, the
// latest time any of them was received; the keys up to the last mark
// older than the window may go. They are deleted by a sweep of the whole
// table, in hashedKeySweeps transactions of one range of hashes each, run
// once an eighth of the keys or more may go: each key is visited about 8
// times in its life (1M keys: ~20 MB read a sweep).
const hashedKeysSchema = `
CREATE TABLE IF NOT EXISTS key_hashes(
	h INTEGER PRIMARY KEY,
	seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS key_marks(
	seq INTEGER PRIMARY KEY,
	received_ns INTEGER NOT NULL
);
INSERT OR IGNORE INTO meta(k, v) VALUES ('keys_dropped_to', 0);`

// hashedKeySweeps is how many transactions a sweep of key_hashes takes.
const hashedKeySweeps = 16

// keyHash is the 64-bit hash a key is stored as (SHA-256, first 8 bytes).
func keyHash(k string) int64 {
	sum := sha256.Sum256([]byte(k))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// hasTable reports whether db has table name.
func hasTable(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name string) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&n); err != nil {
		return false, fmt.Errorf("read the journal's schema: %w", err)
	}
	return n > 0, nil
}

// keyStmts are the key statements of a journal with hashed keys or not.
func keyStmts(hashed bool) (insert, lookup, lookupIn string) {
	if hashed {
		return `INSERT OR IGNORE INTO key_hashes(seq, h) VALUES (?, ?)`, `SELECT seq FROM key_hashes WHERE h = ?`, `SELECT h, seq FROM key_hashes WHERE h IN (?`
	}
	return `INSERT INTO keys(seq, k, received_ns) VALUES (?, ?, ?)`, `SELECT seq FROM keys WHERE k = ?`, `SELECT k, seq FROM keys WHERE k IN (?`
}

// keyArg is what key k is stored and looked up as.
func (j *Journal) keyArg(k string) any {
	if j.hashedKeys {
		return keyHash(k)
	}
	return k
}

// markDropped records in key_marks that the events up to bound, received
// by recv at the latest, are deleted (in retention's transaction tx).
func (j *Journal) markDropped(tx *sql.Tx, bound uint64, recv int64) error {
	if !j.hashedKeys {
		return nil
	}
	_, err := tx.Exec(`INSERT INTO key_marks(seq, received_ns) VALUES (?, (SELECT MAX(v) FROM (SELECT ? AS v UNION ALL SELECT MAX(received_ns) FROM key_marks)))
		ON CONFLICT(seq) DO UPDATE SET received_ns = excluded.received_ns`, int64(bound), recv)
	return err
}

// dropHashedKeys deletes the hashed keys whose events are gone and that
// are older than keyCutoff (Unix ns), once an eighth of the keys may go.
func (j *Journal) dropHashedKeys(keyCutoff int64) error {
	var bound, done int64
	if err := j.r.QueryRow(`SELECT COALESCE((SELECT MAX(seq) FROM key_marks WHERE received_ns < ?), 0), (SELECT v FROM meta WHERE k = 'keys_dropped_to')`, keyCutoff).Scan(&bound, &done); err != nil {
		return fmt.Errorf("journal key retention: %w", err)
	}
	if bound <= done || (bound-done)*8 < int64(j.last.Load())-done {
		return nil
	}
	step := uint64(math.MaxUint64/hashedKeySweeps + 1)
	for i := uint64(0); i < hashedKeySweeps && !j.stopping(); i++ {
		lo, hi := int64(i*step), int64((i+1)*step-1) // as int64: the ranges cover every value once
		err := j.writeTx(func(tx *sql.Tx) error {
			_, err := tx.Exec(`DELETE FROM key_hashes WHERE h BETWEEN ? AND ? AND seq <= ?`, min(lo, hi), max(lo, hi), bound)
			return err
		})
		if err != nil {
			return fmt.Errorf("journal key retention: %w", err)
		}
	}
	if j.stopping() {
		return nil
	}
	err := j.writeTx(func(tx *sql.Tx) error {
		if _, err := tx.Exec(`UPDATE meta SET v = ? WHERE k = 'keys_dropped_to'`, bound); err != nil {
			return err
		}
		_, err := tx.Exec(`DELETE FROM key_marks WHERE seq < ?`, bound)
		return err
	})
	if err != nil {
		return fmt.Errorf("journal key retention: %w", err)
	}
	return nil
}
