// Package notify posts a webhook when a Claude Code session starts needing
// its person (needs_permission, waiting_input, or over a budget):
// mpm-wsd --notify-webhook.
// Each URL has its own bounded queue and sender goroutine, so a slow or
// dead receiver never slows ingest nor the other receivers; a full queue
// drops (and counts) the notification instead of waiting.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mpm-dev/mpm/internal/gist"
	"github.com/mpm-dev/mpm/internal/protocol"
)

// Formats are the accepted --notify-format values.
var Formats = []string{"json", "slack", "ntfy"}

// Config configures a Notifier. Zero fields take the defaults in
// parentheses.
type Config struct {
	// URLs are the webhooks (http or https).
	URLs []string
	// Format is "json" (default), "slack" or "ntfy".
	Format string
	// DashboardURL is the dashboard's address without any token; a
	// notification links to it with ?session=<id>.
	DashboardURL string
	// QueueSize bounds each URL's queue of pending notifications (64).
	QueueSize int
	// Timeout bounds one POST (5 s).
	Timeout time.Duration
	// Attempts is how many times a notification is tried (4).
	Attempts int
	// Backoff is the wait before the first retry, doubled each time (1 s).
	Backoff time.Duration
	// Logger is the notifier's named logger.
	Logger hclog.Logger
	// Registerer receives the metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Client sends the requests (a client with Timeout).
	Client *http.Client
}

func (c *Config) setDefaults() {
	if c.Format == "" {
		c.Format = "json"
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 64
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.Attempts <= 0 {
		c.Attempts = 4
	}
	if c.Backoff <= 0 {
		c.Backoff = time.Second
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: c.Timeout}
	}
}

// Validate checks the URLs and the format, saying how to fix them.
func (c *Config) Validate() error {
	ok := false
	for _, f := range Formats {
		ok = ok || c.Format == "" || c.Format == f
	}
	if !ok {
		return fmt.Errorf("--notify-format %q: use one of %s", c.Format, strings.Join(Formats, ", "))
	}
	for _, raw := range c.URLs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--notify-webhook %q: give an http:// or https:// URL", raw)
		}
	}
	return nil
}

// Notifier sends the notifications. Notify never blocks.
type Notifier struct {
	cfg     Config
	m       metrics
	senders []*sender
	// mu guards last.
	mu sync.Mutex
	// last is, per session, the state change last notified (state and
	// state_since): a change is notified once, however often it is offered.
	last map[string]key
	// lastBudget is, per session, the budget crossing last notified.
	lastBudget map[string]key
	// wg counts the senders' goroutines.
	wg     sync.WaitGroup
	cancel context.CancelFunc
}

// key identifies one state change (or budget crossing: the budget and
// its since) of a session.
type key struct {
	state string
	since time.Time
}

// metrics are the notifier's counters.
type metrics struct {
	sent, failed, dropped, retries prometheus.Counter
}

// sender posts to one URL from its own queue.
type sender struct {
	url   string
	queue chan notice
}

// New validates cfg and starts one sender per URL. Close stops them.
func New(cfg Config) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	n := &Notifier{cfg: cfg, last: map[string]key{}, lastBudget: map[string]key{}, m: metrics{
		sent:    prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_notify_sent_total", Help: "Webhook notifications delivered (2xx)."}),
		failed:  prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_notify_failed_total", Help: "Webhook notifications given up after their last attempt."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_notify_dropped_total", Help: "Webhook notifications dropped because the URL's queue was full."}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "mpm_notify_retries_total", Help: "Webhook attempts that failed and were retried."}),
	}}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(n.m.sent, n.m.failed, n.m.dropped, n.m.retries)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	for _, u := range cfg.URLs {
		s := &sender{url: u, queue: make(chan notice, cfg.QueueSize)}
		n.senders = append(n.senders, s)
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.run(ctx, s)
		}()
	}
	return n, nil
}

// Notify queues a notification of s's state for every URL, unless s is not
// in an attention state or this state change was already notified. It
// never blocks: a full queue drops the notification and counts it.
func (n *Notifier) Notify(s protocol.Session) {
	if n == nil || !protocol.Attention(s.State) {
		return
	}
	n.offer(s, n.last, key{s.State, s.StateSince}, s.State)
}

// NotifyOverBudget queues a notification that s passed its budget
// (s.OverBudget, waiting for the person), once per crossing however often
// it is offered. It never blocks, like Notify.
func (n *Notifier) NotifyOverBudget(s protocol.Session) {
	if n == nil || s.OverBudget == nil || !s.OverBudget.Attention {
		return
	}
	n.offer(s, n.lastBudget, key{s.OverBudget.Budget, s.OverBudget.Since}, protocol.ReasonOverBudget)
}

// offer queues s for every URL, as reason, unless last already holds k
// for the session.
func (n *Notifier) offer(s protocol.Session, last map[string]key, k key, reason string) {
	n.mu.Lock()
	if last[s.SessionID] == k {
		n.mu.Unlock()
		return
	}
	last[s.SessionID] = k
	if len(last) > 100000 { // bound the memory: forget the lot, at worst a repeat
		clear(last)
		last[s.SessionID] = k
	}
	n.mu.Unlock()
	nt := notice{s, reason}
	for _, snd := range n.senders {
		select {
		case snd.queue <- nt:
		default:
			n.m.dropped.Inc()
			n.cfg.Logger.Warn("webhook queue full; dropping a notification", "url", redact(snd.url), "session_id", s.SessionID, "reason", reason)
		}
	}
}

// notice is one notification: the session and why it needs its person
// (an attention state, or protocol.ReasonOverBudget).
type notice struct {
	s      protocol.Session
	reason string
}

// Close stops the senders; notifications still queued are dropped.
func (n *Notifier) Close() {
	if n == nil {
		return
	}
	n.cancel()
	n.wg.Wait()
}

// run sends s's queue until ctx ends.
func (n *Notifier) run(ctx context.Context, s *sender) {
	for {
		select {
		case <-ctx.Done():
			return
		case nt := <-s.queue:
			n.deliver(ctx, s.url, nt)
		}
	}
}

// deliver posts one notification, retrying with backoff on network
// errors, 429 and 5xx.
func (n *Notifier) deliver(ctx context.Context, u string, nt notice) {
	s := nt.s
	body, ctype, headers := n.render(nt)
	wait := n.cfg.Backoff
	var err error
	for attempt := 1; attempt <= n.cfg.Attempts; attempt++ {
		var retry bool
		retry, err = n.post(ctx, u, body, ctype, headers)
		if err == nil {
			n.m.sent.Inc()
			return
		}
		if !retry || attempt == n.cfg.Attempts || ctx.Err() != nil {
			break
		}
		n.m.retries.Inc()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			n.m.failed.Inc()
			return
		case <-t.C:
		}
		wait *= 2
	}
	n.m.failed.Inc()
	n.cfg.Logger.Warn("webhook notification failed; check the URL and the receiver", "url", redact(u), "session_id", s.SessionID, "error", err)
}

// post sends one request; retry says whether trying again may help.
func (n *Notifier) post(ctx context.Context, u string, body []byte, ctype string, headers map[string]string) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("User-Agent", "mpm-wsd")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := n.cfg.Client.Do(req)
	if err != nil {
		return true, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("receiver answered %s", resp.Status)
	default:
		return false, errors.New("receiver answered " + resp.Status + " (not retried)")
	}
}

// Message is the json format's body.
type Message struct {
	// Text is a one-line description for people.
	Text      string `json:"text"`
	SessionID string `json:"session_id"`
	Project   string `json:"project"`
	Cwd       string `json:"cwd,omitempty"`
	Origin    string `json:"origin,omitempty"`
	State     string `json:"state"`
	// Reason is why the session needs its person: its state
	// (needs_permission, waiting_input) or over_budget.
	Reason           string    `json:"reason"`
	Since            time.Time `json:"since"`
	Message          string    `json:"message,omitempty"`
	NotificationType string    `json:"notification_type,omitempty"`
	// OverBudget is the budget passed, with reason over_budget.
	OverBudget *protocol.OverBudget `json:"over_budget,omitempty"`
	// URL opens the dashboard on the session (no token in it).
	URL string `json:"url,omitempty"`
}

// stateWords are the states as people read them.
var stateWords = map[string]string{
	protocol.StateNeedsPermission: "needs permission",
	protocol.StateWaitingInput:    "is waiting for your input",
}

// message builds the json body for nt.
func (n *Notifier) message(nt notice) Message {
	s := nt.s
	m := Message{
		SessionID: s.SessionID, Project: gist.Project(s.Cwd), Cwd: s.Cwd, Origin: s.Origin, State: s.State, Reason: nt.reason,
		Since: s.StateSince, Message: s.StateMessage, NotificationType: s.NotificationType,
	}
	if n.cfg.DashboardURL != "" {
		m.URL = sessionURL(n.cfg.DashboardURL, s.SessionID)
	}
	where := m.Project
	if s.Origin != "" {
		where += " on " + s.Origin
	}
	if nt.reason == protocol.ReasonOverBudget && s.OverBudget != nil {
		ob := s.OverBudget
		m.Since, m.OverBudget, m.Message = ob.Since, ob, gist.Budget(ob)
		m.Text = fmt.Sprintf("Claude Code in %s is %s", where, m.Message)
		return m
	}
	m.Text = fmt.Sprintf("Claude Code in %s %s", where, stateWords[s.State])
	if s.StateMessage != "" {
		m.Text += ": " + s.StateMessage
	}
	return m
}

// sessionURL is base with ?session=id (any fragment, where a token would
// be, removed).
func sessionURL(base, id string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	u.Fragment = ""
	u.User = nil
	q := u.Query()
	q.Del("token")
	q.Set("session", id)
	u.RawQuery = q.Encode()
	return u.String()
}

// render builds the request body, content type and extra headers of the
// configured format.
func (n *Notifier) render(nt notice) ([]byte, string, map[string]string) {
	s := nt.s
	m := n.message(nt)
	switch n.cfg.Format {
	case "slack":
		text := slackEscape.Replace(m.Text)
		if m.URL != "" {
			text += " <" + m.URL + "|open in mpm>"
		}
		b, _ := json.Marshal(map[string]string{"text": text})
		return b, "application/json", nil
	case "ntfy":
		words := stateWords[s.State]
		if nt.reason == protocol.ReasonOverBudget {
			words = "over budget"
		}
		h := map[string]string{"Title": gist.Clean("mpm: "+m.Project+" "+words, 200), "Tags": "robot"}
		if nt.reason == protocol.StateNeedsPermission {
			h["Priority"] = "high"
		}
		if m.URL != "" {
			h["Click"] = m.URL
		}
		return []byte(m.Text), "text/plain; charset=utf-8", h
	default:
		b, _ := json.Marshal(m)
		return b, "application/json", nil
	}
}

// slackEscape escapes what Slack's message format reserves.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// redact hides a URL's user info and query (webhook secrets live there).
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.String()
}
