package fleet

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cursor is the edge's outbox position: the highest local seq that
// JetStream acknowledged, kept in a file so a restarted edge resumes there.
// The file holds "<seq> <journal-id>": a position is one in the journal
// that has that id, and means nothing in another one.
type cursor struct {
	// path is the file.
	path string
	// journal is the id of the journal the edge publishes from.
	journal string
}

// load reads the cursor; a missing file is 0 (publish everything
// retained). journal is the id the file names: "" for a file written
// before cursors named their journal.
func (c cursor) load() (seq uint64, journal string, err error) {
	b, err := os.ReadFile(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("read fleet cursor %s: %w", c.path, err)
	}
	num, journal, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || strings.ContainsAny(journal, " \n") {
		return 0, "", fmt.Errorf("fleet cursor %s holds %q, not a seq: delete it to publish every retained event again (the stream and the hub drop the duplicates)", c.path, firstBytes(b, 40))
	}
	return n, journal, nil
}

// store writes seq atomically: a temporary file renamed over the old one,
// so a crash leaves either the old or the new value.
func (c cursor) store(seq uint64) error {
	tmp, err := os.CreateTemp(filepath.Dir(c.path), filepath.Base(c.path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write fleet cursor: %w", err)
	}
	_, werr := tmp.WriteString(strconv.FormatUint(seq, 10) + " " + c.journal + "\n")
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write fleet cursor: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write fleet cursor: %w", err)
	}
	return nil
}

func firstBytes(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}
