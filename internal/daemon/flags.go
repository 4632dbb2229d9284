package daemon

import (
	"flag"

	"github.com/hashicorp/go-hclog"

	"github.com/mpm-dev/mpm/internal/fleet"
	"github.com/mpm-dev/mpm/internal/web"
	"github.com/mpm-dev/mpm/internal/wsd"
)

// flags are mpm-wsd's parsed flags.
type flags struct {
	cfg        wsd.Config
	journal    journalFlags
	fleet      fleet.Config
	logLevel   string
	logJSON    bool
	cpuProfile string
}

// register adds every mpm-wsd flag to fs, with wsd.DefaultConfig's
// defaults, and returns where they are parsed into.
func register(fs *flag.FlagSet) *flags {
	f := &flags{cfg: wsd.DefaultConfig()}
	cfg := &f.cfg
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address, loopback only unless --allow-remote")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for the token, journal and hook spool")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: trace, debug, info, warn, error")
	fs.BoolVar(&f.logJSON, "log-json", false, "write logs as JSON lines")
	fs.IntVar(&cfg.History, "history", cfg.History, "events kept in memory for replay")
	fs.IntVar(&cfg.MaxEventBytes, "max-event-bytes", cfg.MaxEventBytes, "largest accepted event payload in bytes")
	fs.IntVar(&cfg.MaxClients, "max-clients", cfg.MaxClients, "most WebSocket clients at once (0: no limit)")
	fs.IntVar(&cfg.MaxConns, "max-conns", cfg.MaxConns, "most open connections at once, HTTP and WebSocket (lowered to fit the open file limit); past it only /healthz is answered")
	fs.IntVar(&cfg.ClientQueueBytes, "client-queue-bytes", cfg.ClientQueueBytes, "bytes a WebSocket client may fall behind before it is dropped (it may reconnect and resume)")
	fs.DurationVar(&cfg.Heartbeat, "heartbeat", cfg.Heartbeat, "WebSocket ping and heartbeat interval")
	fs.DurationVar(&cfg.Coalesce, "coalesce", cfg.Coalesce, "most a WebSocket client's events are held back so that they share frames when it gets many per millisecond; the window adapts per client, from 1/16 of this (negative: never)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "bound on the graceful shutdown")
	fs.BoolVar(&cfg.AllowRemote, "allow-remote", cfg.AllowRemote, "allow a non-loopback --addr (the token is then your only protection)")
	fs.DurationVar(&cfg.StaleAfter, "stale-after", cfg.StaleAfter, "flag a working session as stale after this long without an event (an interrupted turn fires no hook; 0: never)")
	fs.Func("notify-webhook", "POST to this `URL` when a session starts needing you (needs permission, waiting for input, over a budget); repeatable", func(u string) error {
		cfg.NotifyWebhooks = append(cfg.NotifyWebhooks, u)
		return nil
	})
	fs.StringVar(&cfg.NotifyFormat, "notify-format", cfg.NotifyFormat, "body of the --notify-webhook POSTs: json, slack (incoming webhook) or ntfy (topic URL)")
	fs.StringVar(&cfg.PricesFile, "prices", cfg.PricesFile, "JSON `FILE` of model prices (USD per million tokens) overriding the built-in table used to estimate a session's cost when its transcript has no cost-state record: {\"<model prefix>\": {\"input\": 3, \"output\": 15, \"cache_read\": 0.3, \"cache_write\": 3.75, \"context_window\": 200000}}")
	fs.Float64Var(&cfg.BudgetSessionUSD, "budget-session-usd", cfg.BudgetSessionUSD, "put a session whose cost passes `USD` dollars into the attention inbox and notify, once (0: no budget)")
	fs.Float64Var(&cfg.BudgetDayUSD, "budget-day-usd", cfg.BudgetDayUSD, "when the day's cost across sessions (this machine's local calendar day) passes `USD` dollars, put each running session that spends into the attention inbox and notify, once a day each (0: no budget)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile to this file until shutdown (for performance work)")
	f.journal.register(fs, cfg)
	registerFleet(fs, &f.fleet)
	return f
}

// build turns the parsed flags into the daemon's configuration and
// options, or says which flag to fix.
func (f *flags) build(log hclog.Logger) (wsd.Config, wsd.Options, error) {
	cfg := f.cfg
	cfg.Logger = log
	if err := cfg.Validate(); err != nil {
		return cfg, wsd.Options{}, err
	}
	if err := f.journal.check(); err != nil {
		return cfg, wsd.Options{}, err
	}
	opts := wsd.Options{Static: web.Handler(), OpenStore: f.journal.opener()}
	if err := fleetOptions(f.fleet, cfg, &opts); err != nil {
		return cfg, wsd.Options{}, err
	}
	return cfg, opts, nil
}
