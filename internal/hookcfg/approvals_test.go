package hookcfg

import (
	"fmt"
	"strings"
	"testing"
)

// TestInstallApprovals: --approvals turns PermissionRequest into a waiting
// command hook whose Claude Code timeout is above mpm's wait; every other
// event stays as it was; a plain install puts the async monitoring entry
// back; uninstall removes it.
func TestInstallApprovals(t *testing.T) {
	for _, mode := range []string{"command", "http"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t)
			path := e.write(ScopeUser, othersHooks, 0o644)
			code, out, errs := e.run("install", "--mode", mode, "--approvals", "--approval-timeout", "90s")
			if code != 0 || !strings.Contains(out, "wait up to 1m30s") {
				t.Fatalf("install --approvals: %d %s %s", code, out, errs)
			}
			got := ours(t, readFile(t, path), e.opts.Executable)
			pr := got["PermissionRequest"]
			if len(pr) != 1 || pr[0]["type"] != "command" || pr[0]["async"] != false || fmt.Sprint(pr[0]["timeout"]) != "120" ||
				pr[0]["command"] != "MPM_HOOK_APPROVAL_WAIT=90s "+e.opts.Executable {
				t.Errorf("PermissionRequest entry %v", pr)
			}
			if pre := got["PreToolUse"]; len(pre) != 1 || (mode == "command" && pre[0]["async"] != true) || (mode == "http" && pre[0]["type"] != "http") {
				t.Errorf("PreToolUse entry %v", pre)
			}
			if code, out, _ := e.run("install", "--mode", mode, "--approvals", "--approval-timeout", "90s"); code != 0 || !strings.Contains(out, "Nothing to change") {
				t.Errorf("repeated install --approvals: %d %s", code, out)
			}
			// status does not flag the waiting entry as a hook that is not async.
			if code, out, errs := e.run("status"); strings.Contains(out+errs, "not async") {
				t.Errorf("status flags the approval entry: %d %s %s", code, out, errs)
			}
			// Without --approvals: monitoring only again.
			if code, out, errs := e.run("install", "--mode", mode); code != 0 {
				t.Fatalf("install: %d %s %s", code, out, errs)
			}
			pr = ours(t, readFile(t, path), e.opts.Executable)["PermissionRequest"]
			if len(pr) != 1 || strings.Contains(fmt.Sprint(pr[0]["command"], pr[0]["url"]), "APPROVAL") || (mode == "command" && pr[0]["async"] != true) {
				t.Errorf("PermissionRequest after a plain install %v", pr)
			}
			e.run("install", "--mode", mode, "--approvals")
			if code, out, errs := e.run("uninstall"); code != 0 {
				t.Fatalf("uninstall: %d %s %s", code, out, errs)
			}
			if left := ours(t, readFile(t, path), e.opts.Executable); len(left) != 0 {
				t.Errorf("uninstall left %v", left)
			}
		})
	}
}

func TestInstallApprovalsBadFlags(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{
		{"install", "--approvals", "--approval-timeout", "0s"},
		{"install", "--approvals", "--approval-timeout", "2h"},
		{"install", "--approvals", "--events", "PreToolUse"},
	} {
		if code, out, errs := e.run(args...); code != 2 || errs == "" {
			t.Errorf("%v: %d %q %q, want 2 with a message", args, code, out, errs)
		}
	}
}
