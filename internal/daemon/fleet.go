package daemon

import (
	"errors"
	"flag"
	"os"

	"github.com/mpm-dev/mpm/internal/fleet"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/wsd"
)

// registerFleet adds fleet mode's flags (--nats and friends, --fleet,
// --origin) to fs, bound to fc.
func registerFleet(fs *flag.FlagSet, fc *fleet.Config) {
	fs.StringVar(&fc.URL, "nats", "", "fleet mode: NATS server URL(s), comma separated (nats://host:4222, tls://host:4222); publishes this machine's events to JetStream (edge), or with --fleet consumes every machine's (hub)")
	fs.BoolVar(&fc.Hub, "fleet", false, "with --nats: be the fleet hub, ingesting every origin's events from the stream (a durable consumer)")
	fs.StringVar(&fc.Origin, "origin", fleet.DefaultOrigin(), "fleet mode: this machine's name on the subjects mpm.events.<origin>.<session> (letters, digits, - and _); on a hub, names its durable consumer")
	fs.StringVar(&fc.Stream, "nats-stream", fleet.DefaultStream, "fleet mode: JetStream stream name")
	fs.StringVar(&fc.Creds, "nats-creds", "", "fleet mode: NATS credentials file (.creds)")
	fs.StringVar(&fc.NKey, "nats-nkey", "", "fleet mode: NATS nkey seed file")
	fs.StringVar(&fc.User, "nats-user", "", "fleet mode: NATS user name")
	fs.StringVar(&fc.Password, "nats-password", "", "fleet mode: NATS password; prefer --nats-password-file or "+paths.EnvNATSPassword+", which other users cannot see in the process list")
	fs.StringVar(&fc.PasswordFile, "nats-password-file", "", "fleet mode: file holding the NATS password on its first line (mode 0600)")
	fs.StringVar(&fc.Token, "nats-token", "", "fleet mode: NATS authorization token; prefer --nats-token-file or "+paths.EnvNATSToken)
	fs.StringVar(&fc.TokenFile, "nats-token-file", "", "fleet mode: file holding the NATS token on its first line (mode 0600)")
	fs.StringVar(&fc.InboxPrefix, "nats-inbox-prefix", "", "fleet mode: subject prefix of this daemon's NATS replies (default _INBOX.<origin>, on a hub _INBOX.<hub name>); the server lets each user subscribe to its own only (deploy/nats)")
	fs.StringVar(&fc.TLSCA, "nats-tls-ca", "", "fleet mode: PEM file of CAs for the NATS server's certificate")
	fs.StringVar(&fc.TLSCert, "nats-tls-cert", "", "fleet mode: client certificate (PEM) for mutual TLS")
	fs.StringVar(&fc.TLSKey, "nats-tls-key", "", "fleet mode: client key (PEM) for mutual TLS")
	fs.DurationVar(&fc.MaxAge, "nats-max-age", fleet.DefaultMaxAge, "fleet mode: the stream's max age when mpm creates it (0: no limit)")
	fs.Int64Var(&fc.MaxBytes, "nats-max-bytes", fleet.DefaultMaxBytes, "fleet mode: the stream's max bytes when mpm creates it, oldest events dropped first (-1: no limit; halved until it fits a smaller JetStream store)")
	fs.DurationVar(&fc.Duplicates, "nats-dup-window", fleet.DefaultDuplicates, "fleet mode: the stream's duplicate window when mpm creates it")
}

// fleetOptions completes and checks the parsed fleet flags and sets
// opts' fleet loop and status; fleet mode off (no --nats) leaves opts as
// it is.
func fleetOptions(fc fleet.Config, c wsd.Config, opts *wsd.Options) error {
	if fc.URL == "" {
		if fc.Hub {
			return errors.New("--fleet needs --nats URL (the NATS server holding the fleet's stream)")
		}
		return nil
	}
	if err := readSecrets(&fc); err != nil {
		return err
	}
	fc.DataDir, fc.MaxEventBytes = c.DataDir, c.MaxEventBytes
	fc = fc.WithDefaults()
	if err := fc.Validate(); err != nil {
		return err
	}
	var loop *fleet.Loop
	if fc.Hub {
		loop = fleet.Consumer(fc)
	} else {
		loop = fleet.Edge(fc)
	}
	opts.Background = append(opts.Background, loop.Run)
	opts.Prepare = append(opts.Prepare, loop.Prepare)
	opts.FleetStatus = loop.Status
	return nil
}

// readSecrets fills the NATS password and token from their flag, else
// their file, else the environment: a service (mpm-manager install
// --wsd-arg=--nats-password-file=FILE) then carries no secret in its
// arguments.
func readSecrets(fc *fleet.Config) error {
	for _, s := range []struct {
		value         *string
		flag, file    string
		fileFlag, env string
		// envUsed: the environment variable applies (its kind of credentials is the one given).
		envUsed bool
	}{
		{&fc.Password, "--nats-password", fc.PasswordFile, "--nats-password-file", paths.EnvNATSPassword, fc.User != ""},
		{&fc.Token, "--nats-token", fc.TokenFile, "--nats-token-file", paths.EnvNATSToken, fc.User == "" && fc.Creds == "" && fc.NKey == ""},
	} {
		switch {
		case *s.value != "" && s.file != "":
			return errors.New("give " + s.flag + " or " + s.fileFlag + ", not both")
		case *s.value != "":
		case s.file != "":
			v, err := fleet.ReadSecret(s.fileFlag, s.file)
			if err != nil {
				return err
			}
			*s.value = v
		case s.envUsed:
			*s.value = os.Getenv(s.env)
		}
	}
	return nil
}
