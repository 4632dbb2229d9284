//go:build !windows

package fleet

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// The tests here cross a process boundary: nats-server runs as its own
// process (built from the module's dependency), or the hub runs as a real
// mpm-wsd that is killed with SIGKILL.

var (
	natsBinOnce sync.Once
	natsBin     string
	natsBinErr  error
)

// natsServerBinary builds github.com/nats-io/nats-server/v2 once per test
// process.
func natsServerBinary(t testing.TB) string {
	t.Helper()
	natsBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mpm-test-nats-")
		if err != nil {
			natsBinErr = err
			return
		}
		natsBin = filepath.Join(dir, "nats-server")
		cmd := exec.Command("go", "build", "-o", natsBin, "github.com/nats-io/nats-server/v2")
		cmd.Dir = testutil.ModuleRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			natsBinErr = fmt.Errorf("go build nats-server: %v\n%s", err, out)
		}
	})
	if natsBinErr != nil {
		t.Fatal(natsBinErr)
	}
	return natsBin
}

// natsProc is nats-server as a process, on a fixed port and store.
type natsProc struct {
	t        testing.TB
	port     int
	dir      string
	conf     string
	accounts string
	log      *testutil.SyncBuffer
	cmd      *exec.Cmd
	done     chan struct{}
}

// startNATSProc runs nats-server with JetStream; accounts is a config
// block (users and passwords), "" for none.
func startNATSProc(t testing.TB, accounts string) *natsProc {
	t.Helper()
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	p := &natsProc{t: t, dir: t.TempDir(), accounts: accounts}
	p.port, _ = strconv.Atoi(port)
	p.conf = filepath.Join(t.TempDir(), "nats.conf")
	p.writeConf(accounts)
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *natsProc) url() string { return "nats://127.0.0.1:" + strconv.Itoa(p.port) }

func (p *natsProc) writeConf(accounts string) {
	p.t.Helper()
	conf := fmt.Sprintf("listen: 127.0.0.1:%d\njetstream { store_dir: %q }\n%s\n", p.port, filepath.Join(p.dir, "js"), accounts)
	if err := os.WriteFile(p.conf, []byte(conf), 0o600); err != nil {
		p.t.Fatal(err)
	}
}

// start runs the server and waits until its port accepts connections.
func (p *natsProc) start() {
	p.t.Helper()
	p.log = &testutil.SyncBuffer{}
	cmd := exec.Command(natsServerBinary(p.t), "-c", p.conf)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(p.done)
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.url()[len("nats://"):], time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-p.done:
			p.t.Fatalf("nats-server exited:\n%s", p.log.String())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("nats-server did not listen within 20s:\n%s", p.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops the server with SIGKILL.
func (p *natsProc) kill() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Kill()
	<-p.done
	p.cmd = nil
}

// reload makes the server read its configuration again (SIGHUP).
func (p *natsProc) reload() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		p.t.Fatal(err)
	}
}

// health is the daemon's /healthz.
func (d *daemon) health(t testing.TB) protocol.Health {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, _, err := testutil.GetHealth(ctx, d.addr)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestHubKilledResumes: the hub (a real mpm-wsd) is stopped while two
// edges publish — killed with SIGKILL, or stopped with SIGTERM — and started
// again on the same journal: it resumes from its own position, every event
// once, hub seqs without a gap, each origin's events in their order.
func TestHubKilledResumes(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(*testutil.Daemon)
	}{
		{"SIGKILL", (*testutil.Daemon).Kill},
		{"SIGTERM", (*testutil.Daemon).Stop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := startNATS(t, -1, t.TempDir(), nil)
			hub := testutil.StartDaemon(t, "--nats", ns.url(), "--fleet", "--origin", "hub1")
			hd := &daemon{addr: hub.Addr, token: hub.Token()}
			c := hd.subscribe(t, 0)
			dirA, dirB := t.TempDir(), t.TempDir()
			a := startDaemon(t, dirA, Edge(edgeCfg(ns.url(), "a", dirA)))
			b := startDaemon(t, dirB, Edge(edgeCfg(ns.url(), "b", dirB)))
			const n = 300
			posted := make(chan struct{})
			go func() { defer close(posted); postN(t, b, 1, n) }()
			postN(t, a, 1, 60)
			c.waitCount(t, 60, 30*time.Second) // consuming
			tc.stop(hub)                       // while b still publishes
			c.close()
			postN(t, a, 61, n)
			<-posted
			start := time.Now()
			hub.Start()
			c2 := hd.subscribe(t, 0)
			evs := c2.waitCount(t, 2*n, 60*time.Second)
			t.Logf("the restarted hub held all %d events %s after it was started", 2*n, time.Since(start).Round(time.Millisecond))
			checkFleet(t, evs, 1, map[string]int{"a": n, "b": n})
			if strings.Contains(hub.Log.String(), "reading the stream from its start") {
				t.Errorf("the restarted hub read the stream from its start again:\n%s", hub.Log.String())
			}
		})
	}
}

// TestHubStreamRecovers: the stream vanishes under a running hub and
// edge — the server's JetStream store wiped (nats-server killed, its store
// deleted, started again), or the stream deleted — and the hub makes it
// again and consumes the new stream from its start, without a restart of
// the hub or the edge.
func TestHubStreamRecovers(t *testing.T) {
	for _, tc := range []struct {
		name string
		wipe func(t *testing.T, p *natsProc)
	}{
		{"store wiped", func(t *testing.T, p *natsProc) {
			p.kill()
			if err := os.RemoveAll(filepath.Join(p.dir, "js")); err != nil {
				t.Fatal(err)
			}
			p.start()
		}},
		{"stream deleted", func(t *testing.T, p *natsProc) {
			nc, err := nats.Connect(p.url())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			js, _ := jetstream.New(nc)
			if err := js.DeleteStream(context.Background(), DefaultStream); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startNATSProc(t, "")
			hubLoop := Consumer(hubCfg(p.url()))
			hub := startDaemon(t, "", hubLoop)
			c := hub.subscribe(t, 0)
			dirA := t.TempDir()
			a := startDaemon(t, dirA, Edge(edgeCfg(p.url(), "a", dirA)))
			postN(t, a, 1, 30)
			c.waitCount(t, 30, 30*time.Second)
			tc.wipe(t, p)
			// The hub makes the stream again. (Events are posted after
			// that: an edge publishing while the stream is missing may
			// store a batch out of order, which is the edge's concern.)
			nc, err := nats.Connect(p.url())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			js, _ := jetstream.New(nc)
			waitFor(t, func() bool { _, err := js.Stream(context.Background(), DefaultStream); return err == nil })
			postN(t, a, 31, 60)
			checkFleet(t, c.waitCount(t, 60, 60*time.Second), 1, map[string]int{"a": 60})
			waitFor(t, func() bool { h := hub.health(t); return h.Fleet != nil && h.Fleet.Connected && h.Fleet.StreamOK })
		})
	}
}

// TestHubWrongPassword: a hub with a password the server refuses says so
// (/healthz's fleet last_error, the server's own words), keeps trying, and
// consumes once the server's user is fixed (configuration reloaded), with
// no restart of the hub.
func TestHubWrongPassword(t *testing.T) {
	accounts := func(hubPw string) string {
		return fmt.Sprintf(`accounts { M { jetstream: enabled, users: [ {user: hub, password: %q}, {user: edge, password: "edge-pw"} ] } }`, hubPw)
	}
	p := startNATSProc(t, accounts("right-pw"))
	hc := hubCfg(p.url())
	hc.User, hc.Password = "hub", "old-pw"
	hub := startDaemon(t, "", Consumer(hc))
	waitFor(t, func() bool {
		f := hub.health(t).Fleet
		return f != nil && !f.Connected && strings.Contains(strings.ToLower(f.LastError), "authorization violation")
	})
	// nats.go gives up after the same authorization error twice unless
	// told otherwise: let the server refuse the hub a few more times.
	waitFor(t, func() bool { return strings.Count(p.log.String(), "authentication error") >= 4 })
	p.writeConf(accounts("old-pw"))
	p.reload()
	c := hub.subscribe(t, 0)
	dirA := t.TempDir()
	ec := edgeCfg(p.url(), "a", dirA)
	ec.User, ec.Password = "edge", "edge-pw"
	a := startDaemon(t, dirA, Edge(ec))
	postN(t, a, 1, 5)
	checkFleet(t, c.waitCount(t, 5, 60*time.Second), 1, map[string]int{"a": 5})
	f := hub.health(t).Fleet
	if !f.Connected || !f.StreamOK || f.LastError != "" {
		t.Errorf("fleet status after the fix: %+v", *f)
	}
}

// TestEdgeStreamRecovers: with no hub, an edge whose stream is deleted
// under it makes it again (its user may) and publishes what it holds,
// without a restart.
func TestEdgeStreamRecovers(t *testing.T) {
	p := startNATSProc(t, "")
	dirA := t.TempDir()
	edge := Edge(edgeCfg(p.url(), "a", dirA))
	a := startDaemon(t, dirA, edge)
	postN(t, a, 1, 10)
	cur := filepath.Join(dirA, CursorFile)
	waitFor(t, func() bool { return cursorSeq(cur) == "10" })
	nc, err := nats.Connect(p.url())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if err := js.DeleteStream(context.Background(), DefaultStream); err != nil {
		t.Fatal(err)
	}
	postN(t, a, 11, 20)
	waitFor(t, func() bool { return cursorSeq(cur) == "20" })
	st, err := js.Stream(context.Background(), DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	if n := st.CachedInfo().State.Msgs; n != 10 {
		t.Errorf("the new stream holds %d messages, want the 10 published after it was made", n)
	}
	// In the edge's order: the hub stores events in stream order.
	info := st.CachedInfo().State
	var prev uint64
	for sseq := info.FirstSeq; sseq <= info.LastSeq; sseq++ {
		m, err := st.GetMsg(context.Background(), sseq)
		if err != nil {
			t.Fatal(err)
		}
		id := m.Header.Get(jetstream.MsgIDHeader)
		seq, err := strconv.ParseUint(id[strings.LastIndexByte(id, ':')+1:], 10, 64)
		if err != nil {
			t.Fatalf("message id %q: %v", id, err)
		}
		if seq <= prev {
			t.Errorf("stream seq %d holds edge seq %d after %d: out of order", sseq, seq, prev)
		}
		prev = seq
	}
	if s, _ := edge.Status(); !s.StreamOK || !s.Connected {
		t.Errorf("edge status: %+v", s)
	}
}
