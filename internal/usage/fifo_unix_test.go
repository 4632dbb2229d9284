//go:build unix

package usage

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestFIFORefusedUnopened: a FIFO named like a transcript is refused
// without being opened (opening it would block the reader for good).
func TestFIFORefusedUnopened(t *testing.T) {
	root, _ := project(t)
	fifo := filepath.Join(root, "-proj", "fifo.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	reg := prometheus.NewRegistry()
	m := New(Config{ProjectsDir: root, Registerer: reg})
	m.readOne("s", fifo)
	if got := gather(t, reg)[`mpm_usage_refused_total{reason="not_regular"}`]; got != 1 {
		t.Fatalf("refused not_regular = %v, want 1", got)
	}
}
