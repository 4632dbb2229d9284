package fleet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

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
// Nats-Msg-Id <origin>:<seq>, waits for JetStream's acknowledgements,
// then moves the cursor (kept in <data-dir>/fleet-edge.cursor). It only
// reads the store, so NATS being down or slow never touches ingest; when
// NATS is back it publishes what it missed, in order.
func Edge(cfg Config) *Loop {
	cfg = cfg.WithDefaults()
	l := &Loop{link: &link{st: Status{Mode: "edge", URL: redact(cfg.URL), Stream: cfg.Stream, Origin: cfg.Origin}}}
	l.run = func(ctx context.Context, s *wsd.Server) error {
		if err := cfg.Validate(); err != nil {
			return err
		}
		e := &edge{cfg: cfg, log: s.Logger().Named(logging.NameFleet), st: s.Store(), durable: s.Store().Durable(), lastSeq: s.LastSeq,
			cur: cursor{path: filepath.Join(cfg.DataDir, CursorFile)}, link: l.link}
		e.m = newMetrics(s.Registry(), e.link)
		return e.run(ctx)
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
	// idPrefix starts every message id: origin, plus a per-run id when the
	// store is in memory (its seqs start again at 1 after a restart).
	idPrefix string
}

func (e *edge) run(ctx context.Context) error {
	pos, err := e.cur.load()
	if err != nil {
		return err
	}
	e.idPrefix = e.cfg.Origin + ":"
	if !e.durable {
		var raw [6]byte
		rand.Read(raw[:])
		e.idPrefix += hex.EncodeToString(raw[:]) + ":"
		e.log.Warn("fleet edge without the journal: events ingested while NATS is down are lost once they leave the in-memory history, and a restart publishes the retained history again")
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
	e.link.update(func(s *Status) { s.Connected = nc.IsConnected(); s.Cursor = pos })
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(2*e.cfg.Batch), jetstream.WithPublishAsyncTimeout(10*time.Second))
	if err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	e.log.Info("fleet edge publishing", "url", redact(e.cfg.URL), "stream", e.cfg.Stream, "origin", e.cfg.Origin, "cursor", pos)
	streamOK := false
	fails := 0
	for {
		last := e.lastSeq()
		e.link.update(func(s *Status) { s.Lag = last - min(pos, last) })
		var err error
		switch {
		case !nc.IsConnected():
			err = errors.New("not connected to NATS")
		case !streamOK:
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
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
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
	futs := make([]jetstream.PubAckFuture, 0, len(evs))
	var pubErr error
	for _, ev := range evs {
		f, err := js.PublishMsgAsync(e.message(ev))
		if err != nil {
			pubErr = err
			break
		}
		futs = append(futs, f)
	}
	n := 0
wait:
	for _, f := range futs {
		select {
		case <-f.Ok():
			n++
		case err := <-f.Err():
			pubErr = err
			break wait
		case <-ctx.Done():
			pubErr = ctx.Err()
			break wait
		}
	}
	if n > 0 {
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
// origin seq set, on the event's subject, with the message id header.
func (e *edge) message(ev *event.Event) *nats.Msg {
	c := *ev
	c.Origin, c.OriginSeq = e.cfg.Origin, ev.Seq
	seq := strconv.FormatUint(ev.Seq, 10)
	m := &nats.Msg{Subject: Subject(e.cfg.Origin, ev.SessionID), Header: nats.Header{}}
	m.Data = c.AppendWire(make([]byte, 0, len(ev.Payload)+320))
	m.Header.Set(jetstream.MsgIDHeader, e.idPrefix+seq)
	return m
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
