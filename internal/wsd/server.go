package wsd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mpm-dev/mpm/internal/approvals"
	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/hub"
	"github.com/mpm-dev/mpm/internal/logging"
	"github.com/mpm-dev/mpm/internal/monitor"
	"github.com/mpm-dev/mpm/internal/notify"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/sessions"
	"github.com/mpm-dev/mpm/internal/store"
	"github.com/mpm-dev/mpm/internal/usage"
	"github.com/mpm-dev/mpm/internal/version"
)

// StoreOpener opens the event store for a configuration. nil in Options
// means the in-memory store with cfg.History events.
type StoreOpener func(cfg Config, log hclog.Logger) (store.Store, error)

// Options are the pluggable parts of a Server.
type Options struct {
	// OpenStore opens the store; nil: in memory.
	OpenStore StoreOpener
	// Static serves the dashboard at /; nil: no dashboard.
	Static http.Handler
	// Background are extra loops (fleet mode's publisher or consumer) that
	// run from Run until shutdown; ctx ends before the ingest loop stops.
	// An error is logged; it does not stop the daemon.
	Background []func(ctx context.Context, s *Server) error
	// Prepare run in order in Run, before the server answers a request
	// and before Background starts (a fleet hub lists again the other
	// machines' permission requests still pending).
	Prepare []func(s *Server)
	// FleetStatus, when set, reports fleet mode's NATS link in /healthz.
	FleetStatus func() (protocol.FleetStatus, bool)
	// Listener, when set, is where the server serves (tests pass one on
	// 127.0.0.1:0); nil: Listen binds Config.Addr.
	Listener net.Listener
}

// Server is a running mpm-wsd.
type Server struct {
	// cfg is the configuration.
	cfg Config
	// log is the root logger.
	log hclog.Logger
	// instance is this run's random id.
	instance string
	// started is when New ran.
	started time.Time
	// token is the access token.
	token string
	// store keeps events.
	store store.Store
	// tracker summarises sessions.
	tracker *sessions.Tracker
	// ingest is the sequencing loop (it owns the hub).
	ingest *ingester
	// caster sends the "session" frames.
	caster *caster
	// usage reads the sessions' transcripts for tokens, cost and context.
	usage *usage.Manager
	// notifier posts the attention webhooks; nil without --notify-webhook.
	notifier *notify.Notifier
	// m holds the metrics.
	m *metrics
	// guard enforces access rules.
	guard *guard
	// upgrader upgrades /v1/ws.
	upgrader *websocket.Upgrader
	// http is the HTTP server.
	http *http.Server
	// ln is the listener, after Listen (or Options.Listener).
	ln net.Listener
	// conns caps the open connections (it wraps ln).
	conns *connLimiter
	// sock serves the Unix socket (POST /v1/events only), nil without
	// one; sockLn is its listener behind its own connection cap.
	sock   *http.Server
	sockLn *connLimiter
	// static is Options.Static, served once the server listens.
	static http.Handler
	// background are Options.Background.
	background []func(ctx context.Context, s *Server) error
	// prepare are Options.Prepare.
	prepare []func(s *Server)
	// fleetStatus is Options.FleetStatus.
	fleetStatus func() (protocol.FleetStatus, bool)
	// approvals holds the permission requests waiting for an answer from
	// mpm; approvalMode is the "answer from mpm" switch; approvalJournal
	// counts the resolutions being journaled (approvals.go).
	approvals       *approvals.Registry
	approvalMode    *approvals.Mode
	approvalJournal sync.WaitGroup
	// fleetHooks are fleet mode's watchers (fleethooks.go).
	fleetHooks fleetHooks
	// loopsCancel ends the loops Run starts besides serving (the spool
	// drainer and the background loops); loopsDone counts them. The ingest
	// loop, stopped last, has its own pair (ingest.cancel, ingestDone).
	// The server's loops are stopped this one way: cancel, then wait.
	loopsCancel context.CancelFunc
	loopsDone   sync.WaitGroup
	ingestDone  sync.WaitGroup
	// followCancel ends the loops that follow the ingest loop's commits
	// (the session caster, the usage reader), after it; followDone counts
	// them.
	followCancel context.CancelFunc
	followDone   sync.WaitGroup
}

// New validates cfg, creates the data directory and token, opens the store
// and builds the daemon. It does not listen yet.
func New(cfg Config, opts Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	def := DefaultConfig()
	if cfg.HistoryBytes <= 0 {
		cfg.HistoryBytes = def.HistoryBytes
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = def.IdleTimeout
	}
	if cfg.HeaderTimeout <= 0 {
		cfg.HeaderTimeout = def.HeaderTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	tok, err := prepareDataDir(cfg.DataDir, log)
	if err != nil {
		return nil, err
	}
	var st store.Store
	if opts.OpenStore != nil {
		st, err = opts.OpenStore(cfg, log.Named(logging.NameStore))
		if err != nil {
			return nil, err
		}
	} else {
		st = store.NewMemory(cfg.History)
	}
	infos, err := st.Sessions()
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("read sessions from the store: %w", err)
	}
	prices, err := usage.LoadPrices(cfg.PricesFile)
	if err != nil {
		st.Close()
		return nil, err
	}
	var raw [8]byte
	rand.Read(raw[:])
	s := &Server{
		cfg:         cfg,
		log:         log,
		instance:    hex.EncodeToString(raw[:]),
		started:     time.Now(),
		token:       tok,
		store:       st,
		tracker:     sessions.NewTracker(infos),
		m:           newMetrics(),
		background:  opts.Background,
		prepare:     opts.Prepare,
		fleetStatus: opts.FleetStatus,
	}
	if c, ok := st.(interface{ Collectors() []prometheus.Collector }); ok {
		s.m.reg.MustRegister(c.Collectors()...) // the journal's ingest log counters
	}
	if len(cfg.NotifyWebhooks) > 0 {
		s.notifier, err = notify.New(notify.Config{
			URLs: cfg.NotifyWebhooks, Format: cfg.NotifyFormat, DashboardURL: "http://" + cfg.Addr + "/",
			Logger: log.Named("notify"), Registerer: s.m.reg,
		})
		if err != nil {
			st.Close()
			return nil, err
		}
	}
	s.caster = newCaster(s.tracker, nil, s.notifier, cfg.StaleAfter, log.Named("sessions"))
	s.usage = usage.New(usage.Config{
		ProjectsDir: cfg.ClaudeProjectsDir, Prices: prices, Tick: cfg.UsageTick, Registerer: s.m.reg,
		Logger: log.Named("usage"), OnChange: s.usageChanged,
	})
	s.caster.usage = s.usage.Session
	s.caster.budgets = newBudgets(cfg.BudgetSessionUSD, cfg.BudgetDayUSD, s.m.reg)
	s.caster.budgets.restore(infos)
	h := hub.New(hub.Config{
		Store: st, Logger: log.Named(logging.NameHub), Metrics: s.m.hub, Instance: s.instance, Version: version.Version,
		QueueBytes: cfg.ClientQueueBytes, Heartbeat: cfg.Heartbeat, WriteTimeout: cfg.WriteTimeout, MaxClients: cfg.MaxClients,
		Coalesce: cfg.Coalesce, SessionFrames: func(ids []string) [][]byte {
			return append(s.caster.frames(ids), s.approvalFrames(ids)...)
		},
	})
	s.caster.hub = h
	s.ingest = newIngester(st, h, s.tracker, s.m, log.Named(logging.NameIngest), cfg.MaxBatch)
	s.m.refusedLog = newRateLog(log.Named("auth"), refusedLogEvery)
	s.ingest.changed = s.caster.changed
	s.setupApprovals()
	s.ingest.touched = s.usage.TouchEvents
	// Usage is recomputed from the transcripts at start (nothing about it
	// is stored): read every known local session's once.
	for _, in := range infos {
		if in.Origin == "" {
			agents := make([]string, len(in.Agents))
			for k, a := range in.Agents {
				agents[k] = a.AgentID
			}
			s.usage.Touch(in.SessionID, in.TranscriptPath, agents...)
		}
	}
	fdLimit := raiseFileLimit()
	maxConns := connCap(cfg.MaxConns, fdLimit)
	if maxConns < cfg.MaxConns {
		log.Warn("the open file limit is too low for --max-conns: fewer connections allowed; raise the limit (ulimit -n, LimitNOFILE=)", "max_conns", cfg.MaxConns, "allowed", maxConns, "open_file_limit", fdLimit)
	}
	s.conns = newConnLimiter(nil, maxConns, log.Named(logging.NameHTTP), s.m.reg)
	s.static = opts.Static
	if opts.Listener != nil {
		s.use(opts.Listener)
	}
	return s, nil
}

// use makes ln the server's listener (behind the connection cap) and
// builds what depends on its address: the Host/Origin guard, which needs
// the real port (also when Config.Addr asked for port 0), the WebSocket
// upgrader and the HTTP server.
func (s *Server) use(ln net.Listener) {
	s.conns.Listener = ln
	s.ln = s.conns
	s.guard = newGuard(ln.Addr().String(), s.cfg.AllowedHosts, s.token, s.m)
	s.upgrader = s.newUpgrader()
	s.http = &http.Server{
		Handler:           s.handler(s.static),
		ReadHeaderTimeout: s.cfg.HeaderTimeout,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ConnState:         s.conns.connState,
		ConnContext:       connContext,
		ErrorLog:          s.log.Named(logging.NameHTTP).StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	if s.sock == nil {
		// The Unix socket is bound with the TCP address, so that both
		// take connections once Listen returns; Run serves them.
		sockPath := paths.Socket(s.cfg.DataDir)
		if sln, err := listenSocket(sockPath); err == nil {
			s.sock = s.socketServer(sln)
		} else if !errors.Is(err, errors.ErrUnsupported) {
			s.log.Warn("no Unix socket: mpm-hook posts over TCP with the token", "path", sockPath, "error", err)
		}
	}
}

// AddrInUseError says the listen address is taken, and by whom when known.
type AddrInUseError struct {
	// Addr is the address.
	Addr string
	// Holder describes the process holding it, when it is an mpm-wsd.
	Holder string
	// Err is the listen error.
	Err error
}

func (e *AddrInUseError) Error() string {
	if e.Holder != "" {
		return fmt.Sprintf("%s is already in use by %s: stop it first, or pick another --addr", e.Addr, e.Holder)
	}
	return fmt.Sprintf("%s is already in use by another program: find it (e.g. `ss -ltnp 'sport = :%s'`) or pick another --addr", e.Addr, portOf(e.Addr))
}

func (e *AddrInUseError) Unwrap() error { return e.Err }

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// Listen binds the address. A busy address gives an *AddrInUseError that
// names the holder when it is an mpm-wsd.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) || isAddrInUse(err) {
			return &AddrInUseError{Addr: s.cfg.Addr, Holder: probeHolder(s.cfg.Addr), Err: err}
		}
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.use(ln)
	return nil
}

// Addr is the address the server listens on (after Listen).
func (s *Server) Addr() string {
	if s.ln != nil {
		return s.ln.Addr().String()
	}
	return s.cfg.Addr
}

// DashboardURL is the dashboard's address with the token in the fragment.
func (s *Server) DashboardURL() string {
	return "http://" + s.Addr() + "/#token=" + s.token
}

// Run serves until ctx ends, then shuts down gracefully within
// ShutdownTimeout: no new connections, ingest requests in flight answered,
// WebSocket clients sent what is queued and a 1001 close, the store closed.
func (s *Server) Run(ctx context.Context) error {
	if s.ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	s.goLoop(s.ingest.halt, &s.ingestDone, s.ingest.run)
	// The caster and the usage reader follow the ingest loop: they stop
	// after it (shutdown), so that the last commit's frames go out.
	follow, followCancel := context.WithCancel(context.Background())
	s.followCancel = followCancel
	s.goLoop(follow, &s.followDone, s.caster.run)
	s.goLoop(follow, &s.followDone, s.usage.Run)
	for _, p := range s.prepare {
		p(s)
	}
	loops, cancel := context.WithCancel(context.Background())
	s.loopsCancel = cancel
	s.goLoop(loops, &s.loopsDone, func(ctx context.Context) error { s.drainSpoolLoop(ctx); return nil })
	for _, bg := range s.background {
		s.goLoop(loops, &s.loopsDone, func(ctx context.Context) error { return bg(ctx, s) })
	}
	errc := make(chan error, 2)
	go func() { errc <- s.http.Serve(s.ln) }()
	if s.sock != nil {
		go func() {
			if err := s.sock.Serve(s.sockLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
		s.log.Info("listening for mpm-hook on the Unix socket", "path", paths.Socket(s.cfg.DataDir))
	}
	s.log.Info("listening", "addr", s.Addr(), "version", version.Version, "instance", s.instance,
		"store", s.store.Kind(), "last_seq", s.store.LastSeq(), "data_dir", s.cfg.DataDir)
	// The token never goes to the log (which may end in the system
	// journal): the full URL is printed only to a terminal, on a line of
	// its own; mpm-verify and mpm-manager status print it on request.
	s.log.Info("dashboard (mpm-verify prints the URL with the token)", "url", "http://"+s.Addr()+"/")
	if monitor.IsTerminal(os.Stderr) {
		fmt.Fprintf(os.Stderr, "\nDashboard: %s\n\n", s.DashboardURL())
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	return errors.Join(serveErr, s.shutdown())
}

// goLoop runs f until ctx ends, counted in wg; shutdown cancels ctx and
// waits on wg. An error other than the cancellation is logged: it does not
// stop the daemon.
func (s *Server) goLoop(ctx context.Context, wg *sync.WaitGroup, f func(ctx context.Context) error) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := f(ctx); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("background loop stopped", "error", err)
		}
	}()
}

// shutdown stops everything in order within ShutdownTimeout.
func (s *Server) shutdown() error {
	s.log.Info("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	s.loopsCancel()
	s.loopsDone.Wait()
	s.approvals.Close() // waiting hooks get nothing at once: Claude Code asks in the terminal
	var sockErr error
	sockDone := make(chan struct{})
	go func() {
		defer close(sockDone)
		if s.sock != nil {
			// Closing the listener removes the socket file.
			if sockErr = s.sock.Shutdown(ctx); errors.Is(sockErr, context.DeadlineExceeded) {
				sockErr = nil
				s.sock.Close()
			}
		}
	}()
	httpErr := s.http.Shutdown(ctx) // waits for ingest requests in flight
	<-sockDone
	s.approvalJournal.Wait()
	hubErr := s.ingest.hub.Shutdown(ctx)
	s.ingest.cancel()
	s.ingestDone.Wait()
	s.followCancel()
	s.followDone.Wait()
	s.notifier.Close()
	storeErr := s.store.Close()
	if errors.Is(httpErr, context.DeadlineExceeded) {
		httpErr = nil
		s.http.Close()
	}
	if hubErr != nil {
		s.log.Warn("some clients did not take their last events before the shutdown deadline; they will get them on resume", "error", hubErr)
	}
	s.log.Info("stopped", "last_seq", s.ingest.last)
	return errors.Join(httpErr, sockErr, storeErr)
}

// Ingest sequences and stores one event like POST /v1/events does (fleet
// mode's consumer feeds the hub's events through it). ev must come from
// event.Parse; Received is set here when zero.
func (s *Server) Ingest(ctx context.Context, ev *event.Event) (seq uint64, duplicate bool, err error) {
	if ev.Received.IsZero() {
		ev.Received = time.Now()
	}
	res := s.ingest.submit(ctx, ev)
	return res.seq, res.dup, res.err
}

// Store is the daemon's event store (fleet mode's publisher reads it).
func (s *Server) Store() store.Store { return s.store }

// LastSeq is the highest seq stored and published.
func (s *Server) LastSeq() uint64 { return s.ingest.hub.LastSeq() }

// Logger is the daemon's root logger.
func (s *Server) Logger() hclog.Logger { return s.log }

// Registry is the Prometheus registry /metrics serves.
func (s *Server) Registry() *prometheus.Registry { return s.m.reg }

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{})
}
