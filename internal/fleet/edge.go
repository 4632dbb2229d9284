package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/logging"
	"github.com/mpm-dev/mpm/internal/retry"
	"github.com/mpm-dev/mpm/internal/store"
	"github.com/mpm-dev/mpm/internal/wsd"
)

// Edge returns the edge's loop.
//
// The loop is an outbox fed from the daemon's store: it reads the events
// after its cursor, publishes each to mpm.events.<origin>.<session> with
// Nats-Msg-Id <origin>:<journal-id>:<seq> (MsgID), waits for JetStream's
// acknowledgements, then moves the cursor (kept in
// <data-dir>/fleet-edge.cursor). It only reads the store, so NATS being
// down or slow never touches ingest; when NATS is back it publishes what
// it missed, in order. An event too large for the server's max_payload is
// published as a stub saying what was cut (stub), so it never blocks the
// events after it.
func Edge(cfg Config) *Loop {
	cfg = cfg.WithDefaults()
	l := &Loop{link: &link{st: Status{Mode: "edge", URL: redact(cfg.URL), Stream: cfg.Stream, Origin: cfg.Origin}}}
	l.run = func(ctx context.Context, s *wsd.Server) error {
		if err := cfg.Validate(); err != nil {
			return err
		}
		e := &edge{cfg: cfg, log: s.Logger().Named(logging.NameFleet), st: s.Store(), durable: s.Store().Durable(), lastSeq: s.LastSeq, appended: s.Appended,
			cur: cursor{path: filepath.Join(cfg.DataDir, CursorFile)}, link: l.link}
		if j, ok := s.Store().(interface{ ID() string }); ok && e.durable {
			e.journal = j.ID()
		}
		e.m = l.metricsFor(s)
		// Usage and pending requests for the hub (forward.go): journaled
		// whether NATS is up or not, published by the outbox.
		fctx, stop := context.WithCancel(ctx)
		fdone := make(chan struct{})
		go func() {
			defer close(fdone)
			newForwarder(s, cfg.UsageEvery, e.log).run(fctx)
		}()
		defer func() { stop(); <-fdone }()
		return e.run(ctx)
	}
	l.register = func(s *wsd.Server) *metrics {
		m := newMetrics(s.Registry(), l.link)
		m.stubbed = newEdgeMetrics(s.Registry())
		return m
	}
	return l
}

// edge is one running outbox.
type edge struct {
	cfg Config
	log hclog.Logger
	st  store.Reader
	// durable is whether the daemon's store outlives it (the journal).
	durable bool
	cur     cursor
	link    *link
	m       *metrics
	// lastSeq is the highest seq stored and published by the daemon.
	lastSeq func() uint64
	// appended returns a channel closed at the daemon's next commit
	// (wsd.Server.Appended): the outbox wakes on it instead of waiting for
	// the next Poll.
	appended func() <-chan struct{}
	// journal is the store's identity in the message ids: the journal's
	// id, or a per-run id when the store is in memory (its seqs start
	// again at 1 after a restart).
	journal string
	// nc is the connection (for the server's max payload).
	nc *nats.Conn
	// maxPayload is the server's max_payload last checked (checkPayload).
	maxPayload int64
	// tooLarge holds the seqs JetStream refused as too large: they go out
	// as stubs on the next attempt.
	tooLarge map[uint64]string
}

func (e *edge) run(ctx context.Context) error {
	if e.journal == "" {
		var raw [8]byte
		rand.Read(raw[:])
		e.journal = hex.EncodeToString(raw[:])
		e.log.Warn("fleet edge without the journal: events ingested while NATS is down are lost once they leave the in-memory history, and a restart publishes the retained history again")
	}
	e.cur.journal = e.journal
	e.tooLarge = map[uint64]string{}
	pos, curJournal, err := e.cur.load()
	if err != nil {
		return err
	}
	if curJournal != "" && curJournal != e.journal && pos > 0 {
		e.log.Warn("the fleet cursor belongs to another journal (the journal was replaced, or the store is in memory); publishing this one from its start", "cursor", pos, "cursor_journal", curJournal, "journal", e.journal)
		pos = 0
	}
	if last := e.st.LastSeq(); pos > last {
		e.log.Warn("the fleet cursor is ahead of the store (was the journal replaced?); publishing from the store's start", "cursor", pos, "last_seq", last)
		pos = 0
	}
	nc, err := connect(e.cfg, "mpm-wsd edge "+e.cfg.Origin, e.log, e.link.onConn)
	if err != nil {
		return err
	}
	defer nc.Close()
	e.nc = nc
	e.link.update(func(s *Status) { s.Connected = nc.IsConnected(); s.Cursor = pos })
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(2*e.cfg.Batch), jetstream.WithPublishAsyncTimeout(10*time.Second))
	if err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	e.log.Info("fleet edge publishing", "url", redact(e.cfg.URL), "stream", e.cfg.Stream, "origin", e.cfg.Origin, "journal", e.journal, "cursor", pos)
	streamOK := false
	fails := 0
	for {
		appended := e.appended() // before lastSeq: a commit in between wakes us
		last := e.lastSeq()
		e.link.update(func(s *Status) { s.Lag = last - min(pos, last) })
		var err error
		switch {
		case !nc.IsConnected():
			err = errors.New("not connected to NATS")
		case !streamOK:
			e.checkPayload()
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err = ensureStream(sctx, js, e.cfg, e.log)
			cancel()
			streamOK = err == nil
			e.link.update(func(s *Status) { s.StreamOK = streamOK })
			if streamOK {
				continue
			}
		case pos < last:
			var n int
			n, err = e.publishFrom(ctx, js, &pos, last)
			if n > 0 {
				fails = 0
			}
			if err == nil {
				continue // more may be waiting
			}
			if errors.Is(err, jetstream.ErrNoStreamResponse) {
				// The stream is gone (deleted, the server's store wiped):
				// look it up (or make it) again before publishing.
				streamOK = false
				e.link.update(func(s *Status) { s.StreamOK = false })
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := e.cfg.Poll
		if err != nil {
			fails++
			e.m.publishErrors.Inc()
			e.link.update(func(s *Status) { s.LastError = err.Error() })
			if fails == 1 || fails%20 == 0 {
				e.log.Warn("fleet publish failed; retrying (ingest is not affected)", "error", err, "lag", last-min(pos, last), "attempt", fails)
			}
			wait = retry.Backoff(fails, e.cfg.Poll, e.cfg.MaxBackoff, 0)
			appended = nil // after a failure, wait out the backoff
		}
		if err := sleep(ctx, wait, appended); err != nil {
			return err
		}
	}
}

// recordOverhead is what a record adds to its payload, at most: the
// record's fields and the message's headers.
const recordOverhead = 4096

// MinMaxPayload is the smallest server max_payload that carries every
// event of maxEventBytes (--max-event-bytes) whole.
func MinMaxPayload(maxEventBytes int) int64 { return int64(maxEventBytes) + recordOverhead }

// checkPayload compares the server's max_payload (sent at every connect)
// with --max-event-bytes and says so when the largest event would not fit.
func (e *edge) checkPayload() {
	mp := e.nc.MaxPayload()
	if mp <= 0 || mp == e.maxPayload {
		return
	}
	e.maxPayload = mp
	if need := MinMaxPayload(e.cfg.MaxEventBytes); mp < need {
		e.log.Warn("the NATS server's max_payload is smaller than the largest event this daemon accepts: larger events are published as stubs that say what was cut (mpm_fleet_stubbed_total); set max_payload in nats-server.conf to at least the value below, or lower --max-event-bytes",
			"max_payload", mp, "max_event_bytes", e.cfg.MaxEventBytes, "need_max_payload", need)
		return
	}
	e.log.Debug("the NATS server's max_payload fits --max-event-bytes", "max_payload", mp, "max_event_bytes", e.cfg.MaxEventBytes)
}

// publishFrom publishes one batch after *pos (up to last), waits for the
// acknowledgements and moves *pos and the cursor file past the events that
// JetStream acknowledged without a gap. It returns how many that was.
func (e *edge) publishFrom(ctx context.Context, js jetstream.JetStream, pos *uint64, last uint64) (int, error) {
	if oldest := e.st.OldestSeq(); oldest > *pos+1 {
		e.log.Error("events were dropped from the store before they could be published (retention, or --history without the journal)",
			"first_missing", *pos+1, "last_missing", oldest-1)
	}
	evs, err := e.st.Read(*pos, last, store.Filter{}, e.cfg.Batch)
	if err != nil {
		return 0, fmt.Errorf("read the store: %w", err)
	}
	if len(evs) == 0 {
		*pos = last // everything in between was dropped by retention
		return 0, e.cur.store(*pos)
	}
	e.checkPayload()
	stubbed := map[uint64]string{}
	// publish sends ev, as a stub when it is too large; sync waits for the
	// acknowledgement.
	publish := func(ev *event.Event, sync bool) (jetstream.PubAckFuture, error) {
		for try := 0; ; try++ {
			m, why := e.message(ev)
			if why != "" {
				stubbed[ev.Seq] = why
			}
			var f jetstream.PubAckFuture
			var err error
			if sync {
				_, err = js.PublishMsg(ctx, m)
			} else {
				f, err = js.PublishMsgAsync(m)
			}
			if errors.Is(err, nats.ErrMaxPayload) && try == 0 { // the server's limit changed since the check
				e.tooLarge[ev.Seq] = fmt.Sprintf("the NATS server's max_payload (%d bytes) is smaller than the record", e.nc.MaxPayload())
				continue
			}
			return f, err
		}
	}
	// tooBig notes an event the stream refused as too large: the next try
	// publishes its stub.
	tooBig := func(ev *event.Event, err error) {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum {
			e.tooLarge[ev.Seq] = "the stream's max_msg_size is smaller than the record"
		}
	}
	// The first event goes alone and waits for its acknowledgement: while
	// the stream is missing or being made again nothing after it is sent,
	// so a later event cannot reach the stream before an earlier one (the
	// hub stores them in stream order). The rest of the batch follows
	// asynchronously.
	n := 0
	_, pubErr := publish(evs[0], true)
	if pubErr != nil {
		tooBig(evs[0], pubErr)
	} else {
		n = 1
		futs := make([]jetstream.PubAckFuture, 0, len(evs)-1)
		for _, ev := range evs[1:] {
			f, err := publish(ev, false)
			if err != nil {
				pubErr = err
				break
			}
			futs = append(futs, f)
		}
	wait:
		for _, f := range futs {
			select {
			case <-f.Ok():
				n++
			case err := <-f.Err():
				pubErr = err
				tooBig(evs[n], err)
				break wait
			case <-ctx.Done():
				pubErr = ctx.Err()
				break wait
			}
		}
	}
	if n > 0 {
		for _, ev := range evs[:n] {
			delete(e.tooLarge, ev.Seq)
			if why, ok := stubbed[ev.Seq]; ok {
				e.m.stubbed.Inc()
				e.log.Warn("event too large to publish: published a stub that says what was cut (the whole event stays in this journal)",
					"seq", ev.Seq, "session_id", ev.SessionID, "event", ev.Name, "payload_bytes", len(ev.Payload), "reason", why)
			}
		}
		*pos = evs[n-1].Seq
		e.m.published.Add(float64(n))
		now := time.Now()
		e.link.update(func(s *Status) {
			s.Cursor = *pos
			s.Published += uint64(n)
			s.LastOK = now
			s.LastError = ""
		})
		if err := e.cur.store(*pos); err != nil {
			e.log.Warn("could not save the fleet cursor; after a restart some events are published again (the stream drops them as duplicates)", "error", err)
		}
	}
	if pubErr != nil {
		return n, fmt.Errorf("publish event %d: %w", evs[n].Seq, pubErr)
	}
	return n, nil
}

// message is ev as a JetStream message: its wire JSON with the origin and
// origin seq set, on the event's subject, with the message id header. A
// record that would not fit the server's max_payload (or that JetStream
// refused as too large) carries a stub payload instead; why then says why.
func (e *edge) message(ev *event.Event) (m *nats.Msg, why string) {
	c := *ev
	c.Origin, c.OriginSeq = e.cfg.Origin, ev.Seq
	id := MsgID(e.cfg.Origin, e.journal, ev.Seq)
	m = &nats.Msg{Subject: Subject(e.cfg.Origin, ev.SessionID), Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, id)
	m.Data = c.AppendWire(make([]byte, 0, len(ev.Payload)+320))
	why, refused := e.tooLarge[ev.Seq]
	limit := e.maxPayload
	if e.nc != nil {
		limit = e.nc.MaxPayload()
	}
	size := len(m.Data) + len(id) + 64 // the headers
	if !refused && limit > 0 && int64(size) > limit {
		why, refused = fmt.Sprintf("the record is %d bytes, more than the NATS server's max_payload of %d", size, limit), true
	}
	if !refused {
		return m, ""
	}
	c.Payload = stub(ev, size, why)
	m.Data = c.AppendWire(make([]byte, 0, len(c.Payload)+320))
	return m, why
}

// newEdgeMetrics registers the edge's own counter on reg (once per
// registry, like newMetrics).
func newEdgeMetrics(reg prometheus.Registerer) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_fleet_stubbed_total",
		Help: "Events too large for NATS, published as a stub saying what was cut (edge)."})
	if reg != nil {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				if have, ok := are.ExistingCollector.(prometheus.Counter); ok {
					return have
				}
			}
		}
	}
	return c
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-wake: // nil: never
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
