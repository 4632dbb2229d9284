package lean

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/spool"
	"github.com/mpm-dev/mpm/internal/spool/recscan"
	"github.com/mpm-dev/mpm/internal/testutil"
	"github.com/mpm-dev/mpm/internal/token"
)

// The Linux path restates what it cannot import: these must stay equal.
func TestConstantsMatchTheirPackages(t *testing.T) {
	strs := []struct{ got, want string }{
		{envAddr, paths.EnvAddr}, {envDataDir, paths.EnvDataDir}, {envTimeout, paths.EnvHookTimeout},
		{envStdinTimeout, paths.EnvHookStdinTimeout}, {envDebug, paths.EnvHookDebug}, {envHookBin, paths.EnvHookBin},
		{defaultAddr, paths.DefaultAddr}, {errInvalidToken.Error(), token.ErrInvalid.Error()},
		{spoolMagic, spool.Magic}, {"/" + paths.SocketFile, "/wsd.sock"}, {"/" + paths.TokenFile, "/token"}, {paths.SpoolDir, "spool"},
	}
	for _, c := range strs {
		if c.got != c.want {
			t.Errorf("lean has %q, its package %q", c.got, c.want)
		}
	}
	ints := []struct {
		name      string
		got, want int64
	}{
		{"segmentBytes", segmentBytes, spool.SegmentBytes}, {"maxBytes", maxBytes, spool.DefaultMaxBytes},
		{"lockWait", lockWait, int64(spool.LockWait)}, {"tokenFileMax", tokenFileMax, token.MaxFileSize},
		{"key length", 128, spool.MaxKeyLen},
	}
	for _, c := range ints {
		if c.got != c.want {
			t.Errorf("%s: lean has %d, its package %d", c.name, c.got, c.want)
		}
	}
}

func TestDataDirIsPathsDataDir(t *testing.T) {
	cases := []struct{ dataDir, xdg, home string }{
		{"/x/data", "", "/home/u"},
		{"  /x/data  ", "/state", "/home/u"},
		{"", "/state", "/home/u"},
		{"", "/state/", "/home/u"},
		{"", "relative", "/home/u"},
		{"", "", "/home/u"},
		{"", "", "/home/u/"},
		{"", "", "/"},
		{"", "/state//x/../y", "/home/u"},
		{"", "", "/home//u/../v/."},
		{"", "", ""},
	}
	for _, c := range cases {
		t.Setenv(paths.EnvDataDir, c.dataDir)
		t.Setenv("XDG_STATE_HOME", c.xdg)
		t.Setenv("HOME", c.home)
		if got, want := dataDir(), paths.DataDir(); got != want {
			t.Errorf("%+v: lean %q, paths %q", c, got, want)
		}
	}
}

func TestParseDurationIsTimes(t *testing.T) {
	for _, s := range []string{"300ms", "1.5s", "2m", "1h2m3.5s", "0", "-1s", "+2ms", "1us", "1µs", "1μs", "10ns",
		".5s", "5.s", "", "s", "1", "1x", "9223372036854775807ns", "9223372036854775808ns", "2562048h", "1.0000000001s",
		"0.0000000001s", "100000000000000000000s", "-9223372036854775808ns", "1.s5m"} {
		checkDuration(t, s)
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"300ms", "1.5s", "1h2m3.5s", "-0.5us", "9223372036854775807ns", "1.12345678901234567890s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkDuration(t, s) })
}

func checkDuration(t *testing.T, s string) {
	t.Helper()
	want, err := time.ParseDuration(s)
	got, ok := ParseDuration(s)
	if ok != (err == nil) || (ok && got != int64(want)) {
		t.Fatalf("ParseDuration(%q) = %d, %v; time.ParseDuration: %d, %v", s, got, ok, want, err)
	}
}

func FuzzQuoteIsStrconvs(f *testing.F) {
	for _, s := range []string{"connect: connection refused", `a"b\c`, "tab\there\n", "\x00\x7f", "é ü 日本", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// strconv.Quote also escapes printable-looking non-ASCII that
		// unicode deems unprintable; compare where every rune is ASCII or
		// strconv.IsPrint.
		for _, r := range s {
			if r >= 0x80 && r != 0xfffd && !strconv.IsPrint(r) {
				return // (an invalid byte ranges as U+FFFD: both escape it as \xNN)
			}
		}
		if got, want := Quote(s), strconv.Quote(s); got != want {
			t.Fatalf("Quote(%q) = %s, strconv.Quote %s", s, got, want)
		}
	})
}

func FuzzAppendInt(f *testing.F) {
	for _, v := range []int64{0, 1, -1, 1 << 62, -1 << 63, 1<<63 - 1} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v int64) {
		if got, want := string(AppendInt([]byte("x"), v)), "x"+strconv.FormatInt(v, 10); got != want {
			t.Fatalf("AppendInt(%d) = %s, want %s", v, got, want)
		}
	})
}

// records returns every record in the spool directory's files.
func records(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || e.Name() != "live" && !strings.HasPrefix(e.Name(), "seg-") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		damaged, _ := spool.ReadRecords(data, func(r spool.Record, _ int) error {
			out[r.Key] = append([]byte(nil), r.Payload...)
			return nil
		})
		if damaged != 0 {
			t.Fatalf("%s: %d damaged records", e.Name(), damaged)
		}
	}
	return out
}

// TestSpoolAppendIsReadBySpool: the records lean writes are internal/spool's
// (key, sent time, payload, checksum), in a directory it creates.
func TestSpoolAppendIsReadBySpool(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "spool")
	payload := []byte(`{"session_id":"s","x":"a\nb"}`)
	sent := time.Now().UnixNano()
	if err := spoolAppend(dir, "k1", sent, payload); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "live"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := spool.Encode(spool.Record{Key: "k1", SentAt: time.Unix(0, sent), Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Fatalf("lean wrote %q, spool.Encode gives %q", data, want)
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("%s: %v %v, want a 0700 directory", d, fi.Mode(), err)
		}
	}
	if err := spoolAppend(dir, "bad key", sent, payload); err == nil {
		t.Fatal("a key with a space was spooled")
	}
}

// TestSpoolSealsAFullSegment: past SegmentBytes, "live" is sealed and the
// record goes to a new one; nothing is lost.
func TestSpoolSealsAFullSegment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", "/nonexistent") // no mpm-hookctl: lean seals itself
	payload := bytes.Repeat([]byte("a"), 200<<10)
	for i := 0; i < 12; i++ {
		if err := spoolAppend(dir, "k"+strconv.Itoa(i), 1, payload); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(records(t, dir)); got != 12 {
		t.Fatalf("%d records, want 12", got)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "seg-*"))
	if len(segs) != 2 {
		t.Fatalf("sealed segments %v, want 2 (5 records each)", segs)
	}
	for _, s := range segs {
		if strings.Contains(filepath.Base(s), "-a") {
			t.Fatalf("%s written aside", s)
		}
	}
}

// fillSpool fills dir's spool to its bound (sealed segments of one
// record each, the oldest first) so that the next seal must drop the
// oldest.
func fillSpool(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	rec, _ := spool.Encode(spool.Record{Key: "old", SentAt: time.Unix(0, 1), Payload: bytes.Repeat([]byte("o"), 1<<20-30)})
	for i := 0; i < 63; i++ {
		if err := os.WriteFile(filepath.Join(dir, "seg-"+strconv.Itoa(10000000000000000+i)+"-1"), rec, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "live"), rec, 0o600); err != nil {
		t.Fatal(err)
	}
}

// spoolState is what a spool directory holds, names aside: the sealed
// segments' sizes oldest first, "live"'s size, "dropped", the records.
type spoolState struct {
	sealed  []int64
	live    int64
	dropped string
	records int
}

func stateOf(t *testing.T, dir string) spoolState {
	t.Helper()
	var st spoolState
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasPrefix(e.Name(), "seg-"):
			st.sealed = append(st.sealed, fi.Size())
		case e.Name() == "live":
			st.live = fi.Size()
		case e.Name() == "dropped":
			b, _ := os.ReadFile(filepath.Join(dir, "dropped"))
			st.dropped = string(b)
		}
	}
	recs, _, _, err := spool.Stats(dir)
	if err != nil {
		t.Fatal(err)
	}
	st.records = int(recs)
	return st
}

// TestSpoolFullDropsTheOldestLikeSpool: when sealing must drop the oldest
// segments, lean does it itself (no mpm-hookctl on PATH) and leaves the
// spool as internal/spool's append leaves it: the same segments, the same
// count in "dropped" (damaged stretches counted, a segment a drainer holds
// skipped, an existing count added to), and the new record in "live".
func TestSpoolFullDropsTheOldestLikeSpool(t *testing.T) {
	t.Setenv("PATH", "/nonexistent")
	big := bytes.Repeat([]byte("p"), 300<<10)
	cases := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		payload []byte
		hold    string // a sealed segment a drainer holds (its flock)
	}{
		{"one record", nil, []byte(`{"a":1}`), ""},
		{"large record", nil, big, ""},
		{"dropped counted before", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "dropped"), []byte("41\n"), 0o600)
		}, []byte(`{"a":1}`), ""},
		{"dropped damaged", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "dropped"), []byte("not a number at all\n"), 0o600)
		}, []byte(`{"a":1}`), ""},
		{"dropped 99", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "dropped"), []byte("99\n"), 0o600)
		}, []byte(`{"a":1}`), ""},
		{"damaged oldest", func(t *testing.T, dir string) {
			// Two records with a torn one between them, and a torn tail:
			// two damaged stretches, two records.
			a, _ := spool.Encode(spool.Record{Key: "a", Payload: []byte(`{"x":1}`)})
			b, _ := spool.Encode(spool.Record{Key: "b", Payload: bytes.Repeat([]byte("b"), 1<<20-200)})
			seg := append(append(append(append([]byte{}, a...), a[:len(a)-4]...), b...), a[:10]...)
			os.WriteFile(filepath.Join(dir, "seg-09999999999999999-1"), seg, 0o600)
		}, []byte(`{"a":1}`), ""},
		{"oldest held by a drainer", nil, []byte(`{"a":1}`), "seg-10000000000000000-1"},
		{"many small segments", func(t *testing.T, dir string) {
			small, _ := spool.Encode(spool.Record{Key: "s", Payload: []byte(`{}`)})
			for i := 0; i < 5; i++ {
				os.WriteFile(filepath.Join(dir, "seg-0999999999999999"+strconv.Itoa(i)+"-2-a1"), small, 0o600)
			}
		}, big, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			leanDir, spoolDir := filepath.Join(t.TempDir(), "spool"), filepath.Join(t.TempDir(), "spool")
			for _, dir := range []string{leanDir, spoolDir} {
				fillSpool(t, dir)
				if c.prepare != nil {
					c.prepare(t, dir)
				}
				if c.hold != "" {
					f, err := os.Open(filepath.Join(dir, c.hold))
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := spoolAppend(leanDir, "new", 2, c.payload); err != nil {
				t.Fatal(err)
			}
			if err := spool.Append(spoolDir, spool.Record{Key: "new", SentAt: time.Unix(0, 2), Payload: c.payload}); err != nil {
				t.Fatal(err)
			}
			got, want := stateOf(t, leanDir), stateOf(t, spoolDir)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("lean left %+v, internal/spool %+v", got, want)
			}
			if got.dropped == "" || strings.TrimSpace(got.dropped) == "0" {
				t.Fatalf("dropped = %q: nothing was dropped", got.dropped)
			}
			if !bytes.Equal(records(t, leanDir)["new"], c.payload) {
				t.Fatal("the record is not in the spool")
			}
			if aside, _ := filepath.Glob(filepath.Join(leanDir, "seg-*-a*")); c.name != "many small segments" && len(aside) != 0 {
				t.Fatalf("written aside: %v", aside)
			}
		})
	}
}

// TestSpoolHandsALockItCannotTakeToHookctl: a spool "lock" that is not a
// regular file (so no one can seal) goes to mpm-hookctl (internal/spool),
// which keeps appending rather than lose the event.
func TestSpoolHandsALockItCannotTakeToHookctl(t *testing.T) {
	ctl := testutil.Binary(t, "mpm-hookctl")
	t.Setenv("PATH", filepath.Dir(ctl))
	dir := t.TempDir()
	fillSpool(t, dir)
	if err := os.Mkdir(filepath.Join(dir, "lock"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := spoolAppend(dir, "new", 2, []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if string(records(t, dir)["new"]) != `{"a":1}` {
		t.Fatal("the record is not in the spool")
	}
}

// TestSpoolWritesAsideWithoutHookctl: with no mpm-hookctl, what the fast
// path cannot do is written aside, not lost.
func TestSpoolWritesAsideWithoutHookctl(t *testing.T) {
	t.Setenv("PATH", "/nonexistent")
	t.Run("lock not a file", func(t *testing.T) {
		dir := t.TempDir()
		fillSpool(t, dir)
		if err := os.Mkdir(filepath.Join(dir, "lock"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := spoolAppend(dir, "new", 2, []byte(`{"a":1}`)); err != nil {
			t.Fatal(err)
		}
		aside, _ := filepath.Glob(filepath.Join(dir, "seg-*-a*")) // -a<n>: n counts this process's asides (-count=2 runs it again)
		if len(aside) != 1 || string(records(t, dir)["new"]) != `{"a":1}` {
			t.Fatalf("aside %v; the record not found aside", aside)
		}
	})
	t.Run("held", func(t *testing.T) {
		dir := t.TempDir()
		if err := spoolAppend(dir, "first", 1, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(filepath.Join(dir, "live"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			t.Fatal(err)
		}
		if err := spoolAppend(dir, "second", 2, []byte(`{"b":2}`)); err != nil {
			t.Fatal(err)
		}
		if got := records(t, dir); string(got["second"]) != `{"b":2}` || string(got["first"]) != `{}` {
			t.Fatalf("records %q", got)
		}
	})
}

// TestHandoffErrorComesBack: mpm-hookctl's failure is the append's error.
func TestHandoffErrorComesBack(t *testing.T) {
	ctl := testutil.Binary(t, "mpm-hookctl")
	t.Setenv("PATH", filepath.Dir(ctl))
	dir := t.TempDir()
	// "live" a directory: the fast path cannot open it, mpm-hookctl writes
	// the record aside; a spool directory that is a file fails both.
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o600)
	err := spoolAppend(file, "k", 1, []byte(`{}`))
	if err == nil {
		t.Fatal("appending under a regular file succeeded")
	}
	var pe *pathError
	if errors.As(err, &pe) || !strings.Contains(err.Error(), "spool") {
		t.Fatalf("error %q, want mpm-hookctl's", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sp"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sp", "live"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := spoolAppend(filepath.Join(dir, "sp"), "k", 1, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if string(records(t, filepath.Join(dir, "sp"))["k"]) != `{}` {
		t.Fatal("record not written aside by mpm-hookctl")
	}
}

// TestHookctlHandoffArgs: mpm-hookctl takes the hidden arguments (and only
// exactly them).
func TestHookctlHandoffArgs(t *testing.T) {
	ctl := testutil.Binary(t, "mpm-hookctl")
	dir := t.TempDir()
	rec, _ := spool.Encode(spool.Record{Key: "k", SentAt: time.Unix(0, 5), Payload: []byte(`{"x":1}`)})
	cmd := exec.Command(ctl, SpoolArg, dir)
	cmd.Stdin = bytes.NewReader(rec)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	cmd = exec.Command(ctl, SpoolArg, dir)
	cmd.Stdin = bytes.NewReader(rec[:len(rec)-3])
	if out, err := cmd.Output(); err == nil || !strings.Contains(string(out), "no single whole record") {
		t.Fatalf("a torn record: %v %q", err, out)
	}
	if got := records(t, dir); len(got) != 1 || string(got["k"]) != `{"x":1}` {
		t.Fatalf("records %q", got)
	}
}

// TestReadStdinGrowsThePipeForLargePayloads: a payload that fills the
// pipe's first 64 KiB makes readStdin enlarge the pipe (the writer then
// puts the rest in at once); a small one leaves it alone; a stdin that is
// not a pipe is read intact all the same.
func TestReadStdinGrowsThePipeForLargePayloads(t *testing.T) {
	obj := func(n int) []byte {
		return []byte(`{"big":"` + strings.Repeat("x", n-len(`{"big":""}`)) + `"}`)
	}
	cases := []struct {
		name     string
		payload  []byte
		wantPipe int
	}{
		{"1KiB", obj(1 << 10), 64 << 10},
		{"60KiB", obj(60 << 10), 64 << 10}, // in the pipe at once: one read, done
		{"256KiB", obj(256 << 10), pipeSize},
		{"3MiB", obj(3 << 20), pipeSize}, // past the static buffer, into the heap
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			defer w.Close()
			if size, _ := fcntl(t, r, syscall.F_GETPIPE_SZ, 0); size != 64<<10 {
				t.Skipf("this system's pipes hold %d bytes, not 64 KiB", size)
			}
			// What fits is in the pipe before the hook reads (Claude Code
			// wrote it before the hook started); the rest follows.
			first := min(len(c.payload), 64<<10)
			if _, err := w.Write(c.payload[:first]); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { _, err := w.Write(c.payload[first:]); done <- err }()
			in := readStdin(int(r.Fd()), int64(time.Minute))
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if !in.complete || !bytes.Equal(in.data, c.payload) {
				t.Fatalf("readStdin: complete=%v, %d bytes, want %d intact", in.complete, len(in.data), len(c.payload))
			}
			if size, _ := fcntl(t, r, syscall.F_GETPIPE_SZ, 0); size != c.wantPipe {
				t.Fatalf("pipe holds %d bytes after the read, want %d", size, c.wantPipe)
			}
		})
	}
	t.Run("file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "in")
		payload := obj(256 << 10)
		if err := os.WriteFile(p, payload, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if in := readStdin(int(f.Fd()), int64(time.Minute)); !in.complete || !bytes.Equal(in.data, payload) {
			t.Fatalf("readStdin from a file: complete=%v, %d bytes", in.complete, len(in.data))
		}
	})
}

// fcntl runs fcntl(2) on f.
func fcntl(t *testing.T, f *os.File, cmd, arg int) (int, error) {
	t.Helper()
	n, _, e := syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), uintptr(cmd), uintptr(arg))
	if e != 0 {
		return int(n), e
	}
	return int(n), nil
}

// checkCount runs countRecords on data in a file: when it says ok, its
// count is recscan.Count's and the data has no damage; it reports ok.
func checkCount(t *testing.T, data []byte) bool {
	t.Helper()
	p := filepath.Join(t.TempDir(), "seg")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Open(p, syscall.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	n, ok := countRecords(fd, int64(len(data)))
	if ok {
		damaged, _ := recscan.Scan(data, func(recscan.Record, int) error { return nil })
		if want := recscan.Count(data); n != want || damaged != 0 {
			t.Fatalf("countRecords = %d, recscan.Count %d (damaged %d)", n, want, damaged)
		}
	}
	return ok
}

// TestCountRecordsChunkByChunk: the segment read through the 64 KiB window
// counts what recscan.Count counts; damage sends it to the caller's whole
// read.
func TestCountRecordsChunkByChunk(t *testing.T) {
	enc := func(key string, n int) []byte {
		b, _ := spool.Encode(spool.Record{Key: key, SentAt: time.Unix(0, 7), Payload: bytes.Repeat([]byte{'p'}, n)})
		return b
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	many := func(n, size int) []byte {
		var b []byte
		for i := 0; i < n; i++ {
			b = append(b, enc("k"+strconv.Itoa(i), size)...)
		}
		return b
	}
	torn := enc("t", 5000)
	torn = torn[:len(torn)-100]
	badSum := enc("c", 300)
	badSum[len(badSum)-2] ^= 1
	cases := []struct {
		name   string
		data   []byte
		wantOK bool
	}{
		{"empty", nil, true},
		{"one empty payload", enc("e", 0), true},
		{"three 256 KiB records", many(3, 256<<10), true},
		{"a thousand 1 KiB records", many(1000, 1<<10), true},
		{"records across the window's edge", many(40, 64<<10-37), true},
		{"one record of 1 MiB", enc("big", 1<<20-30), true},
		{"torn record in the middle", cat(enc("a", 10), torn, enc("b", 10)), false},
		{"torn tail", cat(many(3, 100), torn), false},
		{"bad checksum", cat(enc("a", 10), badSum, enc("b", 10)), false},
		{"garbage", []byte("not a record at all\n"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if ok := checkCount(t, c.data); ok != c.wantOK {
				t.Fatalf("countRecords ok = %v, want %v", ok, c.wantOK)
			}
		})
	}
}

func FuzzCountRecords(f *testing.F) {
	a, _ := spool.Encode(spool.Record{Key: "a", Payload: []byte(`{"x":1}`)})
	f.Add(append(append([]byte{}, a...), a...))
	f.Add(a[:len(a)-2])
	f.Add([]byte("MPM1 k 1 5 00000000\nhello\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkCount(t, data) })
}
