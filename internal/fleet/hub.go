package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/mpm-dev/mpm/internal/logging"
	"github.com/mpm-dev/mpm/internal/retry"
	"github.com/mpm-dev/mpm/internal/wsd"
)

// ConsumerName is the hub's durable consumer name for a hub name.
func ConsumerName(hubName string) string { return "mpm-hub-" + SubjectPart(hubName) }

// Consumer returns a fleet hub's loop, which consumes every origin's
// events from the stream (internal/hub is something else: the WebSocket
// fan-out inside every daemon).
//
// The loop reads the stream with a durable pull consumer (ConsumerName) and
// feeds each event through Server.Ingest, as POST /v1/events would: the
// event keeps its origin, origin seq and the edge's times, and gets the
// hub's own seq. A message is acknowledged only once it is stored; its
// Nats-Msg-Id is the idempotency key, so a redelivery is stored once.
func Consumer(cfg Config) *Loop {
	cfg = cfg.WithDefaults()
	cfg.Hub = true
	l := &Loop{link: &link{st: Status{Mode: "hub", URL: redact(cfg.URL), Stream: cfg.Stream, Origin: cfg.HubName}}}
	l.run = func(ctx context.Context, s *wsd.Server) error {
		if err := cfg.Validate(); err != nil {
			return err
		}
		h := &hubLoop{cfg: cfg, log: s.Logger().Named(logging.NameFleet), s: s, link: l.link}
		h.m = newMetrics(s.Registry(), h.link)
		return h.run(ctx)
	}
	return l
}

// hubLoop is one running consumer.
type hubLoop struct {
	cfg  Config
	log  hclog.Logger
	s    *wsd.Server
	link *link
	m    *metrics
}

func (h *hubLoop) run(ctx context.Context) error {
	nc, err := connect(h.cfg, "mpm-wsd hub "+h.cfg.HubName, h.log, h.link.onConn)
	if err != nil {
		return err
	}
	defer nc.Close()
	h.link.update(func(s *Status) { s.Connected = nc.IsConnected() })
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	h.log.Info("fleet hub consuming", "url", redact(h.cfg.URL), "stream", h.cfg.Stream, "consumer", ConsumerName(h.cfg.HubName))
	var cons jetstream.Consumer
	fails := 0
	for ctx.Err() == nil {
		var err error
		switch {
		case !nc.IsConnected():
			err = errors.New("not connected to NATS")
		case cons == nil:
			cons, err = h.consumer(ctx, js)
		default:
			err = h.fetch(ctx, cons)
		}
		if err == nil {
			fails = 0
			continue
		}
		if ctx.Err() != nil {
			break
		}
		fails++
		h.link.update(func(s *Status) { s.LastError = err.Error() })
		if fails == 1 || fails%20 == 0 {
			h.log.Warn("fleet hub: consuming failed; retrying", "error", err, "attempt", fails)
		}
		if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
			cons = nil
			h.link.update(func(s *Status) { s.StreamOK = false })
		}
		if err := sleep(ctx, retry.Backoff(fails, h.cfg.Poll, h.cfg.MaxBackoff, 0)); err != nil {
			break
		}
	}
	return ctx.Err()
}

// consumer ensures the stream and the durable consumer.
func (h *hubLoop) consumer(ctx context.Context, js jetstream.JetStream) (jetstream.Consumer, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := ensureStream(cctx, js, h.cfg, h.log); err != nil {
		return nil, err
	}
	h.link.update(func(s *Status) { s.StreamOK = true })
	cons, err := js.CreateOrUpdateConsumer(cctx, h.cfg.Stream, jetstream.ConsumerConfig{
		Durable:       ConsumerName(h.cfg.HubName),
		Description:   "mpm hub " + h.cfg.HubName,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxDeliver:    -1,
		MaxAckPending: 4 * h.cfg.Batch,
		FilterSubject: SubjectPrefix + ".>",
	})
	if err != nil {
		return nil, fmt.Errorf("create durable consumer %s on %s: %w", ConsumerName(h.cfg.HubName), h.cfg.Stream, err)
	}
	return cons, nil
}

// fetch pulls up to one batch (waiting up to a second for the first
// message) and ingests it in order.
func (h *hubLoop) fetch(ctx context.Context, cons jetstream.Consumer) error {
	fctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	batch, err := cons.Fetch(h.cfg.Batch, jetstream.FetchContext(fctx))
	if err != nil {
		if fctx.Err() != nil && ctx.Err() == nil {
			return nil
		}
		return err
	}
	n := 0
	var ingestErr error
	for msg := range batch.Messages() {
		if ingestErr != nil {
			msg.Nak() // redelivered after the failed one, in order
			continue
		}
		ev, err := decode(msg.Data(), msg.Headers().Get(jetstream.MsgIDHeader), h.cfg.MaxEventBytes)
		if err != nil {
			h.m.ingestErrors.Inc()
			h.log.Error("dropping a message that is not an mpm event", "subject", msg.Subject(), "error", err)
			msg.Term()
			continue
		}
		if _, _, err := h.s.Ingest(ctx, ev); err != nil {
			h.m.ingestErrors.Inc()
			ingestErr = fmt.Errorf("ingest %s: %w", ev.Key, err)
			msg.NakWithDelay(time.Second)
			continue
		}
		if err := msg.Ack(); err != nil {
			h.log.Debug("ack failed; the message comes again and is dropped as a duplicate", "error", err)
		}
		n++
	}
	if n > 0 {
		h.m.consumed.Add(float64(n))
		now := time.Now()
		h.link.update(func(s *Status) { s.Consumed += uint64(n); s.LastOK = now; s.LastError = "" })
	}
	if ingestErr != nil {
		return ingestErr
	}
	if err := batch.Error(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, jetstream.ErrNoHeartbeat) && ctx.Err() == nil {
		return err
	}
	return nil
}
