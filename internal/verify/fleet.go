package verify

import (
	"fmt"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// stallAfter is how long an edge may hold unacknowledged events (or a hub
// keep failing) without a successful publish (consume) before the fleet
// check warns that the link is not draining.
const stallAfter = 30 * time.Second

// fleetFix is what to check when the NATS link is down, for an edge (which
// publishes) or a hub (which consumes).
func fleetFix(f protocol.FleetStatus) string {
	may := "allow publishing to mpm.events.>"
	if f.Mode == "hub" {
		may = fmt.Sprintf("allow consuming from the stream %s ($JS.API.STREAM.INFO.%s and $JS.API.CONSUMER.CREATE/MSG.NEXT/DELETE.%s.>)", f.Stream, f.Stream, f.Stream)
	}
	return fmt.Sprintf("check that nats-server runs at %s and that the credentials (--nats-creds, --nats-nkey or --nats-user/--nats-password) %s; see deploy/nats/ and the daemon's log", f.URL, may)
}

// checkFleet is the fleet check: the daemon's NATS link, as its /healthz
// reports it (st.health, fetched once by the daemon check). ok is false
// when there is nothing to report — the daemon did not answer, or runs
// without --nats — and the check is then left out of the report.
func checkFleet(st *state, now time.Time) (Result, bool) {
	if st.health == nil || st.health.Fleet == nil {
		return Result{}, false
	}
	daemonStart := time.Time{}
	if st.health.Uptime > 0 {
		daemonStart = now.Add(-time.Duration(st.health.Uptime * float64(time.Second)))
	}
	return fleetResult(*st.health.Fleet, now, daemonStart), true
}

// fleetResult judges one FleetStatus at time now; daemonStart (zero when
// unknown) stands in for LastOK before the first successful batch, so a
// daemon that just started is given stallAfter to publish its backlog.
func fleetResult(f protocol.FleetStatus, now, daemonStart time.Time) Result {
	res := Result{Name: "fleet"}
	mode := f.Mode
	if mode == "" {
		mode = "fleet"
	}
	who := mode
	if f.Origin != "" {
		who += " " + f.Origin
	}
	link := fmt.Sprintf("%s → %s", who, f.URL)
	stream := fmt.Sprintf("stream %s", f.Stream)
	var counter string
	if f.Mode == "hub" {
		counter = fmt.Sprintf("consumed %d", f.Consumed)
	} else {
		counter = fmt.Sprintf("lag %d (published %d)", f.Lag, f.Published)
	}
	lastErr := ""
	// The edge's own "not connected to NATS" repeats the detail; say only
	// what NATS itself said.
	if f.LastError != "" && !(f.LastError == "not connected to NATS" && !f.Connected) {
		lastErr = "last error: " + f.LastError
	}
	waiting := ""
	if f.Lag == 1 {
		waiting = "1 event waits in the outbox and is published when the link is back (ingest is not slowed)"
	} else if f.Lag > 1 {
		waiting = fmt.Sprintf("%d events wait in the outbox and are published when the link is back (ingest is not slowed)", f.Lag)
	}
	verb, batch := "publish", "last publish"
	if f.Mode == "hub" {
		verb, batch = "consume", "last consumed batch"
	}

	switch {
	case !f.Connected:
		res.Status = Fail
		res.Detail = sentences(link+": not connected to NATS", lastErr, waiting)
		res.Fix = fleetFix(f)
		return res
	case !f.StreamOK:
		res.Status = Fail
		res.Detail = sentences(fmt.Sprintf("%s: connected, but the %s is missing (or could not be created)", link, stream), lastErr, waiting)
		res.Fix = fmt.Sprintf("enable JetStream on the server (jetstream {} in nats-server.conf) and create the stream %s with subjects mpm.events.> (the hub creates it when its user may: $JS.API.STREAM.CREATE.%s), or pass --nats-stream with the existing stream's name; %s", f.Stream, f.Stream, fleetFix(f))
		return res
	}

	res.Status = OK
	res.Detail = fmt.Sprintf("%s, %s present, connected, %s", link, stream, counter)
	// A link that is up but does not move: events wait (edge) or consuming
	// fails (hub), and nothing succeeded for stallAfter.
	stuck := f.Lag > 0
	if f.Mode == "hub" {
		stuck = f.LastError != ""
	}
	since := f.LastOK
	if since.IsZero() {
		since = daemonStart
	}
	if stuck && !since.IsZero() && now.Sub(since) > stallAfter {
		res.Status = Warn
		ago := fmt.Sprintf("%s %s ago", batch, now.Sub(since).Round(time.Second))
		if f.LastOK.IsZero() {
			ago = fmt.Sprintf("no successful %s since the daemon started %s ago", verb, now.Sub(since).Round(time.Second))
		}
		res.Detail = sentences(res.Detail, "the link is not draining: "+ago, lastErr)
		res.Fix = "look at the daemon's log (fleet publish/consume warnings) and at the stream's limits (nats stream info " + f.Stream + "): a full stream with discard new, or credentials that may connect but not " + verb + "; " + fleetFix(f)
		return res
	}
	if lastErr != "" {
		res.Detail = sentences(res.Detail, lastErr)
	}
	return res
}
