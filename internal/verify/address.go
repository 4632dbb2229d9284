package verify

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/mpm-dev/mpm/internal/paths"
)

// checkAddress is check 1: what localhost resolves to, and whether the
// configured address is an IPv4 loopback host:port.
func checkAddress(ctx context.Context, st *state) Result {
	res := Result{Name: "address"}
	addr := st.cfg.Addr
	lh := describeLocalhost(ctx, st.cfg)

	host, port, err := net.SplitHostPort(addr)
	if err == nil {
		var p int
		p, err = strconv.Atoi(port)
		if err == nil && (p <= 0 || p > 65535) {
			err = fmt.Errorf("port %d is out of range", p)
		}
	}
	if err != nil {
		res.Status = Fail
		res.Detail = sentences(fmt.Sprintf("the address %q is not host:port (%v)", addr, err), lh.text)
		res.Fix = fmt.Sprintf("export %s=%s (or pass --addr %s), the same for every mpm program", paths.EnvAddr, paths.DefaultAddr, paths.DefaultAddr)
		return res
	}
	st.addrOK = true
	ip := net.ParseIP(host)
	switch {
	case ip != nil && ip.To4() != nil && ip.IsLoopback():
		res.Status = OK
		res.Detail = sentences(addr+" is IPv4 loopback", lh.text)
	case strings.EqualFold(host, "localhost"):
		// It works when localhost resolves to 127.0.0.1 first; it is a
		// risk, not a failure.
		res.Status = Warn
		res.Detail = sentences(fmt.Sprintf("the address %s names localhost rather than an IP address: a program that resolves it to ::1 first misses a daemon listening on 127.0.0.1, or waits for that attempt to fail", addr), lh.text)
		res.Fix = fmt.Sprintf("use 127.0.0.1:%s everywhere: export %s=127.0.0.1:%s (and mpm-manager install --addr 127.0.0.1:%s, mpm-hook install --addr 127.0.0.1:%s)", port, paths.EnvAddr, port, port, port)
		return res
	case ip != nil && ip.IsLoopback():
		res.Status = Warn
		res.Detail = sentences(fmt.Sprintf("%s is IPv6 loopback; mpm's programs expect 127.0.0.1", addr), lh.text)
		res.Fix = fmt.Sprintf("export %s=127.0.0.1:%s for every mpm program", paths.EnvAddr, port)
		return res
	default:
		res.Status = Warn
		res.Detail = sentences(fmt.Sprintf("%s is not a loopback address: the daemon must run with --allow-remote and its token travels over the network", addr), lh.text)
		res.Fix = fmt.Sprintf("unless you mean to reach a daemon on another machine: export %s=%s", paths.EnvAddr, paths.DefaultAddr)
		return res
	}
	if lh.v6First {
		res.Status = Warn
		res.Fix = "nothing to change in mpm (it dials 127.0.0.1); but use http://127.0.0.1:" + port + "/, not http://localhost:" + port + "/, in a browser or curl"
	}
	return res
}

// localhostInfo is what "localhost" resolves to.
type localhostInfo struct {
	text    string
	v6First bool
}

func describeLocalhost(ctx context.Context, cfg Config) localhostInfo {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	addrs, err := cfg.LookupHost(ctx, "localhost")
	if err != nil {
		return localhostInfo{text: fmt.Sprintf("localhost does not resolve (%v)", err)}
	}
	info := localhostInfo{text: "localhost → " + strings.Join(addrs, ", ")}
	if len(addrs) > 0 {
		if ip := net.ParseIP(addrs[0]); ip != nil && ip.To4() == nil {
			info.v6First = true
			info.text += " (" + addrs[0] + " first: a client dialing localhost may miss a daemon on 127.0.0.1)"
		}
	}
	return info
}

// DashboardURL is http://ADDR/[?session=ID][#token=TOKEN].
func DashboardURL(addr, session, tok string) string {
	u := "http://" + addr + "/"
	if session != "" {
		u += "?session=" + url.QueryEscape(session)
	}
	if tok != "" {
		u += "#token=" + tok
	}
	return u
}
