package verify

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/mpm-dev/mpm/internal/managerstate"
	"github.com/mpm-dev/mpm/internal/svc"
)

// checkManager is check 6: the OS service, the manager's state file (is it
// alive, what phase, how many daemon restarts, the last exit), and whether
// the daemon that answers is the manager's child.
func checkManager(ctx context.Context, st *state) Result {
	res := Result{Name: "manager"}
	var svcNotes []string
	installed, svcRunning, svcFailed, userFlag := false, false, false, ""
	if st.cfg.Service != nil {
		for _, s := range st.cfg.Service(ctx) {
			note := fmt.Sprintf("service %s: %s", s.Name, s.State)
			if s.Err != nil && (s.State == "unknown" || s.State == "failed") {
				note += fmt.Sprintf(" (%v)", s.Err)
			}
			svcNotes = append(svcNotes, note)
			if s.State == "running" || s.State == "stopped" || s.State == "failed" {
				installed = true
				if s.User {
					userFlag = " --user"
				}
			}
			if s.State == "running" {
				svcRunning = true
			}
			if s.State == "failed" {
				svcFailed = true
			}
		}
	}

	ms, err := managerstate.Read(st.cfg.DataDir)
	if errors.Is(err, fs.ErrNotExist) {
		res.Status = Warn
		res.Detail = sentences(append(svcNotes, fmt.Sprintf("no manager state in %s: no mpm-manager ever supervised this data directory, so mpm-wsd is run by hand and nothing restarts it when it dies", st.cfg.DataDir))...)
		res.Fix = "install the manager as a service: " + svc.InstallHint()
		if svcFailed {
			res.Status = Fail
			res.Fix = "the service manager gave up restarting mpm: mpm-manager start" + userFlag + " (it resets the failed state)"
		}
		return res
	}
	if err != nil {
		res.Status = Warn
		res.Detail = sentences(append(svcNotes, fmt.Sprintf("cannot read the manager state %s: %v", managerstate.Path(st.cfg.DataDir), err))...)
		res.Fix = "mpm-manager restart (it rewrites the file)"
		return res
	}

	var parts []string
	parts = append(parts, svcNotes...)
	alive := ms.ManagerAlive()
	if !alive {
		parts = append(parts, fmt.Sprintf("mpm-manager (pid %d) is not running; its last state was %q at %s", ms.ManagerPID, ms.Phase, ms.Updated.Format(time.RFC3339)))
		res.Detail = sentences(append(parts, restartsText(ms))...)
		switch {
		case svcFailed:
			res.Fix = "the service manager gave up restarting mpm: mpm-manager start" + userFlag + " (it resets the failed state)"
		case installed && !svcRunning:
			res.Fix = "start the service: mpm-manager start" + userFlag
		case installed:
			res.Fix = "the service runs but its manager is gone: mpm-manager restart" + userFlag
		default:
			res.Fix = "install and start the manager: " + svc.InstallHint()
		}
		if st.health != nil {
			res.Status = Warn
			res.Detail += "; the daemon runs without supervision"
		} else {
			res.Status = Fail
		}
		return res
	}
	mode := "as a service"
	if st.cfg.Service != nil && !svcRunning {
		mode = "in the foreground (mpm-manager run)"
	}
	if st.cfg.Service == nil {
		mode = ""
	}
	parts = append(parts, strings.TrimSpace(fmt.Sprintf("mpm-manager pid %d runs %s, phase %s", ms.ManagerPID, mode, ms.Phase)))
	if ms.Message != "" {
		parts = append(parts, ms.Message)
	}
	if ms.DaemonPID > 0 {
		parts = append(parts, fmt.Sprintf("daemon pid %d", ms.DaemonPID))
	}
	parts = append(parts, restartsText(ms))
	res.Status = OK
	switch ms.Phase {
	case managerstate.PhasePortBusy:
		res.Status = Fail
		if ms.PortHolder != "" {
			parts = append(parts, "the port is held by "+ms.PortHolder)
		}
		res.Fix = strangerFix(ms.Addr, ms.PortHolder)
	case managerstate.PhaseCrashLoop:
		res.Status = Fail
		res.Fix = "mpm-wsd keeps crashing: read its last lines in the manager's log (mpm-manager status shows where), fix the cause, then mpm-manager restart"
	case managerstate.PhaseUnhealthy, managerstate.PhaseBackoff, managerstate.PhaseStarting, managerstate.PhaseStopping:
		if st.health == nil {
			res.Status = Fail
			res.Fix = "the manager is restarting the daemon: wait a few seconds and run mpm-verify again; if this repeats, mpm-manager status and its log say why"
		} else {
			res.Status = Warn
		}
	}
	if h := st.health; h != nil && ms.DaemonPID > 0 && h.Pid != ms.DaemonPID && res.Status == OK {
		res.Status = Warn
		parts = append(parts, fmt.Sprintf("but the daemon answering on %s is pid %d, not the manager's child", st.cfg.Addr, h.Pid))
		res.Fix = "stop the mpm-wsd you started by hand (kill " + fmt.Sprint(h.Pid) + ") so the manager's daemon can take the port"
	}
	if ms.Addr != "" && ms.Addr != st.cfg.Addr {
		if res.Status == OK {
			res.Status = Warn
		}
		parts = append(parts, fmt.Sprintf("the manager runs the daemon on %s, but mpm-verify checked %s", ms.Addr, st.cfg.Addr))
		if res.Fix == "" {
			res.Fix = fmt.Sprintf("use one address everywhere: export MPM_ADDR=%s (or mpm-manager install --addr %s)", ms.Addr, st.cfg.Addr)
		}
	}
	res.Detail = sentences(parts...)
	return res
}

func restartsText(ms managerstate.State) string {
	s := fmt.Sprintf("%d daemon %s", ms.Restarts, plural(ms.Restarts, "restart", "restarts"))
	if ms.LastExit != "" {
		s += fmt.Sprintf(", last exit: %s", ms.LastExit)
		if !ms.LastExitAt.IsZero() {
			s += " at " + ms.LastExitAt.Format(time.RFC3339)
		}
	}
	return s
}
