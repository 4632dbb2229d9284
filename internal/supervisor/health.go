package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/protocol/codec"
)

// ServiceName is mpm-wsd's executable name, which is also what its
// /healthz says in "service".
const ServiceName = protocol.ServiceName

// healthClient never reuses connections: a check must reach the process
// that holds the port now, not a socket kept alive from before.
var healthClient = &http.Client{
	Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// fetchHealth GETs http://addr/healthz within timeout and decodes it.
func fetchHealth(ctx context.Context, addr string, timeout time.Duration) (protocol.Health, int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return protocol.Health{}, 0, err
	}
	resp, err := healthClient.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return protocol.Health{}, 0, fmt.Errorf("no answer within %v", timeout)
		}
		return protocol.Health{}, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return protocol.Health{}, resp.StatusCode, fmt.Errorf("answer not complete within %v", timeout)
		}
		return protocol.Health{}, resp.StatusCode, err
	}
	h, err := codec.DecodeHealth(body)
	if err != nil {
		return h, resp.StatusCode, fmt.Errorf("HTTP %d with a body that is not /healthz JSON", resp.StatusCode)
	}
	return h, resp.StatusCode, nil
}

// judgeHealth says whether a /healthz answer comes from our own healthy
// child with pid wantPid; the error says what is wrong.
func judgeHealth(h protocol.Health, code int, wantPid int) error {
	switch {
	case h.Service != protocol.ServiceName:
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
func degradedReason(h protocol.Health) string {
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
