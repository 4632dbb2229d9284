package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/protocol/codec"
)

// StatusError is an HTTP answer other than the expected one.
type StatusError struct {
	// Method and Path name the request.
	Method, Path string
	// Code is the HTTP status code.
	Code int
	// Message is the daemon's one-line explanation (the body), trimmed.
	Message string
}

func (e *StatusError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Code)
	}
	hint := ""
	switch e.Code {
	case http.StatusUnauthorized:
		hint = " (the token does not match the daemon's: use the daemon's --data-dir / MPM_DATA_DIR, or --token)"
	case http.StatusForbidden:
		hint = " (the daemon refused the Host or Origin: dial it by 127.0.0.1:PORT)"
	}
	return fmt.Sprintf("%s %s: %d %s%s", e.Method, e.Path, e.Code, msg, hint)
}

// IsStatus reports whether err is a StatusError with the given code.
func IsStatus(err error, code int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == code
}

// NotMPMError says that something other than mpm-wsd answered on the address.
type NotMPMError struct {
	// Addr is the address asked.
	Addr string
	// Detail describes what answered.
	Detail string
}

func (e *NotMPMError) Error() string {
	return fmt.Sprintf("%s is not an mpm-wsd (%s): another program holds the port; stop it or use another --addr / MPM_ADDR", e.Addr, e.Detail)
}

// Health fetches /healthz. It returns the decoded answer also for a 503
// (with an error saying the daemon is unhealthy), and a *NotMPMError when
// something else answers.
func (c *Client) Health(ctx context.Context) (protocol.Health, error) {
	raw, err := c.HealthRaw(ctx)
	if err != nil {
		return protocol.Health{}, err
	}
	h, err := codec.DecodeHealth(raw.Body)
	if err != nil || h.Service != protocol.ServiceName {
		return h, &NotMPMError{Addr: c.cfg.Addr, Detail: fmt.Sprintf("GET /healthz answered %d %q", raw.Code, firstLine(raw.Body, 80))}
	}
	if raw.Code != http.StatusOK || !h.OK {
		return h, fmt.Errorf("mpm-wsd at %s is unhealthy (%d): %s", c.cfg.Addr, raw.Code, h.Error)
	}
	return h, nil
}

// RawHealth is the answer to GET /healthz as it came, for a caller that
// describes whatever answers on the address (mpm-verify names a stranger).
type RawHealth struct {
	// Code is the HTTP status code.
	Code int
	// Body is the answer's body, at most 1 MiB of it.
	Body []byte
}

// HealthRaw fetches /healthz without judging the answer: any HTTP answer
// is returned, whoever sent it. The error is a *UnreachableError when
// nothing answered HTTP, or the failure to read the body.
func (c *Client) HealthRaw(ctx context.Context) (RawHealth, error) {
	resp, err := c.do(ctx, http.MethodGet, "/healthz", nil, nil, false)
	if err != nil {
		return RawHealth{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	raw := RawHealth{Code: resp.StatusCode, Body: body}
	if err != nil {
		return raw, fmt.Errorf("GET /healthz: %w", err)
	}
	return raw, nil
}

// Sessions fetches GET /v1/sessions, newest activity first.
func (c *Client) Sessions(ctx context.Context) ([]protocol.Session, error) {
	var out struct {
		Sessions []protocol.Session `json:"sessions"`
	}
	if err := c.getJSON(ctx, "/v1/sessions", nil, &out); err != nil {
		return nil, err
	}
	return out.Sessions, nil
}

// HistoryPage is one page of GET /v1/events.
type HistoryPage struct {
	// Events are the retained events after since, in seq order.
	Events []protocol.Event
	// NextSince is the since for the next page.
	NextSince uint64
	// LastSeq is the daemon's last seq.
	LastSeq uint64
	// OldestSeq is the oldest retained seq.
	OldestSeq uint64
}

// History fetches one page of retained events with seq > since, of the
// given sessions (none: all); limit 0 means the daemon's default (1000).
func (c *Client) History(ctx context.Context, since uint64, sessionIDs []string, limit int) (HistoryPage, error) {
	q := url.Values{}
	q.Set("since", strconv.FormatUint(since, 10))
	for _, s := range sessionIDs {
		q.Add("session", s)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var raw protocol.EventsPage
	if err := c.getJSON(ctx, "/v1/events", q, &raw); err != nil {
		return HistoryPage{}, err
	}
	evs, err := codec.DecodeEvents(raw.Events)
	if err != nil {
		return HistoryPage{}, fmt.Errorf("GET /v1/events: bad event record: %w", err)
	}
	return HistoryPage{Events: evs, NextSince: raw.NextSince, LastSeq: raw.LastSeq, OldestSeq: raw.OldestSeq}, nil
}

// PostOptions are the optional ingest headers.
type PostOptions struct {
	// IdempotencyKey makes a repeated delivery a no-op (Idempotency-Key).
	IdempotencyKey string
	// Ephemeral posts a probe: fanned out, never stored, no seq.
	Ephemeral bool
	// SentAt is sent as Mpm-Sent-At when not zero.
	SentAt time.Time
}

// PostResult is the daemon's answer to an accepted event.
type PostResult struct {
	// Seq is the event's seq (the original's for a duplicate); 0 for an
	// ephemeral event.
	Seq uint64
	// Duplicate is set when the Idempotency-Key was already accepted.
	Duplicate bool
}

// Post sends one hook payload to POST /v1/events. A refusal is a
// *StatusError with the daemon's message.
func (c *Client) Post(ctx context.Context, payload []byte, opts PostOptions) (PostResult, error) {
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/json")
	if opts.IdempotencyKey != "" {
		hdr.Set(protocol.HeaderIdempotencyKey, opts.IdempotencyKey)
	}
	if opts.Ephemeral {
		hdr.Set(protocol.HeaderEphemeral, "1")
	}
	if !opts.SentAt.IsZero() {
		hdr.Set(protocol.HeaderSentAt, strconv.FormatInt(opts.SentAt.UnixNano(), 10))
	}
	resp, err := c.do(ctx, http.MethodPost, "/v1/events", hdr, payload, true)
	if err != nil {
		return PostResult{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch resp.StatusCode {
	case http.StatusAccepted, http.StatusOK:
	default:
		return PostResult{}, &StatusError{Method: "POST", Path: "/v1/events", Code: resp.StatusCode, Message: firstLine(body, 300)}
	}
	res := PostResult{Duplicate: resp.StatusCode == http.StatusOK}
	if v := resp.Header.Get(protocol.HeaderSeq); v != "" {
		seq, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return res, fmt.Errorf("POST /v1/events: bad Mpm-Seq %q", v)
		}
		res.Seq = seq
	} else if !opts.Ephemeral {
		return res, fmt.Errorf("POST /v1/events: answer %d without Mpm-Seq: is this an mpm-wsd?", resp.StatusCode)
	}
	return res, nil
}

// getJSON GETs path with the token and decodes a 200 answer into v.
func (c *Client) getJSON(ctx context.Context, path string, q url.Values, v any) error {
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	resp, err := c.do(ctx, http.MethodGet, path, nil, nil, true)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return statusError("GET", path, resp)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: bad answer: %w", stripQuery(path), err)
	}
	return nil
}

// do sends one request to the daemon.
func (c *Client) do(ctx context.Context, method, path string, hdr http.Header, body []byte, auth bool) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+c.cfg.Addr+path, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if auth {
		a, err := c.authHeader()
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", a)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &UnreachableError{Addr: c.cfg.Addr, Err: err}
	}
	return resp, nil
}

// UnreachableError says the daemon could not be reached at all.
type UnreachableError struct {
	// Addr is the address dialed.
	Addr string
	// Err is the transport error.
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach mpm-wsd at %s: %v (is it running? `mpm-manager status`, or start it with `mpm-manager start`; `mpm-verify` checks every link)", e.Addr, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// firstLine returns b's first line, at most n bytes.
func firstLine(b []byte, n int) string {
	s := string(b)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > n {
		s = s[:n] + "…"
	}
	return strings.TrimSpace(s)
}

func stripQuery(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}

// statusError is the StatusError of an answer other than 200: the method,
// the path without its query, and the first line of the body.
func statusError(method, path string, resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return &StatusError{Method: method, Path: stripQuery(path), Code: resp.StatusCode, Message: firstLine(body, 300)}
}
