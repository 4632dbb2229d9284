package usage

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// DefaultProjectsDir is where Claude Code keeps transcripts:
// $CLAUDE_CONFIG_DIR/projects, else ~/.claude/projects ("" when there is
// no home directory).
func DefaultProjectsDir() string {
	if d := os.Getenv("CLAUDE_CONFIG_DIR"); d != "" {
		return filepath.Join(d, "projects")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".claude", "projects")
}

// Refusal reasons (the reason label of mpm_usage_refused_total).
const (
	RefusedOutside    = "outside_config_dir"
	RefusedNotRegular = "not_regular"
	RefusedNotJSONL   = "not_jsonl"
)

// RefusedError is a transcript path the reader will not open.
type RefusedError struct {
	Path, Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("transcript %q refused (%s): only regular .jsonl files under the Claude config directory's projects/ are read", e.Path, e.Reason)
}

// resolve checks path and returns what to open: path with every symlink
// resolved, a regular .jsonl file inside root (itself resolved). Anything
// else is a *RefusedError; nothing is opened.
func resolve(root, path string) (string, error) {
	if root == "" || !filepath.IsAbs(path) {
		return "", &RefusedError{path, RefusedOutside}
	}
	if !strings.EqualFold(filepath.Ext(path), ".jsonl") {
		return "", &RefusedError{path, RefusedNotJSONL}
	}
	rroot, err := filepath.EvalSymlinks(root)
	if err != nil {
		if !inside(filepath.Clean(root), filepath.Clean(path)) {
			return "", &RefusedError{path, RefusedOutside}
		}
		return "", err // no config dir (yet): nothing to read
	}
	rpath, err := filepath.EvalSymlinks(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !inside(rroot, filepath.Clean(path)) {
			return "", &RefusedError{path, RefusedOutside}
		}
		return "", err // not written yet
	}
	if !inside(rroot, rpath) {
		return "", &RefusedError{path, RefusedOutside}
	}
	if !strings.EqualFold(filepath.Ext(rpath), ".jsonl") {
		return "", &RefusedError{path, RefusedNotJSONL}
	}
	fi, err := os.Stat(rpath)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", &RefusedError{path, RefusedNotRegular}
	}
	return rpath, nil
}

// inside reports whether p is strictly below dir (both clean, absolute).
func inside(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// MaxLine bounds one transcript line kept whole; a longer one (a huge
// tool result) is passed over and counted.
const MaxLine = 16 << 20

// file is the reading position in one transcript.
type file struct {
	// path is the transcript path the events name.
	path string
	// id is the file read so far (nil: none); off how far.
	id  os.FileInfo
	off int64
	// carry is an incomplete last line; skip: inside an over-long line.
	carry []byte
	skip  bool
	t     *tally
}

func newFile(path string) *file { return &file{path: path, t: newTally()} }

// readResult says what one read did.
type readResult struct {
	// n is the bytes read; more: the file has more than the budget allowed.
	n    int64
	more bool
	// reset: the file was truncated or replaced and is read again from 0.
	reset bool
	// records folded in; long lines passed over.
	records, long int
}

// read reads at most budget bytes appended since the last read, using buf
// as scratch, and folds the complete lines into the tally.
func (f *file) read(root string, budget int64, buf []byte) (readResult, error) {
	var res readResult
	rpath, err := resolve(root, f.path)
	if err != nil {
		return res, err
	}
	fh, err := os.Open(rpath)
	if err != nil {
		return res, err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return res, err
	}
	if !fi.Mode().IsRegular() { // swapped between the check and the open
		return res, &RefusedError{f.path, RefusedNotRegular}
	}
	if f.id != nil && (!os.SameFile(f.id, fi) || fi.Size() < f.off) {
		// Replaced, or truncated: what was summed may be gone.
		f.id, f.off, f.carry, f.skip, f.t = nil, 0, nil, false, f.t.fresh()
		res.reset = true
	}
	f.id = fi
	if fi.Size() == f.off {
		return res, nil
	}
	if _, err := fh.Seek(f.off, io.SeekStart); err != nil {
		return res, err
	}
	end := min(fi.Size(), f.off+budget)
	for f.off < end {
		n, err := fh.Read(buf[:min(int64(len(buf)), end-f.off)])
		if n > 0 {
			f.off += int64(n)
			res.n += int64(n)
			f.feed(buf[:n], &res)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, err
		}
	}
	res.more = f.off < fi.Size()
	return res, nil
}

// feed splits b into lines, completing the carried one.
func (f *file) feed(b []byte, res *readResult) {
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			if f.skip {
				return
			}
			if len(f.carry)+len(b) > MaxLine {
				f.carry, f.skip = nil, true
				res.long++
				return
			}
			f.carry = append(f.carry, b...)
			return
		}
		line := b[:nl]
		b = b[nl+1:]
		if f.skip {
			f.skip = false
			continue
		}
		if len(f.carry) > 0 {
			if len(f.carry)+len(line) > MaxLine {
				f.carry = f.carry[:0]
				res.long++
				continue
			}
			line = append(f.carry, line...)
			f.carry = f.carry[:0]
			if cap(f.carry) > 1<<20 {
				f.carry = nil // do not hold a long line's buffer
			}
		}
		if r, ok := ParseLine(line); ok {
			f.t.add(r)
			res.records++
		}
	}
}

// restart makes the next read start from the beginning of the file, with
// nothing counted.
func (f *file) restart() {
	if !f.refused() {
		f.id, f.off, f.carry, f.skip, f.t = nil, 0, nil, false, f.t.fresh()
	}
}

// refuse marks the path refused: it is not looked at again (an event
// naming another path starts a new file).
func (f *file) refuse() { f.skip, f.id, f.off = false, nil, -1 }

// refused reports whether refuse was called.
func (f *file) refused() bool { return f.off < 0 }
