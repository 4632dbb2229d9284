// Package wsd is the mpm-wsd daemon: ingest, sequencing, the store, the hub,
// and the HTTP API around them (docs/protocol.md).
package wsd

import (
	"fmt"
	"math"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mpm-dev/mpm/internal/notify"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/sessions"
	"github.com/mpm-dev/mpm/internal/usage"
)

// Config is everything the daemon can be told. DefaultConfig fills it in.
type Config struct {
	// Addr is the listen address, host:port.
	Addr string
	// DataDir holds the token, the journal and the hook spool.
	DataDir string
	// AllowRemote permits a non-loopback Addr.
	AllowRemote bool
	// AllowedHosts are extra Host header names (host or host:port) accepted
	// besides the loopback names; for use with AllowRemote.
	AllowedHosts []string
	// History is how many events the in-memory store keeps for replay.
	History int
	// Journal keeps events in the durable journal in DataDir (the daemon's
	// StoreOpener reads it); false keeps the last History events in memory.
	Journal bool
	// MaxEventBytes bounds one ingested payload.
	MaxEventBytes int
	// HistoryBytes bounds one GET /v1/events answer, besides its limit
	// (about; at least one event).
	HistoryBytes int
	// MaxClients bounds WebSocket clients (0: no limit).
	MaxClients int
	// ClientQueueBytes bounds each client's queue before it is dropped as slow.
	ClientQueueBytes int
	// MaxConns bounds the open connections, HTTP and WebSocket (lowered to
	// fit the process's open file limit; see connLimiter).
	MaxConns int
	// IdleTimeout closes a keep-alive connection idle that long.
	IdleTimeout time.Duration
	// HeaderTimeout bounds reading a request's headers.
	HeaderTimeout time.Duration
	// Heartbeat is the WebSocket ping and heartbeat interval.
	Heartbeat time.Duration
	// WriteTimeout bounds each write to a WebSocket client.
	WriteTimeout time.Duration
	// Coalesce is the most a client's events are held back so that they
	// share frames under a high event rate (the window adapts per client).
	Coalesce time.Duration
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration
	// SpoolInterval is how often the hook spool is checked and drained.
	SpoolInterval time.Duration
	// StraySpools are other hook spool directories drained as well, each
	// only while its data directory has no token file (no daemon uses it):
	// where mpm-hook spools when it looks for the daemon in another data
	// directory than DataDir. Default: the default data directory's spool.
	StraySpools []string
	// MaxBatch bounds how many events one commit groups.
	MaxBatch int
	// StaleAfter is how long a working session may go without an event
	// before it is flagged stale (0: never).
	StaleAfter time.Duration
	// NotifyWebhooks are URLs posted to when a session starts needing its
	// person; NotifyFormat is their body's format (json, slack, ntfy).
	NotifyWebhooks []string
	NotifyFormat   string
	// ClaudeProjectsDir is the only directory session transcripts are read
	// from for their usage (default $CLAUDE_CONFIG_DIR/projects, else
	// ~/.claude/projects).
	ClaudeProjectsDir string
	// PricesFile, when set, is a JSON file of model prices overriding the
	// built-in table (--prices).
	PricesFile string
	// BudgetSessionUSD puts a session whose cost passes it into the
	// attention inbox, notified once (0: no budget).
	BudgetSessionUSD float64
	// BudgetDayUSD does the same for every session that spends while the
	// day's cost across sessions (the local calendar day) is past it (0: no
	// budget).
	BudgetDayUSD float64
	// UsageTick is how often every known transcript is looked at for usage,
	// events or not.
	UsageTick time.Duration
	// Logger is the root logger; components take Named children.
	Logger hclog.Logger
}

// DefaultConfig returns the defaults documented in the README.
func DefaultConfig() Config {
	return Config{
		Addr:             paths.Addr(),
		DataDir:          paths.DataDir(),
		History:          10000,
		Journal:          true,
		MaxEventBytes:    1 << 20,
		HistoryBytes:     4 << 20,
		MaxClients:       1000,
		ClientQueueBytes: 64 << 20,
		MaxConns:         2048,
		IdleTimeout:      30 * time.Second,
		HeaderTimeout:    5 * time.Second,
		Heartbeat:        10 * time.Second,
		WriteTimeout:     10 * time.Second,
		Coalesce:         8 * time.Millisecond,
		ShutdownTimeout:  5 * time.Second,
		SpoolInterval:    2 * time.Second,
		StraySpools:      []string{paths.Spool(paths.DefaultDataDir())},
		MaxBatch:         1024,
		StaleAfter:       sessions.DefaultStaleAfter,
		NotifyFormat:     "json",

		// Usage: internal/usage.
		ClaudeProjectsDir: usage.DefaultProjectsDir(),
		UsageTick:         usage.DefaultTick,
	}
}

// Validate checks the configuration and says how to fix what is wrong.
func (c *Config) Validate() error {
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("--addr %q is not host:port (for example 127.0.0.1:8765): %v", c.Addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("--addr %q: port %q is not a number from 0 to 65535", c.Addr, port)
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return fmt.Errorf("--addr %q: use an IP address, not a name (for example 127.0.0.1:%s): %q may resolve to an address you did not mean", c.Addr, port, host)
	}
	if !ip.IsLoopback() && !c.AllowRemote {
		return fmt.Errorf("--addr %q is not a loopback address: mpm serves your prompts and tool results, so it listens on 127.0.0.1 only unless you pass --allow-remote", c.Addr)
	}
	if c.DataDir == "" {
		return fmt.Errorf("no data directory: set --data-dir or MPM_DATA_DIR")
	}
	if c.History < 1 {
		return fmt.Errorf("--history must be at least 1")
	}
	if c.MaxEventBytes < 1024 {
		return fmt.Errorf("--max-event-bytes must be at least 1024")
	}
	if c.MaxConns < 1 {
		return fmt.Errorf("--max-conns must be at least 1")
	}
	if c.MaxClients < 0 {
		return fmt.Errorf("--max-clients must be 0 (no limit) or more")
	}
	if c.StaleAfter < 0 {
		return fmt.Errorf("--stale-after must be 0 (never) or more")
	}
	for _, b := range []struct {
		flag string
		usd  float64
	}{{"--budget-session-usd", c.BudgetSessionUSD}, {"--budget-day-usd", c.BudgetDayUSD}} {
		if !(b.usd >= 0) || math.IsInf(b.usd, 0) {
			return fmt.Errorf("%s must be 0 (no budget) or an amount in USD, such as 5 or 0.50", b.flag)
		}
	}
	nc := notify.Config{URLs: c.NotifyWebhooks, Format: c.NotifyFormat}
	if err := nc.Validate(); err != nil {
		return err
	}
	return nil
}
