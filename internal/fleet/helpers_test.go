package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/mpm-dev/mpm/internal/journal"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/store"
	"github.com/mpm-dev/mpm/internal/wsd"
)

// natsServer is an in-process nats-server with JetStream in a temp store.
type natsServer struct {
	srv  *server.Server
	port int
	dir  string
}

// startNATS runs nats-server on 127.0.0.1:port (-1: a free one) with
// JetStream in dir; mod may change the options (accounts, users).
func startNATS(t testing.TB, port int, dir string, mod func(*server.Options)) *natsServer {
	t.Helper()
	opts := &server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true}
	if mod != nil {
		mod(opts)
	}
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	ns := &natsServer{srv: s, port: s.Addr().(*net.TCPAddr).Port, dir: dir}
	t.Cleanup(ns.stop)
	return ns
}

func (ns *natsServer) url() string { return "nats://127.0.0.1:" + strconv.Itoa(ns.port) }

func (ns *natsServer) stop() {
	ns.srv.Shutdown()
	ns.srv.WaitForShutdown()
}

// restart stops the server and starts a new one on the same port and store.
func (ns *natsServer) restart(t testing.TB) {
	t.Helper()
	ns.stop()
	var n *natsServer
	deadline := time.Now().Add(10 * time.Second)
	for {
		opts := &server.Options{Host: "127.0.0.1", Port: ns.port, JetStream: true, StoreDir: ns.dir, NoLog: true, NoSigs: true}
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		if s.ReadyForConnections(5 * time.Second) {
			n = &natsServer{srv: s, port: ns.port, dir: ns.dir}
			break
		}
		s.Shutdown()
		if time.Now().After(deadline) {
			t.Fatal("nats-server did not restart on its port")
		}
	}
	*ns = *n
}

// daemon is an in-process mpm-wsd with the journal on a real socket.
type daemon struct {
	srv    *wsd.Server
	dir    string
	addr   string
	token  string
	cancel context.CancelFunc
	done   chan error
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func openJournal(c wsd.Config, log hclog.Logger) (store.Store, error) {
	return journal.Open(journal.Options{Path: paths.Journal(c.DataDir), RetainInterval: time.Hour, Logger: log})
}

// startDaemon runs a daemon in dir (a new temp dir when "") with the loops.
func startDaemon(t testing.TB, dir string, loops ...*Loop) *daemon {
	t.Helper()
	return startDaemonWith(t, dir, nil, loops...)
}

// startDaemonWith is startDaemon with mod changing the configuration.
func startDaemonWith(t testing.TB, dir string, mod func(*wsd.Config), loops ...*Loop) *daemon {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	cfg := wsd.DefaultConfig()
	cfg.Addr = freeAddr(t)
	cfg.DataDir = dir
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.ClaudeProjectsDir = t.TempDir() // never the user's own transcripts
	if mod != nil {
		mod(&cfg)
	}
	if testing.Verbose() {
		cfg.Logger = hclog.New(&hclog.LoggerOptions{Name: dir[len(dir)-3:], Level: hclog.Info, Output: os.Stderr})
	}
	opts := wsd.Options{OpenStore: openJournal}
	for _, l := range loops {
		opts.Background = append(opts.Background, l.Run)
		opts.Prepare = append(opts.Prepare, l.Prepare)
		opts.FleetStatus = l.Status
	}
	srv, err := wsd.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile(paths.Token(dir))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &daemon{srv: srv, dir: dir, addr: srv.Addr(), token: strings.TrimSpace(string(tok)), cancel: cancel, done: make(chan error, 1)}
	go func() { d.done <- srv.Run(ctx) }()
	t.Cleanup(func() { d.stop(t) })
	return d
}

func (d *daemon) stop(t testing.TB) {
	if d.cancel == nil {
		return
	}
	d.cancel()
	d.cancel = nil
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("daemon stopped with error: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("daemon did not stop")
	}
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// post ingests one hook event and returns its seq.
func (d *daemon) post(t testing.TB, session, name string, n int) uint64 {
	t.Helper()
	body := fmt.Sprintf(`{"session_id":%q,"hook_event_name":%q,"n":%d}`, session, name, n)
	req, _ := http.NewRequest(http.MethodPost, "http://"+d.addr+"/v1/events", bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+d.token)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("post: %s", resp.Status)
	}
	seq, _ := strconv.ParseUint(resp.Header.Get("Mpm-Seq"), 10, 64)
	return seq
}

// wireEvent is what a client receives.
type wireEvent struct {
	Seq       uint64          `json:"seq"`
	SessionID string          `json:"session_id"`
	Event     string          `json:"event"`
	Origin    string          `json:"origin"`
	OriginSeq uint64          `json:"origin_seq"`
	Received  time.Time       `json:"received"`
	Payload   json.RawMessage `json:"payload"`
}

// collector is a WebSocket client of a daemon that keeps every event.
type collector struct {
	mu   sync.Mutex
	evs  []wireEvent
	at   []time.Time
	conn *websocket.Conn
	done chan struct{}
}

// subscribe connects with since and collects until closed.
func (d *daemon) subscribe(t testing.TB, since uint64) *collector {
	t.Helper()
	u := fmt.Sprintf("ws://%s/v1/ws?token=%s&since=%d", d.addr, d.token, since)
	conn, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var m struct {
				Type   string      `json:"type"`
				Events []wireEvent `json:"events"`
			}
			if json.Unmarshal(data, &m) != nil || m.Type != "events" {
				continue
			}
			now := time.Now()
			c.mu.Lock()
			for _, ev := range m.Events {
				c.evs = append(c.evs, ev)
				c.at = append(c.at, now)
			}
			c.mu.Unlock()
		}
	}()
	t.Cleanup(c.close)
	return c
}

func (c *collector) close() {
	c.conn.Close()
	<-c.done
}

func (c *collector) events() []wireEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]wireEvent(nil), c.evs...)
}

// waitCount waits until the collector holds n events.
func (c *collector) waitCount(t testing.TB, n int, within time.Duration) []wireEvent {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		evs := c.events()
		if len(evs) >= n {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d events, want %d", len(evs), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkFleet asserts that evs are exactly want[origin] events 1..n per
// origin, each once, in origin order per origin, with hub seqs from first
// up without a gap.
func checkFleet(t testing.TB, evs []wireEvent, first uint64, want map[string]int) {
	t.Helper()
	next := map[string]uint64{}
	total := 0
	for _, n := range want {
		total += n
	}
	if len(evs) != total {
		t.Errorf("got %d events, want %d", len(evs), total)
	}
	for i, ev := range evs {
		if ev.Seq != first+uint64(i) {
			t.Fatalf("event %d has hub seq %d, want %d (gap or duplicate)", i, ev.Seq, first+uint64(i))
		}
		if _, ok := want[ev.Origin]; !ok {
			t.Fatalf("event %d has origin %q", ev.Seq, ev.Origin)
		}
		next[ev.Origin]++
		if ev.OriginSeq != next[ev.Origin] {
			t.Fatalf("event %d from %s has origin seq %d, want %d (lost, doubled or reordered)", ev.Seq, ev.Origin, ev.OriginSeq, next[ev.Origin])
		}
		var p struct {
			N int `json:"n"`
		}
		if err := json.Unmarshal(ev.Payload, &p); err != nil || uint64(p.N) != ev.OriginSeq {
			t.Fatalf("event %d from %s: payload %s does not match origin seq %d", ev.Seq, ev.Origin, ev.Payload, ev.OriginSeq)
		}
	}
	for o, n := range want {
		if next[o] != uint64(n) {
			t.Errorf("origin %s: got %d events, want %d", o, next[o], n)
		}
	}
}

// edgeCfg and hubCfg are fleet configs for the tests: short waits.
func edgeCfg(url, origin, dir string) Config {
	return Config{URL: url, Origin: origin, DataDir: dir, Poll: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
}

func hubCfg(url string) Config {
	return Config{URL: url, Hub: true, HubName: "test", Poll: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
}

// edgeIntoHub starts a hub and an edge "a" on url with the NATS
// credentials given (user, password each), posts n events on the edge and
// checks that the hub delivers all n, in order.
func edgeIntoHub(t *testing.T, url string, hubUser, hubPw, edgeUser, edgePw string, n int) {
	t.Helper()
	hc := hubCfg(url)
	hc.User, hc.Password = hubUser, hubPw
	hub := startDaemon(t, "", Consumer(hc))
	c := hub.subscribe(t, 0)
	dir := t.TempDir()
	ec := edgeCfg(url, "a", dir)
	ec.User, ec.Password = edgeUser, edgePw
	a := startDaemon(t, dir, Edge(ec))
	postN(t, a, 1, n)
	checkFleet(t, c.waitCount(t, n, 30*time.Second), 1, map[string]int{"a": n})
}
