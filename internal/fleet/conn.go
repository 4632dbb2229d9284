package fleet

import (
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"
)

// connect dials NATS with the configured credentials. It returns at once
// even when the server is unreachable: the connection keeps retrying in the
// background for as long as the daemon runs, and the loops retry their work
// until it is back. onState is called on every connect, disconnect and
// reconnect.
func connect(cfg Config, name string, log hclog.Logger, onState func(connected bool, err error)) (*nats.Conn, error) {
	var lastErr atomic.Value // string: the last connect error logged
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		// nats.go gives up after the same authorization error twice: keep
		// trying, so fixing the user on the server needs no restart here.
		nats.IgnoreAuthErrorAbort(),
		nats.ReconnectErrHandler(func(_ *nats.Conn, err error) {
			if err == nil {
				return
			}
			// Every attempt fails the same way while the server refuses
			// us: log the server's words once per change, keep them in
			// the status.
			if msg := err.Error(); lastErr.Swap(msg) != msg {
				log.Warn("connecting to NATS failed; retrying", "error", err, "url", redact(cfg.URL))
			}
			onState(false, err)
		}),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.ReconnectJitter(250*time.Millisecond, time.Second),
		nats.RetryOnFailedConnect(true),
		nats.Timeout(5 * time.Second),
		nats.ConnectHandler(func(*nats.Conn) { lastErr.Store(""); onState(true, nil) }),
		nats.CustomInboxPrefix(cfg.inboxPrefix()),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			lastErr.Store("")
			log.Info("NATS connection back", "server", redact(nc.ConnectedUrl()))
			onState(true, nil)
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("NATS connection lost; events wait in the journal and are sent when it is back", "error", err)
			}
			onState(false, err)
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Warn("NATS error", "error", err)
		}),
	}
	switch {
	case cfg.Creds != "":
		opts = append(opts, nats.UserCredentials(cfg.Creds))
	case cfg.NKey != "":
		o, err := nats.NkeyOptionFromSeed(cfg.NKey)
		if err != nil {
			return nil, fmt.Errorf("--nats-nkey %s: %w (give a file holding an nkey seed, SU...)", cfg.NKey, err)
		}
		opts = append(opts, o)
	case cfg.User != "":
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password))
	case cfg.Token != "":
		opts = append(opts, nats.Token(cfg.Token))
	}
	if cfg.TLSCA != "" {
		opts = append(opts, nats.RootCAs(cfg.TLSCA))
	}
	if cfg.TLSCert != "" {
		opts = append(opts, nats.ClientCert(cfg.TLSCert, cfg.TLSKey))
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("NATS %s: %w (check --nats and the credentials)", redact(cfg.URL), err)
	}
	if !nc.IsConnected() {
		log.Warn("NATS is not reachable yet; retrying in the background", "url", redact(cfg.URL), "error", nc.LastError())
	}
	return nc, nil
}

// redact hides the whole user part of (comma separated) NATS URLs for
// logs and /healthz, which anyone on the machine may read: a URL's user
// part may be a user and password, or a token alone (nats://TOKEN@host),
// which url.Redacted would print.
func redact(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if u, err := url.Parse(p); err == nil && u.Host != "" {
			if u.User != nil {
				u.User = url.User(redacted)
			}
			parts[i] = u.String()
			continue
		}
		// Not a URL url.Parse understands (host:port, or a broken one):
		// cut whatever comes before the last '@' after the scheme.
		scheme, rest, ok := strings.Cut(p, "://")
		if !ok {
			scheme, rest = "", p
		}
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			rest = redacted + rest[at:]
		}
		if ok {
			rest = scheme + "://" + rest
		}
		parts[i] = rest
	}
	return strings.Join(parts, ",")
}

// redacted stands for the user part of a URL in logs.
const redacted = "REDACTED"
