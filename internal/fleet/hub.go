package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/mpm-dev/mpm/internal/logging"
	"github.com/mpm-dev/mpm/internal/retry"
	"github.com/mpm-dev/mpm/internal/wsd"
)

// ConsumerName is the durable consumer name older hubs used for a hub name.
// Hubs no longer use a durable (their journal holds their position): a
// leftover one is deleted at start.
func ConsumerName(hubName string) string { return "mpm-hub-" + SubjectPart(hubName) }

// Timings of the consuming side.
const (
	// hubHeartbeat is the idle heartbeat of the hub's pull requests: two
	// missed ones end a consuming session, which starts again from the
	// journal's position.
	hubHeartbeat = 2 * time.Second
	// streamCheckEvery is how often a consuming hub looks the stream up:
	// a stream that was deleted (and made again) is noticed within it.
	streamCheckEvery = 5 * time.Second
	// consumerIdle is how long the server keeps the hub's ephemeral
	// consumer once nobody pulls from it (a hub killed with -9).
	consumerIdle = time.Minute
)

// Consumer returns a fleet hub's loop, which consumes every origin's
// events from the stream (internal/hub is something else: the WebSocket
// fan-out inside every daemon).
//
// The hub's journal is the only record of its position: every event is
// stored with the stream sequence it was read at, in the same transaction
// (Event.StreamSeq). The loop reads with an ephemeral, unacknowledged
// consumer that starts right after the stored position, in stream order,
// with pull requests kept open (a message reaches the hub as soon as the
// stream has it), and feeds each event through Server.Ingest, as POST
// /v1/events would: the event keeps its origin, origin seq and the edge's
// times, and gets the hub's own seq. A restart resumes at once at the next
// message, in order; nothing waits for an ack timeout. Nats-Msg-Id stays
// the idempotency key, so an event published twice is stored once.
func Consumer(cfg Config) *Loop {
	cfg = cfg.WithDefaults()
	cfg.Hub = true
	l := &Loop{link: &link{st: Status{Mode: "hub", URL: redact(cfg.URL), Stream: cfg.Stream, Origin: cfg.HubName}}}
	l.run = func(ctx context.Context, s *wsd.Server) error {
		if err := cfg.Validate(); err != nil {
			return err
		}
		h := &hubLoop{cfg: cfg, log: s.Logger().Named(logging.NameFleet), s: s, link: l.link, pos: positionOf(s.Store())}
		h.m = l.metricsFor(s)
		return h.run(ctx)
	}
	l.register = func(s *wsd.Server) *metrics {
		registerOriginUsage(s.Registry(), s)
		return newMetrics(s.Registry(), l.link)
	}
	l.prepare = func(s *wsd.Server) { recoverApprovals(s, s.Logger().Named(logging.NameFleet)) }
	return l
}

// hubLoop is one running consumer.
type hubLoop struct {
	cfg  Config
	log  hclog.Logger
	s    *wsd.Server
	link *link
	m    *metrics
	pos  position
	// stream is the identity of the stream consumed (streamID) and after
	// the last stream seq handled in this run (stored, or a duplicate):
	// a new consuming session of the same stream starts after it.
	stream string
	after  uint64
	// droppedDurable is set once the durable of older hubs is dealt with.
	droppedDurable bool
}

// errResume ends a consuming session that is to start again at once from
// the position (a gap in the consumer's deliveries).
var errResume = errors.New("resume")

func (h *hubLoop) run(ctx context.Context) error {
	h.log.Info("fleet hub consuming", "url", redact(h.cfg.URL), "stream", h.cfg.Stream, "position", h.pos.kind())
	var nc *nats.Conn
	defer func() {
		if nc != nil {
			nc.Close()
		}
	}()
	fails := 0
	for ctx.Err() == nil {
		var err error
		switch {
		case nc == nil || nc.IsClosed():
			if nc != nil {
				h.log.Warn("the NATS connection was closed; dialling again", "error", nc.LastError())
			}
			nc, err = connect(h.cfg, "mpm-wsd hub "+h.cfg.HubName, h.log, h.link.onConn)
			if err == nil {
				h.link.update(func(s *Status) { s.Connected = nc.IsConnected() })
				continue
			}
		case !nc.IsConnected():
			err = notConnected(nc)
		default:
			err = h.session(ctx, nc)
		}
		if ctx.Err() != nil {
			break
		}
		if err == nil || errors.Is(err, errResume) {
			fails = 0
			continue
		}
		fails++
		msg := err.Error()
		h.link.update(func(s *Status) { s.LastError = msg })
		if fails == 1 || fails%20 == 0 {
			h.log.Warn("fleet hub: consuming failed; retrying", "error", err, "attempt", fails)
		}
		if err := sleep(ctx, retry.Backoff(fails, h.cfg.Poll, h.cfg.MaxBackoff, 0), nil); err != nil {
			break
		}
	}
	return ctx.Err()
}

// notConnected says why nc is down, in NATS's own words when it gave any
// (an authorization violation, a TLS error).
func notConnected(nc *nats.Conn) error {
	if err := nc.LastError(); err != nil {
		return fmt.Errorf("not connected to NATS: %w", err)
	}
	return errors.New("not connected to NATS")
}

// streamID names one incarnation of a stream: a stream deleted and made
// again under the same name starts its sequences at 1 again.
func streamID(info *jetstream.StreamInfo) string {
	return info.Config.Name + "@" + info.Created.UTC().Format(time.RFC3339Nano)
}

// lookStream ensures the stream and returns its current info.
func (h *hubLoop) lookStream(ctx context.Context, js jetstream.JetStream) (*jetstream.StreamInfo, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := ensureStream(cctx, js, h.cfg, h.log); err != nil {
		return nil, err
	}
	st, err := js.Stream(cctx, h.cfg.Stream)
	if err != nil {
		return nil, fmt.Errorf("look up JetStream stream %s: %w", h.cfg.Stream, err)
	}
	return st.CachedInfo(), nil
}

// start returns the stream seq to read after for the stream id: the
// journal's position for it, or where this run got to when further (the
// duplicates it skipped are not stored); 0 for a stream never consumed.
func (h *hubLoop) start(id string) (after, stored uint64, err error) {
	stored, err = h.pos.load(id)
	if err != nil {
		return 0, 0, err
	}
	if h.stream != id {
		if h.stream != "" {
			h.log.Warn("the JetStream stream was made again; consuming it from its start", "stream", id, "was", h.stream)
		}
		h.stream, h.after = id, stored
	}
	h.after = max(h.after, stored)
	return h.after, stored, nil
}

// session consumes the stream from the position until something fails:
// the stream changed or vanished, the connection dropped long enough for
// heartbeats to be missed, a delivery was skipped, or an event could not be
// stored. The next session starts again from the position.
func (h *hubLoop) session(ctx context.Context, nc *nats.Conn) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	info, err := h.lookStream(ctx, js)
	if err != nil {
		h.link.update(func(s *Status) { s.StreamOK = false })
		return err
	}
	h.link.update(func(s *Status) { s.StreamOK = true })
	id := streamID(info)
	after, stored, err := h.start(id)
	if err != nil {
		return err
	}
	if !h.droppedDurable {
		after = h.oldDurable(ctx, js, after, stored)
	}
	if after == 0 && info.State.Msgs > 0 {
		h.log.Info("reading the stream from its start", "stream", h.cfg.Stream, "messages", info.State.Msgs)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	cons, err := js.CreateConsumer(cctx, h.cfg.Stream, jetstream.ConsumerConfig{
		Description:       "mpm hub " + h.cfg.HubName + " (position in its journal)",
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       after + 1,
		AckPolicy:         jetstream.AckNonePolicy,
		FilterSubject:     SubjectPrefix + ".>",
		InactiveThreshold: consumerIdle,
	})
	cancel()
	if err != nil {
		return fmt.Errorf("create a consumer on %s from stream seq %d: %w", h.cfg.Stream, after+1, err)
	}
	name := cons.CachedInfo().Name
	defer func() {
		// Best effort: the server drops it after consumerIdle anyway (and
		// a shutdown does not wait for a connection that is down).
		if !nc.IsConnected() {
			return
		}
		dctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = js.DeleteConsumer(dctx, h.cfg.Stream, name)
		cancel()
	}()
	it, err := cons.Messages(jetstream.PullMaxMessages(h.cfg.Batch), jetstream.PullHeartbeat(hubHeartbeat), jetstream.WithMessagesErrOnMissingHeartbeat(true))
	if err != nil {
		return fmt.Errorf("consume %s: %w", h.cfg.Stream, err)
	}
	defer it.Stop()

	// The stream is looked up every streamCheckEvery while consuming; a
	// deleted or replaced one ends the session.
	sctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	go h.watchStream(sctx, js, id, stop)

	h.log.Debug("consuming", "stream", id, "from", after+1)
	var dseq uint64
	for {
		msg, err := it.Next(jetstream.NextContext(sctx))
		if err != nil {
			if c := context.Cause(sctx); c != nil && ctx.Err() == nil {
				return c
			}
			return fmt.Errorf("consume %s: %w", h.cfg.Stream, err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("consume %s: %w", h.cfg.Stream, err)
		}
		if meta.Sequence.Consumer != dseq+1 {
			h.log.Debug("a delivery was skipped; consuming again from the position", "delivered", meta.Sequence.Consumer, "want", dseq+1, "after", h.after)
			return errResume
		}
		dseq = meta.Sequence.Consumer
		if err := h.handle(ctx, msg, meta.Sequence.Stream); err != nil {
			return err
		}
	}
}

// handle stores one message consumed at stream seq sseq.
func (h *hubLoop) handle(ctx context.Context, msg jetstream.Msg, sseq uint64) error {
	ev, err := decode(msg.Data(), msg.Headers().Get(jetstream.MsgIDHeader), h.cfg.MaxEventBytes)
	if err == nil {
		err = checkOrigin(msg.Subject(), ev) // the subject, which the server ties to the credentials, names the origin
	}
	if err != nil {
		h.m.ingestErrors.Inc()
		h.log.Error("dropping a message that is not an mpm event", "subject", msg.Subject(), "stream_seq", sseq, "error", err)
		h.after = sseq
		return nil
	}
	ev.StreamSeq = sseq
	_, dup, err := h.s.Ingest(ctx, ev)
	if err != nil {
		h.m.ingestErrors.Inc()
		return fmt.Errorf("ingest %s (stream seq %d): %w", ev.Key, sseq, err)
	}
	if !dup {
		observeRemote(h.s, ev)
	}
	h.after = sseq
	h.pos.stored(sseq)
	h.m.consumed.Inc()
	now := time.Now()
	h.link.update(func(s *Status) { s.Consumed++; s.LastOK = now; s.LastError = "" })
	return nil
}

// watchStream looks the stream up every streamCheckEvery until ctx ends,
// keeping the status's StreamOK live; it cancels the session (stop) when
// the stream is gone or is no longer the one with id.
func (h *hubLoop) watchStream(ctx context.Context, js jetstream.JetStream, id string, stop context.CancelCauseFunc) {
	t := time.NewTicker(streamCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := js.Stream(cctx, h.cfg.Stream)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, jetstream.ErrStreamNotFound):
			h.link.update(func(s *Status) { s.StreamOK = false })
			stop(fmt.Errorf("the JetStream stream %s is gone (deleted, or the server's store was wiped): %w", h.cfg.Stream, err))
			return
		case err != nil:
			// The connection's own errors are reported by it; a failed
			// look-up alone does not end the session.
			h.log.Debug("looking up the stream failed", "error", err)
		case streamID(st.CachedInfo()) != id:
			stop(fmt.Errorf("%w: the JetStream stream %s was made again", errResume, h.cfg.Stream))
			return
		default:
			h.link.update(func(s *Status) { s.StreamOK = true })
		}
	}
}

// oldDurable handles the durable consumer older hubs read with (their
// position was its ack floor): while the journal holds no position yet, a
// hub resumes at that floor instead of reading the whole stream again; once
// the journal holds one, the durable is deleted. A fresh journal (no event
// stored) reads the whole stream. It returns where to resume.
func (h *hubLoop) oldDurable(ctx context.Context, js jetstream.JetStream, after, stored uint64) uint64 {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	name := ConsumerName(h.cfg.HubName)
	c, err := js.Consumer(cctx, h.cfg.Stream, name)
	if err != nil {
		if !errors.Is(err, jetstream.ErrConsumerNotFound) {
			h.log.Debug("could not look up the durable consumer of an older mpm hub", "consumer", name, "error", err)
		}
		h.droppedDurable = true
		return after
	}
	if stored == 0 {
		if h.s.LastSeq() == 0 {
			return after // a fresh journal: read what the stream holds
		}
		if floor := c.CachedInfo().AckFloor.Stream; floor > after {
			h.log.Info("resuming where the durable consumer of an older mpm hub got to; from now on the position is kept in the journal", "consumer", name, "stream_seq", floor)
			h.after = floor
			return floor
		}
		return after
	}
	if err := js.DeleteConsumer(cctx, h.cfg.Stream, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		h.log.Warn("could not delete the durable consumer of an older mpm hub (the position is in the journal now); delete it with `nats consumer rm`", "stream", h.cfg.Stream, "consumer", name, "error", err)
	} else {
		h.log.Info("deleted the durable consumer of an older mpm hub: the position is in the journal now", "consumer", name)
	}
	h.droppedDurable = true
	return after
}
