package svc

import (
	"fmt"
	"strings"
	"time"

	"github.com/mpm-dev/mpm/internal/managerstate"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/token"
)

// Report is what `mpm-manager status` shows; its JSON form is the
// --json output.
type Report struct {
	// Service is the OS service's state: "not installed", "stopped",
	// "running", "failed" (the service manager gave up) or "unknown".
	Service State `json:"service"`
	// ServiceName and Platform identify the OS service.
	ServiceName string `json:"service_name"`
	Platform    string `json:"platform"`
	// UserService is true when the per-user service is meant.
	UserService bool `json:"user_service"`
	// ServiceError explains an "unknown" service state.
	ServiceError string `json:"service_error,omitempty"`
	// ManagerRunning is true when the manager that wrote the state file is
	// alive (installed service or a foreground "run").
	ManagerRunning bool `json:"manager_running"`
	// Manager is the manager's state file, nil when none exists.
	Manager *managerstate.State `json:"manager,omitempty"`
	// ManagerError says why the state file could not be read.
	ManagerError string `json:"manager_error,omitempty"`
	// DaemonUptimeSeconds is the running daemon's uptime, 0 when none.
	DaemonUptimeSeconds float64 `json:"daemon_uptime_seconds"`
	// DashboardURL opens the dashboard with the token.
	DashboardURL string `json:"dashboard_url"`
	// TokenError says why the URL has no token.
	TokenError string `json:"token_error,omitempty"`
}

// BuildReport gathers the service state, the manager state file in
// dataDir and the dashboard URL for addr.
func BuildReport(s Spec, dataDir, addr string) Report {
	s = Resolve(s)
	r := Report{ServiceName: s.Name, Platform: Platform(), UserService: s.User}
	st, err := Status(s)
	r.Service = st
	if err != nil {
		r.ServiceError = err.Error()
	}
	if ms, err := managerstate.Read(dataDir); err == nil {
		r.Manager = &ms
		r.ManagerRunning = ms.ManagerAlive()
		if r.ManagerRunning && ms.DaemonPID > 0 && !ms.DaemonStarted.IsZero() {
			r.DaemonUptimeSeconds = time.Since(ms.DaemonStarted).Seconds()
		}
		if ms.Addr != "" {
			addr = ms.Addr
		}
	} else {
		r.ManagerError = err.Error()
	}
	r.DashboardURL = "http://" + addr + "/"
	if t, err := token.Read(paths.Token(dataDir)); err == nil {
		r.DashboardURL += "#token=" + t
	} else {
		r.TokenError = fmt.Sprintf("no token yet (%v): it appears when mpm-wsd first starts", err)
	}
	return r
}

// Exit codes of "mpm-manager status", as LSB init scripts and systemctl
// status have them.
const (
	// ExitRunning: mpm-wsd runs under a live manager.
	ExitRunning = 0
	// ExitNotRunning: not installed, stopped, failed, or the manager or the
	// daemon is not running.
	ExitNotRunning = 3
	// ExitUnknown: the state cannot be told (the service manager did not
	// answer, or the service runs but this data directory has no state).
	ExitUnknown = 4
)

// ExitCode is status's exit code for r.
func (r Report) ExitCode() int {
	switch {
	case r.ManagerRunning && r.Manager != nil && r.Manager.DaemonPID > 0:
		return ExitRunning
	case r.ManagerRunning:
		return ExitNotRunning // the manager waits (backoff, crash loop, busy port)
	case r.Service == Running && r.Manager == nil, r.Service == Unknown:
		return ExitUnknown
	}
	return ExitNotRunning
}

// Human renders r for a terminal.
func (r Report) Human() string {
	var b strings.Builder
	line := func(k, f string, a ...any) {
		if k != "" {
			k += ":"
		}
		fmt.Fprintf(&b, "%-14s %s\n", k, fmt.Sprintf(f, a...))
	}
	svc := string(r.Service)
	if r.ServiceError != "" {
		svc += " (" + r.ServiceError + ")"
	}
	kind := "system"
	if r.UserService {
		kind = "user"
	}
	platform := r.Platform
	if !Supported(platform) {
		platform = "this system, which has no service manager mpm-manager installs into"
	}
	line("service", "%s  [%s, %s service on %s]", svc, r.ServiceName, kind, platform)
	m := r.Manager
	switch {
	case m == nil:
		line("manager", "never ran with this data directory (%s)", r.ManagerError)
	case !r.ManagerRunning:
		line("manager", "not running (last seen pid %d at %s, phase %s)", m.ManagerPID, m.Updated.Format(time.RFC3339), m.Phase)
	default:
		line("manager", "running, pid %d, since %s", m.ManagerPID, m.ManagerStarted.Format(time.RFC3339))
	}
	if m != nil {
		if r.ManagerRunning {
			line("phase", "%s", m.Phase)
			if m.Message != "" {
				line("", "%s", m.Message)
			}
		}
		if r.ManagerRunning && m.DaemonPID > 0 {
			line("mpm-wsd", "pid %d, up %s", m.DaemonPID, (time.Duration(r.DaemonUptimeSeconds * float64(time.Second))).Round(time.Second))
		} else {
			line("mpm-wsd", "not running")
		}
		line("restarts", "%d", m.Restarts)
		if m.LastExit != "" {
			line("last exit", "%s (%s)", m.LastExit, m.LastExitAt.Format(time.RFC3339))
		}
		if h := m.LastHealth; h != nil {
			res := "ok"
			if !h.OK {
				res = fmt.Sprintf("FAILED (%d in a row): %s", h.ConsecutiveFailures, h.Detail)
			}
			line("last health", "%s at %s", res, h.At.Format(time.RFC3339))
		}
		if m.PortHolder != "" && m.Phase == managerstate.PhasePortBusy {
			line("port held by", "%s", m.PortHolder)
		}
		line("data dir", "%s", m.DataDir)
	}
	line("dashboard", "%s", r.DashboardURL)
	if r.TokenError != "" {
		line("", "%s", r.TokenError)
	}
	return b.String()
}
