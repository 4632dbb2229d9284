// Package manager is mpm-manager's command line: it installs mpm as an OS
// service and, as that service ("mpm-manager run"), keeps mpm-wsd running:
// restarts it when it exits or stops answering /healthz. See
// deploy/INSTALL.md.
package manager

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/mpm-dev/mpm/internal/cli"
	"github.com/mpm-dev/mpm/internal/logging"
	"github.com/mpm-dev/mpm/internal/monitor"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/supervisor"
	"github.com/mpm-dev/mpm/internal/svc"
)

// about is mpm-manager's help text before the run flags.
const about = `mpm-manager keeps mpm-wsd running, as an OS service.

install registers "mpm-manager run" with the flags given here (recorded in
the unit/plist/service), starts it and waits until mpm-wsd answers; --user
makes a per-user service (systemd --user, launchd agent) that starts at
login. --run-as USER runs a system service as USER, with USER's default data
directory unless --data-dir says otherwise. --dry-run prints the file and
commands without touching anything. uninstall stops, then removes. Without
--user, start/stop/restart/status/uninstall use the per-user service when
only that one is installed. status exits 0 when running, 3 when not
running, 4 when unknown. "mpm-manager COMMAND --help" lists a command's
flags.`

// synopsis is mpm-manager's usage lines.
var synopsis = []string{
	"mpm-manager install   [--user] [--dry-run] [--force] [--no-start] [--run-as USER] [run flags]",
	"mpm-manager uninstall [--user]",
	"mpm-manager start|stop|restart [--user]",
	"mpm-manager status    [--user] [--json] [--addr A] [--data-dir D]   (exit 0 running, 3 not running, 4 unknown)",
	"mpm-manager run       [run flags] [-- extra mpm-wsd flags]",
	"mpm-manager version",
	"(every command also takes --name NAME, the service name)",
}

// program describes mpm-manager or one of its commands.
func program(cmd string, stdout, stderr io.Writer) *cli.Program {
	name := "mpm-manager"
	if cmd != "" {
		name += " " + cmd
	}
	return &cli.Program{Name: name, Synopsis: synopsis, About: about,
		Env: []string{paths.EnvAddr, paths.EnvDataDir}, Stdout: stdout, Stderr: stderr}
}

// printHelp prints mpm-manager's help, with the run flags (those of run
// and install) and their defaults from their definitions.
func printHelp(stdout, stderr io.Writer) {
	p := program("", stdout, stderr)
	fs := p.FlagSet()
	var c common
	var r runFlags
	c.register(fs)
	r.register(fs)
	p.Notes = "Run flags (run and install; install records them):\n" + flagText(fs)
	p.PrintHelp(nil)
}

func flagText(fs *flag.FlagSet) string {
	var b strings.Builder
	cli.WriteFlags(&b, fs)
	return b.String()
}

// Main runs mpm-manager with args = os.Args[1:] and returns its exit
// code: 0 done, 1 failed, 2 bad usage.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return program("", stdout, stderr).Usage("a command is needed: install, uninstall, start, stop, restart, status, run or version")
	}
	cmd, rest := args[0], args[1:]
	p := program(cmd, stdout, stderr)
	var err error
	switch cmd {
	case "run":
		err = cmdRun(p, rest)
	case "install":
		err = cmdInstall(p, rest)
	case "uninstall":
		err = cmdUninstall(p, rest)
	case "start", "stop", "restart":
		err = cmdControl(p, cmd, rest)
	case "status":
		err = cmdStatus(p, rest)
	case "version", "--version":
		program("", stdout, stderr).PrintVersion()
	case "help", "-h", "-help", "--help":
		printHelp(stdout, stderr)
	default:
		return program("", stdout, stderr).Usage("unknown command %q", cmd)
	}
	var fe flagError
	var ec exitCode
	switch {
	case err == nil:
		return cli.ExitOK
	case errors.As(err, &ec):
		return int(ec)
	case errors.As(err, &fe):
		return p.Usage("%v", fe.error)
	default:
		return p.Fail("%v", err)
	}
}

// flagError marks a usage mistake (exit 2).
type flagError struct{ error }

// exitCode ends a command that said all it has to say with that exit code
// (help and version: 0; a usage error cli reported: 2; status: 3 not
// running, 4 unknown).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// common are the flags of every command.
type common struct {
	addr, dataDir, name string
	user                bool
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.addr, "addr", paths.Addr(), "the daemon's address")
	fs.StringVar(&c.dataDir, "data-dir", paths.DataDir(), "the data directory (token, journal, spool, manager state)")
	fs.StringVar(&c.name, "name", svc.DefaultName(runtime.GOOS), "the service name")
	fs.BoolVar(&c.user, "user", false, "the per-user service (systemd --user, launchd agent) instead of the system one")
}

func (c *common) spec() (svc.Spec, error) {
	home, _ := os.UserHomeDir()
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.Abs(exe)
	}
	if err != nil {
		return svc.Spec{}, fmt.Errorf("find my own executable: %w", err)
	}
	return svc.Spec{Name: c.name, User: c.user, Exe: exe, Home: home}, nil
}

// runFlags are the supervision flags shared by run and install.
type runFlags struct {
	wsd, logLevel, logFile string
	logJSON                bool
	wsdArgs                multi
	o                      supervisor.Options
}

type multi = cli.Multi

// runFlagNames are the flags install records for run.
var runFlagNames = []string{"wsd", "wsd-arg", "log-level", "log-json", "log-file", "health-interval", "health-timeout",
	"health-failures", "health-grace", "stop-timeout", "backoff-min", "backoff-max", "stable-after",
	"crash-loop-count", "crash-loop-window", "crash-loop-cooldown"}

func (r *runFlags) register(fs *flag.FlagSet) {
	d := supervisor.Defaults
	fs.StringVar(&r.wsd, "wsd", "", "the mpm-wsd `PATH` to run (default: next to mpm-manager, else $PATH)")
	fs.Var(&r.wsdArgs, "wsd-arg", "an extra mpm-wsd `FLAG`, repeatable (e.g. --wsd-arg=--history=5000)")
	fs.StringVar(&r.logLevel, "log-level", "info", "trace, debug, info, warn or error (manager and daemon)")
	fs.BoolVar(&r.logJSON, "log-json", false, "manager logs as JSON lines")
	fs.StringVar(&r.logFile, "log-file", "", "append logs to this file (rotated at 10 MiB) instead of stderr")
	fs.DurationVar(&r.o.HealthInterval, "health-interval", d.HealthInterval, "time between /healthz checks")
	fs.DurationVar(&r.o.HealthTimeout, "health-timeout", d.HealthTimeout, "timeout of one check")
	fs.IntVar(&r.o.HealthFailures, "health-failures", d.HealthFailures, "consecutive failed checks that replace the daemon")
	fs.DurationVar(&r.o.HealthGrace, "health-grace", d.HealthGrace, "time after a start before failed checks count")
	fs.DurationVar(&r.o.StopTimeout, "stop-timeout", d.StopTimeout, "SIGTERM-to-SIGKILL wait when stopping mpm-wsd")
	fs.DurationVar(&r.o.BackoffMin, "backoff-min", d.BackoffMin, "first restart delay (doubling, jittered)")
	fs.DurationVar(&r.o.BackoffMax, "backoff-max", d.BackoffMax, "longest restart delay")
	fs.DurationVar(&r.o.StableAfter, "stable-after", d.StableAfter, "uptime that resets the restart delay")
	fs.IntVar(&r.o.CrashLoopCount, "crash-loop-count", d.CrashLoopCount, "failures within --crash-loop-window that pause restarts")
	fs.DurationVar(&r.o.CrashLoopWindow, "crash-loop-window", d.CrashLoopWindow, "the window --crash-loop-count is counted in")
	fs.DurationVar(&r.o.CrashLoopCooldown, "crash-loop-cooldown", d.CrashLoopCooldown, "how long a crash loop pauses restarts")
}

// validate rejects zero or negative values, which the supervisor would
// otherwise silently replace with its defaults.
func (r *runFlags) validate() error {
	o := r.o
	for name, d := range map[string]time.Duration{"health-interval": o.HealthInterval, "health-timeout": o.HealthTimeout,
		"health-grace": o.HealthGrace, "stop-timeout": o.StopTimeout, "backoff-min": o.BackoffMin, "backoff-max": o.BackoffMax,
		"stable-after": o.StableAfter, "crash-loop-window": o.CrashLoopWindow, "crash-loop-cooldown": o.CrashLoopCooldown} {
		if d <= 0 {
			return flagError{fmt.Errorf("--%s must be a positive duration such as 500ms or 30s", name)}
		}
	}
	if o.HealthFailures < 1 || o.CrashLoopCount < 1 {
		return flagError{errors.New("--health-failures and --crash-loop-count must be at least 1")}
	}
	if !logging.ValidLevel(r.logLevel) {
		return flagError{fmt.Errorf("--log-level %q: use trace, debug, info, warn or error", r.logLevel)}
	}
	return nil
}

// resolveWSD finds mpm-wsd: --wsd, else next to this executable, else PATH.
func resolveWSD(given string) (string, error) {
	if given != "" {
		p, err := filepath.Abs(given)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("--wsd %s: %w", given, err)
		}
		return p, nil
	}
	name := "mpm-wsd"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return filepath.Abs(p)
	}
	return "", errors.New("mpm-wsd not found next to mpm-manager nor on $PATH: pass --wsd PATH")
}

// parse parses a command's flags the cli way: help and version end the
// command (done), a usage mistake is reported by Parse (done, code 2).
func parse(p *cli.Program, fs *flag.FlagSet, args []string) error {
	if code, ok := p.Parse(fs, args); ok {
		return exitCode(code)
	}
	return nil
}

// supervision resolves mpm-wsd and the data directory and returns the
// supervisor options that run runs with and install checks before
// recording them.
func (r runFlags) supervision(c common) (supervisor.Options, error) {
	wsd, err := resolveWSD(r.wsd)
	if err != nil {
		return supervisor.Options{}, err
	}
	dataDir, err := filepath.Abs(c.dataDir)
	if err != nil {
		return supervisor.Options{}, err
	}
	o := r.o
	o.WSDPath, o.Addr, o.DataDir, o.LogLevel, o.WSDArgs = wsd, c.addr, dataDir, r.logLevel, r.wsdArgs
	return o, nil
}

func cmdRun(p *cli.Program, args []string) error {
	var c common
	var r runFlags
	p.Synopsis = []string{"mpm-manager run [run flags] [-- extra mpm-wsd flags]"}
	p.Args = true
	fs := p.FlagSet()
	c.register(fs)
	r.register(fs)
	if err := parse(p, fs, args); err != nil {
		return err
	}
	r.wsdArgs = append(r.wsdArgs, fs.Args()...)
	if err := r.validate(); err != nil {
		return err
	}
	var out io.Writer = p.Stderr
	if r.logFile != "" {
		lf, err := svc.OpenLogFile(r.logFile, 10<<20)
		if err != nil {
			return err
		}
		defer lf.Close()
		out = lf
	}
	log := logging.New(logging.Options{Name: logging.NameManager, Level: r.logLevel, JSON: r.logJSON, Output: out})
	o, err := r.supervision(c)
	if err != nil {
		return err
	}
	o.Logger = log
	o.Announce = terminal(p.Stderr, r.logFile)
	sup, err := supervisor.New(o)
	if err != nil {
		return flagError{err}
	}
	return svc.Run(c.name, sup.Run)
}

// terminal is stderr when it is a terminal that the log does not go to a
// file instead of, else nil: where the dashboard URL with the token may be
// shown.
func terminal(stderr io.Writer, logFile string) io.Writer {
	if f, ok := stderr.(*os.File); ok && logFile == "" && monitor.IsTerminal(f) {
		return stderr
	}
	return nil
}

func cmdInstall(p *cli.Program, args []string) error {
	var c common
	var r runFlags
	var dryRun, force, noStart bool
	var runAs string
	stdout := p.Stdout
	p.Synopsis = []string{"mpm-manager install [--user] [--dry-run] [--force] [--no-start] [--run-as USER] [run flags]"}
	p.Args = true
	fs := p.FlagSet()
	c.register(fs)
	r.register(fs)
	fs.BoolVar(&dryRun, "dry-run", false, "print the service file and the commands; change nothing")
	fs.BoolVar(&force, "force", false, "replace an installed service")
	fs.BoolVar(&noStart, "no-start", false, "do not start the service after installing it")
	fs.StringVar(&runAs, "run-as", "", "the `USER` a system service runs as")
	if err := parse(p, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return flagError{fmt.Errorf("unexpected arguments %q: pass daemon flags with --wsd-arg", fs.Args())}
	}
	// Validate the supervision options the service will run with.
	if err := r.validate(); err != nil {
		return err
	}
	if err := checkSecretArgs(r.wsdArgs); err != nil {
		return err
	}
	if err := runAsDataDir(fs, &c, runAs); err != nil {
		return err
	}
	o, err := r.supervision(c)
	if err != nil {
		return err
	}
	if _, err := supervisor.New(o); err != nil {
		return flagError{err}
	}
	wsd, dataDir := o.WSDPath, o.DataDir
	spec, err := c.spec()
	if err != nil {
		return err
	}
	spec.RunAs = runAs
	spec.DataDir = dataDir
	spec.RunArgs = recordedArgs(fs, c.addr, dataDir, wsd, c.name)
	if runtime.GOOS == "windows" && r.logFile == "" {
		spec.RunArgs = append(spec.RunArgs, "--log-file", filepath.Join(dataDir, "mpm-manager.log"))
	}
	spec.Writable = []string{dataDir}
	if r.logFile != "" {
		if lf, err := filepath.Abs(r.logFile); err == nil && filepath.Dir(lf) != dataDir {
			spec.Writable = append(spec.Writable, filepath.Dir(lf))
		}
	}
	if dryRun {
		plan, err := svc.PlanInstall(spec, svc.Platform(), noStart)
		if err != nil {
			return err
		}
		if st, _ := svc.Status(spec); st != svc.NotInstalled {
			fmt.Fprintf(stdout, "note: service %q is already installed (%s); install would refuse without --force\n", spec.Name, st)
		}
		fmt.Fprint(stdout, plan.String())
		return nil
	}
	if err := svc.Install(spec, svc.InstallOptions{Force: force, NoStart: noStart, Out: stdout}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "check it with: mpm-manager status%s (it also prints the dashboard URL)\n", userFlag(c.user))
	return nil
}

// runAsDataDir gives a service run as another account that account's own
// default data directory, unless --data-dir or MPM_DATA_DIR says which.
func runAsDataDir(fs *flag.FlagSet, c *common, runAs string) error {
	if runAs == "" || os.Getenv(paths.EnvDataDir) != "" {
		return nil
	}
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "data-dir" })
	if given {
		return nil
	}
	d, err := svc.DataDirOf(runAs)
	if err != nil {
		return err
	}
	c.dataDir = d
	return nil
}

// recordedArgs are the run flags the service gets: address, data dir and
// daemon always (resolved now, so the service does not depend on the
// installer's environment), the other run flags as given.
func recordedArgs(fs *flag.FlagSet, addr, dataDir, wsd, name string) []string {
	out := []string{"--addr", addr, "--data-dir", dataDir, "--wsd", wsd}
	if name != svc.DefaultName(runtime.GOOS) {
		out = append(out, "--name", name)
	}
	set := map[string]bool{}
	for _, n := range runFlagNames {
		set[n] = true
	}
	fs.Visit(func(f *flag.Flag) {
		if !set[f.Name] || f.Name == "wsd" {
			return
		}
		if m, ok := f.Value.(*multi); ok {
			for _, v := range *m {
				out = append(out, "--"+f.Name+"="+v)
			}
			return
		}
		out = append(out, "--"+f.Name+"="+f.Value.String())
	})
	return out
}

func userFlag(u bool) string {
	if u {
		return " --user"
	}
	return ""
}

// commonOnly parses a command that takes only the common flags and
// returns its service spec.
func commonOnly(p *cli.Program, args []string) (svc.Spec, error) {
	var c common
	p.Synopsis = []string{p.Name + " [--user]"}
	fs := p.FlagSet()
	c.register(fs)
	if err := parse(p, fs, args); err != nil {
		return svc.Spec{}, err
	}
	return c.spec()
}

func cmdUninstall(p *cli.Program, args []string) error {
	spec, err := commonOnly(p, args)
	if err != nil {
		return err
	}
	return svc.Uninstall(spec, p.Stdout)
}

func cmdControl(p *cli.Program, action string, args []string) error {
	spec, err := commonOnly(p, args)
	if err != nil {
		return err
	}
	spec, err = svc.Control(spec, action, p.Stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(p.Stdout, "%s: done; check it with: mpm-manager status%s\n", action, userFlag(spec.User))
	return nil
}

func cmdStatus(p *cli.Program, args []string) error {
	var c common
	var asJSON bool
	stdout := p.Stdout
	p.Synopsis = []string{"mpm-manager status [--user] [--json] [--addr A] [--data-dir D]"}
	fs := p.FlagSet()
	c.register(fs)
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	if err := parse(p, fs, args); err != nil {
		return err
	}
	spec, err := c.spec()
	if err != nil {
		return err
	}
	rep := svc.BuildReport(spec, c.dataDir, c.addr)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprint(stdout, rep.Human())
	}
	if code := rep.ExitCode(); code != 0 {
		return exitCode(code)
	}
	return nil
}
