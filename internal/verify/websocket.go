package verify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mpm-dev/mpm/internal/token"
)

// ProbeEvent is the hook_event_name of mpm-verify's round-trip probe.
const ProbeEvent = "MpmVerify"

// ProbeSessionPrefix starts the private session id of a probe.
const ProbeSessionPrefix = "mpm-verify-"

// hello is the daemon's first WebSocket message.
type hello struct {
	Type        string `json:"type"`
	Protocol    int    `json:"protocol"`
	Instance    string `json:"instance"`
	Version     string `json:"version"`
	LastSeq     uint64 `json:"last_seq"`
	HeartbeatMS int64  `json:"heartbeat_ms"`
}

// frame is any daemon message, with the fields the round trip reads.
type frame struct {
	Type   string `json:"type"`
	Error  string `json:"error"`
	Events []struct {
		Seq       uint64          `json:"seq"`
		SessionID string          `json:"session_id"`
		Event     string          `json:"event"`
		Payload   json.RawMessage `json:"payload"`
	} `json:"events"`
}

// wsSkip says why the WebSocket checks cannot run, "" when they can.
func wsSkip(st *state) string {
	switch {
	case st.health == nil:
		return "skipped: " + st.daemonWhy + " (see daemon)"
	case st.token == "":
		return "skipped: no readable token (see token)"
	case !st.tokenAccepted:
		return "skipped: the daemon does not accept the token (see token)"
	}
	return ""
}

// checkWebSocket is check 4: the WebSocket handshake with the token and the
// daemon's own origin, and its hello.
func checkWebSocket(ctx context.Context, st *state) Result {
	res := Result{Name: "websocket"}
	if why := wsSkip(st); why != "" {
		res.Status, res.Detail = Skip, why
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, st.cfg.Timeout)
	defer cancel()
	url := "ws://" + st.cfg.Addr + "/v1/ws"
	// Subscribed by URL to a private session that no hook ever writes to:
	// the round trip reuses this connection. (Subscribing also makes the
	// daemon flush its hello at once; an unsubscribed connection gets it
	// only after a subscribe.)
	st.probeSession = ProbeSessionPrefix + randomHex(8)
	c, err := st.cfg.Dialer.Dial(ctx, st.cfg.Addr, st.token, []string{st.probeSession})
	if err != nil {
		res.Status = Fail
		res.Detail = fmt.Sprintf("WebSocket %s with the token and Origin http://%s failed: %v", url, st.cfg.Addr, err)
		res.Fix = wsFix(err)
		return res
	}
	raw, err := c.Next(ctx)
	if err != nil {
		c.Close()
		res.Status = Fail
		res.Detail = fmt.Sprintf("the WebSocket %s opened but no hello came within %s: %v", url, st.cfg.Timeout, err)
		res.Fix = "a proxy or security tool may be cutting WebSockets on loopback; else restart the daemon: mpm-manager restart"
		return res
	}
	var h hello
	if json.Unmarshal(raw, &h) != nil || h.Type != "hello" {
		c.Close()
		res.Status = Fail
		res.Detail = fmt.Sprintf("the WebSocket %s opened but the first message is not a hello: %s", url, clip(raw))
		res.Fix = "the daemon speaks another protocol version: upgrade mpm-wsd and mpm-verify together, then mpm-manager restart"
		return res
	}
	st.conn = c
	res.Status = OK
	res.Detail = fmt.Sprintf("%s accepted the token and origin; hello: protocol %d, instance %s, version %s, heartbeat %dms", url, h.Protocol, h.Instance, h.Version, h.HeartbeatMS)
	if h.Protocol != 1 {
		res.Status = Warn
		res.Detail += fmt.Sprintf("; this mpm-verify speaks protocol 1, the daemon %d", h.Protocol)
		res.Fix = "upgrade mpm-wsd and mpm-verify together, then mpm-manager restart"
	}
	return res
}

func wsFix(err error) string {
	var he *HandshakeError
	if errors.As(err, &he) {
		switch he.Status {
		case http.StatusUnauthorized:
			return "the daemon refused the token on the WebSocket though it accepted it on /v1/sessions: mpm-manager restart"
		case http.StatusForbidden:
			return "the daemon refused the Origin or Host: run it with the same --addr that mpm-verify uses (MPM_ADDR), then mpm-manager restart"
		case http.StatusServiceUnavailable:
			return "the daemon has too many clients or is shutting down: close some dashboards, or mpm-manager restart"
		}
	}
	return "a proxy or security tool may be blocking WebSockets on loopback; else mpm-manager restart"
}

// checkRoundTrip is check 5: an ephemeral probe posted into a private
// session comes back over a WebSocket subscribed to that session.
func checkRoundTrip(ctx context.Context, st *state) Result {
	res := Result{Name: "round-trip"}
	if why := wsSkip(st); why != "" {
		res.Status, res.Detail = Skip, why
		return res
	}
	if st.conn == nil {
		res.Status, res.Detail = Skip, "skipped: the WebSocket handshake failed (see websocket)"
		return res
	}
	rt, err := roundTripOn(ctx, st.cfg, st.token, st.conn, st.probeSession)
	if err != nil {
		res.Status = Fail
		res.Detail = err.Error()
		res.Fix = "restart the daemon: mpm-manager restart; if the probe still does not come back, file a bug with the daemon's log"
		return res
	}
	res.Status = OK
	res.Detail = fmt.Sprintf("probe posted to session %s came back over the WebSocket in %s", rt.Session, rt.Latency.Round(10*time.Microsecond))
	if rt.Seq != 0 {
		res.Status = Warn
		res.Detail += fmt.Sprintf("; but the daemon stored it (seq %d): it does not know Mpm-Ephemeral probes", rt.Seq)
		res.Fix = "upgrade mpm-wsd (then mpm-manager restart) so that probes leave no trace"
	}
	return res
}

// RoundTripResult is what one probe measured.
type RoundTripResult struct {
	// Session is the private session id the probe used.
	Session string
	// Latency is from just before the POST to the probe's arrival.
	Latency time.Duration
	// Seq is the probe's seq: 0 for an ephemeral (unstored) probe.
	Seq uint64
}

// RoundTrip subscribes a WebSocket to a fresh private session, posts one
// ephemeral probe into it (Mpm-Ephemeral: 1, never stored) and waits for it
// to come back, within cfg.Timeout.
func RoundTrip(ctx context.Context, cfg Config, tok string) (RoundTripResult, error) {
	cfg = cfg.withDefaults()
	session := ProbeSessionPrefix + randomHex(8)
	dctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	c, err := cfg.Dialer.Dial(dctx, cfg.Addr, tok, []string{session})
	if err != nil {
		return RoundTripResult{Session: session}, fmt.Errorf("WebSocket subscribed to %s: %v", session, err)
	}
	defer c.Close()
	return roundTripOn(ctx, cfg, tok, c, session)
}

// roundTripOn runs the probe on c, a connection subscribed by URL to
// session.
func roundTripOn(ctx context.Context, cfg Config, tok string, c Conn, session string) (RoundTripResult, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	nonce := randomHex(16)
	rt := RoundTripResult{Session: session}
	// Wait until the subscription is live, so the probe cannot pass by
	// before it is registered.
	for live := false; !live; {
		raw, err := c.Next(ctx)
		if err != nil {
			return rt, fmt.Errorf("the daemon did not confirm the subscription to %s within %s: %v", session, cfg.Timeout, err)
		}
		var f frame
		json.Unmarshal(raw, &f)
		switch f.Type {
		case "live":
			live = true
		case "error":
			return rt, fmt.Errorf("the daemon refused the subscription: %s", f.Error)
		}
	}
	body, _ := json.Marshal(map[string]string{
		"session_id":      session,
		"hook_event_name": ProbeEvent,
		"mpm_verify":      nonce,
	})
	start := time.Now()
	if err := postProbe(ctx, cfg, tok, body); err != nil {
		return rt, err
	}
	for {
		raw, err := c.Next(ctx)
		if err != nil {
			return rt, fmt.Errorf("the daemon accepted the probe but it did not come back over the WebSocket within %s (%v)", cfg.Timeout, err)
		}
		if seq, ok := findProbe(raw, session, nonce); ok {
			rt.Latency = time.Since(start)
			rt.Seq = seq
			return rt, nil
		}
	}
}

// findProbe looks for the probe (session id and nonce) in one daemon
// message and returns its seq.
func findProbe(raw []byte, session, nonce string) (seq uint64, found bool) {
	var f frame
	if json.Unmarshal(raw, &f) != nil || f.Type != "events" {
		return 0, false
	}
	for _, ev := range f.Events {
		if ev.SessionID == session && bytes.Contains(ev.Payload, []byte(nonce)) {
			return ev.Seq, true
		}
	}
	return 0, false
}

// postProbe posts body as an ephemeral event and wants 202.
func postProbe(ctx context.Context, cfg Config, tok string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+cfg.Addr+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(token.Header, "Bearer "+tok)
	req.Header.Set("Mpm-Ephemeral", "1")
	req.Header.Set("Mpm-Sent-At", fmt.Sprint(time.Now().UnixNano()))
	resp, err := httpClient(cfg.Timeout).Do(req)
	if err != nil {
		return fmt.Errorf("POST /v1/events failed: %v", errors.Unwrap(err))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
		return fmt.Errorf("POST /v1/events refused the probe with HTTP %d: %s", resp.StatusCode, line)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// clip shows at most 120 bytes of a message.
func clip(b []byte) string {
	s := string(b)
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
