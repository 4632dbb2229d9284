package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/testutil"
)

const (
	sessA = "aaaa1111-0000-4000-8000-000000000001"
	sessB = "bbbb2222-0000-4000-8000-000000000002"
)

// seed posts 10 events: seq 1..10.
func seed(t *testing.T, d *testutil.Daemon) {
	c := newClient(t, d)
	bodies := []string{
		ev(sessA, "SessionStart", "", 1, `,"source":"startup"`),
		ev(sessA, "UserPromptSubmit", "", 2, `,"prompt":"fix the\nbuild please"`),
		ev(sessA, "PreToolUse", "Bash", 3, `,"tool_input":{"command":"go build ./..."}`),
		ev(sessB, "PreToolUse", "Read", 4, `,"tool_input":{"file_path":"/src/main.go"}`),
		ev(sessA, "PostToolUse", "Bash", 5, `,"tool_input":{"command":"go build ./..."},"tool_response":{"stdout":"","stderr":"boom","interrupted":false,"is_error":true}`),
		ev(sessB, "PostToolUse", "Read", 6, `,"tool_input":{"file_path":"/src/main.go"},"tool_response":{"type":"text"}`),
		ev(sessA, "PreToolUse", "Edit", 7, `,"tool_input":{"file_path":"/src/a.go"}`),
		ev(sessB, "Notification", "", 8, `,"message":"Claude needs your permission"`),
		ev(sessA, "PreToolUse", "Bash", 9, `,"tool_input":{"command":"go test ./..."}`),
		ev(sessA, "Stop", "", 10, ``),
	}
	for _, b := range bodies {
		post(t, c, b)
	}
}

func TestHistoryFilters(t *testing.T) {
	d := testutil.StartDaemon(t)
	seed(t, d)
	for _, tc := range []struct {
		name string
		args []string
		want []uint64
	}{
		{"all", nil, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"session prefix", []string{"--session", "aaaa"}, []uint64{1, 2, 3, 5, 7, 9, 10}},
		{"session full id", []string{"--session", sessB}, []uint64{4, 6, 8}},
		{"two sessions, comma", []string{"--session", "bbbb," + sessA[:6]}, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"unknown session", []string{"--session", "cccc"}, nil},
		{"event", []string{"--event", "pretooluse"}, []uint64{3, 4, 7, 9}},
		{"events repeated", []string{"--event", "Stop", "--event", "Notification"}, []uint64{8, 10}},
		{"tool", []string{"--tool", "bash"}, []uint64{3, 5, 9}},
		{"tool list", []string{"--tool", "Read,Edit"}, []uint64{4, 6, 7}},
		{"tool and event", []string{"--tool", "Bash", "--event", "PreToolUse"}, []uint64{3, 9}},
		{"last", []string{"--last", "3"}, []uint64{8, 9, 10}},
		{"last with filter", []string{"--last", "2", "--tool", "Bash"}, []uint64{5, 9}},
		{"last with session", []string{"--last", "2", "--session", sessB}, []uint64{6, 8}},
		{"since", []string{"--since", "7"}, []uint64{8, 9, 10}},
		{"since and last", []string{"--since", "2", "--last", "2", "--event", "PreToolUse"}, []uint64{7, 9}},
		{"count", []string{"--count", "2"}, []uint64{1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runMon(t, d, append([]string{"--no-follow", "--json"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr: %s", code, errOut)
			}
			if got := seqsOf(parse(t, out)); !slices.Equal(got, tc.want) {
				t.Fatalf("seqs %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHumanLines(t *testing.T) {
	d := testutil.StartDaemon(t)
	seed(t, d)
	out, errOut, code := runMon(t, d, "--no-follow")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 10 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	if strings.Contains(out, "\x1b[") {
		t.Fatalf("colours when piped:\n%q", out)
	}
	for i, want := range []string{
		"aaaa1111 SessionStart       startup #1",
		"aaaa1111 UserPromptSubmit   fix the build please #2",
		"aaaa1111 PreToolUse         Bash         go build ./... #3",
		"bbbb2222 PreToolUse         Read         /src/main.go #4",
		"aaaa1111 PostToolUse        Bash         go build ./... → error boom #5",
		"bbbb2222 Notification       Claude needs your permission #8",
	} {
		idx := []int{0, 1, 2, 3, 4, 7}[i]
		line := lines[idx]
		// The 12-character time, then the rest with padded columns
		// (collapsing the padding of empty tool columns).
		if _, err := time.Parse("15:04:05.000", line[:12]); err != nil {
			t.Fatalf("line %q does not start with a time: %v", line, err)
		}
		got := strings.Join(strings.Fields(line[13:]), " ")
		if got != strings.Join(strings.Fields(want), " ") {
			t.Errorf("line %d: %q, want %q", idx+1, got, want)
		}
	}
	out, _, _ = runMon(t, d, "--no-follow", "--color", "always", "--last", "1")
	if !strings.Contains(out, "\x1b[") {
		t.Fatalf("--color always without colours: %q", out)
	}
	out, _, _ = runMon(t, d, "--no-follow", "--color", "always", "--json", "--last", "1")
	if strings.Contains(out, "\x1b[") {
		t.Fatalf("colours in JSON: %q", out)
	}
}

func TestFollowLiveAndCount(t *testing.T) {
	d := testutil.StartDaemon(t)
	seed(t, d)
	m := start(t, d, "--json", "--count", "3", "--since", "10", "--event", "UserPromptSubmit")
	c := newClient(t, d)
	post(t, c, ev(sessA, "PreToolUse", "Bash", 11, `,"tool_input":{"command":"ls"}`))
	for i := 12; i <= 16; i++ {
		post(t, c, ev(sessA, "UserPromptSubmit", "", i, `,"prompt":"p"`))
	}
	out, errOut, code := m.wait(t)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got := seqsOf(parse(t, out)); !slices.Equal(got, []uint64{12, 13, 14}) {
		t.Fatalf("seqs %v", got)
	}
}

func TestFollowPicksUpNewSessionByPrefix(t *testing.T) {
	d := testutil.StartDaemon(t)
	seed(t, d)
	m := start(t, d, "--json", "--since", "10", "--session", "cccc", "--count", "1")
	c := newClient(t, d)
	post(t, c, ev(sessA, "Stop", "", 11, ""))
	post(t, c, ev("cccc3333-new", "SessionStart", "", 12, ""))
	out, errOut, code := m.wait(t)
	if code != 0 || !slices.Equal(seqsOf(parse(t, out)), []uint64{12}) {
		t.Fatalf("exit %d, out %q, stderr %s", code, out, errOut)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--since", "x"}, {"--last", "-1"}, {"--count", "-2"}, {"--color", "sometimes"}, {"extra"}, {"--nope"}, {"--addr", "noport"},
	} {
		_, errOut, code := runMon(t, nil, args...)
		if code != 2 || !strings.Contains(errOut, "mpm-monitor") && !strings.Contains(errOut, "Usage") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	out, _, code := runMon(t, nil, "--help")
	_ = out
	if code != 0 {
		t.Errorf("--help: exit %d", code)
	}
}

func TestNoFollowUnreachable(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/token", []byte(strings.Repeat("a", 64)), 0o600)
	_, errOut, code := runMon(t, nil, "--addr", testutil.FreeAddr(t), "--data-dir", dir, "--no-follow")
	if code != 1 || !strings.Contains(errOut, "cannot reach mpm-wsd") || !strings.Contains(errOut, "mpm-manager") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestNoFollowWrongToken(t *testing.T) {
	d := testutil.StartDaemon(t)
	_, errOut, code := runMon(t, nil, "--addr", d.Addr, "--token", strings.Repeat("0", 64), "--no-follow")
	if code != 1 || !strings.Contains(errOut, "401") || !strings.Contains(errOut, "--data-dir") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestFollowWaitsForDaemon(t *testing.T) {
	d := testutil.StartDaemon(t)
	d.Stop()
	m := start(t, d, "--json", "--since", "0", "--count", "1")
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(m.stderr.String(), "retrying") {
		if time.Now().After(deadline) {
			t.Fatalf("no retry note; stderr %q", m.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.Start()
	post(t, newClient(t, d), ev(sessA, "Stop", "", 1, ""))
	out, errOut, code := m.wait(t)
	if code != 0 || len(parse(t, out)) != 1 || !strings.Contains(errOut, "connected") {
		t.Fatalf("exit %d, out %q, stderr %q", code, out, errOut)
	}
}

func TestBrokenPipeIsQuiet(t *testing.T) {
	d := testutil.StartDaemon(t)
	c := newClient(t, d)
	big := strings.Repeat("y", 1000)
	for i := 1; i <= 300; i++ {
		post(t, c, ev(sessA, "PreToolUse", "Bash", i, `,"tool_input":{"command":"`+big+`"}`))
	}
	for _, args := range [][]string{{"--no-follow", "--json"}, {"--since", "0"}} {
		// Like `mpm-monitor | head -1`: 300 KB of history against a 64 KB pipe.
		cmd := exec.Command(testutil.Binary(t, "mpm-monitor"), append([]string{"--addr", d.Addr, "--data-dir", d.DataDir}, args...)...)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr testutil.SyncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		stdout.Close()
		// A follower notices at its next write, like tail -f | head.
		post(t, c, ev(sessA, "Stop", "", 0, ""))
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("%v: did not exit after its reader went away", args)
		}
		// Nothing on stderr but the start-up line saying what it follows.
		errOut := regexp.MustCompile(`(?m)^mpm-monitor: following .*\n`).ReplaceAllString(stderr.String(), "")
		if code := cmd.ProcessState.ExitCode(); code != 0 || errOut != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, stderr.String())
		}
	}
}

func TestInterruptExitsZero(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT to a child on Windows")
	}
	d := testutil.StartDaemon(t)
	seed(t, d)
	m := start(t, d, "--since", "0")
	m.waitLines(t, 10, 30*time.Second)
	m.cmd.Process.Signal(syscall.SIGINT)
	_, errOut, code := m.wait(t)
	if code != 0 {
		t.Fatalf("exit %d after SIGINT, stderr %q", code, errOut)
	}
}

// lineSeqs returns the #seq of each human line.
func lineSeqs(out string) []string {
	var s []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if i := strings.LastIndex(line, " #"); i >= 0 {
			s = append(s, line[i+2:])
		}
	}
	return s
}

// TestDefaultsToTheLastTen: like tail -f, mpm-monitor with no flags prints
// the last 10 events and follows; -n 0 prints only live ones; -n N the
// last N. A start-up line on stderr says what it follows.
func TestDefaultsToTheLastTen(t *testing.T) {
	d := testutil.StartDaemon(t)
	seed(t, d)
	seed(t, d) // seq 1..20
	for i, tc := range []struct {
		args []string
		n    int // events of the history printed
	}{
		{nil, 10},
		{[]string{"-n", "3"}, 3},
		{[]string{"--last", "2"}, 2},
		{[]string{"-n", "0"}, 0},
	} {
		last := 20 + i // each case posts one live event
		var want []string
		for s := last - tc.n + 1; s <= last+1; s++ {
			want = append(want, fmt.Sprint(s))
		}
		m := start(t, d, append(tc.args, "--count", fmt.Sprint(len(want)))...)
		// The live event goes out once the start-up line says it follows.
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(m.stderr.String(), "following") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond) // polling for the line, not ordering
		}
		if got, want := m.stderr.String(), fmt.Sprintf("mpm-monitor: following 2 sessions from seq %d\n", last); got != want {
			t.Errorf("%v: stderr %q, want %q", tc.args, got, want)
		}
		post(t, newClient(t, d), ev(sessB, "Stop", "", last+1, ""))
		out, _, code := m.wait(t)
		if got := strings.Join(lineSeqs(out), " "); got != strings.Join(want, " ") || code != 0 {
			t.Errorf("%v: seqs %q exit %d, want %q", tc.args, got, code, strings.Join(want, " "))
		}
	}
}

// TestNoSessionMatches: --session with no such session says so on stderr
// instead of waiting silently.
func TestNoSessionMatches(t *testing.T) {
	d := testutil.StartDaemon(t)
	seed(t, d)
	_, errOut, code := runMon(t, d, "--session", "nosuch", "--no-follow")
	if code != 0 || errOut != "mpm-monitor: no session matches nosuch\n" {
		t.Errorf("--no-follow: exit %d, stderr %q", code, errOut)
	}
	m := start(t, d, "--session", "nosuch")
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(m.stderr.String(), "\n") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling for the line, not ordering
	}
	if got := m.stderr.String(); got != "mpm-monitor: no session matches nosuch; waiting for one to start\n" {
		t.Errorf("following: stderr %q", got)
	}
}
