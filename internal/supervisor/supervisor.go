package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mpm-dev/mpm/internal/managerstate"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/supervisor/procinfo"
	"github.com/mpm-dev/mpm/internal/token"
)

// readyPoll is how often a fresh daemon is probed until it first answers.
const readyPoll = 100 * time.Millisecond

// Supervisor keeps one mpm-wsd running. Create it with New and call Run.
type Supervisor struct {
	o      Options
	log    hclog.Logger
	wsdLog hclog.Logger

	// Everything below is owned by the goroutine in Run.
	st        managerstate.State
	gen       uint64
	cur       *child
	bo        backoff
	failures  []time.Time // unrequested ends within CrashLoopWindow
	stateErr  string      // last state-file error logged, to log it once
	announced bool        // the dashboard URL went to Options.Announce

	exits    chan exitEvent
	healthCh chan healthEvent
	killCh   chan uint64
	done     chan struct{}
}

// child is one daemon process, generation gen.
type child struct {
	gen     uint64
	cmd     *exec.Cmd
	pid     int
	started time.Time
	// healthy is true once it answered /healthz as our child.
	healthy bool
	// failures counts consecutive failed checks after the grace period.
	failures int
	// checking is true while a health check is in flight.
	checking bool
	// degraded is the store failure its last health check reported.
	degraded string
	// checkStarted is when the last health check started: the next one is
	// due HealthInterval after it, however long the check took.
	checkStarted time.Time
	// stopReason is set when the manager asked it to stop; its exit is
	// then expected.
	stopReason string
	killTimer  *time.Timer
}

type exitEvent struct {
	gen uint64
	err error
	ps  *os.ProcessState
}

type healthEvent struct {
	gen uint64
	err error
	at  time.Time
	// degraded is set when the child is healthy but its store cannot write.
	degraded string
}

// New checks o and returns a Supervisor.
func New(o Options) (*Supervisor, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Supervisor{
		o:        o,
		log:      o.Logger,
		wsdLog:   o.Logger.Named("wsd"),
		bo:       backoff{min: o.BackoffMin, max: o.BackoffMax},
		exits:    make(chan exitEvent),
		healthCh: make(chan healthEvent),
		killCh:   make(chan uint64),
		done:     make(chan struct{}),
	}, nil
}

// Run supervises until ctx is cancelled, then stops the daemon (SIGTERM,
// SIGKILL after StopTimeout) and returns once it is gone.
func (s *Supervisor) Run(ctx context.Context) error {
	defer close(s.done)
	now := time.Now()
	s.st = managerstate.State{
		ManagerPID:     os.Getpid(),
		ManagerStarted: now,
		Addr:           s.o.Addr,
		DataDir:        s.o.DataDir,
		WSDPath:        s.o.WSDPath,
	}
	s.log.Info("supervising mpm-wsd", "wsd", s.o.WSDPath, "addr", s.o.Addr, "data_dir", s.o.DataDir,
		"health_interval", s.o.HealthInterval, "health_failures", s.o.HealthFailures)

	var first time.Duration
	if prev, err := managerstate.Read(s.o.DataDir); err == nil {
		s.st.ManagerCrashes, first = managerRestartDelay(prev, os.Getpid(), now, s.o)
	}
	// Published at once, so that a manager that dies right away is
	// counted by the next one.
	s.st.Phase = managerstate.PhaseStarting
	if first > 0 {
		s.st.Phase = managerstate.PhaseBackoff
		s.st.NextStart = now.Add(first)
		s.st.Message = fmt.Sprintf("the previous %d managers ended unexpectedly soon after starting; waiting %s before starting mpm-wsd",
			s.st.ManagerCrashes, first.Round(10*time.Millisecond))
		s.log.Warn("earlier managers crashed; delaying the first start", "crashes", s.st.ManagerCrashes, "delay", first.Round(10*time.Millisecond))
	}
	s.publish()
	restart := time.NewTimer(first)
	health := time.NewTimer(time.Hour)
	health.Stop()
	defer restart.Stop()
	defer health.Stop()

	for {
		select {
		case <-ctx.Done():
			return s.shutdown()

		case <-restart.C:
			if s.cur != nil {
				continue
			}
			if d, ok := s.tryStart(ctx); ok {
				health.Reset(readyPoll)
			} else {
				restart.Reset(d)
			}

		case <-health.C:
			c := s.cur
			if c == nil || c.checking || c.stopReason != "" {
				continue
			}
			c.checking = true
			c.checkStarted = time.Now()
			go s.check(ctx, c.gen, c.pid)

		case ev := <-s.healthCh:
			c := s.cur
			if c == nil || c.gen != ev.gen {
				continue // a stale answer about an earlier daemon
			}
			c.checking = false
			if next, ok := s.onHealth(c, ev); ok {
				health.Reset(untilNextCheck(c.checkStarted, next, time.Now()))
			}

		case g := <-s.killCh:
			if c := s.cur; c != nil && c.gen == g {
				s.log.Warn("mpm-wsd did not stop within the stop timeout; killing it", "pid", c.pid, "timeout", s.o.StopTimeout)
				kill(c.cmd.Process)
			}

		case ev := <-s.exits:
			c := s.cur
			if c == nil || c.gen != ev.gen {
				continue
			}
			health.Stop()
			restart.Reset(s.onExit(c, ev))
		}
	}
}

// managerRestartDelay looks at the state left by the previous manager on
// this data directory. A manager that ended without stopping (killed,
// crashed) within StableAfter of its start counts as one more crash in a
// row; the first crash costs no delay, each further one doubles it from
// BackoffMin up to BackoffMax. So a service manager that restarts a
// crashing manager at once (systemd's RestartSec) never gives up, yet the
// restarts slow down. It returns the new count and the delay before the
// first daemon start.
func managerRestartDelay(prev managerstate.State, self int, now time.Time, o Options) (int, time.Duration) {
	if prev.Phase == managerstate.PhaseStopped || prev.ManagerPID <= 0 || prev.ManagerPID == self || prev.ManagerAlive() {
		return 0, 0
	}
	crashes := 1
	// Its own first-start delay does not count as time it ran.
	if now.Sub(prev.ManagerStarted) < o.StableAfter+crashDelay(prev.ManagerCrashes, o) {
		crashes = prev.ManagerCrashes + 1
	}
	return crashes, crashDelay(crashes, o)
}

// crashDelay is the first-start delay after crashes managers crashed in a
// row: none for the first, then BackoffMin doubling up to BackoffMax.
func crashDelay(crashes int, o Options) time.Duration {
	if crashes < 2 {
		return 0
	}
	d := o.BackoffMin
	for i := 2; i < crashes && d < o.BackoffMax; i++ {
		d *= 2
	}
	return min(d, o.BackoffMax)
}

// tryStart checks the address and starts a daemon. When it cannot, it
// returns the delay before the next try.
func (s *Supervisor) tryStart(ctx context.Context) (time.Duration, bool) {
	ps := probePort(ctx, s.o.Addr)
	if !ps.free && ps.wsdPid > 0 {
		if s.replaceOrphan(ctx, ps.wsdPid) {
			ps = probePort(ctx, s.o.Addr)
		}
	}
	if !ps.free {
		d := s.bo.next()
		s.st.Phase = managerstate.PhasePortBusy
		s.st.PortHolder = ps.holder
		s.st.NextStart = time.Now().Add(d)
		s.st.Message = fmt.Sprintf("%s is held by %s, which is not an mpm-wsd started by this manager; it is left alone. Stop it or give mpm another --addr. Next try in %s.",
			s.o.Addr, ps.holder, d.Round(100*time.Millisecond))
		s.log.Warn("address in use by another program", "addr", s.o.Addr, "holder", ps.holder, "retry_in", d.Round(100*time.Millisecond))
		s.publish()
		return d, false
	}
	s.st.PortHolder = ""
	if err := s.start(); err != nil {
		s.log.Error("cannot start mpm-wsd", "wsd", s.o.WSDPath, "error", err)
		return s.failed(fmt.Sprintf("could not start %s: %v (check --wsd)", s.o.WSDPath, err)), false
	}
	return 0, true
}

// replaceOrphan stops an mpm-wsd that is not our child (left by an earlier
// manager that was killed, or started by hand). Policy: replace, never
// adopt — an adopted daemon could not be waited for, its logs would not
// reach us, and it would not die with us. The pid is signalled only when
// the OS confirms its executable is named mpm-wsd. It reports whether it
// acted.
func (s *Supervisor) replaceOrphan(ctx context.Context, pid int) bool {
	name, err := procinfo.ExeName(pid)
	if err != nil || name != ServiceName {
		s.log.Warn("an mpm-wsd answers on the address but its pid cannot be confirmed as mpm-wsd; leaving it alone",
			"pid", pid, "exe", name, "error", err)
		return false
	}
	s.log.Warn("replacing an mpm-wsd that this manager did not start (left by an earlier manager?)", "pid", pid, "addr", s.o.Addr)
	s.st.Message = fmt.Sprintf("replacing mpm-wsd pid %d that this manager did not start", pid)
	s.publish()
	terminatePid(pid)
	deadline := time.Now().Add(s.o.StopTimeout)
	for procinfo.Alive(pid) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	if procinfo.Alive(pid) {
		if n, _ := procinfo.ExeName(pid); n == ServiceName {
			s.log.Warn("the old mpm-wsd ignored SIGTERM; killing it", "pid", pid)
			killPid(pid)
		}
	}
	// Wait for the port to come free (bounded).
	for i := 0; i < 40 && ctx.Err() == nil; i++ {
		if probePort(ctx, s.o.Addr).free {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// start spawns a new daemon generation.
func (s *Supervisor) start() error {
	s.gen++
	gen := s.gen
	cmd := exec.Command(s.o.WSDPath, s.o.ChildArgs()...)
	stdout := &logWriter{log: s.wsdLog, stream: "stdout"}
	stderr := &logWriter{log: s.wsdLog, stream: "stderr"}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = 2 * time.Second
	prepareCmd(cmd)

	started := make(chan error, 1)
	go func() {
		// Linux's Pdeathsig fires when the forking *thread* exits: keep
		// this goroutine on its thread until the child is reaped.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		if err := afterStart(cmd); err != nil {
			s.log.Warn("the daemon will not die with the manager", "error", err)
		}
		started <- nil
		err := cmd.Wait()
		stdout.Flush()
		stderr.Flush()
		select {
		case s.exits <- exitEvent{gen: gen, err: err, ps: cmd.ProcessState}:
		case <-s.done:
		}
	}()
	if err := <-started; err != nil {
		return err
	}
	now := time.Now()
	s.cur = &child{gen: gen, cmd: cmd, pid: cmd.Process.Pid, started: now}
	s.st.Starts++
	if s.st.Starts > 1 {
		s.st.Restarts++
	}
	s.st.Phase = managerstate.PhaseStarting
	s.st.Message = ""
	s.st.DaemonPID = s.cur.pid
	s.st.DaemonStarted = now
	s.st.NextStart = time.Time{}
	s.log.Info("started mpm-wsd", "pid", s.cur.pid, "generation", gen)
	s.publish()
	return nil
}

// check runs one health check off the loop and reports it back.
func (s *Supervisor) check(ctx context.Context, gen uint64, pid int) {
	degraded, err := checkHealth(ctx, s.o.Addr, s.o.HealthTimeout, pid)
	select {
	case s.healthCh <- healthEvent{gen: gen, err: err, at: time.Now(), degraded: degraded}:
	case <-s.done:
	}
}

// onHealth applies a health result to the current child; it returns the
// delay to the next check, or false when the child is being replaced.
func (s *Supervisor) onHealth(c *child, ev healthEvent) (time.Duration, bool) {
	if ev.err == nil {
		if !c.healthy {
			s.log.Info("mpm-wsd is healthy", "pid", c.pid, "after", time.Since(c.started).Round(time.Millisecond))
			s.announce()
		} else if c.failures > 0 {
			s.log.Info("mpm-wsd is healthy again", "pid", c.pid, "after_failures", c.failures)
		}
		c.healthy = true
		c.failures = 0
		s.st.Phase = managerstate.PhaseRunning
		s.st.Message = ""
		s.st.LastHealth = &managerstate.Health{OK: true, At: ev.at}
		// A store that cannot write (a full disk) is not cured by a
		// restart: say so once per change, keep it in the state, and
		// leave the daemon running (it serves history and answers 503).
		if ev.degraded != c.degraded {
			if ev.degraded != "" {
				s.log.Error("mpm-wsd cannot store events; not restarting it (a restart does not fix this)", "pid", c.pid, "store_error", ev.degraded)
			} else {
				s.log.Info("mpm-wsd stores events again", "pid", c.pid)
			}
			c.degraded = ev.degraded
		}
		if ev.degraded != "" {
			s.st.Message = "mpm-wsd cannot store events (not restarted: a restart does not help): " + ev.degraded
			s.st.LastHealth.Detail = "degraded: " + ev.degraded
		}
		s.publish()
		return s.o.HealthInterval, true
	}
	if !c.healthy && ev.at.Sub(c.started) < s.o.HealthGrace {
		// Still starting: not counted, probe again soon.
		return min(readyPoll, s.o.HealthInterval), true
	}
	c.failures++
	s.st.LastHealth = &managerstate.Health{OK: false, At: ev.at, Detail: ev.err.Error(), ConsecutiveFailures: c.failures}
	s.log.Warn("health check failed", "pid", c.pid, "failures", c.failures, "of", s.o.HealthFailures, "error", ev.err)
	if c.failures >= s.o.HealthFailures {
		s.stopChild(c, fmt.Sprintf("replaced after %d failed health checks (last: %v)", c.failures, ev.err))
		return 0, false
	}
	s.st.Phase = managerstate.PhaseUnhealthy
	s.publish()
	return s.o.HealthInterval, true
}

// untilNextCheck is the wait before the next health check when checks
// start every interval and the last one started at started: a slow check
// (up to HealthTimeout) does not stretch the period, so a hung daemon is
// replaced at most HealthFailures × HealthInterval + HealthTimeout after it
// hung.
func untilNextCheck(started time.Time, interval time.Duration, now time.Time) time.Duration {
	if d := started.Add(interval).Sub(now); d > 0 {
		return d
	}
	return 0
}

// stopChild asks c to stop (SIGTERM to its group) and arms the SIGKILL.
func (s *Supervisor) stopChild(c *child, reason string) {
	if c.stopReason != "" {
		return
	}
	c.stopReason = reason
	s.st.Phase = managerstate.PhaseStopping
	s.st.Message = reason
	if s.st.Phase == managerstate.PhaseStopping && strings.HasPrefix(reason, "stopped because") {
		s.log.Info("stopping mpm-wsd", "pid", c.pid, "reason", reason)
	} else {
		s.log.Warn("stopping mpm-wsd", "pid", c.pid, "reason", reason)
	}
	s.publish()
	terminate(c.cmd.Process)
	gen := c.gen
	c.killTimer = time.AfterFunc(s.o.StopTimeout, func() {
		select {
		case s.killCh <- gen:
		case <-s.done:
		}
	})
}

// onExit records the end of c and returns the delay before the next start.
func (s *Supervisor) onExit(c *child, ev exitEvent) time.Duration {
	s.cur = nil
	if c.killTimer != nil {
		c.killTimer.Stop()
	}
	up := time.Since(c.started)
	reason := describeExit(ev, c, up)
	s.st.LastExit = reason
	s.st.LastExitAt = time.Now()
	s.st.DaemonPID = 0
	s.st.DaemonStarted = time.Time{}
	if up >= s.o.StableAfter {
		s.bo.reset()
	}
	s.log.Warn("mpm-wsd ended", "pid", c.pid, "how", reason)
	return s.failed(reason)
}

// failed counts an unrequested end (or a failed start) toward the crash
// loop and returns the delay before the next start.
func (s *Supervisor) failed(reason string) time.Duration {
	now := time.Now()
	kept := s.failures[:0]
	for _, t := range s.failures {
		if now.Sub(t) < s.o.CrashLoopWindow {
			kept = append(kept, t)
		}
	}
	s.failures = append(kept, now)
	s.st.LastExit = reason
	s.st.LastExitAt = now
	var d time.Duration
	if len(s.failures) >= s.o.CrashLoopCount {
		d = s.o.CrashLoopCooldown
		s.failures = nil
		s.bo.reset()
		s.st.Phase = managerstate.PhaseCrashLoop
		s.st.Message = fmt.Sprintf("mpm-wsd failed %d times within %s; waiting %s before the next try (last: %s). See the log lines above for why.",
			s.o.CrashLoopCount, s.o.CrashLoopWindow, s.o.CrashLoopCooldown, reason)
		s.log.Error("crash loop: pausing restarts", "failures", s.o.CrashLoopCount, "window", s.o.CrashLoopWindow,
			"cooldown", s.o.CrashLoopCooldown, "last", reason)
	} else {
		d = s.bo.next()
		s.st.Phase = managerstate.PhaseBackoff
		s.st.Message = fmt.Sprintf("restarting in %s", d.Round(10*time.Millisecond))
		s.log.Info("restarting mpm-wsd after a delay", "delay", d.Round(10*time.Millisecond))
	}
	s.st.NextStart = now.Add(d)
	s.publish()
	return d
}

// describeExit turns an exit into one phrase for logs and status.
func describeExit(ev exitEvent, c *child, up time.Duration) string {
	how := "ended"
	if ev.ps != nil {
		how = ev.ps.String() // "exit status 1", "signal: killed"
		switch ev.ps.ExitCode() {
		case 1:
			how += " (runtime error)"
		case 2:
			how += " (bad flags: check --wsd-arg)"
		case 3:
			how += " (its address was in use)"
		}
	} else if ev.err != nil {
		how = ev.err.Error()
	}
	if c.stopReason != "" {
		how = c.stopReason + "; " + how
	}
	return fmt.Sprintf("%s after %s", how, up.Round(10*time.Millisecond))
}

// shutdown stops the current daemon, bounded by StopTimeout plus the
// reaping time, and marks the state stopped.
func (s *Supervisor) shutdown() error {
	var err error
	if c := s.cur; c != nil {
		s.stopChild(c, "stopped because the manager is stopping")
		hard := time.NewTimer(s.o.StopTimeout + 5*time.Second)
		defer hard.Stop()
	wait:
		for {
			select {
			case ev := <-s.exits:
				if ev.gen == c.gen {
					if c.killTimer != nil {
						c.killTimer.Stop()
					}
					s.st.LastExit = describeExit(ev, c, time.Since(c.started))
					s.st.LastExitAt = time.Now()
					break wait
				}
			case g := <-s.killCh:
				if g == c.gen {
					s.log.Warn("mpm-wsd did not stop within the stop timeout; killing it", "pid", c.pid)
					kill(c.cmd.Process)
				}
			case <-s.healthCh:
			case <-hard.C:
				err = errors.New("mpm-wsd could not be reaped after SIGKILL")
				break wait
			}
		}
		s.cur = nil
	}
	s.st.Phase = managerstate.PhaseStopped
	s.st.Message = "the manager has stopped"
	s.st.DaemonPID = 0
	s.st.DaemonStarted = time.Time{}
	s.st.NextStart = time.Time{}
	s.publish()
	s.log.Info("manager stopped")
	return err
}

// announce writes the dashboard URL with the token on a line of its own
// to Options.Announce (a terminal), once per manager: never to the log.
func (s *Supervisor) announce() {
	if s.o.Announce == nil || s.announced {
		return
	}
	t, err := token.Read(paths.Token(s.o.DataDir))
	if err != nil {
		return
	}
	s.announced = true
	fmt.Fprintf(s.o.Announce, "\nDashboard: http://%s/#token=%s\n\n", s.o.Addr, t)
}

// publish writes the state file; a failure is logged once per message.
func (s *Supervisor) publish() {
	if err := managerstate.Write(s.o.DataDir, s.st); err != nil {
		if msg := err.Error(); msg != s.stateErr {
			s.stateErr = msg
			s.log.Error("cannot write the manager state file; status will be stale", "error", err)
		}
		return
	}
	s.stateErr = ""
}

// Summary is a one-line description of a state for humans.
func Summary(st managerstate.State) string {
	var b strings.Builder
	b.WriteString(string(st.Phase))
	if st.DaemonPID > 0 {
		fmt.Fprintf(&b, ", mpm-wsd pid %d", st.DaemonPID)
	}
	if st.Message != "" {
		b.WriteString(": " + st.Message)
	}
	return b.String()
}
