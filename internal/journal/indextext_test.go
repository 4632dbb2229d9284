package journal

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mpm-dev/mpm/internal/event"
)

// indexTextCases are payloads with what the corpus lacks: escapes in keys
// and values, arrays at the top of an input and a response, repeated
// keys and paths, non-ASCII and combining marks in paths and commands,
// long repeated members.
var indexTextCases = []string{
	`{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"echo \"a\\tb\" \u00e9\ud83d\ude00 \\\\ \/","description":"x\ny"}}`,
	`{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Glob","tool_input":{"pattern":"*.go","path":"/src"},"tool_response":{"filenames":["/a.go","/b\u0020.go"],"numFiles":2,"type":"text"}}`,
	`{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"TodoWrite","tool_input":{"todos":[{"content":"one","status":"pending"}]},"tool_response":{"newTodos":[{"content":"one","status":"done"}],"oldTodos":[]}}`,
	`{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"X","tool_input":{"type":"enumword","mode":"other","note":"kept"},"tool_response":{"type":"respword","originalFile":"whole"}}`,
	`{"hook_event_name":"PostToolUse","tool_name":"MCP","tool_input":["a b",{"path":"/x/y.go","type":"t"}],"tool_response":[{"type":"text","text":"Résumé de l'état"},{"file\u005fpath":"/x/y.go","mode":"m"}]}`,
	`{"hook_event_name":"PostToolUse","tool_name":"Write","tool_input":{"file_path":"/src/a.go","content":"` + strings.Repeat("package main // é\\n", 8) + `"},"tool_response":{"filePath":"/src/a.go","content":"` + strings.Repeat("package main // é\\n", 8) + `","type":"create"}}`,
	`{"hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"git  log --oneline -3 | café Straße","command":"go test ./...","path":"/ä/b"},"tool_response":{"stdout":"ok\tgithub.com/x\n","stderr":"","path":"/ä/b","path":"/c"}}`,
	`{"hook_event_name":"PreToolUse","tool_name":"Edit","tool_input":{"file_path":"/w/cafe\u0301/x_y-z.go","old_string":"a","new_string":"b"}}`,
	`{"hook_event_name":"UserPromptSubmit","prompt":"Fix ` + "\ue000" + `the \u0000 bug in orders.go","message":"m","last_assistant_message":" done "}`,
	`{"hook_event_name":"PostToolUse","tool_name":"Read","tool_input":{"file_path":"/big"},"tool_response":{"file":{"filePath":"/big","content":"` + strings.Repeat("x\\\"y ", 3000) + `"}}}`,
	`{"hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"` + strings.Repeat("word ", 2000) + `"},"tool_response":"` + strings.Repeat("out ", 5000) + `"}`,
	`[1,2]`,
	`"just a string"`,
	`{}`,
}

// checkIndexText fails t unless today's docOf and indexValues give ev the
// text that layout 7's first code did.
func checkIndexText(t *testing.T, ev *event.Event) {
	t.Helper()
	got, want := docOf(ev), docOfV7(ev)
	if got != want {
		t.Fatalf("docOf(%.300q):\n%q\nwant\n%q", ev.Payload, got, want)
	}
	for _, k := range []searchKind{searchFull, searchColumn, searchNone} {
		g, w := indexValues(k, 7, &got), indexValuesV7(k, 7, &want)
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		if string(gj) != string(wj) {
			t.Fatalf("indexValues(%d) of %.300q:\n%s\nwant\n%s", k, ev.Payload, gj, wj)
		}
	}
}

// TestIndexTextMatchesV7: over the realistic corpus and the cases above,
// the index text is byte for byte what it was, so that journals indexed
// before and after match the same queries.
func TestIndexTextMatchesV7(t *testing.T) {
	payloads := hookCorpus(t, 4, 400, 1)
	for _, c := range indexTextCases {
		payloads = append(payloads, []byte(c))
	}
	for _, p := range payloads {
		if !json.Valid(p) {
			t.Fatalf("case is not JSON: %.200s", p)
		}
		for _, name := range []string{"PreToolUse", "PostToolUse", "Stop"} {
			checkIndexText(t, &event.Event{Name: name, Tool: "Bash", Payload: p})
		}
	}
}

// FuzzIndexText: for any JSON payload, and for any text in the members
// the index reads, the index text is what layout 7's first code made.
func FuzzIndexText(f *testing.F) {
	for _, c := range indexTextCases {
		f.Add([]byte(c), true)
	}
	f.Fuzz(func(t *testing.T, p []byte, post bool) {
		if !json.Valid(p) { // take p as text, in the members the index reads
			text := string(p)
			half := text[:len(text)/2]
			var err error
			p, err = json.Marshal(map[string]any{
				"prompt":     text,
				"tool_input": map[string]any{"command": text, "file_path": half, "content": text + text},
				"tool_response": []any{map[string]any{"filePath": half, "content": text + text, "type": text},
					text, map[string]any{"stdout": text, "path": text}},
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		name := "PreToolUse"
		if post {
			name = "PostToolUse"
		}
		checkIndexText(t, &event.Event{Name: name, Tool: "T", Payload: p})
	})
}
