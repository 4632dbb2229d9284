// Package hookcfg wires mpm-hook into Claude Code's settings files: it
// installs, removes and reports our hook entries in the user, project and
// local settings.json, keeping everything else in those files as it was.
//
// Our entries are recognised by what they point at — a command whose
// executable is named mpm-hook, or an http hook aimed at /v1/events on a
// loopback host — never by a marker key, because Claude Code drops unknown
// keys when it rewrites the file.
package hookcfg

import (
	"fmt"
	"sort"
	"strings"
)

// EventSpec describes one Claude Code hook event as far as our installer
// cares.
type EventSpec struct {
	// Name is the event name as it appears under "hooks" in settings.json.
	Name string
	// ToolMatcher is true for events whose matcher is matched against a tool
	// name; we register them with matcher "*" so every tool is seen. Other
	// events get a group without a matcher key, which matches everything.
	ToolMatcher bool
	// HTTP is true when the event accepts "type": "http" hooks. SessionStart
	// and Setup accept only command hooks.
	HTTP bool
	// Timeout is the hook timeout we write, in seconds (Claude Code's unit).
	Timeout int
	// Default is true when a plain `install` registers the event.
	Default bool
	// Sync makes our command hook on the event synchronous. Only
	// SessionEnd: Claude Code exits right after it and cuts off async hooks
	// (seen with claude -p 2.1.x: the session would never end in mpm),
	// while a sync one runs within its timeout; mpm-hook takes a few ms.
	Sync bool
}

// hookTimeout is the timeout, in seconds, of our entries on ordinary events.
// mpm-hook itself returns long before it (its wait for the daemon is far
// shorter); the value only bounds a hook that is somehow stuck.
const hookTimeout = 5

// sessionEndTimeout is the timeout, in seconds, on SessionEnd: Claude Code
// gives SessionEnd hooks about 1.5 s in total before it exits, so ours must
// fit in that budget. Timeouts are whole seconds in practice, hence 1.
const sessionEndTimeout = 1

// Events is every event the installer knows, in the order it writes them.
// It follows the hooks reference (code.claude.com/docs/en/hooks).
var Events = []EventSpec{
	{Name: "SessionStart", HTTP: false, Timeout: hookTimeout, Default: true},
	{Name: "Setup", HTTP: false, Timeout: hookTimeout, Default: true},
	{Name: "UserPromptSubmit", HTTP: true, Timeout: hookTimeout, Default: true},
	{Name: "PreToolUse", ToolMatcher: true, HTTP: true, Timeout: hookTimeout, Default: true},
	{Name: "PermissionRequest", ToolMatcher: true, HTTP: true, Timeout: hookTimeout, Default: true},
	{Name: "PostToolUse", ToolMatcher: true, HTTP: true, Timeout: hookTimeout, Default: true},
	{Name: "PostToolUseFailure", ToolMatcher: true, HTTP: true, Timeout: hookTimeout, Default: true},
	{Name: "Notification", HTTP: true, Timeout: hookTimeout, Default: true},
	{Name: "SubagentStart", HTTP: true, Timeout: hookTimeout, Default: true},
	{Name: "SubagentStop", HTTP: true, Timeout: hookTimeout, Default: true},
	{Name: "Stop", HTTP: true, Timeout: hookTimeout, Default: true},
	{Name: "StopFailure", HTTP: true, Timeout: hookTimeout, Default: true},
	{Name: "PreCompact", HTTP: true, Timeout: hookTimeout, Default: true},
	{Name: "PostCompact", HTTP: true, Timeout: hookTimeout, Default: true},
	{Name: "SessionEnd", HTTP: true, Timeout: sessionEndTimeout, Default: true, Sync: true},
}

// StateEvents are the events mpm-wsd derives a session's state from
// (working, needs_permission, waiting_input, idle, compacting, ended, and
// the subagents): mpm-verify warns when an install misses one.
var StateEvents = []string{
	"SessionStart", "UserPromptSubmit", "PreToolUse", "PermissionRequest", "PostToolUse", "PostToolUseFailure",
	"Notification", "SubagentStart", "SubagentStop", "Stop", "StopFailure", "PreCompact", "PostCompact", "SessionEnd",
}

// Forbidden are events we never register on, with the reason: their hooks
// change Claude Code's behaviour or hold the screen.
var Forbidden = map[string]string{
	"WorktreeCreate": "a WorktreeCreate hook replaces Claude Code's own worktree creation (it must print the new worktree's path)",
	"MessageDisplay": "a MessageDisplay hook holds the screen while it runs",
}

// LookupEvent returns the spec of the named event (exact, case-sensitive
// name, as Claude Code matches it).
func LookupEvent(name string) (EventSpec, bool) {
	for _, e := range Events {
		if e.Name == name {
			return e, true
		}
	}
	return EventSpec{}, false
}

// DefaultEvents returns the names of the events a plain install registers.
func DefaultEvents() []string {
	var out []string
	for _, e := range Events {
		if e.Default {
			out = append(out, e.Name)
		}
	}
	return out
}

// ParseEvents turns a comma-separated --events list into event specs, in
// the table's order, without duplicates. "all" or "" means the defaults.
func ParseEvents(list string) ([]EventSpec, error) {
	list = strings.TrimSpace(list)
	if list == "" || strings.EqualFold(list, "all") {
		list = strings.Join(DefaultEvents(), ",")
	}
	want := map[string]bool{}
	for _, raw := range strings.Split(list, ",") {
		name := strings.TrimSpace(raw)
		if name == "" {
			continue
		}
		if why, bad := Forbidden[name]; bad {
			return nil, fmt.Errorf("refusing to register on %s: %s; remove it from --events", name, why)
		}
		spec, ok := LookupEvent(name)
		if !ok {
			// Accept a different case, but say what the real name is.
			for _, e := range Events {
				if strings.EqualFold(e.Name, name) {
					spec, ok = e, true
				}
			}
			for f := range Forbidden {
				if strings.EqualFold(f, name) {
					return nil, fmt.Errorf("refusing to register on %s: %s; remove it from --events", f, Forbidden[f])
				}
			}
		}
		if !ok {
			return nil, fmt.Errorf("unknown hook event %q; known events: %s", name, strings.Join(allNames(), ", "))
		}
		want[spec.Name] = true
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("--events lists no event; give a comma-separated list such as PreToolUse,PostToolUse, or leave it out for all")
	}
	var out []EventSpec
	for _, e := range Events {
		if want[e.Name] {
			out = append(out, e)
		}
	}
	return out, nil
}

func allNames() []string {
	var n []string
	for _, e := range Events {
		n = append(n, e.Name)
	}
	sort.Strings(n)
	return n
}
