//go:build linux

package svc

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// prelude are shell helpers for the scripts run in the container.
const prelude = `
set -u
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f\n", b - a }'; }
# healthy ADDR [NOTPID]: wait (90 s at most) until /healthz on ADDR answers
# ok from a pid other than NOTPID; print that pid.
healthy() {
  local a=$1 not=${2:-0} end=$(( $(date +%s) + 90 )) p
  while [ "$(date +%s)" -lt "$end" ]; do
    p=$(curl -fsS --max-time 2 "http://$a/healthz" 2>/dev/null | grep '"ok":true' | grep -o '"pid":[0-9]*' | cut -d: -f2)
    if [ -n "$p" ] && [ "$p" != "$not" ]; then echo "$p"; return 0; fi
    sleep 0.05
  done
  echo "no healthy mpm-wsd on $a after 90s" >&2; return 1
}
# mainpid UNIT [NOTPID] [--user-of USER]: wait until the unit has a main pid other than NOTPID; print it.
mainpid() {
  local u=$1 not=${2:-0} end=$(( $(date +%s) + 90 )) p
  while [ "$(date +%s)" -lt "$end" ]; do
    p=$(systemctl show -p MainPID --value "$u")
    if [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$not" ]; then echo "$p"; return 0; fi
    sleep 0.02
  done
  echo "no new main pid for $u after 90s" >&2; return 1
}
as() { local u=$1; shift; runuser -u "$u" -- env HOME="/home/$u" USER="$u" LOGNAME="$u" "$@"; }
`

// TestRealSystemd installs mpm-manager into a real systemd 252 (Debian
// bookworm booted with systemd-nspawn) and checks what the unit tests
// cannot: install → healthy, recovery from kill -9 of the daemon and of
// the manager, repeated manager crashes that never leave the unit failed,
// --run-as with and without --data-dir, a --user service with linger, a
// reboot, a clean uninstall, and a journal that never holds the token. It
// logs the recovery times (docs/benchmarks.md) and systemd-analyze
// security's score of the unit.
func TestRealSystemd(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a container: not with -short")
	}
	mgr := testutil.Binary(t, "mpm-manager")
	wsd := testutil.Binary(t, "mpm-wsd")
	m := newMachine(t, mgr, wsd)
	m.must("useradd -m -s /bin/bash alice && useradd -m -s /bin/bash bob")
	var figures []string
	figure := func(what string, secs float64) {
		figures = append(figures, fmt.Sprintf("%-58s %6.2f s", what, secs))
		t.Logf("figure: %s: %.2f s", what, secs)
	}
	noToken := func(when string) {
		t.Helper()
		// Every token any of the installs made, and any URL with one.
		out := m.must(`cat /root/.local/state/mpm/token /home/*/.local/state/mpm/token /srv/*/token 2>/dev/null || true`)
		journal := m.must("journalctl --no-pager -q -o cat")
		for _, tok := range strings.Fields(out) {
			if strings.Contains(journal, tok) {
				t.Fatalf("%s: the journal holds the token %s…", when, tok[:8])
			}
		}
		if regexp.MustCompile(`#token=[0-9a-f]`).MatchString(journal) {
			t.Fatalf("%s: the journal holds a dashboard URL with a token", when)
		}
		if !strings.Contains(journal, "mpm-manager") {
			t.Fatalf("%s: the journal has no line of mpm-manager at all; the check would prove nothing:\n%s", when, tail(journal, 20))
		}
	}

	// 1. A plain system install as root: it warns that the daemon runs
	// as root, starts, and says so only once mpm-wsd answers.
	out := m.must(prelude + `t0=$(now); mpm-manager install; since $t0`)
	for _, w := range []string{"runs mpm-wsd as root", "answers on 127.0.0.1:8765", "wrote /etc/systemd/system/mpm.service"} {
		if !strings.Contains(out, w) {
			t.Errorf("install output lacks %q:\n%s", w, out)
		}
	}
	figure("mpm-manager install → returns with mpm-wsd answering", lastFloat(t, out))
	if code, out := m.code("mpm-manager status"); code != 0 || !strings.Contains(out, "#token=") {
		t.Errorf("status after install: exit %d, want 0 and the dashboard URL:\n%s", code, out)
	}
	score := m.must("systemd-analyze security --no-pager mpm.service | tail -1")
	t.Logf("figure: systemd-analyze security mpm.service (system, root): %s", strings.TrimSpace(score))

	// 2. kill -9 of the daemon: the manager restarts it.
	figure("kill -9 mpm-wsd → /healthz answers from a new pid", m.seconds(prelude+`
		p=$(healthy 127.0.0.1:8765); t0=$(now); kill -9 "$p"; healthy 127.0.0.1:8765 "$p" >/dev/null; since $t0`))

	// 3. kill -9 of the manager: systemd restarts it, its daemon died with
	// it (no orphan), the new manager starts a new one.
	figure("kill -9 mpm-manager → /healthz answers from a new pid", m.seconds(prelude+`
		dp=$(healthy 127.0.0.1:8765); mp=$(mainpid mpm.service)
		t0=$(now); kill -9 "$mp"; healthy 127.0.0.1:8765 "$dp" >/dev/null; d=$(since $t0)
		if kill -0 "$dp" 2>/dev/null; then echo "the old mpm-wsd $dp survived its manager" >&2; exit 1; fi
		echo $d`))

	// 4. Four more manager crashes in a row (five with step 3), each soon after systemd restarted
	// it (once it has published its state): the unit never becomes failed
	// (systemd's start limit once left it so for good), each new manager
	// waits longer before starting mpm-wsd, and mpm comes back by itself.
	out = m.must(prelude + `
		st=/root/.local/state/mpm/manager-state.json
		published() { local end=$(( $(date +%s) + 30 )); until grep -q "\"manager_pid\": $1," $st; do [ "$(date +%s)" -lt $end ] || return 1; sleep 0.02; done; }
		mp=$(mainpid mpm.service)
		for i in 1 2 3; do published "$mp"; kill -9 "$mp"; mp=$(mainpid mpm.service "$mp"); done
		published "$mp"; t0=$(now); kill -9 "$mp"
		healthy 127.0.0.1:8765 >/dev/null
		d=$(since $t0)
		systemctl is-failed mpm.service || true
		grep -o '"manager_crashes": [0-9]*' $st || echo '"manager_crashes": 0'
		echo $d`)
	if !regexp.MustCompile(`(?m)^active$`).MatchString(out) {
		t.Errorf("the unit is not active after repeated manager crashes:\n%s", out)
	}
	crashes := 0
	if n := regexp.MustCompile(`"manager_crashes": (\d+)`).FindStringSubmatch(out); n != nil {
		crashes, _ = strconv.Atoi(n[1])
	}
	if crashes < 4 {
		t.Errorf("the manager counted %d crashes of its predecessors, want 5:\n%s", crashes, out)
	}
	figure(fmt.Sprintf("manager kill -9, %d in a row → /healthz answers", crashes), lastFloat(t, out))
	noToken("system service")

	// 4b. A unit systemd did put in "failed" (a start limit, as older
	// versions of the unit had): status says so and what to run; start
	// resets it and brings mpm back.
	m.must(prelude + `mkdir -p /etc/systemd/system/mpm.service.d
		printf '[Unit]\nStartLimitIntervalSec=300\nStartLimitBurst=1\n' > /etc/systemd/system/mpm.service.d/limit.conf
		systemctl daemon-reload
		mp=$(mainpid mpm.service); kill -9 $mp; mp=$(mainpid mpm.service $mp); kill -9 $mp
		end=$(( $(date +%s) + 30 )); until systemctl is-failed -q mpm.service; do [ "$(date +%s)" -lt $end ] || exit 1; sleep 0.1; done`)
	code, out := m.code("mpm-manager status")
	if code != ExitNotRunning || !strings.Contains(out, "failed") || !strings.Contains(out, `run "mpm-manager start"`) {
		t.Errorf("status of a failed unit: exit %d, want 3 and what to run:\n%s", code, out)
	}
	out = m.must(prelude + "mpm-manager start && healthy 127.0.0.1:8765 >/dev/null && rm -r /etc/systemd/system/mpm.service.d && systemctl daemon-reload")
	if !strings.Contains(out, "failed state; reset it") {
		t.Errorf("start of a failed unit does not say it reset it:\n%s", out)
	}

	// 5. Uninstall leaves nothing: no unit, no enablement, no process.
	m.must("mpm-manager uninstall")
	leftovers(t, m, "/etc/systemd/system/mpm.service")

	// 5b. A daemon that cannot start: install never says "started"; it
	// says what the manager saw and where the log is, and exits non-zero.
	code, out = m.code("mpm-manager install --wsd-arg=--no-such-flag")
	if code == 0 || strings.Contains(out, "started service") || !strings.Contains(out, "bad flags") || !strings.Contains(out, "journalctl -u mpm.service") {
		t.Errorf("install of a daemon that cannot start: exit %d, want a failure that says why and where the log is:\n%s", code, out)
	}
	m.must("mpm-manager uninstall")
	leftovers(t, m, "/etc/systemd/system/mpm.service")

	// 6. --run-as alice without --data-dir: alice's own data directory,
	// created for her.
	out = m.must("mpm-manager install --run-as alice && stat -c '%U %a' /home/alice/.local/state/mpm /home/alice/.local && ps -o user= -C mpm-wsd")
	if !strings.Contains(out, "alice 700\nalice 700") || !strings.Contains(out, "\nalice") || strings.Contains(out, "/root/") {
		t.Errorf("--run-as alice without --data-dir:\n%s", out)
	}
	m.must("mpm-manager uninstall")
	leftovers(t, m, "/etc/systemd/system/mpm.service")

	// 7. --run-as alice --data-dir /srv/mpm-alice: outside any home, made
	// writable in the sandbox. It stays for the reboot.
	out = m.must("mpm-manager install --run-as alice --data-dir /srv/mpm-alice && stat -c '%U' /srv/mpm-alice && mpm-manager status --data-dir /srv/mpm-alice")
	if !strings.Contains(out, "alice\n") || !strings.Contains(out, "pid ") {
		t.Errorf("--run-as alice --data-dir:\n%s", out)
	}
	score = m.must("systemd-analyze security --no-pager mpm.service | tail -1")
	t.Logf("figure: systemd-analyze security mpm.service (system, --run-as alice): %s", strings.TrimSpace(score))

	// 8. A --user service. Without a user manager it fails with a hint
	// and leaves nothing; with linger it installs and runs; status and
	// stop find it without --user.
	code, out = m.code(prelude + "as bob mpm-manager install --user --addr 127.0.0.1:8766")
	if code == 0 || !strings.Contains(out, "loginctl enable-linger") || strings.Contains(out, "use --user") {
		t.Errorf("install --user without a user manager: exit %d, want a failure with the linger hint:\n%s", code, out)
	}
	noFiles(t, m, "/home/bob/.config/systemd/user/mpm.service", "/home/bob/.local")
	m.must(prelude + `loginctl enable-linger bob; end=$(( $(date +%s) + 30 ))
		until [ -S /run/user/$(id -u bob)/systemd/private ]; do [ "$(date +%s)" -lt $end ] || exit 1; sleep 0.1; done`)
	out = m.must(prelude + "as bob mpm-manager install --user --addr 127.0.0.1:8766 && as bob mpm-manager status")
	if !strings.Contains(out, "answers on 127.0.0.1:8766") || !strings.Contains(out, "user service") {
		t.Errorf("install --user with linger:\n%s", out)
	}
	noToken("system and user services")

	// 9. Reboot: both come back by themselves.
	m.poweroff()
	start := time.Now()
	m.boot()
	m.must(prelude + "healthy 127.0.0.1:8765 >/dev/null && healthy 127.0.0.1:8766 >/dev/null")
	figure("boot of the container → both services answer", time.Since(start).Seconds())
	if code, out := m.code(prelude + "as bob mpm-manager status"); code != 0 {
		t.Errorf("bob's status after the reboot: exit %d\n%s", code, out)
	}
	noToken("after the reboot")

	// 10. Uninstall both: nothing left.
	m.must(prelude + "mpm-manager uninstall && as bob mpm-manager uninstall")
	leftovers(t, m, "/etc/systemd/system/mpm.service", "/home/bob/.config/systemd/user/mpm.service")
	if code, out := m.code("mpm-manager status --data-dir /srv/mpm-alice"); code != 3 {
		t.Errorf("status after uninstall: exit %d, want 3 (not running)\n%s", code, out)
	}
	t.Logf("recovery times under a real systemd 252 (%s):\n%s", time.Now().UTC().Format("2006-01-02"), strings.Join(figures, "\n"))
}

// leftovers fails when any of files exist or any mpm unit or process is
// left in the container.
func leftovers(t *testing.T, m *machine, files ...string) {
	t.Helper()
	noFiles(t, m, files...)
	// A unit systemd has no file for shows as "not-found inactive dead"
	// until it is garbage-collected: that is gone.
	out, _ := m.sh(`find /etc/systemd /home/*/.config/systemd -name 'mpm*' 2>/dev/null
		pgrep -a -f '^/usr/local/bin/mpm-(wsd|manager)'
		systemctl list-units --all --no-legend 'mpm*' | grep -v 'not-found inactive dead'
		systemctl list-unit-files --no-legend 'mpm*'`)
	if strings.TrimSpace(out) != "" {
		t.Errorf("left behind:\n%s", out)
	}
}

// noFiles fails when any of files exist in the container.
func noFiles(t *testing.T, m *machine, files ...string) {
	t.Helper()
	for _, f := range files {
		if code, _ := m.code("test -e " + f); code == 0 {
			t.Errorf("%s is left behind", f)
		}
	}
}

// lastFloat is the number on out's last line.
func lastFloat(t *testing.T, out string) float64 {
	t.Helper()
	l := strings.Split(strings.TrimSpace(out), "\n")
	var f float64
	if _, err := fmt.Sscanf(strings.TrimSpace(l[len(l)-1]), "%f", &f); err != nil {
		t.Fatalf("no number on the last line of:\n%s", out)
	}
	return f
}
