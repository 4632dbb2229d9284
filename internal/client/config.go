// Package client is the one Go client of mpm-wsd (docs/protocol.md), used by
// mpm-monitor, mpm-verify and the tests: the HTTP endpoints (health,
// sessions, history, ingest) and a WebSocket stream that resumes after the
// last seq it delivered across daemon restarts and network drops, so that a
// consumer sees every event once, in seq order, with no gap.
package client

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/token"
)

// Config says which daemon to talk to and how.
type Config struct {
	// Addr is the daemon's host:port; empty: MPM_ADDR or 127.0.0.1:8765.
	Addr string
	// Token is the access token; empty: read from DataDir's token file
	// (again before every connection, so a recreated token is picked up).
	Token string
	// DataDir holds the token file; empty: MPM_DATA_DIR or the OS default.
	DataDir string
	// Origin is sent on the WebSocket handshake; empty: http://<Addr>, the
	// daemon's own origin.
	Origin string
	// Logger receives debug logs; nil: none.
	Logger hclog.Logger
	// BackoffMin is the first reconnect delay; 0: 100ms.
	BackoffMin time.Duration
	// BackoffMax bounds the reconnect delay; 0: 5s.
	BackoffMax time.Duration
	// HTTPClient makes the HTTP requests; nil: a client without proxy that
	// dials only the configured address.
	HTTPClient *http.Client
}

// Client talks to one mpm-wsd. Safe for concurrent use.
type Client struct {
	// cfg is the configuration with defaults applied.
	cfg Config
	// http makes the HTTP requests.
	http *http.Client
	// log is never nil.
	log hclog.Logger
}

// New returns a client for cfg. It does not contact the daemon.
func New(cfg Config) (*Client, error) {
	if cfg.Addr == "" {
		cfg.Addr = paths.Addr()
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return nil, fmt.Errorf("address %q is not host:port (e.g. 127.0.0.1:8765): %w", cfg.Addr, err)
	}
	if cfg.DataDir == "" && cfg.Token == "" {
		cfg.DataDir = paths.DataDir()
	}
	if cfg.Origin == "" {
		cfg.Origin = "http://" + cfg.Addr
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = 100 * time.Millisecond
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = 5 * time.Second
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMax = cfg.BackoffMin
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{
			Proxy:               nil, // loopback: never through a proxy
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     30 * time.Second,
		}}
	}
	return &Client{cfg: cfg, http: hc, log: cfg.Logger}, nil
}

// Addr is the daemon address the client uses.
func (c *Client) Addr() string { return c.cfg.Addr }

// Token returns the access token: Config.Token, else the data directory's
// token file read now.
func (c *Client) Token() (string, error) {
	if c.cfg.Token != "" {
		return c.cfg.Token, nil
	}
	p := paths.Token(c.cfg.DataDir)
	t, err := token.Read(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("no token file at %s: start mpm-wsd once (it creates it), or pass --data-dir / MPM_DATA_DIR of the running daemon", p)
		}
		return "", fmt.Errorf("read token: %w", err)
	}
	return t, nil
}

// authHeader is the Authorization header value.
func (c *Client) authHeader() (string, error) {
	t, err := c.Token()
	if err != nil {
		return "", err
	}
	return "Bearer " + strings.TrimSpace(t), nil
}
