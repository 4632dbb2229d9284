package lean

import "syscall"

// runCtl is hook.RunCtl: it replaces this process with mpm-hookctl given
// args, or says why it cannot, and returns the exit code.
func runCtl(args []string) int {
	ctl, self := findCtl()
	if ctl == "" {
		if len(args) > 0 && IsHelp(args[0]) {
			writeString(1, ShortUsage)
			return 0
		}
		writeString(2, CtlMissing(args, self))
		return 1
	}
	err := syscall.Exec(ctl, append([]string{ctl}, args...), ctlEnv(self))
	writeString(2, "mpm-hook: cannot run "+ctl+": "+err.Error()+"\n")
	return 1
}

// ctlEnv is this process's environment with MPM_HOOK_BIN set to self, so
// that mpm-hookctl installs this mpm-hook.
func ctlEnv(self string) []string {
	env := syscall.Environ()
	out := env[:0]
	for _, kv := range env {
		if len(kv) <= len(envHookBin) || kv[:len(envHookBin)+1] != envHookBin+"=" {
			out = append(out, kv)
		}
	}
	if self != "" {
		out = append(out, envHookBin+"="+self)
	}
	return out
}

// findCtl returns mpm-hookctl's path, beside this executable (its path
// with symlinks resolved, as the kernel reports it), else the first on
// PATH, "" when there is none; and this executable's path.
func findCtl() (ctl, self string) {
	var buf [4096]byte
	if n, err := syscall.Readlink("/proc/self/exe", buf[:]); err == nil && n > 0 && n < len(buf) {
		self = string(buf[:n])
	}
	if self != "" {
		if p := executableIn(dirOf(self)); p != "" {
			return p, self
		}
	}
	path := getenv("PATH")
	for len(path) > 0 {
		d := path
		i := 0
		for i < len(path) && path[i] != ':' {
			i++
		}
		d, path = path[:i], path[min(i+1, len(path)):]
		if d != "" && d[0] == '/' {
			if p := executableIn(d); p != "" {
				return p, self
			}
		}
	}
	return "", self
}

// executableIn returns dir/mpm-hookctl when it is an executable regular
// file.
func executableIn(dir string) string {
	p := cleanJoin(dir, CtlName)
	var st syscall.Stat_t
	if syscall.Stat(p, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Mode&0o111 == 0 {
		return ""
	}
	return p
}

// dirOf is filepath.Dir for an absolute path.
func dirOf(p string) string {
	i := len(p) - 1
	for i > 0 && p[i] != '/' {
		i--
	}
	if i <= 0 {
		return "/"
	}
	return p[:i]
}
