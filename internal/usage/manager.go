// Package usage reads what Claude Code sessions have used — tokens, cost
// and context — from their transcripts (JSON lines), incrementally and
// safely: only regular .jsonl files under the Claude config directory's
// projects/, after resolving symlinks; from the offset reached last time,
// a bounded amount per read, on a goroutine of its own.
package usage

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/protocol"
)

// Defaults of Config.
const (
	DefaultReadBytes = 4 << 20
	DefaultTick      = 30 * time.Second
)

// Config configures a Manager.
type Config struct {
	// ProjectsDir is the only directory transcripts are read from
	// (default DefaultProjectsDir()).
	ProjectsDir string
	// Prices prices the tokens when no cost-state record says (default
	// DefaultPrices()).
	Prices *Prices
	// ReadBytes bounds one read of one transcript; a longer backlog is read
	// in turns with the other sessions'.
	ReadBytes int64
	// Tick is how often every known transcript is looked at, events or not.
	Tick time.Duration
	// OnChange learns which sessions' usage changed (from the worker).
	OnChange func(ids []string)
	// Registerer, when set, gets the metrics.
	Registerer prometheus.Registerer
	Logger     hclog.Logger
}

// Manager keeps every known session's usage. Touch is cheap and never
// blocks on a file: the reading happens on Run's goroutine.
type Manager struct {
	cfg  Config
	log  hclog.Logger
	root string
	// mu guards paths, usage, pending and order.
	mu sync.Mutex
	// known is each session's transcript path and subagents; usage its
	// latest figures.
	known map[string]*known
	usage map[string]*sessionUsage
	// pending are the sessions to read (a set: at most one entry each).
	pending map[string]bool
	order   []string
	wake    chan struct{}
	// readMu guards files and buf: Run's goroutine reads with it held (a
	// session at a time), Report takes it to build the time series.
	readMu sync.Mutex
	// files are the reading positions and tallies.
	files map[string]*sessionFiles
	buf   []byte
	// lastWarn is when a refusal was last logged (at most one a minute;
	// the counter counts them all).
	lastWarn time.Time
	// remote holds the sessions of other origins whose transcript paths
	// were refused (counted once each), lastRemoteWarn when one was last
	// logged; both guarded by mu (fleet.go).
	remote         map[string]bool
	lastRemoteWarn time.Time
	// backlog holds the sessions whose last read stopped before the end
	// of a transcript (ReadBytes): their usage is partial (Settled).
	backlog map[string]bool

	refused  *prometheus.CounterVec
	long     prometheus.Counter
	readB    prometheus.Counter
	failures prometheus.Counter
}

// New returns a Manager; Run starts its worker.
func New(cfg Config) *Manager {
	if cfg.ProjectsDir == "" {
		cfg.ProjectsDir = DefaultProjectsDir()
	}
	if cfg.Prices == nil {
		cfg.Prices = DefaultPrices()
	}
	if cfg.ReadBytes <= 0 {
		cfg.ReadBytes = DefaultReadBytes
	}
	if cfg.Tick <= 0 {
		cfg.Tick = DefaultTick
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	m := &Manager{
		cfg: cfg, log: cfg.Logger, root: cfg.ProjectsDir,
		known: map[string]*known{}, usage: map[string]*sessionUsage{}, pending: map[string]bool{}, remote: map[string]bool{}, backlog: map[string]bool{},
		wake:  make(chan struct{}, 1),
		files: map[string]*sessionFiles{}, buf: make([]byte, 256<<10),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mpm_usage_refused_total",
			Help: "Transcript paths refused (outside the Claude config directory's projects/, not a regular .jsonl file, named by an event of another origin on a fleet hub), each counted once per session."}, []string{"reason"}),
		long: prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_usage_long_lines_total",
			Help: "Transcript lines longer than 16 MiB passed over unread."}),
		readB: prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_usage_read_bytes_total",
			Help: "Transcript bytes read."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_usage_read_errors_total",
			Help: "Transcript reads that failed (other than a transcript not written yet)."}),
	}
	for _, r := range []string{RefusedOutside, RefusedNotRegular, RefusedNotJSONL, RefusedRemote} {
		m.refused.WithLabelValues(r)
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(m.refused, m.long, m.readB, m.failures, (*collector)(m))
	}
	return m
}

// ProjectsDir is the directory transcripts are read from.
func (m *Manager) ProjectsDir() string { return m.root }

// Touch notes that session id (transcript at path; subagents agents) has
// news: its transcripts are read soon. Never blocks.
func (m *Manager) Touch(id, path string, agents ...string) {
	if id == "" || path == "" {
		return
	}
	m.mu.Lock()
	m.touch(id, path, "")
	for _, a := range agents {
		m.touch(id, path, a)
	}
	m.mu.Unlock()
	m.signal()
}

// TouchEvents is Touch for each local event of a committed batch (events
// of other origins name files on other machines: never read here).
func (m *Manager) TouchEvents(evs []*event.Event) {
	any := false
	m.mu.Lock()
	for _, ev := range evs {
		if ev.SessionID == "" || ev.TranscriptPath == "" {
			continue
		}
		if ev.Origin != "" {
			m.refuseRemote(ev)
			continue
		}
		m.touch(ev.SessionID, ev.TranscriptPath, ev.AgentID)
		any = true
	}
	m.mu.Unlock()
	if any {
		m.signal()
	}
}

func (m *Manager) touch(id, path, agent string) {
	k := m.known[id]
	if k == nil {
		k = &known{}
		m.known[id] = k
	}
	k.path = path
	if validAgentID(agent) && len(k.agents) < MaxAgents && !slices.Contains(k.agents, agent) {
		k.agents = append(k.agents, agent)
	}
	if !m.pending[id] {
		m.pending[id] = true
		m.order = append(m.order, id)
	}
}

func (m *Manager) signal() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Get returns a copy of session id's usage; nil: none known.
func (m *Manager) Get(id string) *protocol.Usage {
	u, _ := m.Session(id)
	return u
}

// Session returns copies of session id's usage (nil: none known) and of
// its subagents' own, by agent id.
func (m *Manager) Session(id string) (*protocol.Usage, map[string]*protocol.Usage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	su := m.usage[id]
	if su == nil {
		return nil, nil
	}
	var agents map[string]*protocol.Usage
	if len(su.Agents) > 0 {
		agents = make(map[string]*protocol.Usage, len(su.Agents))
		for a, u := range su.Agents {
			agents[a] = copyUsage(u)
		}
	}
	return copyUsage(su.Total), agents
}

func copyUsage(u *protocol.Usage) *protocol.Usage {
	if u == nil {
		return nil
	}
	c := *u
	c.Models = make(map[string]protocol.ModelUsage, len(u.Models))
	for k, v := range u.Models {
		c.Models[k] = v
	}
	return &c
}

// Run reads pending transcripts until ctx ends; every Tick it looks at all
// of them.
func (m *Manager) Run(ctx context.Context) error {
	tick := time.NewTicker(m.cfg.Tick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-m.wake:
		case <-tick.C:
			m.mu.Lock()
			for id := range m.known {
				if !m.pending[id] {
					m.pending[id] = true
					m.order = append(m.order, id)
				}
			}
			m.mu.Unlock()
		}
		m.drain(ctx)
	}
}

// drain reads every pending transcript (a bounded amount each, in turns)
// until none is pending or ctx ends.
func (m *Manager) drain(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		default:
		}
		m.mu.Lock()
		ids := m.order
		m.order = nil
		for _, id := range ids {
			delete(m.pending, id)
		}
		snap := make([]known, len(ids))
		for k, id := range ids {
			if kn := m.known[id]; kn != nil {
				snap[k] = known{path: kn.path, agents: slices.Clone(kn.agents)}
			}
		}
		m.mu.Unlock()
		if len(ids) == 0 {
			return
		}
		var changed []string
		var again, caught []string
		for k, id := range ids {
			more, ch := m.readSession(id, snap[k])
			if ch {
				changed = append(changed, id)
			}
			if more {
				again = append(again, id)
			} else {
				caught = append(caught, id)
			}
		}
		m.mu.Lock()
		for _, id := range again {
			m.backlog[id] = true
			if !m.pending[id] {
				m.pending[id] = true
				m.order = append(m.order, id)
			}
		}
		for _, id := range caught {
			delete(m.backlog, id)
		}
		m.mu.Unlock()
		if len(changed) > 0 && m.cfg.OnChange != nil {
			m.cfg.OnChange(changed)
		}
	}
}

// readOne reads the main transcript of session id (for tests).
func (m *Manager) readOne(id, path string) (more, changed bool) {
	return m.readSession(id, known{path: path})
}

// readSession reads session id's transcript and its subagents' once;
// more: one has more to read; changed: the usage changed.
func (m *Manager) readSession(id string, k known) (more, changed bool) {
	if k.path == "" {
		return false, false
	}
	m.readMu.Lock()
	defer m.readMu.Unlock()
	sf := m.files[id]
	if sf == nil || sf.main.path != k.path {
		sf = &sessionFiles{main: newFile(k.path), agents: map[string]*file{}, owners: map[string]*tally{}}
		sf.main.t.owners = sf.owners
		m.files[id] = sf
	}
	var read, reset bool
	for pass := 0; pass < 2; pass++ {
		more, read, reset = m.readFile(id, sf.main)
		for _, a := range k.agents {
			af := sf.agents[a]
			if af == nil {
				af = newFile(agentPath(k.path, a))
				af.t.owners = sf.owners
				sf.agents[a] = af
			}
			mo, r, re := m.readFile(id, af)
			more, read, reset = more || mo, read || r, reset || re
		}
		if !reset || len(sf.agents) == 0 || pass == 1 {
			break
		}
		// A file was truncated or replaced: a message it had counted may
		// be in another of the session's files, skipped there as counted.
		// Read them all again from the start, as after a restart.
		for _, f := range append([]*file{sf.main}, slices.Collect(maps.Values(sf.agents))...) {
			f.restart()
		}
	}
	if !read {
		return more, false
	}
	sf.gen++ // the time series is rebuilt when a Report asks
	nu := &sessionUsage{}
	tallies := make([]*tally, 0, len(sf.agents))
	for a, af := range sf.agents {
		tallies = append(tallies, af.t)
		if u := af.t.usage(m.cfg.Prices); u != nil {
			if nu.Agents == nil {
				nu.Agents = map[string]*protocol.Usage{}
			}
			nu.Agents[a] = u
		}
	}
	nu.Total = combine(sf.main.t, tallies, m.cfg.Prices)
	m.mu.Lock()
	if !reflect.DeepEqual(m.usage[id], nu) {
		changed = true
		if nu.Total == nil {
			delete(m.usage, id)
		} else {
			m.usage[id] = nu
		}
	}
	m.mu.Unlock()
	return more, changed
}

// readFile reads one transcript once; more: it has more to read; read:
// records were folded in or the file was read again from the start;
// reset: it was truncated or replaced since the last read.
func (m *Manager) readFile(id string, f *file) (more, read, reset bool) {
	if f.refused() {
		return false, false, false
	}
	res, err := f.read(m.root, m.cfg.ReadBytes, m.buf)
	m.readB.Add(float64(res.n))
	if res.long > 0 {
		m.long.Add(float64(res.long))
	}
	var ref *RefusedError
	switch {
	case errors.As(err, &ref):
		f.refuse()
		m.refused.WithLabelValues(ref.Reason).Inc()
		if time.Since(m.lastWarn) < time.Minute {
			return false, false, false
		}
		m.lastWarn = time.Now()
		m.log.Warn("transcript refused: not read (logged at most once a minute; mpm_usage_refused_total counts them)",
			"session_id", id, "path", f.path, "reason", ref.Reason, "projects_dir", m.root,
			"hint", "only regular .jsonl files under the Claude config directory's projects/ (CLAUDE_CONFIG_DIR) are read")
		return false, false, false
	case errors.Is(err, os.ErrNotExist):
		return false, false, false // not written yet
	case err != nil:
		m.failures.Inc()
		m.log.Debug("transcript read failed; retried on the next event or tick", "session_id", id, "path", f.path, "error", err)
		return false, false, false
	}
	return res.more, res.records > 0 || res.reset, res.reset
}

// collector exports the sums over all sessions by model.
type collector Manager

var (
	descTokens = prometheus.NewDesc("mpm_tokens_total", "Tokens used by the sessions known to this daemon (recomputed from the transcripts at start), by model and kind (input, output, cache_read, cache_creation).", []string{"model", "kind"}, nil)
	descCost   = prometheus.NewDesc("mpm_cost_usd_total", "Cost in USD of the sessions known to this daemon (Claude Code's own figure when the transcript has it, else estimated), by model.", []string{"model"}, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descTokens
	ch <- descCost
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	type sum struct {
		tok Tokens
		usd float64
	}
	by := map[string]*sum{}
	c.mu.Lock()
	for _, su := range c.usage {
		for name, mu := range su.Total.Models {
			s := by[name]
			if s == nil {
				s = &sum{}
				by[name] = s
			}
			s.tok = s.tok.add(Tokens{mu.InputTokens, mu.OutputTokens, mu.CacheReadInputTokens, mu.CacheCreationInputTokens})
			s.usd += mu.CostUSD
		}
	}
	c.mu.Unlock()
	for name, s := range by {
		for _, kv := range []struct {
			kind string
			n    int64
		}{{"input", s.tok.Input}, {"output", s.tok.Output}, {"cache_read", s.tok.CacheRead}, {"cache_creation", s.tok.CacheCreation}} {
			ch <- prometheus.MustNewConstMetric(descTokens, prometheus.CounterValue, float64(kv.n), name, kv.kind)
		}
		ch <- prometheus.MustNewConstMetric(descCost, prometheus.CounterValue, s.usd, name)
	}
}

// MaxAgents bounds the subagents read per session.
const MaxAgents = 64

// known is what the Manager knows of a session.
type known struct {
	// path is the session's transcript; agents its subagents' ids.
	path   string
	agents []string
}

// sessionUsage is a session's figures: Total (subagents included) and each
// subagent's own.
type sessionUsage struct {
	Total  *protocol.Usage
	Agents map[string]*protocol.Usage
}

// sessionFiles are the reading positions of a session's transcripts, and
// its time series as last built (for generation cells of gen).
type sessionFiles struct {
	main   *file
	agents map[string]*file
	// owners: which file counted each message (tally.owners).
	owners map[string]*tally
	gen    int
	cells  []Cell
	cellsG int
}

// cellsOf returns the session's time series, built again if it was read
// since (series.go); m.readMu held.
func (m *Manager) cellsOf(sf *sessionFiles) []Cell {
	if sf.cellsG != sf.gen || sf.cells == nil {
		tallies := make([]*tally, 0, len(sf.agents))
		for _, af := range sf.agents {
			tallies = append(tallies, af.t)
		}
		sf.cells, sf.cellsG = series(sf.main.t, tallies, m.cfg.Prices), sf.gen
	}
	return sf.cells
}

// agentPath is where Claude Code (2.1) writes subagent agent's transcript:
// <session transcript without .jsonl>/subagents/agent-<id>.jsonl.
func agentPath(transcript, agent string) string {
	return filepath.Join(strings.TrimSuffix(transcript, filepath.Ext(transcript)), "subagents", "agent-"+agent+".jsonl")
}

// validAgentID accepts the agent ids Claude Code makes (hex, letters,
// digits, - and _), so an id never names another path.
func validAgentID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
