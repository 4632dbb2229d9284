package hook

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/mpm-dev/mpm/internal/hook/lean"
	"github.com/mpm-dev/mpm/internal/paths"
)

const (
	// CtlName is the binary that carries out mpm-hook's subcommands
	// (install, uninstall, status, help), looked for beside mpm-hook, then
	// on PATH.
	CtlName = lean.CtlName
	// EnvHookBin tells mpm-hookctl which mpm-hook to install: the one that
	// handed it the subcommand.
	EnvHookBin = paths.EnvHookBin
)

// RunCtl carries out `mpm-hook <args...>` by running mpm-hookctl with the
// same arguments (on unix it replaces this process) and returns the exit
// code. The installer lives in its own binary because everything mpm-hook
// links costs start-up time on every event (see BenchmarkHook).
func RunCtl(args []string) int {
	self, _ := os.Executable()
	ctl := findCtl(self)
	if ctl == "" {
		if len(args) > 0 && lean.IsHelp(args[0]) {
			os.Stdout.WriteString(lean.ShortUsage)
			return 0
		}
		os.Stderr.WriteString(lean.CtlMissing(args, self))
		return 1
	}
	env := make([]string, 0, len(os.Environ())+1)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, EnvHookBin+"=") {
			env = append(env, kv)
		}
	}
	if self != "" {
		env = append(env, EnvHookBin+"="+self)
	}
	code, err := execCtl(ctl, append([]string{ctl}, args...), env)
	if err != nil {
		os.Stderr.WriteString("mpm-hook: cannot run " + ctl + ": " + err.Error() + "\n")
		return 1
	}
	return code
}

// AtTerminal is what mpm-hook says when a person runs it at a terminal
// (stdin is a terminal, not Claude Code's pipe), instead of waiting for
// an event that will not come.
const AtTerminal = lean.AtTerminal

// findCtl returns mpm-hookctl's path: beside self (as run, then with
// symlinks resolved), else the first on PATH; "" when there is none.
func findCtl(self string) string {
	name := CtlName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	var dirs []string
	if self != "" {
		dirs = append(dirs, filepath.Dir(self))
		if r, err := filepath.EvalSymlinks(self); err == nil {
			dirs = append(dirs, filepath.Dir(r))
		}
	}
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if d != "" && filepath.IsAbs(d) {
			dirs = append(dirs, d)
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && (runtime.GOOS == "windows" || fi.Mode().Perm()&0o111 != 0) {
			return p
		}
	}
	return ""
}
