package wsd

import (
	"context"
	"errors"
	"time"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/logging"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/spool"
)

// drainSpoolLoop delivers what mpm-hook spooled while the daemon was down or
// hung: once at start, then every SpoolInterval, until shutdown. Records go
// through the ingest loop like any POST, so their Idempotency-Keys make a
// second delivery (a crash in the middle of a drain, or a hook whose POST
// landed after it spooled) a no-op.
func (s *Server) drainSpoolLoop(ctx context.Context) {
	log := s.log.Named(logging.NameSpool)
	dir := paths.Spool(s.cfg.DataDir)
	tick := time.NewTicker(s.cfg.SpoolInterval)
	defer tick.Stop()
	for {
		n, err := spool.Drain(dir, func(rec spool.Record) error { return s.deliverSpooled(ctx, rec) })
		switch {
		case err == nil && n > 0:
			log.Info("delivered spooled events", "events", n)
		case errors.Is(err, spool.ErrBusy), errors.Is(err, context.Canceled):
		case err != nil:
			log.Warn("spool drain stopped; the rest stays spooled for the next try", "delivered", n, "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// deliverSpooled ingests one spooled record. A record the daemon would
// reject over HTTP is counted and skipped (nil), so it cannot block the
// spool; a store failure returns the error and leaves it spooled.
func (s *Server) deliverSpooled(ctx context.Context, rec spool.Record) error {
	ev, err := event.Parse(rec.Payload, s.cfg.MaxEventBytes)
	if err != nil {
		s.m.reject(event.ReasonOf(err))
		s.log.Named(logging.NameSpool).Warn("skipping a spooled event the daemon cannot accept", "key", rec.Key, "error", err)
		return nil
	}
	if protocol.ValidKey(rec.Key) {
		ev.Key = rec.Key
	}
	ev.Sent = rec.SentAt
	ev.Received = time.Now()
	res := s.ingest.submit(ctx, ev)
	if res.err != nil {
		return res.err
	}
	if !res.dup {
		s.m.spooled.Inc()
	}
	return nil
}
