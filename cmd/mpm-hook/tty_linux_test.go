package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mpm-dev/mpm/internal/hook"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// openPTY returns a new pseudo-terminal's controlling and terminal ends.
func openPTY(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestAtTerminalSaysWhatItIsFor: run by hand at a terminal, mpm-hook says
// in one line what it is for and exits 0, instead of waiting for an event
// on stdin (it used to wait MPM_HOOK_STDIN_TIMEOUT and exit silently).
// With a pipe or /dev/null it stays silent, as Claude Code needs.
func TestAtTerminalSaysWhatItIsFor(t *testing.T) {
	bin := testutil.Binary(t, "mpm-hook")
	_, tty := openPTY(t)
	data := t.TempDir()
	for _, c := range []struct {
		name  string
		stdin *os.File
		want  string
	}{
		{"terminal", tty, hook.AtTerminal},
		{"/dev/null", nil, ""},
	} {
		cmd := exec.Command(bin)
		// An hour: only the terminal check can end the terminal case early.
		cmd.Env = append(os.Environ(), "MPM_DATA_DIR="+data, "MPM_ADDR=127.0.0.1:1", "MPM_HOOK_STDIN_TIMEOUT=1h")
		if c.stdin != nil {
			cmd.Stdin = c.stdin
		}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: %v, want exit 0", c.name, err)
			}
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			t.Fatalf("%s: mpm-hook still waits for stdin after a minute", c.name)
		}
		if out.Len() != 0 || errb.String() != c.want {
			t.Errorf("%s: stdout %q, stderr %q; want stderr %q", c.name, out.String(), errb.String(), c.want)
		}
		if !strings.HasSuffix(hook.AtTerminal, "\n") || strings.Count(hook.AtTerminal, "\n") != 1 {
			t.Errorf("AtTerminal must be one line: %q", hook.AtTerminal)
		}
	}
}
