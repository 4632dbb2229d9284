package journal

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// crash ends j the way kill -9 would leave its files: the background loops
// stop and the connections close without saving the state.
func crash(j *Journal) {
	close(j.stop)
	j.done.Wait()
	j.wmu.Lock()
	j.closeHandles()
	j.wmu.Unlock()
	j.closeOnce.Do(func() {}) // the test's cleanup Close does nothing more
}

// The sessions (with their open tool calls) and the byte count are saved
// about once a second, not in every commit; after a crash, open folds the
// events stored since the last save back in and gets the same state.
func TestStateReplayedAfterCrash(t *testing.T) {
	ci := checkpointInterval
	checkpointInterval = time.Hour // nothing saves the state but Close and the test
	t.Cleanup(func() { checkpointInterval = ci })
	dir := t.TempDir()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	j := openT(t, dir, Options{})
	first := appendScript(t, j, base)
	if err := j.Close(); err != nil { // saves the state
		t.Fatal(err)
	}
	j = openT(t, dir, Options{})
	if j.stateSeq != first[len(first)-1].Seq {
		t.Fatalf("state saved at close reflects seq %d, want %d", j.stateSeq, first[len(first)-1].Seq)
	}
	later := appendScript(t, j, base.Add(time.Minute))
	if j.stateSeq >= j.LastSeq() {
		t.Fatalf("state already saved up to %d (last %d): the crash would not test the replay", j.stateSeq, j.LastSeq())
	}
	all := append(first, later...)
	wantBytes := j.Bytes()
	wantJSON, _ := json.Marshal(trackerInfos(all))
	crash(j)

	j2 := openT(t, dir, Options{})
	infos, _ := j2.Sessions()
	gotJSON, _ := json.Marshal(infos)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Fatalf("sessions after crash:\n%s\nwant\n%s", gotJSON, wantJSON)
	}
	if j2.Bytes() != wantBytes || j2.LastSeq() != all[len(all)-1].Seq {
		t.Fatalf("after crash: bytes %d last %d, want %d and %d", j2.Bytes(), j2.LastSeq(), wantBytes, all[len(all)-1].Seq)
	}
	// Saving now writes the replayed state; a second open replays nothing.
	if err := j2.saveState(); err != nil {
		t.Fatal(err)
	}
	if err := j2.Close(); err != nil {
		t.Fatal(err)
	}
	j3 := openT(t, dir, Options{})
	infos, _ = j3.Sessions()
	if gotJSON, _ = json.Marshal(infos); !bytes.Equal(gotJSON, wantJSON) || j3.Bytes() != wantBytes || j3.stateSeq != j3.LastSeq() {
		t.Fatalf("after save and reopen: state seq %d last %d bytes %d\n%s", j3.stateSeq, j3.LastSeq(), j3.Bytes(), gotJSON)
	}
}

// A layout-2 journal saved its sessions in every commit: opening it takes
// state_seq = last_seq and replays nothing.
func TestMigrateV2StateSeq(t *testing.T) {
	db, dir := rawJournal(t)
	v2 := strings.Replace(schema, "INSERT OR IGNORE INTO meta(k, v) SELECT 'state_seq', v FROM meta WHERE k = 'last_seq';", "", 1)
	if v2 == schema {
		t.Fatal("the state_seq line is not in the schema any more; update this test")
	}
	payload := `{"session_id":"s","hook_event_name":"UserPromptSubmit"}`
	for _, q := range []string{
		v2 + "PRAGMA user_version = 2;",
		"ALTER TABLE events ADD COLUMN origin TEXT NOT NULL DEFAULT ''",
		"ALTER TABLE events ADD COLUMN origin_seq INTEGER NOT NULL DEFAULT 0",
		`INSERT INTO events(seq, received_ns, session_id, event, size, payload) VALUES (1, 5, 's', 'UserPromptSubmit', 10, '` + payload + `')`,
		`INSERT INTO sessions(session_id, last_seq, last_ns, info) VALUES ('s', 1, 5, '{"session_id":"s","first_seq":1,"last_seq":1,"total":1}')`,
		`UPDATE meta SET v = 1 WHERE k = 'last_seq'`,
		`UPDATE meta SET v = 10 WHERE k = 'bytes'`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	j := openT(t, dir, Options{})
	infos, _ := j.Sessions()
	if j.stateSeq != 1 || j.Bytes() != 10 || len(infos) != 1 || infos[0].Total != 1 {
		t.Fatalf("after migration: state seq %d bytes %d sessions %+v; want 1, 10 and one session with 1 event (not replayed twice)", j.stateSeq, j.Bytes(), infos)
	}
}
