// Package daemon is mpm-wsd's command line: it turns flags into a
// wsd.Config and wsd.Options (journal, fleet mode, dashboard) and runs the
// daemon until SIGINT or SIGTERM. See docs/protocol.md and README.md.
package daemon

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime/pprof"

	"github.com/mpm-dev/mpm/internal/cli"
	"github.com/mpm-dev/mpm/internal/logging"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/wsd"
)

// ExitAddrInUse is mpm-wsd's exit code when its address is taken.
const ExitAddrInUse = 3

// program describes mpm-wsd for its help.
func program(stdout, stderr io.Writer) *cli.Program {
	return &cli.Program{
		Name:     "mpm-wsd",
		Synopsis: []string{"mpm-wsd [flags]"},
		About: `mpm-wsd is the mpm event daemon: it takes Claude Code's hook events,
numbers and keeps them, and streams them to the dashboard and terminal
clients. The dashboard's URL (http://<addr>/#token=<token>) is printed at
start-up.`,
		Env: []string{paths.EnvAddr, paths.EnvDataDir, paths.EnvNATSPassword, paths.EnvNATSToken},
		Notes: `Exit status: 0 after SIGINT or SIGTERM (graceful), 1 on an error, 2 on bad
flags, 3 when the address is taken.`,
		Stdout: stdout, Stderr: stderr,
	}
}

// Main runs mpm-wsd with args = os.Args[1:] and returns its exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	p := program(stdout, stderr)
	fs := p.FlagSet()
	f := register(fs)
	if code, done := p.Parse(fs, args); done {
		return code
	}
	if !logging.ValidLevel(f.logLevel) {
		return p.Usage("--log-level %q: use trace, debug, info, warn or error", f.logLevel)
	}
	log := logging.New(logging.Options{Name: logging.NameDaemon, Level: f.logLevel, JSON: f.logJSON, Output: stderr})
	cfg, opts, err := f.build(log)
	if err != nil {
		log.Error(err.Error())
		return cli.ExitUsage
	}
	srv, err := wsd.New(cfg, opts)
	if err != nil {
		log.Error("cannot start", "error", err)
		return cli.ExitError
	}
	if err := srv.Listen(); err != nil {
		log.Error(err.Error())
		var inUse *wsd.AddrInUseError
		if errors.As(err, &inUse) {
			return ExitAddrInUse
		}
		return cli.ExitError
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			log.Error("cannot write the CPU profile", "error", err)
			return cli.ExitUsage
		}
		pprof.StartCPUProfile(pf)
		defer func() { pprof.StopCPUProfile(); pf.Close() }()
	}
	ctx, stop := cli.Context()
	defer stop()
	procsCtx, procsStop := context.WithCancel(ctx)
	procsDone := make(chan struct{})
	go func() { defer close(procsDone); wsd.GovernProcs(procsCtx, log.Named("procs")) }()
	defer func() { procsStop(); <-procsDone }()
	if err := srv.Run(ctx); err != nil {
		log.Error("stopped with an error", "error", err)
		return cli.ExitError
	}
	return cli.ExitOK
}
