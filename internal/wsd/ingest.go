package wsd

import (
	"context"
	"errors"
	"runtime"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/hub"
	"github.com/mpm-dev/mpm/internal/sessions"
	"github.com/mpm-dev/mpm/internal/store"
)

// errStopped is returned by submit once the ingest loop has stopped.
var errStopped = errors.New("daemon is shutting down")

// result is the ingest loop's answer to one request.
type result struct {
	// seq is the event's seq (the original's, for a duplicate).
	seq uint64
	// dup is set when the Idempotency-Key was already stored.
	dup bool
	// err is set when the event could not be stored.
	err error
}

// request is one event (or a health ping) for the ingest loop.
type request struct {
	// ev is the event; nil for a ping.
	ev *event.Event
	// done receives the result; buffered, so the loop never blocks on it.
	done chan result
}

// ingester is the single goroutine that sequences events: it groups the
// requests that queued up while it was busy into one batch, assigns seqs,
// stores the batch in one Append, feeds the session tracker, publishes to the
// hub and answers. Nothing in it waits on a WebSocket client.
type ingester struct {
	// store keeps the events.
	store store.Appender
	// hub fans events out.
	hub *hub.Hub
	// tracker summarises sessions.
	tracker *sessions.Tracker
	// changed, when set, learns what each commit changed in the sessions
	// (the caster); it must not block.
	changed func(sessions.Changes)
	// observed, when set, sees each commit's new events after they are
	// published (the approvals registry: a later event of a session ends
	// its pending request); it must not block.
	observed func([]*event.Event)
	// touched, when set, learns each committed batch (the usage reader:
	// it only marks the sessions); it must not block.
	touched func([]*event.Event)
	// m counts.
	m *metrics
	// log is the "ingest" logger.
	log hclog.Logger
	// reqs carries requests to the loop.
	reqs chan *request
	// maxBatch bounds one batch.
	maxBatch int
	// halt ends when the loop is asked to stop (cancel): submit then
	// refuses new requests.
	halt   context.Context
	cancel context.CancelFunc
	// last is the highest seq assigned and stored.
	last uint64
	// sh follows the store's write failures (storehealth.go).
	sh *storeHealth
	// appended wakes loops waiting for new events (Server.Appended).
	appended wake
}

func newIngester(st store.Appender, h *hub.Hub, tr *sessions.Tracker, m *metrics, log hclog.Logger, maxBatch int) *ingester {
	halt, cancel := context.WithCancel(context.Background())
	return &ingester{
		halt: halt, cancel: cancel,
		store: st, hub: h, tracker: tr, m: m, log: log,
		reqs:     make(chan *request, maxBatch),
		maxBatch: maxBatch,
		last:     st.LastSeq(),
		sh:       newStoreHealth(log, m.reg),
	}
}

// submit hands ev to the loop and waits for its answer; ev == nil is a
// health ping.
func (in *ingester) submit(ctx context.Context, ev *event.Event) result {
	r := &request{ev: ev, done: make(chan result, 1)}
	select {
	case in.reqs <- r:
	case <-in.halt.Done():
		return result{err: errStopped}
	case <-ctx.Done():
		return result{err: ctx.Err()}
	}
	select {
	case res := <-r.done:
		return res
	case <-ctx.Done():
		return result{err: ctx.Err()}
	}
}

// run is the loop. It returns once halt ends and the queued requests are
// answered (the server runs it with goLoop and stops it last).
func (in *ingester) run(context.Context) error {
	batch := make([]*request, 0, in.maxBatch)
	slow := false // the last commit took longer than slowCommit
	for {
		select {
		case r := <-in.reqs:
			batch = append(batch[:0], r)
			batch = in.drain(batch)
			if slow && len(batch) < in.maxBatch {
				// Commits are costly (a journal): let the handlers that
				// are about to submit run first, so that they share this
				// one. At idle nothing else is runnable and this costs
				// nothing.
				runtime.Gosched()
				batch = in.drain(batch)
			}
			start := time.Now()
			in.commit(batch)
			slow = time.Since(start) > slowCommit
		case <-in.halt.Done():
			for {
				select {
				case r := <-in.reqs:
					in.commit([]*request{r})
				default:
					return nil
				}
			}
		}
	}
}

// slowCommit is the commit time above which the loop yields once before the
// next commit to gather more events into it: a journal commit costs about
// the same for one event or several; a memory commit is far below it.
const slowCommit = 50 * time.Microsecond

// drain adds what is queued to batch, up to maxBatch.
func (in *ingester) drain(batch []*request) []*request {
	for len(batch) < in.maxBatch {
		select {
		case r := <-in.reqs:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// storedKeys asks the store, in one call, which of the batch's
// idempotency keys it already holds. On a lookup failure the events are
// treated as new (the failure is logged): losing an event is worse than
// storing a rare duplicate.
func (in *ingester) storedKeys(batch []*request) map[string]uint64 {
	var ks []string
	for _, r := range batch {
		if r.ev != nil && !r.ev.Ephemeral && r.ev.Key != "" {
			ks = append(ks, r.ev.Key)
		}
	}
	if len(ks) == 0 {
		return nil
	}
	found, err := in.store.LookupKeys(ks)
	if err != nil {
		in.log.Warn("idempotency key lookup failed; treating the events as new", "events", len(ks), "error", err)
		return nil
	}
	return found
}

// commit sequences, stores, publishes and answers one batch.
func (in *ingester) commit(batch []*request) {
	results := make([]result, len(batch))
	fresh := make([]*event.Event, 0, len(batch))
	publish := make([]*event.Event, 0, len(batch))
	var keys map[string]uint64
	var changes sessions.Changes
	stored := in.storedKeys(batch)
	next := in.last
	for i, r := range batch {
		ev := r.ev
		switch {
		case ev == nil:
			in.hub.Ping()
			continue
		case ev.Ephemeral:
			publish = append(publish, ev)
			continue
		case ev.Key != "":
			if seq, ok := keys[ev.Key]; ok {
				results[i] = result{seq: seq, dup: true}
				continue
			}
			if seq, ok := stored[ev.Key]; ok {
				results[i] = result{seq: seq, dup: true}
				continue
			}
			if keys == nil {
				keys = make(map[string]uint64)
			}
			keys[ev.Key] = next + 1
		}
		next++
		ev.Seq = next
		results[i].seq = next
		fresh = append(fresh, ev)
		publish = append(publish, ev)
	}
	if len(fresh) > 0 {
		if err := in.store.Append(fresh); err != nil {
			in.sh.failed(err, len(fresh))
			for i, r := range batch {
				if r.ev != nil && !r.ev.Ephemeral && !results[i].dup {
					results[i] = result{err: err}
				}
			}
			fresh = fresh[:0]
			publish = publish[:0]
		} else {
			in.sh.ok()
			in.last = next
			changes = in.tracker.Observe(fresh)
			if in.touched != nil {
				in.touched(fresh)
			}
			in.m.accepted.Add(float64(len(fresh)))
			in.m.batch.Observe(float64(len(fresh)))
		}
	}
	if len(publish) > 0 {
		in.hub.Publish(publish)
		in.appended.signal()
	}
	if in.changed != nil && (len(changes.Sessions) > 0 || len(changes.Attention) > 0) {
		in.changed(changes) // after Publish: a session frame follows its events
	}
	if in.observed != nil && len(fresh) > 0 {
		in.observed(fresh)
	}
	for i, r := range batch {
		if results[i].dup {
			in.m.duplicates.Inc()
		}
		r.done <- results[i]
	}
}
