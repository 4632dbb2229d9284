// Package fleet is mpm-wsd's fleet mode on NATS JetStream: an edge publishes
// every journaled event to a stream (an outbox fed from the journal, so NATS
// never slows ingest), and a hub consumes the stream with a durable consumer
// and ingests every origin's events into its own journal, where they get the
// hub's seq.
package fleet

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Defaults.
const (
	// DefaultStream is the JetStream stream name.
	DefaultStream = "MPM_EVENTS"
	// SubjectPrefix starts every event subject: mpm.events.<origin>.<session>.
	SubjectPrefix = "mpm.events"
	// DefaultMaxAge is how long the stream keeps events when we create it.
	DefaultMaxAge = 720 * time.Hour
	// DefaultMaxBytes is the stream's size limit when we create it: it
	// fits the 20 GB JetStream store of deploy/nats/nats-server.conf with
	// room to spare; with discard old, a full stream drops its oldest
	// events instead of refusing new ones.
	DefaultMaxBytes = 16 << 30
	// DefaultDuplicates is the stream's duplicate window when we create it:
	// a publish retried within it (same Nats-Msg-Id) is stored once.
	DefaultDuplicates = 2 * time.Minute
	// DefaultUsageEvery is Config.UsageEvery's default.
	DefaultUsageEvery = 5 * time.Second
	// CursorFile is the edge's outbox cursor in the data directory.
	CursorFile = "fleet-edge.cursor"
)

// Config is the NATS link of an edge or a hub.
type Config struct {
	// URL is the NATS server URL(s), comma separated (nats://host:4222).
	URL string
	// Creds is a .creds file (JWT and nkey seed); empty: none.
	Creds string
	// NKey is an nkey seed file; empty: none.
	NKey string
	// User and Password authenticate with a user name and password.
	User, Password string
	// Token authenticates with a token (the server's authorization token).
	Token string
	// PasswordFile and TokenFile hold Password or Token (ReadSecret), so
	// that a service's arguments carry no secret; the daemon reads them
	// into Password and Token before the loops start.
	PasswordFile, TokenFile string
	// InboxPrefix starts the subjects of this connection's replies
	// (JetStream acknowledgements, a hub's deliveries); default
	// _INBOX.<origin> (_INBOX.<hub name> on a hub), so that the server can
	// let each user read only its own (deploy/nats).
	InboxPrefix string
	// TLSCA is a PEM file of CAs that sign the server's certificate.
	TLSCA string
	// TLSCert and TLSKey are a client certificate and key (mutual TLS).
	TLSCert, TLSKey string
	// Origin names this machine+user: on every event, in the message ids
	// and, as SubjectPart(Origin), in the subjects; default DefaultOrigin().
	Origin string
	// Stream is the JetStream stream name.
	Stream string
	// MaxAge is the stream's age limit when we create it (0: none).
	MaxAge time.Duration
	// MaxBytes is the stream's size limit when we create it: 0 is
	// DefaultMaxBytes, -1 none.
	MaxBytes int64
	// Duplicates is the stream's duplicate window when we create it.
	Duplicates time.Duration
	// Hub consumes the stream instead of publishing to it (--fleet).
	Hub bool
	// HubName names the hub's durable consumer (mpm-hub-<HubName>).
	HubName string
	// DataDir holds the edge's cursor file.
	DataDir string
	// MaxEventBytes bounds one payload the hub accepts (as --max-event-bytes).
	MaxEventBytes int
	// Batch is how many events the edge publishes, or the hub fetches, at once.
	Batch int
	// Poll is how often the edge looks for new events when no commit woke
	// it first (it wakes at each commit: wsd.Server.Appended), and the
	// first retry's wait.
	Poll time.Duration
	// MaxBackoff bounds the wait between retries while NATS is unreachable.
	MaxBackoff time.Duration
	// UsageEvery is the least time between two rounds of usage snapshots
	// an edge journals for the hub (forward.go): changes within it are
	// coalesced into one snapshot per session.
	UsageEvery time.Duration
}

// WithDefaults fills the zero fields.
func (c Config) WithDefaults() Config {
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.Origin == "" {
		c.Origin = DefaultOrigin()
	}
	if c.HubName == "" {
		c.HubName = SubjectPart(c.Origin)
	}
	if c.Duplicates == 0 {
		c.Duplicates = DefaultDuplicates
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}

	if c.MaxEventBytes == 0 {
		c.MaxEventBytes = 1 << 20
	}
	if c.Batch == 0 {
		c.Batch = 256
	}
	if c.Poll == 0 {
		c.Poll = 100 * time.Millisecond
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.UsageEvery == 0 {
		c.UsageEvery = DefaultUsageEvery
	}
	return c
}

// Validate checks the configuration and says how to fix it.
func (c *Config) Validate() error {
	if c.URL == "" {
		return errors.New("fleet mode needs --nats URL (for example nats://127.0.0.1:4222)")
	}
	n := 0
	for _, set := range []bool{c.Creds != "", c.NKey != "", c.User != "", c.Token != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		return errors.New("give one of --nats-creds, --nats-nkey, --nats-user/--nats-password or --nats-token, not several")
	}
	for flag, f := range map[string]string{"--nats-creds": c.Creds, "--nats-nkey": c.NKey} {
		if f == "" {
			continue
		}
		if fi, err := os.Stat(f); err != nil || fi.IsDir() {
			return fmt.Errorf("%s %s: not a readable file (%v): give the path of the file your NATS administrator issued", flag, f, errOrDir(err))
		}
	}
	if p := c.InboxPrefix; p != "" && (strings.ContainsAny(p, "*> \t") || strings.HasSuffix(p, ".") || strings.HasPrefix(p, ".") || strings.Contains(p, "..")) {
		return fmt.Errorf("--nats-inbox-prefix %q: give subject tokens without wildcards, e.g. _INBOX.%s", p, SubjectPart(c.Origin))
	}
	if c.Password != "" && c.User == "" {
		return errors.New("--nats-password needs --nats-user")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--nats-tls-cert and --nats-tls-key go together")
	}
	if c.Origin == "" || len(c.Origin) > 100 || !utf8.ValidString(c.Origin) || strings.ContainsFunc(c.Origin, unicode.IsControl) {
		return fmt.Errorf("--origin %q: give a name of 1 to 100 printable characters, for example %q", c.Origin, DefaultOrigin())
	}
	if SubjectPart(c.Stream) != c.Stream {
		return fmt.Errorf("--nats-stream %q: use letters, digits, '-' and '_' only", c.Stream)
	}
	if c.Hub && SubjectPart(c.HubName) != c.HubName {
		return fmt.Errorf("hub name %q: use letters, digits, '-' and '_' only", c.HubName)
	}
	if c.MaxAge < 0 {
		return errors.New("--nats-max-age must be 0 (no limit) or more")
	}
	if c.MaxBytes < -1 || (c.MaxBytes > 0 && c.MaxBytes < 1<<20) {
		return errors.New("--nats-max-bytes must be -1 (no limit), 0 (the default) or at least 1MiB")
	}
	if c.Duplicates < time.Second {
		return errors.New("the stream's duplicate window must be at least 1s")
	}
	if !c.Hub && c.DataDir == "" {
		return errors.New("the fleet edge keeps its cursor in the data directory: set --data-dir")
	}
	return nil
}

func errOrDir(err error) any {
	if err != nil {
		return err
	}
	return "a directory"
}

// inboxPrefix is InboxPrefix or its default, _INBOX.<origin> on an edge
// and _INBOX.<hub name> on a hub.
func (c *Config) inboxPrefix() string {
	switch {
	case c.InboxPrefix != "":
		return c.InboxPrefix
	case c.Hub:
		return "_INBOX." + SubjectPart(c.HubName)
	default:
		return "_INBOX." + SubjectPart(c.Origin)
	}
}

// DefaultOrigin is hostname-username, as a subject token: stable for one
// machine and user.
func DefaultOrigin() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "host"
	}
	host, _, _ = strings.Cut(host, ".")
	name := "user"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
		if i := strings.LastIndexAny(name, `\`); i >= 0 { // DOMAIN\user on Windows
			name = name[i+1:]
		}
	}
	return SubjectPart(host + "-" + name)
}

// SubjectPart makes s safe as one NATS subject token (one part between
// dots): every byte that is not a
// letter, digit, '-' or '_' becomes '_' ('.', '*', '>' and white space
// would split or wildcard the subject). An empty s becomes "_".
func SubjectPart(s string) string {
	if s == "" {
		return "_"
	}
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			b[i] = '_'
		}
	}
	return string(b)
}

// Subject is the subject of an event of session from origin.
func Subject(origin, session string) string {
	return SubjectPrefix + "." + SubjectPart(origin) + "." + SubjectPart(session)
}
