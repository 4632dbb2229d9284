package spool

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func rec(key string, payload string) Record {
	return Record{Key: key, SentAt: time.Unix(0, 1700000000123456789), Payload: []byte(payload)}
}

func drainAll(t *testing.T, dir string) []Record {
	t.Helper()
	var got []Record
	n, err := Drain(dir, func(r Record) error { got = append(got, r); return nil })
	if err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if n != len(got) {
		t.Fatalf("Drain said %d delivered, deliver saw %d", n, len(got))
	}
	return got
}

func TestAppendDrainRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool") // does not exist yet
	payloads := []string{
		`{"a":1}`,
		"{\n  \"multi\": \"line\"\n}\n",
		"MPM1 fake 1 2 00000000\n{}",
		strings.Repeat("x", 300<<10),
		"",
	}
	for i, p := range payloads {
		if err := Append(dir, rec("k"+strconv.Itoa(i), p)); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("spool dir mode %v, want 0700", fi.Mode().Perm())
	}
	recs, size, dropped, err := Stats(dir)
	if err != nil || recs != len(payloads) || size == 0 || dropped != 0 {
		t.Fatalf("Stats = %d, %d, %d, %v; want %d records", recs, size, dropped, err, len(payloads))
	}
	got := drainAll(t, dir)
	if len(got) != len(payloads) {
		t.Fatalf("got %d records, want %d", len(got), len(payloads))
	}
	for i, r := range got {
		if r.Key != "k"+strconv.Itoa(i) || string(r.Payload) != payloads[i] || r.SentAt.UnixNano() != 1700000000123456789 {
			t.Errorf("record %d = %q %v %.40q", i, r.Key, r.SentAt, r.Payload)
		}
	}
	if recs, size, _, _ := Stats(dir); recs != 0 || size != 0 {
		t.Errorf("after drain Stats = %d records %d bytes, want empty", recs, size)
	}
	if again := drainAll(t, dir); len(again) != 0 {
		t.Errorf("second drain delivered %d records", len(again))
	}
}

func TestDrainMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	if n, err := Drain(dir, func(Record) error { return nil }); n != 0 || err != nil {
		t.Errorf("Drain(missing) = %d, %v", n, err)
	}
	if r, b, d, err := Stats(dir); r != 0 || b != 0 || d != 0 || err != nil {
		t.Errorf("Stats(missing) = %d %d %d %v", r, b, d, err)
	}
}

func TestBadKey(t *testing.T) {
	dir := t.TempDir()
	for _, k := range []string{"", "a b", "é", strings.Repeat("k", 129), "a\nb"} {
		if err := Append(dir, rec(k, "{}")); !errors.Is(err, ErrBadKey) {
			t.Errorf("Append(key %q) = %v, want ErrBadKey", k, err)
		}
	}
}

// A record torn in the middle of its write (crash, kill) with more records
// appended behind it: the reader skips it, keeps the rest, and counts it.
func TestTornRecordInTheMiddle(t *testing.T) {
	dir := t.TempDir()
	if err := Append(dir, rec("first", `{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	torn, _ := Encode(rec("torn", `{"n":2,"long":"`+strings.Repeat("y", 1000)+`"}`))
	f, err := os.OpenFile(filepath.Join(dir, liveName), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(torn[:len(torn)/2])
	f.Close()
	if err := Append(dir, rec("third", `{"n":3}`)); err != nil {
		t.Fatal(err)
	}
	got := drainAll(t, dir)
	if len(got) != 2 || got[0].Key != "first" || got[1].Key != "third" {
		t.Fatalf("got %v, want first and third", keys(got))
	}
	if _, _, dropped, _ := Stats(dir); dropped != 1 {
		t.Errorf("dropped = %d, want 1 (the torn record)", dropped)
	}
}

func TestTornTail(t *testing.T) {
	dir := t.TempDir()
	Append(dir, rec("a", `{}`))
	Append(dir, rec("b", `{"x":"`+strings.Repeat("z", 100)+`"}`))
	live := filepath.Join(dir, liveName)
	fi, _ := os.Stat(live)
	if err := os.Truncate(live, fi.Size()-10); err != nil {
		t.Fatal(err)
	}
	if r, _, _, _ := Stats(dir); r != 1 {
		t.Errorf("Stats records = %d, want 1", r)
	}
	got := drainAll(t, dir)
	if len(got) != 1 || got[0].Key != "a" {
		t.Fatalf("got %v, want [a]", keys(got))
	}
	if _, _, dropped, _ := Stats(dir); dropped != 1 {
		t.Errorf("dropped = %d, want 1", dropped)
	}
}

func TestCorruptChecksumSkipped(t *testing.T) {
	b1, _ := Encode(rec("a", `{"v":1}`))
	b2, _ := Encode(rec("b", `{"v":2}`))
	b3, _ := Encode(rec("c", `{"v":3}`))
	b2[len(b2)-3] ^= 1 // flip a payload bit
	data := append(append(append([]byte{}, b1...), b2...), b3...)
	var got []string
	damaged, err := ReadRecords(data, func(r Record, _ int) error { got = append(got, r.Key); return nil })
	if err != nil || damaged != 1 || strings.Join(got, ",") != "a,c" {
		t.Errorf("ReadRecords = %v, damaged %d, err %v; want a,c and 1 damaged", got, damaged, err)
	}
}

func TestDeliverFailureKeepsRecordAndRest(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 5; i++ {
		Append(dir, rec("k"+strconv.Itoa(i), `{"i":`+strconv.Itoa(i)+`}`))
	}
	boom := errors.New("daemon store failed")
	var seen []string
	n, err := Drain(dir, func(r Record) error {
		if r.Key == "k2" {
			return boom
		}
		seen = append(seen, r.Key)
		return nil
	})
	if !errors.Is(err, boom) || n != 2 {
		t.Fatalf("Drain = %d, %v; want 2, %v", n, err, boom)
	}
	if r, _, _, _ := Stats(dir); r != 3 {
		t.Errorf("after failed drain %d records left, want 3", r)
	}
	got := drainAll(t, dir)
	if strings.Join(keys(got), ",") != "k2,k3,k4" {
		t.Errorf("second drain got %v, want k2,k3,k4", keys(got))
	}
}

func TestDrainBusy(t *testing.T) {
	dir := t.TempDir()
	Append(dir, rec("a", `{}`))
	inside := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := Drain(dir, func(Record) error { close(inside); <-release; return nil })
		done <- err
	}()
	<-inside
	if _, err := Drain(dir, func(Record) error { return nil }); !errors.Is(err, ErrBusy) {
		t.Errorf("concurrent Drain = %v, want ErrBusy", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// Over the bound, the oldest records go first and are counted.
func TestRotationDropsOldestAndCounts(t *testing.T) {
	dir := t.TempDir()
	const limit = 8 << 10
	const total = 200
	payload := `{"pad":"` + strings.Repeat("p", 200) + `"}`
	for i := 0; i < total; i++ {
		if err := AppendLimit(dir, rec(fmt.Sprintf("k%04d", i), payload), limit); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if _, size, _, _ := Stats(dir); size > limit {
			t.Fatalf("after %d appends the spool holds %d bytes, over the %d bound", i+1, size, limit)
		}
	}
	_, _, dropped, _ := Stats(dir)
	got := drainAll(t, dir)
	if int64(len(got))+dropped != total {
		t.Errorf("delivered %d + dropped %d != appended %d", len(got), dropped, total)
	}
	if dropped == 0 || len(got) == 0 {
		t.Fatalf("delivered %d dropped %d: want both > 0", len(got), dropped)
	}
	for i, r := range got { // the newest survive, in order
		if want := fmt.Sprintf("k%04d", int(dropped)+i); r.Key != want {
			t.Fatalf("record %d is %s, want %s", i, r.Key, want)
		}
	}
	// A single record larger than half the bound is refused and counted.
	if err := AppendLimit(dir, rec("big", strings.Repeat("b", limit)), limit); !errors.Is(err, ErrTooLarge) {
		t.Errorf("big record: %v, want ErrTooLarge", err)
	}
	if _, _, d2, _ := Stats(dir); d2 != dropped+1 {
		t.Errorf("dropped = %d, want %d", d2, dropped+1)
	}
}

// Helper process: appends SPOOL_HELPER_N records with keys <prefix>-<i>.
func TestMain(m *testing.M) {
	if dir := os.Getenv("SPOOL_HELPER_DIR"); dir != "" {
		// These writers check their own order, which a record written
		// aside (after LockWait on a loaded machine) may not keep.
		lockWait = time.Minute
		n, _ := strconv.Atoi(os.Getenv("SPOOL_HELPER_N"))
		prefix := os.Getenv("SPOOL_HELPER_PREFIX")
		for i := 0; i < n; i++ {
			if err := Append(dir, rec(prefix+"-"+strconv.Itoa(i), `{"w":"`+prefix+`","i":`+strconv.Itoa(i)+`}`)); err != nil {
				fmt.Fprintln(os.Stderr, "append:", err)
				os.Exit(1)
			}
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Several processes append while this one drains over and over: every record
// arrives exactly once, and each writer's records in its order.
func TestConcurrentAppendersWhileDraining(t *testing.T) {
	dir := t.TempDir()
	const writers, perWriter = 4, 150
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "SPOOL_HELPER_DIR="+dir, "SPOOL_HELPER_N="+strconv.Itoa(perWriter), "SPOOL_HELPER_PREFIX=w"+strconv.Itoa(w))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cmd.Wait(); err != nil {
				errs <- fmt.Errorf("writer: %v: %s", err, stderr.String())
			}
		}()
	}
	writersDone := make(chan struct{})
	go func() { wg.Wait(); close(writersDone) }()

	seen := map[string]int{}
	next := map[string]int{}
	deliver := func(r Record) error {
		seen[r.Key]++
		w, i, _ := strings.Cut(r.Key, "-")
		n, _ := strconv.Atoi(i)
		if n != next[w] {
			return fmt.Errorf("writer %s: got record %d, want %d", w, n, next[w])
		}
		next[w]++
		return nil
	}
	for done := false; !done; {
		select {
		case <-writersDone:
			done = true
		default:
		}
		if _, err := Drain(dir, deliver); err != nil {
			t.Fatal(err)
		}
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if _, err := Drain(dir, deliver); err != nil {
		t.Fatal(err)
	}
	if len(seen) != writers*perWriter {
		t.Errorf("delivered %d distinct records, want %d", len(seen), writers*perWriter)
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("%s delivered %d times", k, c)
		}
	}
	if r, _, d, _ := Stats(dir); r != 0 || d != 0 {
		t.Errorf("after final drain: %d records left, %d dropped", r, d)
	}
}

func keys(rs []Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Key)
	}
	return out
}

func FuzzReadRecords(f *testing.F) {
	b1, _ := Encode(rec("seed-1", `{"a":1}`))
	b2, _ := Encode(rec("seed-2", "{\n}\n"))
	f.Add(append(append([]byte{}, b1...), b2...), []byte(nil))
	f.Add(b1[:len(b1)-3], []byte("MPM1 "))
	f.Add([]byte("MPM1 k 1 5 00000000\nhello\n"), []byte("\x00"))
	f.Add([]byte(""), []byte("MPM1 k -1 0 "))
	f.Fuzz(func(t *testing.T, data, garbage []byte) {
		// Any bytes: no panic, records in order, each one exactly its own
		// canonical encoding.
		check := func(data []byte) []Record {
			var out []Record
			prev := 0
			ReadRecords(data, func(r Record, end int) error {
				if end <= prev || end > len(data) {
					t.Fatalf("end %d after %d (len %d)", end, prev, len(data))
				}
				enc, err := Encode(r)
				if err != nil {
					t.Fatalf("parsed record does not encode: %v", err)
				}
				if !bytes.Equal(enc, data[end-len(enc):end]) {
					t.Fatalf("parsed record is not its bytes: %q vs %q", enc, data[end-len(enc):end])
				}
				out = append(out, r)
				prev = end
				return nil
			})
			return out
		}
		check(data)
		// A good record followed by garbage always comes out first, whole.
		good, _ := Encode(Record{Key: "good", SentAt: time.Unix(0, 5), Payload: data})
		got := check(append(append([]byte{}, good...), garbage...))
		if len(got) == 0 || got[0].Key != "good" || !bytes.Equal(got[0].Payload, data) {
			t.Fatalf("leading good record lost")
		}
	})
}

// With the default bound, the live segment is sealed at about SegmentBytes,
// so that dropping the oldest segment (which reads it to count its records)
// stays a small, bounded job for the hook that happens to do it.
func TestSegmentsStaySmall(t *testing.T) {
	dir := t.TempDir()
	payload := `{"pad":"` + strings.Repeat("p", 100<<10) + `"}`
	for i := 0; i < 40; i++ { // ~4 MiB
		if err := Append(dir, rec(fmt.Sprintf("k%04d", i), payload)); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	segs, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) < 3 {
		t.Fatalf("%d sealed segments after ~4 MiB, want at least 3", len(segs))
	}
	for _, s := range segs {
		if s.size > SegmentBytes {
			t.Errorf("segment %s holds %d bytes, over SegmentBytes (%d)", s.name, s.size, SegmentBytes)
		}
	}
	if got := drainAll(t, dir); len(got) != 40 || got[0].Key != "k0000" || got[39].Key != "k0039" {
		t.Fatalf("drained %d records, want all 40 in order", len(got))
	}
}

// TestFullSpoolDropsWithSlack: a full spool drops its oldest segments down
// to dropTo, several at once, so that most seals of a long outage drop
// nothing (dropping reads a segment through: ~0.65 ms of a hook run); the
// spool never passes its bound.
func TestFullSpoolDropsWithSlack(t *testing.T) {
	dir := t.TempDir()
	const bound = 16 << 20
	rec := Record{Key: "k", Payload: bytes.Repeat([]byte("x"), 300<<10)} // 3 to a 1 MiB segment
	var drops []int                                                      // the appends that dropped
	var last int64
	for i := 0; i < 300; i++ {
		if err := AppendLimit(dir, rec, bound); err != nil {
			t.Fatal(err)
		}
		_, size, dropped, err := Stats(dir)
		if err != nil {
			t.Fatal(err)
		}
		if size > bound {
			t.Fatalf("append %d: the spool holds %d bytes, over its bound of %d", i, size, bound)
		}
		if dropped != last {
			if len(drops) > 0 && dropped-last < 6 {
				t.Fatalf("append %d dropped %d records; want at least two segments' worth at once", i, dropped-last)
			}
			drops = append(drops, i)
			last = dropped
		}
	}
	if len(drops) < 3 {
		t.Fatalf("drops at appends %v: the spool never filled", drops)
	}
	for k := 2; k < len(drops); k++ {
		if gap := drops[k] - drops[k-1]; gap < 6 {
			t.Fatalf("drops at appends %v: %d appends apart, want at least two seals between drops", drops, gap)
		}
	}
}
