package hookcfg

import (
	"context"
	"fmt"
	"time"

	"github.com/mpm-dev/mpm/internal/hook"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/protocol/codec"
)

// Health is the daemon's /healthz answer and the HTTP status it came with.
type Health struct {
	protocol.Health
	// Status is the HTTP status code of the answer.
	Status int `json:"-"`
}

// HealthTimeout bounds a status check of the daemon.
const HealthTimeout = time.Second

// CheckDaemon asks http://addr/healthz, within timeout (and ctx's deadline,
// if sooner). An error means the daemon did not answer (refused, hung, or
// something else answered). It uses mpm-hook's own light HTTP client, so
// that mpm-hookctl (which mpm-hook runs for its subcommands) links no
// net/http either.
func CheckDaemon(ctx context.Context, addr string, timeout time.Duration) (Health, error) {
	var h Health
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = time.Until(d)
	}
	code, body, err := hook.Get(addr, "/healthz", "", timeout)
	if err != nil {
		return h, err
	}
	h.Status = code
	if h.Health, err = codec.DecodeHealth(body); err != nil {
		return h, fmt.Errorf("something answers on %s but it is not mpm-wsd (HTTP %d, body not JSON)", addr, code)
	}
	if h.Service != "" && h.Service != protocol.ServiceName {
		return h, fmt.Errorf("%s answers on %s, not mpm-wsd", h.Service, addr)
	}
	return h, nil
}
