package verify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/protocol/codec"
	"github.com/mpm-dev/mpm/internal/supervisor/procinfo"
	"github.com/mpm-dev/mpm/internal/version"
)

// startFix is how to get a daemon running on addr.
func startFix(addr string) string {
	return fmt.Sprintf("start it: mpm-manager start (if installed as a service; else mpm-manager install), or run it by hand: mpm-wsd --addr %s", addr)
}

// checkDaemon is check 2: something accepts TCP connections on the address
// and it is an mpm-wsd that answers /healthz.
func checkDaemon(ctx context.Context, st *state) Result {
	res := Result{Name: "daemon"}
	addr := st.cfg.Addr
	if !st.addrOK {
		st.daemonWhy = "the address is not usable"
		res.Status, res.Detail = Skip, "skipped: the address is not usable (see address)"
		return res
	}
	d := net.Dialer{Timeout: st.cfg.Timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		st.daemonWhy = "the daemon is not answering"
		res.Status = Fail
		if errors.Is(err, syscall.ECONNREFUSED) {
			res.Detail = fmt.Sprintf("nothing listens on %s (connection refused): mpm-wsd is not running", addr)
		} else {
			res.Detail = fmt.Sprintf("cannot connect to %s: %v", addr, err)
		}
		res.Fix = startFix(addr)
		return res
	}
	conn.Close()

	h, code, body, err := getHealth(ctx, st.cfg)
	if err != nil || h.Service != protocol.ServiceName {
		st.daemonWhy = "another program holds the address"
		res.Status = Fail
		what := ""
		switch {
		case err != nil:
			what = fmt.Sprintf("something listens on %s but does not answer HTTP /healthz like mpm-wsd (%v)", addr, err)
		case h.Service != "":
			what = fmt.Sprintf("%q answers on %s, not mpm-wsd (HTTP %d)", h.Service, addr, code)
		default:
			what = fmt.Sprintf("a stranger answers on %s: HTTP %d %s, not mpm-wsd", addr, code, quoteBody(body))
		}
		holder := portHolder(addr)
		if holder != "" {
			what += "; the port is held by " + holder
		}
		res.Detail = what
		res.Fix = strangerFix(addr, holder)
		return res
	}
	st.health = &h
	age := (time.Duration(h.Uptime * float64(time.Second))).Round(time.Second)
	desc := fmt.Sprintf("mpm-wsd %s (pid %d, up %s, store %s, %d clients, last seq %d) answers on %s", h.Version, h.Pid, age, h.Store, h.Clients, h.LastSeq, addr)
	if !h.OK || code != http.StatusOK {
		st.daemonWhy = "the daemon is unhealthy"
		res.Status = Fail
		res.Detail = sentences(desc+fmt.Sprintf(" but is unhealthy (HTTP %d)", code), h.Error)
		res.Fix = "restart it: mpm-manager restart (a manager restarts it by itself after failed health checks); if it stays unhealthy, look at its log"
		return res
	}
	if h.Degraded {
		// Events get 503 (the hook spools them while it can): a failure
		// of the chain, but the later checks still run.
		res.Status = Fail
		res.Detail = sentences(desc+" but cannot store events", h.StoreError)
		res.Fix = fmt.Sprintf("free disk space where the data directory is (df -h %s) or fix its permissions; mpm-wsd stores events again by itself (a restart does not help)", st.cfg.DataDir)
		return res
	}
	res.Status = OK
	res.Detail = desc
	var warn []string
	if h.StoreNote != "" {
		warn = append(warn, "store: "+h.StoreNote)
	}
	if v := version.Version; v != "dev" && h.Version != "dev" && h.Version != v {
		warn = append(warn, fmt.Sprintf("the daemon is %s and this mpm-verify is %s: restart the daemon after an upgrade (mpm-manager restart)", h.Version, v))
	}
	if len(warn) > 0 {
		res.Status = Warn
		res.Detail = sentences(append([]string{desc}, warn...)...)
	}
	return res
}

// getHealth asks /healthz and decodes the answer. err is set when the
// answer is not HTTP or not a JSON object.
func getHealth(ctx context.Context, cfg Config) (protocol.Health, int, []byte, error) {
	c, err := apiClient(cfg, "")
	if err != nil {
		return protocol.Health{}, 0, nil, err
	}
	raw, err := c.HealthRaw(ctx)
	if err != nil {
		return protocol.Health{}, raw.Code, raw.Body, cause(err)
	}
	return parseHealth(raw.Body), raw.Code, raw.Body, nil
}

// parseHealth decodes a /healthz body; anything that is not a JSON object
// gives the zero Health (Service "", i.e. not mpm-wsd).
func parseHealth(body []byte) protocol.Health {
	h, err := codec.DecodeHealth(body)
	if err != nil {
		return protocol.Health{}
	}
	return h
}

// quoteBody shows the start of a response body.
func quoteBody(b []byte) string {
	s := strings.TrimSpace(string(b))
	if !utf8.ValidString(s) {
		return fmt.Sprintf("(%d bytes of binary body)", len(b))
	}
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// portHolder names the process listening on addr, "" when unknown.
func portHolder(addr string) string {
	pid, err := procinfo.PortOwner(addr)
	if err != nil || pid <= 0 {
		return ""
	}
	return procinfo.Describe(pid)
}

func strangerFix(addr, holder string) string {
	_, port, _ := net.SplitHostPort(addr)
	find := fmt.Sprintf("find it with: lsof -nP -iTCP:%s -sTCP:LISTEN (Windows: netstat -ano | findstr :%s)", port, port)
	if holder != "" {
		find = "it is " + holder
	}
	return fmt.Sprintf("another program holds %s (%s): stop it, or move mpm to a free port: export MPM_ADDR=127.0.0.1:PORT for every mpm program, then mpm-manager install --addr 127.0.0.1:PORT and mpm-hook install --addr 127.0.0.1:PORT", addr, find)
}
