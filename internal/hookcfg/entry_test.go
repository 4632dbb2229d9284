package hookcfg

import (
	"reflect"
	"strings"
	"testing"
)

func TestIsOurs(t *testing.T) {
	const self = "/home/me/go/bin/mpm-hook"
	cases := []struct {
		entry string
		want  bool
	}{
		{`{"type":"command","command":"/home/me/go/bin/mpm-hook"}`, true},
		{`{"type":"command","command":"/usr/local/bin/mpm-hook","async":true}`, true},
		{`{"type":"command","command":"mpm-hook"}`, true},
		{`{"type":"command","command":"'/Users/me/Library/Application Support/mpm/mpm-hook'"}`, true},
		{`{"type":"command","command":"\"C:\\Program Files\\mpm\\mpm-hook.exe\""}`, true},
		{`{"type":"command","command":"C:\\tools\\MPM-HOOK.EXE"}`, true},
		{`{"type":"command","command":"MPM_ADDR=127.0.0.1:1 ~/bin/mpm-hook 2>/dev/null"}`, true},
		{`{"type":"command","command":"/opt/x/mpm-hook-helper"}`, false},
		{`{"type":"command","command":"echo mpm-hook"}`, false},
		{`{"type":"command","command":"bash -c /usr/bin/mpm-hook"}`, false},
		{`{"type":"command","command":""}`, false},
		{`{"type":"command","command":42}`, false},
		{`{"type":"http","url":"http://127.0.0.1:8765/v1/events"}`, true},
		{`{"type":"http","url":"http://127.0.0.1:9999/v1/events/"}`, true},
		{`{"type":"http","url":"http://localhost:8765/v1/events"}`, true},
		{`{"type":"http","url":"http://[::1]:8765/v1/events"}`, true},
		{`{"type":"http","url":"http://10.0.0.5:8765/v1/events"}`, false},
		{`{"type":"http","url":"http://127.0.0.1:8765/v1/other"}`, false},
		{`{"type":"http","url":"https://example.com/v1/events"}`, false},
		{`{"type":"prompt","prompt":"mpm-hook"}`, false},
		{`{"command":"mpm-hook"}`, false},
		{`"mpm-hook"`, false},
		{`{"type":"command","command":"/home/me/go/bin/mpm-hook","timeout":"soon"}`, true},
		// Claude Code reads keys exactly: "tYpe" is no type, "Command" no
		// command (found by FuzzInstallUninstall); a duplicate counts last.
		{`{"tYpe":"http","url":"http://127.0.0.0/v1/events"}`, false},
		{`{"type":"command","Command":"mpm-hook"}`, false},
		{`{"TYPE":"command","command":"mpm-hook"}`, false},
		{`{"type":"http","URL":"http://127.0.0.1:8765/v1/events"}`, false},
		{`{"type":"http","type":"command","command":"mpm-hook"}`, true},
		{`{"type":"command","type":"http","command":"mpm-hook"}`, false},
	}
	for _, c := range cases {
		if got := isOurs([]byte(c.entry), self); got != c.want {
			t.Errorf("isOurs(%s) = %v, want %v", c.entry, got, c.want)
		}
	}
}

func TestShellWords(t *testing.T) {
	cases := map[string][]string{
		`/a/b c`:                 {"/a/b", "c"},
		`'/a b/c' d`:             {"/a b/c", "d"},
		`"/a \"b\"/c"`:           {`/a "b"/c`},
		`/a\ b/c`:                {"/a b/c"},
		`X=1 Y=2 /bin/x; rm -rf`: {"X=1", "Y=2", "/bin/x"},
		`  `:                     nil,
		`a|b`:                    {"a"},
		`a # comment`:            {"a"},
	}
	for in, want := range cases {
		if got := shellWords(in); !reflect.DeepEqual(got, want) {
			t.Errorf("shellWords(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShellQuoteRoundTrip(t *testing.T) {
	for _, p := range []string{"/usr/bin/mpm-hook", "/Users/me/Library/Application Support/mpm-hook", `C:\Program Files\mpm\mpm-hook.exe`, "/tmp/it's/mpm-hook"} {
		q := shellQuote(p)
		if got := commandExecutable(q); got != p {
			t.Errorf("shellQuote(%q) = %q reads back as %q", p, q, got)
		}
		if !isOurCommand(q, "") {
			t.Errorf("quoted %q not recognised as ours", q)
		}
	}
	if shellQuote("/usr/bin/mpm-hook") != "/usr/bin/mpm-hook" {
		t.Error("a plain path was quoted")
	}
}

func TestParseEvents(t *testing.T) {
	specs, err := ParseEvents("")
	if err != nil || len(specs) != len(Events) {
		t.Fatalf("defaults: %v %v", specs, err)
	}
	specs, err = ParseEvents("stop, PreToolUse,Stop")
	if err != nil || len(specs) != 2 || specs[0].Name != "PreToolUse" || specs[1].Name != "Stop" {
		t.Errorf("got %v %v", specs, err)
	}
	for _, bad := range []string{"WorktreeCreate", "messagedisplay", "Nope", ","} {
		if _, err := ParseEvents(bad); err == nil {
			t.Errorf("ParseEvents(%q) accepted", bad)
		}
	}
	for _, e := range Events {
		if _, bad := Forbidden[e.Name]; bad {
			t.Errorf("forbidden event %s in the table", e.Name)
		}
		if (e.Name == "SessionStart" || e.Name == "Setup") && e.HTTP {
			t.Errorf("%s marked as accepting http", e.Name)
		}
		if e.Name == "SessionEnd" && e.Timeout >= 2 {
			t.Errorf("SessionEnd timeout %d exceeds its 1.5 s budget", e.Timeout)
		}
	}
}

func TestUnifiedDiff(t *testing.T) {
	a := []byte("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n")
	b := []byte("1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n11\n")
	d := UnifiedDiff("a", "b", a, b)
	for _, want := range []string{"--- a\n+++ b\n", "-5\n+five\n", "+11\n", " 4\n"} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}
	if strings.Contains(d, " 1\n") {
		t.Errorf("diff shows more than 3 lines of context:\n%s", d)
	}
	if UnifiedDiff("a", "b", a, a) != "" {
		t.Error("diff of equal inputs")
	}
}

func TestParseErrorPosition(t *testing.T) {
	_, err := loadDoc([]byte("{\n  \"a\": 1\n  \"b\": 2\n}"))
	pe, ok := err.(*ParseError)
	if !ok || pe.Line != 3 || pe.Column != 3 {
		t.Fatalf("got %#v", err)
	}
	_, err = loadDoc([]byte("{\n  \"a\": [1, 2"))
	pe, ok = err.(*ParseError)
	if !ok || pe.Line != 2 {
		t.Fatalf("truncated: got %#v", err)
	}
}

func TestDetectIndentKept(t *testing.T) {
	src := "{\n\t\"model\": \"opus\"\n}\n"
	res, err := Install([]byte(src), Plan{Mode: ModeCommand, Events: Events[:1], Target: Target{Executable: "/x/mpm-hook"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(res.After), "{\n\t\"model\": \"opus\",\n\t\"hooks\": {\n\t\t") {
		t.Errorf("tab indent not kept:\n%s", res.After)
	}
}
