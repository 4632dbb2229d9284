package verify

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/mpm-dev/mpm/internal/svc"
)

// SystemService asks the OS service manager about mpm-manager's service,
// system-wide and (on systemd and launchd) per user, each within ctx.
// It reports only the services that are installed, or a single "not
// installed" entry when neither is.
func SystemService(ctx context.Context) []ServiceState {
	platform := svc.Platform()
	if platform == "" {
		return []ServiceState{{Name: "(no service manager on this system)", State: "not installed"}}
	}
	home, _ := os.UserHomeDir()
	exe := "mpm-manager"
	if self, err := os.Executable(); err == nil {
		exe = filepath.Join(filepath.Dir(self), "mpm-manager")
	}
	name := svc.DefaultName(runtime.GOOS)
	specs := []svc.Spec{{Name: name, Exe: exe, Home: home}}
	if platform == "linux-systemd" || strings.HasPrefix(platform, "darwin") {
		specs = append(specs, svc.Spec{Name: name, User: true, Exe: exe, Home: home})
	}
	var out []ServiceState
	for _, s := range specs {
		label := name + " (" + platform + ", system)"
		if s.User {
			label = name + " (" + platform + ", user)"
		}
		st := statusWithin(ctx, s)
		st.Name, st.User = label, s.User
		if st.State != string(svc.NotInstalled) {
			out = append(out, st)
		}
	}
	if len(out) == 0 {
		out = append(out, ServiceState{Name: name + " (" + platform + ")", State: string(svc.NotInstalled)})
	}
	return out
}

// statusWithin runs svc.Status, giving up when ctx ends (a hung
// systemctl or launchctl must not hang mpm-verify).
func statusWithin(ctx context.Context, s svc.Spec) ServiceState {
	ch := make(chan ServiceState, 1)
	go func() {
		st, err := svc.Status(s)
		ch <- ServiceState{State: string(st), Err: err}
	}()
	select {
	case st := <-ch:
		return st
	case <-ctx.Done():
		return ServiceState{State: string(svc.Unknown), Err: errors.New("the service manager did not answer in time")}
	}
}
