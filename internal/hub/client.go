package hub

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/go-hclog"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/store"
)

// MaxClientMessage is the read limit for client frames.
const MaxClientMessage = 64 << 10

// Client is one WebSocket connection: a reader (the goroutine that called
// Serve) and a writer goroutine that owns every write to the connection.
type Client struct {
	// hub is the hub the client is registered with.
	hub *Hub
	// conn is the WebSocket connection.
	conn *websocket.Conn
	// log is the client's logger (with its remote address).
	log hclog.Logger
	// notify wakes the writer; capacity 1, never blocks a sender.
	notify chan struct{}
	// readerDone is closed when the reader returns.
	readerDone chan struct{}
	// lastSent is the highest seq written to the connection.
	lastSent atomic.Uint64

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
	// control holds messages to write before anything else queued.
	control [][]byte
	// closeCode, when non-zero, makes the writer close the connection.
	closeCode int
	// closeReason goes in the close frame.
	closeReason string
	// flushFirst makes the writer write the queue before closing.
	flushFirst bool
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
	c := &Client{
		hub:        h,
		conn:       conn,
		log:        h.cfg.Logger.With("remote", conn.RemoteAddr().String()),
		notify:     make(chan struct{}, 1),
		readerDone: make(chan struct{}),
	}
	if err := h.register(c); err != nil {
		code := websocket.ClosePolicyViolation
		if err == ErrClosed {
			code = websocket.CloseGoingAway
		}
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, err.Error()), time.Now().Add(time.Second))
		conn.Close()
		return err
	}
	c.control = append(c.control, mustJSON(protocol.Hello{
		Type: "hello", Protocol: protocol.Version, Instance: h.cfg.Instance, Version: h.cfg.Version,
		LastSeq: h.LastSeq(), OldestSeq: h.cfg.Store.OldestSeq(), ServerTime: time.Now().UTC(),
		HeartbeatMS: h.cfg.Heartbeat.Milliseconds(),
	}))
	c.signal() // hello goes out at once, subscribed or not
	if initial != nil {
		h.subscribe(c, *initial)
	}
	go c.writePump()
	go c.readPump()
	return nil
}

// signal wakes the writer without blocking.
func (c *Client) signal() {
	select {
	case c.notify <- struct{}{}:
	default:
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
	c.mu.Unlock()
	c.signal()
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
		c.queue = append(c.queue, ev)
		c.queued += len(ev.Wire())
		added = true
	}
	if c.queued > c.hub.cfg.QueueBytes {
		c.closeCode = protocol.CloseSlowConsumer
		c.closeReason = fmt.Sprintf("slow consumer: %d bytes queued; reconnect with since=%d", c.queued, c.lastSent.Load())
		c.log.Warn("dropping slow client", "queued_bytes", c.queued, "limit", c.hub.cfg.QueueBytes, "last_sent", c.lastSent.Load())
		c.queue, c.queued = nil, 0
		if m := c.hub.cfg.Metrics; m != nil {
			m.SlowDropped.Inc()
		}
	}
	c.mu.Unlock()
	if added || c.closeCode != 0 {
		c.signal()
	}
}

// closeAfterQueue makes the writer write what is queued, then close.
func (c *Client) closeAfterQueue(code int, reason string) {
	c.mu.Lock()
	if c.closeCode == 0 {
		c.closeCode, c.closeReason, c.flushFirst = code, reason, true
	}
	c.mu.Unlock()
	c.signal()
}

// sendControl queues a message for the writer.
func (c *Client) sendControl(msg []byte) {
	c.mu.Lock()
	c.control = append(c.control, msg)
	c.mu.Unlock()
	c.signal()
}

// readPump reads client messages until the connection fails or closes.
func (c *Client) readPump() {
	defer func() {
		close(c.readerDone)
		c.hub.unregister(c)
	}()
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
				c.log.Debug("client connection ended", "error", err)
			}
			return
		}
		c.conn.SetReadDeadline(time.Now().Add(wait))
		c.handle(data)
	}
}

// handle acts on one client message.
func (c *Client) handle(data []byte) {
	var msg protocol.ClientMsg
	if err := json.Unmarshal(data, &msg); err != nil {
		c.sendControl(mustJSON(protocol.ErrorMsg{Type: "error", Error: "message is not JSON: " + err.Error()}))
		return
	}
	switch msg.Type {
	case "subscribe":
		if msg.Tail < 0 {
			c.sendControl(mustJSON(protocol.ErrorMsg{Type: "error", Error: "tail must be >= 0"}))
			return
		}
		c.hub.subscribe(c, Subscription{Sessions: msg.Sessions, Since: msg.Since, Tail: msg.Tail})
	case "ping":
		c.sendControl([]byte(`{"type":"pong"}`))
	default:
		c.sendControl(mustJSON(protocol.ErrorMsg{Type: "error", Error: fmt.Sprintf("unknown message type %q: expected subscribe or ping", msg.Type)}))
	}
}

// writePump owns every write to the connection.
func (c *Client) writePump() {
	defer c.hub.wg.Done()
	defer c.conn.Close()
	defer c.hub.unregister(c)
	if err := c.pump(); err != nil {
		if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
			c.log.Warn("dropping stalled client: a write took longer than the write timeout", "timeout", c.hub.cfg.WriteTimeout, "last_sent", c.lastSent.Load())
			if m := c.hub.cfg.Metrics; m != nil {
				m.SlowDropped.Inc()
			}
		} else {
			c.log.Debug("client writer ended", "error", err)
		}
	}
}

// pump writes until the connection closes or fails; it returns the error
// that ended it, or nil.
func (c *Client) pump() error {
	ticker := time.NewTicker(c.hub.cfg.Heartbeat)
	defer ticker.Stop()
	lastWrite := time.Now()
	for {
		select {
		case <-c.notify:
		case <-c.readerDone:
			return nil
		case <-ticker.C:
			deadline := time.Now().Add(c.hub.cfg.WriteTimeout)
			if err := c.conn.WriteControl(websocket.PingMessage, nil, deadline); err != nil {
				return err
			}
			if time.Since(lastWrite) >= c.hub.cfg.Heartbeat-c.hub.cfg.Heartbeat/10 {
				hb := mustJSON(protocol.Heartbeat{Type: "heartbeat", LastSeq: c.hub.LastSeq(), ServerTime: time.Now().UTC()})
				if err := c.write(hb); err != nil {
					return err
				}
				lastWrite = time.Now()
			}
			continue
		}
		c.mu.Lock()
		control, pending, queue := c.control, c.pending, c.queue
		c.control, c.pending, c.queue, c.queued = nil, nil, nil, 0
		code, reason, flush := c.closeCode, c.closeReason, c.flushFirst
		c.mu.Unlock()

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
		}
		lastWrite = time.Now()
		if code != 0 {
			// A slow client's socket may be full: give the close frame the
			// whole write timeout to get through, so the reason arrives.
			c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(c.hub.cfg.WriteTimeout))
			return nil
		}
	}
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
	msg := protocol.Subscribed{Type: "subscribed", Sessions: r.sub.Sessions, Since: r.sub.Since, ReplayTo: r.upto, OldestSeq: oldest}
	if msg.Sessions == nil {
		msg.Sessions = []string{}
	}
	if r.sub.Since != nil && *r.sub.Since+1 < oldest && *r.sub.Since < r.upto {
		msg.Truncated = true
	}
	if err := c.write(mustJSON(msg)); err != nil {
		return false, err
	}
	if r.sub.Since != nil {
		f := store.Filter{Sessions: r.sub.Sessions}
		after := *r.sub.Since
		c.lastSent.Store(after)
		if r.sub.Tail > 0 {
			evs, err := st.Tail(after, r.upto, f, r.sub.Tail)
			if err != nil {
				c.log.Error("replay failed", "error", err)
				return false, err
			}
			if err := c.writeEvents(evs, false); err != nil {
				return false, err
			}
		} else {
			for after < r.upto {
				evs, err := st.Read(after, r.upto, f, c.hub.cfg.ReplayPage)
				if err != nil {
					c.log.Error("replay failed", "error", err)
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
	}
	// Live events start above upto; with since beyond upto (a client ahead
	// of a restarted in-memory daemon, say) they start above since.
	if r.sub.Since == nil || *r.sub.Since < r.upto {
		c.lastSent.Store(r.upto)
	}
	return true, c.write(mustJSON(protocol.Live{Type: "live", Seq: r.upto}))
}

var (
	framePrefix = []byte(`{"type":"events","events":[`)
	frameSuffix = []byte(`]}`)
	comma       = []byte(`,`)
)

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
			b := fresh[n].Wire()
			if n > 0 && size+len(b) > c.hub.cfg.MaxFrameBytes {
				break
			}
			if n > 0 {
				w.Write(comma)
			}
			w.Write(b)
			size += len(b)
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
