package journal

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/gist"
)

// The index text as the journal made it until 2026-12-01 (layout 7's
// first code, 5e97a60): docOf, walkJSON, jsonString, indexValues,
// markWords and withPairs, verbatim but for their names. The index of a
// journal made by it holds this text; TestIndexTextMatchesV7 and
// FuzzIndexText hold today's faster code to the same bytes, so that
// queries find in old and new events alike.

// docOf extracts an event's searchable text. It reads the payload's JSON
// in place (gist.Members), decoding only the strings it indexes and only
// as far as each field's bound: an Edit's originalFile or a 50 KiB output
// is skipped or cut without being decoded whole. A payload that is not the
// JSON object a hook sends still gets its event and tool indexed.
func docOfV7(ev *event.Event) searchDoc {
	var d searchDoc
	d[fEvent], d[fTool] = ev.Name, ev.Tool
	var message, last string
	var input, response []byte
	gist.Members(ev.Payload, func(rawKey, v []byte) bool {
		switch string(rawKey) {
		case `"prompt"`:
			d[fPrompt] = jsonStringV7(v, maxIndexedField)
		case `"message"`:
			message = jsonStringV7(v, maxIndexedField)
		case `"last_assistant_message"`:
			last = jsonStringV7(v, maxIndexedField)
		case `"tool_input"`:
			input = v
		case `"tool_response"`:
			response = v
		}
		return true
	})
	d[fMessage] = clip(strings.TrimSpace(message+"\n"+last), maxIndexedField)
	var b [8]strings.Builder
	var paths []string // the paths indexed: each once
	collect := func(v []byte, input bool, only func(key string) bool, skip func(rawKey, raw []byte) bool) {
		walkJSONV7(v, "", true, skip, func(key string, raw []byte) {
			f := fOutput
			switch {
			case only != nil && !only(key):
				return
			case pathKeys[key]:
				f = fPath
			case input && key == "command":
				f = fCommand
			case input:
				f = fInput
			case skipKeys[key]:
				return
			}
			room := maxIndexedField - b[f].Len()
			if b[f].Len() > 0 {
				room--
			}
			if room <= 0 {
				return
			}
			text := jsonStringV7(raw, room)
			if f == fPath { // a PostToolUse's response names its input's file again
				if slices.Contains(paths, text) {
					return
				}
				paths = append(paths, text)
			}
			if b[f].Len() > 0 {
				b[f].WriteByte('\n')
			}
			b[f].WriteString(text)
		})
	}
	if ev.Name == "PostToolUse" {
		// It repeats its PreToolUse's input: its command and paths are
		// indexed again (short, and what an output search is narrowed
		// by), the rest (an Edit's strings, a Write's content) is not.
		// Nor is what its response repeats of the input (a Write's
		// content): a member of the response equal to the input's of
		// the same name, byte for byte.
		collect(input, true, func(key string) bool { return key == "command" || pathKeys[key] }, nil)
		var in map[string][]byte
		gist.Members(input, func(rawKey, v []byte) bool {
			if len(v) > 64 { // short ones (paths) cost little to index twice
				if in == nil {
					in = map[string][]byte{}
				}
				in[string(rawKey)] = v
			}
			return true
		})
		collect(response, false, nil, func(rawKey, raw []byte) bool {
			v, ok := in[string(rawKey)]
			return ok && bytes.Equal(v, raw)
		})
	} else {
		collect(input, true, nil, nil)
		collect(response, false, nil, nil)
	}
	for _, f := range []int{fCommand, fPath, fInput, fOutput} {
		d[f] = b[f].String()
	}
	total := 0
	for i := range d {
		if total+len(d[i]) > maxIndexedDoc {
			d[i] = clip(d[i], maxIndexedDoc-total)
		}
		total += len(d[i])
	}
	return d
}

// walkJSON calls fn with every string in the JSON value v (raw, quotes
// included) and the object key it is under (the nearest one, for strings
// in arrays), in document order. The members of v itself (top) named in
// skipKeys, or that skip (when not nil) says, given the member's name as
// it is written (quotes included) and its value, are not walked.
func walkJSONV7(v []byte, key string, top bool, skip func(rawKey, raw []byte) bool, fn func(key string, raw []byte)) {
	if len(v) == 0 {
		return
	}
	switch v[0] {
	case '"':
		fn(key, v)
	case '{':
		gist.Members(v, func(rawKey, val []byte) bool {
			k := jsonStringV7(rawKey, len(rawKey))
			if !top || !skipKeys[k] && (skip == nil || !skip(rawKey, val)) {
				walkJSONV7(val, k, false, nil, fn)
			}
			return true
		})
	case '[':
		var elems []json.RawMessage // arrays are few and short (file lists, todos)
		if json.Unmarshal(v, &elems) != nil {
			return
		}
		for _, e := range elems {
			walkJSONV7(e, key, top, skip, fn)
		}
	}
}

// jsonString decodes the JSON string raw (quotes included), up to max
// bytes of its text (cut on a rune boundary); "" for anything else.
// Escapes are decoded only as far as needed.
func jsonStringV7(raw []byte, max int) string {
	if len(raw) < 2 || raw[0] != '"' || max <= 0 {
		return ""
	}
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return clip(string(body[:min(len(body), max+utf8.UTFMax)]), max)
	}
	out := make([]byte, 0, min(len(body), max+utf8.UTFMax))
	for i := 0; i < len(body) && len(out) < max+utf8.UTFMax; {
		c := body[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(body) {
			break
		}
		switch body[i+1] {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'u':
			r, n := jsonRune(body[i:])
			if n == 0 {
				return clip(string(out), max)
			}
			out = utf8.AppendRune(out, r)
			i += n
			continue
		default: // \" \\ \/
			out = append(out, body[i+1])
		}
		i += 2
	}
	return clip(string(out), max)
}

// indexValues are the arguments of indexInsert(k) for an event: its text,
// with in the path and command fields each pair of consecutive words as
// one more word (withPairs); in an index of one column (searchNone) the
// fields' texts one after the other, each word of the event, tool,
// command and path fields marked as that field's (fieldMark), then the
// name of each other field that is not empty (fieldWord).
func indexValuesV7(k searchKind, seq int64, d *searchDoc) []any {
	vs := make([]any, 0, 9)
	vs = append(vs, seq)
	var b strings.Builder
	for f, s := range d {
		if f == fPath || f == fCommand {
			s = withPairsV7(s)
		}
		if k != searchNone {
			vs = append(vs, s)
			continue
		}
		if fieldMark[f] != "" {
			s = markWordsV7(s, fieldMark[f])
		}
		b.WriteString(s)
		b.WriteByte('\n')
	}
	if k != searchNone {
		return vs
	}
	for f := range d {
		if fieldMark[f] == "" && d[f] != "" {
			b.WriteString(fieldWord(f, ""))
			b.WriteByte(' ')
		}
	}
	return append(vs, b.String())
}

// markWords returns s with mark before each of its words (ftsWords'
// words), so that FTS5 takes mark and the word for one word.
func markWordsV7(s, mark string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	in := false
	for i := 0; i < len(s); {
		c, n, word := s[i], 1, false
		if c < utf8.RuneSelf {
			word = isASCIIAlnum(c)
		} else {
			var r rune
			r, n = utf8.DecodeRuneInString(s[i:])
			word = isWordRune(r) || in && r >= 0x300 && r <= 0x36f
		}
		if word && !in {
			b.WriteString(mark)
		}
		in = word
		b.WriteString(s[i : i+n])
		i += n
	}
	return b.String()
}

// withPairs returns s followed by each pair of its consecutive words
// (ftsWords, ASCII ones) joined by pairJoin: in a detail=column index, a
// phrase of a path or command (path:orders.go, command:"git status") is
// then asked as its pairs, which only events with the words next to each
// other have, rather than as its words, which every Edit of a file in a
// directory named orders, or of any .go file, has: the check after the
// match has few candidates to reject. A pair never equals a word of a
// query, so a positional (detail=full) index, where it is added too,
// matches as before.
func withPairsV7(s string) string {
	ws := ftsWords(s, nil)
	if len(ws) < 2 {
		return s
	}
	var b strings.Builder
	b.Grow(2*len(s) + 8)
	b.WriteString(s)
	b.WriteByte('\n')
	for i := 0; i+1 < len(ws); i++ {
		if ws[i].wild || ws[i+1].wild {
			continue
		}
		b.WriteByte(' ')
		b.WriteString(ws[i].s)
		b.WriteString(pairJoin)
		b.WriteString(ws[i+1].s)
	}
	return b.String()
}
