// Package journal is mpm-wsd's durable event store: every accepted event, the
// session summaries and the idempotency keys, in one SQLite file
// (<data-dir>/journal.db) written through modernc.org/sqlite (pure Go, no
// cgo), with an append-only ingest log in front of it
// (<data-dir>/journal.db.log.<n>, ingestlog.go). It implements store.Store.
//
// Durability: Append writes the batch to the ingest log with one write
// system call before it returns, so a crash of the process loses no
// acknowledged event; a committer goroutine then writes the logged events
// into SQLite (WAL mode, synchronous=NORMAL) in larger transactions, and
// Open replays whatever the log holds beyond the database. Without
// Options.Fsync neither the log nor the WAL is fsynced at each batch, so a
// power loss or OS crash may lose the events accepted since the last
// checkpoint (about a second); the file stays consistent. Options.Fsync
// fsyncs the log after each write: every acknowledged event survives power
// loss too, at the cost of one fsync per batch (the SQLite commits need no
// fsync: a log segment is removed only after a checkpoint has copied its
// events into the database file and fsynced it).
//
// Writes to SQLite go through one connection guarded by a mutex (the
// committer and the retention loop take turns); reads use a small pool of
// read-only connections and never wait for a writer, only, when events were
// accepted a moment ago, for the committer to have written them.
package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/logging"
	"github.com/mpm-dev/mpm/internal/sessions"
	"github.com/mpm-dev/mpm/internal/store"
)

// Retention defaults, also the mpm-wsd flag defaults.
const (
	// DefaultRetainEvents is how many events are kept at most.
	DefaultRetainEvents = 1_000_000
	// DefaultRetainAge is how old the oldest kept event may be.
	DefaultRetainAge = 30 * 24 * time.Hour
	// DefaultRetainBytes bounds the kept events' size (payload and fields).
	DefaultRetainBytes = 1 << 30
	// DefaultRetainInterval is how often retention runs.
	DefaultRetainInterval = 30 * time.Second
	// DefaultKeyWindow is how long an idempotency key is remembered at
	// least, even when its event was dropped by retention: longer than a
	// hook spool waits for a daemon in practice.
	DefaultKeyWindow = 7 * 24 * time.Hour
	// readConns is the size of the read connection pool.
	readConns = 4
)

// checkpointInterval is how often the session state is saved and the WAL
// copied back into the database file, away from the ingest path (a
// variable for tests).
var checkpointInterval = time.Second

// warnPeriod is how often a background failure that repeats (a full disk)
// is logged at most; the lines in between are counted.
const warnPeriod = 10 * time.Second

// quickCheckMaxBytes is the largest file PRAGMA quick_check runs on before
// Open returns (it reads every page: 5 to 10 s per GiB); larger files are
// checked in the background after start-up (a variable for tests).
var quickCheckMaxBytes int64 = 128 << 20

// deleteChunk bounds the rows one retention transaction deletes, so the
// writer is never held for long (a variable for tests).
var deleteChunk = 5000

// Options configure Open.
type Options struct {
	// Path is the database file, normally paths.Journal(dataDir).
	Path string
	// Fsync makes every Append fsync the ingest log: acknowledged events
	// survive power loss.
	Fsync bool
	// RetainEvents is the most events kept; 0: no count limit.
	RetainEvents int64
	// RetainAge is the oldest event kept; 0: no age limit.
	RetainAge time.Duration
	// RetainBytes bounds the kept events' size; 0: no size limit.
	RetainBytes int64
	// RetainInterval is how often retention runs; 0: DefaultRetainInterval.
	RetainInterval time.Duration
	// KeyWindow is how long idempotency keys outlive their events; 0:
	// DefaultKeyWindow.
	KeyWindow time.Duration
	// Logger receives the journal's logs; nil: none.
	Logger hclog.Logger
	// now is the clock (tests); nil: time.Now.
	now func() time.Time
}

// Journal is the SQLite-backed store.Store.
type Journal struct {
	// opts are the options Open was given, defaults filled in.
	opts Options
	// log is the journal's logger.
	log hclog.Logger
	// id is the journal's identity (journalid.go), set at open.
	id string
	// note says what happened at open (a corrupt file moved aside) or what
	// the background integrity check found; a string.
	note atomic.Value

	// w is the writer database handle: one connection, used under wmu.
	w *sql.DB
	// r is the read-only pool.
	r *sql.DB
	// ck is a separate connection that runs WAL checkpoints.
	ck *sql.DB
	// retMu serialises retention passes.
	retMu sync.Mutex
	// wmu serialises writer transactions (the committer and retention).
	wmu sync.Mutex
	// ins are the writer's prepared statements.
	ins writerStmts
	// rd are the readers' prepared statements.
	rd readerStmts
	// kf rules out fresh idempotency keys without a query.
	kf keyFilter
	// lookup holds the key lookup statements by size class (see
	// lookupStmt), prepared on first use under lkMu.
	lookup [10]*sql.Stmt
	lkMu   sync.Mutex

	// last is the highest seq ever stored.
	last atomic.Uint64
	// oldest is the lowest retained seq, or last+1 when none is.
	oldest atomic.Uint64
	// bytes is the retained events' accounted size (see rowSize).
	bytes atomic.Int64

	// smu guards sess.
	smu sync.RWMutex
	// sess holds every stored session summary; the writer folds events
	// into copies and swaps them in after commit.
	sess map[string]*sessions.Info
	// dirty names the sessions whose summary changed since saveState last
	// wrote them; stateSeq is the last seq that save reflects. Both are
	// guarded by wmu.
	dirty    map[string]struct{}
	stateSeq uint64

	// stop ends the background loops; done is closed when they returned.
	stop chan struct{}
	done sync.WaitGroup
	// seqPath is the seq high-water file (highwater.go); hwMu serialises
	// its writes, hwLast is the last seq it recorded (guarded by hwMu) and
	// reserved the lease it holds.
	seqPath  string
	hwMu     sync.Mutex
	hwLast   uint64
	reserved atomic.Uint64
	// warnLim keeps a failure that repeats every tick (a full disk) to one
	// log line per warnPeriod.
	warnLim *logging.Limiter

	// search is the kind of the search index (search.go).
	search searchKind
	// numbered says the events rows hold names as numbers, names holds
	// them (names.go).
	numbered bool
	names    nameTable
	// hashedKeys says the idempotency keys are stored hashed (keys.go).
	hashedKeys bool
	// blockCache holds the blocks last decoded or written (blocks.go).
	blockCache blockCache

	// indexKick (capacity 1) wakes the indexer before its tick
	// (indexBehind).
	indexKick chan struct{}
	// indexedTo is the last seq in the search index (indexer.go).
	indexedTo atomic.Uint64
	// pend are the committed events queued for the indexer, in seq order,
	// pendBytes their payload bytes (indexer.go); guarded by pmu.
	pmu       sync.Mutex
	pend      []*event.Event
	pendBytes int
	// backfilled is closed when backfill (backfill.go) has brought every
	// older event into the index, or stopped.
	backfilled chan struct{}
	// retainedAtOpen is closed when the retention pass made at open has
	// run (tests wait for it before they add events of their own).
	retainedAtOpen chan struct{}

	// bigFile is set when the file was too large to check at open.
	bigFile bool
	// The ingest log (ingestlog.go). lmu serialises Append's write and
	// guards seg (the active segment; nil when closed), segN its number,
	// segSize its length, segAlloc how far its blocks are reserved
	// (preallocate), segMaxSeq its highest seq, segs the closed segments
	// awaiting removal, rotate (start a new segment at the next write) and
	// encBuf (the record being written).
	lmu       sync.Mutex
	seg       *os.File
	segN      int
	segSize   int64
	segAlloc  int64
	segMaxSeq uint64
	segs      []logSeg
	rotate    bool
	encBuf    []byte
	// appended is the highest seq accepted (logged); last trails it while
	// the committer works.
	appended atomic.Uint64
	// cmu guards the committer's state: queue (the accepted events not
	// yet in SQLite, in seq order) and queueBytes their payload bytes,
	// inflight (their idempotency keys), commitErr (the last commit's
	// failure, nil when it worked), hold (tests), closing and waiters (the
	// readers waiting). ccond is signalled when any of them changes.
	cmu        sync.Mutex
	ccond      *sync.Cond
	queue      []*event.Event
	queueBytes int
	inflight   map[string]uint64
	commitErr  error
	hold       bool
	closing    bool
	waiters    int
	// queuedAt is when the queue last became non-empty; flushAsked says
	// a read waits for the queue to be committed (no more gathering);
	// gatherTimer wakes the committer when its gathering time is over
	// (gatherLocked).
	queuedAt    time.Time
	flushAsked  bool
	gatherTimer *time.Timer
	// attempts counts the committer's transactions, failed or not; kick
	// (capacity 1) cuts the committer's wait between failed ones short.
	attempts uint64
	kick     chan struct{}
	// Counters (LogStats).
	logTorn, logDamaged, commitFailures atomic.Uint64

	// closeOnce makes Close idempotent.
	closeOnce sync.Once
}

var _ store.Store = (*Journal)(nil)

// Open opens or creates the journal at opts.Path and starts its background
// retention and checkpoint loops. A file that is not a database or is
// corrupt is renamed to <path>.corrupt-<time> (with its -wal and -shm) and a
// fresh journal is started; Note says so. Other failures (permissions, a full
// disk) are returned.
func Open(opts Options) (*Journal, error) {
	if opts.Path == "" {
		return nil, errors.New("journal: no path")
	}
	if opts.RetainInterval <= 0 {
		opts.RetainInterval = DefaultRetainInterval
	}
	if opts.KeyWindow <= 0 {
		opts.KeyWindow = DefaultKeyWindow
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	prev, havePrev, hwErr := readHighWater(seqPath(opts.Path))
	if hwErr != nil {
		log.Error("the seq high-water file is unreadable; starting without it (seq numbers stay unique unless the journal is also damaged)", "error", hwErr)
	}
	err := checkHeader(opts.Path)
	if err == nil {
		err = checkMarker(opts.Path)
	}
	walNote := ""
	if err == nil {
		if walNote, err = checkWAL(opts.Path, opts.now()); err != nil {
			return nil, err
		}
	}
	var j *Journal
	if err == nil {
		j, err = open(opts, log)
	}
	movedNote, salvaged := "", uint64(0)
	if err != nil && isCorrupt(err) {
		moved, lastSeq, mvErr := moveAside(opts.Path, opts.now())
		if mvErr != nil {
			return nil, fmt.Errorf("journal %s is damaged (%v) and could not be moved aside: %w; move or remove it by hand", opts.Path, err, mvErr)
		}
		movedNote = fmt.Sprintf("journal %s was damaged (%v); it was moved to %s and a fresh journal was started", opts.Path, err, moved)
		log.Error("journal damaged: moved aside, starting a fresh one; the old file is kept for inspection",
			"path", opts.Path, "moved_to", moved, "error", err, "salvaged_last_seq", lastSeq)
		salvaged = lastSeq
		j, err = open(opts, log)
		if err != nil {
			return nil, fmt.Errorf("open fresh journal %s: %w", opts.Path, err)
		}
	}
	if err != nil {
		return nil, err
	}
	logNote, err := j.openLog()
	if err != nil {
		j.closeLog()
		j.closeHandles()
		return nil, err
	}
	if logNote != "" {
		if walNote != "" {
			walNote += "; "
		}
		walNote += logNote
	}
	note, err := j.applyHighWater(prev, havePrev, salvaged, movedNote, walNote)
	if err != nil {
		j.Close()
		return nil, err
	}
	if note != "" {
		j.note.Store(note)
	}
	j.appended.Store(j.last.Load())
	j.stop = make(chan struct{})
	j.backfilled = make(chan struct{})
	j.retainedAtOpen = make(chan struct{})
	j.done.Add(6)
	go j.commitLoop()
	go j.backfill()
	go j.indexLoop()
	go j.retentionLoop()
	go j.checkpointLoop()
	go j.buildKeyFilter()
	if j.bigFile {
		j.done.Add(1)
		go j.backgroundCheck()
	}
	return j, nil
}

// open opens the three handles, creates or checks the schema and loads the
// state that Append needs.
func open(opts Options, log hclog.Logger) (j *Journal, err error) {
	j = &Journal{opts: opts, log: log, sess: map[string]*sessions.Info{}, dirty: map[string]struct{}{},
		seqPath: seqPath(opts.Path), warnLim: logging.NewLimiter(warnPeriod),
		inflight: map[string]uint64{}, hold: holdCommitsEnv, kick: make(chan struct{}, 1), indexKick: make(chan struct{}, 1)}
	j.ccond = sync.NewCond(&j.cmu)
	defer func() {
		if err != nil {
			j.closeHandles()
			j = nil
		}
	}()
	// NORMAL also with Options.Fsync: the ingest log is what is fsynced at
	// each batch; the WAL is fsynced at each checkpoint, before the log
	// segments it covers are removed.
	syncMode := "NORMAL"
	if j.w, err = sql.Open("sqlite", dsn(opts.Path, "journal_mode(WAL)", "synchronous("+syncMode+")", "wal_autocheckpoint(0)", "fullfsync("+onOff(opts.Fsync)+")")); err != nil {
		return j, err
	}
	j.w.SetMaxOpenConns(1)
	j.w.SetMaxIdleConns(1)
	j.w.SetConnMaxLifetime(0)
	ctx := context.Background()
	if err = j.w.PingContext(ctx); err != nil {
		return j, fmt.Errorf("open journal %s: %w", opts.Path, err)
	}
	if fi, statErr := os.Stat(opts.Path); statErr == nil && fi.Size() > quickCheckMaxBytes {
		j.bigFile = true // quick_check runs in the background (backgroundCheck)
	}
	if err = checkHealthy(ctx, j.w, !j.bigFile); err != nil {
		return j, err
	}
	if err = createSchema(ctx, j.w); err != nil {
		return j, err
	}
	if j.r, err = sql.Open("sqlite", dsn(opts.Path, "query_only(1)")); err != nil {
		return j, err
	}
	j.r.SetMaxOpenConns(readConns)
	j.r.SetMaxIdleConns(readConns)
	if j.ck, err = sql.Open("sqlite", dsn(opts.Path, "synchronous("+syncMode+")", "fullfsync("+onOff(opts.Fsync)+")")); err != nil {
		return j, err
	}
	j.ck.SetMaxOpenConns(1)
	if j.search, err = searchKindOf(ctx, j.w); err != nil {
		return j, err
	}
	if j.hashedKeys, err = hasTable(ctx, j.w, "key_hashes"); err != nil {
		return j, err
	}
	if j.numbered, err = namesNumbered(ctx, j.w); err != nil {
		return j, err
	}
	if err = j.names.load(ctx, j.w); err != nil {
		return j, err
	}
	if err = j.ins.prepare(j.w, j.search, j.hashedKeys); err != nil {
		return j, fmt.Errorf("journal %s: prepare: %w", opts.Path, err)
	}
	if err = j.rd.prepare(j.r, j.hashedKeys); err != nil {
		return j, fmt.Errorf("journal %s: prepare: %w", opts.Path, err)
	}
	if err = j.load(ctx); err != nil {
		return j, err
	}
	if err = j.loadID(ctx); err != nil {
		return j, err
	}
	return j, nil
}

// dsn builds a modernc.org/sqlite data source name with pragmas applied to
// every connection.
func dsn(path string, pragmas ...string) string {
	s := path + "?_pragma=busy_timeout(10000)"
	for _, p := range pragmas {
		s += "&_pragma=" + p
	}
	return s
}

func onOff(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Kind implements store.Store.
func (j *Journal) Kind() string { return "journal" }

// Durable implements store.Store: the journal outlives the process.
func (j *Journal) Durable() bool { return true }

// Note implements store.Store.
func (j *Journal) Note() string {
	s, _ := j.note.Load().(string)
	return s
}

// Path is the journal's file.
func (j *Journal) Path() string { return j.opts.Path }

// Close stops the background loops and closes the database; the last
// connection to close checkpoints the WAL into the file.
func (j *Journal) Close() error {
	var err error
	j.closeOnce.Do(func() {
		// The committer drains the queue before it returns.
		j.cmu.Lock()
		j.closing = true
		j.cmu.Unlock()
		j.ccond.Broadcast()
		if j.stop != nil {
			close(j.stop)
			j.done.Wait()
		}
		j.lmu.Lock()
		logged := j.appended.Load()
		j.lmu.Unlock()
		j.wmu.Lock()
		defer j.wmu.Unlock()
		if serr := j.saveStateLocked(); serr != nil {
			j.log.Warn("saving the session state at close failed; the next start replays it from the events", "error", serr)
		}
		if j.ck != nil && j.last.Load() >= logged {
			// Everything logged is committed: once a complete checkpoint
			// has it in the database file, the log is redundant.
			if cerr := j.checkpoint(); cerr != nil {
				j.log.Warn("the checkpoint at close failed; the ingest log is kept and replayed at the next start", "error", cerr)
			}
		}
		j.closeLog()
		err = j.closeHandles()
		if err == nil && j.stop != nil {
			if herr := j.persistHighWater(0, true); herr != nil {
				j.log.Warn("recording the clean shutdown in the seq high-water file failed; the next start skips a block of seqs", "error", herr)
			}
		}
	})
	return err
}

// closeLog closes the active log segment; Append then fails.
func (j *Journal) closeLog() {
	j.lmu.Lock()
	defer j.lmu.Unlock()
	if j.seg != nil {
		j.seg.Close()
		if j.segSize == 0 {
			os.Remove(j.seg.Name())
		}
		j.seg = nil
	}
}

func (j *Journal) closeHandles() error {
	var errs []error
	j.rd.close()
	j.ins.close()
	j.lkMu.Lock()
	for i, st := range j.lookup {
		if st != nil {
			st.Close()
			j.lookup[i] = nil
		}
	}
	j.lkMu.Unlock()
	for _, db := range []*sql.DB{j.r, j.ck, j.w} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}
