package hook

import (
	"errors"
	"time"

	"github.com/mpm-dev/mpm/internal/paths"
)

// Transports, as the debug line names them.
const (
	viaSocket = "socket"
	viaTCP    = "tcp"
)

// post sends body to the daemon's POST /v1/events before deadline and
// returns the status code, the transport that answered (or was tried
// last) and the error. It tries the daemon's Unix socket in the data
// directory first (no token needed: being able to open it is the check),
// then TCP with the token, when the socket could not be reached (missing,
// stale, refused at connect) or refused this user (403). A socket that
// took the request but did not answer in time is not retried over TCP:
// the deadline is spent, and the caller spools.
func post(cfg Config, key string, sent time.Time, body []byte, deadline time.Time) (code int, via string, err error) {
	if socketTransport {
		req := buildRequest(cfg.Addr, "", key, sent.UnixNano(), body)
		code, _, err = roundTripSocket(paths.Socket(cfg.DataDir), req, deadline, false)
		if !socketFallback(code, err) {
			return code, viaSocket, err
		}
	}
	tok, terr := readToken(paths.Token(cfg.DataDir))
	if terr != nil {
		// No token yet: the daemon never ran here (or the socket refused
		// us and the token is not ours to read); spool.
		return code, viaTCP, terr
	}
	req := buildRequest(cfg.Addr, tok, key, sent.UnixNano(), body)
	code, _, err = roundTrip(cfg.Addr, req, deadline, false)
	return code, viaTCP, err
}

// socketFallback reports whether a socket attempt that ended with code and
// err should be followed by TCP.
func socketFallback(code int, err error) bool {
	if err == nil {
		return code == 403
	}
	var de *dialError
	return errors.As(err, &de)
}

// dialError is a failure to connect: nothing was sent.
type dialError struct{ err error }

func (e *dialError) Error() string { return "connect: " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }
