//go:build unix

package web_test

import (
	"syscall"
	"testing"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// freeze stops the daemon process (SIGSTOP): its sockets stay open but it
// says nothing, like a hung daemon. thaw (SIGCONT) resumes it.
func freeze(t *testing.T, d *testutil.Daemon) bool {
	t.Helper()
	d.Freeze(t)
	return true
}

func thaw(t *testing.T, d *testutil.Daemon) {
	t.Helper()
	if d.Cmd != nil {
		d.Cmd.Process.Signal(syscall.SIGCONT)
	}
}
