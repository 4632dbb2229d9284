// Package supervisor runs mpm-wsd as a child process and keeps it alive:
// restart with backoff on exit, periodic /healthz checks that replace a
// hung daemon, a cool-down when it crash-loops, and a state file that says
// what is going on. One goroutine (Run's) owns all of the child's state;
// every event from elsewhere (exit, health result, kill timer) carries the
// child's generation so a stale one never acts on a newer child.
package supervisor

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Options configures a Supervisor. Zero durations and counts take the
// defaults from Defaults.
type Options struct {
	// WSDPath is the mpm-wsd executable to run.
	WSDPath string
	// Addr is the daemon's host:port, passed as --addr.
	Addr string
	// DataDir is the daemon's data directory, passed as --data-dir; the
	// state file goes there too.
	DataDir string
	// LogLevel is passed to the daemon as --log-level.
	LogLevel string
	// WSDArgs are extra flags appended to the daemon's command line.
	WSDArgs []string

	// HealthInterval is the time between the starts of two health checks
	// (a check that takes HealthTimeout does not stretch it).
	HealthInterval time.Duration
	// HealthTimeout bounds each health check.
	HealthTimeout time.Duration
	// HealthFailures is how many consecutive failed checks replace the
	// daemon.
	HealthFailures int
	// HealthGrace is how long after a start failed checks are not counted
	// (until the daemon has answered once).
	HealthGrace time.Duration

	// StopTimeout is how long a daemon gets after SIGTERM before SIGKILL.
	StopTimeout time.Duration

	// BackoffMin is the first restart delay; it doubles up to BackoffMax.
	BackoffMin time.Duration
	// BackoffMax caps the restart delay.
	BackoffMax time.Duration
	// StableAfter: a daemon that ran this long resets the backoff.
	StableAfter time.Duration

	// CrashLoopCount failures within CrashLoopWindow make a crash loop.
	CrashLoopCount int
	// CrashLoopWindow is the window in which failures are counted.
	CrashLoopWindow time.Duration
	// CrashLoopCooldown is how long the manager waits after a crash loop.
	CrashLoopCooldown time.Duration

	// Logger receives the manager's logs; the daemon's lines go to its
	// Named("wsd") child. Nil means hclog's default.
	Logger hclog.Logger
	// Announce, when set (a terminal), gets the dashboard URL with the
	// token on a line of its own once the daemon first answers. The log
	// never gets the token.
	Announce io.Writer
}

// Defaults are the values used for zero fields.
var Defaults = Options{
	HealthInterval:    30 * time.Second,
	HealthTimeout:     5 * time.Second,
	HealthFailures:    3,
	HealthGrace:       20 * time.Second,
	StopTimeout:       10 * time.Second,
	BackoffMin:        time.Second,
	BackoffMax:        60 * time.Second,
	StableAfter:       60 * time.Second,
	CrashLoopCount:    5,
	CrashLoopWindow:   2 * time.Minute,
	CrashLoopCooldown: 5 * time.Minute,
}

// withDefaults fills zero fields and checks the rest.
func (o Options) withDefaults() (Options, error) {
	d := Defaults
	dur := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	dur(&o.HealthInterval, d.HealthInterval)
	dur(&o.HealthTimeout, d.HealthTimeout)
	dur(&o.HealthGrace, d.HealthGrace)
	dur(&o.StopTimeout, d.StopTimeout)
	dur(&o.BackoffMin, d.BackoffMin)
	dur(&o.BackoffMax, d.BackoffMax)
	dur(&o.StableAfter, d.StableAfter)
	dur(&o.CrashLoopWindow, d.CrashLoopWindow)
	dur(&o.CrashLoopCooldown, d.CrashLoopCooldown)
	if o.HealthFailures == 0 {
		o.HealthFailures = d.HealthFailures
	}
	if o.CrashLoopCount == 0 {
		o.CrashLoopCount = d.CrashLoopCount
	}
	if o.Logger == nil {
		o.Logger = hclog.Default()
	}
	switch {
	case o.WSDPath == "":
		return o, errors.New("no mpm-wsd executable given: pass --wsd PATH")
	case o.Addr == "":
		return o, errors.New("no address given: pass --addr host:port")
	case o.DataDir == "":
		return o, errors.New("no data directory given: pass --data-dir DIR")
	case o.HealthInterval < 0 || o.HealthTimeout < 0 || o.HealthGrace < 0 || o.StopTimeout < 0 ||
		o.BackoffMin < 0 || o.BackoffMax < 0 || o.StableAfter < 0 || o.CrashLoopWindow < 0 || o.CrashLoopCooldown < 0:
		return o, errors.New("durations must not be negative")
	case o.HealthFailures < 1 || o.CrashLoopCount < 1:
		return o, errors.New("--health-failures and --crash-loop-count must be at least 1")
	case o.BackoffMax < o.BackoffMin:
		return o, fmt.Errorf("--backoff-max (%v) is below --backoff-min (%v)", o.BackoffMax, o.BackoffMin)
	}
	return o, nil
}

// ChildArgs is the daemon's command line (without the program).
func (o Options) ChildArgs() []string {
	args := []string{"--addr", o.Addr, "--data-dir", o.DataDir, "--log-json"}
	if o.LogLevel != "" {
		args = append(args, "--log-level", o.LogLevel)
	}
	return append(args, o.WSDArgs...)
}
