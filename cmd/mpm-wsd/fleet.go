package main

import (
	"context"
	"errors"
	"flag"
	"os"

	"github.com/hashicorp/go-hclog"

	"github.com/mpm-dev/mpm/internal/fleet"
	"github.com/mpm-dev/mpm/internal/store"
	"github.com/mpm-dev/mpm/internal/wsd"
)

// fleetConfig is the parsed fleet flags; fleetOn is whether --nats was given.
var (
	fleetConfig fleet.Config
	fleetOn     bool
)

// fleetFlags registers fleet mode's flags (--nats and friends, --fleet,
// --origin) on fs. Once parsed, openStore first checks them (so a bad
// combination stops the start with a message saying what to fix) and
// fleetLoops returns the edge's or the hub's loop for wsd.Options.Background.
func fleetFlags(fs *flag.FlagSet) {
	fc := &fleetConfig
	fs.StringVar(&fc.URL, "nats", "", "fleet mode: NATS server URL(s), comma separated (nats://host:4222, tls://host:4222); publishes this machine's events to JetStream (edge), or with --fleet consumes every machine's (hub)")
	fs.BoolVar(&fc.Hub, "fleet", false, "with --nats: be the fleet hub, ingesting every origin's events from the stream (a durable consumer)")
	fs.StringVar(&fc.Origin, "origin", fleet.DefaultOrigin(), "fleet mode: this machine's name on the subjects mpm.events.<origin>.<session> (letters, digits, - and _); on a hub, names its durable consumer")
	fs.StringVar(&fc.Stream, "nats-stream", fleet.DefaultStream, "fleet mode: JetStream stream name")
	fs.StringVar(&fc.Creds, "nats-creds", "", "fleet mode: NATS credentials file (.creds)")
	fs.StringVar(&fc.NKey, "nats-nkey", "", "fleet mode: NATS nkey seed file")
	fs.StringVar(&fc.User, "nats-user", "", "fleet mode: NATS user name")
	fs.StringVar(&fc.Password, "nats-password", "", "fleet mode: NATS password (or env MPM_NATS_PASSWORD)")
	fs.StringVar(&fc.TLSCA, "nats-tls-ca", "", "fleet mode: PEM file of CAs for the NATS server's certificate")
	fs.StringVar(&fc.TLSCert, "nats-tls-cert", "", "fleet mode: client certificate (PEM) for mutual TLS")
	fs.StringVar(&fc.TLSKey, "nats-tls-key", "", "fleet mode: client key (PEM) for mutual TLS")
	fs.DurationVar(&fc.MaxAge, "nats-max-age", fleet.DefaultMaxAge, "fleet mode: the stream's max age when mpm creates it (0: no limit)")
	fs.Int64Var(&fc.MaxBytes, "nats-max-bytes", 0, "fleet mode: the stream's max bytes when mpm creates it (0: no limit)")
	fs.DurationVar(&fc.Duplicates, "nats-dup-window", fleet.DefaultDuplicates, "fleet mode: the stream's duplicate window when mpm creates it")
	inner := openStore
	openStore = func(c wsd.Config, log hclog.Logger) (store.Store, error) {
		if err := checkFleet(c); err != nil {
			return nil, err
		}
		return inner(c, log)
	}
}

// checkFleet completes and validates the fleet flags once parsed.
func checkFleet(c wsd.Config) error {
	fc := &fleetConfig
	fleetOn = fc.URL != ""
	if !fleetOn {
		if fc.Hub {
			return errors.New("--fleet needs --nats URL (the NATS server holding the fleet's stream)")
		}
		return nil
	}
	if fc.Password == "" {
		fc.Password = os.Getenv("MPM_NATS_PASSWORD")
	}
	fc.DataDir, fc.MaxEventBytes = c.DataDir, c.MaxEventBytes
	*fc = fc.WithDefaults()
	return fc.Validate()
}

// fleetLoops is the fleet loop for wsd.Options.Background, or nil when
// fleet mode is off. Call it after flag parsing.
func fleetLoops(c wsd.Config) []func(ctx context.Context, s *wsd.Server) error {
	if checkFleet(c) != nil || !fleetOn {
		return nil // openStore reports the error
	}
	if fleetConfig.Hub {
		return []func(context.Context, *wsd.Server) error{fleet.Hub(fleetConfig)}
	}
	return []func(context.Context, *wsd.Server) error{fleet.Edge(fleetConfig)}
}
