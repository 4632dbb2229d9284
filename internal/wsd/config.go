// Package wsd is the mpm-wsd daemon: ingest, sequencing, the store, the hub,
// and the HTTP API around them (docs/protocol.md).
package wsd

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mpm-dev/mpm/internal/paths"
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
	// MaxClients bounds WebSocket clients (0: no limit).
	MaxClients int
	// ClientQueueBytes bounds each client's queue before it is dropped as slow.
	ClientQueueBytes int
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
	// MaxBatch bounds how many events one commit groups.
	MaxBatch int
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
		MaxClients:       1000,
		ClientQueueBytes: 64 << 20,
		Heartbeat:        10 * time.Second,
		WriteTimeout:     10 * time.Second,
		Coalesce:         8 * time.Millisecond,
		ShutdownTimeout:  5 * time.Second,
		SpoolInterval:    2 * time.Second,
		MaxBatch:         1024,
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
	if c.MaxClients < 0 {
		return fmt.Errorf("--max-clients must be 0 (no limit) or more")
	}
	return nil
}
