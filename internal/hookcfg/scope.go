package hookcfg

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/mpm-dev/mpm/internal/hook"
	"github.com/mpm-dev/mpm/internal/paths"
)

// Scope names one of Claude Code's settings files.
type Scope string

const (
	// ScopeUser is ~/.claude/settings.json (or $CLAUDE_CONFIG_DIR/settings.json):
	// every session of this user.
	ScopeUser Scope = "user"
	// ScopeProject is <project>/.claude/settings.json, usually committed.
	ScopeProject Scope = "project"
	// ScopeLocal is <project>/.claude/settings.local.json, not committed.
	ScopeLocal Scope = "local"
)

// Scopes are all scopes, in the order they are reported.
var Scopes = []Scope{ScopeUser, ScopeProject, ScopeLocal}

// ParseScope checks a --scope value.
func ParseScope(s string) (Scope, error) {
	for _, sc := range Scopes {
		if strings.EqualFold(s, string(sc)) {
			return sc, nil
		}
	}
	return "", fmt.Errorf("unknown scope %q: use user (~/.claude/settings.json), project (.claude/settings.json) or local (.claude/settings.local.json)", s)
}

// EnvClaudeConfigDir is Claude Code's variable that moves ~/.claude.
const EnvClaudeConfigDir = "CLAUDE_CONFIG_DIR"

// Options locate the settings files and what our entries point at. Every
// field has a default taken from the environment, so tests can inject temp
// directories and a fake executable path.
type Options struct {
	// HomeDir is the user's home (default os.UserHomeDir).
	HomeDir string
	// ConfigDir is Claude Code's user config directory (default
	// $CLAUDE_CONFIG_DIR, else HomeDir/.claude).
	ConfigDir string
	// ProjectDir is the project for the project and local scopes (default
	// the working directory).
	ProjectDir string
	// Executable is the mpm-hook path written into command entries
	// (default the running binary, symlinks resolved).
	Executable string
	// Addr is the daemon's host:port (default MPM_ADDR or 127.0.0.1:8765).
	Addr string
	// DataDir is mpm's data directory, where the token lives (default
	// MPM_DATA_DIR or the OS's state directory).
	DataDir string
	// Now is the clock for backup names (default time.Now).
	Now func() time.Time
}

// withDefaults fills the empty fields from the environment.
func (o Options) withDefaults() (Options, error) {
	if o.HomeDir == "" {
		h, err := os.UserHomeDir()
		if err != nil && o.ConfigDir == "" {
			return o, fmt.Errorf("cannot find your home directory (%v): set HOME", err)
		}
		o.HomeDir = h
	}
	if o.ConfigDir == "" {
		if d := strings.TrimSpace(os.Getenv(EnvClaudeConfigDir)); d != "" {
			o.ConfigDir = d
		} else {
			o.ConfigDir = filepath.Join(o.HomeDir, ".claude")
		}
	}
	if o.ProjectDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return o, fmt.Errorf("cannot find the working directory (%v): pass --dir", err)
		}
		o.ProjectDir = wd
	}
	if o.Executable == "" {
		o.Executable = HookPath()
	}
	if o.Addr == "" {
		o.Addr = paths.Addr()
	}
	if o.DataDir == "" {
		o.DataDir = paths.DataDir()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// SettingsPath is the settings file of scope s.
func (o Options) SettingsPath(s Scope) string {
	switch s {
	case ScopeUser:
		return filepath.Join(o.ConfigDir, "settings.json")
	case ScopeProject:
		return filepath.Join(o.ProjectDir, ".claude", "settings.json")
	default:
		return filepath.Join(o.ProjectDir, ".claude", "settings.local.json")
	}
}

// SelfPath is the running binary's absolute path with symlinks resolved
// ("" when the OS cannot tell).
func SelfPath() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	return canonical(p)
}

// HookPath is the mpm-hook to install: the one named by MPM_HOOK_BIN (set by
// mpm-hook when it hands a subcommand to mpm-hookctl), else the mpm-hook
// beside this binary; absolute, symlinks resolved; "" when neither is known.
func HookPath() string {
	if p := os.Getenv(hook.EnvHookBin); p != "" {
		return canonical(p)
	}
	self := SelfPath()
	if self == "" {
		return ""
	}
	name := HookBinaryName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	return filepath.Join(filepath.Dir(self), name)
}

// canonical is p made absolute, with symlinks resolved where they can be.
func canonical(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	if a, err := filepath.Abs(p); err == nil {
		p = a
	}
	return p
}

// GoRunBuild reports whether exe is a binary `go run` built in its
// temporary work directory (…/go-build…/…/exe/NAME), which is deleted
// when go run exits.
func GoRunBuild(exe string) bool {
	p := filepath.ToSlash(exe)
	return strings.Contains(p, "/go-build") && strings.Contains(p, "/exe/")
}
