// Command mpm-wsd is the mpm event daemon: it ingests Claude Code hook
// events, sequences and keeps them, and streams them to the dashboard and
// terminal clients. See docs/protocol.md and README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/mpm-dev/mpm/internal/fleet"
	"github.com/mpm-dev/mpm/internal/logging"
	"github.com/mpm-dev/mpm/internal/version"
	"github.com/mpm-dev/mpm/internal/web"
	"github.com/mpm-dev/mpm/internal/wsd"
)

// Exit codes.
const (
	exitOK        = 0
	exitError     = 1
	exitUsage     = 2
	exitAddrInUse = 3
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	cfg := wsd.DefaultConfig()
	fs := flag.NewFlagSet("mpm-wsd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: mpm-wsd [flags]\n\nThe mpm event daemon. Dashboard: http://<addr>/#token=<token> (printed at start-up).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address, loopback only unless --allow-remote (env MPM_ADDR)")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for the token, journal and hook spool (env MPM_DATA_DIR)")
	logLevel := fs.String("log-level", "info", "log level: trace, debug, info, warn, error")
	logJSON := fs.Bool("log-json", false, "write logs as JSON lines")
	fs.IntVar(&cfg.History, "history", cfg.History, "events kept in memory for replay")
	fs.IntVar(&cfg.MaxEventBytes, "max-event-bytes", cfg.MaxEventBytes, "largest accepted event payload in bytes")
	fs.IntVar(&cfg.MaxClients, "max-clients", cfg.MaxClients, "most WebSocket clients at once (0: no limit)")
	fs.IntVar(&cfg.MaxConns, "max-conns", cfg.MaxConns, "most open connections at once, HTTP and WebSocket (lowered to fit the open file limit); past it only /healthz is answered")
	fs.IntVar(&cfg.ClientQueueBytes, "client-queue-bytes", cfg.ClientQueueBytes, "bytes a WebSocket client may fall behind before it is dropped (it may reconnect and resume)")
	fs.DurationVar(&cfg.Heartbeat, "heartbeat", cfg.Heartbeat, "WebSocket ping and heartbeat interval")
	fs.DurationVar(&cfg.Coalesce, "coalesce", cfg.Coalesce, "most a WebSocket client's events are held back so that they share frames when it gets many per millisecond; the window adapts per client, from 1/16 of this (negative: never)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "bound on the graceful shutdown")
	fs.BoolVar(&cfg.AllowRemote, "allow-remote", false, "allow a non-loopback --addr (the token is then your only protection)")
	fs.DurationVar(&cfg.StaleAfter, "stale-after", cfg.StaleAfter, "flag a working session as stale after this long without an event (an interrupted turn fires no hook; 0: never)")
	fs.Func("notify-webhook", "POST to this URL when a session starts needing you (needs permission, waiting for input); repeatable", func(u string) error {
		cfg.NotifyWebhooks = append(cfg.NotifyWebhooks, u)
		return nil
	})
	fs.StringVar(&cfg.NotifyFormat, "notify-format", cfg.NotifyFormat, "body of the --notify-webhook POSTs: json, slack (incoming webhook) or ntfy (topic URL)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file until shutdown (for performance work)")
	storeFlags(fs, &cfg)
	fleetFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mpm-wsd: unexpected argument %q (see mpm-wsd --help)\n", fs.Arg(0))
		return exitUsage
	}
	if *showVersion {
		fmt.Fprintln(os.Stdout, "mpm-wsd", version.Version)
		return exitOK
	}
	if !logging.ValidLevel(*logLevel) {
		fmt.Fprintf(stderr, "mpm-wsd: --log-level %q: use trace, debug, info, warn or error\n", *logLevel)
		return exitUsage
	}
	log := logging.New(logging.Options{Name: "mpm-wsd", Level: *logLevel, JSON: *logJSON, Output: stderr})
	cfg.Logger = log
	if err := cfg.Validate(); err != nil {
		log.Error(err.Error())
		return exitUsage
	}
	if err := checkFleet(cfg); err != nil {
		log.Error(err.Error())
		return exitUsage
	}
	srv, err := wsd.New(cfg, wsd.Options{Static: web.Handler(), OpenStore: openStore, Background: fleetLoops(cfg), FleetStatus: fleet.CurrentStatus})
	if err != nil {
		log.Error("cannot start", "error", err)
		return exitError
	}
	if err := srv.Listen(); err != nil {
		log.Error(err.Error())
		var inUse *wsd.AddrInUseError
		if errors.As(err, &inUse) {
			return exitAddrInUse
		}
		return exitError
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Error("cannot write the CPU profile", "error", err)
			return exitUsage
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Run(ctx); err != nil {
		log.Error("stopped with an error", "error", err)
		return exitError
	}
	return exitOK
}
