package monitor

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mpm-dev/mpm/internal/client"
	"github.com/mpm-dev/mpm/internal/gist"
	"github.com/mpm-dev/mpm/internal/protocol"
)

// stateOrder ranks states on the board: needs you first, ended last.
var stateOrder = map[string]int{
	protocol.StateNeedsPermission: 0,
	protocol.StateWaitingInput:    0,
	protocol.StateWorking:         1,
	protocol.StateCompacting:      1,
	protocol.StateIdle:            2,
	protocol.StateEnded:           3,
}

// stateWords are the states as the board and the tail show them: words
// and a mark, never colour alone.
var stateWords = map[string]string{
	protocol.StateNeedsPermission: "! needs permission",
	protocol.StateWaitingInput:    "? waiting for input",
	protocol.StateWorking:         "● working",
	protocol.StateCompacting:      "◐ compacting",
	protocol.StateIdle:            "○ idle",
	protocol.StateEnded:           "· ended",
}

// stateColor is each state's colour.
var stateColor = map[string]string{
	protocol.StateNeedsPermission: red + bold,
	protocol.StateWaitingInput:    yellow + bold,
	protocol.StateWorking:         green,
	protocol.StateCompacting:      cyan,
	protocol.StateIdle:            blue,
	protocol.StateEnded:           dim,
}

// StateLabel is how a state is shown ("! needs permission"); a state this
// version does not know is shown as it is.
func StateLabel(state string, stale bool) string {
	l, ok := stateWords[state]
	if !ok {
		l = "  " + state
	}
	if stale {
		l += " (stale)"
	}
	return l
}

// SortBoard orders sessions for the board: those that need you first
// (longest waiting first), then working, idle, ended; within each, most
// recent activity first.
func SortBoard(ss []protocol.Session) {
	sort.SliceStable(ss, func(a, b int) bool {
		ra, rb := rank(ss[a]), rank(ss[b])
		if ra != rb {
			return ra < rb
		}
		if ra == 0 {
			return attentionSince(ss[a]).Before(attentionSince(ss[b]))
		}
		return ss[a].LastSeen.After(ss[b].LastSeen)
	})
}

func rank(s protocol.Session) int {
	if s.Attention {
		return 0 // also over budget
	}
	r, ok := stateOrder[s.State]
	if !ok {
		return 2
	}
	return r
}

// attentionSince is when s started needing its person: when it passed its
// budget, or entered its state.
func attentionSince(s protocol.Session) time.Time {
	if s.AttentionReason == protocol.ReasonOverBudget && s.OverBudget != nil {
		return s.OverBudget.Since
	}
	return s.StateSince
}

// overBudgetLabel is the state column of a session in the inbox for its
// budget.
const overBudgetLabel = "$ over budget"

// Ago is a short duration for people: "45 s", "2 m 10 s", "3 h 5 m", "2 d".
func Ago(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d / time.Second)
	switch {
	case s < 60:
		return strconv.Itoa(s) + " s"
	case s < 3600:
		return fmt.Sprintf("%d m %d s", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%d h %d m", s/3600, (s%3600)/60)
	}
	return strconv.Itoa(s/86400) + " d"
}

// StatusLine is the one-line summary for tmux and shell prompts, such as
// "2 need you · 3 working · 1 idle", over the sessions active within
// recent (0: all); ended sessions are not counted. "no sessions" when
// nothing is left.
func StatusLine(ss []protocol.Session, now time.Time, recent time.Duration) string {
	var need, working, idle, stale int
	for _, s := range ss {
		if s.State == protocol.StateEnded || (recent > 0 && now.Sub(s.LastSeen) > recent) {
			continue
		}
		switch {
		case s.Attention:
			need++
		case s.Stale:
			stale++
		case s.State == protocol.StateWorking || s.State == protocol.StateCompacting:
			working++
		default:
			idle++
		}
	}
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, strconv.Itoa(n)+" "+what)
		}
	}
	add(need, "need you")
	add(working, "working")
	add(stale, "stale")
	add(idle, "idle")
	if len(parts) == 0 {
		return "no sessions"
	}
	return strings.Join(parts, " · ")
}

// StatusRecent is how recent a session's last event must be for the
// status line to count it: a terminal closed without SessionEnd leaves a
// session idle for ever.
const StatusRecent = 24 * time.Hour

// Board renders the sessions as a table (sorted with SortBoard first),
// each row at most width columns (0: unlimited).
func Board(ss []protocol.Session, now time.Time, width int, color bool) []byte {
	var b strings.Builder
	fleet, usage := false, false
	for _, s := range ss {
		fleet = fleet || s.Origin != ""
		usage = usage || s.Usage != nil
	}
	head := fmt.Sprintf("%-32s %-16s %-8s ", "STATE", "PROJECT", "SESSION")
	if fleet {
		head += fmt.Sprintf("%-16s ", "ORIGIN")
	}
	if usage {
		head += fmt.Sprintf("%-8s %-4s ", "COST", "CTX")
	}
	head += fmt.Sprintf("%-6s %s", "AGENTS", "DOING")
	b.WriteString(fitWidth(head, width))
	b.WriteByte('\n')
	for _, s := range ss {
		label := StateLabel(s.State, s.Stale) + " · " + Ago(now.Sub(s.StateSince))
		labelColor, colored := stateColor[s.State]
		if s.AttentionReason == protocol.ReasonOverBudget {
			label, labelColor, colored = overBudgetLabel+" · "+Ago(now.Sub(attentionSince(s))), red+bold, true
		}
		row := fmt.Sprintf("%-32s %-16s %-8s ", label, gist.Clean(gist.Project(s.Cwd), 16), shortID(s.SessionID))
		if fleet {
			row += fmt.Sprintf("%-16s ", gist.Clean(s.Origin, 16))
		}
		running := 0
		for _, a := range s.Agents {
			if a.State == protocol.AgentRunning {
				running++
			}
		}
		agents := "-"
		if len(s.Agents) > 0 {
			agents = fmt.Sprintf("%d/%d", running, len(s.Agents))
		}
		if usage {
			cost, ctx := UsageCells(s.Usage)
			if s.OverBudget != nil {
				cost += "!" // over a budget (seen to or not)
			}
			row += fmt.Sprintf("%-8s %-4s ", cost, ctx)
		}
		d := doing(s)
		if s.AttentionReason == protocol.ReasonOverBudget {
			d = gist.Budget(s.OverBudget) // why it is with those that need you
		}
		row += fmt.Sprintf("%-6s %s", agents, d)
		row = fitWidth(row, width)
		if color {
			if c, ok := labelColor, colored; ok {
				n := len(label)
				if n > len(row) {
					n = len(row)
				}
				row = c + row[:n] + reset + row[n:]
			}
		}
		b.WriteString(row)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// UsageCells are a session's cost ("$1.23"; "~$1.23" when estimated) and
// context fill ("42%"), "-" when unknown.
func UsageCells(u *protocol.Usage) (cost, ctx string) {
	if u == nil {
		return "-", "-"
	}
	cost = fmt.Sprintf("$%.2f", u.CostUSD)
	if u.CostSource == protocol.CostEstimate {
		cost = "~" + cost
	}
	ctx = "-"
	if u.ContextWindow > 0 {
		ctx = fmt.Sprintf("%d%%", min(999, u.ContextTokens*100/u.ContextWindow))
	}
	return cost, ctx
}

// doing is what a session is about: the state's message, else its running
// tool, else its last prompt.
func doing(s protocol.Session) string {
	switch {
	case s.StateMessage != "" && s.State != protocol.StateEnded:
		return gist.Clean(s.StateMessage, 200)
	case len(s.CurrentTools) > 0:
		t := s.CurrentTools[len(s.CurrentTools)-1]
		return gist.Clean(t.Tool+" "+t.Summary, 200)
	case s.LastPrompt != "":
		return gist.Clean("“"+s.LastPrompt+"”", 200)
	}
	return ""
}

// fitWidth shortens s to width runes with "…" (0: no limit).
func fitWidth(s string, width int) string {
	if width <= 0 {
		return s
	}
	r := []rune(s)
	if len(r) <= width {
		return s
	}
	return string(r[:width-1]) + "…"
}

// SessionsOptions are `mpm-monitor sessions`'s settings.
type SessionsOptions struct {
	// Client talks to the daemon.
	Client *client.Client
	// JSON prints JSON: the list, or with Watch one session per line.
	JSON bool
	// Watch keeps the board live (session frames) until ctx ends.
	Watch bool
	// Color and Width shape the table.
	Color bool
	Width int
	// Terminal redraws in place (clears the screen) when watching.
	Terminal bool
	// Stdout receives the board; Stderr the notes.
	Stdout, Stderr io.Writer
	// Name prefixes notes ("mpm-monitor").
	Name string
}

// Sessions prints the sessions board, once or (Watch) live.
func Sessions(ctx context.Context, o SessionsOptions) error {
	if o.Name == "" {
		o.Name = "mpm-monitor"
	}
	out := bufio.NewWriter(o.Stdout)
	if !o.Watch {
		ss, err := o.Client.Sessions(ctx)
		if err != nil {
			return fmt.Errorf("ask mpm-wsd for its sessions: %w", err)
		}
		SortBoard(ss)
		if o.JSON {
			if ss == nil {
				ss = []protocol.Session{}
			}
			b, _ := json.MarshalIndent(ss, "", "  ")
			out.Write(append(b, '\n'))
		} else {
			out.Write(Board(ss, time.Now(), o.Width, o.Color))
		}
		return flushErr(out.Flush())
	}
	var mu sync.Mutex
	byID := map[string]protocol.Session{}
	dirty := false
	draw := func() error {
		mu.Lock()
		ss := make([]protocol.Session, 0, len(byID))
		for _, s := range byID {
			ss = append(ss, s)
		}
		dirty = false
		mu.Unlock()
		SortBoard(ss)
		if o.Terminal {
			out.WriteString("\x1b[H\x1b[2J")
		} else {
			out.WriteByte('\n')
		}
		out.Write(Board(ss, time.Now(), o.Width, o.Color))
		return flushErr(out.Flush())
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		errc <- o.Client.Stream(ctx, client.Subscription{}, client.Handlers{
			Event: func(protocol.Event) error { return nil },
			Session: func(s protocol.Session) error {
				if o.JSON {
					b, _ := json.Marshal(s)
					out.Write(append(b, '\n'))
					return flushErr(out.Flush())
				}
				mu.Lock()
				byID[s.SessionID] = s
				dirty = true
				mu.Unlock()
				return nil
			},
			State: func(st client.State) error {
				if st.Kind == client.StateDisconnected {
					fmt.Fprintf(o.Stderr, "%s: %v; retrying\n", o.Name, st.Err)
				}
				return nil
			},
		})
	}()
	if o.JSON {
		err := <-errc
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	last := time.Time{}
	for {
		select {
		case err := <-errc:
			if ctx.Err() != nil {
				return nil
			}
			return err
		case <-ctx.Done():
			return nil
		case now := <-tick.C:
			mu.Lock()
			d := dirty
			mu.Unlock()
			// Durations move: a terminal is redrawn every second.
			if d || (o.Terminal && now.Sub(last) >= time.Second) {
				last = now
				if err := draw(); err != nil {
					return err
				}
			}
		}
	}
}

// flushErr maps a write error to ErrBrokenPipe when the reader went away.
func flushErr(err error) error {
	if err == nil {
		return nil
	}
	if isBrokenPipe(err) {
		return ErrBrokenPipe
	}
	return fmt.Errorf("write: %w", err)
}

// PrintStatusLine asks the daemon for its sessions and prints StatusLine.
func PrintStatusLine(ctx context.Context, c *client.Client, w io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	ss, err := c.Sessions(ctx)
	if err != nil {
		fmt.Fprintln(w, "mpm down")
		return errors.New("mpm-wsd did not answer: " + err.Error())
	}
	_, err = fmt.Fprintln(w, StatusLine(ss, time.Now(), StatusRecent))
	return err
}

// shortID is the first 8 characters of a session id, cleaned.
func shortID(id string) string {
	return cut(gist.Clean(id, 64), 8)
}

// StateLine is the tail's line for a session that changed state: time,
// session, the state in words, and its message or running tool.
func (f *Format) StateLine(s *protocol.Session) []byte {
	return f.sessionLine(s, s.StateSince, StateLabel(s.State, s.Stale), stateColor[s.State], doing(*s))
}

// BudgetLine is the tail's line for a session that passed a budget (its
// OverBudget set): when, session, "$ over budget" and which budget.
func (f *Format) BudgetLine(s *protocol.Session) []byte {
	return f.sessionLine(s, s.OverBudget.Since, overBudgetLabel, red+bold, gist.Budget(s.OverBudget))
}

// sessionLine is a tail line about session s: at, session, label (in
// color c when not ""), what.
func (f *Format) sessionLine(s *protocol.Session, at time.Time, label, c, what string) []byte {
	loc := f.Location
	if loc == nil {
		loc = time.Local
	}
	var b strings.Builder
	f.paint(&b, dim, at.In(loc).Format("15:04:05.000"))
	b.WriteByte(' ')
	if s.Origin != "" {
		b.WriteString(gist.Clean(s.Origin, maxOriginWidth))
		f.paint(&b, dim, "/")
	}
	b.WriteString(shortID(s.SessionID))
	b.WriteByte(' ')
	label = fmt.Sprintf("%-20s", label)
	if c != "" {
		f.paint(&b, c, label)
	} else {
		b.WriteString(label)
	}
	if what != "" {
		width := DefaultSummaryWidth
		if f.Width > 0 {
			width = max(minSummaryWidth, f.Width-b.Len()-1)
		}
		b.WriteByte(' ')
		b.WriteString(gist.Clean(what, width))
	}
	b.WriteByte('\n')
	return []byte(b.String())
}
