//go:build linux

package wsd_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestDashboardURLOnTerminal: on a terminal the daemon prints the full URL
// with the token on a line of its own, so that it can be copied whole;
// only there.
func TestDashboardURLOnTerminal(t *testing.T) {
	master, tty := testutil.Pty(t)
	addr, dir := testutil.FreeAddr(t), t.TempDir()
	cmd := exec.Command(testutil.Binary(t, "mpm-wsd"), "--addr", addr, "--data-dir", dir)
	cmd.Stderr = tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
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
	line := regexp.MustCompile(`(?m)^Dashboard: (http://\S+)\r?$`)
	deadline := time.Now().Add(30 * time.Second)
	for !line.MatchString(out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no Dashboard line on the terminal:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	tok, err := os.ReadFile(paths.Token(dir))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := line.FindStringSubmatch(out.String())[1], "http://"+addr+"/#token="+strings.TrimSpace(string(tok)); got != want {
		t.Errorf("URL %q, want %q", got, want)
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.Contains(l, "#token=") && !strings.HasPrefix(l, "Dashboard: ") {
			t.Errorf("the token appears beside other text: %q", l)
		}
	}
}
