package hook

import (
	"time"

	"github.com/mpm-dev/mpm/internal/token"
)

// maxAnswer bounds what Get reads of an answer, headers included.
const maxAnswer = 1 << 20

// Get asks the daemon at addr for path (GET, HTTP/1.0, with the bearer
// token when tok is not empty) with the hook's own light client, and returns
// the status code and the body (at most about 1 MiB), all within timeout.
// mpm-hookctl's status check uses it, so that the installer links no
// net/http either.
func Get(addr, path, tok string, timeout time.Duration) (status int, body []byte, err error) {
	b := make([]byte, 0, 256)
	b = append(b, "GET "...)
	b = append(b, path...)
	b = append(b, " HTTP/1.0\r\nHost: "...)
	b = append(b, addr...)
	if tok != "" {
		if !token.Valid(tok) {
			return 0, nil, token.ErrInvalid
		}
		b = append(b, "\r\nAuthorization: Bearer "...)
		b = append(b, tok...)
	}
	b = append(b, "\r\nUser-Agent: mpm-hook\r\nConnection: close\r\n\r\n"...)
	code, resp, err := roundTrip(addr, [][]byte{b}, time.Now().Add(timeout), true)
	if err != nil {
		return 0, nil, err
	}
	for i := 0; i+4 <= len(resp); i++ {
		if string(resp[i:i+4]) == "\r\n\r\n" {
			return code, resp[i+4:], nil
		}
	}
	return code, nil, errNoStatus
}
