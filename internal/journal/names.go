package journal

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// Numbered names (layout 7). A new journal's events rows hold the session
// id, the event name and the tool name as numbers of the names table, not
// as text: the session id alone (36 bytes) was ~a third of a row, and
// again in every entry of the events_session index. The columns keep
// their names (session_id, event, tool: INTEGER in a new journal, TEXT in
// one made before layout 7, whose rows keep their text: nothing is
// rewritten), so every query is the same; what differs is the value bound
// (sessionArg) and how a row's values become names (rowEvent).
//
//	names    n INTEGER PRIMARY KEY (the number, from 1), kind (kindSession
//	         or kindName: an event or tool name), s (the text).
//
// Every name is held in memory (nameTable), loaded at open: there are as
// many as sessions retained, plus the event and tool names. A session's
// name is deleted with the last of its events (dropNames); event and tool
// names, a few hundred at most, stay.
const namesSchema = `
CREATE TABLE IF NOT EXISTS names(
	n INTEGER PRIMARY KEY,
	kind INTEGER NOT NULL,
	s TEXT NOT NULL,
	UNIQUE(kind, s)
);`

// historyView is a view of the events with their names as text, for a
// person reading the file with the sqlite3 shell (README): one for each
// kind of events rows.
func historyView(numbered bool) string {
	if !numbered {
		return `CREATE VIEW IF NOT EXISTS history AS SELECT seq, received_ns, session_id, event, tool, origin FROM events;`
	}
	return `CREATE VIEW IF NOT EXISTS history AS SELECT e.seq, e.received_ns, s.s AS session_id, v.s AS event, COALESCE(t.s, '') AS tool, e.origin
	FROM events e LEFT JOIN names s ON s.n = e.session_id LEFT JOIN names v ON v.n = e.event LEFT JOIN names t ON t.n = e.tool;`
}

// Kinds of names.
const (
	kindSession = 0
	kindName    = 1 // an event or tool name
)

// errNameGone: a row's session number is no longer in the names table,
// because retention deleted the row (and the last of its session's
// events) after it was read. It is an errBlockGone: the readers skip such
// a row.
var errNameGone = fmt.Errorf("journal: the event's session name was deleted by retention: %w", errBlockGone)

// nameTable is the names table in memory. The writer (holding wmu) adds
// names (number) and deletes them (forget); readers look numbers up
// (name) under the read lock.
type nameTable struct {
	mu     sync.RWMutex
	byName [2]map[string]int64
	byNum  map[int64]string
	next   int64
}

// namesNumbered reports whether the journal's events rows hold numbers
// (a journal made at layout 7 or later).
func namesNumbered(ctx context.Context, db interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (bool, error) {
	var typ string
	if err := db.QueryRowContext(ctx, `SELECT type FROM pragma_table_info('events') WHERE name = 'session_id'`).Scan(&typ); err != nil {
		return false, fmt.Errorf("read the journal's events table: %w", err)
	}
	return typ == "INTEGER", nil
}

// load reads the names table.
func (t *nameTable) load(ctx context.Context, db *sql.DB) error {
	t.byName = [2]map[string]int64{{}, {}}
	t.byNum = map[int64]string{}
	t.next = 1
	rows, err := db.QueryContext(ctx, `SELECT n, kind, s FROM names`)
	if err != nil {
		return fmt.Errorf("read journal names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n, kind int64
		var s string
		if err := rows.Scan(&n, &kind, &s); err != nil {
			return fmt.Errorf("read journal names: %w", err)
		}
		if kind != kindSession && kind != kindName {
			return &corruptError{msg: fmt.Sprintf("journal names: name %d has kind %d", n, kind)}
		}
		t.byName[kind][s], t.byNum[n] = n, s
		t.next = max(t.next, n+1)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read journal names: %w", err)
	}
	return nil
}

// name is the text of number n.
func (t *nameTable) name(n int64) (string, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	s, ok := t.byNum[n]
	return s, ok
}

// lookup is the number of s, of kind, when it has one.
func (t *nameTable) lookup(kind int, s string) (int64, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	n, ok := t.byName[kind][s]
	return n, ok
}

// number is the number of s, of kind: a new one is inserted by ins (in
// the writer's transaction) and appended to added. The caller holds wmu;
// if the transaction does not commit it calls forget(added).
func (t *nameTable) number(ins *sql.Stmt, kind int, s string, added *[]int64) (int64, error) {
	if n, ok := t.lookup(kind, s); ok {
		return n, nil
	}
	n := t.next
	if _, err := ins.Exec(n, kind, s); err != nil {
		return 0, fmt.Errorf("journal: store the name %q: %w", s, err)
	}
	t.next++
	// in memory before the commit: a reader that sees the row finds it
	t.mu.Lock()
	t.byName[kind][s], t.byNum[n] = n, s
	t.mu.Unlock()
	*added = append(*added, n)
	return n, nil
}

// forget drops numbers ns (their rows were not committed, or were deleted).
func (t *nameTable) forget(ns []int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, n := range ns {
		s, ok := t.byNum[n]
		if !ok {
			continue
		}
		delete(t.byNum, n)
		for k := range t.byName {
			if t.byName[k][s] == n {
				delete(t.byName[k], s)
			}
		}
	}
}

// numberRows sets the session, event and tool numbers of rows, inserting
// the new names in tx, and moves sizes (what each row counts against
// --retain-bytes) to the numbers. The caller holds wmu and, when tx does
// not commit, calls names.forget(added).
func (j *Journal) numberRows(tx *sql.Tx, rows []eventRow, sizes []int64) (added []int64, err error) {
	ins := tx.Stmt(j.ins.name)
	for i := range rows {
		r := &rows[i]
		before := rowSize(r)
		if r.SessionNum, err = j.names.number(ins, kindSession, r.SessionID, &added); err != nil {
			return added, err
		}
		if r.EventNum, err = j.names.number(ins, kindName, r.Event, &added); err != nil {
			return added, err
		}
		r.ToolNum = 0 // no tool: 0, no name
		if r.Tool != "" {
			if r.ToolNum, err = j.names.number(ins, kindName, r.Tool, &added); err != nil {
				return added, err
			}
		}
		r.numbered = true
		sizes[i] += rowSize(r) - before
	}
	return added, nil
}

// nameRow sets the names of a row read with numbers (each column that
// held one); errNameGone when its session's name is gone (retention
// deleted the row since it was read).
func (j *Journal) nameRow(r *eventRow) error {
	var ok bool
	if r.numCols&1 != 0 {
		if r.SessionID, ok = j.names.name(r.SessionNum); !ok {
			return errNameGone
		}
	}
	if r.numCols&2 != 0 {
		if r.Event, ok = j.names.name(r.EventNum); !ok {
			return fmt.Errorf("event %d: its event name (%d) is not in the journal's names", r.Seq, r.EventNum)
		}
	}
	if r.numCols&4 != 0 {
		r.Tool = ""
		if r.ToolNum != 0 {
			if r.Tool, ok = j.names.name(r.ToolNum); !ok {
				return fmt.Errorf("event %d: its tool name (%d) is not in the journal's names", r.Seq, r.ToolNum)
			}
		}
	}
	return nil
}

// sessionArg is the value a query compares events.session_id with to find
// session id's events: its number in a numbered journal (-1, which no row
// has, when it has none), else the id.
func (j *Journal) sessionArg(id string) any {
	if !j.numbered {
		return id
	}
	if n, ok := j.names.lookup(kindSession, id); ok {
		return n
	}
	return int64(-1)
}

// dropNames deletes the names of the sessions that have no event left
// (retention deleted the last one), in the table and in memory: one
// lookup in the events_session index a session.
func (j *Journal) dropNames() error {
	if !j.numbered {
		return nil
	}
	var gone []int64
	return j.writeTx(func(tx *sql.Tx) error {
		rows, err := tx.Query(`DELETE FROM names WHERE kind = ? AND NOT EXISTS (SELECT 1 FROM events WHERE session_id = names.n) RETURNING n`, kindSession)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n int64
			if err := rows.Scan(&n); err != nil {
				return err
			}
			gone = append(gone, n)
		}
		return rows.Err()
	}, func() { j.names.forget(gone) })
}
