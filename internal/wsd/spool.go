package wsd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/logging"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/spool"
)

// spoolWarnEvery bounds how often the same spool problem is logged: it is
// retried every SpoolInterval, and a spool nobody can drain stays so.
const spoolWarnEvery = 10 * time.Minute

// drainSpoolLoop delivers what mpm-hook spooled while the daemon was down or
// hung: once at start, then every SpoolInterval, until shutdown. Records go
// through the ingest loop like any POST, so their Idempotency-Keys make a
// second delivery (a crash in the middle of a drain, or a hook whose POST
// landed after it spooled) a no-op. Stray spools (Config.StraySpools) are
// drained too while no daemon uses their data directory.
func (s *Server) drainSpoolLoop(ctx context.Context) {
	log := s.log.Named(logging.NameSpool)
	warn := newRateLog(log, spoolWarnEvery)
	tick := time.NewTicker(s.cfg.SpoolInterval)
	defer tick.Stop()
	for {
		s.drainSpools(ctx, log, warn)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// drainSpools drains every spool of spoolDirs once, logging what it
// delivered, and problems through warn (rate-limited: the loop retries every
// SpoolInterval).
func (s *Server) drainSpools(ctx context.Context, log hclog.Logger, warn *rateLog) {
	s.drainDirs(ctx, s.spoolDirs(), log, warn)
}

// drainDirs drains each spool directory of dirs once, as drainSpools does.
func (s *Server) drainDirs(ctx context.Context, dirs []string, log hclog.Logger, warn *rateLog) {
	for _, dir := range dirs {
		n, err := spool.Drain(dir, func(rec spool.Record) error { return s.deliverSpooled(ctx, rec) })
		var nw *spool.NotWritableError
		switch {
		case err == nil && n > 0:
			log.Info("delivered spooled events", "events", n, "spool", dir)
		case err == nil, errors.Is(err, spool.ErrBusy), errors.Is(err, context.Canceled):
		case errors.As(err, &nw), errors.Is(err, os.ErrPermission):
			why := err.Error()
			if werr := spool.Writable(dir); errors.As(werr, &nw) {
				why = werr.Error()
			}
			warn.warn(dir, "the hook spool cannot be drained, and mpm-hook cannot spool there either (its events are lost while the daemon is down): "+why+"; run mpm-verify for the fix",
				"spool", dir, "delivered", n)
		default:
			warn.warn(dir, "spool drain stopped; the rest stays spooled for the next try", "spool", dir, "delivered", n, "error", err)
		}
		if err == nil {
			warn.forget(dir)
		}
	}
}

// spoolDirs returns the spools to drain now: ours, and each stray spool
// that is not ours and whose data directory has no token file.
func (s *Server) spoolDirs() []string {
	own := paths.Spool(s.cfg.DataDir)
	dirs := []string{own}
	for _, d := range s.cfg.StraySpools {
		if d == "" || sameDir(d, own) {
			continue
		}
		if _, err := os.Lstat(paths.Token(filepath.Dir(d))); !errors.Is(err, os.ErrNotExist) {
			continue // a daemon uses (or used) that data directory: its spool is its own
		}
		dirs = append(dirs, d)
	}
	return dirs
}

// sameDir reports whether a and b name the same directory.
func sameDir(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	ai, err1 := os.Stat(a)
	bi, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(ai, bi)
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
