package wsd

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/token"
)

// guard enforces the access rules of docs/protocol.md: Host on every
// request, Origin and token on the API.
type guard struct {
	// hosts are the accepted Host header values.
	hosts map[string]bool
	// origins are the accepted Origin header values.
	origins map[string]bool
	// token is the access token.
	token string
	// m counts refusals.
	m *metrics
}

func newGuard(addr string, extraHosts []string, tok string, m *metrics) *guard {
	g := &guard{hosts: map[string]bool{}, origins: map[string]bool{}, token: tok, m: m}
	host, port, _ := net.SplitHostPort(addr)
	names := []string{"127.0.0.1", "localhost", "[::1]"}
	if ip := net.ParseIP(host); ip != nil && !ip.IsLoopback() && !ip.IsUnspecified() {
		if ip.To4() == nil {
			host = "[" + host + "]"
		}
		names = append(names, host)
	}
	for _, n := range names {
		g.hosts[n+":"+port] = true
		g.origins["http://"+n+":"+port] = true
	}
	for _, h := range extraHosts {
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, port)
		}
		g.hosts[h] = true
		g.origins["http://"+h] = true
	}
	return g
}

// hostOK reports whether the Host header names this daemon. A request whose
// Host is someone else's name is a DNS-rebinding attempt (or a misdirected
// request) and is refused.
func (g *guard) hostOK(r *http.Request) bool { return g.hosts[strings.ToLower(r.Host)] }

// originOK reports whether the Origin header, if any, is this daemon's own.
// Requests without Origin come from programs, not web pages.
func (g *guard) originOK(r *http.Request) bool {
	o, ok := r.Header["Origin"]
	if !ok {
		return true
	}
	return len(o) == 1 && g.origins[strings.ToLower(o[0])]
}

// tokenOK reports whether the request carries the token; allowQuery admits
// ?token= (the browser WebSocket cannot set headers).
func (g *guard) tokenOK(r *http.Request, allowQuery bool) bool {
	if h := r.Header.Get(token.Header); h != "" {
		const p = "Bearer "
		if len(h) > len(p) && strings.EqualFold(h[:len(p)], p) {
			return tokenEqual(strings.TrimSpace(h[len(p):]), g.token)
		}
		return false
	}
	if allowQuery {
		if q := r.URL.Query().Get(token.QueryParam); q != "" {
			return tokenEqual(q, g.token)
		}
	}
	return false
}

// hostOnly wraps h with the Host check only (/healthz, static files).
func (g *guard) hostOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.hostOK(r) {
			g.refuseHost(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// api wraps h with the Host, Origin and token checks.
func (g *guard) api(h http.Handler, allowQueryToken bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.hostOK(r) {
			g.refuseHost(w, r)
			return
		}
		if !g.originOK(r) {
			g.m.reject(event.ReasonForbidden)
			w.Header().Set("Connection", "close")
			httpError(w, http.StatusForbidden, fmt.Sprintf("Origin %q is not this daemon's own origin: only the mpm dashboard served by this daemon may use its API from a browser", r.Header.Get("Origin")))
			return
		}
		if !g.tokenOK(r, allowQueryToken) {
			g.m.reject(event.ReasonUnauthorized)
			g.m.refusedDelivery(r)
			w.Header().Set("Connection", "close") // no idle keep-alive for a caller without the token
			w.Header().Set("WWW-Authenticate", `Bearer realm="mpm"`)
			// The answer goes to callers who may not hold the token: it
			// does not say where the token file is (mpm-verify does).
			httpError(w, http.StatusUnauthorized, "missing or wrong token: send 'Authorization: Bearer <token>' with the daemon's access token; see mpm-verify")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (g *guard) refuseHost(w http.ResponseWriter, r *http.Request) {
	g.m.reject(event.ReasonForbidden)
	w.Header().Set("Connection", "close")
	httpError(w, http.StatusForbidden, fmt.Sprintf("Host %q is not one of this daemon's names (use http://127.0.0.1:PORT): refused to guard against DNS rebinding", r.Host))
}

// httpError writes a one-line text/plain error.
func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}
