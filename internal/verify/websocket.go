package verify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mpm-dev/mpm/internal/client"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/protocol/codec"
)

// ProbeEvent is the hook_event_name of mpm-verify's round-trip probe.
const ProbeEvent = "MpmVerify"

// ProbeSessionPrefix starts the private session id of a probe.
const ProbeSessionPrefix = "mpm-verify-"

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
	// Subscribed to a private session that no hook ever writes to: the
	// round trip reuses this connection.
	st.probeSession = ProbeSessionPrefix + randomHex(8)
	c, h, err := dialProbe(ctx, st.cfg, st.token, st.probeSession)
	var he *client.HelloError
	switch {
	case errors.As(err, &he) && he.Err != nil:
		res.Status = Fail
		res.Detail = fmt.Sprintf("the WebSocket %s opened but no hello came within %s: %v", url, st.cfg.Timeout, he.Err)
		res.Fix = "a proxy or security tool may be cutting WebSockets on loopback; else restart the daemon: mpm-manager restart"
		return res
	case errors.As(err, &he):
		res.Status = Fail
		res.Detail = fmt.Sprintf("the WebSocket %s opened but the first message is not a hello: %q", url, he.First)
		res.Fix = "the daemon speaks another protocol version: upgrade mpm-wsd and mpm-verify together, then mpm-manager restart"
		return res
	case err != nil:
		res.Status = Fail
		res.Detail = fmt.Sprintf("WebSocket %s with the token and Origin http://%s failed: %v", url, st.cfg.Addr, handshakeError(err))
		res.Fix = wsFix(err)
		return res
	}
	st.conn = c
	res.Status = OK
	res.Detail = fmt.Sprintf("%s accepted the token and origin; hello: protocol %d, instance %s, version %s, heartbeat %dms", url, h.Protocol, h.Instance, h.Version, h.HeartbeatMS)
	if h.Protocol != protocol.Version {
		res.Status = Warn
		res.Detail += fmt.Sprintf("; this mpm-verify speaks protocol %d, the daemon %d", protocol.Version, h.Protocol)
		res.Fix = "upgrade mpm-wsd and mpm-verify together, then mpm-manager restart"
	}
	return res
}

// dialProbe opens a WebSocket with tok through the shared client, reads
// its hello and subscribes it, live only, to session (to cfg.subscribeTo
// instead when a test sets it). The caller closes the connection.
func dialProbe(ctx context.Context, cfg Config, tok, session string) (*websocket.Conn, protocol.Hello, error) {
	api, err := apiClient(cfg, tok)
	if err != nil {
		return nil, protocol.Hello{}, err
	}
	c, h, err := api.Dial(ctx)
	if err != nil {
		return nil, h, err
	}
	sessions := []string{session}
	if cfg.subscribeTo != nil {
		sessions = cfg.subscribeTo
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetWriteDeadline(dl)
	}
	if err := c.WriteMessage(websocket.TextMessage, codec.Encode(protocol.ClientMsg{Type: protocol.TypeSubscribe, Sessions: sessions})); err != nil {
		c.Close()
		return nil, h, fmt.Errorf("subscribe to %s: %v", session, err)
	}
	c.SetWriteDeadline(time.Time{})
	return c, h, nil
}

// handshakeError says why the WebSocket could not be opened: the status
// and message of a refused handshake, the transport's error otherwise.
func handshakeError(err error) error {
	var se *client.StatusError
	if errors.As(err, &se) {
		return errors.New(sentences(fmt.Sprintf("the handshake was refused with HTTP %d", se.Code), se.Message))
	}
	return cause(err)
}

func wsFix(err error) string {
	var se *client.StatusError
	if errors.As(err, &se) {
		switch se.Code {
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
	c, _, err := dialProbe(dctx, cfg, tok, session)
	if err != nil {
		return RoundTripResult{Session: session}, fmt.Errorf("WebSocket subscribed to %s: %v", session, handshakeError(err))
	}
	defer closeConn(c)
	return roundTripOn(ctx, cfg, tok, c, session)
}

// roundTripOn runs the probe on c, a connection subscribed to session.
func roundTripOn(ctx context.Context, cfg Config, tok string, c *websocket.Conn, session string) (RoundTripResult, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	nonce := randomHex(16)
	rt := RoundTripResult{Session: session}
	// Wait until the subscription is live, so the probe cannot pass by
	// before it is registered.
	for live := false; !live; {
		raw, err := nextFrame(ctx, c)
		if err != nil {
			return rt, fmt.Errorf("the daemon did not confirm the subscription to %s within %s: %v", session, cfg.Timeout, err)
		}
		_, m, _ := codec.DecodeServerMsg(raw)
		switch m := m.(type) {
		case protocol.Live:
			live = true
		case protocol.ErrorMsg:
			return rt, fmt.Errorf("the daemon refused the subscription: %s", m.Error)
		}
	}
	body, _ := json.Marshal(map[string]string{
		"session_id":      session,
		"hook_event_name": ProbeEvent,
		"mpm_verify":      nonce,
	})
	api, err := apiClient(cfg, tok)
	if err != nil {
		return rt, err
	}
	start := time.Now()
	if _, err := api.Post(ctx, body, client.PostOptions{Ephemeral: true, SentAt: start}); err != nil {
		var se *client.StatusError
		if errors.As(err, &se) {
			return rt, fmt.Errorf("POST /v1/events refused the probe with HTTP %d: %s", se.Code, se.Message)
		}
		return rt, fmt.Errorf("POST /v1/events failed: %v", cause(err))
	}
	for {
		raw, err := nextFrame(ctx, c)
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
	_, m, _ := codec.DecodeServerMsg(raw)
	f, ok := m.(protocol.Events)
	if !ok {
		return 0, false
	}
	evs, err := codec.DecodeEvents(f.Events)
	if err != nil {
		return 0, false
	}
	for _, ev := range evs {
		if ev.SessionID == session && bytes.Contains(ev.Payload, []byte(nonce)) {
			return ev.Seq, true
		}
	}
	return 0, false
}

// nextFrame returns the next text frame's JSON, waiting until ctx is done.
func nextFrame(ctx context.Context, c *websocket.Conn) (json.RawMessage, error) {
	if dl, ok := ctx.Deadline(); ok {
		c.SetReadDeadline(dl)
	} else {
		c.SetReadDeadline(time.Time{})
	}
	// Abort a blocked read when ctx is cancelled without a deadline.
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Now()) })
	defer stop()
	for {
		mt, b, err := c.ReadMessage()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
		if mt == websocket.TextMessage {
			if !json.Valid(b) {
				return nil, errors.New("the daemon sent a frame that is not JSON")
			}
			return b, nil
		}
	}
}

// closeConn says goodbye and closes c.
func closeConn(c *websocket.Conn) {
	c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	c.Close()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
