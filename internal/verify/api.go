package verify

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/mpm-dev/mpm/internal/client"
)

// apiClient is the shared client of mpm-wsd for cfg's address, with tok as
// the token ("" for the requests that need none). Each request is bounded
// by cfg.Timeout and makes a fresh connection, so a check sees the daemon
// as it is now and leaves no idle connection behind.
func apiClient(cfg Config, tok string) (*client.Client, error) {
	return client.New(client.Config{
		Addr:    cfg.Addr,
		Token:   tok,
		DataDir: cfg.DataDir,
		HTTPClient: &http.Client{
			Timeout:   cfg.Timeout,
			Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		},
	})
}

// cause is the transport error behind a request that did not reach the
// daemon, without the client's advice and the "Get URL:" prefix: the
// checks give their own fix. Other errors are returned as they are.
func cause(err error) error {
	var ue *client.UnreachableError
	if !errors.As(err, &ue) {
		return err
	}
	var ur *url.Error
	if errors.As(ue.Err, &ur) {
		return ur.Err
	}
	return ue.Err
}
