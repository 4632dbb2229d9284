package hookcfg

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mpm-dev/mpm/internal/atomicfile"
)

// settingsFile is a settings file as found on disk.
type settingsFile struct {
	// Path is the configured path (possibly a symlink).
	Path string
	// Real is where the content lives: Path with symlinks resolved. Writes
	// go there, so a symlinked settings file stays a symlink.
	Real string
	// Exists is false when there is no file yet.
	Exists bool
	// Mode is the file's permission bits (0644 for a file yet to be made).
	Mode fs.FileMode
	// Info is the target's FileInfo when it exists.
	Info fs.FileInfo
	// Data is the content.
	Data []byte
}

// newFileMode is the mode of a settings file we create.
const newFileMode fs.FileMode = 0o644

// readSettings loads the settings file at path, following a symlink.
func readSettings(path string) (*settingsFile, error) {
	f := &settingsFile{Path: path, Real: path, Mode: newFileMode}
	li, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot look at %s: %w", path, err)
	}
	if li.Mode()&fs.ModeSymlink != 0 {
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			dest, _ := os.Readlink(path)
			return nil, fmt.Errorf("%s is a symlink to %s, which cannot be resolved (%v): create the target or remove the link, then run this again", path, dest, err)
		}
		f.Real = real
	}
	fi, err := os.Stat(f.Real)
	if err != nil {
		return nil, fmt.Errorf("cannot look at %s: %w", f.Real, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s): move it away, then run this again", f.Real, fi.Mode().Type())
	}
	data, err := os.ReadFile(f.Real)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", f.Real, err)
	}
	f.Exists, f.Mode, f.Info, f.Data = true, fi.Mode().Perm(), fi, data
	return f, nil
}

// checkWritable refuses a file we could not (or should not) replace: a
// read-only file stays read-only even for root, since someone made it so.
func (f *settingsFile) checkWritable() error {
	if !f.Exists {
		return nil
	}
	if f.Mode&0o222 == 0 {
		return fmt.Errorf("%s is read-only (mode %04o); make it writable (chmod u+w %s) or choose another --scope, then run this again", f.Real, f.Mode, f.Real)
	}
	w, err := os.OpenFile(f.Real, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("%s is not writable for you (%v); fix its permissions or choose another --scope, then run this again", f.Real, err)
	}
	return w.Close()
}

// backupName is the path of the backup of real taken at now; when that
// name is taken, -2, -3, ... is appended, above the highest suffix already
// used for that second (so names keep sorting by age after pruning).
func backupName(real string, now time.Time) string {
	stamp := now.UTC().Format("20060102T150405Z")
	base := real + ".bak-" + stamp
	high := 0
	if ents, err := os.ReadDir(filepath.Dir(real)); err == nil {
		for _, e := range ents {
			if st, n, ok := parseBackupName(e.Name(), filepath.Base(real)); ok && st == stamp {
				high = max(high, n)
			}
		}
	}
	for i := high + 1; ; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			return name
		}
	}
}

// keepBackups is how many of our settings backups are kept per file; older
// ones are deleted after a successful write.
const keepBackups = 5

// editAttempts bounds how often an edit is redone because another program
// changed the file while we were editing it.
const editAttempts = 5

// errChanged says the settings file changed between our read and our
// replacing it: the edit must be redone on the new content.
var errChanged = errors.New("the settings file changed while it was being edited")

// beforeReplace, when set (tests), runs once the new content is ready,
// just before the file is compared with what was read and replaced.
var beforeReplace func()

// writeEdited writes res.After (the outcome of edit on f.Data) over f like
// writeSettings, without losing a concurrent change: when another program
// (Claude Code, an editor) changed the file after we read it, the file is
// read again, edit is applied to the new content and the write retried, a
// few times. f and res are updated to what was written. It returns the
// backup's path ("" when there was no file or nothing was left to change).
func writeEdited(f *settingsFile, res *Result, edit func([]byte) (Result, error), now time.Time) (string, error) {
	for attempt := 1; ; attempt++ {
		backup, err := writeSettings(f, res.After, now)
		if !errors.Is(err, errChanged) {
			if err == nil {
				pruneBackups(f.Real, keepBackups)
			}
			return backup, err
		}
		if attempt == editAttempts {
			return "", fmt.Errorf("%s kept changing while mpm-hook edited it (%d tries; another program is writing it); it was left as that program wrote it: run this again", f.Real, attempt)
		}
		time.Sleep(time.Duration(attempt) * 10 * time.Millisecond) // let the other writer finish
		nf, err := readSettings(f.Path)
		if err != nil {
			return "", err
		}
		r, err := edit(nf.Data)
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				pe.Path = nf.Path
			}
			return "", fmt.Errorf("%w (the file changed while mpm-hook edited it; it was left as the other program wrote it)", err)
		}
		*f, *res = *nf, r
		if !r.Changed {
			return "", nil // the other program's content already is what we want
		}
	}
}

// unchanged reports whether the file at f.Real still holds what was read
// into f (absent when f.Exists is false).
func (f *settingsFile) unchanged() bool {
	cur, err := os.ReadFile(f.Real)
	if errors.Is(err, fs.ErrNotExist) {
		return !f.Exists
	}
	return err == nil && f.Exists && bytes.Equal(cur, f.Data)
}

// pruneBackups deletes the oldest of our backups of real (real.bak-<UTC
// time>[-N], as backupName makes them) beyond keep. Other files, even with
// .bak in their name, are left alone.
func pruneBackups(real string, keep int) {
	dir, base := filepath.Split(real)
	ents, err := os.ReadDir(filepath.Clean(dir))
	if err != nil {
		return
	}
	type bak struct {
		name, stamp string
		n           int
	}
	var baks []bak
	for _, e := range ents {
		stamp, n, ok := parseBackupName(e.Name(), base)
		if ok && e.Type().IsRegular() {
			baks = append(baks, bak{e.Name(), stamp, n})
		}
	}
	sort.Slice(baks, func(i, j int) bool {
		if baks[i].stamp != baks[j].stamp {
			return baks[i].stamp < baks[j].stamp
		}
		return baks[i].n < baks[j].n
	})
	for i := 0; i+keep < len(baks); i++ {
		os.Remove(filepath.Join(dir, baks[i].name))
	}
}

// parseBackupName reads name as base.bak-YYYYMMDDTHHMMSSZ[-N]; n is 1
// without a suffix.
func parseBackupName(name, base string) (stamp string, n int, ok bool) {
	rest, found := strings.CutPrefix(name, base+".bak-")
	if !found || len(rest) < 16 {
		return "", 0, false
	}
	stamp, rest = rest[:16], rest[16:]
	if _, err := time.Parse("20060102T150405Z", stamp); err != nil {
		return "", 0, false
	}
	n = 1
	if rest != "" {
		v, err := strconv.Atoi(strings.TrimPrefix(rest, "-"))
		if !strings.HasPrefix(rest, "-") || err != nil || v < 2 {
			return "", 0, false
		}
		n = v
	}
	return stamp, n, true
}

// writeSettings replaces f's content with data: a timestamped backup of the
// old content first (when there was a file), then a temporary file in the
// same directory, fsynced and renamed over the target, with the old mode.
// Just before the rename the file is read again: when it no longer holds
// what f was read from, nothing is replaced and errChanged is returned
// (the window left is the rename itself). It returns the backup's path
// ("" when there was no file).
func writeSettings(f *settingsFile, data []byte, now time.Time) (string, error) {
	if err := f.checkWritable(); err != nil {
		return "", err
	}
	dir := filepath.Dir(f.Real)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("cannot create %s: %w; create it yourself or choose another --scope", dir, err)
	}
	backup := ""
	if f.Exists {
		backup = backupName(f.Real, now)
		if err := writeNew(backup, f.Data, f.Mode, f.Info); err != nil {
			return "", fmt.Errorf("cannot write the backup %s: %w; the settings file was not changed", backup, err)
		}
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(f.Real)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("cannot create a temporary file in %s: %w; make the directory writable, then run this again", dir, err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return "", fmt.Errorf("cannot write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(f.Mode); err != nil {
		return "", fmt.Errorf("cannot set the mode of %s: %w", tmp.Name(), err)
	}
	if f.Info != nil {
		sameOwner(tmp, f.Info)
	}
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("cannot flush %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("cannot close %s: %w", tmp.Name(), err)
	}
	if beforeReplace != nil {
		beforeReplace()
	}
	if !f.unchanged() {
		if backup != "" {
			os.Remove(backup)
		}
		return "", errChanged
	}
	if err := os.Rename(tmp.Name(), f.Real); err != nil {
		return "", fmt.Errorf("cannot replace %s: %w; the old content is unchanged", f.Real, err)
	}
	ok = true
	atomicfile.SyncDir(dir)
	return backup, nil
}

// writeNew creates path (which must not exist) with data and mode, synced.
func writeNew(path string, data []byte, mode fs.FileMode, like fs.FileInfo) error {
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return err
	}
	_ = w.Chmod(mode) // the umask may have narrowed it
	if like != nil {
		sameOwner(w, like)
	}
	if err := w.Sync(); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
