package lean

import (
	"path"
	"syscall"
	"unsafe"
)

// Environment variables (internal/paths names them; lean_test checks).
const (
	envAddr         = "MPM_ADDR"
	envDataDir      = "MPM_DATA_DIR"
	envTimeout      = "MPM_HOOK_TIMEOUT"
	envStdinTimeout = "MPM_HOOK_STDIN_TIMEOUT"
	envDebug        = "MPM_HOOK_DEBUG"
	envHookBin      = "MPM_HOOK_BIN"
	envApprovalWait = "MPM_HOOK_APPROVAL_WAIT"
	defaultAddr     = "127.0.0.1:8765"
)

const (
	millisecond         = int64(1e6)
	defaultTimeout      = DefaultTimeout
	defaultStdinTimeout = DefaultStdinTimeout
	discardTimeout      = 100 * millisecond
	maxInput            = MaxInput
	firstGrowth         = FirstGrowth
)

//go:linkname runtimeArgs os.runtime_args
func runtimeArgs() []string

//go:linkname nanotime runtime.nanotime
func nanotime() int64

// Main is mpm-hook's main on Linux: a subcommand goes to mpm-hookctl, a
// person at a terminal is told what this is, anything else is forwarded.
// It exits 0 whatever becomes of the event.
func Main() {
	if args := runtimeArgs(); len(args) > 1 {
		syscall.Exit(runCtl(args[1:]))
	}
	if stdinIsTerminal() {
		writeString(2, AtTerminal)
		syscall.Exit(0)
	}
	if getenv(envApprovalWait) != "" {
		// A PermissionRequest that waits for a person's decision (only its
		// command sets this): internal/hook's path, in mpm-hookctl. When
		// that cannot be run the event is forwarded without waiting: no
		// decision printed, which Claude Code reads as "ask in the
		// terminal", as for any failed wait.
		if ctl, self := findCtl(); ctl != "" {
			syscall.Exec(ctl, []string{ctl, ForwardArg}, ctlEnv(self))
		}
	}
	forward()
	syscall.Exit(0)
}

// forward runs the hook path; a panic ends it quietly (exit 0).
func forward() {
	defer func() { recover() }()
	debug := getenv(envDebug) == "1"
	in := readStdin(0, envDuration(envStdinTimeout, defaultStdinTimeout))
	r := deliver(in, envDuration(envTimeout, defaultTimeout))
	if debug {
		writeString(2, DebugLine(r.outcome, r.bytes, r.via, r.status, r.err, ""))
	}
	discardRest(0, discardTimeout)
}

// Outcomes, as internal/hook names them.
const (
	accepted  = "accepted"
	duplicate = "duplicate"
	rejected  = "rejected"
	spooled   = "spooled"
	lost      = "lost"
	invalid   = "invalid"
	noInput   = "no-input"
)

// result is hook.Result's part the debug line shows.
type result struct {
	outcome string
	status  int
	err     error
	bytes   int
	via     string
}

// deliver is internal/hook's deliver for an event that waits for no
// decision: post it, else spool it.
func deliver(in input, timeout int64) (res result) {
	res.bytes = len(in.data)
	if len(in.data) == 0 {
		res.outcome = noInput
		return res
	}
	key := NewKey()
	sent := wallNano()
	dataDir := dataDir()
	code, via, err := post(addr(), dataDir, key, sent, in.data, nanotime()+timeout)
	res.status, res.err, res.via = code, err, via
	switch {
	case err != nil:
		// Down, hung, refused, no token: spool below.
	case code == 202, code == 200:
		res.outcome = accepted
		if code == 200 {
			res.outcome = duplicate
		}
		return res
	case code == 401:
		// Our token is not the daemon's: spool it (the daemon drains the
		// spool with no token; mpm-verify reports the mismatch).
	case code >= 400 && code < 500, code < 200, code >= 300 && code < 400:
		res.outcome = rejected
		return res
	default:
		// 503 and other 5xx: retry later.
	}
	// Only a whole object is spooled, its contents unchecked: the daemon
	// checks each spooled event as it drains it and counts one it cannot
	// accept (internal/hook's deliver says more).
	if !in.complete {
		if res.status != 0 {
			res.outcome = rejected
		} else {
			res.outcome = invalid
		}
		return res
	}
	if err := spoolAppend(dataDir+"/spool", key, sent, in.data); err != nil {
		res.outcome, res.err = lost, err
		return res
	}
	res.outcome = spooled
	return res
}

// getenv is syscall.Getenv's value ("" when unset).
func getenv(k string) string {
	v, _ := syscall.Getenv(k)
	return v
}

// addr is paths.Addr: MPM_ADDR, else the default.
func addr() string {
	if a := trimSpace(getenv(envAddr)); a != "" {
		return a
	}
	return defaultAddr
}

// dataDir is paths.DataDir on Linux: MPM_DATA_DIR, else
// $XDG_STATE_HOME/mpm (an absolute one), else ~/.local/state/mpm.
func dataDir() string {
	if d := trimSpace(getenv(envDataDir)); d != "" {
		return d
	}
	if d := getenv("XDG_STATE_HOME"); d != "" && d[0] == '/' {
		return cleanJoin(d, "mpm")
	}
	return cleanJoin(getenv("HOME"), ".local/state/mpm")
}

// cleanJoin is filepath.Join on Linux: path.Join (path links no os), so
// that the hook names the data dir exactly as mpm-wsd (internal/paths)
// does, ".." and "//" in XDG_STATE_HOME or HOME included.
func cleanJoin(dir, name string) string { return path.Join(dir, name) }

// trimSpace is strings.TrimSpace for ASCII white space.
func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// envDuration is the duration in name (a Go duration) in nanoseconds, def
// when unset, unparsable or not positive.
func envDuration(name string, def int64) int64 {
	if v := getenv(name); v != "" {
		if d, ok := ParseDuration(v); ok && d > 0 {
			return d
		}
	}
	return def
}

// wallNano is time.Now().UnixNano().
func wallNano() int64 {
	var ts syscall.Timespec
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 0 /* CLOCK_REALTIME */, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Sec*1e9 + ts.Nsec
}

// writeString writes s to fd, best effort.
func writeString(fd int, s string) { writeAll(fd, []byte(s)) }

// stdinIsTerminal reports whether stdin is a terminal (TCGETS succeeds).
func stdinIsTerminal() bool {
	var t syscall.Termios
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, 0, syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return e == 0
}
