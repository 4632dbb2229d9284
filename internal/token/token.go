// Package token reads the access token that every mpm endpoint but /healthz
// requires. The token lives in the data directory, mode 0600; mpm-wsd
// creates it at its first start.
//
// mpm-hook links this package, so it imports nothing heavier than os,
// strings and strconv: no fmt, no crypto (creating and comparing tokens is
// the daemon's business, in internal/wsd).
package token

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// Header is the HTTP header that carries the token ("Bearer <token>").
const Header = "Authorization"

// QueryParam is the query parameter a browser's WebSocket uses instead of the
// header, which browsers cannot set on a WebSocket.
const QueryParam = "token"

// ErrInvalid is returned for a token file that is empty or holds characters
// an HTTP header cannot carry.
var ErrInvalid = errors.New("the token file is empty or damaged: delete it and restart mpm-wsd to create a new one")

// ErrNotRegular is returned for a token path that is not a regular file (a
// FIFO would make every reader wait for a writer).
var ErrNotRegular = errors.New("the token file is not a regular file (a FIFO, a directory...): delete it and restart mpm-wsd to create a new one")

// MinLen is the shortest token that is not reported as guessable; mpm-wsd
// makes 64-character ones.
const MinLen = 32

// Read returns the token stored at path, trimmed of white space. It never
// waits on a FIFO: the file is opened non-blocking and must be a regular
// file.
func Read(path string) (string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|nonblock, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", &os.PathError{Op: "read token", Path: path, Err: ErrNotRegular}
	}
	b := make([]byte, MaxFileSize+1)
	n, err := io.ReadFull(f, b)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", err
	}
	if n > MaxFileSize {
		return "", &os.PathError{Op: "read token", Path: path, Err: ErrInvalid}
	}
	return Parse(b[:n], path)
}

// Problem is one unsafe thing about a token file.
type Problem struct {
	// Text says what is wrong; Fix what to do about it.
	Text, Fix string
}

// String is the problem and its fix in one sentence.
func (p Problem) String() string { return p.Text + ": " + p.Fix }

// Problems says what is unsafe about the token file at path: a symlink
// (whoever can change the link chooses the token), a file other users can
// read, a token short enough to guess, something that is not a file. A
// missing or unreadable file gives none (Read reports it).
func Problems(path string) []Problem {
	var out []Problem
	li, err := os.Lstat(path)
	if err != nil {
		return nil
	}
	if li.Mode()&fs.ModeSymlink != 0 {
		dest, _ := os.Readlink(path)
		out = append(out, Problem{path + " is a symlink (to " + dest + "): whoever can change the link chooses the token",
			"replace the link with a copy of the file it points to: rm '" + path + "' && cp '" + dest + "' '" + path + "' && chmod 600 '" + path + "'"})
	}
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return append(out, Problem{path + " is not a regular file", "delete it and restart mpm-wsd to create a new token"})
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		out = append(out, Problem{path + " can be read by other users (its mode is 0" + strconv.FormatUint(uint64(fi.Mode().Perm()), 8) + ")",
			"chmod 600 " + path + " (and if others may have read it, delete it and restart mpm-wsd for a new token)"})
	}
	if t, err := Read(path); err == nil && len(t) < MinLen {
		out = append(out, Problem{"the token in " + path + " is " + strconv.Itoa(len(t)) + " characters, short enough to guess (at least " + strconv.Itoa(MinLen) + " wanted)",
			"delete " + path + " and restart mpm-wsd to create a 64-character one"})
	}
	return out
}

// MaxFileSize bounds what a reader needs of the token file: a valid token
// and the white space around it fit (a longer file holds no valid token).
const MaxFileSize = 2 << 10

// Parse returns the token in b, the contents of the token file at path
// (for the error), trimmed of white space.
func Parse(b []byte, path string) (string, error) {
	t := strings.TrimSpace(string(b))
	if !Valid(t) {
		return "", &os.PathError{Op: "read token", Path: path, Err: ErrInvalid}
	}
	return t, nil
}

// Valid reports whether t can be a token: 1 to 1024 printable ASCII
// characters without spaces, so it fits an HTTP header as it is.
func Valid(t string) bool { return protocol.Printable(t, 1024) }
