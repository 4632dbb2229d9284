package daemon

import (
	"flag"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mpm-dev/mpm/internal/journal"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/store"
	"github.com/mpm-dev/mpm/internal/wsd"
)

// journalFlags are the journal's flags.
type journalFlags struct {
	fsync          bool
	retainEvents   int64
	retainAge      time.Duration
	retainBytes    int64
	retainInterval time.Duration
}

// register adds the journal's flags to fs and binds --journal to
// cfg.Journal (default on).
func (jf *journalFlags) register(fs *flag.FlagSet, cfg *wsd.Config) {
	fs.BoolVar(&cfg.Journal, "journal", cfg.Journal, "keep events durably in <data-dir>/"+paths.JournalFile+" (SQLite); --journal=false keeps only the last --history events in memory")
	fs.BoolVar(&jf.fsync, "fsync", false, "fsync the journal's ingest log before each answer, so acknowledged events also survive power loss (slower ingest)")
	fs.Int64Var(&jf.retainEvents, "retain-events", journal.DefaultRetainEvents, "most events kept in the journal (0: no limit)")
	fs.DurationVar(&jf.retainAge, "retain-age", journal.DefaultRetainAge, "oldest event kept in the journal (0: no limit)")
	fs.Int64Var(&jf.retainBytes, "retain-bytes", journal.DefaultRetainBytes, "bytes of events kept in the journal, payloads and fields (0: no limit)")
	fs.DurationVar(&jf.retainInterval, "retain-interval", journal.DefaultRetainInterval, "how often journal retention runs")
}

// check rejects impossible retention settings.
func (jf *journalFlags) check() error {
	if jf.retainEvents < 0 || jf.retainBytes < 0 || jf.retainAge < 0 || jf.retainInterval <= 0 {
		return fmt.Errorf("--retain-events, --retain-bytes and --retain-age must be 0 (no limit) or more, and --retain-interval more than 0")
	}
	return nil
}

// opener opens the journal, or the in-memory store with --journal=false.
func (jf journalFlags) opener() wsd.StoreOpener {
	return func(c wsd.Config, log hclog.Logger) (store.Store, error) {
		if !c.Journal {
			return store.NewMemory(c.History), nil
		}
		return journal.Open(journal.Options{
			Path: paths.Journal(c.DataDir), Fsync: jf.fsync,
			RetainEvents: jf.retainEvents, RetainAge: jf.retainAge, RetainBytes: jf.retainBytes,
			RetainInterval: jf.retainInterval, Logger: log,
		})
	}
}
