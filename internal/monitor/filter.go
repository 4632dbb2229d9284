package monitor

import (
	"strings"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// Filter selects the events mpm-monitor prints. Empty lists match all.
type Filter struct {
	// Sessions are session ids or prefixes of them.
	Sessions []string
	// Events are hook event names, matched case-insensitively.
	Events []string
	// Tools are tool names, matched case-insensitively; a trailing "*"
	// matches a prefix (mcp__github__*).
	Tools []string
	// Origins are fleet origin names or prefixes of them, matched
	// case-insensitively; an event without an origin (ingested locally)
	// matches none.
	Origins []string
}

// Match reports whether ev passes every list.
func (f *Filter) Match(ev *protocol.Event) bool {
	if len(f.Sessions) > 0 && !anyPrefix(f.Sessions, ev.SessionID) {
		return false
	}
	if len(f.Origins) > 0 && !anyFoldPrefix(f.Origins, ev.Origin) {
		return false
	}
	if len(f.Events) > 0 && !anyName(f.Events, ev.Event) {
		return false
	}
	if len(f.Tools) > 0 && !anyName(f.Tools, ev.Tool) {
		return false
	}
	return true
}

// ClientSide reports whether the filter needs more than the daemon's
// session filter given the server-side session list (see ServerSessions).
func (f *Filter) ClientSide(server []string) bool {
	return len(f.Events) > 0 || len(f.Tools) > 0 || len(f.Origins) > 0 || (len(f.Sessions) > 0 && len(server) == 0)
}

// MatchSession reports whether a session (its id and origin) passes the
// --session and --origin filters.
func (f *Filter) MatchSession(id, origin string) bool {
	if len(f.Sessions) > 0 && !anyPrefix(f.Sessions, id) {
		return false
	}
	return len(f.Origins) == 0 || anyFoldPrefix(f.Origins, origin)
}

// ServerSessions returns the session ids to subscribe to: the --session
// values when every one is the full id of a session the daemon knows,
// else nil (subscribe to all and match prefixes here, which also catches
// sessions that start later).
func (f *Filter) ServerSessions(known []string) []string {
	if len(f.Sessions) == 0 {
		return nil
	}
	set := make(map[string]bool, len(known))
	for _, k := range known {
		set[k] = true
	}
	for _, s := range f.Sessions {
		if !set[s] {
			return nil
		}
	}
	return f.Sessions
}

func anyPrefix(prefixes []string, s string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// anyFoldPrefix reports whether s starts with one of prefixes, ignoring
// case; an empty s matches none.
func anyFoldPrefix(prefixes []string, s string) bool {
	if s == "" {
		return false
	}
	for _, p := range prefixes {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			return true
		}
	}
	return false
}

func anyName(names []string, s string) bool {
	for _, n := range names {
		if p, ok := strings.CutSuffix(n, "*"); ok {
			if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
				return true
			}
		} else if strings.EqualFold(n, s) {
			return true
		}
	}
	return false
}
