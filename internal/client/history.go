package client

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// SearchParams are GET /v1/search's parameters; empty ones are left out.
type SearchParams struct {
	Query, Session, Origin, Since, Until string
	Limit                                int
}

// Search asks the daemon's full-text index (GET /v1/search). A bad query
// is a *StatusError with Code 400 and the daemon's reason; a daemon
// without a journal answers 501.
func (c *Client) Search(ctx context.Context, p SearchParams) (protocol.SearchResult, error) {
	q := url.Values{"q": {p.Query}}
	for k, v := range map[string]string{"session": p.Session, "origin": p.Origin, "since": p.Since, "until": p.Until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	var res protocol.SearchResult
	err := c.getJSON(ctx, "/v1/search", q, &res)
	return res, err
}

// Export copies a session's export (GET /v1/sessions/{id}/export, format
// ndjson or markdown) to w as it streams in.
func (c *Client) Export(ctx context.Context, session, format string, w io.Writer) error {
	path := "/v1/sessions/" + url.PathEscape(session) + "/export?format=" + url.QueryEscape(format)
	resp, err := c.do(ctx, http.MethodGet, path, nil, nil, true)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return statusError("GET", path, resp)
	}
	_, err = io.Copy(w, resp.Body)
	return err
}
