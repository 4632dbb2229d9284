package supervisor

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	jobOnce sync.Once
	job     windows.Handle
	jobErr  error
)

// managerJob is a Job Object that kills every process in it when its last
// handle closes, i.e. when the manager exits in any way.
func managerJob() (windows.Handle, error) {
	jobOnce.Do(func() {
		job, jobErr = windows.CreateJobObject(nil, nil)
		if jobErr != nil {
			return
		}
		info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{}
		info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
		_, jobErr = windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
			uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)))
	})
	return job, jobErr
}

// prepareCmd starts the daemon in its own console process group, so that a
// CTRL_BREAK can be sent to it alone.
func prepareCmd(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP}
}

// afterStart puts the daemon into the manager's kill-on-close Job Object.
func afterStart(cmd *exec.Cmd) error {
	j, err := managerJob()
	if err != nil {
		return fmt.Errorf("create job object: %w", err)
	}
	h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(cmd.Process.Pid))
	if err != nil {
		return fmt.Errorf("open daemon process: %w", err)
	}
	defer windows.CloseHandle(h)
	return windows.AssignProcessToJobObject(j, h)
}

// terminate sends CTRL_BREAK to the daemon's process group (best effort:
// it needs a shared console); the caller kills after the stop timeout.
func terminate(p *os.Process) error { return terminatePid(p.Pid) }

// kill terminates the daemon.
func kill(p *os.Process) error { return p.Kill() }

// terminatePid sends CTRL_BREAK to pid's process group.
func terminatePid(pid int) error {
	return windows.GenerateConsoleCtrlEvent(windows.CTRL_BREAK_EVENT, uint32(pid))
}

// killPid terminates one process.
func killPid(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
