package client

import (
	"context"
	"net/url"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// UsageParams are GET /v1/usage's parameters; empty ones are left out
// (the daemon's defaults: today, by the hour, in its own zone).
type UsageParams struct {
	Since, Until, Bucket, TZ string
}

// Usage asks for the sessions' tokens and cost over time (GET /v1/usage).
// A bad parameter is a *StatusError with Code 400 and the daemon's reason.
func (c *Client) Usage(ctx context.Context, p UsageParams) (protocol.UsageReport, error) {
	q := url.Values{}
	for k, v := range map[string]string{"since": p.Since, "until": p.Until, "bucket": p.Bucket, "tz": p.TZ} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var rep protocol.UsageReport
	err := c.getJSON(ctx, "/v1/usage", q, &rep)
	return rep, err
}
