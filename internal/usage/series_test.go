package usage

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// assistantAt is assistantLine with Claude Code's "timestamp".
func assistantAt(ts, id, req, model string, in, out, cr, cc int64) string {
	return strings.Replace(assistantLine(id, req, model, in, out, cr, cc), `"type":"assistant"`, `"timestamp":"`+ts+`","type":"assistant"`, 1)
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const (
	sonnet = "claude-sonnet-4-5-20250929"
	haiku  = "claude-haiku-4-5-20251001"
)

// crossingMidnight writes a session that began before midnight (UTC) and
// went on after it: a sonnet message at 23:50 on two lines (counted once),
// a haiku one at 00:10, and a subagent's sonnet one at 00:20.
func crossingMidnight(t *testing.T) (root, path string, m *Manager) {
	root, path = project(t)
	write(t, path, assistantAt("2026-11-30T23:50:00.000Z", "m1", "r1", sonnet, 100, 10, 1000, 0)+
		assistantAt("2026-11-30T23:50:00.200Z", "m1", "r1", sonnet, 100, 10, 1000, 0)+
		assistantAt("2026-12-01T00:10:00.000Z", "m2", "r2", haiku, 200, 20, 0, 500), os.O_TRUNC)
	agentFile := agentPath(path, "ag1")
	if err := os.MkdirAll(filepath.Dir(agentFile), 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, agentFile, assistantAt("2026-12-01T00:20:00.000Z", "m3", "r3", sonnet, 50, 5, 0, 0), os.O_TRUNC)
	m = New(Config{ProjectsDir: root})
	m.readSession("s", known{path: path, agents: []string{"ag1"}})
	return root, path, m
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*max(1, math.Abs(b)) }

// TestReportAttributesByTime: tokens count in the hour and day they were
// used (not the session's last event), per model, subagents inside their
// session; day buckets follow the zone asked for.
func TestReportAttributesByTime(t *testing.T) {
	_, _, m := crossingMidnight(t)
	p := DefaultPrices()
	day1 := p.Cost(sonnet, Tokens{100, 10, 1000, 0})
	day2h := p.Cost(haiku, Tokens{200, 20, 0, 500})
	day2s := p.Cost(sonnet, Tokens{50, 5, 0, 0})
	proj := func(id string) string { return "/home/dev/" + id }

	rep, err := m.Report(Query{Since: at(t, "2026-11-30T12:00:00Z"), Until: at(t, "2026-12-02T00:00:00Z"), Bucket: protocol.BucketDay, Loc: time.UTC, Project: proj})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Series) != 2 || !rep.Since.Equal(at(t, "2026-11-30T00:00:00Z")) || !rep.Series[1].Start.Equal(at(t, "2026-12-01T00:00:00Z")) {
		t.Fatalf("series %+v since %v", rep.Series, rep.Since)
	}
	if s := rep.Series[0]; s.InputTokens != 100 || s.OutputTokens != 10 || s.CacheReadInputTokens != 1000 || !near(s.CostUSD, day1) {
		t.Errorf("30 Nov %+v, want the 23:50 message once (cost %v)", s, day1)
	}
	if s := rep.Series[1]; s.InputTokens != 250 || s.OutputTokens != 25 || s.CacheCreationInputTokens != 500 || !near(s.CostUSD, day2h+day2s) {
		t.Errorf("1 Dec %+v, want the 00:10 message and the subagent's", s)
	}
	u := m.Get("s")
	if rep.Total.InputTokens != u.InputTokens || rep.Total.OutputTokens != u.OutputTokens || !near(rep.Total.CostUSD, u.CostUSD) ||
		rep.Total.Sessions != 1 || rep.Total.CostSource != protocol.CostEstimate {
		t.Errorf("total %+v, session's usage %+v", rep.Total, u)
	}
	if len(rep.Projects) != 1 || rep.Projects[0].Cwd != "/home/dev/s" || rep.Projects[0].InputTokens != 350 {
		t.Errorf("projects %+v", rep.Projects)
	}
	if len(rep.Models) != 2 || rep.Models[0].Model != sonnet || rep.Models[0].InputTokens != 150 || rep.Models[1].Model != haiku || rep.Models[1].InputTokens != 200 {
		t.Errorf("models %+v (sonnet's cost %v, haiku's %v)", rep.Models, day1+day2s, day2h)
	}

	// "Today" (1 Dec, UTC) has only what was used after midnight.
	today, err := m.Report(Query{Since: at(t, "2026-12-01T00:00:00Z"), Until: at(t, "2026-12-01T12:00:00Z"), Bucket: protocol.BucketHour, Loc: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if len(today.Series) != 12 || today.Total.InputTokens != 250 || today.Series[0].InputTokens != 250 || today.Series[1].InputTokens != 0 {
		t.Errorf("today: total %+v, first buckets %+v", today.Total, today.Series[:2])
	}
	// In a zone five and a half hours east, all three were used on 1 Dec
	// (05:20, 05:40, 05:50): one day; its hours start at half past in UTC.
	ist := time.FixedZone("IST", 5*3600+1800)
	rep, err = m.Report(Query{Since: time.Date(2026, 12, 1, 0, 0, 0, 0, ist), Until: time.Date(2026, 12, 2, 0, 0, 0, 0, ist), Bucket: protocol.BucketDay, Loc: ist})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Series) != 1 || rep.Series[0].InputTokens != 350 || rep.TZ != "IST" {
		t.Errorf("IST day: %+v", rep.Series)
	}
	rep, err = m.Report(Query{Since: time.Date(2026, 12, 1, 5, 0, 0, 0, ist), Until: time.Date(2026, 12, 1, 7, 0, 0, 0, ist), Bucket: protocol.BucketHour, Loc: ist})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Series) != 2 || !rep.Series[0].Start.Equal(at(t, "2026-11-30T23:30:00Z")) || rep.Series[0].InputTokens != 350 {
		t.Errorf("IST hours: %+v", rep.Series)
	}
}

// TestReportApportionsCostState: with Claude Code's cost-state record the
// buckets' costs add up to its total: each model's cost spread by the
// estimated cost of its messages in each hour, its tokens by the messages'
// tokens; a model no message names spread like the whole session; the
// report's totals equal the session's usage.
func TestReportApportionsCostState(t *testing.T) {
	root, path := project(t)
	cs := `{"type":"cost-state","totalCostUSD":1.25,"modelUsage":{` +
		`"` + sonnet + `":{"inputTokens":4000,"outputTokens":400,"cacheReadInputTokens":0,"cacheCreationInputTokens":0,"costUSD":0.8},` +
		`"` + haiku + `":{"inputTokens":400,"outputTokens":40,"costUSD":0.15},` +
		`"claude-3-5-haiku-20241022":{"inputTokens":90,"outputTokens":9,"costUSD":0.3}},"sessionId":"s"}` + "\n"
	write(t, path, assistantAt("2026-12-01T10:05:00Z", "a", "ra", sonnet, 1000, 100, 0, 0)+
		assistantAt("2026-12-01T11:40:00Z", "b", "rb", sonnet, 3000, 300, 0, 0)+
		assistantAt("2026-12-01T11:45:00Z", "c", "rc", haiku, 400, 40, 0, 0)+cs, os.O_TRUNC)
	m := New(Config{ProjectsDir: root})
	m.readOne("s", path)
	rep, err := m.Report(Query{Since: at(t, "2026-12-01T10:00:00Z"), Until: at(t, "2026-12-01T12:00:00Z"), Bucket: protocol.BucketHour, Loc: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	u := m.Get("s")
	if u.CostSource != protocol.CostClaude || rep.Total.CostSource != protocol.CostClaude || !near(rep.Total.CostUSD, 1.25) ||
		rep.Total.InputTokens != u.InputTokens || rep.Total.OutputTokens != u.OutputTokens {
		t.Fatalf("total %+v, session %+v", rep.Total, u)
	}
	if sum := rep.Series[0].CostUSD + rep.Series[1].CostUSD; !near(sum, 1.25) {
		t.Errorf("buckets sum to %v, want the cost-state total 1.25", sum)
	}
	// The estimated cost of 3-5-haiku's hours: sonnet 1000/100 at 10, and
	// sonnet 3000/300 + haiku 400/40 at 11: its 0.3 and 90/9 tokens go
	// 10:00 / 11:00 in that proportion.
	p := DefaultPrices()
	e10 := p.Cost(sonnet, Tokens{1000, 100, 0, 0})
	e11 := p.Cost(sonnet, Tokens{3000, 300, 0, 0}) + p.Cost(haiku, Tokens{400, 40, 0, 0})
	old10 := 0.3 * e10 / (e10 + e11)
	// The model figures: sonnet's 0.8 goes 1:3 (its messages' estimates).
	want10 := 0.8*0.25 + old10
	want11 := 0.8*0.75 + 0.15 + (0.3 - old10)
	if !near(rep.Series[0].CostUSD, want10) || !near(rep.Series[1].CostUSD, want11) {
		t.Errorf("buckets %v, %v; want %v, %v", rep.Series[0].CostUSD, rep.Series[1].CostUSD, want10, want11)
	}
	// Tokens: sonnet's exactly as the messages had them; 3-5-haiku's 90
	// input tokens split by the quarter hours' input tokens (10:00, 11:30,
	// 11:45: 1000 : 3000 : 400 = 20.45 : 61.36 : 8.18, the unit left over
	// to the largest remainder, 10:00's).
	in10 := int64(1000 + 21)
	if rep.Series[0].InputTokens != in10 || rep.Series[0].InputTokens+rep.Series[1].InputTokens != 4490 {
		t.Errorf("input tokens by hour %d, %d; want %d and 4490 in all", rep.Series[0].InputTokens, rep.Series[1].InputTokens, in10)
	}
	for _, mt := range rep.Models {
		mc, ok := map[string]float64{sonnet: 0.8, haiku: 0.15, "claude-3-5-haiku-20241022": 0.3}[mt.Model]
		if !ok || !near(mt.CostUSD, mc) {
			t.Errorf("model %s cost %v, want the cost-state's %v", mt.Model, mt.CostUSD, mc)
		}
	}

	// totalCostUSD above its models' sum: the rest is spread by cost too.
	write(t, path, strings.Replace(cs, `"totalCostUSD":1.25`, `"totalCostUSD":1.5`, 1), os.O_APPEND)
	m.readOne("s", path)
	rep, _ = m.Report(Query{Since: at(t, "2026-12-01T10:00:00Z"), Until: at(t, "2026-12-01T12:00:00Z"), Bucket: protocol.BucketHour, Loc: time.UTC})
	if sum := rep.Series[0].CostUSD + rep.Series[1].CostUSD; !near(sum, 1.5) || !near(rep.Series[0].CostUSD, want10*1.5/1.25) {
		t.Errorf("with 0.25 beyond the models: buckets %v, %v (sum %v), want the total 1.5 in the same proportion", rep.Series[0].CostUSD, rep.Series[1].CostUSD, sum)
	}
}

// TestReportNoDoubleCount: reading again (events, ticks) and a new
// Manager reading the same files from the start (a daemon restart) give
// the same report; an appended message is counted once.
func TestReportNoDoubleCount(t *testing.T) {
	root, path, m := crossingMidnight(t)
	q := Query{Since: at(t, "2026-11-30T00:00:00Z"), Until: at(t, "2026-12-02T00:00:00Z"), Bucket: protocol.BucketDay, Loc: time.UTC}
	k := known{path: path, agents: []string{"ag1"}}
	report := func(m *Manager) string {
		r, err := m.Report(q)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(r)
		return string(b)
	}
	first := report(m)
	for range 3 {
		m.readSession("s", k)
	}
	if again := report(m); again != first {
		t.Fatalf("reading again changed the report:\n%s\n%s", first, again)
	}
	restarted := New(Config{ProjectsDir: root})
	restarted.readSession("s", k)
	if again := report(restarted); again != first {
		t.Fatalf("a new Manager (restart) reports otherwise:\n%s\n%s", first, again)
	}
	write(t, path, assistantAt("2026-12-01T09:00:00Z", "m4", "r4", haiku, 7, 1, 0, 0), os.O_APPEND)
	for _, mm := range []*Manager{m, restarted} {
		mm.readSession("s", k)
		mm.readSession("s", k)
		if r, _ := mm.Report(q); r.Series[1].InputTokens != 257 || r.Total.InputTokens != 357 {
			t.Errorf("after an append: %+v", r.Series)
		}
	}
}

func TestReportRefusesBadQueries(t *testing.T) {
	m := New(Config{ProjectsDir: t.TempDir()})
	now := at(t, "2026-12-01T00:00:00Z")
	for _, q := range []Query{
		{Since: now, Until: now, Bucket: protocol.BucketHour},
		{Since: now.Add(time.Hour), Until: now, Bucket: protocol.BucketHour},
		{Since: now.Add(-24 * time.Hour), Until: now, Bucket: "week"},
		{Since: now.AddDate(-1, 0, 0), Until: now, Bucket: protocol.BucketHour},
	} {
		if _, err := m.Report(q); err == nil || !strings.Contains(err.Error(), ErrQuery.Error()) {
			t.Errorf("%+v: err %v, want an ErrQuery", q, err)
		}
	}
	rep, err := m.Report(Query{Since: now.Add(-48 * time.Hour), Until: now, Bucket: protocol.BucketDay, Loc: time.UTC})
	if err != nil || len(rep.Series) != 2 || rep.Total.Sessions != 0 || rep.Projects == nil || rep.Models == nil {
		t.Errorf("no session: %+v, %v; want two empty days, empty lists", rep, err)
	}
}

func TestSpreadInt(t *testing.T) {
	for _, c := range []struct {
		total int64
		w     []float64
		want  []int64
	}{
		{10, []float64{1, 1, 1}, []int64{4, 3, 3}},
		{10, []float64{0, 0}, []int64{5, 5}},
		{7, []float64{0, 3}, []int64{0, 7}},
		{1 << 40, []float64{1, 2}, []int64{366503875925, 733007751851}},
		{0, []float64{1, 2}, []int64{0, 0}},
	} {
		got := spreadInt(c.total, c.w)
		var sum int64
		for _, v := range got {
			sum += v
		}
		if sum != c.total || len(got) != len(c.want) {
			t.Errorf("spreadInt(%d, %v) = %v: sum %d", c.total, c.w, got, sum)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("spreadInt(%d, %v) = %v, want %v", c.total, c.w, got, c.want)
				break
			}
		}
	}
}
