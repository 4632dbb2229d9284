// Package token reads and creates the access token that every mpm endpoint
// but /healthz requires. The token lives in the data directory, mode 0600.
package token

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Header is the HTTP header that carries the token ("Bearer <token>").
const Header = "Authorization"

// QueryParam is the query parameter a browser's WebSocket uses instead of the
// header, which browsers cannot set on a WebSocket.
const QueryParam = "token"

// Read returns the token stored at path, trimmed of white space.
func Read(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("token file %s is empty: delete it and restart mpm-wsd to create a new one", path)
	}
	return t, nil
}

// Ensure returns the token stored at path, creating a new random one (mode
// 0600, directory 0700) when the file does not exist yet. Two processes racing
// to create it agree on one token: the file is created with O_EXCL.
func Ensure(path string) (string, error) {
	if t, err := Read(path); err == nil {
		return t, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create data directory: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	t := hex.EncodeToString(raw[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return Read(path)
	}
	if err != nil {
		return "", fmt.Errorf("create token file: %w", err)
	}
	if _, err := f.WriteString(t + "\n"); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return t, nil
}

// Equal compares two tokens in constant time.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
