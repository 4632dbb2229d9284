package verify

import (
	"context"
	"strings"
	"testing"

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
	f.Fuzz(func(t *testing.T, body []byte) {
		h := parseHealth(body)
		if h.Service == "mpm-wsd" && !strings.Contains(string(body), "mpm-wsd") && !strings.Contains(string(body), `\u`) {
			t.Fatalf("took %q for mpm-wsd", body)
		}
		_ = quoteBody(body)
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
