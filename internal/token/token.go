// Package token reads the access token that every mpm endpoint but /healthz
// requires. The token lives in the data directory, mode 0600; mpm-wsd
// creates it at its first start.
//
// mpm-hook links this package, so it imports nothing heavier than os and
// strings: no fmt, no crypto (creating and comparing tokens is the daemon's
// business, in internal/wsd).
package token

import (
	"errors"
	"os"
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

// Read returns the token stored at path, trimmed of white space.
func Read(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return Parse(b, path)
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
