package verify

import (
	"context"
	"net"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/version"
)

// DefaultTimeout bounds each network step (connect, one HTTP request, the
// WebSocket handshake, the round trip).
const DefaultTimeout = 5 * time.Second

// ServiceState is what the OS service manager says about mpm-manager.
type ServiceState struct {
	// State is "not installed", "stopped", "running" or "unknown".
	State string
	// Name is the service's name and kind, e.g. "mpm (systemd user unit)".
	Name string
	// User is true for a per-user service (systemd --user, launchd agent).
	User bool
	// Err explains an "unknown" state.
	Err error
}

// Config says what to check. Every empty field has a default from the
// environment, so tests inject temp directories and fakes.
type Config struct {
	// Addr is the daemon's host:port (default MPM_ADDR or 127.0.0.1:8765).
	Addr string
	// DataDir is mpm's data directory with the token, the spool and the
	// manager state (default MPM_DATA_DIR or the OS's state directory).
	DataDir string
	// HomeDir is the user's home, where ~/.claude/settings.json lives
	// (default os.UserHomeDir, i.e. $HOME).
	HomeDir string
	// ClaudeConfigDir replaces ~/.claude (default $CLAUDE_CONFIG_DIR).
	ClaudeConfigDir string
	// ProjectDir holds .claude/settings.json and settings.local.json
	// (default the working directory).
	ProjectDir string
	// HookExecutable is the mpm-hook this installation would wire in
	// (default: mpm-hook next to the running binary). Entries are
	// recognised by the name mpm-hook whatever this is.
	HookExecutable string
	// Timeout bounds each network step (default DefaultTimeout).
	Timeout time.Duration
	// Session is a session id for which to print the dashboard URL.
	Session string
	// Service asks the OS service manager about mpm-manager; nil leaves
	// the service out of the manager check.
	Service func(ctx context.Context) []ServiceState
	// LookupHost resolves a name (default net.DefaultResolver.LookupHost).
	LookupHost func(ctx context.Context, host string) ([]string, error)
	// HookRunTimeout bounds `mpm-hook help` when checking that the hook
	// binary runs (default 5s).
	HookRunTimeout time.Duration
	// subscribeTo, when set (tests), replaces the probe's session in the
	// WebSocket's subscription: the probe then never comes back.
	subscribeTo []string
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = paths.Addr()
	}
	if c.DataDir == "" {
		c.DataDir = paths.DataDir()
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.LookupHost == nil {
		c.LookupHost = net.DefaultResolver.LookupHost
	}
	if c.HookRunTimeout <= 0 {
		c.HookRunTimeout = 5 * time.Second
	}
	return c
}

// state carries what earlier checks learned to the later ones.
type state struct {
	cfg Config
	// addrOK: the address parses (host:port); network checks can run.
	addrOK bool
	// health is the daemon's /healthz answer when it is an mpm-wsd.
	health *protocol.Health
	// daemonWhy says why the daemon checks failed ("" when it answers).
	daemonWhy string
	// token is the token read from the data directory ("" if unreadable).
	token string
	// tokenAccepted: GET /v1/sessions answered 200 with it; tokenRefused:
	// it answered 401 (the daemon has another token).
	tokenAccepted, tokenRefused bool
	// conn is the WebSocket opened by the websocket check, subscribed to
	// probeSession; nil when the handshake failed.
	conn *websocket.Conn
	// probeSession is the private session id of the round-trip probe.
	probeSession string
}

// Run performs every check in order and returns the report.
func Run(ctx context.Context, cfg Config) Report {
	cfg = cfg.withDefaults()
	st := &state{cfg: cfg}
	r := Report{Version: version.Version, Addr: cfg.Addr, DataDir: cfg.DataDir}
	for _, check := range []func(context.Context, *state) Result{
		checkAddress,
		checkDaemon,
		checkToken,
		checkWebSocket,
		checkRoundTrip,
		checkManager,
		checkHooks,
		checkSpool,
	} {
		r.Checks = append(r.Checks, check(ctx, st))
	}
	// The NATS link, only when the daemon runs in fleet mode (reported in
	// the /healthz answer the daemon check already fetched).
	if res, ok := checkFleet(st, time.Now()); ok {
		r.Checks = append(r.Checks, res)
	}
	if st.conn != nil {
		closeConn(st.conn)
	}
	r.OK = r.Count(Fail) == 0
	if st.token != "" {
		r.DashboardURL = DashboardURL(cfg.Addr, "", st.token)
	}
	if cfg.Session != "" {
		r.SessionURL = DashboardURL(cfg.Addr, cfg.Session, st.token)
	}
	return r
}
