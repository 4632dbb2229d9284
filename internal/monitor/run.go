// Package monitor is mpm-monitor's logic: which events to ask the daemon
// for, which to print, how to print them (human lines or NDJSON), and what
// to tell the user on stderr while the connection comes and goes.
package monitor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mpm-dev/mpm/internal/client"
	"github.com/mpm-dev/mpm/internal/protocol"
)

// Options are mpm-monitor's settings after flag parsing.
type Options struct {
	// Client talks to the daemon.
	Client *client.Client
	// Filter selects the events to print.
	Filter Filter
	// Since prints retained events with seq > *Since first; nil: none
	// (unless Last or !Follow).
	Since *uint64
	// Last prints only the last Last matching events of the history; 0: all.
	Last int
	// Follow keeps printing live events; false: print history and exit.
	Follow bool
	// Count exits after printing Count events; 0: no limit.
	Count int
	// Format formats the lines.
	Format Format
	// Stdout receives the events; Stderr the notes.
	Stdout, Stderr io.Writer
	// Name prefixes notes ("mpm-monitor").
	Name string
}

// ErrBrokenPipe is returned when stdout's reader went away (| head): the
// caller exits quietly with status 0.
var ErrBrokenPipe = errors.New("stdout closed")

// runner is one Run's state.
type runner struct {
	o   Options
	out *bufio.Writer
	// ring holds the last Last matching events of the first replay
	// (formatted only when printed).
	ring []protocol.Event
	// ringNext is where the next event goes once ring is full.
	ringNext int
	// buffering is set until the first replay ends, when Last > 0.
	buffering bool
	// printed counts printed events.
	printed int
	// connected is set once a connection subscribed.
	connected bool
	// down is when the current outage started; zero when connected.
	down time.Time
	// lastNote is when the last outage note was written.
	lastNote time.Time
	// states is each session's last known state (and stale flag), from
	// session frames: a change prints a state line.
	states map[string]string
	// budgets is each session's budget crossing waiting for the person
	// last seen (budget@since), for its line.
	budgets map[string]string
	// liveSeen is set once the first replay ended: a session first seen
	// after it is new, and its state is a change.
	liveSeen bool
	// announced is set once the first replay ended and the run said on
	// stderr what it follows.
	announced bool
}

// Run prints events until ctx ends (nil), Count is reached (nil), the
// history is printed without Follow (nil), stdout is closed
// (ErrBrokenPipe), or the daemon cannot be reached without Follow (an
// error saying what to do).
func Run(ctx context.Context, o Options) error {
	if o.Name == "" {
		o.Name = "mpm-monitor"
	}
	r := &runner{o: o, out: bufio.NewWriterSize(o.Stdout, 64<<10)}
	sub := client.Subscription{Since: o.Since}
	if sub.Since == nil && (o.Last > 0 || !o.Follow) {
		zero := uint64(0)
		sub.Since = &zero
	}
	if len(o.Filter.Sessions) > 0 {
		sub.Sessions = r.serverSessions(ctx)
	}
	if o.Last > 0 {
		r.buffering = true
		if !o.Filter.ClientSide(sub.Sessions) {
			sub.Tail = o.Last
		}
	}
	err := o.Client.Stream(ctx, sub, client.Handlers{
		Event:   r.event,
		Flush:   r.flush,
		Live:    r.live,
		State:   r.state,
		Session: r.session,
	})
	if ferr := r.flush(); ferr != nil && err == nil {
		err = ferr
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if ctx.Err() != nil {
			return nil
		}
	}
	return err
}

// serverSessions resolves --session values against the daemon's sessions
// (see Filter.ServerSessions); nil when it cannot ask.
func (r *runner) serverSessions(ctx context.Context) []string {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	infos, err := r.o.Client.Sessions(ctx)
	if err != nil {
		return nil
	}
	known := make([]string, len(infos))
	for i, in := range infos {
		known[i] = in.SessionID
	}
	return r.o.Filter.ServerSessions(known)
}

// event prints (or buffers) one matching event.
func (r *runner) event(ev protocol.Event) error {
	if !r.o.Filter.Match(&ev) {
		return nil
	}
	if r.buffering {
		if len(r.ring) < r.o.Last {
			r.ring = append(r.ring, ev)
		} else {
			r.ring[r.ringNext] = ev
			r.ringNext = (r.ringNext + 1) % r.o.Last
		}
		return nil
	}
	return r.print(r.o.Format.Line(&ev))
}

// session prints a line when a session's state changes (human lines
// only: NDJSON stays event records). The summaries sent on subscribing,
// before the first replay ends, only record the states. State lines are
// not events: they follow the session and origin filters, are left out
// when events or tools are filtered, and do not count for Count.
func (r *runner) session(s protocol.Session) error {
	if r.states == nil {
		r.states, r.budgets = map[string]string{}, map[string]string{}
	}
	cur := s.State
	if s.Stale {
		cur += "/stale"
	}
	budget := ""
	if ob := s.OverBudget; ob != nil && ob.Attention {
		budget = ob.Budget + "@" + ob.Since.String()
	}
	prev, known := r.states[s.SessionID]
	prevBudget := r.budgets[s.SessionID]
	r.states[s.SessionID] = cur
	if budget != "" {
		r.budgets[s.SessionID] = budget
	}
	f := r.o.Filter
	if (!known && !r.liveSeen) || r.o.Format.JSON || r.buffering || len(f.Events) > 0 || len(f.Tools) > 0 {
		return nil
	}
	if !f.Match(&protocol.Event{SessionID: s.SessionID, Origin: s.Origin}) {
		return nil
	}
	var line []byte
	if !known || prev != cur {
		line = r.o.Format.StateLine(&s)
	}
	if budget != "" && budget != prevBudget {
		line = append(line, r.o.Format.BudgetLine(&s)...) // passed a budget
	}
	if line == nil {
		return nil
	}
	if _, err := r.out.Write(line); err != nil {
		return r.writeErr(err)
	}
	return r.flush()
}

// print writes one line and stops at Count.
func (r *runner) print(line []byte) error {
	if _, err := r.out.Write(line); err != nil {
		return r.writeErr(err)
	}
	r.printed++
	if r.o.Count > 0 && r.printed >= r.o.Count {
		return client.ErrStop
	}
	return nil
}

// live ends the first replay: the buffered tail is printed, the run says
// what it follows, and without Follow the run ends.
func (r *runner) live(seq uint64) error {
	r.liveSeen = true
	if r.buffering {
		r.buffering = false
		ring := slices.Concat(r.ring[r.ringNext:], r.ring[:r.ringNext]) // oldest first
		r.ring = nil
		for i := range ring {
			if err := r.print(r.o.Format.Line(&ring[i])); err != nil {
				return err
			}
		}
	}
	if err := r.flush(); err != nil {
		return err
	}
	if !r.announced {
		r.announced = true
		r.announce(seq)
	}
	if !r.o.Follow {
		return client.ErrStop
	}
	return nil
}

// announce says in one stderr line what the run follows ("following 3
// sessions from seq 812"), or that no session matches --session.
func (r *runner) announce(seq uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	infos, err := r.o.Client.Sessions(ctx)
	n := 0
	for _, in := range infos {
		if r.o.Filter.MatchSession(in.SessionID, in.Origin) {
			n++
		}
	}
	switch {
	case err == nil && n == 0 && len(r.o.Filter.Sessions) > 0:
		if r.o.Follow {
			r.note("no session matches %s; waiting for one to start", strings.Join(r.o.Filter.Sessions, ", "))
		} else {
			r.note("no session matches %s", strings.Join(r.o.Filter.Sessions, ", "))
		}
	case !r.o.Follow:
	case err != nil:
		r.note("following from seq %d", seq)
	default:
		r.note("following %s from seq %d", plural(n, "session"), seq)
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func (r *runner) flush() error {
	if err := r.out.Flush(); err != nil {
		return r.writeErr(err)
	}
	return nil
}

func (r *runner) writeErr(err error) error {
	if isBrokenPipe(err) {
		return ErrBrokenPipe
	}
	return fmt.Errorf("write events: %w", err)
}

// state turns connection changes into notes on stderr.
func (r *runner) state(s client.State) error {
	switch s.Kind {
	case client.StateDisconnected:
		if !r.o.Follow && s.Dial {
			return s.Err
		}
		now := time.Now()
		if r.down.IsZero() {
			r.down, r.lastNote = now, now
			if r.connected {
				r.note("connection to mpm-wsd lost (%v); reconnecting, will resume after seq %d", s.Err, s.Cursor)
			} else {
				r.note("%v; retrying", s.Err)
			}
		} else if now.Sub(r.lastNote) >= 30*time.Second {
			r.lastNote = now
			r.note("still retrying after %v: %v", now.Sub(r.down).Round(time.Second), s.Err)
		}
	case client.StateConnected:
		if !r.down.IsZero() {
			if r.connected {
				r.note("reconnected to mpm-wsd %s (instance %s), resuming after seq %d", s.Hello.Version, short(s.Hello.Instance), cursorOf(s))
			} else {
				r.note("connected to mpm-wsd %s at %s", s.Hello.Version, r.o.Client.Addr())
			}
		}
		r.connected = true
		r.down = time.Time{}
	case client.StateInstanceChanged:
		if s.Reset {
			r.note("mpm-wsd restarted (instance %s → %s) without a journal: its earlier events are gone and seq starts again; printing the new instance's events", short(s.PrevInstance), short(s.Hello.Instance))
		} else {
			r.note("mpm-wsd restarted (instance %s → %s)", short(s.PrevInstance), short(s.Hello.Instance))
		}
	case client.StateTruncated:
		r.note("the daemon no longer keeps some events after seq %d (retention); continuing from seq %d", cursorOf(s), s.Subscribed.OldestSeq)
	}
	return nil
}

func cursorOf(s client.State) uint64 {
	if s.Subscribed.Since != nil {
		return *s.Subscribed.Since
	}
	return s.Cursor
}

// note writes one line to stderr.
func (r *runner) note(format string, args ...any) {
	fmt.Fprintf(r.o.Stderr, "%s: %s\n", r.o.Name, fmt.Sprintf(format, args...))
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
