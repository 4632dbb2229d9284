package wsd

import (
	"net/http"
	"time"
)

// refusedLogEvery bounds how often a refused hook delivery is logged.
const refusedLogEvery = time.Minute

// refusedDelivery counts and logs (at most once a minute) a POST
// /v1/events refused for a missing or wrong token: a hook that reads
// another token file (another data directory, or a token replaced after
// the daemon started), or an http hook without MPM_TOKEN. mpm-hook spools
// such events, and this daemon drains its own spool; mpm-verify names the
// mismatch.
func (m *metrics) refusedDelivery(r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/events" {
		return
	}
	m.hookRefused.Inc()
	m.refusedLog.warn("unauthorized", "refused a hook delivery: missing or wrong token; the hook reads another token file than this daemon's (another data directory, or the token file was replaced after mpm-wsd started); mpm-hook keeps such events in its spool: run mpm-verify",
		"user_agent", r.UserAgent(), "remote", r.RemoteAddr)
}
