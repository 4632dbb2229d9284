package journal

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mpm-dev/mpm/internal/event"
)

// docOfReference is docOf as it was first written: the payload decoded
// whole (encoding/json into map[string]any), object keys walked sorted.
// TestDocOfMatchesReference holds docOf, which reads the JSON in place, to
// the same text.
func docOfReference(ev *event.Event) searchDoc {
	var d searchDoc
	d[fEvent], d[fTool] = ev.Name, ev.Tool
	var h map[string]any
	if json.Unmarshal(ev.Payload, &h) != nil {
		return d
	}
	str := func(k string) string { v, _ := h[k].(string); return v }
	d[fPrompt] = str("prompt")
	d[fMessage] = strings.TrimSpace(str("message") + "\n" + str("last_assistant_message"))
	var walk func(v any, key string, fn func(key, s string))
	walk = func(v any, key string, fn func(key, s string)) {
		switch v := v.(type) {
		case string:
			fn(key, v)
		case []any:
			for _, e := range v {
				walk(e, key, fn)
			}
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if skipKeys[k] && key == "" {
					continue
				}
				walk(v[k], k, fn)
			}
		}
	}
	var parts [8][]string
	collect := func(v any, input bool) {
		walk(v, "", func(key, s string) {
			f := fOutput
			switch {
			case pathKeys[key]:
				f = fPath
			case input && key == "command":
				f = fCommand
			case input:
				f = fInput
			case skipKeys[key]:
				return
			}
			if f == fPath && slices.Contains(parts[f], s) {
				return // each path once
			}
			parts[f] = append(parts[f], s)
		})
	}
	if ev.Name == "PostToolUse" {
		in, _ := h["tool_input"].(map[string]any)
		small := map[string]any{}
		for k, v := range in {
			if k == "command" || pathKeys[k] {
				small[k] = v
			}
		}
		collect(small, true)
	} else {
		collect(h["tool_input"], true)
	}
	resp := h["tool_response"]
	if ev.Name == "PostToolUse" {
		// What the response repeats of the input (a Write's content),
		// over 64 bytes as the payload writes it.
		in, _ := h["tool_input"].(map[string]any)
		var raw struct {
			Input map[string]json.RawMessage `json:"tool_input"`
		}
		json.Unmarshal(ev.Payload, &raw)
		if r, ok := resp.(map[string]any); ok {
			kept := map[string]any{}
			for k, v := range r {
				if iv, ok := in[k]; !ok || !reflect.DeepEqual(iv, v) || len(raw.Input[k]) <= 64 {
					kept[k] = v
				}
			}
			resp = kept
		}
	}
	collect(resp, false)
	for _, f := range []int{fCommand, fPath, fInput, fOutput} {
		d[f] = strings.Join(parts[f], "\n")
	}
	return d
}

// lines is s's non-empty lines, sorted: the text of a field whatever
// order its strings were walked in.
func lines(s string) []string {
	var l []string
	for _, x := range strings.Split(s, "\n") {
		if x != "" {
			l = append(l, x)
		}
	}
	sort.Strings(l)
	return l
}

// TestDocOfMatchesReference: over the realistic corpus and payloads with
// escapes, docOf indexes the same text as the reference (in document
// order rather than sorted), and cuts each field to its bound.
func TestDocOfMatchesReference(t *testing.T) {
	corpus := hookCorpus(t, 4, 400, 1)
	corpus = append(corpus,
		[]byte(`{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"echo \"a\\tb\" \u00e9\ud83d\ude00 \\\\ \/","description":"x\ny"}}`),
		[]byte(`{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Glob","tool_input":{"pattern":"*.go","path":"/src"},"tool_response":{"filenames":["/a.go","/b\u0020.go"],"numFiles":2,"type":"text"}}`),
		[]byte(`{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"TodoWrite","tool_input":{"todos":[{"content":"one","status":"pending"}]},"tool_response":{"newTodos":[{"content":"one","status":"done"}],"oldTodos":[]}}`),
		[]byte(`{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"X","tool_input":{"type":"enumword","mode":"other","note":"kept"},"tool_response":{"type":"respword","originalFile":"whole"}}`),
		// A repeated member of 64 bytes or less as written is indexed,
		// whatever its length once re-encoded (<, > and & escaped).
		[]byte(`{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Write","tool_input":{"file_path":"/a","content":"if a >> b && c > d { return a << 2 } // >> &&"},"tool_response":{"content":"if a >> b && c > d { return a << 2 } // >> &&"}}`),
		[]byte(`not json`),
	)
	compared := 0
	for i, p := range corpus {
		ev, err := event.Parse(p, 1<<20)
		if err != nil {
			ev = &event.Event{Name: "Stop", Payload: p}
		}
		got, want := docOf(ev), docOfReference(ev)
		total := 0
		for f := range got {
			total += len(got[f])
			if len(got[f]) > maxIndexedField || !utf8.ValidString(got[f]) {
				t.Fatalf("payload %d field %s: %d bytes (bound %d), valid UTF-8 %v", i, searchFields[f], len(got[f]), maxIndexedField, utf8.ValidString(got[f]))
			}
		}
		if total > maxIndexedDoc {
			t.Fatalf("payload %d: %d bytes indexed, bound %d", i, total, maxIndexedDoc)
		}
		for f := range got {
			if len(want[f]) >= maxIndexedField || total >= maxIndexedDoc-maxIndexedField {
				continue // cut: which strings made it depends on the order
			}
			if !reflect.DeepEqual(lines(got[f]), lines(want[f])) {
				t.Fatalf("payload %d (%.2000s) field %s:\n%q\nwant (in any order)\n%q", i, p, searchFields[f], got[f], want[f])
			}
			compared++
		}
	}
	if compared < len(corpus)*6 {
		t.Errorf("only %d fields compared", compared)
	}
}

// FuzzJSONString: jsonString decodes any JSON string as encoding/json
// does, and with a bound returns a prefix of it within the bound.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "a\nb\t\"q\" \\ é 😀", "\u2028<>&", strings.Repeat("x\\", 40)} {
		f.Add(s, 7)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if !utf8.ValidString(s) {
			return
		}
		raw, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := jsonString(raw, len(s)+1); got != s {
			t.Fatalf("jsonString(%s) = %q, want %q", raw, got, s)
		}
		max = int(uint(max)%64) + 1
		if got := jsonString(raw, max); len(got) > max || !strings.HasPrefix(s, got) || len(got) < min(len(s), max)-utf8.UTFMax+1 {
			t.Fatalf("jsonString(%s, %d) = %q: want a prefix of %q within the bound", raw, max, got, s)
		}
	})
}

// TestDocOfSkipsRepeatedInput: a PostToolUse's response members that
// repeat its input (a Write's content) are not indexed again; one that
// only shares a name with an input member (a Grep's content), or is short
// (a path), is.
func TestDocOfSkipsRepeatedInput(t *testing.T) {
	long := strings.Repeat("func Floor rounds orders down ", 4)
	cases := []struct {
		name, payload string
		output, path  string
	}{
		{"write", `{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Write","tool_input":{"file_path":"/src/orders.go","content":"` + long + `"},"tool_response":{"type":"create","filePath":"/src/orders.go","content":"` + long + `"}}`,
			"", "/src/orders.go"},
		{"write changed", `{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Write","tool_input":{"file_path":"/a","content":"` + long + `"},"tool_response":{"content":"` + long + `!"}}`,
			long + "!", "/a"},
		{"grep", `{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Grep","tool_input":{"pattern":"Floor","path":"/src"},"tool_response":{"mode":"content","content":"` + long + `"}}`,
			long, "/src"},
		{"short copy", `{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"X","tool_input":{"query":"rounding"},"tool_response":{"query":"rounding"}}`,
			"rounding", ""},
		{"pre keeps input", `{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"Write","tool_input":{"file_path":"/a","content":"` + long + `"},"tool_response":{"content":"` + long + `"}}`,
			long, "/a"},
	}
	for _, c := range cases {
		ev, err := event.Parse([]byte(c.payload), 1<<20)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		d := docOf(ev)
		if d[fOutput] != c.output || d[fPath] != c.path {
			t.Errorf("%s: output %q path %q, want %q %q", c.name, d[fOutput], d[fPath], c.output, c.path)
		}
	}
}
