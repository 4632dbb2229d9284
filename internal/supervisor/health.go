package supervisor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ServiceName is what mpm-wsd's /healthz says in "service".
const ServiceName = "mpm-wsd"

// healthReply is the part of /healthz the supervisor reads.
type healthReply struct {
	// OK is false when the daemon's hub is stuck (HTTP 503).
	OK bool `json:"ok"`
	// Service must be "mpm-wsd".
	Service string `json:"service"`
	// Pid must be our child's pid.
	Pid int `json:"pid"`
	// Version is the daemon's version, for logs.
	Version string `json:"version"`
	// Degraded and StoreError say the daemon's store cannot write (a full
	// disk): reported, never a reason to restart it, which would not help.
	Degraded   bool   `json:"degraded"`
	StoreError string `json:"store_error"`
}

// healthClient never reuses connections: a check must reach the process
// that holds the port now, not a socket kept alive from before.
var healthClient = &http.Client{
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// fetchHealth GETs http://addr/healthz within timeout and decodes it.
func fetchHealth(ctx context.Context, addr string, timeout time.Duration) (healthReply, int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return healthReply{}, 0, err
	}
	resp, err := healthClient.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return healthReply{}, 0, fmt.Errorf("no answer within %v", timeout)
		}
		return healthReply{}, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return healthReply{}, resp.StatusCode, fmt.Errorf("answer not complete within %v", timeout)
		}
		return healthReply{}, resp.StatusCode, err
	}
	var h healthReply
	if err := json.Unmarshal(body, &h); err != nil {
		return h, resp.StatusCode, fmt.Errorf("HTTP %d with a body that is not /healthz JSON", resp.StatusCode)
	}
	return h, resp.StatusCode, nil
}

// judgeHealth says whether a /healthz answer comes from our own healthy
// child with pid wantPid; the error says what is wrong.
func judgeHealth(h healthReply, code int, wantPid int) error {
	switch {
	case h.Service != ServiceName:
		return fmt.Errorf("the answer is not from mpm-wsd (service %q, HTTP %d)", h.Service, code)
	case h.Pid != wantPid:
		return fmt.Errorf("the answer is from mpm-wsd pid %d, not from our child pid %d", h.Pid, wantPid)
	case code != http.StatusOK || !h.OK:
		return fmt.Errorf("mpm-wsd says it is not healthy (HTTP %d): its hub does not answer", code)
	}
	return nil
}

// degradedReason is what a healthy answer says is wrong without calling
// for a restart: a store that cannot write ("" when nothing).
func degradedReason(h healthReply) string {
	if !h.Degraded {
		return ""
	}
	if h.StoreError == "" {
		return "the daemon reports its store as degraded"
	}
	return h.StoreError
}

// checkHealth runs one check of our child pid at addr. degraded is set
// when the child is healthy but its store cannot write.
func checkHealth(ctx context.Context, addr string, timeout time.Duration, pid int) (degraded string, err error) {
	h, code, err := fetchHealth(ctx, addr, timeout)
	if err != nil {
		return "", err
	}
	if err := judgeHealth(h, code, pid); err != nil {
		return "", err
	}
	return degradedReason(h), nil
}
