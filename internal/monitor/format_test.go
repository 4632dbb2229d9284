package monitor

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mpm-dev/mpm/internal/protocol"
)

func TestFilter(t *testing.T) {
	f := Filter{Sessions: []string{"ab"}, Events: []string{"pretooluse"}, Tools: []string{"mcp__gh__*", "Bash"}}
	for _, tc := range []struct {
		ev   protocol.Event
		want bool
	}{
		{protocol.Event{SessionID: "abc", Event: "PreToolUse", Tool: "bash"}, true},
		{protocol.Event{SessionID: "abc", Event: "PreToolUse", Tool: "mcp__GH__search"}, true},
		{protocol.Event{SessionID: "abc", Event: "PreToolUse", Tool: "mcp__gl__x"}, false},
		{protocol.Event{SessionID: "xab", Event: "PreToolUse", Tool: "Bash"}, false},
		{protocol.Event{SessionID: "abc", Event: "PostToolUse", Tool: "Bash"}, false},
		{protocol.Event{SessionID: "abc", Event: "PreToolUse"}, false},
	} {
		if got := f.Match(&tc.ev); got != tc.want {
			t.Errorf("%+v: %v", tc.ev, got)
		}
	}
	if got := (&Filter{Sessions: []string{"abc", "def"}}).ServerSessions([]string{"abc", "def", "x"}); len(got) != 2 {
		t.Errorf("all known ids: %v", got)
	}
	if got := (&Filter{Sessions: []string{"abc", "de"}}).ServerSessions([]string{"abc", "def"}); got != nil {
		t.Errorf("a prefix: %v", got)
	}
	of := Filter{Origins: []string{"LAPTOP", "ci-runner-7"}}
	for _, tc := range []struct {
		origin string
		want   bool
	}{
		{"laptop-a", true}, {"Laptop", true}, {"ci-runner-7", true}, {"ci-runner-", false}, {"desk", false}, {"", false},
	} {
		if got := of.Match(&protocol.Event{SessionID: "s", Event: "Stop", Origin: tc.origin}); got != tc.want {
			t.Errorf("origin %q: %v, want %v", tc.origin, got, tc.want)
		}
	}
	if !of.ClientSide([]string{"s"}) {
		t.Error("an origin filter is applied here: ClientSide must be true")
	}
}

func TestFormatLineWidth(t *testing.T) {
	ev := protocol.Event{Seq: 123456, Received: time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC), SessionID: "0123456789abcdef",
		Event: "PreToolUse", Tool: "Bash", Payload: []byte(`{"tool_input":{"command":"` + strings.Repeat("x ", 500) + `"}}`)}
	f := Format{Width: 100, Location: time.UTC}
	line := string(f.Line(&ev))
	if !strings.HasPrefix(line, "03:04:05.678 01234567 PreToolUse") || !strings.HasSuffix(line, " #123456\n") {
		t.Fatalf("line %q", line)
	}
	if n := utf8.RuneCountInString(strings.TrimSuffix(line, "\n")); n > 100 {
		t.Fatalf("line is %d runes on a 100-column terminal: %q", n, line)
	}
	ev.Raw = []byte("{\"seq\":1,\n\"payload\":{\"a\":\n1}}")
	if got := string((&Format{JSON: true}).Line(&ev)); got != `{"seq":1,"payload":{"a":1}}`+"\n" {
		t.Fatalf("JSON line %q", got)
	}
}

func TestFormatLineOrigin(t *testing.T) {
	ev := protocol.Event{Seq: 7, Received: time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC), SessionID: "0123456789abcdef",
		Event: "PreToolUse", Tool: "Bash", Payload: []byte(`{"tool_input":{"command":"ls"}}`)}
	f := Format{Location: time.UTC}
	local := string(f.Line(&ev))
	if want := "03:04:05.678 01234567 PreToolUse         Bash         ls #7\n"; local != want {
		t.Fatalf("local line %q, want %q", local, want)
	}
	ev.Origin, ev.OriginSeq = "laptop-a", 3
	if got, want := string(f.Line(&ev)), "03:04:05.678 laptop-a/01234567 PreToolUse         Bash         ls #7\n"; got != want {
		t.Fatalf("fleet line %q, want %q", got, want)
	}
	// A hostile or long origin is cleaned and cut; the line stays one line
	// within the terminal's width.
	ev.Origin = "evil\x1b[2J\nname-that-goes-on-and-on"
	ev.Payload = []byte(`{"tool_input":{"command":"` + strings.Repeat("y ", 100) + `"}}`)
	f.Width = 100
	line := strings.TrimSuffix(string(f.Line(&ev)), "\n")
	if strings.ContainsAny(line, "\x1b\n") || !strings.Contains(line, " evil[2J name-th…/01234567 ") {
		t.Fatalf("hostile origin: %q", line)
	}
	if n := utf8.RuneCountInString(line); n > 100 {
		t.Fatalf("%d runes on a 100-column terminal: %q", n, line)
	}
	f.Color = true
	if line := string(f.Line(&ev)); !strings.Contains(line, dim+"/"+reset) {
		t.Fatalf("coloured fleet line %q", line)
	}
}

// FuzzFormatLine: any event gives one valid human line.
func FuzzFormatLine(f *testing.F) {
	f.Add("PreToolUse", "Bash", []byte(`{"tool_input":{"command":"ls\n-la"}}`), 40)
	f.Add("UserPromptSubmit", "", []byte("{\"prompt\":\"a\\u0000\\u001b[2J\\n\\u2028b\"}"), 3)
	f.Fuzz(func(t *testing.T, event, tool string, payload []byte, width int) {
		if width > 1000 || width < -5 {
			width %= 1000
		}
		ev := protocol.Event{Seq: 1, SessionID: string(payload), Event: event, Tool: tool, Payload: payload, Origin: tool}
		line := (&Format{Width: width, Color: width%2 == 0}).Line(&ev)
		body := strings.TrimSuffix(string(line), "\n")
		if strings.ContainsAny(body, "\n\r") || !utf8.ValidString(body) {
			t.Fatalf("human line is not one valid line: %q", line)
		}
	})
}

// TestSessionColors pins the rule shared with the dashboard
// (docs/protocol.md, "Session colours"): FNV-1a 32 of the full id, mod 6,
// into blue, green, yellow, magenta, cyan, bright blue; never red. The
// expected values were computed independently of the Go code.
func TestSessionColors(t *testing.T) {
	for _, c := range []struct {
		id   string
		want string
	}{
		{"aaaa1111-0000-4000-8000-000000000001", "\x1b[34m"}, // fnv 3205353882 % 6 = 0
		{"bbbb2222-0000-4000-8000-000000000002", "\x1b[35m"}, // 2052330543 % 6 = 3
		{"4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a5b", "\x1b[36m"}, // 382025926 % 6 = 4
		{"s2", "\x1b[34m"}, // 89240592 % 6 = 0
		{"s3", "\x1b[94m"}, // 106018211 % 6 = 5
		{"", "\x1b[32m"},   // 2166136261 % 6 = 1
	} {
		if got := sessionColor(c.id); got != c.want {
			t.Errorf("sessionColor(%q) = %q, want %q", c.id, got, c.want)
		}
	}
	for _, c := range sessionColors {
		if c == red || c == "\x1b[91m" {
			t.Errorf("red in the session palette")
		}
	}
}
