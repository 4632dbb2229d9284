package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// schemaVersion is PRAGMA user_version of the layout below plus the
// migrations in createSchema. Layout 2 added events.origin and
// events.origin_seq (fleet mode); layout 3 added meta state_seq (the
// sessions and bytes are saved about once a second, not in every commit: an
// older mpm would not fold the later events back in); layout 4 added
// events.payload_codec (compressed payloads, codec.go: the rows written
// before keep codec 0, the payload as it came, and are read as they are);
// layout 5 leaves events.tool_use_id, cwd, transcript_path and reason
// empty when the payload holds the same value (rowOf; every row written
// before keeps them and reads the same), so an older mpm must not read it;
// layout 6 adds the blocks table and payload_codec 2 (several events'
// payloads compressed together: blocks.go; the rows written before keep
// their codec and read the same) and makes new journals' search index
// detail=column (search.go; an older journal keeps its detail=full one);
// layout 7 makes new journals' search index detail=none (search.go) and
// their events rows hold the session id, event and tool names as numbers
// of the names table (names.go); a journal made before keeps its index
// and its rows of text, and reads and searches the same; layout 8 makes
// new journals' search index take FTS5's ascii tokenizer over text the
// journal folds (search.go: foldWords), and a journal made before keeps
// its unicode61 index.
const schemaVersion = 8

// schema is the journal's layout. Times are Unix nanoseconds; empty strings
// are stored as ”. Users may read the file with the sqlite3 shell.
//
//	events   one row per accepted event (session_id, event and tool
//	         are numbers of the names table in a journal made at layout
//	         7 or later, text in an older one); payload is the hook JSON byte for
//	         byte; size is what the event counts against --retain-bytes;
//	         origin and origin_seq (added by addColumns) name the machine an
//	         event came from in fleet mode and its seq there ('' and 0 for
//	         local events). payload_codec (layout 4) says how payload
//	         is stored: 0 as it came, 1 zstd with the embedded hook
//	         dictionary (codec.go), 2 in a block (layout 6: blocks.go);
//	         size counts the stored bytes (of a block, a share).
//	         tool_use_id, cwd, transcript_path and reason are '' when
//	         the payload has the same value (layout 5: read from it).
//	keys     idempotency keys, by the seq of the event they were stored
//	         with (a journal made before layout 7; a new one has
//	         key_hashes: keys.go). Made by createSchema.
//	sessions the session summaries (sessionRow as JSON), kept in step
//	         with events in the same transaction.
//	meta     last_seq (so seq never goes back, even when retention dropped
//	         every event), bytes (the retained events' size) and state_seq:
//	         sessions and bytes reflect the events up to state_seq; the
//	         events after it are folded in at open (see state.go).
//	         index_from and indexed_to (layout 4): the events from
//	         index_from to indexed_to are in the search index; those after
//	         are indexed right behind the commits (indexer.go), those
//	         before (an older journal's) in the background (backfill.go).
//	search   the full-text index (FTS5, contentless; search.go), rowid =
//	         seq; retention deletes from it with the events.
//	history  a view of the events with their names as text (names.go).
const schema = `
CREATE TABLE IF NOT EXISTS events(
	seq INTEGER PRIMARY KEY,
	received_ns INTEGER NOT NULL,
	sent_ns INTEGER NOT NULL DEFAULT 0,
	session_id INTEGER NOT NULL,
	event INTEGER NOT NULL,
	tool INTEGER NOT NULL DEFAULT 0,
	tool_use_id TEXT NOT NULL DEFAULT '',
	cwd TEXT NOT NULL DEFAULT '',
	transcript_path TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '',
	size INTEGER NOT NULL,
	payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS events_session ON events(session_id, seq);
CREATE TABLE IF NOT EXISTS sessions(
	session_id TEXT PRIMARY KEY,
	last_seq INTEGER NOT NULL,
	last_ns INTEGER NOT NULL,
	info TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta(
	k TEXT PRIMARY KEY,
	v INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta(k, v) VALUES ('last_seq', 0), ('bytes', 0);
INSERT OR IGNORE INTO meta(k, v) SELECT 'state_seq', v FROM meta WHERE k = 'last_seq';
INSERT OR IGNORE INTO meta(k, v) SELECT 'index_from', v + 1 FROM meta WHERE k = 'last_seq';
INSERT OR IGNORE INTO meta(k, v) SELECT 'indexed_to', v FROM meta WHERE k = 'last_seq';
` + blocksSchema + fleetSchema + namesSchema

// checkHealthy reads the file's header and schema and, with full, runs
// PRAGMA quick_check, which reads every page once: a garbage or damaged file
// fails here rather than in the middle of ingest.
func checkHealthy(ctx context.Context, db *sql.DB, full bool) error {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read journal header: %w", err)
	}
	if v > schemaVersion {
		return fmt.Errorf("the journal was written by a newer mpm (layout %d, this one knows %d): upgrade mpm, or move the journal away to start a new one", v, schemaVersion)
	}
	if !full {
		return nil
	}
	return quickCheck(ctx, db)
}

// quickCheck runs PRAGMA quick_check and returns a *corruptError listing the
// first problems it reports.
func quickCheck(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, "PRAGMA quick_check")
	if err != nil {
		return fmt.Errorf("check journal: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("check journal: %w", err)
		}
		if s != "ok" && len(problems) < 3 {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check journal: %w", err)
	}
	if len(problems) > 0 {
		return &corruptError{msg: fmt.Sprintf("integrity check failed: %v", problems)}
	}
	return nil
}

// createSchema creates the tables of a new journal and migrates an older
// layout to schemaVersion; it is a no-op on an up-to-date one.
func createSchema(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create journal schema: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read journal header: %w", err)
	}
	oldKeys, err := hasTable(ctx, tx, "keys")
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create journal schema: %w", err)
	}
	if !oldKeys {
		if _, err := tx.ExecContext(ctx, hashedKeysSchema); err != nil {
			return fmt.Errorf("create journal schema: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, searchSchema); err != nil {
		return fmt.Errorf("create the journal's search index (FTS5): %w", err)
	}
	if v < schemaVersion {
		if err := addColumns(ctx, tx); err != nil {
			return err
		}
	}
	numbered, err := namesNumbered(ctx, tx)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, historyView(numbered)); err != nil { // after addColumns: it names origin
		return fmt.Errorf("create journal schema: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return fmt.Errorf("create journal schema: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create journal schema: %w", err)
	}
	return nil
}

// addColumns adds the events columns of later layouts that an older file
// lacks: the fleet-mode columns origin and origin_seq (layout 2; existing
// rows get ” and 0: they were ingested locally) and payload_codec (layout
// 4; existing rows get 0: stored as they came). ALTER TABLE ADD COLUMN
// rewrites no row, so this is instant at any size. A column that is
// already there is left alone.
func addColumns(ctx context.Context, tx *sql.Tx) error {
	have := map[string]bool{}
	rows, err := tx.QueryContext(ctx, "SELECT name FROM pragma_table_info('events')")
	if err != nil {
		return fmt.Errorf("migrate journal to layout %d: %w", schemaVersion, err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return fmt.Errorf("migrate journal to layout %d: %w", schemaVersion, err)
		}
		have[name] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("migrate journal to layout %d: %w", schemaVersion, err)
	}
	for _, col := range []struct{ name, def string }{
		{"origin", "origin TEXT NOT NULL DEFAULT ''"},
		{"origin_seq", "origin_seq INTEGER NOT NULL DEFAULT 0"},
		{"payload_codec", "payload_codec INTEGER NOT NULL DEFAULT 0"},
	} {
		if have[col.name] {
			continue
		}
		if _, err := tx.ExecContext(ctx, "ALTER TABLE events ADD COLUMN "+col.def); err != nil {
			return fmt.Errorf("migrate journal to layout %d (add events.%s): %w", schemaVersion, col.name, err)
		}
	}
	return nil
}

// load reads last_seq, the oldest seq, the byte count and the sessions,
// then folds in the events stored after state_seq. Every query is an index
// lookup except the sessions, whose table has one small row per session,
// and the replay, which reads only the last second or so of events.
func (j *Journal) load(ctx context.Context) error {
	var metaLast, maxSeq, minSeq sql.NullInt64
	var bytes, stateSeq int64
	for _, m := range []struct {
		k    string
		dest any
	}{{"last_seq", &metaLast}, {"bytes", &bytes}, {"state_seq", &stateSeq}} {
		if err := j.w.QueryRowContext(ctx, "SELECT v FROM meta WHERE k = ?", m.k).Scan(m.dest); err != nil {
			return fmt.Errorf("read journal (meta %s): %w", m.k, err)
		}
	}
	if err := j.w.QueryRowContext(ctx, "SELECT MAX(seq), MIN(seq) FROM events").Scan(&maxSeq, &minSeq); err != nil {
		return fmt.Errorf("read journal: %w", err)
	}
	last := uint64(metaLast.Int64)
	if uint64(maxSeq.Int64) > last {
		last = uint64(maxSeq.Int64)
	}
	j.last.Store(last)
	if minSeq.Valid {
		j.oldest.Store(uint64(minSeq.Int64))
	} else {
		j.oldest.Store(last + 1)
	}
	j.bytes.Store(bytes)
	rows, err := j.w.QueryContext(ctx, "SELECT session_id, info FROM sessions")
	if err != nil {
		return fmt.Errorf("read journal sessions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			return fmt.Errorf("read journal sessions: %w", err)
		}
		var row sessionRow
		if err := json.Unmarshal(raw, &row); err != nil {
			j.log.Warn("skipping a session summary that does not decode", "session_id", id, "error", err)
			continue
		}
		j.sess[id] = row.info()
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read journal sessions: %w", err)
	}
	rows.Close()
	var indexedTo int64
	if err := j.w.QueryRowContext(ctx, "SELECT v FROM meta WHERE k = 'indexed_to'").Scan(&indexedTo); err != nil {
		return fmt.Errorf("read journal (meta indexed_to): %w", err)
	}
	j.indexedTo.Store(uint64(indexedTo))
	j.stateSeq = uint64(stateSeq)
	return j.replay(uint64(stateSeq))
}

// seedLastSeq makes the journal continue after seq, so that seq numbers
// are not reused after events were lost (highwater.go). Events still
// retained keep their seqs; with none, the oldest seq moves up too.
func (j *Journal) seedLastSeq(seq uint64) error {
	if _, err := j.w.Exec("UPDATE meta SET v = ? WHERE k = 'last_seq'", int64(seq)); err != nil {
		return fmt.Errorf("journal: record last seq: %w", err)
	}
	if j.oldest.Load() > j.last.Load() {
		j.oldest.Store(seq + 1)
	}
	j.last.Store(seq)
	return nil
}

// corruptError is a damaged journal found by our own checks.
type corruptError struct{ msg string }

func (e *corruptError) Error() string { return e.msg }

// isCorrupt reports whether err means the file is not a usable database
// (as opposed to, say, a permission problem, which moving it would not fix).
func isCorrupt(err error) bool {
	var ce *corruptError
	if errors.As(err, &ce) {
		return true
	}
	var coder interface{ Code() int }
	if errors.As(err, &coder) {
		switch coder.Code() & 0xff {
		case sqliteCorrupt, sqliteNotADB:
			return true
		}
	}
	return false
}

// SQLite primary result codes that mean a damaged file.
const (
	sqliteCorrupt = 11
	sqliteNotADB  = 26
)
