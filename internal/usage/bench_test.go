package usage

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var benchStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// transcript writes a transcript of about size bytes in Claude Code 2.1's
// format: per turn a prompt, an assistant message on two lines (text,
// tool_use; one id), a 4 KiB tool result, a closing assistant message.
func transcript(tb testing.TB, path string, size int64) (msgs int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	result := strings.Repeat("line of tool output ", 200)
	var n int64
	for k := 0; n < size; k++ {
		var b strings.Builder
		fmt.Fprintf(&b, `{"parentUuid":null,"isSidechain":false,"type":"user","message":{"role":"user","content":"prompt %d"},"uuid":"p%d","sessionId":"s","version":"2.1.197"}`+"\n", k, k)
		// A turn a minute (about two weeks in 100 MB): the time series has
		// as many quarter hours as a long-lived session's.
		ts := benchStart.Add(time.Duration(k) * time.Minute).Format(time.RFC3339Nano)
		a := assistantAt(ts, fmt.Sprint("msg_", k, "a"), fmt.Sprint("req_", k, "a"), "claude-sonnet-4-5-20250929", 3, 120, 20000, 800)
		b.WriteString(a)
		b.WriteString(a)
		fmt.Fprintf(&b, `{"parentUuid":"x","isSidechain":false,"type":"user","message":{"role":"user","content":[{"tool_use_id":"t%d","type":"tool_result","content":%q}]},"uuid":"r%d","sessionId":"s"}`+"\n", k, result, k)
		b.WriteString(assistantAt(ts, fmt.Sprint("msg_", k, "b"), fmt.Sprint("req_", k, "b"), "claude-sonnet-4-5-20250929", 5, 40, 21000, 4100))
		w, err := f.WriteString(b.String())
		if err != nil {
			tb.Fatal(err)
		}
		n += int64(w)
		msgs += 2
	}
	return msgs
}

// BenchmarkFirstScan100MB reads a 100 MB transcript from the start, as
// the daemon does for a session it has not read yet (or after a restart).
func BenchmarkFirstScan100MB(b *testing.B) {
	root := filepath.Join(b.TempDir(), "projects")
	os.MkdirAll(filepath.Join(root, "-p"), 0o700)
	path := filepath.Join(root, "-p", "s.jsonl")
	msgs := transcript(b, path, 100<<20)
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	b.ResetTimer()
	for b.Loop() {
		m := New(Config{ProjectsDir: root})
		for {
			more, _ := m.readOne("s", path)
			if !more {
				break
			}
		}
		if u := m.Get("s"); u == nil || u.OutputTokens != int64(msgs/2)*160 {
			b.Fatalf("usage %+v, want %d output tokens", u, msgs/2*160)
		}
	}
}

// BenchmarkSteadyPerEvent is the reading cost of one hook event on a
// session whose 100 MB transcript was read already: one appended
// assistant line, then the read the event triggers (check, open, read the
// new bytes, price).
func BenchmarkSteadyPerEvent(b *testing.B) {
	root := filepath.Join(b.TempDir(), "projects")
	os.MkdirAll(filepath.Join(root, "-p"), 0o700)
	path := filepath.Join(root, "-p", "s.jsonl")
	transcript(b, path, 100<<20)
	m := New(Config{ProjectsDir: root})
	for more := true; more; {
		more, _ = m.readOne("s", path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.ResetTimer()
	k := 0
	for b.Loop() {
		k++
		b.StopTimer()
		f.WriteString(assistantAt(time.Now().Format(time.RFC3339Nano), fmt.Sprint("new_", k), "r", "claude-sonnet-4-5-20250929", 1, 1, 1, 1))
		b.StartTimer()
		if _, changed := m.readOne("s", path); !changed {
			b.Fatal("the appended line was not read")
		}
	}
}

// BenchmarkReport is GET /v1/usage's work for a week by the day over 100
// sessions of two weeks each (an assistant message of each of two models
// every 15 minutes): "cached", the series as built for the last report
// (nothing read since); "rebuilt", every session read since.
func BenchmarkReport(b *testing.B) {
	m := New(Config{ProjectsDir: b.TempDir()})
	for s := range 100 {
		t := newTally()
		for k := range 14 * 24 * 4 {
			ts := benchStart.Add(time.Duration(k) * SlotDur)
			for _, model := range []string{"claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"} {
				t.add(Record{Kind: kindAssistant, Key: fmt.Sprint(s, model, k), Model: model, Tokens: Tokens{3, 120, 20000, 800}, Time: ts})
			}
		}
		m.files[fmt.Sprint("s", s)] = &sessionFiles{main: &file{t: t}, agents: map[string]*file{}}
	}
	q := Query{Since: benchStart.AddDate(0, 0, 7), Until: benchStart.AddDate(0, 0, 14), Bucket: "day", Loc: time.UTC}
	for _, name := range []string{"cached", "rebuilt"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if name == "rebuilt" {
					for _, sf := range m.files {
						sf.gen++
					}
				}
				rep, err := m.Report(q)
				if err != nil || rep.Total.Sessions != 100 || len(rep.Series) != 7 {
					b.Fatalf("report %+v, %v", rep, err)
				}
			}
		})
	}
}
