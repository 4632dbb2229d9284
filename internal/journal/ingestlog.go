package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/spool/crc32c"
)

// The ingest log. Append makes a batch durable against a crash of the
// process with one write to an append-only file next to the database
// (<path>.log.<n>, n counting segments), then returns; a committer
// goroutine (commitLoop) writes the logged events into SQLite in larger
// transactions, so the hook's answer never waits for a SQLite commit (a
// one-event commit costs 4-10 system calls and ~100 us on a slow VM) and
// under load the commit's cost is shared by up to commitMaxEvents events.
//
// A record is
//
//	magic "MPJ1" | length u32 | CRC-32C u32 of the body | body
//	body: first seq u64 | count u32 | count events
//	event: received_ns, sent_ns (zigzag varints), origin_seq, stream_seq
//	(uvarints), then session_id, event, tool, tool_use_id, cwd,
//	transcript_path, reason, agent_id, agent_type, origin, key, payload
//	(each a uvarint length and its bytes)
//
// (little endian), the events' seqs first, first+1, ... Everything an
// Append's transaction stored is there: the row (payload raw: compression
// runs in the committer), the idempotency key and the fleet stream
// position (stream_seq); the session summaries and byte count are derived
// from the events when they are committed.
//
// Open replays every record whose events are above the database's last seq
// (a record cut short at the end of a segment, a write a crash or a full
// disk interrupted, was never acknowledged: it is truncated with a WARN and
// counted; damage before good records is reported in Note and kept in a
// copy). Later records win over earlier ones for the same seq: a record
// whose write failed (Append returned an error, the seqs were handed out
// again) may survive when its truncation failed too.
//
// What Append updates at once and what the commit does: LastSeq (the last
// accepted seq), the idempotency key filter and an in-memory map of the
// accepted keys (so a resend is recognised before its commit) change in
// Append; the session summaries, the byte count and last (the last
// committed seq) change when the committer commits, because saveState
// writes them with state_seq = last, and open folds the events after
// state_seq back in: summaries folded before the commit would be saved
// ahead of their events and folded twice after a crash. Sessions and Bytes
// wait for the committer like the other reads.
//
// A segment is removed once all its events are committed and a complete
// WAL checkpoint has copied them into the database file (and, in the
// default synchronous=NORMAL mode, fsynced it): until then a power loss can
// lose only what the log still holds. The active segment is emptied the
// same way, and a new one started at segmentMax bytes, so a long burst
// does not grow the log without bound.

const (
	logMagic = "MPJ1"
	// logHeader is magic, length and CRC.
	logHeader = 12
	// logBodyMin is first seq and count.
	logBodyMin = 12
	// maxLogRecord bounds a record's body: a larger length is damage.
	maxLogRecord = 1 << 30
)

// Variables for tests.
var (
	// segmentMax is the size at which Append starts a new segment.
	segmentMax int64 = 64 << 20
	// commitMaxEvents and commitMaxBytes bound one committer transaction.
	commitMaxEvents = 256
	commitMaxBytes  = 8 << 20
	// maxQueued and maxQueuedBytes bound the accepted events waiting for
	// the committer: beyond them Append waits (backpressure), so memory
	// and the log stay bounded when ingest outruns SQLite.
	maxQueued      = 4096
	maxQueuedBytes = 64 << 20
)

// gatherEvents and gatherDelay: the committer gathers accepted events
// before it commits them, until it has gatherEvents (or blockMaxBytes of
// payload), or gatherDelay has passed since the first, or a read waits
// for them (waitCommitted), so that an idle-ish stream's events, which come
// in bursts of a few (a tool call's PreToolUse and PostToolUse, a prompt and
// its first calls), are compressed in blocks too (blocks.go), not one
// frame each. The ingest log keeps them safe meanwhile; nothing reads a
// gathered event before it is committed (every read waits for the
// committer, which then commits at once). Variables for tests.
var (
	gatherEvents = 64
	gatherDelay  = time.Second
)

// holdCommitsEnv holds the committer back (tests only: the crash test
// kills a daemon while its accepted events are only in the log). Never set
// it in production: reads would wait until it is unset and the daemon
// restarted.
var holdCommitsEnv = os.Getenv("MPM_JOURNAL_TEST_HOLD_COMMITS") == "1"

// failCommits makes that many commits fail (tests).
var failCommits atomic.Int32

// logSeg is a closed segment awaiting removal.
type logSeg struct {
	path string
	// maxSeq is the highest seq it holds (0: none).
	maxSeq uint64
}

// LogStats are the ingest log's counters (metrics).
type LogStats struct {
	// TornTails counts records cut short at a segment's end, truncated at
	// open (writes a crash or full disk interrupted; never acknowledged).
	TornTails uint64
	// Damaged counts damaged stretches found in the log at open (Note
	// says which events were lost).
	Damaged uint64
	// CommitFailures counts failed committer transactions (retried).
	CommitFailures uint64
	// Pending is the number of accepted events not yet in SQLite.
	Pending int
}

// LogStats returns the ingest log's counters.
func (j *Journal) LogStats() LogStats {
	j.cmu.Lock()
	n := len(j.queue)
	j.cmu.Unlock()
	return LogStats{TornTails: j.logTorn.Load(), Damaged: j.logDamaged.Load(), CommitFailures: j.commitFailures.Load(), Pending: n}
}

// Collectors are the ingest log's metrics, for the daemon's registry.
func (j *Journal) Collectors() []prometheus.Collector {
	counter := func(name, help string, v func() uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v()) })
	}
	return []prometheus.Collector{
		counter("mpm_journal_log_torn_tails_total", "Records cut short at the end of the ingest log (writes interrupted, never acknowledged), truncated at start.", j.logTorn.Load),
		counter("mpm_journal_log_damaged_total", "Damaged stretches found in the ingest log at start (the health note says which events were lost).", j.logDamaged.Load),
		counter("mpm_journal_commit_failures_total", "Failed commits of accepted events from the ingest log to SQLite (retried; the events stay in the log).", j.commitFailures.Load),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "mpm_journal_uncommitted_events", Help: "Accepted events in the ingest log not yet committed to SQLite."},
			func() float64 { return float64(j.LogStats().Pending) }),
	}
}

// segPath is the path of segment n.
func segPath(path string, n int) string { return fmt.Sprintf("%s.log.%08d", path, n) }

// listSegments returns the segment numbers present, ascending (damaged
// copies and other names are skipped).
func listSegments(path string) ([]int, error) {
	matches, err := filepath.Glob(path + ".log.*")
	if err != nil {
		return nil, err
	}
	var ns []int
	for _, m := range matches {
		s := strings.TrimPrefix(m, path+".log.")
		if len(s) != 8 {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			continue
		}
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns, nil
}

// appendRecord appends the record of evs (seqs consecutive) to dst.
func appendRecord(dst []byte, evs []*event.Event) []byte {
	start := len(dst)
	dst = append(dst, logMagic...)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	body := len(dst)
	dst = binary.LittleEndian.AppendUint64(dst, evs[0].Seq)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(evs)))
	for _, ev := range evs {
		var sent int64
		if !ev.Sent.IsZero() {
			sent = ev.Sent.UnixNano()
		}
		dst = binary.AppendVarint(dst, ev.Received.UnixNano())
		dst = binary.AppendVarint(dst, sent)
		dst = binary.AppendUvarint(dst, ev.OriginSeq)
		dst = binary.AppendUvarint(dst, ev.StreamSeq)
		for _, s := range [...]string{ev.SessionID, ev.Name, ev.Tool, ev.ToolUseID, ev.Cwd, ev.TranscriptPath,
			ev.Reason, ev.AgentID, ev.AgentType, ev.Origin, ev.Key} {
			dst = binary.AppendUvarint(dst, uint64(len(s)))
			dst = append(dst, s...)
		}
		dst = binary.AppendUvarint(dst, uint64(len(ev.Payload)))
		dst = append(dst, ev.Payload...)
	}
	binary.LittleEndian.PutUint32(dst[start+4:], uint32(len(dst)-body))
	binary.LittleEndian.PutUint32(dst[start+8:], crc32c.Checksum(dst[body:]))
	return dst
}

// recStatus is what scanRecord found at an offset.
type recStatus int

const (
	recOK recStatus = iota
	// recShort: the record runs past the end of the data (or its header
	// does): a write cut short.
	recShort
	// recBad: no magic, an impossible length or a CRC mismatch.
	recBad
)

// scanRecord reads the record at data[off:]: its body and the offset after
// it when recOK.
func scanRecord(data []byte, off int) (body []byte, next int, st recStatus) {
	rest := data[off:]
	if len(rest) < logHeader {
		if k := min(len(rest), 4); string(rest[:k]) != logMagic[:k] {
			return nil, 0, recBad
		}
		return nil, 0, recShort
	}
	if string(rest[:4]) != logMagic {
		return nil, 0, recBad
	}
	n := binary.LittleEndian.Uint32(rest[4:])
	if n < logBodyMin || n > maxLogRecord {
		return nil, 0, recBad
	}
	if uint64(len(rest)-logHeader) < uint64(n) {
		return nil, 0, recShort
	}
	body = rest[logHeader : logHeader+int(n)]
	if crc32c.Checksum(body) != binary.LittleEndian.Uint32(rest[8:]) {
		return nil, 0, recBad
	}
	return body, off + logHeader + int(n), recOK
}

// nextRecord returns the offset of the first valid record after off, or -1.
func nextRecord(data []byte, off int) int {
	for i := off + 1; i < len(data); i++ {
		k := bytes.Index(data[i:], []byte(logMagic))
		if k < 0 {
			return -1
		}
		i += k
		if _, _, st := scanRecord(data, i); st == recOK {
			return i
		}
	}
	return -1
}

// errRecord is decodeRecord's error.
var errRecord = errors.New("malformed ingest log record")

// decodeRecord decodes a record body (its CRC already checked).
func decodeRecord(body []byte) ([]*event.Event, error) {
	if len(body) < logBodyMin {
		return nil, errRecord
	}
	first := binary.LittleEndian.Uint64(body)
	count := binary.LittleEndian.Uint32(body[8:])
	b := body[logBodyMin:]
	// Each event takes at least 16 bytes: a count beyond that is damage.
	if count == 0 || uint64(count) > uint64(len(b))/16+1 || first == 0 || first+uint64(count) < first {
		return nil, errRecord
	}
	evs := make([]*event.Event, 0, count)
	varint := func() (int64, bool) {
		v, n := binary.Varint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	uvarint := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	bytesOf := func() ([]byte, bool) {
		n, ok := uvarint()
		if !ok || n > uint64(len(b)) {
			return nil, false
		}
		v := b[:n:n]
		b = b[n:]
		return v, true
	}
	for i := uint32(0); i < count; i++ {
		ev := &event.Event{Seq: first + uint64(i)}
		recv, ok1 := varint()
		sent, ok2 := varint()
		oseq, ok3 := uvarint()
		sseq, ok4 := uvarint()
		if !ok1 || !ok2 || !ok3 || !ok4 {
			return nil, errRecord
		}
		ev.Received = time.Unix(0, recv)
		if sent != 0 {
			ev.Sent = time.Unix(0, sent)
		}
		ev.OriginSeq, ev.StreamSeq = oseq, sseq
		for _, s := range [...]*string{&ev.SessionID, &ev.Name, &ev.Tool, &ev.ToolUseID, &ev.Cwd, &ev.TranscriptPath,
			&ev.Reason, &ev.AgentID, &ev.AgentType, &ev.Origin, &ev.Key} {
			v, ok := bytesOf()
			if !ok {
				return nil, errRecord
			}
			*s = string(v)
		}
		p, ok := bytesOf()
		if !ok {
			return nil, errRecord
		}
		ev.Payload = append([]byte(nil), p...)
		evs = append(evs, ev)
	}
	if len(b) != 0 {
		return nil, errRecord
	}
	return evs, nil
}

// segScan is what scanSegment found in one segment.
type segScan struct {
	// evs are the events of its valid records, in file order.
	evs []*event.Event
	// maxSeq is the highest seq in it.
	maxSeq uint64
	// tornAt is the offset of a record cut short at its end, -1 if none.
	tornAt int
	// damage lists the unreadable stretches [from, to) before good data or
	// the end.
	damage [][2]int
}

// scanSegment reads every record of data.
func scanSegment(data []byte) segScan {
	s := segScan{tornAt: -1}
	off := 0
	for off < len(data) {
		body, next, st := scanRecord(data, off)
		if st == recOK {
			evs, err := decodeRecord(body)
			if err == nil {
				for _, ev := range evs {
					s.maxSeq = max(s.maxSeq, ev.Seq)
				}
				s.evs = append(s.evs, evs...)
				off = next
				continue
			}
			st = recBad
		}
		resume := nextRecord(data, off)
		if st == recShort && resume < 0 {
			s.tornAt = off
			break
		}
		end := resume
		if end < 0 {
			end = len(data)
		}
		s.damage = append(s.damage, [2]int{off, end})
		if resume < 0 {
			break
		}
		off = resume
	}
	return s
}

// openLog replays the ingest log into SQLite (Open, before anything else
// runs) and opens a new active segment. It returns a note describing
// damage ("" none).
func (j *Journal) openLog() (string, error) {
	ns, err := listSegments(j.opts.Path)
	if err != nil {
		return "", fmt.Errorf("journal: list the ingest log: %w", err)
	}
	dbLast := j.last.Load()
	bySeq := map[uint64]*event.Event{}
	var notes []string
	damaged := false
	for _, n := range ns {
		p := segPath(j.opts.Path, n)
		data, err := os.ReadFile(p)
		if err != nil {
			return "", fmt.Errorf("journal: read the ingest log %s: %w; check its permissions, or move it away to start without the events it holds", p, err)
		}
		s := scanSegment(data)
		for _, ev := range s.evs {
			if ev.Seq > dbLast {
				bySeq[ev.Seq] = ev // later records win
			}
		}
		if s.tornAt >= 0 {
			j.logTorn.Add(1)
			j.log.Warn("the ingest log ends with a record cut short (a write interrupted by a crash or a full disk; its events were never acknowledged); truncating it",
				"path", p, "offset", s.tornAt, "bytes", len(data)-s.tornAt)
			if err := os.Truncate(p, int64(s.tornAt)); err != nil {
				return "", fmt.Errorf("journal: truncate the ingest log %s: %w; check its permissions", p, err)
			}
		}
		if len(s.damage) > 0 {
			damaged = true
			j.logDamaged.Add(uint64(len(s.damage)))
			kept := fmt.Sprintf("%s.damaged-%s", p, j.opts.now().UTC().Format("20060102T150405Z"))
			if err := copyFile(p, kept); err != nil {
				kept = "(could not be copied: " + err.Error() + ")"
			}
			var at []string
			for _, d := range s.damage {
				at = append(at, fmt.Sprintf("bytes %d-%d", d[0], d[1]))
			}
			notes = append(notes, fmt.Sprintf("the ingest log %s is damaged (%s unreadable; a copy is kept at %s)", p, strings.Join(at, ", "), kept))
		}
		j.segs = append(j.segs, logSeg{path: p, maxSeq: s.maxSeq})
		j.segN = n
	}
	seqs := make([]uint64, 0, len(bySeq))
	for s := range bySeq {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	if damaged {
		// Say which seqs between the database's end and the log's are gone.
		var lost []string
		prev := dbLast
		for _, s := range seqs {
			if s > prev+1 {
				lost = append(lost, fmt.Sprintf("%d-%d", prev+1, s-1))
			}
			prev = s
		}
		msg := strings.Join(notes, "; ")
		if len(lost) > 0 {
			msg += fmt.Sprintf(": acknowledged events with seq %s are lost", strings.Join(lost, ", "))
		} else {
			msg += ": the events after the damage may be lost"
		}
		notes = []string{msg}
		j.log.Error("the ingest log is damaged; the events it still holds are restored, the unreadable part is kept for inspection", "problem", msg)
	}
	for len(seqs) > 0 {
		n := min(len(seqs), commitMaxEvents)
		chunk := make([]*event.Event, n)
		for i, s := range seqs[:n] {
			chunk[i] = bySeq[s]
		}
		seqs = seqs[n:]
		j.wmu.Lock()
		err := j.commitLocked(chunk)
		j.wmu.Unlock()
		if err != nil {
			return "", fmt.Errorf("journal: replay the ingest log: %w", err)
		}
	}
	if len(bySeq) > 0 {
		j.log.Info("replayed the events accepted but not yet in the database from the ingest log", "events", len(bySeq), "after_seq", dbLast, "last_seq", j.last.Load())
	}
	if err := j.newSegment(); err != nil {
		return "", err
	}
	return strings.Join(notes, "; "), nil
}

// newSegment closes the active segment (keeping it for removal) and
// creates the next one. The caller holds lmu (or is Open).
func (j *Journal) newSegment() error {
	if j.seg != nil {
		j.seg.Close()
		j.segs = append(j.segs, logSeg{path: j.seg.Name(), maxSeq: j.segMaxSeq})
		j.seg = nil
	}
	j.segN++
	p := segPath(j.opts.Path, j.segN)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("journal: create the ingest log %s: %w; check the data directory (permissions, free space)", p, err)
	}
	if j.opts.Fsync {
		syncDir(filepath.Dir(p))
	}
	j.seg, j.segSize, j.segAlloc, j.segMaxSeq, j.rotate = f, 0, 0, 0, false
	return nil
}

// syncDir fsyncs a directory so that a new file in it survives power
// loss (best effort: not every OS can).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// writeLog writes one record (rec, of evs) to the active segment with one
// write (and an fsync with Options.Fsync). On failure the segment is cut
// back to where it was, so no partial or unacknowledged record stays
// before later ones (if that fails too, the next record goes to a new
// segment). The caller holds lmu.
func (j *Journal) writeLog(rec []byte, maxSeq uint64) error {
	if j.rotate || (j.segSize > 0 && j.segSize+int64(len(rec)) > segmentMax) {
		if err := j.newSegment(); err != nil {
			j.rotate = true
			return err
		}
	}
	if end := j.segSize + int64(len(rec)); end > j.segAlloc {
		// Reserve the blocks of the next stretch at once: a write into
		// reserved blocks skips the file system's allocation, which was
		// most of a 256 KiB event's write (50 -> 30 µs measured here).
		j.segAlloc = end + preallocAhead
		preallocate(j.seg, j.segSize, j.segAlloc-j.segSize)
	}
	_, err := j.seg.Write(rec)
	if err == nil && j.opts.Fsync {
		err = j.seg.Sync()
	}
	if err != nil {
		if terr := j.seg.Truncate(j.segSize); terr != nil {
			j.rotate = true
		}
		return fmt.Errorf("journal: write the ingest log %s: %w; check the data directory (free space, permissions)", j.seg.Name(), err)
	}
	j.segSize += int64(len(rec))
	j.segMaxSeq = max(j.segMaxSeq, maxSeq)
	return nil
}

// trimLog removes the segments whose events are all at or below c, a seq
// a complete checkpoint has copied into the database file, and empties the
// active segment when it holds nothing above c.
func (j *Journal) trimLog(c uint64) {
	j.lmu.Lock()
	defer j.lmu.Unlock()
	keep := j.segs[:0]
	for _, s := range j.segs {
		if s.maxSeq <= c {
			if err := os.Remove(s.path); err != nil && !os.IsNotExist(err) {
				j.warnTick("log-trim", "removing a committed ingest log segment failed; will retry", err)
				keep = append(keep, s)
			}
			continue
		}
		keep = append(keep, s)
	}
	clear(j.segs[len(keep):])
	j.segs = keep
	if j.seg != nil && j.segSize > 0 && j.segMaxSeq <= c {
		if err := j.seg.Truncate(0); err != nil {
			// (Windows cannot truncate a file opened for appending:) the
			// next record starts a new segment and this one goes at the
			// next checkpoint.
			j.rotate = true
			return
		}
		j.segSize, j.segAlloc, j.segMaxSeq = 0, 0, 0
	}
}

// preallocAhead is how far past a write the active segment's blocks are
// reserved: one reservation serves 4 MiB of events.
const preallocAhead = 4 << 20

// checkpoint copies the WAL into the database file, then removes the log
// segments it made redundant (only after a complete checkpoint: then every
// transaction committed before it is in the file, fsynced).
func (j *Journal) checkpoint() error {
	c := j.last.Load()
	var busy, frames, done int
	if err := j.ck.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &done); err != nil {
		return err
	}
	if busy == 0 && done >= frames {
		j.trimLog(c)
	}
	return nil
}

// admit waits while the committer's queue is full, and refuses new events
// while commits fail (as Append did when it committed itself: the daemon
// answers 503 and reports the store as unable to write; the events already
// accepted stay in the log and are retried). While commits fail, each call
// first has the committer try again at once and waits for that attempt, as
// when Append committed itself: the first event after the disk has room
// again is stored, not refused until the committer's backoff ends.
func (j *Journal) admit() error {
	j.cmu.Lock()
	defer j.cmu.Unlock()
	retried := false
	for {
		switch {
		case j.commitErr != nil && len(j.queue) > 0 && !retried && !j.hold:
			retried = true
			a := j.attempts
			select {
			case j.kick <- struct{}{}:
			default:
			}
			for j.attempts == a && !j.closing && !j.hold {
				j.waiters++
				j.ccond.Wait()
				j.waiters--
			}
			continue
		case j.commitErr != nil && len(j.queue) > 0:
			return fmt.Errorf("journal: the database cannot store events (%d accepted ones wait in the ingest log): %w", len(j.queue), j.commitErr)
		case j.closing:
			return errors.New("journal is closed")
		case len(j.queue) < maxQueued && j.queueBytes < maxQueuedBytes:
			return nil
		}
		j.waiters++
		j.ccond.Wait()
		j.waiters--
	}
}

// enqueue hands an appended batch to the committer.
func (j *Journal) enqueue(evs []*event.Event) {
	j.cmu.Lock()
	if len(j.queue) == 0 {
		j.queuedAt = time.Now()
	}
	for _, ev := range evs {
		j.queueBytes += len(ev.Payload)
		if ev.Key != "" {
			j.inflight[ev.Key] = ev.Seq
		}
	}
	j.queue = append(j.queue, evs...)
	j.cmu.Unlock()
	j.ccond.Broadcast()
}

// commitLoop writes the logged events into SQLite, everything pending (up
// to commitMaxEvents events or commitMaxBytes) per transaction. A failed
// commit is retried with backoff: the events are acknowledged and stay in
// the log. At Close it commits everything pending, then returns.
func (j *Journal) commitLoop() {
	defer j.done.Done()
	go func() { // stop without Close (a test's crash) drains too
		<-j.stop
		j.cmu.Lock()
		j.closing = true
		j.cmu.Unlock()
		j.ccond.Broadcast()
	}()
	backoff := 10 * time.Millisecond
	j.cmu.Lock()
	defer j.cmu.Unlock()
	for {
		for !j.closing && (len(j.queue) == 0 || j.hold || j.gatherLocked()) {
			j.ccond.Wait()
		}
		j.flushAsked = false
		if len(j.queue) == 0 {
			if j.gatherTimer != nil {
				j.gatherTimer.Stop()
			}
			return // closing, all committed
		}
		n, size := 0, 0
		for n < len(j.queue) && n < commitMaxEvents && (n == 0 || size+len(j.queue[n].Payload) <= commitMaxBytes) {
			size += len(j.queue[n].Payload)
			n++
		}
		batch := slices.Clone(j.queue[:n])
		j.cmu.Unlock()
		j.wmu.Lock()
		err := j.commitLocked(batch)
		j.wmu.Unlock()
		j.cmu.Lock()
		j.attempts++
		if err != nil {
			j.commitErr = err
			j.commitFailures.Add(1)
			j.ccond.Broadcast()
			if j.closing {
				j.log.Error("committing the accepted events to the database failed at shutdown; they stay in the ingest log and are restored at the next start",
					"events", len(j.queue), "error", err)
				return
			}
			j.warnTick("commit", "committing accepted events to the database failed; retrying (they are safe in the ingest log)", err)
			j.cmu.Unlock()
			select {
			case <-time.After(backoff):
			case <-j.kick: // an Append asks for another try now
			case <-j.stop:
			}
			j.cmu.Lock()
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		if j.commitErr != nil {
			j.commitErr = nil
			j.tickOK("commit", "committing accepted events")
		}
		backoff = 10 * time.Millisecond
		for _, ev := range batch {
			j.queueBytes -= len(ev.Payload)
			if ev.Key != "" && j.inflight[ev.Key] == ev.Seq {
				delete(j.inflight, ev.Key)
			}
		}
		rest := copy(j.queue, j.queue[n:])
		clear(j.queue[rest:])
		j.queue = j.queue[:rest]
		j.ccond.Broadcast()
	}
}

// gatherLocked reports whether the committer should wait for more events
// before it commits the queue (gatherEvents), and sets a timer to wake it
// when the wait is over. The caller holds cmu.
func (j *Journal) gatherLocked() bool {
	if gatherDelay <= 0 || len(j.queue) >= gatherEvents || j.queueBytes >= blockMaxBytes ||
		j.waiters > 0 || j.flushAsked || j.commitErr != nil {
		return false
	}
	wait := gatherDelay - time.Since(j.queuedAt)
	if wait <= 0 {
		return false
	}
	if j.gatherTimer == nil {
		j.gatherTimer = time.AfterFunc(wait, func() {
			j.cmu.Lock() // so that the wake-up cannot come between the committer's check and its Wait
			j.cmu.Unlock()
			j.ccond.Broadcast()
		})
	} else {
		j.gatherTimer.Reset(wait)
	}
	return true
}

// waitCommitted waits until every event appended before the call is in
// SQLite (immediate when the committer is idle): the read entry points
// call it so that a read sees every accepted event.
func (j *Journal) waitCommitted() error {
	target := j.appended.Load()
	if j.last.Load() >= target {
		return nil
	}
	j.cmu.Lock()
	defer j.cmu.Unlock()
	for j.last.Load() < target {
		if j.commitErr != nil {
			return fmt.Errorf("journal: events up to seq %d are accepted (safe in the ingest log) but not yet readable: %w", target, j.commitErr)
		}
		if j.closing && len(j.queue) == 0 {
			return errors.New("journal is closed")
		}
		if !j.flushAsked { // the committer commits what it gathers now
			j.flushAsked = true
			j.ccond.Broadcast()
		}
		j.waiters++
		j.ccond.Wait()
		j.waiters--
	}
	return nil
}

// inflightKeys returns the seqs of those of keys appended but not yet
// committed.
func (j *Journal) inflightKeys(keys []string, found map[string]uint64) {
	j.cmu.Lock()
	defer j.cmu.Unlock()
	if len(j.inflight) == 0 {
		return
	}
	for _, k := range keys {
		if seq, ok := j.inflight[k]; ok {
			found[k] = seq
		}
	}
}

// setHold holds the committer back (true) or lets it go (tests).
func (j *Journal) setHold(h bool) {
	j.cmu.Lock()
	j.hold = h
	j.cmu.Unlock()
	j.ccond.Broadcast()
}

// waiting is the number of readers (and Appends) waiting for the committer
// (tests).
func (j *Journal) waiting() int {
	j.cmu.Lock()
	defer j.cmu.Unlock()
	return j.waiters
}
