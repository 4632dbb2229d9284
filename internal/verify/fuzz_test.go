package verify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// FuzzParseHealth feeds arbitrary /healthz bodies (a stranger may answer
// anything): parsing never panics, and only a body that says it is
// mpm-wsd is taken for one.
func FuzzParseHealth(f *testing.F) {
	f.Add([]byte(`{"ok":true,"service":"mpm-wsd","version":"v0.1.0","pid":1234,"store":"memory"}`))
	f.Add([]byte(`hello`))
	f.Add([]byte(`{"service":"nginx"}`))
	f.Add([]byte(`[1,2,3]`))
	f.Add([]byte(`{"service":1}`))
	f.Add([]byte("\xff\xfe"))
	f.Add([]byte(`{"ok":true,"service":"mpm-wsd","uptime_s":1e300,"fleet":{"mode":"edge","url":"nats://127.0.0.1:4222","stream":"MPM_EVENTS","origin":"pc","connected":true,"stream_ok":true,"lag":18446744073709551615,"last_ok":"0001-01-01T00:00:00Z"}}`))
	f.Add([]byte(`{"ok":true,"service":"mpm-wsd","uptime_s":-5,"fleet":{"mode":"hub","connected":true,"stream_ok":true,"last_error":"x","last_ok":"9999-12-31T23:59:59Z"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		h := parseHealth(body)
		if h.Service == "mpm-wsd" && !strings.Contains(string(body), "mpm-wsd") && !strings.Contains(string(body), `\u`) {
			t.Fatalf("took %q for mpm-wsd", body)
		}
		_ = quoteBody(body)
		// The fleet check judges whatever fleet object came with it.
		if res, ok := checkFleet(&state{health: &h}, time.Now()); ok {
			if res.Name != "fleet" || (res.Status == Fail && res.Fix == "") {
				t.Fatalf("fleet result %+v for %q", res, body)
			}
			if !h.Fleet.Healthy() && res.Status != Fail {
				t.Fatalf("an unhealthy link is %s: %q", res.Status, body)
			}
		} else if h.Fleet != nil {
			t.Fatalf("fleet object %+v not checked", h.Fleet)
		}
	})
}

// FuzzFindProbe feeds arbitrary WebSocket frames: the probe is found only
// in an events frame carrying its session id and nonce.
func FuzzFindProbe(f *testing.F) {
	f.Add([]byte(`{"type":"events","events":[{"seq":0,"session_id":"mpm-verify-1","event":"MpmVerify","payload":{"mpm_verify":"n0nce"}}]}`))
	f.Add([]byte(`{"type":"hello","protocol":1}`))
	f.Add([]byte(`{"type":"events","events":null}`))
	f.Add([]byte(`{"type":"events","events":[{"session_id":"x","payload":"n0nce"}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, found := findProbe(raw, "mpm-verify-1", "n0nce")
		if found && (!strings.Contains(string(raw), "events") || !strings.Contains(string(raw), "n0nce")) {
			t.Fatalf("found the probe in %q", raw)
		}
	})
}

// BenchmarkRoundTrip measures one probe's round trip through a real
// mpm-wsd: dial, subscribe, POST, receive. It reports the probe latency
// (POST to arrival) alone as well.
func BenchmarkRoundTrip(b *testing.B) {
	d := testutil.StartDaemon(b)
	tok := d.Token()
	cfg := Config{Addr: d.Addr}
	var total float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rt, err := RoundTrip(context.Background(), cfg, tok)
		if err != nil {
			b.Fatal(err)
		}
		total += float64(rt.Latency.Microseconds())
	}
	b.ReportMetric(total/float64(b.N), "probe-µs/op")
}
