package approvals

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// ModeFile is the switch's file in the data directory.
const ModeFile = "approvals.json"

// Mode is the persisted "answer from mpm" switch. On (the default, and
// what a missing file means): a waiting hook waits for an answer from mpm.
// Off: the daemon tells the hook at once to print nothing, and requests
// are shown read-only.
type Mode struct {
	mu      sync.Mutex
	path    string
	enabled bool
}

// LoadMode reads the switch from dataDir. A file that cannot be read or
// parsed gives an error and the switch on: the hook then waits, and
// Claude Code's own prompt, which never waits for it, stays usable.
func LoadMode(dataDir string) (*Mode, error) {
	m := &Mode{path: filepath.Join(dataDir, ModeFile), enabled: true}
	b, err := os.ReadFile(m.path)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, err
	}
	var v struct {
		Enabled *bool `json:"enabled"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.Enabled == nil {
		return m, errors.New(m.path + ` is not {"enabled":true|false}; fix or delete it`)
	}
	m.enabled = *v.Enabled
	return m, nil
}

// Enabled reports the switch.
func (m *Mode) Enabled() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.enabled
}

// Set changes the switch and saves it (0600, replaced atomically).
func (m *Mode) Set(on bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, _ := json.Marshal(struct {
		Enabled bool `json:"enabled"`
	}{on})
	tmp, err := os.CreateTemp(filepath.Dir(m.path), ModeFile+".tmp-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(append(b, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), m.path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	m.enabled = on
	return nil
}
