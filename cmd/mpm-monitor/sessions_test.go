package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestSessionsBoardAndStatusLine: three sessions — one working, one idle,
// one waiting for permission — on a real daemon; the status line counts
// them, the board lists the one that needs you first, --json carries the
// state, and the tail prints a state change as its own line.
func TestSessionsBoardAndStatusLine(t *testing.T) {
	d := testutil.StartDaemon(t)
	c := newClient(t, d)
	post(t, c, ev("work-1111", "UserPromptSubmit", "", 1, `,"cwd":"/home/dev/alpha","prompt":"build it"`))
	tail := start(t, d, "--since", "0")
	tail.waitLines(t, 1, 30*time.Second) // subscribed: what follows is live
	waitFor := func(want ...string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			got, ok := tail.stdout.String(), true
			for _, w := range want {
				ok = ok && strings.Contains(got, w)
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("tail lacks one of %q:\n%s", want, got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	post(t, c, ev("idle-2222", "SessionStart", "", 2, `,"cwd":"/home/dev/beta","source":"startup"`))
	post(t, c, ev("perm-3333", "UserPromptSubmit", "", 3, `,"cwd":"/home/dev/gamma","prompt":"clean"`))
	post(t, c, ev("perm-3333", "PreToolUse", "Bash", 4, `,"tool_use_id":"t1","tool_input":{"command":"rm -rf build"}`))
	post(t, c, ev("perm-3333", "PermissionRequest", "Bash", 5, `,"tool_input":{"command":"rm -rf build"}`))

	out, errOut, code := runMon(t, d, "--status-line")
	if code != 0 || out != "1 need you · 1 working · 1 idle\n" {
		t.Fatalf("status line %q (exit %d, %s)", out, code, errOut)
	}
	out, errOut, code = runMon(t, d, "sessions")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 0 || len(lines) != 4 || !strings.HasPrefix(lines[0], "STATE") ||
		!strings.HasPrefix(lines[1], "! needs permission") || !strings.Contains(lines[1], "gamma") || !strings.Contains(lines[1], "Bash: rm -rf build") ||
		!strings.HasPrefix(lines[2], "● working") || !strings.Contains(lines[2], "“build it”") ||
		!strings.HasPrefix(lines[3], "○ idle") {
		t.Fatalf("board (exit %d, %s):\n%s", code, errOut, out)
	}
	out, _, code = runMon(t, d, "sessions", "--json")
	var ss []protocol.Session
	if err := json.Unmarshal([]byte(out), &ss); err != nil || code != 0 || len(ss) != 3 || ss[0].SessionID != "perm-3333" || !ss[0].Attention {
		t.Fatalf("--json (%v): %s", err, out)
	}

	// The tail: events, and the state changes as lines of their own.
	waitFor("perm-333 ! needs permission", "idle-222 ○ idle")
	post(t, c, ev("perm-3333", "PostToolUse", "Bash", 6, `,"tool_use_id":"t1"`))
	waitFor("perm-333 ● working")
	post(t, c, ev("perm-3333", "Stop", "", 7, ``))
	waitFor("perm-333 ○ idle")
	if strings.Contains(tail.stdout.String(), "work-111 ●") {
		t.Errorf("a session known at subscribe time that did not change got a state line:\n%s", tail.stdout.String())
	}
	// The daemon down: "mpm down", exit 1.
	d.Stop()
	out, _, code = runMon(t, d, "--status-line")
	if code != 1 || out != "mpm down\n" {
		t.Fatalf("status line with the daemon down: %q exit %d", out, code)
	}
}

// TestSessionsOverBudget: on a daemon with --budget-session-usd 0.03, a
// session whose transcript says $0.04 is on the board with those that need
// you ("$ over budget", what it passed, its cost ending in "!"), and the
// tail prints the crossing as a line of its own.
func TestSessionsOverBudget(t *testing.T) {
	configDir := t.TempDir()
	t.Setenv("CLAUDE_CONFIG_DIR", configDir)
	src, err := os.ReadFile(filepath.Join("..", "..", "internal", "usage", "testdata", "handwritten-cost-state.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(configDir, "projects", "-home-dev-shop")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "s.jsonl")
	if err := os.WriteFile(p, src, 0o644); err != nil {
		t.Fatal(err)
	}
	d := testutil.StartDaemon(t, "--budget-session-usd", "0.03")
	c := newClient(t, d)
	post(t, c, ev("work-1111", "UserPromptSubmit", "", 1, `,"cwd":"/home/dev/alpha","prompt":"build it"`))
	tail := start(t, d, "--since", "0")
	tail.waitLines(t, 1, 30*time.Second) // subscribed: what follows is live
	post(t, c, ev("over-2222", "UserPromptSubmit", "", 2, fmt.Sprintf(`,"cwd":"/home/dev/shop","prompt":"spend","transcript_path":%q`, p)))
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(tail.stdout.String(), "over-222 $ over budget        over its session budget: $0.04 of $0.03\n") {
		if time.Now().After(deadline) {
			t.Fatalf("the tail has no budget line:\n%s", tail.stdout.String())
		}
		time.Sleep(20 * time.Millisecond) // polling the output, not ordering
	}
	out, errOut, code := runMon(t, d, "sessions")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[1], "$ over budget · ") || !strings.Contains(lines[1], "$0.04!") ||
		!strings.HasSuffix(lines[1], "over its session budget: $0.04 of $0.03") || !strings.HasPrefix(lines[2], "● working") {
		t.Fatalf("board (exit %d, %s):\n%s", code, errOut, out)
	}
	if out, _, code := runMon(t, d, "--status-line"); code != 0 || out != "1 need you · 1 working\n" {
		t.Errorf("status line %q", out)
	}
}
