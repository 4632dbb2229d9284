package monitor

import (
	"hash/fnv"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mpm-dev/mpm/internal/gist"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/protocol/codec"
)

// Format turns events into output lines.
type Format struct {
	// JSON writes the wire record (NDJSON) instead of a human line.
	JSON bool
	// Color adds ANSI colours to human lines.
	Color bool
	// Width is the terminal width in columns; 0: unknown (summaries are
	// then cut at DefaultSummaryWidth).
	Width int
	// Location is the time zone of human times; nil: local.
	Location *time.Location
}

// DefaultSummaryWidth bounds a summary when the terminal width is unknown.
const DefaultSummaryWidth = 120

// maxOriginWidth bounds the origin shown before the session (fleet hub).
const maxOriginWidth = 16

// minSummaryWidth keeps some summary on narrow terminals.
const minSummaryWidth = 20

// ANSI colours.
const (
	reset  = "\x1b[0m"
	dim    = "\x1b[2m"
	bold   = "\x1b[1m"
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	blue   = "\x1b[34m"
	purple = "\x1b[35m"
	cyan   = "\x1b[36m"
)

// sessionColors is the session palette shared with the dashboard
// (docs/protocol.md, "Session colours"): no red, which reads as an error.
var sessionColors = []string{"\x1b[34m", "\x1b[32m", "\x1b[33m", "\x1b[35m", "\x1b[36m", "\x1b[94m"}

// Line returns ev's output line, with its newline.
func (f *Format) Line(ev *protocol.Event) []byte {
	if f.JSON {
		return append(append([]byte(nil), codec.EventLine(ev)...), '\n')
	}
	loc := f.Location
	if loc == nil {
		loc = time.Local
	}
	ts := ev.Received.In(loc).Format("15:04:05.000")
	sess := cut(gist.Clean(ev.SessionID, len(ev.SessionID)+1), 8)
	// A fleet hub's events show "origin/session"; local ones just the
	// session, so single-machine lines are unchanged.
	origin := ""
	sessWidth := 8
	if ev.Origin != "" {
		origin = gist.Clean(ev.Origin, maxOriginWidth)
		sessWidth += utf8.RuneCountInString(origin) + 1
	}
	name := gist.Clean(ev.Event, 24)
	tool := gist.Clean(ev.Tool, 32)
	seq := "#" + strconv.FormatUint(ev.Seq, 10)
	if ev.Seq == 0 {
		seq = "probe"
	}
	// time(12) sp [origin/]session(8) sp event(18) sp tool(12) sp summary sp seq
	prefix := 12 + 1 + sessWidth + 1 + max(18, len(name)) + 1 + max(12, len(tool)) + 1
	width := DefaultSummaryWidth
	if f.Width > 0 {
		width = max(minSummaryWidth, f.Width-prefix-1-len(seq))
	}
	sum := gist.Summarize(ev.Event, ev.Tool, ev.Payload, width)

	var b strings.Builder
	b.Grow(prefix + len(sum.Text) + 64)
	f.paint(&b, dim, ts)
	b.WriteByte(' ')
	if origin != "" {
		f.paint(&b, sessionColor(ev.Origin), origin)
		f.paint(&b, dim, "/")
	}
	f.paint(&b, sessionColor(ev.SessionID), pad(sess, 8))
	b.WriteByte(' ')
	f.paint(&b, eventColor(ev.Event, sum.Failed), pad(name, 18))
	b.WriteByte(' ')
	f.paint(&b, bold, pad(tool, 12))
	b.WriteByte(' ')
	if sum.Failed {
		f.paint(&b, red, sum.Text)
	} else {
		b.WriteString(sum.Text)
	}
	b.WriteByte(' ')
	f.paint(&b, dim, seq)
	b.WriteByte('\n')
	return []byte(b.String())
}

// paint writes s in colour c when colours are on.
func (f *Format) paint(b *strings.Builder, c, s string) {
	if f.Color && c != "" && s != "" {
		b.WriteString(c)
		b.WriteString(s)
		b.WriteString(reset)
		return
	}
	b.WriteString(s)
}

// cut returns the first n runes of s.
func cut(s string, n int) string {
	i := 0
	for k := range s {
		if i == n {
			return s[:k]
		}
		i++
	}
	return s
}

// pad right-pads s with spaces to n runes.
func pad(s string, n int) string {
	if k := len([]rune(s)); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}

// sessionColor is id's colour: palette index = FNV-1a (32 bits) of the
// full session id, mod the palette's size; the same in every run and in
// the dashboard.
func sessionColor(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return sessionColors[h.Sum32()%uint32(len(sessionColors))]
}

func eventColor(name string, failed bool) string {
	if failed {
		return red
	}
	switch name {
	case "PreToolUse", "PermissionRequest":
		return cyan
	case "PostToolUse":
		return green
	case "PostToolUseFailure":
		return red
	case "UserPromptSubmit":
		return bold + yellow
	case "Notification":
		return yellow
	case "SessionStart", "SessionEnd":
		return purple
	case "Stop", "SubagentStop":
		return blue
	}
	return ""
}
