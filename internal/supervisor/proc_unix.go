//go:build unix && !linux

package supervisor

import (
	"os"
	"os/exec"
	"syscall"
)

// prepareCmd leaves the daemon in the manager's process group. These
// systems have no parent-death signal; launchd (AbandonProcessGroup is
// false) kills the whole process group of a job whose main process exits,
// so keeping the daemon in the manager's group is what takes it down when
// the manager is killed hard. A daemon that survives anyway (a foreground
// manager killed with SIGKILL) is replaced by the next manager.
func prepareCmd(cmd *exec.Cmd) {}

// afterStart has nothing to do here.
func afterStart(*exec.Cmd) error { return nil }

// terminate sends SIGTERM and SIGCONT to the daemon.
func terminate(p *os.Process) error { return terminatePid(p.Pid) }

// kill sends SIGKILL to the daemon.
func kill(p *os.Process) error { return killPid(p.Pid) }

// terminatePid sends SIGTERM (and SIGCONT) to one process.
func terminatePid(pid int) error {
	err := syscall.Kill(pid, syscall.SIGTERM)
	syscall.Kill(pid, syscall.SIGCONT)
	return err
}

// killPid sends SIGKILL to one process.
func killPid(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }
