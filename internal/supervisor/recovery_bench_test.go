//go:build linux

package supervisor_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/managerstate"
	"github.com/mpm-dev/mpm/internal/testutil"
)

// Figures for the closing note, with the real mpm-wsd:
//
//	go test -run='^$' -bench=Recovery -benchtime=1x ./internal/supervisor/
//
// Each benchmark does its fixed amount of work once per b.N iteration and
// reports its figures with ReportMetric.

// untilHealthy polls /healthz until an mpm-wsd other than oldPid answers 200.
func untilHealthy(b *testing.B, addr string, oldPid int, timeout time.Duration) time.Duration {
	start := time.Now()
	for time.Since(start) < timeout {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		h, code, err := testutil.GetHealth(ctx, addr)
		cancel()
		if err == nil && code == 200 && h.Service == "mpm-wsd" && h.Pid != oldPid {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatalf("not healthy again within %v", timeout)
	return 0
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p)
	return s[i]
}

func kill9Recovery(b *testing.B, args ...string) {
	for b.Loop() {
		m := startManager(b, realWSD(b), append([]string{"--stable-after=1ns", "--crash-loop-count=1000"}, args...)...)
		pid := m.waitRunning().DaemonPID
		var times []time.Duration
		for i := 0; i < 20; i++ {
			syscall.Kill(pid, syscall.SIGKILL)
			times = append(times, untilHealthy(b, m.addr, pid, 30*time.Second))
			pid = m.waitRunning().DaemonPID
		}
		b.ReportMetric(percentile(times, 0.5).Seconds()*1000, "p50-ms")
		b.ReportMetric(percentile(times, 0.99).Seconds()*1000, "p99-ms")
		m.cmd.Process.Signal(syscall.SIGTERM)
		<-m.done
	}
}

// BenchmarkRecoveryKill9Default: kill -9 of the daemon to /healthz 200, 20
// kills, default backoff (1 s first delay, ±20 % jitter); --stable-after is
// tiny so that every kill is a "first failure" as after a long uptime.
func BenchmarkRecoveryKill9Default(b *testing.B) { kill9Recovery(b) }

// BenchmarkRecoveryKill9FastBackoff: the same with --backoff-min=10ms, to
// show the supervisor's own overhead (reap, probe port, spawn, ready).
func BenchmarkRecoveryKill9FastBackoff(b *testing.B) {
	kill9Recovery(b, "--backoff-min=10ms", "--backoff-max=10ms")
}

// BenchmarkRecoverySigstopShort: SIGSTOP of the daemon to a new daemon's
// /healthz 200 with --health-interval=1s --health-timeout=1s
// --health-failures=3 (measured). With the defaults (30 s, 5 s, 3) the
// detection alone takes between 2×30+3×5 = 75 s and 3×30+3×5 = 105 s, plus
// the stop (SIGTERM+SIGCONT, about the restart time below) and 1 s backoff.
func BenchmarkRecoverySigstopShort(b *testing.B) {
	for b.Loop() {
		m := startManager(b, realWSD(b), "--health-interval=1s", "--health-timeout=1s", "--health-failures=3", "--stop-timeout=2s")
		pid := m.waitRunning().DaemonPID
		syscall.Kill(pid, syscall.SIGSTOP)
		d := untilHealthy(b, m.addr, pid, 60*time.Second)
		b.ReportMetric(d.Seconds(), "sigstop-to-healthy-s")
		m.cmd.Process.Signal(syscall.SIGTERM)
		<-m.done
	}
}

// BenchmarkRecoveryIdle: the manager's own CPU and RSS over 10 s of idle
// supervision with the default health interval.
func BenchmarkRecoveryIdle(b *testing.B) {
	for b.Loop() {
		m := startManager(b, realWSD(b))
		m.waitState("healthy", 30*time.Second, func(s managerstate.State) bool { return s.Phase == managerstate.PhaseRunning })
		pid := m.cmd.Process.Pid
		t0, _ := cpuTicks(pid)
		time.Sleep(10 * time.Second)
		t1, _ := cpuTicks(pid)
		rss := rssKiB(pid)
		b.ReportMetric(float64(t1-t0)/100/10*100, "cpu-%")
		b.ReportMetric(float64(rss)/1024, "rss-MiB")
		m.cmd.Process.Signal(syscall.SIGTERM)
		<-m.done
	}
}

// cpuTicks is utime+stime of pid in clock ticks (USER_HZ, 100 on Linux).
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st, nil
}

func rssKiB(pid int) int64 {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			n, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return n
		}
	}
	return 0
}
