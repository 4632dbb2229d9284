package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// Approvals fetches GET /v1/approvals: the pending permission requests,
// oldest first, and whether answering from mpm is switched on.
func (c *Client) Approvals(ctx context.Context) (list []protocol.Approval, enabled bool, err error) {
	var out struct {
		Approvals []protocol.Approval `json:"approvals"`
		Enabled   bool                `json:"enabled"`
	}
	if err := c.getJSON(ctx, "/v1/approvals", nil, &out); err != nil {
		return nil, false, err
	}
	return out.Approvals, out.Enabled, nil
}

// Decide answers a pending permission request (POST /v1/approvals/{id}).
// who names the client in the journal ("monitor"). A request already
// resolved gives a *StatusError with Code 409 whose Message says how.
func (c *Client) Decide(ctx context.Context, id string, d protocol.ApprovalDecision, who string) (protocol.ApprovalResult, error) {
	body, _ := json.Marshal(d)
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/json")
	hdr.Set(protocol.HeaderClient, who)
	path := "/v1/approvals/" + url.PathEscape(id)
	resp, err := c.do(ctx, http.MethodPost, path, hdr, body, true)
	if err != nil {
		return protocol.ApprovalResult{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var res protocol.ApprovalResult
	switch resp.StatusCode {
	case http.StatusOK:
		if err := json.Unmarshal(raw, &res); err != nil {
			return res, fmt.Errorf("POST %s: bad answer: %w", path, err)
		}
		return res, nil
	case http.StatusConflict:
		json.Unmarshal(raw, &res)
		msg := "already resolved: " + res.Outcome
		if res.By != "" {
			msg += " by " + res.By
		}
		return res, &StatusError{Method: "POST", Path: path, Code: resp.StatusCode, Message: msg}
	}
	return res, &StatusError{Method: "POST", Path: path, Code: resp.StatusCode, Message: firstLine(raw, 300)}
}

// ApprovalMode fetches, and with set changes, the "answer from mpm"
// switch (GET/PUT /v1/approvals/mode).
func (c *Client) ApprovalMode(ctx context.Context, set *bool) (bool, error) {
	if set == nil {
		var m protocol.ApprovalMode
		err := c.getJSON(ctx, "/v1/approvals/mode", nil, &m)
		return m.Enabled, err
	}
	body, _ := json.Marshal(protocol.ApprovalMode{Enabled: *set})
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/json")
	hdr.Set(protocol.HeaderClient, "monitor")
	resp, err := c.do(ctx, http.MethodPut, "/v1/approvals/mode", hdr, body, true)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return false, &StatusError{Method: "PUT", Path: "/v1/approvals/mode", Code: resp.StatusCode, Message: firstLine(raw, 300)}
	}
	var m protocol.ApprovalMode
	if err := json.Unmarshal(raw, &m); err != nil {
		return false, fmt.Errorf("PUT /v1/approvals/mode: bad answer: %w", err)
	}
	return m.Enabled, nil
}
