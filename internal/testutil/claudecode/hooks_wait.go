package claudecode

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Claude Code 2.1.x skips its SessionEnd hooks when it exits while an
// async hook is still running: claude -p with a Stop hook that takes
// 50 ms never sends SessionEnd, against ~15 ms from the Stop hook's start
// to the exit. A person ends a session long after the last turn's hooks
// are done; a test that ends it right after its Stop event reached the
// daemon (the hook may still be exiting) loses SessionEnd now and then on
// a loaded machine. RunStream therefore waits for Claude Code's hook
// processes before it closes stdin.

// hookProcs returns the descendants of pid whose command line names
// needle, from /proc; ok is false where there is no /proc to read.
func hookProcs(pid int, needle string) (procs []int, ok bool) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, false
	}
	parent := map[int]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(b[i+1:])
		if len(f) < 2 {
			continue
		}
		if pp, err := strconv.Atoi(string(f[1])); err == nil {
			parent[p] = pp
		}
	}
	for p := range parent {
		for a := parent[p]; a > 1; a = parent[a] {
			if a == pid {
				cmd, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p), "cmdline"))
				if bytes.Contains(cmd, []byte(needle)) {
					procs = append(procs, p)
				}
				break
			}
		}
	}
	return procs, true
}

// waitHooksDone waits, up to limit, until no process under pid runs
// mpm-hook; it returns the ones still running then (none: done, or no
// /proc to look at).
func waitHooksDone(pid int, limit time.Duration) []int {
	deadline := time.Now().Add(limit)
	for {
		procs, ok := hookProcs(pid, "mpm-hook")
		if !ok || len(procs) == 0 || time.Now().After(deadline) {
			return procs
		}
		time.Sleep(5 * time.Millisecond)
	}
}
