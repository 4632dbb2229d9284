package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/protocol/codec"
	"github.com/mpm-dev/mpm/internal/retry"
)

// ErrStop, returned by a handler, ends Stream without an error.
var ErrStop = errors.New("stop streaming")

// Subscription says which events a stream receives (docs/protocol.md,
// "Subscribing").
type Subscription struct {
	// Sessions lists the session ids to receive; empty: all sessions.
	Sessions []string
	// Since replays every retained event with seq > *Since first; nil:
	// live only.
	Since *uint64
	// Tail, with Since, replays only the last Tail events of that range;
	// 0: no limit. It applies to the first replay only: a reconnect resumes
	// after the last delivered seq.
	Tail int
}

// StateKind names a change in the stream's connection.
type StateKind int

const (
	// StateConnected: subscribed on a new connection.
	StateConnected StateKind = iota + 1
	// StateDisconnected: the connection failed or closed; the stream
	// reconnects after Delay.
	StateDisconnected
	// StateInstanceChanged: the daemon restarted since the last connection.
	StateInstanceChanged
	// StateTruncated: the daemon no longer has some events after the
	// cursor (retention dropped them): a gap nobody can fill.
	StateTruncated
)

func (k StateKind) String() string {
	switch k {
	case StateConnected:
		return "connected"
	case StateDisconnected:
		return "disconnected"
	case StateInstanceChanged:
		return "instance-changed"
	case StateTruncated:
		return "truncated"
	}
	return fmt.Sprintf("state(%d)", int(k))
}

// State reports a change in the stream's connection.
type State struct {
	// Kind is what happened.
	Kind StateKind
	// Err is why the connection ended (StateDisconnected).
	Err error
	// Dial is set when Err happened before the daemon said hello: the
	// daemon is unreachable or refused the connection.
	Dial bool
	// Attempt counts consecutive failed connections (StateDisconnected).
	Attempt int
	// Delay is the wait before the next attempt (StateDisconnected).
	Delay time.Duration
	// Hello is the daemon's hello (StateConnected, StateInstanceChanged).
	Hello protocol.Hello
	// PrevInstance is the instance before the restart (StateInstanceChanged).
	PrevInstance string
	// Reset is set when the restarted daemon lost the events the stream
	// had seen (no journal: seq starts again): the cursor went back to 0
	// and the new instance's events are all delivered (StateInstanceChanged).
	Reset bool
	// Subscribed is the daemon's answer (StateConnected, StateTruncated).
	Subscribed protocol.Subscribed
	// Cursor is the last seq delivered, the resume point; valid when
	// HaveCursor.
	Cursor uint64
	// HaveCursor is false until the stream knows where it is.
	HaveCursor bool
}

// Handlers receive what a stream delivers, all from Stream's goroutine. An
// error from any of them ends Stream with that error (ErrStop: with nil).
type Handlers struct {
	// Event receives each event once, in seq order (an ephemeral probe,
	// seq 0, where it arrives). Required.
	Event func(protocol.Event) error
	// Flush, when set, is called after each frame of events: a good place
	// to flush buffered output.
	Flush func() error
	// Live, when set, is called at the end of each replay (also after each
	// reconnect): events after it are live. seq is the daemon's last seq
	// when the replay started.
	Live func(seq uint64) error
	// State, when set, receives connection changes.
	State func(State) error
	// Session, when set, receives each "session" frame: a session's
	// summary when its state, tools or agents changed, and the current
	// summaries right after each subscription.
	Session func(protocol.Session) error
}

// handlerError carries a handler's error out of a connection.
type handlerError struct{ err error }

func (e *handlerError) Error() string { return e.err.Error() }

// asHandlerError unwraps a handler's error: ok is set when err came from a
// handler, and the error is nil for ErrStop.
func asHandlerError(err error) (error, bool) {
	var he *handlerError
	if !errors.As(err, &he) {
		return nil, false
	}
	if errors.Is(he.err, ErrStop) {
		return nil, true
	}
	return he.err, true
}

// stream is one Stream call's state, kept across connections.
type stream struct {
	c *Client
	h Handlers
	// sessions is the subscription's session list.
	sessions []string
	// tail applies until the first replay has made progress.
	tail int
	// cursor is the last seq delivered; valid when have.
	cursor uint64
	have   bool
	// instance is the daemon instance of the last connection.
	instance string
}

// Stream subscribes to the daemon's live events and delivers them to h
// until ctx ends (it then returns ctx.Err()) or a handler fails. It
// reconnects on its own, with exponential backoff and jitter, after any
// failure (daemon restart, network drop, slow-consumer close, missed
// heartbeats) and resumes after the last seq delivered: no gap, no
// duplicate. When the daemon restarted without a journal (seq starts
// again), it says so (State.Reset) and delivers the new instance's events
// from the start.
func (c *Client) Stream(ctx context.Context, sub Subscription, h Handlers) error {
	if h.Event == nil {
		return errors.New("client.Stream: Handlers.Event is required")
	}
	if sub.Tail < 0 {
		return errors.New("client.Stream: Tail must be >= 0")
	}
	s := &stream{c: c, h: h, sessions: sub.Sessions, tail: sub.Tail}
	if sub.Since != nil {
		s.cursor, s.have = *sub.Since, true
	}
	attempt := 0
	for {
		progressed, dial, err := s.connect(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if he, ok := asHandlerError(err); ok {
			return he
		}
		if progressed {
			attempt = 0
		}
		attempt++
		delay := retry.Backoff(attempt, c.cfg.BackoffMin, c.cfg.BackoffMax, 0.5)
		c.log.Debug("stream disconnected", "error", err, "attempt", attempt, "delay", delay, "cursor", s.cursor)
		if err := s.state(State{Kind: StateDisconnected, Err: err, Dial: dial, Attempt: attempt, Delay: delay}); err != nil {
			he, _ := asHandlerError(err)
			return he
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// state reports st with the cursor filled in.
func (s *stream) state(st State) error {
	if s.h.State == nil {
		return nil
	}
	st.Cursor, st.HaveCursor = s.cursor, s.have
	if err := s.h.State(st); err != nil {
		return &handlerError{err}
	}
	return nil
}

// wsURL is the WebSocket address.
func (c *Client) wsURL() string { return "ws://" + c.cfg.Addr + "/v1/ws" }

// Dial opens a WebSocket to the daemon with the token and the configured
// Origin, and returns the connection and its hello. The caller subscribes
// and reads; Stream does all of this and more. A refused handshake is a
// *StatusError, no connection a *UnreachableError, and a connection
// without a hello (within 10s or ctx's deadline) a *HelloError.
func (c *Client) Dial(ctx context.Context) (*websocket.Conn, protocol.Hello, error) {
	auth, err := c.authHeader()
	if err != nil {
		return nil, protocol.Hello{}, err
	}
	d := websocket.Dialer{
		Proxy:            nil,
		HandshakeTimeout: 10 * time.Second,
		NetDialContext:   (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		ReadBufferSize:   64 << 10,
	}
	hdr := http.Header{}
	hdr.Set("Authorization", auth)
	hdr.Set("Origin", c.cfg.Origin)
	conn, resp, err := d.DialContext(ctx, c.wsURL(), hdr)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
			return nil, protocol.Hello{}, &StatusError{Method: "GET", Path: "/v1/ws", Code: resp.StatusCode, Message: firstLine(body, 300)}
		}
		return nil, protocol.Hello{}, &UnreachableError{Addr: c.cfg.Addr, Err: err}
	}
	conn.SetReadLimit(256 << 20)
	deadline := time.Now().Add(10 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetReadDeadline(deadline)
	_, data, err := conn.ReadMessage()
	var typ string
	var m any
	if err == nil {
		typ, m, err = codec.DecodeServerMsg(data)
	}
	if err != nil {
		conn.Close()
		return nil, protocol.Hello{}, &HelloError{Err: err}
	}
	hello, ok := m.(protocol.Hello)
	if !ok {
		conn.Close()
		return nil, protocol.Hello{}, &HelloError{First: typ}
	}
	conn.SetReadDeadline(time.Time{})
	return conn, hello, nil
}

// HelloError says that the WebSocket opened but the daemon's hello did
// not come: Err when nothing readable came in time, else First is the type
// of the message that came instead.
type HelloError struct {
	// Err is the read error while waiting for the hello; nil when another
	// message came first.
	Err error
	// First is the type of the first message when it was not a hello.
	First string
}

func (e *HelloError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("waiting for the daemon's hello: %v", e.Err)
	}
	return fmt.Sprintf("the daemon's first message is %q, not hello: is this an mpm-wsd?", e.First)
}

func (e *HelloError) Unwrap() error { return e.Err }

// connect runs one connection until it fails. progressed says it reached
// the end of a replay (the backoff starts over); dial says it failed before
// hello.
func (s *stream) connect(ctx context.Context) (progressed, dial bool, err error) {
	conn, hello, err := s.c.Dial(ctx)
	if err != nil {
		return false, true, err
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "client done"), time.Now().Add(time.Second))
			conn.Close()
		case <-done:
			conn.Close()
		}
	}()

	if s.instance != "" && hello.Instance != s.instance {
		reset := false
		if s.have && s.cursor > 0 && (hello.LastSeq < s.cursor || s.memoryStore(ctx)) {
			reset = true
			s.cursor = 0
		}
		if err := s.state(State{Kind: StateInstanceChanged, Hello: hello, PrevInstance: s.instance, Reset: reset}); err != nil {
			return false, false, err
		}
	}
	s.instance = hello.Instance

	msg := protocol.ClientMsg{Type: protocol.TypeSubscribe, Sessions: s.sessions, Tail: s.tail}
	if s.have {
		since := s.cursor
		msg.Since = &since
	}
	if msg.Since == nil {
		msg.Tail = 0
	}
	conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := conn.WriteMessage(websocket.TextMessage, codec.Encode(msg)); err != nil {
		return false, false, fmt.Errorf("subscribe: %w", err)
	}

	hb := time.Duration(hello.HeartbeatMS) * time.Millisecond
	if hb <= 0 {
		hb = 10 * time.Second
	}
	wait := hb * 5 / 2
	conn.SetPingHandler(func(data string) error {
		conn.SetReadDeadline(time.Now().Add(wait))
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return err
	})
	for {
		conn.SetReadDeadline(time.Now().Add(wait))
		_, data, err := conn.ReadMessage()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				err = fmt.Errorf("no message from the daemon for %v (heartbeat %v): connection presumed dead", wait, hb)
			}
			return progressed, false, err
		}
		typ, msg, err := codec.DecodeServerMsg(data)
		if err != nil {
			return progressed, false, fmt.Errorf("bad message from the daemon: %w", err)
		}
		switch m := msg.(type) {
		case protocol.Subscribed:
			sd := m
			if !s.have {
				// Live only: everything up to replay_to is behind us.
				s.cursor, s.have = m.ReplayTo, true
			}
			if err := s.state(State{Kind: StateConnected, Hello: hello, Subscribed: sd}); err != nil {
				return progressed, false, err
			}
			if m.Truncated {
				if err := s.state(State{Kind: StateTruncated, Hello: hello, Subscribed: sd}); err != nil {
					return progressed, false, err
				}
			}
		case protocol.Events:
			evs, err := codec.DecodeEvents(m.Events)
			if err != nil {
				return progressed, false, fmt.Errorf("bad event record from the daemon: %w", err)
			}
			for _, ev := range evs {
				if ev.Seq != 0 {
					if s.have && ev.Seq <= s.cursor {
						continue // already delivered
					}
					s.cursor, s.have = ev.Seq, true
					s.tail = 0
				}
				if err := s.h.Event(ev); err != nil {
					return progressed, false, &handlerError{err}
				}
			}
			if s.h.Flush != nil {
				if err := s.h.Flush(); err != nil {
					return progressed, false, &handlerError{err}
				}
			}
		case protocol.Live:
			progressed = true
			s.tail = 0
			if m.Seq > s.cursor {
				s.cursor = m.Seq
			}
			s.have = true
			if s.h.Live != nil {
				if err := s.h.Live(m.Seq); err != nil {
					return progressed, false, &handlerError{err}
				}
			}
		case protocol.SessionFrame:
			if s.h.Session != nil {
				if err := s.h.Session(m.Session); err != nil {
					return progressed, false, &handlerError{err}
				}
			}
		case protocol.ErrorMsg:
			s.c.log.Warn("the daemon refused a message", "error", m.Error)
		case protocol.Heartbeat, protocol.Pong, protocol.Hello:
		default:
			s.c.log.Debug("unknown message from the daemon", "type", typ)
		}
	}
}

// memoryStore reports whether the daemon keeps events only in memory, in
// which case a restart lost them and seq started again.
func (s *stream) memoryStore(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	h, err := s.c.Health(ctx)
	return err == nil && h.Store == "memory"
}
