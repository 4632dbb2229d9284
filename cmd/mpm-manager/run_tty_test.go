//go:build linux

package main

import (
	"regexp"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestRunPrintsURLOnTerminal: run at a terminal prints the dashboard URL
// with the token on a line of its own once the daemon answers.
func TestRunPrintsURLOnTerminal(t *testing.T) {
	master, tty := testutil.Pty(t)
	var out testutil.SyncBuffer
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			out.Write(b[:n])
			if err != nil {
				return
			}
		}
	}()
	addr, dir, _ := startRun(t, tty, nil)
	want := "Dashboard: http://" + addr + "/#token=" + readToken(t, dir)
	line := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(want) + `\r?$`)
	deadline := time.Now().Add(10 * time.Second)
	for !line.MatchString(out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no line %q on the terminal:\n%s", want, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
