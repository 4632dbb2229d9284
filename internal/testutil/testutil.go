// Package testutil builds the real mpm binaries once per test process and
// runs them as real processes on real sockets: the daemon, the hook, the
// manager. Tests across packages use it so that they start things one way.
package testutil

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/protocol/codec"
	"io"
)

var (
	buildMu  sync.Mutex
	buildDir string
	built    = map[string]string{}
)

// ModuleRoot returns the repository root (the directory holding go.mod).
func ModuleRoot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		t.Fatal("not inside the mpm module")
	}
	return filepath.Dir(mod)
}

// Binary builds ./cmd/<name> once per test process and returns its path.
func Binary(t testing.TB, name string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[name]; ok {
		return p
	}
	if buildDir == "" {
		removeStaleBuildDirs()
		d, err := os.MkdirTemp("", fmt.Sprintf("mpm-test-bin-%d-", os.Getpid()))
		if err != nil {
			t.Fatal(err)
		}
		buildDir = d
	}
	exe := filepath.Join(buildDir, name)
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	cmd := exec.Command("go", "build", "-o", exe, "./cmd/"+name)
	cmd.Dir = ModuleRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/%s: %v\n%s", name, err, out)
	}
	built[name] = exe
	return exe
}

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Daemon is a real mpm-wsd process started by a test.
type Daemon struct {
	// Addr is the daemon's address, host:port on 127.0.0.1.
	Addr string
	// DataDir is the daemon's data directory.
	DataDir string
	// Args are the extra flags it was started with.
	Args []string
	// Log collects the daemon's stderr and stdout.
	Log *SyncBuffer
	// Cmd is the running process; nil after Stop or Kill.
	Cmd *exec.Cmd
	// Bin is the mpm-wsd binary to run; empty: this tree's, built by Binary.
	Bin string

	t    testing.TB
	done chan struct{}
}

// StartDaemon starts mpm-wsd on a free port with a fresh data directory and
// waits until /healthz answers 200. Extra flags go to the daemon.
//
// The port is free when FreeAddr returns it, but on a busy machine another
// process (or an outgoing connection's ephemeral port) may take it before
// the daemon binds it: mpm-wsd then exits 3 (address in use), and
// StartDaemon tries again on another port.
func StartDaemon(t testing.TB, args ...string) *Daemon {
	t.Helper()
	return StartDaemonBinary(t, "", args...)
}

// StartDaemonBinary is StartDaemon with another mpm-wsd build (say, an
// earlier commit's, for a same-run benchmark); bin "" is this tree's.
func StartDaemonBinary(t testing.TB, bin string, args ...string) *Daemon {
	t.Helper()
	d := &Daemon{DataDir: t.TempDir(), Args: args, Bin: bin, t: t}
	t.Cleanup(func() { d.Kill() })
	for try := 1; ; try++ {
		d.Addr = FreeAddr(t)
		err := d.start()
		if err == nil {
			return d
		}
		if !errors.Is(err, errPortTaken) || try == 5 {
			t.Fatalf("mpm-wsd did not become healthy: %v\nlog:\n%s", err, d.Log.String())
		}
		d.Log = nil
	}
}

// errPortTaken is start's error when mpm-wsd exited 3: its address was in
// use by another program.
var errPortTaken = errors.New("the address was taken before mpm-wsd could bind it")

// Start (re)starts the daemon process with the same address, data directory
// and flags, and waits until it is healthy.
func (d *Daemon) Start() {
	d.t.Helper()
	if err := d.start(); err != nil {
		d.t.Fatalf("mpm-wsd did not become healthy: %v\nlog:\n%s", err, d.Log.String())
	}
}

// start starts the process and waits until /healthz answers from it (its
// own pid, not another test's daemon that took the port).
func (d *Daemon) start() error {
	args := append([]string{"--addr", d.Addr, "--data-dir", d.DataDir, "--log-level", "debug"}, d.Args...)
	bin := d.Bin
	if bin == "" {
		bin = Binary(d.t, "mpm-wsd")
	}
	cmd := exec.Command(bin, args...)
	if d.Log == nil {
		d.Log = &SyncBuffer{}
	}
	cmd.Stdout = d.Log
	cmd.Stderr = d.Log
	if err := cmd.Start(); err != nil {
		d.t.Fatalf("start mpm-wsd: %v", err)
	}
	d.Cmd = cmd
	d.done = make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(d.done)
	err := waitHealthy(d.Addr, 20*time.Second, d.done, cmd.Process.Pid)
	if err != nil {
		select {
		case <-d.done:
			if cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == 3 {
				d.Cmd = nil
				return fmt.Errorf("%w: %v", errPortTaken, err)
			}
		default:
		}
	}
	return err
}

// Token returns the daemon's access token.
func (d *Daemon) Token() string {
	d.t.Helper()
	b, err := os.ReadFile(filepath.Join(d.DataDir, "token"))
	if err != nil {
		d.t.Fatalf("read token: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// Pid returns the running daemon's pid.
func (d *Daemon) Pid() int { return d.Cmd.Process.Pid }

// Stop sends SIGTERM (os.Interrupt on Windows) and waits for the exit.
func (d *Daemon) Stop() {
	if d.Cmd == nil {
		return
	}
	if runtime.GOOS == "windows" {
		d.Cmd.Process.Kill()
	} else {
		d.Cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-d.done:
	case <-time.After(15 * time.Second):
		d.Cmd.Process.Kill()
		<-d.done
		d.t.Errorf("mpm-wsd did not stop within 15s of SIGTERM")
	}
	d.Cmd = nil
}

// Kill kills the daemon hard (SIGKILL) and waits for it to be gone.
func (d *Daemon) Kill() {
	if d.Cmd == nil {
		return
	}
	d.Cmd.Process.Kill()
	<-d.done
	d.Cmd = nil
}

// Done is closed when the current daemon process has exited.
func (d *Daemon) Done() <-chan struct{} { return d.done }

// URL returns http://<addr><path>.
func (d *Daemon) URL(path string) string { return "http://" + d.Addr + path }

// GetHealth fetches and decodes http://addr/healthz.
func GetHealth(ctx context.Context, addr string) (protocol.Health, int, error) {
	var h protocol.Health
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return h, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return h, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return h, resp.StatusCode, err
	}
	h, err = codec.DecodeHealth(body)
	return h, resp.StatusCode, err
}

// WaitHealthy polls /healthz until it answers 200 from an mpm-wsd, the
// timeout passes, or exited is closed (the process died).
func WaitHealthy(addr string, timeout time.Duration, exited <-chan struct{}) error {
	return waitHealthy(addr, timeout, exited, 0)
}

// waitHealthy is WaitHealthy that, when pid is not 0, also wants the answer
// to come from that process.
func waitHealthy(addr string, timeout time.Duration, exited <-chan struct{}, pid int) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("process exited (last error: %v)", last)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		h, code, err := GetHealth(ctx, addr)
		cancel()
		if err == nil && code == 200 && h.Service == protocol.ServiceName && (pid == 0 || h.Pid == pid) {
			return nil
		}
		last = fmt.Errorf("code %d, err %v", code, err)
		if err == nil && pid != 0 && h.Pid != pid {
			last = fmt.Errorf("another mpm-wsd (pid %d) answers on %s, not ours (pid %d)", h.Pid, addr, pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("timed out after %v (last: %v)", timeout, last)
}

// SyncBuffer is a bytes buffer safe for concurrent writes and reads.
type SyncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
