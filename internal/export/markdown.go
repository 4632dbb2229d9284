// Package export renders a session's stored events for people: Markdown
// with the prompts, the tool calls with one-line summaries and their
// timings, outputs folded, errors marked. It streams: it holds one event
// and the start times of the tool calls still running, never the session.
package export

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/gist"
	"github.com/mpm-dev/mpm/internal/protocol"
)

// Bounds on what one event shows: the export is for reading; the NDJSON
// export has everything.
const (
	maxOutputLines = 200
	maxOutputBytes = 24 << 10
	maxSummary     = 160
	// maxPending bounds the tool calls remembered for their timing.
	maxPending = 1024
)

// Markdown writes a session as Markdown, one event at a time.
type Markdown struct {
	w       *bufio.Writer
	session string
	started bool
	first   time.Time
	last    time.Time
	events  int
	tools   map[string]int
	errors  int
	prompts int
	pending map[string]time.Time // tool_use_id -> PreToolUse received
	// summary is the session's summary from the daemon, for its usage; nil:
	// none given.
	summary *protocol.Session
	err     error
}

// NewMarkdown returns a writer of the session's Markdown to w.
func NewMarkdown(w io.Writer, session string) *Markdown {
	return &Markdown{w: bufio.NewWriterSize(w, 32<<10), session: session, tools: map[string]int{}, pending: map[string]time.Time{}}
}

// hook is what the export reads from a payload.
type hook struct {
	Prompt       string          `json:"prompt"`
	Message      string          `json:"message"`
	LastMessage  string          `json:"last_assistant_message"`
	Source       string          `json:"source"`
	Reason       string          `json:"reason"`
	Cwd          string          `json:"cwd"`
	Model        any             `json:"model"`
	ToolInput    json.RawMessage `json:"tool_input"`
	ToolResponse json.RawMessage `json:"tool_response"`
	Error        any             `json:"error"`
}

func (m *Markdown) printf(format string, args ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format, args...)
	}
}

// Event adds one event (in seq order).
func (m *Markdown) Event(ev *event.Event) error {
	var h hook
	json.Unmarshal(ev.Payload, &h) // a payload that does not decode still gets its line
	if !m.started {
		m.started, m.first = true, ev.Received
		m.printf("# Claude Code session %s\n\n", m.session)
		if h.Cwd != "" {
			m.printf("- Directory: `%s`\n", h.Cwd)
		}
		if ev.Origin != "" {
			m.printf("- Machine: %s\n", ev.Origin)
		}
		m.printf("- Started: %s\n\n", ev.Received.UTC().Format(time.RFC3339))
	}
	m.events++
	m.last = ev.Received
	at := ev.Received.UTC().Format("15:04:05")
	switch ev.Name {
	case "UserPromptSubmit":
		m.prompts++
		m.printf("## %s · Prompt\n\n%s\n\n", at, quote(h.Prompt))
	case "PreToolUse":
		m.tools[ev.Tool]++
		if ev.ToolUseID != "" && len(m.pending) < maxPending {
			m.pending[ev.ToolUseID] = ev.Received
		}
		m.printf("- %s · **%s** %s\n", at, ev.Tool, code(summary(ev.Tool, h.ToolInput)))
		if ev.Tool == "Edit" || ev.Tool == "MultiEdit" {
			m.editDiff(h.ToolInput)
		}
	case "PostToolUse", "PostToolUseFailure":
		took := ""
		if t0, ok := m.pending[ev.ToolUseID]; ok {
			took = " in " + ev.Received.Sub(t0).Round(time.Millisecond).String()
			delete(m.pending, ev.ToolUseID)
		}
		out, failed := output(h.ToolResponse)
		if ev.Name == "PostToolUseFailure" || h.Error != nil {
			failed = true
			if h.Error != nil && out == "" {
				out = fmt.Sprint(h.Error)
			}
		}
		status := "done"
		if failed {
			status = "**error**"
			m.errors++
		}
		m.printf("  - %s · %s %s%s\n", at, ev.Tool, status, took)
		if out != "" {
			m.fold("output", out, "  ")
		}
	case "Notification":
		m.printf("- %s · Notification: %s\n", at, oneLine(h.Message))
	case "Stop", "SubagentStop":
		m.printf("\n%s · %s\n\n", at, ev.Name)
		if h.LastMessage != "" {
			m.printf("%s\n\n", quote(h.LastMessage))
		}
	case "SessionStart":
		m.printf("- %s · Session start (%s)\n", at, h.Source)
	case "SessionEnd":
		m.printf("- %s · Session end (%s)\n", at, h.Reason)
	default:
		m.printf("- %s · %s\n", at, ev.Name)
	}
	return m.err
}

// Session gives the session's summary as the daemon serves it: Close
// writes its usage (tokens, cost, context, per model and per subagent).
func (m *Markdown) Session(s protocol.Session) { m.summary = &s }

// Close writes the summary (and the usage, given Session) and flushes.
func (m *Markdown) Close() error {
	if m.started {
		m.printf("\n## Summary\n\n- %d events from %s to %s (%s)\n- %d prompts, %d errors\n",
			m.events, m.first.UTC().Format(time.RFC3339), m.last.UTC().Format(time.RFC3339), m.last.Sub(m.first).Round(time.Second), m.prompts, m.errors)
		if len(m.tools) > 0 {
			names := make([]string, 0, len(m.tools))
			for n := range m.tools {
				names = append(names, n)
			}
			sort.Slice(names, func(a, b int) bool {
				if m.tools[names[a]] != m.tools[names[b]] {
					return m.tools[names[a]] > m.tools[names[b]]
				}
				return names[a] < names[b]
			})
			var parts []string
			for _, n := range names {
				parts = append(parts, fmt.Sprintf("%s ×%d", n, m.tools[n]))
			}
			m.printf("- Tool calls: %s\n", strings.Join(parts, ", "))
		}
		if m.summary != nil {
			m.usage(m.summary)
		}
	}
	if m.err == nil {
		m.err = m.w.Flush()
	}
	return m.err
}

// usage writes the session's usage section.
func (m *Markdown) usage(s *protocol.Session) {
	m.printf("\n## Usage\n\n")
	u := s.Usage
	if u == nil {
		m.printf("Not known: mpm-wsd has not read this session's transcript (it reads only those of its own machine, under the Claude config directory).\n")
		return
	}
	source := "Claude Code's own figure (its cost-state record)"
	if u.CostSource != protocol.CostClaude {
		source = "estimated from the token counts with mpm-wsd's price table"
	}
	m.printf("- Cost: %s (`cost_source: %s`: %s)\n", dollars(u.CostUSD), u.CostSource, source)
	m.printf("- Tokens: %s: %s input, %s output, %s cache read, %s cache write\n",
		thousands(tokens(u.InputTokens, u.OutputTokens, u.CacheReadInputTokens, u.CacheCreationInputTokens)),
		thousands(u.InputTokens), thousands(u.OutputTokens), thousands(u.CacheReadInputTokens), thousands(u.CacheCreationInputTokens))
	if u.ContextWindow > 0 {
		m.printf("- Context at the last turn: %s of %s tokens (%d%%)\n", thousands(u.ContextTokens), thousands(u.ContextWindow), u.ContextTokens*100/u.ContextWindow)
	} else if u.ContextTokens > 0 {
		m.printf("- Context at the last turn: %s tokens (window unknown)\n", thousands(u.ContextTokens))
	}
	if ob := s.OverBudget; ob != nil {
		m.printf("- Budget: %s (since %s)\n", gist.Budget(ob), ob.Since.UTC().Format(time.RFC3339))
	}
	if len(u.Models) > 0 {
		names := make([]string, 0, len(u.Models))
		for n := range u.Models {
			names = append(names, n)
		}
		sort.Strings(names)
		m.printf("\n| Model | Input | Output | Cache read | Cache write | Cost |\n|---|--:|--:|--:|--:|--:|\n")
		for _, n := range names {
			mu := u.Models[n]
			m.printf("| %s | %s | %s | %s | %s | %s |\n", cell(n), thousands(mu.InputTokens), thousands(mu.OutputTokens),
				thousands(mu.CacheReadInputTokens), thousands(mu.CacheCreationInputTokens), dollars(mu.CostUSD))
		}
	}
	var agents []protocol.SessionAgent
	for _, a := range s.Agents {
		if a.Usage != nil {
			agents = append(agents, a)
		}
	}
	if len(agents) == 0 {
		return
	}
	m.printf("\n### Subagents\n\nTheir tokens and cost are part of the session's above.\n\n| Subagent | Type | Tokens | Cost | Models |\n|---|---|--:|--:|---|\n")
	for _, a := range agents {
		au := a.Usage
		names := make([]string, 0, len(au.Models))
		for n := range au.Models {
			names = append(names, cell(n))
		}
		sort.Strings(names)
		if len(names) == 0 {
			names = append(names, "-")
		}
		cost := dollars(au.CostUSD)
		if au.CostSource != protocol.CostClaude {
			cost = "~" + cost
		}
		m.printf("| %s | %s | %s | %s | %s |\n", cell(clip(a.AgentID, 8)), cell(a.AgentType),
			thousands(tokens(au.InputTokens, au.OutputTokens, au.CacheReadInputTokens, au.CacheCreationInputTokens)), cost, strings.Join(names, ", "))
	}
}

// tokens sums token counts.
func tokens(n ...int64) int64 {
	var t int64
	for _, v := range n {
		t += v
	}
	return t
}

// thousands writes n with thousands separators: 16,780.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// dollars writes a cost: four decimals below a dollar ($0.0422), else two.
func dollars(v float64) string {
	if v < 1 {
		return fmt.Sprintf("$%.4f", v)
	}
	return fmt.Sprintf("$%.2f", v)
}

// cell makes s (outside input: a model name, an agent type) a table cell:
// one line, inline code, its pipes escaped.
func cell(s string) string {
	s = oneLine(s)
	if s == "" {
		return "-"
	}
	return strings.ReplaceAll(code(clip(s, maxSummary)), "|", "\\|")
}

// summary is a tool call in one line: the command, the file, the pattern.
func summary(tool string, raw json.RawMessage) string {
	var in map[string]any
	if json.Unmarshal(raw, &in) != nil {
		return ""
	}
	str := func(k string) string { s, _ := in[k].(string); return s }
	var s string
	switch {
	case str("command") != "":
		s = str("command")
	case str("file_path") != "":
		s = str("file_path")
	case str("notebook_path") != "":
		s = str("notebook_path")
	case str("pattern") != "":
		s = str("pattern")
		if p := str("path"); p != "" {
			s += " in " + p
		}
	case str("url") != "":
		s = str("url")
	case str("query") != "":
		s = str("query")
	case str("description") != "":
		s = str("description")
	default:
		keys := make([]string, 0, len(in))
		for k := range in {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if v, ok := in[k].(string); ok && v != "" {
				s = k + ": " + v
				break
			}
		}
	}
	s = oneLine(s)
	if len(s) > maxSummary {
		s = clip(s, maxSummary) + "…"
	}
	return s
}

// editDiff folds an Edit's old and new strings as a diff.
func (m *Markdown) editDiff(raw json.RawMessage) {
	var in struct {
		Old string `json:"old_string"`
		New string `json:"new_string"`
	}
	if json.Unmarshal(raw, &in) != nil || (in.Old == "" && in.New == "") {
		return
	}
	var b strings.Builder
	for _, l := range strings.Split(in.Old, "\n") {
		b.WriteString("- " + l + "\n")
	}
	for _, l := range strings.Split(in.New, "\n") {
		b.WriteString("+ " + l + "\n")
	}
	m.foldLang("change", b.String(), "  ", "diff")
}

// output is the text of a tool response and whether it reports an error.
func output(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 {
		return "", false
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw), false
	}
	switch v := v.(type) {
	case string:
		return v, false
	case map[string]any:
		failed := false
		if e, ok := v["is_error"].(bool); ok && e {
			failed = true
		}
		var parts []string
		if s, _ := v["stdout"].(string); s != "" {
			parts = append(parts, s)
		}
		if s, _ := v["stderr"].(string); s != "" {
			parts = append(parts, s)
		}
		if f, ok := v["file"].(map[string]any); ok {
			if s, _ := f["content"].(string); s != "" {
				parts = append(parts, s)
			}
		}
		for _, k := range []string{"content", "output", "result", "error"} {
			if s, _ := v[k].(string); s != "" {
				parts = append(parts, s)
				if k == "error" {
					failed = true
				}
			}
		}
		if len(parts) > 0 {
			return strings.Join(parts, "\n"), failed
		}
		if _, ok := v["filePath"]; ok {
			return "", failed // an Edit's or Write's echo: the change is shown with the call
		}
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b), false
}

// fold writes text in a <details> block with a fenced code block.
func (m *Markdown) fold(label, text, indent string) { m.foldLang(label, text, indent, "") }

func (m *Markdown) foldLang(label, text, indent, lang string) {
	text = strings.TrimRight(text, "\n")
	lines := strings.Split(text, "\n")
	more := ""
	if len(lines) > maxOutputLines {
		more = fmt.Sprintf("… %d more lines", len(lines)-maxOutputLines)
		lines = lines[:maxOutputLines]
	}
	body := strings.Join(lines, "\n")
	if len(body) > maxOutputBytes {
		body = clip(body, maxOutputBytes)
		more = "… cut at 24 KiB"
	}
	fence := "```"
	for strings.Contains(body, fence) {
		fence += "`"
	}
	m.printf("\n%s<details><summary>%s (%d lines)</summary>\n\n%s%s%s\n", indent, label, strings.Count(text, "\n")+1, indent, fence, lang)
	for _, l := range strings.Split(body, "\n") {
		m.printf("%s%s\n", indent, l)
	}
	m.printf("%s%s\n", indent, fence)
	if more != "" {
		m.printf("%s%s\n", indent, more)
	}
	m.printf("\n%s</details>\n\n", indent)
}

// quote makes text a Markdown block quote.
func quote(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "> (empty)"
	}
	return "> " + strings.ReplaceAll(s, "\n", "\n> ")
}

// code makes s inline code, with a fence longer than any backtick run in it.
func code(s string) string {
	if s == "" {
		return ""
	}
	f := "`"
	for strings.Contains(s, f) {
		f += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return f + pad + s + pad + f
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
