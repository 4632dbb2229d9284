package wsd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/protocol/codec"
)

// isAddrInUse recognises "address already in use" on every platform
// (Windows reports WSAEADDRINUSE, which is not syscall.EADDRINUSE).
func isAddrInUse(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) {
		s := strings.ToLower(op.Err.Error())
		return strings.Contains(s, "address already in use") || strings.Contains(s, "only one usage of each socket address")
	}
	return false
}

// probeHolder asks whatever holds addr for /healthz and describes it when it
// is an mpm-wsd; "" otherwise.
func probeHolder(addr string) string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return ""
	}
	h, err := codec.DecodeHealth(body)
	if err != nil || h.Service != protocol.ServiceName {
		return ""
	}
	return fmt.Sprintf("another mpm-wsd (pid %d, version %s)", h.Pid, h.Version)
}
