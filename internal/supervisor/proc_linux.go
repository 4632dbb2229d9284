package supervisor

import (
	"os"
	"os/exec"
	"syscall"
)

// prepareCmd puts the daemon in its own process group (so signals reach it
// and anything it starts, and a terminal's Ctrl-C reaches only the manager)
// and asks the kernel to SIGKILL it when the thread that forked it dies.
// The caller keeps that thread locked (runtime.LockOSThread) from Start to
// Wait, so "the thread dies" means "the manager dies": a manager killed
// with SIGKILL takes its daemon along. SIGKILL rather than SIGTERM because
// nothing is left to wait for a slow shutdown, and the journal survives a
// hard stop.
func prepareCmd(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// afterStart has nothing to do on Linux.
func afterStart(*exec.Cmd) error { return nil }

// terminate asks the daemon's process group to stop: SIGTERM, then SIGCONT
// so that a stopped (SIGSTOPped) daemon can act on it.
func terminate(p *os.Process) error {
	err := syscall.Kill(-p.Pid, syscall.SIGTERM)
	syscall.Kill(-p.Pid, syscall.SIGCONT)
	return err
}

// kill ends the daemon's process group at once.
func kill(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGKILL) }

// terminatePid sends SIGTERM (and SIGCONT) to one process, not its group.
func terminatePid(pid int) error {
	err := syscall.Kill(pid, syscall.SIGTERM)
	syscall.Kill(pid, syscall.SIGCONT)
	return err
}

// killPid sends SIGKILL to one process.
func killPid(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }
