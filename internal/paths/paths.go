// Package paths is the one place that knows mpm's defaults: the daemon's
// address, the per-user data directory with the files in it (token,
// journal, hook spool, manager state), and the names of every environment
// variable mpm reads (internal/cli describes them in each binary's help).
//
// It is imported by mpm-hook, whose start-up time is the product, so it
// imports nothing beyond os, path/filepath, runtime and strings.
package paths

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

const (
	// DefaultAddr is where mpm-wsd listens and every client dials. It is an
	// IPv4 literal on purpose: "localhost" may resolve to ::1 first.
	DefaultAddr = "127.0.0.1:8765"

	// EnvAddr overrides the address for every binary.
	EnvAddr = "MPM_ADDR"
	// EnvDataDir overrides the data directory for every binary.
	EnvDataDir = "MPM_DATA_DIR"
	// EnvToken is the access token in Claude Code's environment, which its
	// http hooks send (mpm-hook install --mode http says how to set it).
	EnvToken = "MPM_TOKEN"
	// EnvNATSPassword is mpm-wsd's NATS password in fleet mode, when
	// --nats-password is not given.
	EnvNATSPassword = "MPM_NATS_PASSWORD"
	// EnvNATSToken is mpm-wsd's NATS token in fleet mode, when
	// --nats-token is not given.
	EnvNATSToken = "MPM_NATS_TOKEN"
	// EnvHookTimeout bounds mpm-hook's wait for the daemon (a Go duration).
	EnvHookTimeout = "MPM_HOOK_TIMEOUT"
	// EnvHookStdinTimeout bounds mpm-hook's wait for the JSON on stdin.
	EnvHookStdinTimeout = "MPM_HOOK_STDIN_TIMEOUT"
	// EnvHookDebug, when "1", makes mpm-hook say on stderr what it did.
	EnvHookDebug = "MPM_HOOK_DEBUG"
	// EnvHookBin tells mpm-hookctl which mpm-hook to install: the one that
	// handed it the subcommand (set by mpm-hook itself).
	EnvHookBin = "MPM_HOOK_BIN"

	// TokenFile is the access token's file name inside the data directory.
	TokenFile = "token"
	// JournalFile is the event journal's file name inside the data directory.
	JournalFile = "journal.db"
	// SpoolDir is the hook spool's directory inside the data directory.
	SpoolDir = "spool"
	// ManagerStateFile is where mpm-manager publishes its state.
	ManagerStateFile = "manager-state.json"
	// SocketFile is mpm-wsd's Unix socket inside the data directory (not on
	// Windows): mpm-hook posts events there first, with no token.
	SocketFile = "wsd.sock"
)

// Addr returns MPM_ADDR when set, else DefaultAddr.
func Addr() string {
	if a := strings.TrimSpace(os.Getenv(EnvAddr)); a != "" {
		return a
	}
	return DefaultAddr
}

// DataDir returns MPM_DATA_DIR when set, else the OS's per-user state
// directory for mpm:
//
//	Linux and BSDs: $XDG_STATE_HOME/mpm, else ~/.local/state/mpm
//	macOS:          ~/Library/Application Support/mpm
//	Windows:        %LocalAppData%\mpm
func DataDir() string {
	if d := strings.TrimSpace(os.Getenv(EnvDataDir)); d != "" {
		return d
	}
	return DefaultDataDir()
}

// DefaultDataDir is the OS's per-user state directory for mpm, ignoring
// MPM_DATA_DIR.
func DefaultDataDir() string {
	home, _ := os.UserHomeDir()
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "mpm")
		}
	case "darwin", "ios":
	default:
		if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
			return filepath.Join(d, "mpm")
		}
	}
	return HomeDataDir(home)
}

// HomeDataDir is the default data directory of a user whose home is home
// and whose environment sets no XDG_STATE_HOME / LocalAppData (another
// account's, e.g. the one a system service runs as).
func HomeDataDir(home string) string {
	switch runtime.GOOS {
	case "windows":
		return filepath.Join(home, "AppData", "Local", "mpm")
	case "darwin", "ios":
		return filepath.Join(home, "Library", "Application Support", "mpm")
	default:
		return filepath.Join(home, ".local", "state", "mpm")
	}
}

// Token is the path of the access token file in dataDir.
func Token(dataDir string) string { return filepath.Join(dataDir, TokenFile) }

// Journal is the path of the event journal in dataDir.
func Journal(dataDir string) string { return filepath.Join(dataDir, JournalFile) }

// Spool is the path of the hook spool directory in dataDir.
func Spool(dataDir string) string { return filepath.Join(dataDir, SpoolDir) }

// Socket is the path of mpm-wsd's Unix socket in dataDir.
func Socket(dataDir string) string { return filepath.Join(dataDir, SocketFile) }

// ManagerState is the path of mpm-manager's state file in dataDir.
func ManagerState(dataDir string) string { return filepath.Join(dataDir, ManagerStateFile) }
