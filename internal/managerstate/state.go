// Package managerstate is the small JSON file in which mpm-manager publishes
// what it is doing (daemon pid, restarts, last exit, last health check), so
// that `mpm-manager status` and mpm-verify can read it without talking to the
// manager. The manager rewrites the file atomically (temp file + rename) on
// every change, so a reader never sees a half-written file.
package managerstate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/mpm-dev/mpm/internal/atomicfile"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/supervisor/procinfo"
)

// SchemaVersion is the version of the file's layout; it grows when a field
// changes meaning (new fields alone do not bump it).
const SchemaVersion = 1

// Phase says what the supervisor is doing right now.
type Phase string

const (
	// PhaseStarting: the daemon was started and has not answered /healthz yet.
	PhaseStarting Phase = "starting"
	// PhaseRunning: the daemon is up and its last health check passed.
	PhaseRunning Phase = "running"
	// PhaseUnhealthy: the daemon is up but its last health check failed.
	PhaseUnhealthy Phase = "unhealthy"
	// PhaseBackoff: the daemon exited; the manager waits before the next start.
	PhaseBackoff Phase = "backoff"
	// PhaseCrashLoop: the daemon failed too often in a short window; the
	// manager waits out a cool-down before trying again.
	PhaseCrashLoop Phase = "crash_loop"
	// PhasePortBusy: another program holds the address; the manager waits.
	PhasePortBusy Phase = "port_busy"
	// PhaseStopping: the manager is stopping the daemon (health failure or
	// shutdown).
	PhaseStopping Phase = "stopping"
	// PhaseStopped: the manager has exited cleanly; no daemon is running.
	PhaseStopped Phase = "stopped"
)

// Health is the result of one /healthz check.
type Health struct {
	// OK is true when the daemon answered 200 as our own child.
	OK bool `json:"ok"`
	// At is when the check finished.
	At time.Time `json:"at"`
	// Detail says what was wrong (empty when OK), e.g. "timeout after 5s".
	Detail string `json:"detail,omitempty"`
	// ConsecutiveFailures counts failed checks in a row, 0 after a success.
	ConsecutiveFailures int `json:"consecutive_failures"`
}

// State is the content of the manager state file.
type State struct {
	// Schema is SchemaVersion of the writer.
	Schema int `json:"schema"`
	// ManagerPID is the pid of the mpm-manager process that wrote the file.
	ManagerPID int `json:"manager_pid"`
	// ManagerStarted is when that manager started supervising.
	ManagerStarted time.Time `json:"manager_started,omitzero"`
	// Updated is when the file was last written.
	Updated time.Time `json:"updated"`
	// Addr is the daemon's address (host:port).
	Addr string `json:"addr"`
	// DataDir is the data directory handed to the daemon.
	DataDir string `json:"data_dir"`
	// WSDPath is the mpm-wsd executable the manager starts.
	WSDPath string `json:"wsd_path"`
	// Phase is what the supervisor is doing (see the Phase constants).
	Phase Phase `json:"phase"`
	// Message is one human sentence about the phase, e.g. why it waits.
	Message string `json:"message,omitempty"`
	// DaemonPID is the running daemon's pid, 0 when none runs.
	DaemonPID int `json:"daemon_pid"`
	// DaemonStarted is when the running daemon was started.
	DaemonStarted time.Time `json:"daemon_started,omitzero"`
	// Starts counts daemon starts by this manager.
	Starts int `json:"starts"`
	// Restarts counts starts after the first one (crashes, kills, health).
	Restarts int `json:"restarts"`
	// LastExit describes the previous daemon's end, e.g. "killed by signal
	// 9 after 12.3s", "stopped after 3 failed health checks".
	LastExit string `json:"last_exit,omitempty"`
	// LastExitAt is when the previous daemon ended.
	LastExitAt time.Time `json:"last_exit_at,omitzero"`
	// NextStart is when the next start is due (phases backoff, crash_loop,
	// port_busy).
	NextStart time.Time `json:"next_start,omitzero"`
	// PortHolder describes who holds the address when phase is port_busy,
	// e.g. "pid 4242 (python3)" or "an unknown process".
	PortHolder string `json:"port_holder,omitempty"`
	// LastHealth is the latest health check, nil before the first one.
	LastHealth *Health `json:"last_health,omitempty"`
	// ManagerCrashes counts the earlier managers on this data directory
	// that ended without stopping soon after they started, in a row; 0
	// after a clean stop or a manager that ran long enough.
	ManagerCrashes int `json:"manager_crashes,omitempty"`
}

// Path is the state file's path in dataDir.
func Path(dataDir string) string { return paths.ManagerState(dataDir) }

// Read returns the state file in dataDir. When no manager ever ran there
// the error wraps os.ErrNotExist. Read does not say whether the writer is
// still alive: use ManagerAlive for that.
func Read(dataDir string) (State, error) {
	var s State
	b, err := os.ReadFile(Path(dataDir))
	if err != nil {
		return s, err
	}
	return Decode(b)
}

// Decode parses the content of a state file.
func Decode(b []byte) (State, error) {
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return State{}, fmt.Errorf("manager state file is not valid JSON (%v): delete it, the manager rewrites it", err)
	}
	if s.Schema > SchemaVersion {
		return s, fmt.Errorf("manager state file has schema %d, newer than this program's %d: upgrade mpm", s.Schema, SchemaVersion)
	}
	return s, nil
}

// Write stores s in dataDir atomically (temp file in the same directory,
// fsync, rename). It sets Schema and Updated.
func Write(dataDir string, s State) error {
	s.Schema = SchemaVersion
	s.Updated = time.Now()
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory for the manager state: %w", err)
	}
	if err := atomicfile.Write(Path(dataDir), b, 0o644); err != nil {
		return fmt.Errorf("write manager state: %w", err)
	}
	return nil
}

// ManagerAlive reports whether the manager that wrote s is still running.
// It checks that the pid exists and, where the platform tells, that it is
// an mpm-manager executable (a reused pid is not mistaken for it).
func (s State) ManagerAlive() bool {
	if s.ManagerPID <= 0 {
		return false
	}
	if !procinfo.Alive(s.ManagerPID) {
		return false
	}
	name, err := procinfo.ExeName(s.ManagerPID)
	if err != nil {
		// Alive but unnamed (another user's process on some platforms):
		// trust the pid.
		return true
	}
	return name == "mpm-manager"
}

// Remove deletes the state file in dataDir; a missing file is not an error.
func Remove(dataDir string) error {
	err := os.Remove(Path(dataDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
