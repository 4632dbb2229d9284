package hookcfg

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
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
// name is taken, -2, -3, ... is appended.
func backupName(real string, now time.Time) string {
	base := real + ".bak-" + now.UTC().Format("20060102T150405Z")
	name := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			return name
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
}

// writeSettings replaces f's content with data: a timestamped backup of the
// old content first (when there was a file), then a temporary file in the
// same directory, fsynced and renamed over the target, with the old mode.
// It returns the backup's path ("" when there was no file).
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
	if err := os.Rename(tmp.Name(), f.Real); err != nil {
		return "", fmt.Errorf("cannot replace %s: %w; the old content is unchanged", f.Real, err)
	}
	ok = true
	syncDir(dir)
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
