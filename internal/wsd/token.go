package wsd

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"

	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/token"
)

// prepareDataDir makes the data directory ready and private, and returns
// the token and its path: every file the daemon creates from now on is
// 0600 (umask 077, which SQLite's journal files follow too); the
// directory is created 0700, or tightened to 0700 when it is ours; the
// existing journal files are tightened to 0600. A directory other users
// can write to (or whose parents we own and others can write to) is
// refused, as ssh refuses such a home: they could replace the token or the
// journal. Problems with the token file are logged as warnings. It returns
// the token.
func prepareDataDir(dir string, log hclog.Logger) (string, error) {
	restrictUmask()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create data directory %s: %w (set --data-dir to a writable directory)", dir, err)
	}
	if err := securePath(dir, log); err != nil {
		return "", err
	}
	for _, name := range []string{paths.JournalFile, paths.JournalFile + "-wal", paths.JournalFile + "-shm"} {
		tighten(filepath.Join(dir, name), 0o600, log)
	}
	tokPath := paths.Token(dir)
	tok, err := ensureToken(tokPath)
	if err != nil {
		return "", fmt.Errorf("access token %s: %w", tokPath, err)
	}
	for _, p := range token.Problems(tokPath) {
		log.Warn("the access token is not safe: " + p.String())
	}
	tighten(tokPath, 0o600, log)
	return tok, nil
}

// ensureToken returns the token stored at path, creating a new random one
// (32 bytes as 64 hex digits; file mode 0600, directory 0700) when the file
// does not exist yet. Two processes racing to create it agree on one token:
// the file is created with O_EXCL.
func ensureToken(path string) (string, error) {
	if t, err := token.Read(path); err == nil {
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
		return token.Read(path)
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

// tokenEqual compares two tokens in constant time.
func tokenEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
