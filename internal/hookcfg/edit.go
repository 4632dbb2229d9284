package hookcfg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Plan is what an install writes.
type Plan struct {
	// Mode chooses command or http entries.
	Mode Mode
	// Events are the events to wire.
	Events []EventSpec
	// Target is what the entries point at.
	Target Target
	// ApprovalWait, when > 0, makes the PermissionRequest entry a waiting
	// (not async) command hook that answers from mpm (install
	// --approvals): see approvalEntry.
	ApprovalWait time.Duration
}

// Action is what an edit did to one event.
type Action string

const (
	// Added means the event had none of our entries and now has one.
	Added Action = "added"
	// Updated means our entry was replaced (mode, path or timeout changed,
	// or duplicates were folded into one).
	Updated Action = "updated"
	// Unchanged means our entry was already exactly as wanted.
	Unchanged Action = "unchanged"
	// Removed means our entries were taken out of the event.
	Removed Action = "removed"
)

// Change is the effect of an edit on one event.
type Change struct {
	// Event is the hook event name.
	Event string
	// Action is what happened to it.
	Action Action
	// Count is how many of our entries were involved (removed, or folded).
	Count int
}

// Result is the outcome of an edit on a settings document.
type Result struct {
	// Before is the input and After the output; After == Before when
	// nothing changed.
	Before, After []byte
	// Changed is true when After differs from Before.
	Changed bool
	// Changes lists, per event, what was done.
	Changes []Change
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// doc is a settings document being edited.
type doc struct {
	// root is the top-level object.
	root *object
	// unit is the indent unit to write with.
	unit string
	// bom is true when the input started with a UTF-8 byte order mark.
	bom bool
}

// loadDoc parses a settings file's bytes. Missing or blank content is an
// empty object; anything else must be a valid JSON object.
func loadDoc(src []byte) (*doc, error) {
	d := &doc{unit: "  "}
	body := src
	if bytes.HasPrefix(body, utf8BOM) {
		d.bom = true
		body = body[len(utf8BOM):]
	}
	if len(bytes.TrimSpace(body)) == 0 {
		d.root = &object{}
		return d, nil
	}
	if err := validate(body); err != nil {
		return nil, err
	}
	if kind(body) != '{' {
		return nil, &ParseError{Line: 1, Column: 1, Msg: "the top level is not a JSON object; a Claude Code settings file must be {...}"}
	}
	root, err := parseObject(body)
	if err != nil {
		return nil, &ParseError{Msg: err.Error()}
	}
	d.root = root
	d.unit = detectIndent(body)
	return d, nil
}

// bytes renders the document.
func (d *doc) bytes() ([]byte, error) {
	out, err := indent(d.root.marshal(), d.unit)
	if err != nil {
		return nil, err
	}
	if d.bom {
		out = append(append([]byte{}, utf8BOM...), out...)
	}
	return out, nil
}

// hooksObject returns the "hooks" object; created is true when the document
// had none (an empty one is returned).
func (d *doc) hooksObject() (h *object, created bool, err error) {
	raw, ok := d.root.get("hooks")
	if !ok {
		return &object{}, true, nil
	}
	if kind(raw) != '{' {
		return nil, false, &ParseError{Msg: fmt.Sprintf(`"hooks" is %s, not an object; Claude Code expects {"EventName": [...]} there: fix or remove it by hand, then run this again`, describe(raw))}
	}
	h, err = parseObject(raw)
	if err != nil {
		return nil, false, &ParseError{Msg: err.Error()}
	}
	return h, false, nil
}

// describe names the JSON type of a raw value, for messages.
func describe(raw []byte) string {
	switch kind(raw) {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// group is one matcher group of an event, decoded as far as we need.
type group struct {
	// obj is the group object; nil when the element is not an object or has
	// no "hooks" array (such elements are kept untouched).
	obj *object
	// hooks are the raw hook entries of the group.
	hooks []json.RawMessage
	// dirty is true when hooks was changed and obj must be rewritten.
	dirty bool
	// drop is true when our removals emptied the group.
	drop bool
}

// matchesAll reports whether the group's matcher lets every occurrence of
// the event through: no matcher, "" or "*".
func (g *group) matchesAll() bool {
	raw, ok := g.obj.get("matcher")
	if !ok {
		return true
	}
	var m string
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	return m == "" || m == "*"
}

// eventGroups decodes an event's array of groups.
func eventGroups(name string, raw json.RawMessage) ([]json.RawMessage, []*group, error) {
	elems, err := parseArray(raw)
	if err != nil {
		return nil, nil, &ParseError{Msg: fmt.Sprintf(`"hooks.%s" is %s, not an array of matcher groups; fix or remove it by hand, then run this again`, name, describe(raw))}
	}
	groups := make([]*group, len(elems))
	for i, e := range elems {
		g := &group{}
		groups[i] = g
		if kind(e) != '{' {
			continue
		}
		o, err := parseObject(e)
		if err != nil {
			continue
		}
		hr, ok := o.get("hooks")
		if !ok || kind(hr) != '[' {
			continue
		}
		hs, err := parseArray(hr)
		if err != nil {
			continue
		}
		g.obj, g.hooks = o, hs
	}
	return elems, groups, nil
}

// removeOurs takes our entries out of every group, except the one at
// (keepG, keepH) when keepG >= 0. Groups that our removal empties are
// marked to drop. It returns how many entries were removed.
func removeOurs(groups []*group, self string, keepG, keepH int) int {
	n := 0
	for gi, g := range groups {
		if g.obj == nil || len(g.hooks) == 0 {
			continue
		}
		kept := make([]json.RawMessage, 0, len(g.hooks))
		for hi, h := range g.hooks {
			if isOurs(h, self) && !(gi == keepG && hi == keepH) {
				n++
				g.dirty = true
				continue
			}
			kept = append(kept, h)
		}
		g.hooks = kept
		if g.dirty && len(kept) == 0 {
			g.drop = true
		}
	}
	return n
}

// rebuild writes an event's array back from its groups.
func rebuild(elems []json.RawMessage, groups []*group) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(elems))
	for i, e := range elems {
		g := groups[i]
		switch {
		case g.drop:
			continue
		case g.dirty:
			g.obj.set("hooks", marshalArray(g.hooks))
			out = append(out, g.obj.marshal())
		default:
			out = append(out, e)
		}
	}
	return out
}

// Install adds or updates our entries in a settings document.
func Install(src []byte, p Plan) (Result, error) {
	res := Result{Before: src, After: src}
	d, err := loadDoc(src)
	if err != nil {
		return res, err
	}
	hooks, created, err := d.hooksObject()
	if err != nil {
		return res, err
	}
	changed := false
	for _, ev := range p.Events {
		want := desiredEntry(ev, p.Mode, p.Target)
		if ev.Name == ApprovalEvent && p.ApprovalWait > 0 {
			want = approvalEntry(p.Target, p.ApprovalWait)
		}
		raw, exists := hooks.get(ev.Name)
		var elems []json.RawMessage
		var groups []*group
		if exists {
			elems, groups, err = eventGroups(ev.Name, raw)
			if err != nil {
				return res, err
			}
		}
		// Find our entries.
		firstG, firstH, count := -1, -1, 0
		for gi, g := range groups {
			for hi, h := range g.hooks {
				if g.obj != nil && isOurs(h, p.Target.Executable) {
					if count == 0 {
						firstG, firstH = gi, hi
					}
					count++
				}
			}
		}
		switch {
		case count == 1 && groups[firstG].matchesAll() && sameJSON(groups[firstG].hooks[firstH], want):
			res.Changes = append(res.Changes, Change{Event: ev.Name, Action: Unchanged, Count: 1})
			continue
		case count >= 1 && groups[firstG].matchesAll():
			// Replace the first in place, fold the others into it.
			groups[firstG].hooks[firstH] = want
			groups[firstG].dirty = true
			removeOurs(groups, p.Target.Executable, firstG, firstH)
			elems = rebuild(elems, groups)
			res.Changes = append(res.Changes, Change{Event: ev.Name, Action: Updated, Count: count})
		default:
			removeOurs(groups, p.Target.Executable, -1, -1)
			elems = append(rebuild(elems, groups), desiredGroup(ev, want))
			action := Added
			if count > 0 {
				action = Updated
			}
			res.Changes = append(res.Changes, Change{Event: ev.Name, Action: action, Count: count})
		}
		hooks.set(ev.Name, marshalArray(elems))
		changed = true
	}
	// Our entries on events outside the plan go: install leaves mpm wired
	// on exactly the planned events (never on WorktreeCreate, MessageDisplay
	// or an event a hand edit or another version put it on).
	planned := make(map[string]bool, len(p.Events))
	for _, ev := range p.Events {
		planned[ev.Name] = true
	}
	kept, removed := stripOurs(hooks.members, p.Target.Executable, func(m member) bool { return !planned[m.key] })
	if len(removed) > 0 {
		hooks.members = kept
		res.Changes = append(res.Changes, removed...)
		changed = true
	}
	if !changed {
		return res, nil
	}
	_ = created // a new "hooks" key is appended at the end by set
	d.root.set("hooks", hooks.marshal())
	return finish(res, d)
}

// stripOurs removes our entries from the events (members of the "hooks"
// object) that pick selects, and returns the members left and what was
// removed. Groups and events that the removal empties go too, except that
// an emptied duplicate key stays (as []) so that it keeps shadowing the
// earlier one as it did.
func stripOurs(members []member, self string, pick func(member) bool) ([]member, []Change) {
	var changes []Change
	kept := make([]member, 0, len(members))
	for _, m := range members {
		if !pick(m) || kind(m.val) != '[' {
			kept = append(kept, m)
			continue
		}
		elems, groups, err := eventGroups(m.key, m.val)
		if err != nil {
			kept = append(kept, m)
			continue
		}
		n := removeOurs(groups, self, -1, -1)
		if n == 0 {
			kept = append(kept, m)
			continue
		}
		changes = append(changes, Change{Event: m.key, Action: Removed, Count: n})
		out := rebuild(elems, groups)
		if len(out) == 0 && countKey(members, m.key) == 1 {
			continue // the event held only our entries
		}
		kept = append(kept, member{key: m.key, val: marshalArray(out)})
	}
	return kept, changes
}

// Uninstall removes our entries (recognised by command or URL; self is our
// own executable path, also recognised) from every event. Groups, events
// and the "hooks" object that the removal leaves empty are removed too;
// everything else stays.
func Uninstall(src []byte, self string) (Result, error) {
	res := Result{Before: src, After: src}
	d, err := loadDoc(src)
	if err != nil {
		return res, err
	}
	hi := d.root.index("hooks")
	if hi < 0 {
		return res, nil
	}
	hooks, _, err := d.hooksObject()
	if err != nil {
		// "hooks" is not an object: none of ours can be in it.
		return res, nil
	}
	kept, removed := stripOurs(hooks.members, self, func(member) bool { return true })
	if len(removed) == 0 {
		return res, nil
	}
	res.Changes = removed
	if len(kept) == 0 && countKey(d.root.members, "hooks") == 1 {
		d.root.members = append(d.root.members[:hi], d.root.members[hi+1:]...)
	} else {
		hooks.members = kept
		d.root.members[hi].val = hooks.marshal()
	}
	return finish(res, d)
}

func finish(res Result, d *doc) (Result, error) {
	out, err := d.bytes()
	if err != nil {
		return res, fmt.Errorf("internal error re-encoding the settings: %w", err)
	}
	res.After = out
	res.Changed = !bytes.Equal(out, res.Before)
	return res, nil
}

// countKey counts the members named key.
func countKey(ms []member, key string) int {
	n := 0
	for _, m := range ms {
		if m.key == key {
			n++
		}
	}
	return n
}
