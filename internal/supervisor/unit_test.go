package supervisor

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mpm-dev/mpm/internal/protocol"
)

func TestParseLogLine(t *testing.T) {
	lvl, msg, args := parseLogLine(`{"@level":"warn","@message":"slow client","@module":"mpm-wsd.hub","@timestamp":"x","client":"c1","queued":12}`)
	if lvl != hclog.Warn || msg != "slow client" {
		t.Fatalf("got %v %q", lvl, msg)
	}
	want := []any{"module", "mpm-wsd.hub", "client", "c1", "queued", float64(12)}
	if len(args) != len(want) {
		t.Fatalf("args %v, want %v", args, want)
	}
	for i := range want {
		if args[i] != want[i] {
			t.Fatalf("args %v, want %v", args, want)
		}
	}
	for _, plain := range []string{"panic: boom", `{"no":"message"}`, "{broken", ""} {
		if lvl, msg, _ := parseLogLine(plain); lvl != hclog.NoLevel || msg != plain {
			t.Errorf("parseLogLine(%q) = %v %q, want plain", plain, lvl, msg)
		}
	}
	if lvl, _, _ := parseLogLine(`{"@level":"bogus","@message":"m"}`); lvl != hclog.Info {
		t.Errorf("unknown level not mapped to info: %v", lvl)
	}
}

func FuzzParseLogLine(f *testing.F) {
	f.Add(`{"@level":"error","@message":"x","k":[1,2]}`)
	f.Add("plain text")
	f.Fuzz(func(t *testing.T, line string) {
		lvl, msg, args := parseLogLine(line)
		if lvl == hclog.NoLevel && msg != line {
			t.Fatalf("plain line changed: %q -> %q", line, msg)
		}
		if len(args)%2 != 0 {
			t.Fatalf("odd args %v", args)
		}
	})
}

func TestLogWriterSplitsLinesAndLevels(t *testing.T) {
	var out bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Name: "m", Level: hclog.Trace, Output: &out})
	w := &logWriter{log: log.Named("wsd"), stream: "stderr"}
	w.Write([]byte(`{"@level":"error","@message":"disk full"}` + "\nhalf a "))
	w.Write([]byte("line\n\n"))
	w.Write([]byte(strings.Repeat("x", maxLogLine+10)))
	w.Flush()
	s := out.String()
	if !strings.Contains(s, "[ERROR] m.wsd: disk full") || !strings.Contains(s, "[INFO]  m.wsd: half a line: stream=stderr") {
		t.Fatalf("log output:\n%s", s)
	}
	if n := strings.Count(s, "\n"); n != 4 {
		t.Fatalf("%d lines logged, want 4 (the long line in two pieces):\n%.300s", n, s)
	}
}

func TestJudgeHealth(t *testing.T) {
	ok := protocol.Health{OK: true, Service: "mpm-wsd", Pid: 7}
	if err := judgeHealth(ok, 200, 7); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		h    protocol.Health
		code int
		want string
	}{
		"stranger":  {protocol.Health{OK: true, Service: "other", Pid: 7}, 200, "not from mpm-wsd"},
		"other pid": {protocol.Health{OK: true, Service: "mpm-wsd", Pid: 8}, 200, "not from our child pid 7"},
		"stuck hub": {protocol.Health{OK: false, Service: "mpm-wsd", Pid: 7}, 503, "not healthy"},
	} {
		if err := judgeHealth(c.h, c.code, 7); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

func TestBackoffDoublesCapsAndResets(t *testing.T) {
	b := backoff{min: 100 * time.Millisecond, max: time.Second}
	for i := 0; i < 10; i++ {
		base := min(100*time.Millisecond<<i, time.Second)
		if d := b.next(); d < base*8/10 || d > base {
			t.Fatalf("step %d: %v outside [%v, %v]", i, d, base*8/10, base)
		}
	}
	b.reset()
	if d := b.next(); d > 120*time.Millisecond {
		t.Fatalf("after reset %v, want about 100ms", d)
	}
}

func TestOptionsValidate(t *testing.T) {
	if _, err := New(Options{Addr: "127.0.0.1:1", DataDir: "/tmp"}); err == nil {
		t.Error("missing --wsd accepted")
	}
	if _, err := New(Options{WSDPath: "x", Addr: "127.0.0.1:1", DataDir: "/tmp", BackoffMin: time.Minute, BackoffMax: time.Second}); err == nil {
		t.Error("backoff-max below backoff-min accepted")
	}
	o, err := Options{WSDPath: "x", Addr: "a", DataDir: "d", LogLevel: "debug", WSDArgs: []string{"--history=5"}}.withDefaults()
	if err != nil || o.HealthInterval != 30*time.Second {
		t.Fatalf("defaults: %+v %v", o, err)
	}
	if got := strings.Join(o.ChildArgs(), " "); got != "--addr a --data-dir d --log-json --log-level debug --history=5" {
		t.Errorf("child args %q", got)
	}
}
