package supervisor

import (
	"context"
	"net"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/supervisor/procinfo"
)

// portState is what holds the daemon's address before a start.
type portState struct {
	// free is true when we could bind the address ourselves.
	free bool
	// wsdPid is the pid an mpm-wsd on the address reports in /healthz, 0
	// when no mpm-wsd answered.
	wsdPid int
	// holderPid is the listening process's pid when the OS tells, else 0.
	holderPid int
	// holder describes the holder for humans.
	holder string
}

// probePort finds out whether addr is free and, when it is not, who holds
// it.
func probePort(ctx context.Context, addr string) portState {
	l, err := net.Listen("tcp", addr)
	if err == nil {
		l.Close()
		return portState{free: true}
	}
	var ps portState
	if h, _, err := fetchHealth(ctx, addr, 2*time.Second); err == nil && h.Service == protocol.ServiceName && h.Pid > 0 {
		ps.wsdPid = h.Pid
	}
	if pid, err := procinfo.PortOwner(addr); err == nil && pid > 0 {
		ps.holderPid = pid
	}
	switch {
	case ps.holderPid > 0:
		ps.holder = procinfo.Describe(ps.holderPid)
	case ps.wsdPid > 0:
		ps.holder = procinfo.Describe(ps.wsdPid) + ", by its /healthz"
	default:
		ps.holder = "a process this user cannot see (try: sudo ss -ltnp, or lsof -i)"
	}
	return ps
}
