// Package gist makes the one-line gist of a hook event (what a tool was asked
// to do, the prompt, the notification) for the terminal monitor and the
// session summaries.
package gist

import (
	"bytes"
	"encoding/json"
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Summary is the one-line gist of an event: what the tool was asked to do,
// the prompt, the notification... and whether a tool call failed.
type Summary struct {
	// Text is the gist, one line: white space collapsed, control
	// characters removed, at most the width asked for.
	Text string
	// Failed is set when the event reports a failed tool call.
	Failed bool
}

// envelope holds the payload fields the summariser reads.
type envelope struct {
	Prompt             string          `json:"prompt"`
	Message            string          `json:"message"`
	Source             string          `json:"source"`
	Reason             string          `json:"reason"`
	Trigger            string          `json:"trigger"`
	CustomInstructions string          `json:"custom_instructions"`
	Error              json.RawMessage `json:"error"`
	ToolInput          json.RawMessage `json:"tool_input"`
	ToolResponse       json.RawMessage `json:"tool_response"`
	// Outcome and By are in mpm's own MpmApprovalDecision events.
	Outcome string `json:"outcome"`
	By      string `json:"by"`
	// Usage is in a fleet edge's MpmUsage events, Approval in its
	// MpmApprovalRequest events.
	Usage *struct {
		CostUSD float64 `json:"cost_usd"`
		In      int64   `json:"input_tokens"`
		Out     int64   `json:"output_tokens"`
	} `json:"usage"`
	Approval *struct {
		ToolName  string          `json:"tool_name"`
		ToolInput json.RawMessage `json:"tool_input"`
	} `json:"approval"`
}

// Summarize returns the gist of a hook payload for the event name and tool,
// at most width runes (width < 1: 1). It never fails: a payload it does not
// understand gives its first string fields, or nothing.
func Summarize(eventName, tool string, payload []byte, width int) Summary {
	if width < 1 {
		width = 1
	}
	var env envelope
	_ = json.Unmarshal(payload, &env) // fields that do not decode stay empty
	var s Summary
	switch eventName {
	case "UserPromptSubmit":
		s.Text = env.Prompt
	case "Notification":
		s.Text = env.Message
	case "SessionStart":
		s.Text = env.Source
	case "SessionEnd":
		s.Text = env.Reason
	case "PreCompact":
		s.Text = join(env.Trigger, env.CustomInstructions)
	case "PreToolUse", "PermissionRequest":
		s.Text = toolInput(tool, env.ToolInput)
	case "PostToolUse":
		s.Text = toolInput(tool, env.ToolInput)
		if msg, failed := responseError(env.ToolResponse); failed {
			s.Failed = true
			s.Text = join(s.Text, "→ error "+msg)
		}
	case "MpmApprovalDecision": // journaled by mpm-wsd (internal/approvals)
		s.Text = join(strings.ReplaceAll(env.Outcome, "_", " "), "by "+env.By, quoted(env.Message))
	case "MpmUsage": // journaled by a fleet edge (internal/fleet)
		if u := env.Usage; u != nil {
			s.Text = "usage $" + strconv.FormatFloat(u.CostUSD, 'f', 4, 64) + " · " + strconv.FormatInt(u.In, 10) + " in / " + strconv.FormatInt(u.Out, 10) + " out tokens"
		}
	case "MpmApprovalRequest": // journaled by a fleet edge (internal/fleet)
		if a := env.Approval; a != nil {
			s.Text = join("pending: "+a.ToolName, toolInput(a.ToolName, a.ToolInput))
		}
	case "PostToolUseFailure":
		s.Failed = true
		s.Text = join(toolInput(tool, env.ToolInput), "→ error "+stringish(env.Error))
	}
	if strings.TrimSpace(s.Text) == "" && !s.Failed {
		s.Text = firstStrings(payload, skipGeneric)
	}
	s.Text = Clean(s.Text, width)
	return s
}

// skipGeneric are payload fields every event has: not a summary.
var skipGeneric = map[string]bool{
	"session_id": true, "transcript_path": true, "cwd": true, "hook_event_name": true,
	"permission_mode": true, "tool_use_id": true, "tool_name": true,
}

// inputKeys are tool_input fields in the order they best describe a call.
var inputKeys = map[string][]string{
	"Bash":         {"command"},
	"Read":         {"file_path"},
	"Write":        {"file_path"},
	"Edit":         {"file_path"},
	"MultiEdit":    {"file_path"},
	"NotebookEdit": {"notebook_path"},
	"Glob":         {"pattern", "path"},
	"Grep":         {"pattern", "path", "glob"},
	"WebFetch":     {"url"},
	"WebSearch":    {"query"},
	"Task":         {"description", "subagent_type"},
	"Agent":        {"description", "subagent_type"},
	"Skill":        {"skill", "command"},
}

// preferred are fields tried, in order, for tools not in inputKeys.
var preferred = []string{"command", "file_path", "path", "pattern", "url", "query", "description", "prompt", "name"}

// toolInput summarises a tool_input object.
func toolInput(tool string, raw json.RawMessage) string {
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return stringish(raw)
	}
	// Only the members a summary may use are read: a Write's content or
	// an Edit's strings can be large.
	names := append(append([]string{"todos"}, inputKeys[tool]...), preferred...)
	in := Fields(raw, names...)
	if tool == "TodoWrite" {
		var todos []json.RawMessage
		if json.Unmarshal(in["todos"], &todos) == nil {
			return strconv.Itoa(len(todos)) + " todos"
		}
	}
	if keys, ok := inputKeys[tool]; ok {
		var parts []string
		for _, k := range keys {
			if v := stringish(in[k]); v != "" {
				parts = append(parts, v)
			}
		}
		if len(parts) > 0 {
			return strings.Join(parts, " ")
		}
	}
	for _, k := range preferred {
		if v := stringish(in[k]); v != "" {
			return v
		}
	}
	return firstStrings(raw, nil)
}

// responseError reports whether a tool_response says the call failed, and
// its message.
func responseError(raw json.RawMessage) (string, bool) {
	var r map[string]json.RawMessage
	if json.Unmarshal(raw, &r) != nil {
		return "", false
	}
	var isErr, interrupted bool
	json.Unmarshal(r["is_error"], &isErr)
	json.Unmarshal(r["interrupted"], &interrupted)
	msg := stringish(r["error"])
	if msg == "" && isErr {
		msg = stringish(r["content"])
	}
	if msg == "" && isErr {
		msg = stringish(r["stderr"])
	}
	if interrupted && msg == "" {
		msg = "interrupted"
	}
	if msg == "" && isErr {
		msg = "(no message)"
	}
	var code int
	if json.Unmarshal(r["exit_code"], &code) == nil && code != 0 && msg == "" {
		msg = "exit code " + strconv.Itoa(code)
	}
	return msg, msg != "" || isErr
}

// stringish returns a JSON string's value, a number or bool as written,
// the first strings of an object or array, or "".
func stringish(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	t := strings.TrimSpace(string(raw))
	if t == "" || t == "null" {
		return ""
	}
	switch t[0] {
	case '{', '[':
		return firstStrings(raw, nil)
	}
	if len(t) > 64 {
		t = t[:64]
	}
	return t
}

// firstStrings joins the first few string values of a JSON object (fields
// in name order, skipping skip) or array; "" when there are none.
func firstStrings(raw []byte, skip map[string]bool) string {
	var obj map[string]json.RawMessage
	var parts []string
	if json.Unmarshal(raw, &obj) == nil {
		keys := make([]string, 0, len(obj))
		for k := range obj {
			if !skip[k] {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			var s string
			if json.Unmarshal(obj[k], &s) == nil && strings.TrimSpace(s) != "" {
				parts = append(parts, k+"="+s)
				if len(parts) == 3 {
					break
				}
			}
		}
		return strings.Join(parts, " ")
	}
	var arr []json.RawMessage
	if json.Unmarshal(raw, &arr) == nil {
		for _, v := range arr {
			var s string
			if json.Unmarshal(v, &s) == nil && strings.TrimSpace(s) != "" {
				parts = append(parts, s)
				if len(parts) == 3 {
					break
				}
			}
		}
	}
	return strings.Join(parts, " ")
}

// join joins the non-empty parts with a space.
// quoted is s in quotes, or "" when s is empty.
func quoted(s string) string {
	if s == "" {
		return ""
	}
	return strconv.Quote(s)
}

func join(parts ...string) string {
	var out []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

// Clean makes s safe and short for one terminal line: invalid UTF-8
// replaced, every run of white space one space, control and format
// characters (escape sequences, bidi overrides) removed, trimmed, and cut
// to at most width runes with "…" marking the cut.
func Clean(s string, width int) string {
	if width < 1 {
		width = 1
	}
	var b strings.Builder
	n := 0
	space := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case unicode.IsSpace(r):
			space = n > 0
			continue
		case r == utf8.RuneError && size <= 1:
			r = '\uFFFD'
		case !unicode.IsPrint(r) || unicode.Is(unicode.Cf, r):
			continue
		}
		if space {
			if n+1 >= width {
				b.WriteRune('…')
				return b.String()
			}
			b.WriteByte(' ')
			n++
			space = false
		}
		if n+1 >= width && i < len(s) && hasVisible(s[i:]) {
			b.WriteRune('…')
			return b.String()
		}
		b.WriteRune(r)
		n++
		if n >= width {
			return b.String()
		}
	}
	return b.String()
}

// hasVisible reports whether s holds a rune Clean would keep.
func hasVisible(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) && (unicode.IsPrint(r) && !unicode.Is(unicode.Cf, r) || r == utf8.RuneError) {
			return true
		}
	}
	return false
}

// ToolInput is the gist of a tool call's tool_input, one line of at most
// width runes.
func ToolInput(tool string, raw json.RawMessage, width int) string {
	return Clean(toolInput(tool, raw), width)
}

// Project is the name a session is shown by: its cwd's last element.
func Project(cwd string) string {
	if cwd == "" {
		return "(unknown project)"
	}
	p := path.Base(strings.ReplaceAll(cwd, "\\", "/"))
	if p == "/" || p == "." {
		return cwd
	}
	return p
}
