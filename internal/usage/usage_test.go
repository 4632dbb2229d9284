package usage

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// assistantLine is an assistant record in Claude Code 2.1's transcript
// format (as the real run in testdata/claudecode-transcript.jsonl shows).
func assistantLine(id, req, model string, in, out, cr, cc int64) string {
	reqField := ""
	if req != "" {
		reqField = fmt.Sprintf(`"requestId":%q,`, req)
	}
	return fmt.Sprintf(`{"parentUuid":null,"isSidechain":false,"message":{"content":[{"text":"x","type":"text"}],"id":%q,"model":%q,"role":"assistant","type":"message","usage":{"input_tokens":%d,"cache_creation_input_tokens":%d,"cache_read_input_tokens":%d,"output_tokens":%d}},%s"type":"assistant","uuid":"u-%s","sessionId":"s"}`+"\n",
		id, model, in, cc, cr, out, reqField, id)
}

// project makes a projects dir and returns it and a transcript path in it.
func project(t *testing.T) (root, path string) {
	t.Helper()
	root = filepath.Join(t.TempDir(), "projects")
	if err := os.MkdirAll(filepath.Join(root, "-proj"), 0o700); err != nil {
		t.Fatal(err)
	}
	return root, filepath.Join(root, "-proj", "s.jsonl")
}

func write(t *testing.T, path, s string, flag int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|flag, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// readAll reads f to its end (in budget-sized turns) and returns the usage.
func readAll(t *testing.T, root string, f *file, budget int64) (*protocol.Usage, readResult) {
	t.Helper()
	buf := make([]byte, 4096)
	var last readResult
	for k := 0; ; k++ {
		res, err := f.read(root, budget, buf)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		last.reset = last.reset || res.reset
		last.n += res.n
		last.records += res.records
		if !res.more {
			return f.t.usage(DefaultPrices()), last
		}
		if k > 1e6 {
			t.Fatal("read does not progress")
		}
	}
}

func TestCostStateIsAuthoritative(t *testing.T) {
	// testdata/handwritten-cost-state.jsonl is hand-written in the real
	// format (Claude Code 2.1 lines; the cost-state record as issue 16
	// describes it): its costs deliberately differ from the table's.
	root, path := project(t)
	b, err := os.ReadFile("testdata/handwritten-cost-state.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	write(t, path, string(b), os.O_TRUNC)
	u, _ := readAll(t, root, newFile(path), 1<<20)
	want := &protocol.Usage{
		InputTokens: 1600, OutputTokens: 180, CacheReadInputTokens: 12000, CacheCreationInputTokens: 3000,
		CostUSD: 0.0421875, CostSource: protocol.CostClaude,
		ContextTokens: 2400, ContextWindow: 200000, // the last real turn (haiku), not the synthetic one
		Models: map[string]protocol.ModelUsage{
			"claude-sonnet-4-5-20250929": {InputTokens: 1200, OutputTokens: 150, CacheReadInputTokens: 10000, CacheCreationInputTokens: 3000, CostUSD: 0.0411875},
			"claude-haiku-4-5-20251001":  {InputTokens: 400, OutputTokens: 30, CacheReadInputTokens: 2000, CostUSD: 0.001},
		},
	}
	if fmt.Sprint(u) != fmt.Sprint(want) {
		t.Fatalf("usage\n got %+v\nwant %+v", u, want)
	}
}

func TestEstimateCountsEachMessageOnce(t *testing.T) {
	// The same file without its cost-state record: the tokens are summed
	// (msg_A's two lines once) and priced with the table.
	root, path := project(t)
	b, err := os.ReadFile("testdata/handwritten-cost-state.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if !strings.Contains(l, `"cost-state"`) {
			keep = append(keep, l)
		}
	}
	write(t, path, strings.Join(keep, ""), os.O_TRUNC)
	u, _ := readAll(t, root, newFile(path), 1<<20)
	if u.CostSource != protocol.CostEstimate || u.InputTokens != 1600 || u.OutputTokens != 180 ||
		u.CacheReadInputTokens != 12000 || u.CacheCreationInputTokens != 3000 {
		t.Fatalf("usage %+v", u)
	}
	if want := 0.0201 + 0.00075; math.Abs(u.CostUSD-want) > 1e-12 {
		t.Fatalf("cost %v, want %v", u.CostUSD, want)
	}
}

func TestDuplicatesAndStreaming(t *testing.T) {
	for _, tc := range []struct {
		name    string
		lines   []string
		in, out int64
	}{
		{"same message three lines", []string{
			assistantLine("m1", "r1", "claude-sonnet-4-5", 10, 5, 0, 0),
			assistantLine("m1", "r1", "claude-sonnet-4-5", 10, 5, 0, 0),
			assistantLine("m1", "r1", "claude-sonnet-4-5", 10, 5, 0, 0),
		}, 10, 5},
		{"streaming: the last line's figures count", []string{
			assistantLine("m1", "r1", "claude-sonnet-4-5", 10, 1, 0, 0),
			assistantLine("m1", "r1", "claude-sonnet-4-5", 10, 7, 0, 0),
		}, 10, 7},
		{"same id, other request: two calls", []string{
			assistantLine("m1", "r1", "claude-sonnet-4-5", 10, 5, 0, 0),
			assistantLine("m1", "r2", "claude-sonnet-4-5", 10, 5, 0, 0),
		}, 20, 10},
		{"no id: each line", []string{
			assistantLine("", "", "claude-sonnet-4-5", 10, 5, 0, 0),
			assistantLine("", "", "claude-sonnet-4-5", 10, 5, 0, 0),
		}, 20, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, path := project(t)
			write(t, path, strings.Join(tc.lines, ""), os.O_TRUNC)
			u, _ := readAll(t, root, newFile(path), 1<<20)
			if u.InputTokens != tc.in || u.OutputTokens != tc.out {
				t.Fatalf("in/out %d/%d, want %d/%d", u.InputTokens, u.OutputTokens, tc.in, tc.out)
			}
		})
	}
}

func TestIncrementalBoundedAndPartialLines(t *testing.T) {
	root, path := project(t)
	f := newFile(path)
	line := assistantLine("m1", "r1", "claude-opus-4-5", 100, 10, 1000, 50)
	// Half a line first: nothing counted until it is complete.
	write(t, path, line[:len(line)/2], os.O_TRUNC)
	if u, _ := readAll(t, root, f, 7); u != nil {
		t.Fatalf("half a line counted: %+v", u)
	}
	write(t, path, line[len(line)/2:], os.O_APPEND)
	u, _ := readAll(t, root, f, 7)
	if u == nil || u.InputTokens != 100 || u.ContextTokens != 1150 {
		t.Fatalf("usage %+v", u)
	}
	// Many lines read 7 bytes at a time equal one read.
	var all strings.Builder
	for k := range 50 {
		all.WriteString(assistantLine(fmt.Sprint("n", k), "r", "claude-opus-4-5", 1, 2, 3, 4))
	}
	write(t, path, all.String(), os.O_APPEND)
	size := f.off
	u, res := readAll(t, root, f, 7)
	if u.InputTokens != 150 || u.OutputTokens != 110 || res.reset {
		t.Fatalf("usage %+v res %+v", u, res)
	}
	if res.n != int64(all.Len()) || f.off != size+int64(all.Len()) {
		t.Fatalf("read %d bytes (offset %d), want only the %d appended", res.n, f.off, all.Len())
	}
	// Nothing new: nothing read.
	if _, res := readAll(t, root, f, 7); res.n != 0 {
		t.Fatalf("read %d bytes of an unchanged file", res.n)
	}
}

func TestTruncationAndReplacement(t *testing.T) {
	big := assistantLine("m1", "r1", "claude-sonnet-4-5", 100, 10, 0, 0) + assistantLine("m2", "r2", "claude-sonnet-4-5", 100, 10, 0, 0)
	small := assistantLine("m3", "r3", "claude-sonnet-4-5", 7, 1, 0, 0)
	bigger := big + assistantLine("m4", "r4", "claude-sonnet-4-5", 1, 1, 0, 0)
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, path string)
		in     int64
	}{
		{"truncated and rewritten", func(t *testing.T, path string) { write(t, path, small, os.O_TRUNC) }, 7},
		{"replaced by a larger file", func(t *testing.T, path string) {
			tmp := path + ".tmp"
			write(t, tmp, bigger, os.O_TRUNC)
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}, 201},
		{"removed and recreated smaller", func(t *testing.T, path string) {
			os.Remove(path)
			write(t, path, small, os.O_TRUNC)
		}, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, path := project(t)
			write(t, path, big, os.O_TRUNC)
			f := newFile(path)
			if u, _ := readAll(t, root, f, 1<<20); u.InputTokens != 200 {
				t.Fatalf("before: %+v", u)
			}
			tc.change(t, path)
			u, res := readAll(t, root, f, 1<<20)
			if !res.reset || u.InputTokens != tc.in {
				t.Fatalf("after: reset %v, input %d, want a rescan giving %d", res.reset, u.InputTokens, tc.in)
			}
		})
	}
}

func TestLongLinePassedOver(t *testing.T) {
	root, path := project(t)
	long := `{"type":"user","message":{"content":"` + strings.Repeat("a", MaxLine) + `"}}` + "\n"
	write(t, path, long+assistantLine("m1", "r1", "claude-sonnet-4-5", 3, 4, 0, 0), os.O_TRUNC)
	f := newFile(path)
	buf := make([]byte, 64<<10)
	var long1 int
	for {
		res, err := f.read(root, 1<<20, buf)
		if err != nil {
			t.Fatal(err)
		}
		long1 += res.long
		if !res.more {
			break
		}
	}
	if u := f.t.usage(DefaultPrices()); long1 != 1 || u == nil || u.InputTokens != 3 {
		t.Fatalf("long %d usage %+v", long1, u)
	}
}

func TestRefused(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "claude", "projects")
	os.MkdirAll(filepath.Join(root, "-p"), 0o700)
	outside := filepath.Join(base, "elsewhere.jsonl")
	write(t, outside, assistantLine("m1", "r1", "claude-sonnet-4-5", 1, 1, 0, 0), os.O_TRUNC)
	os.MkdirAll(filepath.Join(base, "outdir"), 0o700)
	write(t, filepath.Join(base, "outdir", "x.jsonl"), assistantLine("m1", "r1", "claude-sonnet-4-5", 1, 1, 0, 0), os.O_TRUNC)
	links := func(t *testing.T) {
		if err := os.Symlink(outside, filepath.Join(root, "-p", "link.jsonl")); err != nil {
			t.Skipf("no symlinks here: %v", err)
		}
		if err := os.Symlink(filepath.Join(base, "outdir"), filepath.Join(root, "-d")); err != nil {
			t.Skipf("no symlinks here: %v", err)
		}
	}
	links(t)
	write(t, filepath.Join(root, "-p", "notes.txt"), "x", os.O_TRUNC)
	os.MkdirAll(filepath.Join(root, "-p", "dir.jsonl"), 0o700)
	for _, tc := range []struct{ path, reason string }{
		{outside, RefusedOutside},
		{filepath.Join(root, "-p", "link.jsonl"), RefusedOutside},
		{filepath.Join(root, "-d", "x.jsonl"), RefusedOutside},
		{filepath.Join(root, "-p", "..", "..", "..", "elsewhere.jsonl"), RefusedOutside},
		{filepath.Join(base, "missing.jsonl"), RefusedOutside},
		{"relative/s.jsonl", RefusedOutside},
		{filepath.Join(root, "-p", "notes.txt"), RefusedNotJSONL},
		{filepath.Join(root, "-p", "dir.jsonl"), RefusedNotRegular},
	} {
		t.Run(tc.path, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			m := New(Config{ProjectsDir: root, Registerer: reg})
			more, changed := m.readOne("s", tc.path)
			if more || changed || m.Get("s") != nil {
				t.Fatalf("read a refused path: more %v changed %v usage %+v", more, changed, m.Get("s"))
			}
			key := `mpm_usage_refused_total{reason="` + tc.reason + `"}`
			if got := gather(t, reg)[key]; got != 1 {
				t.Fatalf("%s = %v, want 1", key, got)
			}
			m.readOne("s", tc.path) // counted once per session and path
			if got := gather(t, reg)[key]; got != 1 {
				t.Fatalf("refused twice: %v", got)
			}
		})
	}
	// A symlink that stays inside is followed.
	in := filepath.Join(root, "-p", "real.jsonl")
	write(t, in, assistantLine("m1", "r1", "claude-sonnet-4-5", 5, 1, 0, 0), os.O_TRUNC)
	if err := os.Symlink(in, filepath.Join(root, "-p", "inlink.jsonl")); err != nil {
		t.Fatal(err)
	}
	m := New(Config{ProjectsDir: root})
	if _, changed := m.readOne("s", filepath.Join(root, "-p", "inlink.jsonl")); !changed || m.Get("s").InputTokens != 5 {
		t.Fatalf("symlink inside the projects dir not followed: %+v", m.Get("s"))
	}
}

func TestRestartDoesNotDoubleCount(t *testing.T) {
	root, path := project(t)
	write(t, path, assistantLine("m1", "r1", "claude-sonnet-4-5", 10, 1, 0, 0)+assistantLine("m1", "r1", "claude-sonnet-4-5", 10, 1, 0, 0), os.O_TRUNC)
	reg := prometheus.NewRegistry()
	a := New(Config{ProjectsDir: root, Registerer: reg})
	a.readOne("s", path)
	a.readOne("s", path) // a tick: nothing new
	write(t, path, assistantLine("m2", "r2", "claude-sonnet-4-5", 5, 1, 0, 0), os.O_APPEND)
	a.readOne("s", path)
	if u := a.Get("s"); u.InputTokens != 15 || u.OutputTokens != 2 {
		t.Fatalf("first daemon: %+v", u)
	}
	// The next daemon recomputes from the file: the same figures.
	b := New(Config{ProjectsDir: root, Registerer: prometheus.NewRegistry()})
	b.readOne("s", path)
	if ua, ub := a.Get("s"), b.Get("s"); fmt.Sprint(ua) != fmt.Sprint(ub) {
		t.Fatalf("after restart %+v, before %+v", ub, ua)
	}
	got := gather(t, reg)
	for k, v := range map[string]float64{
		`mpm_tokens_total{kind="input",model="claude-sonnet-4-5"}`:          15,
		`mpm_tokens_total{kind="output",model="claude-sonnet-4-5"}`:         2,
		`mpm_tokens_total{kind="cache_read",model="claude-sonnet-4-5"}`:     0,
		`mpm_tokens_total{kind="cache_creation",model="claude-sonnet-4-5"}`: 0,
		`mpm_cost_usd_total{model="claude-sonnet-4-5"}`:                     (15*3 + 2*15) / 1e6,
	} {
		if g, ok := got[k]; !ok || math.Abs(g-v) > 1e-12 {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
}

func TestPrices(t *testing.T) {
	p := DefaultPrices()
	for _, tc := range []struct {
		model string
		in    float64
		win   int64
	}{
		{"claude-opus-4-5-20251101", 5, 200000},
		{"claude-opus-4-1-20250805", 15, 200000},
		{"claude-opus-4-20250514", 15, 200000},
		{"claude-sonnet-4-5-20250929[1m]", 3, 1000000},
		{"claude-haiku-4-5", 1, 200000},
		{"claude-3-5-haiku-20241022", 0.8, 200000},
		{"some-future-sonnet", 3, 200000},
		{"gpt-x", 0, 200000},
	} {
		pr, _ := p.Lookup(tc.model)
		if pr.Input != tc.in || p.Window(tc.model, 1000) != tc.win {
			t.Errorf("%s: input %v window %d, want %v %d", tc.model, pr.Input, p.Window(tc.model, 1000), tc.in, tc.win)
		}
	}
	if w := p.Window("claude-sonnet-4-5", 300000); w != LongContextWindow {
		t.Errorf("a 300k turn in a 200k window: window %d", w)
	}
	file := filepath.Join(t.TempDir(), "prices.json")
	write(t, file, `{"claude-sonnet-4-5": {"input": 1, "output": 2, "cache_read": 0, "cache_write": 0, "context_window": 500000}}`, os.O_TRUNC)
	q, err := LoadPrices(file)
	if err != nil {
		t.Fatal(err)
	}
	if c := q.Cost("claude-sonnet-4-5-2025", Tokens{Input: 1e6, Output: 1e6}); c != 3 || q.Window("claude-sonnet-4-5", 1) != 500000 {
		t.Fatalf("override: cost %v window %d", c, q.Window("claude-sonnet-4-5", 1))
	}
	if c := q.Cost("claude-sonnet-4-0", Tokens{Input: 1e6}); c != 3 {
		t.Fatalf("other entries kept: %v", c)
	}
	for _, bad := range []string{`[]`, `{"m": {"input": -1}}`, `{`} {
		write(t, file, bad, os.O_TRUNC)
		if _, err := LoadPrices(file); err == nil || !strings.Contains(err.Error(), "--prices") {
			t.Errorf("%s: error %v", bad, err)
		}
	}
	if _, err := LoadPrices(filepath.Join(t.TempDir(), "none.json")); err == nil {
		t.Error("a missing file is not an error")
	}
}

func FuzzParseLine(f *testing.F) {
	b, _ := os.ReadFile("testdata/handwritten-cost-state.jsonl")
	for _, l := range strings.Split(string(b), "\n") {
		f.Add([]byte(l))
	}
	f.Add([]byte(assistantLine("m", "r", "claude-x", -5, 1<<62, 0, 0)))
	f.Add([]byte(`{"type":"cost-state","totalCostUSD":-1,"modelUsage":{"m":{"inputTokens":-3}}}`))
	f.Add([]byte(strings.Replace(assistantLine("m", "r", "claude-sonnet-4-5", 5, 7, 0, 0), `"type":"assistant"`, `"timestamp":"1969-12-31T23:59:59.5-00:30","type":"assistant"`, 1)))
	f.Fuzz(func(t *testing.T, line []byte) {
		r, ok := ParseLine(line)
		if !ok {
			return
		}
		for _, n := range []int64{r.Input, r.Output, r.CacheRead, r.CacheCreation} {
			if n < 0 || n > maxTokens {
				t.Fatalf("token count %d out of range", n)
			}
		}
		if r.Cost != nil && !(r.Cost.TotalUSD >= 0) {
			t.Fatalf("cost %v", r.Cost.TotalUSD)
		}
		tl := newTally()
		tl.add(r)
		tl.add(r)
		u := tl.usage(DefaultPrices())
		// The time series adds up to the usage (series.go).
		var sum Tokens
		var usd float64
		for _, c := range series(tl, nil, DefaultPrices()) {
			sum = sum.add(c.Tokens)
			usd += c.USD
		}
		if u != nil && (sum != (Tokens{u.InputTokens, u.OutputTokens, u.CacheReadInputTokens, u.CacheCreationInputTokens}) || math.Abs(usd-u.CostUSD) > 1e-9*max(1, u.CostUSD)) {
			t.Fatalf("series sums %+v $%v, usage %+v", sum, usd, u)
		}
	})
}

// gather returns every counter and gauge of reg as name{labels} → value
// (labels sorted by name, as Prometheus prints them).
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			k := mf.GetName()
			if len(ls) > 0 {
				k += "{" + strings.Join(ls, ",") + "}"
			}
			v := m.GetCounter().GetValue()
			if m.GetGauge() != nil {
				v = m.GetGauge().GetValue()
			}
			out[k] = v
		}
	}
	return out
}

// TestRealTranscriptFixture reads testdata/claudecode-transcript.jsonl,
// written by Claude Code 2.1 against the API stub (TestRealClaudeCodeUsage
// -update): two messages of 100 input and 20 output tokens each, the
// first on two lines.
func TestRealTranscriptFixture(t *testing.T) {
	root, path := project(t)
	b, err := os.ReadFile("testdata/claudecode-transcript.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(b), `"id":"msg_stub_1"`) != 2 {
		t.Fatal("the fixture no longer has a message on two lines")
	}
	write(t, path, string(b), os.O_TRUNC)
	ids := map[string]bool{}
	for _, id := range regexp.MustCompile(`"id":"msg_stub_[0-9]+"`).FindAllString(string(b), -1) {
		ids[id] = true
	}
	n := int64(len(ids)) // distinct messages, each 100 in / 20 out
	u, _ := readAll(t, root, newFile(path), 1000)
	if n < 2 || u.InputTokens != 100*n || u.OutputTokens != 20*n || u.ContextTokens != 100 || u.CostSource != protocol.CostEstimate {
		t.Fatalf("usage %+v, want %d messages' worth", u, n)
	}
}
