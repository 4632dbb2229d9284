package gist

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		event, tool, payload string
		want                 string
		failed               bool
	}{
		{"UserPromptSubmit", "", `{"prompt":"  fix\n\tthe   build  "}`, "fix the build", false},
		{"PreToolUse", "Bash", `{"tool_input":{"command":"ls -la\nwc -l","description":"list"}}`, "ls -la wc -l", false},
		{"PreToolUse", "Read", `{"tool_input":{"file_path":"/a/b.go","offset":3}}`, "/a/b.go", false},
		{"PreToolUse", "Grep", `{"tool_input":{"pattern":"func main","path":"cmd"}}`, "func main cmd", false},
		{"PreToolUse", "TodoWrite", `{"tool_input":{"todos":[{},{},{}]}}`, "3 todos", false},
		{"PreToolUse", "mcp__gh__search", `{"tool_input":{"query":"is:open","limit":5}}`, "is:open", false},
		{"PreToolUse", "Other", `{"tool_input":{"zeta":"z","alpha":"a"}}`, "alpha=a zeta=z", false},
		{"PostToolUse", "Bash", `{"tool_input":{"command":"make"},"tool_response":{"stdout":"ok","interrupted":false}}`, "make", false},
		{"PostToolUse", "Bash", `{"tool_input":{"command":"make"},"tool_response":{"stderr":"no rule","is_error":true}}`, "make → error no rule", true},
		{"PostToolUse", "Bash", `{"tool_input":{"command":"sleep 9"},"tool_response":{"interrupted":true}}`, "sleep 9 → error interrupted", true},
		{"PostToolUse", "Read", `{"tool_input":{"file_path":"/x"},"tool_response":"plain text"}`, "/x", false},
		{"PostToolUseFailure", "Edit", `{"tool_input":{"file_path":"/x"},"error":"old_string not found"}`, "/x → error old_string not found", true},
		{"Notification", "", `{"message":"Claude needs your permission to use Bash"}`, "Claude needs your permission to use Bash", false},
		{"SessionStart", "", `{"source":"resume"}`, "resume", false},
		{"SessionEnd", "", `{"reason":"logout"}`, "logout", false},
		{"Stop", "", `{"session_id":"s","stop_hook_active":false}`, "", false},
		{"Stop", "", `{"session_id":"s","cwd":"/x","last_assistant_message":"done"}`, "last_assistant_message=done", false},
		{"MpmApprovalDecision", "Bash", `{"approval_id":"ab12-3","outcome":"deny","message":"not now","by":"monitor 127.0.0.1:5000"}`, `deny by monitor 127.0.0.1:5000 "not now"`, false},
		{"MpmApprovalDecision", "Bash", `{"approval_id":"ab12-4","outcome":"answered_elsewhere","by":"terminal"}`, "answered elsewhere by terminal", false},
		{"Weird", "", `not json`, "", false},
		{"UserPromptSubmit", "", `{"prompt":"red \u001b[31mALERT\u001b[0m \u202eevil"}`, "red [31mALERT[0m evil", false},
	} {
		got := Summarize(tc.event, tc.tool, []byte(tc.payload), 200)
		if got.Text != tc.want || got.Failed != tc.failed {
			t.Errorf("%s %s %s: got %q failed=%v, want %q failed=%v", tc.event, tc.tool, tc.payload, got.Text, got.Failed, tc.want, tc.failed)
		}
	}
}

func TestClean(t *testing.T) {
	for _, tc := range []struct {
		in    string
		width int
		want  string
	}{
		{"hello world", 20, "hello world"},
		{"hello world", 11, "hello world"},
		{"hello world", 10, "hello wor…"},
		{"hello world", 6, "hello…"},
		{"hello world", 1, "…"},
		{"ab", 1, "…"},
		{"a", 1, "a"},
		{"a  \n\n  ", 5, "a"},
		{"  \n a\r\nb ", 5, "a b"},
		{"日本語のテキスト", 4, "日本語…"},
		{"bad \xff byte", 20, "bad \uFFFD byte"},
		{"", 5, ""},
	} {
		if got := Clean(tc.in, tc.width); got != tc.want {
			t.Errorf("Clean(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
	}
}

// FuzzSummarize: any payload gives one clean line of bounded width, and
// never a panic.
func FuzzSummarize(f *testing.F) {
	f.Add("PreToolUse", "Bash", []byte(`{"tool_input":{"command":"ls"}}`), 40)
	f.Add("PostToolUse", "Bash", []byte(`{"tool_input":{"command":"x"},"tool_response":{"is_error":true,"content":[{"type":"text","text":"boom"}]}}`), 10)
	f.Add("PostToolUseFailure", "", []byte(`{"error":{"code":1}}`), 1)
	f.Add("UserPromptSubmit", "", []byte("{\"prompt\":\"a\\u0000\\u001b[2J\\n\\u2028b\"}"), 3)
	f.Add("X", "", []byte(`[1,"a",{"b":"c"}]`), 0)
	f.Add("PreToolUse", "TodoWrite", []byte(`{"tool_input":{"todos":"x"}}`), 7)
	f.Fuzz(func(t *testing.T, event, tool string, payload []byte, width int) {
		if width > 1000 || width < -5 {
			width %= 1000
		}
		s := Summarize(event, tool, payload, width)
		w := max(width, 1)
		checkLine(t, s.Text, w)
	})
}

func checkLine(t *testing.T, s string, width int) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("invalid UTF-8: %q", s)
	}
	if n := utf8.RuneCountInString(s); n > width {
		t.Fatalf("%d runes, width %d: %q", n, width, s)
	}
	for _, r := range s {
		if r != ' ' && (unicode.IsSpace(r) || !unicode.IsPrint(r) || unicode.Is(unicode.Cf, r)) {
			t.Fatalf("rune %U in %q", r, s)
		}
	}
	if strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") || strings.Contains(s, "  ") {
		t.Fatalf("untidy spaces: %q", s)
	}
}

func TestProject(t *testing.T) {
	for in, want := range map[string]string{"/home/a/proj": "proj", "/home/a/proj/": "proj", `C:\Users\a\proj`: "proj", "": "(unknown project)", "/": "/"} {
		if got := Project(in); got != want {
			t.Errorf("Project(%q) = %q, want %q", in, got, want)
		}
	}
}
