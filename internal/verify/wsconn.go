package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mpm-dev/mpm/internal/token"
)

// Dialer opens a WebSocket to the daemon. The checks only need the raw
// frames, so any client (gorilla here, the shared client package later) can
// back it.
type Dialer interface {
	// Dial connects to ws://addr/v1/ws with the token in the Authorization
	// header and Origin http://addr, subscribed by URL to sessions when
	// sessions is not empty. A refused handshake returns a
	// *HandshakeError.
	Dial(ctx context.Context, addr, tok string, sessions []string) (Conn, error)
}

// Conn is an open WebSocket to the daemon.
type Conn interface {
	// Next returns the next frame's JSON, waiting until ctx is done.
	Next(ctx context.Context) (json.RawMessage, error)
	// Close closes the connection.
	Close() error
}

// HandshakeError is a WebSocket upgrade the daemon refused.
type HandshakeError struct {
	// Status is the HTTP status of the refusal (0 when no HTTP answer).
	Status int
	// Body is the first line of the refusal's body.
	Body string
	// Err is the underlying error.
	Err error
}

func (e *HandshakeError) Error() string {
	if e.Status == 0 {
		return e.Err.Error()
	}
	return sentences(fmt.Sprintf("the handshake was refused with HTTP %d", e.Status), e.Body)
}

// Unwrap returns the underlying error.
func (e *HandshakeError) Unwrap() error { return e.Err }

// GorillaDialer is the default Dialer, on gorilla/websocket.
type GorillaDialer struct{}

// Dial implements Dialer.
func (GorillaDialer) Dial(ctx context.Context, addr, tok string, sessions []string) (Conn, error) {
	u := url.URL{Scheme: "ws", Host: addr, Path: "/v1/ws"}
	if len(sessions) > 0 {
		q := url.Values{}
		for _, s := range sessions {
			q.Add("session", s)
		}
		u.RawQuery = q.Encode()
	}
	h := http.Header{}
	h.Set(token.Header, "Bearer "+tok)
	h.Set("Origin", "http://"+addr)
	d := websocket.Dialer{Proxy: nil, HandshakeTimeout: 30 * time.Second}
	c, resp, err := d.DialContext(ctx, u.String(), h)
	if err != nil {
		he := &HandshakeError{Err: err}
		if resp != nil {
			he.Status = resp.StatusCode
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			he.Body, _, _ = strings.Cut(strings.TrimSpace(string(b)), "\n")
		}
		return nil, he
	}
	c.SetReadLimit(16 << 20)
	return &gorillaConn{c: c}, nil
}

type gorillaConn struct{ c *websocket.Conn }

func (g *gorillaConn) Next(ctx context.Context) (json.RawMessage, error) {
	if dl, ok := ctx.Deadline(); ok {
		g.c.SetReadDeadline(dl)
	} else {
		g.c.SetReadDeadline(time.Time{})
	}
	// Abort a blocked read when ctx is cancelled without a deadline.
	stop := context.AfterFunc(ctx, func() { g.c.SetReadDeadline(time.Now()) })
	defer stop()
	for {
		mt, b, err := g.c.ReadMessage()
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

func (g *gorillaConn) Close() error {
	g.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	return g.c.Close()
}
