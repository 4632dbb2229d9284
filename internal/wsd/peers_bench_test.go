package wsd

// BenchmarkPeers measures mpm-wsd (memory mode), mpm-wsd (journal, the
// default) and a peer, centrifugo v6, side by side in one run: the server
// pinned to one core, the load (wrk, the subscribers, the paced publisher)
// on the other, rounds interleaved so that the machine's noise falls on all
// three alike. Run it with `make bench-peers`, which builds this package's
// test binary and runs it under `taskset -c 1`; docs/benchmarks.md has the
// figures, the centrifugo config and how to get the binary. It skips unless
// MPM_CENTRIFUGO names the binary.

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// peerSubscribers is how many WebSocket subscribers share the one channel.
const peerSubscribers = 100

// peerChannel is the channel (centrifugo) and session (mpm) of every event.
const peerChannel = "bench"

// peerPayload is the ~250-byte event both servers carry: a hook payload for
// mpm, the publication's data for centrifugo. "t" is the publisher's clock
// when it sent the event (0 under wrk), for the ingest-to-receipt latency.
func peerPayload(t int64) []byte {
	return []byte(fmt.Sprintf(`{"session_id":%q,"hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"toolu_01","tool_input":{"command":"go test ./internal/... -count=1","description":"Run the focused tests"},"cwd":"/home/dev/src/project","t":%19d}`, peerChannel, t))
}

// peerMark occurs once per event in every frame of either server (it is in
// the payload, which both embed as it came).
var peerMark = []byte(`"hook_event_name":"PreToolUse"`)

// peerStamp precedes the publisher's send time in each event.
var peerStamp = []byte(`"t":`)

// peerServer is one server under test, started pinned.
type peerServer struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	// publishURL takes one event per POST; headers go with each.
	publishURL string
	headers    map[string]string
	// body wraps a payload into the publish request's body.
	body func(payload []byte) []byte
	// wsURL is the subscribers' endpoint, wsHeader their dial headers.
	wsURL    string
	wsHeader http.Header
	// hello is sent after dialing (centrifugo's connect and subscribe).
	hello []byte
	// ready marks the frame that says the subscription is live.
	ready []byte
	// metrics, when set, reads a counter of the server's /metrics.
	metrics func(name string) float64
}

func (s *peerServer) pid() int { return s.cmd.Process.Pid }

// stop ends the server with SIGTERM (mpm-wsd then writes its CPU profile).
func (s *peerServer) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// pinned returns the command that runs argv on the server's core
// (MPM_BENCH_SERVER_CPU, 0 by default; "none": not pinned).
func pinned(argv ...string) *exec.Cmd {
	cpu := os.Getenv("MPM_BENCH_SERVER_CPU")
	if cpu == "" {
		cpu = "0"
	}
	if ts, err := exec.LookPath("taskset"); err == nil && cpu != "none" {
		return exec.Command(ts, append([]string{"-c", cpu}, argv...)...)
	}
	return exec.Command(argv[0], argv[1:]...)
}

func startPeerCmd(b *testing.B, cmd *exec.Cmd) chan struct{} {
	log := &testutil.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", cmd.Path, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		if out := log.String(); strings.Contains(out, "panic") {
			fmt.Fprintf(os.Stderr, "%s log:\n%s\n", cmd.Args, out)
		}
		close(done)
	}()
	return done
}

// startMPM starts the mpm-wsd at bin ("": this tree's) pinned, with extra flags.
func startMPM(b *testing.B, name, bin string, extra ...string) *peerServer {
	if bin == "" {
		bin = testutil.Binary(b, "mpm-wsd")
	}
	dir := b.TempDir()
	addr := testutil.FreeAddr(b)
	args := append([]string{bin, "--addr", addr, "--data-dir", dir,
		"--log-level", "warn", "--max-clients", "2000"}, extra...)
	if d := os.Getenv("MPM_BENCH_PROFILE"); d != "" { // a CPU profile of the whole run per server
		args = append(args, "--cpuprofile", filepath.Join(d, name+".prof"))
	}
	cmd := pinned(args...)
	done := startPeerCmd(b, cmd)
	if err := testutil.WaitHealthy(addr, 30*time.Second, done); err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	tok, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		b.Fatal(err)
	}
	token := strings.TrimSpace(string(tok))
	return &peerServer{
		name: name, cmd: cmd, done: done,
		publishURL: "http://" + addr + "/v1/events",
		headers:    map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"},
		body:       func(p []byte) []byte { return p },
		wsURL:      "ws://" + addr + "/v1/ws?session=" + peerChannel,
		wsHeader:   http.Header{"Authorization": {"Bearer " + token}},
		ready:      []byte(`{"type":"live"`),
		metrics: func(name string) float64 {
			req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return 0
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			for _, line := range strings.Split(string(body), "\n") {
				if f := strings.Fields(line); len(f) == 2 && f[0] == name {
					v, _ := strconv.ParseFloat(f[1], 64)
					return v
				}
			}
			return 0
		},
	}
}

// centrifugoConfig is the peer's whole configuration (docs/benchmarks.md
// shows it): anonymous clients may subscribe to any channel (mpm checks a
// token once per connection, as cheap), the HTTP publish API takes a key
// (mpm: a bearer token), no history or recovery (centrifugo's default; mpm
// keeps its history ring or journal regardless), logs at error.
func centrifugoConfig(port string) string {
	return fmt.Sprintf(`{
  "http_server": {"address": "127.0.0.1", "port": %s},
  "log": {"level": "error"},
  "client": {"insecure": true},
  "http_api": {"key": "bench-api-key"}
}`, port)
}

// startCentrifugo starts the peer pinned, and waits until its API answers.
func startCentrifugo(b *testing.B, bin string) *peerServer {
	addr := testutil.FreeAddr(b)
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	cfg := filepath.Join(b.TempDir(), "centrifugo.json")
	if err := os.WriteFile(cfg, []byte(centrifugoConfig(port)), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := pinned(bin, "--config", cfg)
	done := startPeerCmd(b, cmd)
	s := &peerServer{
		name: "centrifugo", cmd: cmd, done: done,
		publishURL: "http://" + addr + "/api/publish",
		headers:    map[string]string{"X-API-Key": "bench-api-key", "Content-Type": "application/json"},
		body: func(p []byte) []byte {
			return append(append([]byte(`{"channel":"`+peerChannel+`","data":`), p...), '}')
		},
		wsURL: "ws://" + addr + "/connection/websocket",
		hello: []byte(`{"id":1,"connect":{}}` + "\n" + `{"id":2,"subscribe":{"channel":"` + peerChannel + `"}}`),
		ready: []byte(`"id":2`),
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/info", strings.NewReader("{}"))
		req.Header.Set("X-API-Key", "bench-api-key")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-done:
			b.Fatalf("centrifugo exited at start")
		default:
		}
		if time.Now().After(deadline) {
			s.stop()
			b.Fatalf("centrifugo did not answer /api/info: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// peerReader is one subscriber: it counts events by a mark in the payload
// (the same cost for both servers' frames) and, when tracking, records each
// event's publish-to-receipt time from the payload's "t".
type peerReader struct {
	conn   *websocket.Conn
	got    atomic.Int64
	frames atomic.Int64
	ready  chan struct{}
	track  atomic.Bool
	mu     sync.Mutex
	lat    []time.Duration
}

func dialPeer(b *testing.B, s *peerServer) *peerReader {
	d := websocket.Dialer{ReadBufferSize: 1024, WriteBufferSize: 1024, HandshakeTimeout: 30 * time.Second}
	conn, _, err := d.Dial(s.wsURL, s.wsHeader)
	if err != nil {
		b.Fatalf("%s: dial: %v", s.name, err)
	}
	if s.hello != nil {
		if err := conn.WriteMessage(websocket.TextMessage, s.hello); err != nil {
			b.Fatal(err)
		}
	}
	r := &peerReader{conn: conn, ready: make(chan struct{})}
	go r.read(s.ready)
	return r
}

func (r *peerReader) read(ready []byte) {
	var buf bytes.Buffer
	isReady := false
	for {
		_, rd, err := r.conn.NextReader()
		if err != nil {
			if !isReady {
				close(r.ready)
			}
			return
		}
		buf.Reset()
		if _, err := buf.ReadFrom(rd); err != nil {
			return
		}
		now := time.Now().UnixNano()
		data := buf.Bytes()
		if !isReady && bytes.Contains(data, ready) {
			isReady = true
			close(r.ready)
		}
		if bytes.Equal(data, []byte("{}")) { // centrifugo's ping
			r.conn.WriteMessage(websocket.TextMessage, data)
			continue
		}
		n := bytes.Count(data, peerMark)
		if n == 0 {
			continue
		}
		if r.track.Load() {
			r.mu.Lock()
			for rest := data; ; {
				i := bytes.Index(rest, peerStamp)
				if i < 0 {
					break
				}
				rest = rest[i+len(peerStamp):]
				j := bytes.IndexAny(rest, ",}")
				if t, err := strconv.ParseInt(strings.TrimSpace(string(rest[:j])), 10, 64); err == nil && t > 0 {
					r.lat = append(r.lat, time.Duration(now-t))
				}
			}
			r.mu.Unlock()
		}
		r.got.Add(int64(n))
		r.frames.Add(1)
	}
}

// dialPeers connects n subscribers and waits until each is live.
func dialPeers(b *testing.B, s *peerServer, n int) []*peerReader {
	rs := make([]*peerReader, n)
	for i := range rs {
		rs[i] = dialPeer(b, s)
	}
	for _, r := range rs {
		select {
		case <-r.ready:
		case <-time.After(30 * time.Second):
			b.Fatalf("%s: a subscriber never went live", s.name)
		}
	}
	return rs
}

func closePeers(rs []*peerReader) {
	for _, r := range rs {
		r.conn.Close()
	}
}

func totalFrames(rs []*peerReader) int64 {
	var n int64
	for _, r := range rs {
		n += r.frames.Load()
	}
	return n
}

func totalGot(rs []*peerReader) int64 {
	var n int64
	for _, r := range rs {
		n += r.got.Load()
	}
	return n
}

// cpuTicks is a process's user+system CPU time in clock ticks (1/100 s).
func cpuTicks(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

// peerPublishers is how many connections wrk publishes on
// (MPM_BENCH_PUBLISHERS, 4 by default: a few busy sessions' hooks; 4 keep
// either server's core busy). More publishers mean larger batches, so more
// events per frame for both servers.
func peerPublishers() int {
	if v, err := strconv.Atoi(os.Getenv("MPM_BENCH_PUBLISHERS")); err == nil && v > 0 {
		return v
	}
	return 4
}

// saturate posts with wrk (peerPublishers connections) for 8 s and counts the
// deliveries/s over the middle 4 s, and the server's CPU use meanwhile.
func saturate(b *testing.B, s *peerServer, rs []*peerReader) (deliveries, ingest, cpu, loadCPU float64) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("wrk not installed (apt-get install wrk)")
	}
	lua := "wrk.method = \"POST\"\nwrk.body = " + strconv.Quote(string(s.body(peerPayload(0)))) + "\n"
	for k, v := range s.headers {
		lua += fmt.Sprintf("wrk.headers[%q] = %q\n", k, v)
	}
	script := filepath.Join(b.TempDir(), "post.lua")
	if err := os.WriteFile(script, []byte(lua), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(wrk, "-t1", "-c"+strconv.Itoa(peerPublishers()), "-d8s", "-s", script, s.publishURL)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	g0, c0, l0, t0 := totalGot(rs), cpuTicks(s.pid()), cpuTicks(os.Getpid()), time.Now()
	time.Sleep(4 * time.Second)
	g1, c1, l1, el := totalGot(rs), cpuTicks(s.pid()), cpuTicks(os.Getpid()), time.Since(t0)
	cmd.Wait()
	if bytes.Contains(out.Bytes(), []byte("Non-2xx")) {
		b.Fatalf("%s: wrk saw errors:\n%s", s.name, out.String())
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "Requests/sec:" {
			ingest, _ = strconv.ParseFloat(f[1], 64)
		}
	}
	// Ticks are 1/100 s: ticks per second is the CPU use in percent.
	return float64(g1-g0) / el.Seconds(), ingest, float64(c1-c0) / el.Seconds(), float64(l1-l0) / el.Seconds()
}

// paced publishes rate events/s for dur from one keep-alive connection, each
// stamped with its send time, and returns every tracked delivery's latency.
func paced(b *testing.B, s *peerServer, rs []*peerReader, rate int, dur time.Duration) []time.Duration {
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, DisableCompression: true}, Timeout: 10 * time.Second}
	post := func(body []byte) {
		req, _ := http.NewRequest(http.MethodPost, s.publishURL, bytes.NewReader(body))
		for k, v := range s.headers {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			b.Fatalf("%s: publish: %v", s.name, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			b.Fatalf("%s: publish: status %d", s.name, resp.StatusCode)
		}
	}
	base := totalGot(rs)
	post(s.body(peerPayload(0))) // open the connection
	base += int64(len(rs))
	for deadline := time.Now().Add(10 * time.Second); totalGot(rs) < base && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	for _, r := range rs {
		r.track.Store(true)
	}
	total := int(float64(rate) * dur.Seconds())
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := 0; i < total; i++ {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		post(s.body(peerPayload(time.Now().UnixNano())))
	}
	want := base + int64(total*len(rs))
	deadline := time.Now().Add(30 * time.Second)
	for totalGot(rs) < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	var all []time.Duration
	for _, r := range rs {
		r.track.Store(false)
		r.mu.Lock()
		all = append(all, r.lat...)
		r.lat = nil
		r.mu.Unlock()
	}
	if len(all) < total*len(rs) {
		b.Errorf("%s: %d of %d deliveries arrived", s.name, len(all), total*len(rs))
	}
	return all
}

// idleMemory is the server's RSS growth per idle subscribed connection,
// over 1,000 connections (after one warm-up connection).
func idleMemory(b *testing.B, s *peerServer) float64 {
	const n = 1000
	warm := dialPeers(b, s, 1)
	time.Sleep(500 * time.Millisecond)
	before := rssKiB(b, s.pid())
	rs := dialPeers(b, s, n)
	time.Sleep(time.Second)
	after := rssKiB(b, s.pid())
	closePeers(rs)
	closePeers(warm)
	return float64(after-before) / n
}

// peerFigures is one server's figures from one round.
type peerFigures struct {
	deliveries, ingest, cpu float64
	// loadCPU is the subscribers' CPU use meanwhile (wrk's is not in it).
	loadCPU  float64
	p50, p99 time.Duration
	// pacedCPU is the server's CPU use (%) at 1,000 events/s.
	pacedCPU float64
	idleKiB  float64
	// perFrame is the mean events per WebSocket frame received under wrk.
	perFrame float64
	load     string
}

// perCPU is deliveries per second of the server's CPU time: on a shared
// machine the server's core is not always its own, and this figure moves
// less with that than deliveries/s.
func (f peerFigures) perCPU() float64 {
	if f.cpu <= 0 {
		return 0
	}
	return f.deliveries / (f.cpu / 100)
}

// measurePeer starts a server, measures its three figures, and stops it.
func measurePeer(b *testing.B, start func() *peerServer) peerFigures {
	s := start()
	defer s.stop()
	var f peerFigures
	f.load = loadAvg()
	f.idleKiB = idleMemory(b, s)
	rs := dialPeers(b, s, peerSubscribers)
	defer closePeers(rs)
	c0, t0 := cpuTicks(s.pid()), time.Now()
	lat := paced(b, s, rs, 1000, 3*time.Second)
	f.pacedCPU = float64(cpuTicks(s.pid())-c0) / time.Since(t0).Seconds()
	f.p50, f.p99 = percentile(lat, 0.50), percentile(lat, 0.99)
	d0, f0 := totalGot(rs), totalFrames(rs)
	f.deliveries, f.ingest, f.cpu, f.loadCPU = saturate(b, s, rs)
	f.perFrame = float64(totalGot(rs)-d0) / float64(totalFrames(rs)-f0)
	return f
}

// loadAvg is the 1-minute load average, to print beside a figure.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(data))[0]
}

func BenchmarkPeers(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc")
	}
	// The peer's binary: make bench-peers sets it (and pins this
	// process to cpu 1); make bench, which runs unpinned, skips this.
	peer := os.Getenv("MPM_CENTRIFUGO")
	if peer == "" {
		b.Skip("set MPM_CENTRIFUGO to a centrifugo v6.9.1 binary, or run make bench-peers (docs/benchmarks.md)")
	}
	if _, err := os.Stat(peer); err != nil {
		b.Fatalf("MPM_CENTRIFUGO: %v; get it with GOBIN=$HOME/.cache/mpm-bench/bin go install github.com/centrifugal/centrifugo/v6@v6.9.1", err)
	}
	rounds := 2
	if v, err := strconv.Atoi(os.Getenv("MPM_BENCH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	self, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(self), "\n") {
		if strings.HasPrefix(line, "Cpus_allowed_list:") {
			b.Logf("load side %s; servers on cpu %q (MPM_BENCH_SERVER_CPU)", line, os.Getenv("MPM_BENCH_SERVER_CPU"))
		}
	}
	servers := []struct {
		name  string
		start func() *peerServer
	}{
		{"memory", func() *peerServer { return startMPM(b, "mpm-memory", "", "--journal=false") }},
		{"journal", func() *peerServer { return startMPM(b, "mpm-journal", "") }},
		{"centrifugo", func() *peerServer { return startCentrifugo(b, peer) }},
	}
	// MPM_WSD_BASE, another mpm-wsd build (say, before a change), joins
	// the rounds as memory-base and journal-base.
	if base := os.Getenv("MPM_WSD_BASE"); base != "" {
		servers = append(servers, []struct {
			name  string
			start func() *peerServer
		}{
			{"memory-base", func() *peerServer { return startMPM(b, "mpm-memory-base", base, "--journal=false") }},
			{"journal-base", func() *peerServer { return startMPM(b, "mpm-journal-base", base) }},
		}...)
	}
	if only := os.Getenv("MPM_BENCH_SERVERS"); only != "" { // e.g. "journal" while profiling
		kept := servers[:0]
		for _, sv := range servers {
			if strings.Contains(","+only+",", ","+sv.name+",") {
				kept = append(kept, sv)
			}
		}
		servers = kept
	}
	b.ResetTimer()
	got := map[string][]peerFigures{}
	for round := 0; round < rounds; round++ {
		for i := range servers { // rotate the order each round
			sv := servers[(i+round)%len(servers)]
			f := measurePeer(b, sv.start)
			got[sv.name] = append(got[sv.name], f)
			fmt.Printf("round %d %-12s deliveries/s %9.0f (per server cpu-s %9.0f; ingest %6.0f/s, server cpu %3.0f%%, subscribers cpu %3.0f%%)  p50 %6.2f ms  p99 %6.2f ms (cpu %3.0f%%)  idle %5.1f KiB/conn  events/frame %.1f  load %s\n",
				round+1, sv.name, f.deliveries, f.perCPU(), f.ingest, f.cpu, f.loadCPU, ms(f.p50), ms(f.p99), f.pacedCPU, f.idleKiB, f.perFrame, f.load)
		}
	}
	for _, sv := range servers {
		fs := got[sv.name]
		var d, p99, idle float64
		for _, f := range fs {
			d += f.deliveries
			p99 += ms(f.p99)
			idle += f.idleKiB
		}
		n := float64(len(fs))
		b.ReportMetric(d/n, sv.name+"-deliveries/s")
		b.ReportMetric(p99/n, sv.name+"-p99-ms")
		b.ReportMetric(idle/n, sv.name+"-idle-KiB/conn")
	}
	if len(got["centrifugo"]) == 0 || len(got["memory"]) == 0 || len(got["journal"]) == 0 {
		return
	}
	var mr, jr, mc, jc float64
	for round := 0; round < rounds; round++ {
		c, m, j := got["centrifugo"][round], got["memory"][round], got["journal"][round]
		fmt.Printf("round %d ratio to centrifugo: deliveries/s memory %.2fx, journal %.2fx; per server cpu-s memory %.2fx, journal %.2fx\n", round+1,
			m.deliveries/c.deliveries, j.deliveries/c.deliveries, m.perCPU()/c.perCPU(), j.perCPU()/c.perCPU())
		if mb, jb := got["memory-base"], got["journal-base"]; len(mb) > round && len(jb) > round {
			fmt.Printf("round %d base ratio to centrifugo: deliveries/s memory %.2fx, journal %.2fx; per server cpu-s memory %.2fx, journal %.2fx\n", round+1,
				mb[round].deliveries/c.deliveries, jb[round].deliveries/c.deliveries, mb[round].perCPU()/c.perCPU(), jb[round].perCPU()/c.perCPU())
		}
		mr += m.deliveries / c.deliveries
		jr += j.deliveries / c.deliveries
		mc += m.perCPU() / c.perCPU()
		jc += j.perCPU() / c.perCPU()
	}
	n := float64(rounds)
	b.ReportMetric(mr/n, "memory-x-centrifugo")
	b.ReportMetric(jr/n, "journal-x-centrifugo")
	b.ReportMetric(mc/n, "memory-x-centrifugo-per-cpu")
	b.ReportMetric(jc/n, "journal-x-centrifugo-per-cpu")
}
