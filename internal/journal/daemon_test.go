package journal_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// checkContiguous fails unless seqs are exactly from, from+1, ..., to.
func checkContiguous(t *testing.T, what string, seqs []uint64, from, to uint64) {
	t.Helper()
	if uint64(len(seqs)) != to-from+1 {
		t.Fatalf("%s: %d events, want %d (seq %d..%d)", what, len(seqs), to-from+1, from, to)
	}
	for i, s := range seqs {
		if s != from+uint64(i) {
			t.Fatalf("%s: event %d has seq %d, want %d (gap or duplicate)", what, i, s, from+uint64(i))
		}
	}
}

func TestDaemonKill9LosesNoAcknowledgedEvent(t *testing.T) {
	d := testutil.StartDaemon(t)

	// A WebSocket client connected before the crash.
	ws := dialWS(t, d, 0)
	var wsMu sync.Mutex
	var wsSeen []uint64
	wsDone := make(chan error, 1)
	go func() {
		wsDone <- readUntil(t, ws, time.Now().Add(time.Minute), func(m wsMsg) bool {
			wsMu.Lock()
			for _, ev := range m.Events {
				wsSeen = append(wsSeen, ev.Seq)
			}
			wsMu.Unlock()
			return false
		})
	}()

	// Four writers post continuously, each event with its own key.
	p := newPoster(d, 4)
	var mu sync.Mutex
	acked := map[string]uint64{}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				key := fmt.Sprintf("w%d-%d", w, i)
				code, seq, err := p.post(hookBody(fmt.Sprintf("sess-%d", w), key, 200), key)
				if err != nil {
					return // the daemon is gone
				}
				if code/100 == 2 {
					mu.Lock()
					acked[key] = seq
					mu.Unlock()
				}
			}
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 400 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d events acknowledged in 30s", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	d.Kill() // SIGKILL while the writers are posting
	wg.Wait()
	<-wsDone
	ws.Close()

	d.Start()
	all, oldest := history(t, d, 0)
	if oldest != 1 || len(all) == 0 {
		t.Fatalf("after restart: oldest %d, %d events", oldest, len(all))
	}
	seqs := make([]uint64, len(all))
	byMarker := map[string]uint64{}
	for i, ev := range all {
		seqs[i] = ev.Seq
		m := ev.marker()
		if _, dup := byMarker[m]; dup {
			t.Fatalf("event %q stored twice", m)
		}
		byMarker[m] = ev.Seq
	}
	last := seqs[len(seqs)-1]
	checkContiguous(t, "history after restart", seqs, 1, last)
	for key, seq := range acked {
		if got, ok := byMarker[key]; !ok || got != seq {
			t.Fatalf("acknowledged event %s (seq %d) after restart: found %v at seq %d", key, seq, ok, got)
		}
	}
	t.Logf("%d events acknowledged before kill -9, %d stored (the rest were in flight)", len(acked), len(all))

	// The WebSocket client resumes from the last seq it saw.
	wsMu.Lock()
	seen := append([]uint64(nil), wsSeen...)
	wsMu.Unlock()
	var lastSeen uint64
	if len(seen) > 0 {
		lastSeen = seen[len(seen)-1]
		checkContiguous(t, "events seen before the crash", seen, 1, lastSeen)
	}
	for i := 0; i < 5; i++ {
		if code, _, err := p.post(hookBody("sess-after", fmt.Sprintf("after-%d", i), 10), fmt.Sprintf("after-%d", i)); err != nil || code != 202 {
			t.Fatalf("post after restart: %d %v", code, err)
		}
	}
	newLast := last + 5
	ws2 := dialWS(t, d, lastSeen)
	defer ws2.Close()
	var resumed []uint64
	err := readUntil(t, ws2, time.Now().Add(20*time.Second), func(m wsMsg) bool {
		if m.Type == "subscribed" && m.Truncated {
			t.Errorf("resume reported truncated")
		}
		for _, ev := range m.Events {
			resumed = append(resumed, ev.Seq)
		}
		return len(resumed) > 0 && resumed[len(resumed)-1] >= newLast
	})
	if err != nil {
		t.Fatalf("resume: %v (got %d events)", err, len(resumed))
	}
	checkContiguous(t, "events after resume", resumed, lastSeen+1, newLast)
	if !bytes.Contains([]byte(d.Log.String()), []byte(`store=journal`)) {
		t.Logf("daemon log:\n%s", d.Log.String())
	}
}

func TestDaemonRetentionEachLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		post int
		// retained is the events expected after retention; 0: none.
		retained int
	}{
		{"count", []string{"--retain-events", "50"}, 120, 50},
		{"bytes", []string{"--retain-events", "0", "--retain-bytes", "30000"}, 120, -1},
		{"age", []string{"--retain-age", "1s"}, 60, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := testutil.StartDaemon(t, append(tc.args, "--retain-interval", "50ms")...)
			p := newPoster(d, 1)
			for i := 0; i < tc.post; i++ {
				if code, _, err := p.post(hookBody("s", fmt.Sprint(i), 500), ""); err != nil || code != 202 {
					t.Fatalf("post: %d %v", code, err)
				}
			}
			last := uint64(tc.post)
			deadline := time.Now().Add(20 * time.Second)
			var evs []wireEvent
			var oldest uint64
			for {
				evs, oldest = history(t, d, 0)
				size := 0
				for _, ev := range evs {
					size += len(ev.Payload)
				}
				// The limit counts stored bytes: the payloads are
				// compressed, their noise padding to no less than half.
				done := oldest > 1 && size <= 2*30000
				switch {
				case tc.retained > 0:
					done = len(evs) == tc.retained
				case tc.retained == 0:
					done = len(evs) == 0
				}
				// Retention may still be deleting between the page and
				// its oldest_seq: wait until the two agree.
				if done && (len(evs) == 0 || evs[0].Seq == oldest) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("retention did not act: %d events retained from %d", len(evs), oldest)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if tc.retained == -1 && len(evs) < 30000/1000 {
				t.Fatalf("bytes limit: only %d events retained, want as many as fit in 30000 bytes", len(evs))
			}
			if len(evs) > 0 && (evs[0].Seq != oldest || evs[len(evs)-1].Seq != last) {
				t.Fatalf("retained %d..%d, oldest_seq %d, want up to %d", evs[0].Seq, evs[len(evs)-1].Seq, oldest, last)
			}
			// A client asking for dropped history is told, and gets what is kept.
			ws := dialWS(t, d, 0)
			defer ws.Close()
			var sub wsMsg
			var got []uint64
			err := readUntil(t, ws, time.Now().Add(10*time.Second), func(m wsMsg) bool {
				if m.Type == "subscribed" {
					sub = m
				}
				for _, ev := range m.Events {
					got = append(got, ev.Seq)
				}
				return m.Type == "live"
			})
			if err != nil {
				t.Fatal(err)
			}
			if !sub.Truncated || sub.OldestSeq < oldest {
				t.Fatalf("subscribed %+v, want truncated with oldest_seq >= %d", sub, oldest)
			}
			if len(got) > 0 && (got[0] < oldest || got[len(got)-1] != last) {
				t.Fatalf("replayed %v, want the retained events up to %d", got, last)
			}
			// seq continues after a restart even when nothing is retained
			d.Stop()
			d.Start()
			if code, seq, err := p.post(hookBody("s", "next", 10), ""); err != nil || code != 202 || seq != last+1 {
				t.Fatalf("post after restart: %d seq %d %v, want seq %d", code, seq, err, last+1)
			}
		})
	}
}

func TestDaemonMovesACorruptJournalAside(t *testing.T) {
	d := testutil.StartDaemon(t)
	p := newPoster(d, 1)
	var handedOut uint64
	for i := 0; i < 20; i++ {
		code, seq, err := p.post(hookBody("s", fmt.Sprint(i), 10), "")
		if err != nil || code != 202 {
			t.Fatalf("post: %d %v", code, err)
		}
		handedOut = seq
	}
	d.Kill()
	path := filepath.Join(d.DataDir, "journal.db")
	for _, suffix := range []string{"-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	garbage := bytes.Repeat([]byte("garbage! "), 2000)
	if err := os.WriteFile(path, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	d.Start()
	h := healthz(t, d)
	note, _ := h["store_note"].(string)
	if h["store"] != "journal" || !strings.Contains(note, "moved to") {
		t.Fatalf("healthz %v, want store journal with a store_note about the moved file", h)
	}
	moved, _ := filepath.Glob(path + ".corrupt-*[0-9]Z")
	if len(moved) != 1 {
		t.Fatalf("moved aside: %v", moved)
	}
	if b, _ := os.ReadFile(moved[0]); !bytes.Equal(b, garbage) {
		t.Fatal("the moved file does not hold the original bytes")
	}
	if !strings.Contains(d.Log.String(), "[ERROR]") || !strings.Contains(d.Log.String(), "moved") {
		t.Fatalf("no ERROR log line about the moved journal:\n%s", d.Log.String())
	}
	// The fresh journal continues above every seq handed out before (it
	// used to start again at 1, reusing seqs clients had seen).
	if code, seq, err := p.post(hookBody("s", "x", 10), "k"); err != nil || code != 202 || seq <= handedOut {
		t.Fatalf("post to the fresh journal: %d seq %d %v, want a seq above %d", code, seq, err, handedOut)
	}
}

// TestDaemonDamagedWALIsReportedAndSeqIsNeverReused: acknowledged events,
// kill -9, bytes overwritten in a frame of the WAL: the restarted daemon
// says so (ERROR line, /healthz store_note) and hands out no seq twice.
func TestDaemonDamagedWALIsReportedAndSeqIsNeverReused(t *testing.T) {
	d := testutil.StartDaemon(t)
	p := newPoster(d, 4)
	const n = 1000
	var wg sync.WaitGroup
	var mu sync.Mutex
	var handedOut uint64
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/4; i++ {
				code, seq, err := p.post(hookBody(fmt.Sprintf("s%d", w), fmt.Sprintf("%d-%d", w, i), 100), "")
				if err != nil || code != 202 {
					t.Errorf("post: %d %v", code, err)
					return
				}
				mu.Lock()
				handedOut = max(handedOut, seq)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// Wait for the checkpoint tick to record the last seq in journal.db.seq
	// (about once a second), as it will have long before a real crash.
	path := filepath.Join(d.DataDir, "journal.db")
	for deadline := time.Now().Add(30 * time.Second); ; {
		var hw struct {
			LastSeq uint64 `json:"last_seq"`
		}
		b, _ := os.ReadFile(path + ".seq")
		if json.Unmarshal(b, &hw) == nil && hw.LastSeq >= handedOut {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("journal.db.seq never recorded seq %d: %s", handedOut, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.Kill()
	// Overwrite 64 bytes in the page of the log's first frame: SQLite
	// drops the frame and every committed transaction after it.
	f, err := os.OpenFile(path+"-wal", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0x5A}, 64), 32+24+100); err != nil {
		t.Fatal(err)
	}
	f.Close()

	d.Start()
	h := healthz(t, d)
	note, _ := h["store_note"].(string)
	if h["ok"] != true || !strings.Contains(note, "write-ahead log") {
		t.Fatalf("healthz %v, want ok with a store_note about the damaged WAL", h)
	}
	if !strings.Contains(d.Log.String(), "[ERROR]") {
		t.Fatalf("no ERROR line:\n%s", d.Log.String())
	}
	code, seq, err := p.post(hookBody("s", "after", 10), "")
	if err != nil || code != 202 || seq <= handedOut {
		t.Fatalf("post after restart: %d seq %d %v, want a seq above %d (handed out before the crash)", code, seq, err, handedOut)
	}
}
