package hookcfg

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Health is the daemon's /healthz answer.
type Health struct {
	// OK is true when the daemon's broadcast loop answered.
	OK bool `json:"ok"`
	// Service names the program ("mpm-wsd").
	Service string `json:"service"`
	// Version is the daemon's build version.
	Version string `json:"version"`
	// PID is the daemon's process id.
	PID int `json:"pid"`
	// Instance changes at every daemon start.
	Instance string `json:"instance"`
	// UptimeSeconds is how long the daemon has run.
	UptimeSeconds float64 `json:"uptime_seconds"`
	// LastSeq is the last event sequence number.
	LastSeq int64 `json:"last_seq"`
	// Status is the HTTP status code of the answer.
	Status int `json:"-"`
}

// HealthTimeout bounds a status check of the daemon.
const HealthTimeout = time.Second

// CheckDaemon asks http://addr/healthz, within timeout. An error means the
// daemon did not answer (refused, hung, or something else answered).
func CheckDaemon(ctx context.Context, addr string, timeout time.Duration) (Health, error) {
	var h Health
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return h, fmt.Errorf("bad daemon address %q: %w", addr, err)
	}
	// No proxy, no keep-alive: a loopback probe.
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return h, err
	}
	h.Status = resp.StatusCode
	if err := json.Unmarshal(body, &h); err != nil {
		return h, fmt.Errorf("something answers on %s but it is not mpm-wsd (HTTP %d, body not JSON)", addr, resp.StatusCode)
	}
	if h.Service != "" && h.Service != "mpm-wsd" {
		return h, fmt.Errorf("%s answers on %s, not mpm-wsd", h.Service, addr)
	}
	return h, nil
}
