package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/mpm-dev/mpm/internal/atomicfile"
)

// The seq high-water file, <journal>.seq (journal.db.seq in the data
// directory), keeps what a damaged journal cannot be trusted to remember:
// how far seq had gone. SQLite's recovery silently drops every WAL frame
// after a damaged one, so a journal can come back with a lower last seq than
// clients were given; without this file the daemon would hand those seqs out
// a second time.
//
// The scheme is a lease, as PostgreSQL does for sequences:
//
//   - Reserved is a seq no event above has been handed out. Open reserves a
//     block ahead of the journal's last seq; the checkpoint tick (about once
//     a second) moves the lease forward by max(minReserve, 4 × the events of
//     the last tick). Append renews it itself, with one file write, only when
//     a burst runs past the lease before the tick (never per event).
//   - LastSeq is the journal's last seq when the file was written. At open a
//     journal that ends below it has lost events: said loudly.
//   - Clean is set by Close: LastSeq is then exact and Reserved equals it.
//
// After a clean shutdown, or a crash of the process alone with an intact
// journal, seq continues right after the journal's last one: no gap. When
// events were lost or may have been — the journal ends below LastSeq, the WAL
// holds damaged frames (wal.go), the journal was moved aside, or the machine
// restarted since an unclean shutdown without --fsync (the unsynced end of
// the WAL may be gone) — seq continues after Reserved: a gap, never a seq
// handed out twice. The file is written to a temporary name, fsynced, renamed
// over the old one and the directory fsynced.

// minReserve is the smallest block the lease reserves ahead.
const minReserve = 1000

// highWater is the content of the .seq file.
type highWater struct {
	// LastSeq is the journal's last seq when the file was written.
	LastSeq uint64 `json:"last_seq"`
	// Reserved is the highest seq that may have been handed out.
	Reserved uint64 `json:"reserved"`
	// Clean is set by a clean Close.
	Clean bool `json:"clean"`
	// Boot identifies the OS boot the file was written in ("" unknown).
	Boot string `json:"boot,omitempty"`
	// Fsync is set when the journal fsynced every commit.
	Fsync bool `json:"fsync,omitempty"`
	// Written is when the file was written, for people reading it.
	Written time.Time `json:"written"`
}

// seqPath is the high-water file of the journal at path.
func seqPath(path string) string { return path + ".seq" }

// readHighWater reads the file; ok is false when there is none (a new data
// directory, or a journal from before the file existed).
func readHighWater(path string) (hw highWater, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return hw, false, nil
	}
	if err != nil {
		return hw, false, fmt.Errorf("read seq high-water file %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &hw); err != nil {
		return hw, false, fmt.Errorf("seq high-water file %s does not decode (%v)", path, err)
	}
	return hw, true, nil
}

// writeHighWater replaces the file atomically and durably.
func writeHighWater(path string, hw highWater) error {
	b, err := json.Marshal(hw)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write seq high-water file: %w", err)
	}
	return nil
}

// reserveAhead is how far the lease reaches beyond last, given the events
// handed out since the previous write.
func reserveAhead(recent uint64) uint64 { return max(minReserve, 4*recent) }

// persistHighWater writes the lease for the journal's current last seq,
// reaching at least to need. clean is Close's final write. The caller must
// not hold hwMu.
func (j *Journal) persistHighWater(need uint64, clean bool) error {
	j.hwMu.Lock()
	defer j.hwMu.Unlock()
	last := j.last.Load()
	reserved := j.reserved.Load()
	switch {
	case clean:
		reserved = last
	case need > reserved || last+reserveAhead(last-j.hwLast)/2 > reserved:
		reserved = max(need, last) + reserveAhead(last-j.hwLast)
	case last == j.hwLast:
		return nil // nothing changed since the last write
	}
	hw := highWater{LastSeq: last, Reserved: reserved, Clean: clean, Boot: bootID(), Fsync: j.opts.Fsync, Written: j.opts.now().UTC()}
	if err := writeHighWater(j.seqPath, hw); err != nil {
		return err
	}
	j.hwLast = last
	j.reserved.Store(reserved)
	return nil
}

// tickHighWater is the checkpoint tick's write, its failures logged at
// most once per limiter period.
func (j *Journal) tickHighWater() {
	if err := j.persistHighWater(0, false); err != nil {
		j.warnTick("seq-lease", "recording the seq lease failed; will retry (seq numbers stay unique unless the journal is also damaged)", err)
		return
	}
	j.tickOK("seq-lease", "recording the seq lease")
}

// applyHighWater compares the journal just opened with the high-water file
// of the previous run and makes seq continue where no client has seen it.
// movedAside is the note of a journal replaced at open, salvaged the last
// seq read from it; walDamage describes damaged WAL frames ("" none). It
// returns the note for /healthz ("" when all is well).
func (j *Journal) applyHighWater(prev highWater, havePrev bool, salvaged uint64, movedAside, walDamage string) (string, error) {
	last := j.last.Load()
	var lost []string
	if movedAside != "" {
		lost = append(lost, movedAside)
	}
	if walDamage != "" {
		lost = append(lost, walDamage)
	}
	if havePrev && last < prev.LastSeq && movedAside == "" {
		lost = append(lost, fmt.Sprintf("the journal ends at seq %d but had reached seq %d: at least %d acknowledged events are lost", last, prev.LastSeq, prev.LastSeq-last))
	}
	floor := max(last, salvaged)
	reason := ""
	if havePrev {
		reach := prev.Reserved
		if prev.Clean {
			reach = prev.LastSeq
		}
		maybe := !prev.Clean && !prev.Fsync && (prev.Boot == "" || prev.Boot != bootID())
		switch {
		case len(lost) > 0:
			floor = max(floor, reach)
		case maybe && reach > floor:
			floor = reach
			reason = "the machine restarted (or its boot is unknown) since mpm-wsd stopped without a clean shutdown: the unsynced end of the journal may be lost"
		}
	}
	if floor > last {
		if err := j.seedLastSeq(floor); err != nil {
			return "", err
		}
	}
	note := ""
	if len(lost) > 0 {
		note = strings.Join(lost, "; ")
		if floor > last {
			note += fmt.Sprintf("; seq continues after %d so that no seq a client saw is handed out again", floor)
		}
		j.log.Error("journal lost acknowledged events or may have; look at the kept files, and tell the clients' users that history has a hole",
			"path", j.opts.Path, "problem", note, "journal_last_seq", last, "continuing_after_seq", floor)
	} else if reason != "" {
		j.log.Warn("seq continues after the reserved block so that no seq is handed out twice", "why", reason, "journal_last_seq", last, "continuing_after_seq", floor)
	}
	j.hwLast = j.last.Load()
	if err := j.persistHighWater(0, false); err != nil {
		j.log.Error("cannot record the seq lease; seq numbers stay unique unless the journal is also damaged; check the data directory (permissions, free space)", "error", err)
	}
	return note, nil
}

// warnTick logs a failure of a background tick at WARN, at most once per
// warnPeriod for each key, with the count of the lines held back.
func (j *Journal) warnTick(key, msg string, err error) {
	if ok, n := j.warnLim.Allow(key); ok {
		j.log.Warn(msg, "error", err, "suppressed_since_last", n)
	}
}

// tickOK records that a background tick works again.
func (j *Journal) tickOK(key, what string) {
	if n := j.warnLim.Reset(key); n > 0 {
		j.log.Info(what+" works again", "failures_not_logged", n)
	}
}
