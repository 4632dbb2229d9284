package hub

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/protocol/codec"
	"github.com/mpm-dev/mpm/internal/store"
)

// MaxClientMessage is the read limit for client frames.
const MaxClientMessage = 64 << 10

// Client is one WebSocket connection: a reader goroutine for its lifetime,
// and a writer goroutine that exists only while there is something to write
// (started by kick, gone once the queue has stayed empty for linger), so an
// idle connection costs one goroutine. At most one writer runs at a time; it does every
// write to the connection but the close handshake's reply.
type Client struct {
	// hub is the hub the client is registered with.
	hub *Hub
	// conn is the WebSocket connection.
	conn *websocket.Conn
	// remote is the peer's address, for logs.
	remote string
	// lastSent is the highest seq written to the connection.
	lastSent atomic.Uint64
	// timer fires every heartbeat interval to make the writer ping.
	timer *time.Timer
	// lastWrite is when the writer last wrote events (Unix nanoseconds).
	lastWrite atomic.Int64
	// lastEvents is when the writer last wrote events (Unix nanoseconds;
	// only the writer, one at a time, uses it), for adapt.
	lastEvents int64
	// window is the client's current coalescing window (nanoseconds):
	// the least time between two event frames. It adapts to the client's
	// event rate (see adapt).
	window atomic.Int64

	// mu guards the fields below, shared by publisher, reader and writer.
	mu sync.Mutex
	// subscribed is set once the client has a subscription.
	subscribed bool
	// filter selects the sessions the client receives.
	filter store.Filter
	// named holds the sessions the client named (ephemeral probes reach
	// only clients that named their session).
	named map[string]bool
	// pending is a subscription whose replay the writer has not started.
	pending *replay
	// queue holds live events waiting for the writer, ascending seq.
	queue []*event.Event
	// queued is the encoded size of queue in bytes.
	queued int
	// queuedAt is when the queue last went from empty to not (Unix
	// nanoseconds), for adapt.
	queuedAt int64
	// control holds messages to write before anything else queued.
	control [][]byte
	// controlBytes is the size of control; it may not pass
	// Config.ControlBytes (a client that sends and never reads).
	controlBytes int
	// sessions holds the latest "session" frame of each session not yet
	// written, by session id; sessionOrder the ids in order of arrival.
	sessions     map[string][]byte
	sessionOrder []string
	// closeCode, when non-zero, makes the writer close the connection.
	closeCode int
	// closeReason goes in the close frame.
	closeReason string
	// flushFirst makes the writer write the queue before closing.
	flushFirst bool
	// pingDue asks the writer for a ping (and a heartbeat if idle).
	pingDue bool
	// writing is set while a writer goroutine runs.
	writing bool
	// waiting tells how the writer waits (waitNone, waitIdle,
	// waitHold), so that kick knows when to wake it through wake.
	waiting int
	// wake ends the writer's hold early; buffered (1).
	wake chan struct{}
	// holdTimer times the writer's holds; only the writer uses it.
	holdTimer *time.Timer
	// done is set when the connection is finished: no writer starts again.
	done bool
}

// replay is a subscription whose history the writer still has to send.
type replay struct {
	// sub is the subscription.
	sub Subscription
	// upto is the last published seq when it was made: replay (since, upto].
	upto uint64
}

// Serve registers a client on an upgraded connection and starts its reader
// and writer goroutines; it returns at once, so the HTTP handler's goroutine
// (and the stack it grew) does not stay behind for the connection's life.
// initial, when not nil, subscribes before the first read. It returns
// ErrTooManyClients or ErrClosed (after closing conn with a reason) when the
// hub refuses it.
func (h *Hub) Serve(conn *websocket.Conn, initial *Subscription) error {
	c := &Client{hub: h, conn: conn, remote: conn.RemoteAddr().String(), wake: make(chan struct{}, 1)}
	c.lastWrite.Store(time.Now().UnixNano())
	c.window.Store(int64(h.cfg.Coalesce / coalesceSteps))
	if err := h.register(c); err != nil {
		code := websocket.ClosePolicyViolation
		if err == ErrClosed {
			code = websocket.CloseGoingAway
		}
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, err.Error()), time.Now().Add(time.Second))
		conn.Close()
		return err
	}
	c.sendControl(mustJSON(protocol.Hello{ // hello goes out at once, subscribed or not
		Type: protocol.TypeHello, Protocol: protocol.Version, Instance: h.cfg.Instance, Version: h.cfg.Version,
		LastSeq: h.LastSeq(), OldestSeq: h.cfg.Store.OldestSeq(), ServerTime: time.Now().UTC(),
		HeartbeatMS: h.cfg.Heartbeat.Milliseconds(),
	}))
	if initial != nil {
		h.subscribe(c, *initial)
	}
	c.mu.Lock() // tick reads timer under mu: it may fire before this assignment is seen
	c.timer = time.AfterFunc(h.cfg.Heartbeat, c.tick)
	c.mu.Unlock()
	go c.readPump()
	return nil
}

// kick starts a writer unless one runs or the connection is finished, or
// wakes a waiting one. Callers hold c.mu. The writer holds events back
// until its window since the last write has passed, so that under a high
// event rate they share frames (one write, one syscall) instead of one
// frame each; at a low rate it writes at once.
func (c *Client) kick() {
	if c.done {
		return
	}
	if c.writing {
		// A waiting writer is woken by anything while idle, and only by
		// what must not wait while it holds events back.
		if c.waiting == waitIdle || (c.waiting == waitHold && c.urgent()) {
			select {
			case c.wake <- struct{}{}:
			default:
			}
		}
		return
	}
	c.writing = true
	go c.writePump()
}

// urgent reports whether something that must not wait is queued: only
// events wait; hello, answers, replays, session frames, pings and closes
// go at once. Callers hold c.mu.
func (c *Client) urgent() bool {
	return len(c.control) > 0 || len(c.sessionOrder) > 0 || c.pending != nil || c.pingDue || c.closeCode != 0
}

// coalesceWait is how long to hold events back so they share a frame.
func (c *Client) coalesceWait() time.Duration {
	return time.Duration(c.window.Load() - (time.Now().UnixNano() - c.lastWrite.Load()))
}

// coalesceSteps is how far below Config.Coalesce the window may shrink:
// from Coalesce/16 (a client that gets an event now and then, written at
// once) up to Coalesce (a flood, many events per frame).
const coalesceSteps = 16

// adapt moves the window after a write of n events that the writer took
// late (behind the time the window allowed it to write, by lag: the
// daemon's CPU was busy). A writer late by more than the shortest window
// (Coalesce/16) that found three events or more doubles the window: the events
// waited anyway, and fewer, larger frames free the CPU. Otherwise, at a
// rate under 0.6 events per shortest window (1,200 events/s by default),
// it halves (latency first); between, it stays.
//
// Every frame costs a write system call (~10 µs on a loaded VM, most of a
// delivery's cost). A daemon on one core that writes one frame per event
// to 100 clients spends its CPU on those and settles near 2,000 events/s
// at 2-3 events per frame: the first rule (double at 8 events per write)
// never left that state. A rule on events per write alone cannot tell a
// saturated daemon from a client at 1,000 events/s with a long window (8
// ms finds 8 events); lateness and rate can.
func (c *Client) adapt(n int, lag time.Duration) {
	now := time.Now().UnixNano()
	since := now - c.lastEvents
	c.lastEvents = now
	w, hi := c.window.Load(), int64(c.hub.cfg.Coalesce)
	lo := hi / coalesceSteps
	if lo <= 0 {
		return
	}
	switch {
	case n >= 3 && int64(lag) > lo && w < hi:
		c.window.Store(min(2*w, hi))
	case w > lo && (since <= 0 || float64(n)*float64(lo) < 0.6*float64(since)):
		c.window.Store(max(w/2, lo))
	}
}

// tick is the heartbeat timer: it asks the writer for a ping.
func (c *Client) tick() {
	c.mu.Lock()
	c.pingDue = true
	c.kick()
	done, timer := c.done, c.timer
	c.mu.Unlock()
	if !done {
		timer.Reset(c.hub.cfg.Heartbeat)
	}
}

// setSubscription is called with the hub lock held.
func (c *Client) setSubscription(sub Subscription, upto uint64) {
	c.mu.Lock()
	c.subscribed = true
	c.filter = store.Filter{Sessions: sub.Sessions}
	c.named = make(map[string]bool, len(sub.Sessions))
	for _, s := range sub.Sessions {
		c.named[s] = true
	}
	c.queue, c.queued = nil, 0
	c.pending = &replay{sub: sub, upto: upto}
	c.kick()
	c.mu.Unlock()
}

// enqueue is called by Publish with the hub lock held. A client whose queue
// would pass QueueBytes is closed as a slow consumer.
func (c *Client) enqueue(evs []*event.Event) {
	c.mu.Lock()
	if !c.subscribed || c.closeCode != 0 {
		c.mu.Unlock()
		return
	}
	added := false
	for _, ev := range evs {
		if ev.Ephemeral {
			if !c.named[ev.SessionID] {
				continue
			}
		} else if !c.filter.Match(ev) {
			continue
		}
		if len(c.queue) == 0 {
			c.queuedAt = time.Now().UnixNano()
		}
		c.queue = append(c.queue, ev)
		c.queued += ev.Size()
		added = true
	}
	if c.queued > c.hub.cfg.QueueBytes {
		c.closeCode = protocol.CloseSlowConsumer
		c.closeReason = fmt.Sprintf("slow consumer: %d bytes queued; reconnect with since=%d", c.queued, c.lastSent.Load())
		c.hub.cfg.Logger.Warn("dropping slow client", "remote", c.remote, "queued_bytes", c.queued, "limit", c.hub.cfg.QueueBytes, "last_sent", c.lastSent.Load())
		c.queue, c.queued = nil, 0
		if m := c.hub.cfg.Metrics; m != nil {
			m.SlowDropped.Inc()
		}
	}
	if added || c.closeCode != 0 {
		c.kick()
	}
	c.mu.Unlock()
}

// enqueueSession is called by PublishSession with the hub lock held.
func (c *Client) enqueueSession(id string, frame []byte) { c.enqueueKeyed(id, id, frame) }

// enqueueKeyed is called by PublishSession and PublishKeyed with the hub
// lock held.
func (c *Client) enqueueKeyed(session, key string, frame []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.subscribed || c.closeCode != 0 || !c.filter.MatchSession(session) {
		return
	}
	if c.sessions == nil {
		c.sessions = make(map[string][]byte)
	}
	if _, ok := c.sessions[key]; !ok {
		c.sessionOrder = append(c.sessionOrder, key)
	}
	c.sessions[key] = frame
	c.kick()
}

// closeAfterQueue makes the writer write what is queued, then close.
func (c *Client) closeAfterQueue(code int, reason string) {
	c.mu.Lock()
	if c.closeCode == 0 {
		c.closeCode, c.closeReason, c.flushFirst = code, reason, true
	}
	c.kick()
	c.mu.Unlock()
}

// sendControl queues a message for the writer. Replies count against
// Config.ControlBytes: a client that keeps asking (ping, bad messages)
// without reading the answers is closed with 1008 rather than let its
// replies pile up in memory.
func (c *Client) sendControl(msg []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeCode != 0 || c.done {
		return // the connection is closing: nothing more to say
	}
	if c.controlBytes+len(msg) > c.hub.cfg.ControlBytes {
		c.closeCode = websocket.ClosePolicyViolation
		c.closeReason = fmt.Sprintf("%d bytes of replies unread: read the server's messages", c.controlBytes)
		c.hub.cfg.Logger.Warn("dropping a client that sends requests without reading the replies", "remote", c.remote, "unread_reply_bytes", c.controlBytes, "limit", c.hub.cfg.ControlBytes)
		c.control, c.controlBytes = nil, 0
		c.queue, c.queued = nil, 0
		if m := c.hub.cfg.Metrics; m != nil {
			m.SlowDropped.Inc()
		}
		c.kick()
		return
	}
	c.control = append(c.control, msg)
	c.controlBytes += len(msg)
	c.kick()
}

// readPump reads client messages until the connection fails or closes;
// the client's life ends with it.
func (c *Client) readPump() {
	defer c.finish()
	wait := 2*c.hub.cfg.Heartbeat + c.hub.cfg.WriteTimeout
	c.conn.SetReadLimit(MaxClientMessage)
	c.conn.SetReadDeadline(time.Now().Add(wait))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(wait))
	})
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			if websocket.IsUnexpectedCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) {
				c.hub.cfg.Logger.Debug("client connection ended", "remote", c.remote, "error", err)
			}
			return
		}
		c.conn.SetReadDeadline(time.Now().Add(wait))
		c.handle(data)
	}
}

// handle acts on one client message.
func (c *Client) handle(data []byte) {
	msg, err := codec.DecodeClientMsg(data)
	if err != nil {
		c.sendControl(mustJSON(protocol.ErrorMsg{Type: protocol.TypeError, Error: "message is not JSON: " + err.Error()}))
		return
	}
	switch msg.Type {
	case protocol.TypeSubscribe:
		if msg.Tail < 0 {
			c.sendControl(mustJSON(protocol.ErrorMsg{Type: protocol.TypeError, Error: "tail must be >= 0"}))
			return
		}
		c.hub.subscribe(c, Subscription{Sessions: msg.Sessions, Since: msg.Since, Tail: msg.Tail})
	case protocol.TypePing:
		c.sendControl(pong)
	default:
		c.sendControl(mustJSON(protocol.ErrorMsg{Type: protocol.TypeError, Error: fmt.Sprintf("unknown message type %q: expected subscribe or ping", clip(msg.Type, maxEcho))}))
	}
}

// maxEcho bounds how much of a client's text a reply repeats.
const maxEcho = 32

// clip cuts s to at most n bytes, on a UTF-8 boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// finish ends the client: no writer starts again, the connection closes
// (a running writer's next write fails at once), the hub forgets it.
func (c *Client) finish() {
	c.mu.Lock()
	c.done = true
	timer := c.timer
	c.mu.Unlock()
	timer.Stop()
	c.conn.Close()
	c.hub.unregister(c)
	c.hub.wg.Done()
}

// writePump writes what is queued until nothing is left, then exits.
func (c *Client) writePump() {
	err := c.pump()
	if err == nil {
		return
	}
	c.mu.Lock()
	c.done = true
	c.mu.Unlock()
	c.conn.Close() // the reader ends, and with it the client
	if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
		c.hub.cfg.Logger.Warn("dropping stalled client: a write took longer than the write timeout", "remote", c.remote, "timeout", c.hub.cfg.WriteTimeout, "last_sent", c.lastSent.Load())
		if m := c.hub.cfg.Metrics; m != nil {
			m.SlowDropped.Inc()
		}
	} else if err != errClosing {
		c.hub.cfg.Logger.Debug("client writer ended", "remote", c.remote, "error", err)
	}
}

// errClosing ends the writer after it sent a close frame.
var errClosing = fmt.Errorf("connection closed by the hub")

// pump does the writer's work: it returns nil when nothing is left to write
// (after clearing c.writing under the lock, so the next kick starts a new
// writer), or the error that ends the connection.
func (c *Client) pump() error {
	for {
		c.mu.Lock()
		if !c.urgent() {
			if len(c.queue) == 0 {
				// Nothing to write: stay a while (linger) before ending,
				// so that a client that gets events steadily keeps one
				// writer goroutine, its stack already grown, woken by
				// kick, rather than starting one per frame.
				idle := linger(c.hub.cfg.Coalesce) - time.Duration(time.Now().UnixNano()-c.lastWrite.Load())
				if idle <= 0 || c.done {
					c.writing = false
					c.mu.Unlock()
					return nil
				}
				// A flooded client (its window above the shortest) sits
				// out the window first, woken only for what must not
				// wait: the events that come meanwhile share the next
				// frame, without waking the writer once per publish.
				if wait := c.coalesceWait(); wait > 0 && c.window.Load() > int64(c.hub.cfg.Coalesce/coalesceSteps) {
					c.wait(wait, waitHold)
					continue
				}
				c.wait(idle, waitIdle)
				continue
			}
			// Hold events back until the window since the last write
			// has passed, so that they share a frame.
			if wait := c.coalesceWait(); wait > 0 {
				c.wait(wait, waitHold)
				continue
			}
		}
		control, pending, queue, ping := c.control, c.pending, c.queue, c.pingDue
		code, reason, flush := c.closeCode, c.closeReason, c.flushFirst
		// How late the writer took the events: after they were queued
		// and the window since the last write had passed.
		lag := time.Duration(time.Now().UnixNano() - max(c.queuedAt, c.lastWrite.Load()+c.window.Load()))
		c.control, c.controlBytes, c.pending, c.queue, c.queued, c.pingDue = nil, 0, nil, nil, 0, false
		var frames [][]byte
		if pending == nil { // a subscription sends current summaries itself
			for _, id := range c.sessionOrder {
				frames = append(frames, c.sessions[id])
			}
		}
		clear(c.sessions)
		c.sessionOrder = c.sessionOrder[:0]
		c.mu.Unlock()

		if ping {
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.hub.cfg.WriteTimeout)); err != nil {
				return err
			}
			if time.Duration(time.Now().UnixNano()-c.lastWrite.Load()) >= c.hub.cfg.Heartbeat-c.hub.cfg.Heartbeat/10 {
				control = append(control, mustJSON(protocol.Heartbeat{Type: protocol.TypeHeartbeat, LastSeq: c.hub.LastSeq(), ServerTime: time.Now().UTC()}))
			}
		}
		for _, m := range control {
			if err := c.write(m); err != nil {
				return err
			}
		}
		if pending != nil && code == 0 {
			ok, err := c.replay(pending)
			if err != nil {
				return err
			}
			if !ok {
				continue // a newer subscription superseded this one
			}
		}
		if code == 0 || flush {
			if err := c.writeEvents(queue, true); err != nil {
				return err
			}
			if len(queue) > 0 {
				c.adapt(len(queue), lag)
			}
			// Session frames follow the events that changed the session.
			for _, f := range frames {
				if err := c.write(f); err != nil {
					return err
				}
			}
		}
		if len(control) > 0 || pending != nil || len(queue) > 0 || len(frames) > 0 {
			c.lastWrite.Store(time.Now().UnixNano())
		}
		if code != 0 {
			// A slow client's socket may be full: give the close frame the
			// whole write timeout to get through, so the reason arrives.
			c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(c.hub.cfg.WriteTimeout))
			return errClosing
		}
	}
}

// The ways a writer waits (Client.waiting).
const (
	// waitNone: the writer is not waiting.
	waitNone = iota
	// waitIdle: nothing is queued; any kick wakes it.
	waitIdle
	// waitHold: events are held back to share a frame; only what must
	// not wait (urgent) wakes it.
	waitHold
)

// linger is how long a writer with nothing to write stays for more.
func linger(coalesce time.Duration) time.Duration { return 2 * coalesce }

// wait blocks the writer for d, or until kick wakes it (see waitIdle,
// waitHold). Called with c.mu held, which it releases: the state that
// made the writer wait and the mark that lets kick wake it are set in one
// critical section, so no kick is missed.
func (c *Client) wait(d time.Duration, how int) {
	select { // a wake that came after the last wait ended is stale
	case <-c.wake:
	default:
	}
	c.waiting = how
	c.mu.Unlock()
	if c.holdTimer == nil {
		c.holdTimer = time.NewTimer(d)
	} else {
		c.holdTimer.Reset(d)
	}
	select {
	case <-c.holdTimer.C:
	case <-c.wake:
		c.holdTimer.Stop()
	}
	c.mu.Lock()
	c.waiting = waitNone
	c.mu.Unlock()
}

// write writes one text message with the write deadline.
func (c *Client) write(msg []byte) error {
	c.conn.SetWriteDeadline(time.Now().Add(c.hub.cfg.WriteTimeout))
	return c.conn.WriteMessage(websocket.TextMessage, msg)
}

// superseded reports whether a newer subscription is waiting.
func (c *Client) superseded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending != nil
}

// replay writes subscribed, the history (since, upto], and live. It returns
// false when a newer subscription arrived in the middle.
func (c *Client) replay(r *replay) (bool, error) {
	st := c.hub.cfg.Store
	oldest := st.OldestSeq()
	msg := protocol.Subscribed{Type: protocol.TypeSubscribed, Sessions: r.sub.Sessions, Since: r.sub.Since, ReplayTo: r.upto, OldestSeq: oldest}
	if msg.Sessions == nil {
		msg.Sessions = []string{}
	}
	if r.sub.Since != nil && *r.sub.Since+1 < oldest && *r.sub.Since < r.upto {
		msg.Truncated = true
	}
	if err := c.write(mustJSON(msg)); err != nil {
		return false, err
	}
	if sf := c.hub.cfg.SessionFrames; sf != nil {
		for _, f := range sf(r.sub.Sessions) {
			if err := c.write(f); err != nil {
				return false, err
			}
		}
	}
	if r.sub.Since != nil {
		// The history is read a page at a time (ReplayPage events, about
		// ReplayBytes), a tail too: a replay of any length holds one page.
		f := store.Filter{Sessions: r.sub.Sessions}
		after := *r.sub.Since
		c.lastSent.Store(after)
		if r.sub.Tail > 0 {
			start, err := st.TailStart(after, r.upto, f, r.sub.Tail)
			if err != nil {
				c.hub.cfg.Logger.Error("replay failed", "remote", c.remote, "error", err)
				return false, err
			}
			after = start
		}
		for after < r.upto {
			evs, err := st.Page(after, r.upto, f, c.hub.cfg.ReplayPage, c.hub.cfg.ReplayBytes)
			if err != nil {
				c.hub.cfg.Logger.Error("replay failed", "remote", c.remote, "error", err)
				return false, err
			}
			if len(evs) == 0 {
				break
			}
			if err := c.writeEvents(evs, false); err != nil {
				return false, err
			}
			after = evs[len(evs)-1].Seq
			if c.superseded() {
				return false, nil
			}
		}
	}
	// Live events start above upto; with since beyond upto (a client ahead
	// of a restarted in-memory daemon, say) they start above since.
	if r.sub.Since == nil || *r.sub.Since < r.upto {
		c.lastSent.Store(r.upto)
	}
	return true, c.write(mustJSON(protocol.Live{Type: protocol.TypeLive, Seq: r.upto}))
}

// writeEvents writes evs in as few frames as MaxFrameBytes allows, skipping
// anything at or below lastSent. live events feed the latency histogram.
func (c *Client) writeEvents(evs []*event.Event, live bool) error {
	last := c.lastSent.Load()
	fresh := evs[:0:0]
	for _, ev := range evs {
		if ev.Ephemeral || ev.Seq > last {
			fresh = append(fresh, ev)
			if !ev.Ephemeral {
				last = ev.Seq
			}
		}
	}
	m := c.hub.cfg.Metrics
	for len(fresh) > 0 {
		c.conn.SetWriteDeadline(time.Now().Add(c.hub.cfg.WriteTimeout))
		w, err := c.conn.NextWriter(websocket.TextMessage)
		if err != nil {
			return err
		}
		w.Write(framePrefix)
		size, n := 0, 0
		for n < len(fresh) {
			ev := fresh[n]
			sz := ev.Size()
			if n > 0 && size+sz > c.hub.cfg.MaxFrameBytes {
				break
			}
			if n > 0 {
				w.Write(comma)
			}
			ev.WriteWire(w)
			size += sz
			n++
		}
		w.Write(frameSuffix)
		if err := w.Close(); err != nil {
			return err
		}
		sent := fresh[:n]
		fresh = fresh[n:]
		for i := len(sent) - 1; i >= 0; i-- {
			if !sent[i].Ephemeral {
				c.lastSent.Store(sent[i].Seq)
				break
			}
		}
		if m != nil {
			m.Frames.Inc()
			m.Deliveries.Add(float64(n))
			if live {
				now := time.Now()
				for _, ev := range sent {
					m.Latency.Observe(now.Sub(ev.Received).Seconds())
				}
			}
		}
	}
	return nil
}
