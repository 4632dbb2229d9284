package journal

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"html"
	"iter"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/mpm-dev/mpm/internal/event"
	"github.com/mpm-dev/mpm/internal/gist"
	"github.com/mpm-dev/mpm/internal/store"
)

// The search index is an FTS5 table whose rowid is the event's seq. It is
// contentless (content=”): it holds the index only, not a second copy of
// the text, which the compressed payload already is; snippets are cut from
// the payload of each hit. contentless_delete lets retention delete rows.
//
// Since layout 7 it is detail=none (searchNone): it records which events
// hold a word, not where (less than half the bytes of detail=column), in
// one column holding every field's text (a column per field would only
// add per-field sizes, which nothing reads). The words of the short fields
// (event, tool, command, path) are marked as theirs (fieldMark: tool:Edit
// is the one word "<U+E012>edit" of the index), so a filter on one of
// them is matched by the index alone; a filter on a long field (prompt,
// input, output, message), a phrase, and a word FTS5 splits in several
// (orders.go is orders and go) are asked of the index as all their words
// (and the field's name: fieldWord), and each candidate, newest first, is
// kept only if its text (docOf, the text that was indexed) has the words
// in that field, in order (phraseCheck), until the limit. Each pair of
// consecutive words of the path and command fields is one more word
// (withPairs), so that a path or command phrase has few candidates.
//
// A journal made at layout 6 keeps its detail=column index (searchColumn:
// a column per field, so field filters are FTS5's; phrases are checked
// after the match as above), one made before layout 6 its detail=full
// index (searchFull: FTS5 matches phrases itself). Nothing is rebuilt.
// Since layout 8 the index's tokenizer is FTS5's ascii one (searchASCII),
// and the journal folds the text it gives it (foldWords) and each word of
// a query the same way: FTS5's unicode61 tokenizer looks every character
// up in its Unicode tables (~150 M of the ~710 M instructions that
// indexing 4,000 corpus events took), while the ascii tokenizer and
// foldWords, which passes ASCII text untouched and folds the rest with
// Go's tables, take ~97 M: 7 % less in all, the same words indexed. A
// journal made at layout 7 keeps its unicode61 index (searchNone).
//
// (Giving the index each word once, since it keeps no positions, halves
// the text FTS5 tokenizes, but costs as much in Go as FTS5 saves: 1 %
// fewer instructions in all, measured twice. Not done.)
const searchSchema = `
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(
	text, content='', contentless_delete=1, detail=none, tokenize='ascii'
);`

// searchKind is how a journal's search index is made.
type searchKind int

const (
	// searchFull: detail=full, a column per field (journals made before
	// layout 6).
	searchFull searchKind = iota
	// searchColumn: detail=column, a column per field (layout 6).
	searchColumn
	// searchNone: detail=none, one column, the unicode61 tokenizer
	// (layout 7).
	searchNone
	// searchASCII: as searchNone, but the ascii tokenizer over text the
	// journal folds itself (foldWords; layout 8 on).
	searchASCII
)

// oneColumn reports whether an index of kind k has one column holding
// every field's text (indexText).
func (k searchKind) oneColumn() bool { return k >= searchNone }

// searchKindOf reads which kind of search index the journal has.
func searchKindOf(ctx context.Context, db *sql.DB) (searchKind, error) {
	var def string
	if err := db.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'search'`).Scan(&def); err != nil {
		return 0, fmt.Errorf("read the search index's definition: %w", err)
	}
	switch {
	case strings.Contains(def, "detail=none") && strings.Contains(def, "tokenize='ascii'"):
		return searchASCII, nil
	case strings.Contains(def, "detail=none"):
		return searchNone, nil
	case strings.Contains(def, "detail=column"):
		return searchColumn, nil
	}
	return searchFull, nil
}

// indexInsert is the statement that adds an event to an index of kind k:
// its arguments are indexValues'.
func indexInsert(k searchKind) string {
	if k.oneColumn() {
		return `INSERT INTO search(rowid, text) VALUES (?, ?)`
	}
	return `INSERT INTO search(rowid, ` + strings.Join(searchFields, ", ") + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
}

// noIndex turns the search index off for new events (MPM_JOURNAL_NOINDEX=1):
// only for the benchmark that prices its upkeep; such events are never
// found by search.
var noIndex = os.Getenv("MPM_JOURNAL_NOINDEX") == "1"

// searchFields are the index's columns, in order, as a query names them.
var searchFields = []string{"event", "tool", "prompt", "command", "path", "input", "output", "message"}

// Per-event bounds on what is indexed, so a 50 KiB Read output costs the
// index what 16 KiB does: the index finds the event, the snippet and the
// export show all of it.
const (
	maxIndexedField = 4 << 10
	maxIndexedDoc   = 12 << 10
)

// searchDoc is the text of one event, per index column.
type searchDoc [8]string

const (
	fEvent = iota
	fTool
	fPrompt
	fCommand
	fPath
	fInput
	fOutput
	fMessage
)

// pathKeys are the tool_input and tool_response keys that hold file paths.
var pathKeys = map[string]bool{"file_path": true, "filePath": true, "path": true, "notebook_path": true}

// skipKeys are tool_response keys whose text is not indexed: copies of what
// the input holds (an Edit's strings), of a whole file (originalFile), or
// enum words (type, mode).
var skipKeys = map[string]bool{"originalFile": true, "structuredPatch": true, "oldString": true, "newString": true, "type": true, "mode": true}

// docOf extracts an event's searchable text. It reads the payload's JSON
// in place (gist.Members), decoding only the strings it indexes, straight
// into each field's text, and only as far as each field's bound: an
// Edit's originalFile or a 50 KiB output is skipped or cut without being
// decoded whole. A payload that is not the JSON object a hook sends still
// gets its event and tool indexed.
func docOf(ev *event.Event) searchDoc {
	var d searchDoc
	d[fEvent], d[fTool] = ev.Name, ev.Tool
	var message, last string
	var input, response []byte
	gist.Members(ev.Payload, func(rawKey, v []byte) bool {
		switch string(rawKey) {
		case `"prompt"`:
			d[fPrompt] = jsonString(v, maxIndexedField)
		case `"message"`:
			message = jsonString(v, maxIndexedField)
		case `"last_assistant_message"`:
			last = jsonString(v, maxIndexedField)
		case `"tool_input"`:
			input = v
		case `"tool_response"`:
			response = v
		}
		return true
	})
	d[fMessage] = clip(strings.TrimSpace(message+"\n"+last), maxIndexedField)
	var c docCollector
	if ev.Name == "PostToolUse" {
		// It repeats its PreToolUse's input: its command and paths are
		// indexed again (short, and what an output search is narrowed
		// by), the rest (an Edit's strings, a Write's content) is not.
		// Nor is what its response repeats of the input (a Write's
		// content): a member of the response equal to the input's of
		// the same name, byte for byte.
		c.input, c.only = true, true
		c.walk(input, nil, true)
		c.input, c.only = false, false
		gist.Members(input, func(rawKey, v []byte) bool {
			if len(v) > 64 { // short ones (paths) cost little to index twice
				c.repeats = append(c.repeats, [2][]byte{rawKey, v})
			}
			return true
		})
		c.walk(response, nil, true)
	} else {
		c.input = true
		c.walk(input, nil, true)
		c.input, c.repeats = false, nil
		c.walk(response, nil, true)
	}
	for _, f := range []int{fCommand, fPath, fInput, fOutput} {
		d[f] = string(c.text[f])
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

// docCollector gathers the text of an event's tool input and response,
// field by field, for docOf.
type docCollector struct {
	// text is each field's text so far, its strings one a line.
	text [len(searchDoc{})][]byte
	// paths are the spans of text[fPath] holding each path: each path
	// is indexed once (a PostToolUse's response names its input's file
	// again).
	paths [][2]int
	// input says the strings walked are a tool input's (command, input)
	// rather than a response's (output).
	input bool
	// only limits the walk to commands and paths.
	only bool
	// repeats are the input's members (raw name, raw value) that the
	// response's top-level members of the same name and value repeat:
	// those are not walked.
	repeats [][2][]byte
}

// walk adds every string in the JSON value v to the text, under the field
// its object key (the nearest one, for strings in arrays) says, in
// document order. The members of v itself (top) named in skipKeys, or
// repeating the input (repeats), are not walked.
func (c *docCollector) walk(v, key []byte, top bool) {
	if len(v) == 0 {
		return
	}
	switch v[0] {
	case '"':
		c.add(key, v)
	case '{':
		gist.Members(v, func(rawKey, val []byte) bool {
			k := rawKey[1 : len(rawKey)-1]
			if bytes.IndexByte(k, '\\') >= 0 {
				k = appendJSONString(nil, rawKey, len(rawKey))
			}
			if !top || !skipKeys[string(k)] && !c.repeated(rawKey, val) {
				c.walk(val, k, false)
			}
			return true
		})
	case '[':
		gist.Elements(v, func(e []byte) bool {
			c.walk(e, key, top)
			return true
		})
	}
}

// repeated reports whether the response member rawKey: raw repeats the
// input's member of that name (the last one, as a JSON object reads).
func (c *docCollector) repeated(rawKey, raw []byte) bool {
	for i := len(c.repeats) - 1; i >= 0; i-- {
		if bytes.Equal(c.repeats[i][0], rawKey) {
			return bytes.Equal(c.repeats[i][1], raw)
		}
	}
	return false
}

// add adds the JSON string raw, found under key, to its field's text, as
// far as the field's bound allows.
func (c *docCollector) add(key, raw []byte) {
	f := fOutput
	switch {
	case c.only && !(string(key) == "command" || pathKeys[string(key)]):
		return
	case pathKeys[string(key)]:
		f = fPath
	case c.input && string(key) == "command":
		f = fCommand
	case c.input:
		f = fInput
	case skipKeys[string(key)]:
		return
	}
	b := c.text[f]
	room := maxIndexedField - len(b)
	if len(b) > 0 {
		room--
	}
	if room <= 0 {
		return
	}
	if len(b) > 0 {
		b = append(b, '\n')
	}
	start := len(b)
	b = appendJSONString(b, raw, room)
	if f == fPath {
		for _, p := range c.paths {
			if bytes.Equal(b[p[0]:p[1]], b[start:]) {
				return // b is dropped: text[f] keeps its length
			}
		}
		c.paths = append(c.paths, [2]int{start, len(b)})
	}
	c.text[f] = b
}

// jsonString decodes the JSON string raw (quotes included), up to max
// bytes of its text (cut on a rune boundary); "" for anything else.
// Escapes are decoded only as far as needed.
func jsonString(raw []byte, max int) string {
	if len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		body := raw[1 : len(raw)-1]
		return clip(string(body[:min(len(body), max+utf8.UTFMax)]), max)
	}
	return string(appendJSONString(nil, raw, max))
}

// appendJSONString appends to dst the text of the JSON string raw (quotes
// included), up to max bytes of it (cut on a rune boundary); nothing for
// anything else. Escapes are decoded only as far as needed; the runs
// between them are copied whole.
func appendJSONString(dst, raw []byte, max int) []byte {
	if len(raw) < 2 || raw[0] != '"' || max <= 0 {
		return dst
	}
	start := len(dst)
	limit := start + max + utf8.UTFMax // decode a little past max: clip cuts on a rune boundary
	body := raw[1 : len(raw)-1]
	for i := 0; i < len(body) && len(dst) < limit; {
		j := bytes.IndexByte(body[i:], '\\')
		if j < 0 {
			j = len(body) - i
		}
		if j > 0 {
			j = min(j, limit-len(dst))
			dst = append(dst, body[i:i+j]...)
			i += j
			continue
		}
		if i+1 >= len(body) {
			break
		}
		switch body[i+1] {
		case 'n':
			dst = append(dst, '\n')
		case 't':
			dst = append(dst, '\t')
		case 'r':
			dst = append(dst, '\r')
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'u':
			r, n := jsonRune(body[i:])
			if n == 0 {
				return dst[:start+clipLen(dst[start:], max)]
			}
			dst = utf8.AppendRune(dst, r)
			i += n
			continue
		default: // \" \\ \/
			dst = append(dst, body[i+1])
		}
		i += 2
	}
	return dst[:start+clipLen(dst[start:], max)]
}

// jsonRune decodes the \uXXXX escape (or surrogate pair) at the start of
// b: the rune and the bytes it took, 0 when malformed.
func jsonRune(b []byte) (rune, int) {
	hex4 := func(b []byte) (rune, bool) {
		if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(string(b[2:6]), 16, 16)
		return rune(v), err == nil
	}
	r, ok := hex4(b)
	if !ok {
		return 0, 0
	}
	if utf16.IsSurrogate(r) {
		if r2, ok := hex4(b[6:]); ok {
			if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
				return pair, 12
			}
		}
		return utf8.RuneError, 6
	}
	return r, 6
}

// clip cuts s to at most n bytes, on a rune boundary.
func clip(s string, n int) string { return s[:clipLen(s, n)] }

// clipLen is how many bytes of s clip keeps: at most n, on a rune
// boundary.
func clipLen[S ~string | ~[]byte](s S, n int) int {
	if len(s) <= n {
		return len(s)
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return max(n, 0)
}

func isASCIIAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// indexValues are the arguments of indexInsert(k) for an event: its text,
// with in the path and command fields each pair of consecutive words as
// one more word (withPairs); in an index of one column (searchNone) the
// fields' texts one after the other, each word of the event, tool,
// command and path fields marked as that field's (fieldMark), then the
// name of each other field that is not empty (fieldWord): indexText.
func indexValues(k searchKind, seq int64, d *searchDoc) []any {
	switch k {
	case searchNone:
		return []any{seq, string(indexText(nil, d))}
	case searchASCII:
		t := indexText(nil, d)
		if i := foldFrom(t); i < len(t) {
			t = foldWords(append(make([]byte, 0, len(t)+len(t)/8), t[:i]...), t[i:])
		}
		return []any{seq, string(t)}
	}
	vs := make([]any, 0, 9)
	vs = append(vs, seq)
	for f, s := range d {
		if f == fPath || f == fCommand {
			s = withPairs(s)
		}
		vs = append(vs, s)
	}
	return vs
}

// indexText appends to dst the text an index of one column (searchNone)
// holds for d (indexValues), in one pass over each field and one buffer.
func indexText(dst []byte, d *searchDoc) []byte {
	n := 0
	for _, s := range d {
		n += len(s)
	}
	dst = slices.Grow(dst, n+n/8+64)
	for f, s := range d {
		mark := fieldMark[f]
		if mark == "" {
			dst = append(dst, s...)
		} else {
			dst = appendMarked(dst, s, mark)
		}
		if f == fPath || f == fCommand {
			dst = appendPairs(dst, s, mark)
		}
		dst = append(dst, '\n')
	}
	for f := range d {
		if fieldMark[f] == "" && d[f] != "" {
			dst = append(dst, searchFields[f]...)
			dst = append(dst, fieldJoin...)
			dst = append(dst, ' ')
		}
	}
	return dst
}

// fieldMark is, for the short fields (event, tool, command, path), the
// character an index of one column (searchNone) holds each of their words
// after: a private-use character, which FTS5's unicode61 tokenizer takes
// as part of a word, other than pairJoin and fieldJoin, one a field. A
// filter on one of these fields (tool:Edit, command:git) is then one word
// of the index, matched exactly; a word without a field is asked as
// itself or marked by any of them. The long fields (prompt, input,
// output, message) keep their words as they are, and of each that is not
// empty the index holds its name (fieldWord(f, "")): a filter on one is
// asked as the word and the field's name, and an event has, but for
// event, tool, command and path, one long field at most (a prompt, a
// PreToolUse's input, a PostToolUse's output, a message), so the check
// after the match (phraseCheck) rarely rejects a candidate: output:X is
// not checked against every Bash command that names X, nor every Edit
// whose strings have it.
var fieldMark = [len(searchDoc{})]string{fEvent: "\ue011", fTool: "\ue012", fCommand: "\ue013", fPath: "\ue014"}

// markedFields are the fields with a fieldMark.
var markedFields = []int{fEvent, fTool, fCommand, fPath}

// appendMarked appends s to dst with mark before each of its words
// (ftsWords' words), so that FTS5 takes mark and the word for one word.
func appendMarked(dst []byte, s, mark string) []byte {
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
			dst = append(dst, mark...)
		}
		in = word
		dst = append(dst, s[i:i+n]...)
		i += n
	}
	return dst
}

// appendPairs appends to dst the pairs withPairs adds to s, each marked
// with mark (as appendMarked would): when s has two words or more, a
// newline, then for each two consecutive words of only ASCII letters and
// digits a space, mark and the two lowercased, joined by pairJoin.
func appendPairs(dst []byte, s, mark string) []byte {
	prev, words := "", 0
	prevWild := false
	for w, wild := range wordsOf(s) {
		if words++; words == 2 {
			dst = append(dst, '\n')
		}
		if words >= 2 && !prevWild && !wild {
			dst = append(dst, ' ')
			dst = append(dst, mark...)
			dst = appendLowerASCII(dst, prev)
			dst = append(dst, pairJoin...)
			dst = appendLowerASCII(dst, w)
		}
		prev, prevWild = w, wild
	}
	return dst
}

// appendLowerASCII appends s, ASCII only, lowercased.
func appendLowerASCII(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// fieldJoin joins a field's name and a word into one word (fieldWord): a
// private-use character, which FTS5's unicode61 tokenizer takes as part of
// a word, other than pairJoin.
const fieldJoin = "\ue001"

// fieldWord is word w of field f as one word of its own: it never equals
// a word of a query, nor a pair.
func fieldWord(f int, w string) string { return searchFields[f] + fieldJoin + w }

// fieldIndex is the index of field name in searchFields, -1 for none.
func fieldIndex(name string) int { return slices.Index(searchFields, name) }

// pairJoin joins two words into one: a private-use character, which
// FTS5's unicode61 tokenizer takes as part of a word.
const pairJoin = "\ue000"

// withPairs returns s followed by each pair of its consecutive words
// (ftsWords, ASCII ones) joined by pairJoin: in a detail=column index, a
// phrase of a path or command (path:orders.go, command:"git status") is
// then asked as its pairs, which only events with the words next to each
// other have, rather than as its words, which every Edit of a file in a
// directory named orders, or of any .go file, has: the check after the
// match has few candidates to reject. A pair never equals a word of a
// query, so a positional (detail=full) index, where it is added too,
// matches as before.
func withPairs(s string) string {
	return string(appendPairs([]byte(s), s, ""))
}

// term is one query term: a word, a prefix or a phrase, maybe limited to
// one field.
type term struct {
	field  string
	text   string
	prefix bool
	// words are text's words as FTS5 tokenizes it (ftsWords); more than
	// one makes a phrase.
	words []ftsWord
	// check says the index cannot tell the term apart: its candidates
	// are checked (phraseCheck).
	check bool
}

// parseQuery translates the user's query (docs/protocol.md, "Searching
// history") into an FTS5 expression for an index of kind k, and returns
// the positive terms (for the snippet). Every term is quoted for FTS5, so
// no user input reaches its syntax; what cannot be understood is a
// *store.QueryError. What the index cannot match exactly (a term of
// several words but in detail=full, a field filter in detail=none but on
// the event and tool fields' single words) is asked as all its words, and
// the check its candidates must pass is returned (nil: none).
func parseQuery(q string, k searchKind) (string, []term, *phraseCheck, error) {
	bad := func(format string, args ...any) (string, []term, *phraseCheck, error) {
		return "", nil, nil, &store.QueryError{Msg: fmt.Sprintf(format, args...)}
	}
	var chk phraseCheck
	var groups [][]term // the positive terms, as pos: OR'ed within a group
	if len(q) > 1000 {
		return bad("the query is %d bytes, more than 1000: shorten it", len(q))
	}
	if !utf8.ValidString(q) {
		return bad("the query is not valid UTF-8")
	}
	// Control characters (a NUL would end FTS5's string early) separate
	// words like spaces do.
	q = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, q)
	var pos, neg []string
	var terms []term
	or := false
	rest := strings.TrimSpace(q)
	for rest != "" {
		var tok string
		field := ""
		negate := false
		if rest[0] == '-' && len(rest) > 1 && rest[1] != ' ' {
			negate, rest = true, rest[1:]
		}
		if i := strings.IndexByte(rest, ':'); i > 0 && !strings.ContainsAny(rest[:i], " \t\"") && isField(strings.ToLower(rest[:i])) {
			field, rest = strings.ToLower(rest[:i]), rest[i+1:]
		}
		phrase := strings.HasPrefix(rest, `"`)
		if phrase {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return bad(`unbalanced quote in %q: close the phrase with "`, q)
			}
			tok, rest = rest[1:end+1], rest[end+2:]
		} else {
			end := strings.IndexAny(rest, " \t\n")
			if end < 0 {
				end = len(rest)
			}
			tok, rest = rest[:end], rest[end:]
		}
		rest = strings.TrimLeft(rest, " \t\n")
		if !phrase && field == "" && !negate && tok == "OR" {
			if len(pos) == 0 || rest == "" {
				return bad("OR needs a term on each side")
			}
			or = true
			continue
		}
		prefix := false
		if strings.HasSuffix(tok, "*") {
			prefix, tok = true, strings.TrimRight(tok, "*")
		}
		if !strings.ContainsFunc(tok, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			if field != "" || phrase {
				return bad("%q has no letters or digits to search for", tok)
			}
			continue // punctuation alone: nothing to match
		}
		t := term{field: field, text: tok, prefix: prefix, words: ftsWords(tok, nil)}
		expr := termExpr(&t, k)
		if negate {
			if t.check {
				chk.negs = append(chk.negs, t) // all the words would exclude too much
				continue
			}
			neg = append(neg, expr)
			continue
		}
		terms = append(terms, t)
		if or {
			pos[len(pos)-1] = "(" + pos[len(pos)-1] + " OR " + expr + ")"
			groups[len(groups)-1] = append(groups[len(groups)-1], t)
			or = false
		} else {
			pos = append(pos, expr)
			groups = append(groups, []term{t})
		}
	}
	if len(pos) == 0 {
		return bad("the query %q has no word to search for: give at least one (see docs/protocol.md, Searching history)", q)
	}
	match := strings.Join(pos, " AND ")
	if len(neg) > 0 {
		match = "(" + match + ") NOT (" + strings.Join(neg, " OR ") + ")"
	}
	for _, g := range groups {
		if slices.ContainsFunc(g, func(t term) bool { return t.check }) {
			chk.groups = append(chk.groups, g)
		}
	}
	if len(chk.groups) == 0 && len(chk.negs) == 0 {
		return match, terms, nil, nil
	}
	return match, terms, &chk, nil
}

// termExpr is the FTS5 expression of t for an index of kind k, and sets
// t.check when the index cannot match t exactly.
func termExpr(t *term, k searchKind) string {
	quote := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	all := func(ws []string) string { // every word, the last maybe a prefix
		expr := strings.Join(ws, " AND ")
		if t.prefix {
			expr += " *"
		}
		if len(ws) > 1 {
			expr = "(" + expr + ")"
		}
		return expr
	}
	words := func() []string {
		ws := make([]string, len(t.words))
		for i, w := range t.words {
			ws[i] = quote(w.s)
		}
		return ws
	}
	// pairs are the words of a path or command phrase as pairs (withPairs),
	// nil when they cannot be
	pairs := func() []string {
		if t.field != "path" && t.field != "command" || len(t.words) < 2 || slices.ContainsFunc(t.words, func(w ftsWord) bool { return w.wild }) {
			return nil
		}
		ws := make([]string, len(t.words)-1)
		for i := range ws {
			ws[i] = quote(t.words[i].s + pairJoin + t.words[i+1].s)
		}
		return ws
	}
	switch k {
	case searchFull:
		expr := quote(t.text)
		if t.prefix {
			expr += " *"
		}
		if t.field != "" {
			expr = t.field + " : " + expr
		}
		return expr
	case searchColumn:
		var expr string
		if len(t.words) > 1 {
			t.check = true
			ws := pairs()
			if ws == nil {
				ws = words()
			}
			expr = all(ws)
		} else {
			expr = quote(t.text)
			if t.prefix {
				expr += " *"
			}
		}
		if t.field != "" {
			expr = t.field + " : " + expr
		}
		return expr
	}
	// searchNone: the short fields' words marked (fieldMark), the long
	// fields' names (fieldWord)
	f := fieldIndex(t.field)
	t.check = len(t.words) > 1 || f >= 0 && fieldMark[f] == ""
	variants := func(w string, last bool) string { // w as the index may hold it
		star := ""
		if last && t.prefix {
			star = " *"
		}
		switch {
		case f >= 0 && fieldMark[f] != "":
			return quote(fieldMark[f]+w) + star
		case f >= 0:
			return quote(w) + star
		}
		vs := []string{quote(w) + star}
		for _, m := range markedFields {
			vs = append(vs, quote(fieldMark[m]+w)+star)
		}
		return "(" + strings.Join(vs, " OR ") + ")"
	}
	var ws []string
	if ps := pairs(); ps != nil {
		for i := range ps {
			ws = append(ws, quote(fieldMark[f]+t.words[i].s+pairJoin+t.words[i+1].s))
		}
		if t.prefix {
			ws[len(ws)-1] += " *"
		}
	} else {
		for i, w := range t.words {
			ws = append(ws, variants(k.indexWord(w), i == len(t.words)-1))
		}
	}
	expr := strings.Join(ws, " AND ")
	if len(ws) > 1 {
		expr = "(" + expr + ")"
	}
	if f >= 0 && fieldMark[f] == "" {
		expr = "(" + expr + " AND " + quote(fieldWord(f, "")) + ")"
	}
	return expr
}

// indexWord is w as an index of kind k holds it: folded (foldWords) in
// one of layout 8, as FTS5's unicode61 tokenizer folds it in the others.
func (k searchKind) indexWord(w ftsWord) string {
	if k == searchASCII && w.wild {
		return string(foldWords(nil, []byte(w.s)))
	}
	return w.s
}

// foldWords appends s to dst as an index of layout 8 (searchASCII) holds
// it, so that FTS5's ascii tokenizer, which cuts words at every ASCII
// character but a letter or digit, folds ASCII letters to lower case and
// takes every other character as part of a word, finds the words ftsWords
// finds, folded: ASCII is copied as it is; a non-ASCII letter or number
// is case-folded (the lower case of its upper case: µ, μ and Μ are one),
// a Latin letter with diacritics (latinFold) made its ASCII letter, a
// combining diacritic (U+0300-U+036F) dropped, a private-use character
// (the marks and joins) kept, and every other character (punctuation,
// symbols, spaces, bytes that are not UTF-8) made a space. A query's
// non-ASCII words are folded the same way (indexWord).
func foldWords(dst, s []byte) []byte {
	for len(s) > 0 {
		i := nonASCII(s)
		dst = append(dst, s[:i]...)
		if s = s[i:]; len(s) == 0 {
			break
		}
		r, n := utf8.DecodeRune(s)
		switch {
		case bmpPrivate(r): // the marks and joins, most often
			dst = append(dst, s[:n]...)
		case r >= 0x300 && r <= 0x36f:
		case !isWordRune(r):
			dst = append(dst, ' ')
		case unicode.Is(unicode.Co, r):
			dst = append(dst, s[:n]...)
		default:
			if c, ok := latinFold[r]; ok {
				dst = append(dst, c)
			} else {
				dst = utf8.AppendRune(dst, unicode.ToLower(unicode.ToUpper(r)))
			}
		}
		s = s[n:]
	}
	return dst
}

// foldFrom is the index of the first character of s that foldWords
// changes or may change (neither ASCII nor a BMP private-use character:
// the marks and joins indexText adds), len(s) when none is.
func foldFrom(s []byte) int {
	for i := 0; ; {
		if i += nonASCII(s[i:]); i == len(s) {
			return i
		}
		r, n := utf8.DecodeRune(s[i:])
		if !bmpPrivate(r) {
			return i
		}
		i += n
	}
}

// bmpPrivate reports whether r is in the private-use area of the Basic
// Multilingual Plane, where fieldMark, fieldJoin and pairJoin are.
func bmpPrivate(r rune) bool { return r >= 0xe000 && r <= 0xf8ff }

// nonASCII is the index of the first byte of s that is not ASCII, len(s)
// when none is.
func nonASCII(s []byte) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if binary.LittleEndian.Uint64(s[i:])&0x8080808080808080 != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return i
		}
	}
	return len(s)
}

// ftsWord is a word as FTS5's unicode61 tokenizer makes it: s is the text
// (ASCII folded to lower case), wild says it has non-ASCII characters,
// whose folding (case, diacritics) this does not repeat (sameWord).
type ftsWord struct {
	s    string
	wild bool
}

// ftsWords appends the words of s to dst the way FTS5's unicode61
// tokenizer cuts them: a word is a run of ASCII letters and digits and
// non-ASCII letters, numbers and private-use characters, a combining
// diacritic (U+0300-U+036F) continuing one. Where unicode61's tables
// differ (characters newer than its Unicode version) a word may be cut
// elsewhere; such words are non-ASCII, hence wild.
func ftsWords(s string, dst []ftsWord) []ftsWord {
	for w, wild := range wordsOf(s) {
		if !wild {
			w = strings.ToLower(w)
		}
		dst = append(dst, ftsWord{s: w, wild: wild})
	}
	return dst
}

// wordsOf yields the words of s as ftsWords cuts them, each with whether
// it has non-ASCII characters (wild).
func wordsOf(s string) iter.Seq2[string, bool] {
	return func(yield func(string, bool) bool) {
		for i := 0; ; {
			start, end, wild := nextWord(s, i)
			if start == end || !yield(s[start:end], wild) {
				return
			}
			i = end
		}
	}
}

// nextWord returns the first word of s at or after i as ftsWords cuts
// them (start == end: none), and whether it has non-ASCII characters.
func nextWord(s string, i int) (start, end int, wild bool) {
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if isASCIIAlnum(c) {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if isWordRune(r) {
			break
		}
		i += n
	}
	start = i
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if !isASCIIAlnum(c) {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) && (r < 0x300 || r > 0x36f) {
			break
		}
		wild = true
		i += n
	}
	return start, i, wild
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

// phraseCheck is what a candidate must pass when the index could not tell
// (term.check): in each group (terms OR'ed, one of them checked) a term
// whose words are in the text (of its field) in order, and none of negs
// (the checked terms excluded).
type phraseCheck struct {
	groups [][]term
	negs   []term
}

// ok reports whether the event whose indexed text is d passes: in doubt
// (wild words) a hit is kept, and not excluded.
func (c *phraseCheck) ok(d *searchDoc) bool {
	var words [len(searchDoc{})][]ftsWord
	wordsOf := func(f int) []ftsWord {
		if words[f] == nil {
			words[f] = ftsWords(d[f], make([]ftsWord, 0, 64))
		}
		return words[f]
	}
	has := func(t term, sure bool) bool {
		for f := range searchFields {
			if t.field != "" && searchFields[f] != t.field {
				continue
			}
			if hasPhrase(wordsOf(f), t.words, t.prefix, sure) {
				return true
			}
		}
		return false
	}
	for _, g := range c.groups {
		found := false
		for _, t := range g {
			if has(t, false) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, t := range c.negs {
		if has(t, true) {
			return false
		}
	}
	return true
}

// sameWord reports whether FTS5 would take w for p (or p for a prefix of
// w). Words of ASCII alone are compared exactly; with non-ASCII characters
// (wild), whose case and diacritics FTS5 folds by tables this does not
// repeat, they may be the same when they have as many characters, the
// combining diacritics aside, and the same ASCII ones where both have
// one; with sure, they are not.
func sameWord(w, p ftsWord, prefix, sure bool) bool {
	if !w.wild && !p.wild {
		return w.s == p.s || prefix && strings.HasPrefix(w.s, p.s)
	}
	if strings.EqualFold(w.s, p.s) || prefix && len(w.s) >= len(p.s) && strings.EqualFold(w.s[:len(p.s)], p.s) {
		return true // the same letters but for case: the same word to FTS5 too
	}
	if fw, ok := foldLatin(w.s); ok {
		if fp, ok := foldLatin(p.s); ok { // as FTS5 folds them: sure either way
			return fw == fp || prefix && strings.HasPrefix(fw, fp)
		}
	}
	if sure {
		return false
	}
	diacritic := func(r rune) bool { return r >= 0x300 && r <= 0x36f }
	a, b := w.s, p.s
	for len(b) > 0 {
		if len(a) == 0 {
			return false
		}
		ra, na := utf8.DecodeRuneInString(a)
		if diacritic(ra) {
			a = a[na:]
			continue
		}
		rb, nb := utf8.DecodeRuneInString(b)
		if diacritic(rb) {
			b = b[nb:]
			continue
		}
		if ra < utf8.RuneSelf && rb < utf8.RuneSelf && unicode.ToLower(ra) != unicode.ToLower(rb) {
			return false
		}
		a, b = a[na:], b[nb:]
	}
	for len(a) > 0 && !prefix {
		r, n := utf8.DecodeRuneInString(a)
		if !diacritic(r) {
			return false
		}
		a = a[n:]
	}
	return true
}

// latinFold maps each Latin letter with diacritics (U+00C0-U+024F and
// U+1E00-U+1EF9, the Vietnamese letters among them) whose canonical
// decomposition is an ASCII letter and combining diacritics (or, for
// U+1E9B and the Angstrom sign U+212B, a letter whose is) to that letter,
// lower case: what FTS5's unicode61 tokenizer with remove_diacritics 2
// folds it to (TestLatinFold checks each with FTS5; U+01E0 and U+01E1,
// which it does not fold, are left out).
var latinFold = func() map[rune]byte {
	const letters = "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳ" +
		"ḀḁḂḃḄḅḆḇḈḉḊḋḌḍḎḏḐḑḒḓḔḕḖḗḘḙḚḛḜḝḞḟḠḡḢḣḤḥḦḧḨḩḪḫḬḭḮḯḰḱḲḳḴḵḶḷḸḹḺḻḼḽḾḿṀṁṂṃṄṅṆṇṈṉṊṋṌṍṎṏṐṑṒṓṔṕṖṗṘṙṚṛṜṝṞṟṠṡṢṣṤṥṦṧṨṩṪṫṬṭṮṯṰṱṲṳṴṵṶṷṸṹṺṻṼṽṾṿẀẁẂẃẄẅẆẇẈẉẊẋẌẍẎẏẐẑẒẓẔẕẖẗẘẙẛẠạẢảẤấẦầẨẩẪẫẬậẮắẰằẲẳẴẵẶặẸẹẺẻẼẽẾếỀềỂểỄễỆệỈỉỊịỌọỎỏỐốỒồỔổỖỗỘộỚớỜờỞởỠỡỢợỤụỦủỨứỪừỬửỮữỰựỲỳỴỵỶỷỸỹÅ"
	const base = "aaaaaaceeeeiiiinooooouuuuyaaaaaaceeeeiiiinooooouuuuyyaaaaaaccccccccddeeeeeeeeeegggggggghhiiiiiiiiijjkkllllllnnnnnnoooooorrrrrrssssssssttttuuuuuuuuuuuuwwyyyzzzzzzoouuaaiioouuuuuuuuuuaaggkkoooojggnnaaaaaaeeeeiiiioooorrrruuuusstthhaaeeooooooooyy" +
		"aabbbbbbccddddddddddeeeeeeeeeeffgghhhhhhhhhhiiiikkkkkkllllllllmmmmmmnnnnnnnnoooooooopppprrrrrrrrssssssssssttttttttuuuuuuuuuuvvvvwwwwwwwwwwxxxxyyzzzzzzhtwysaaaaaaaaaaaaaaaaaaaaaaaaeeeeeeeeeeeeeeeeiiiioooooooooooooooooooooooouuuuuuuuuuuuuuyyyyyyyya"
	m := make(map[rune]byte, len(base))
	i := 0
	for _, r := range letters {
		m[r] = base[i]
		i++
	}
	return m
}()

// foldLatin is word s as FTS5 folds it, when each of its characters is an
// ASCII letter or digit, a letter of latinFold or a combining diacritic
// (U+0300-U+036F, dropped); ok is false for any other character.
func foldLatin(s string) (folded string, ok bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			b = append(b, byte(unicode.ToLower(r)))
		case r >= 0x300 && r <= 0x36f:
		default:
			c, ok := latinFold[r]
			if !ok {
				return "", false
			}
			b = append(b, c)
		}
	}
	return string(b), true
}

// hasPhrase reports whether text has the words of phrase one after the
// other (the last a prefix with prefix), as sameWord compares them.
func hasPhrase(text, phrase []ftsWord, prefix, sure bool) bool {
	if len(phrase) == 0 {
		return false
	}
	for i := 0; i+len(phrase) <= len(text); i++ {
		k := 0
		for ; k < len(phrase); k++ {
			if !sameWord(text[i+k], phrase[k], prefix && k == len(phrase)-1, sure) {
				break
			}
		}
		if k == len(phrase) {
			return true
		}
	}
	return false
}

func isField(s string) bool {
	for _, f := range searchFields {
		if f == s {
			return true
		}
	}
	return false
}

// maxSearchLimit bounds the hits of one search.
const maxSearchLimit = 500

// Search implements store.Searcher: the index's matches, newest first,
// filtered by session, origin and time in the same query, each with a
// snippet cut from its payload.
func (j *Journal) Search(q store.SearchQuery) ([]store.SearchHit, error) {
	match, terms, chk, err := parseQuery(q.Query, j.search)
	if err != nil {
		return nil, err
	}
	if err := j.waitCommitted(); err != nil {
		return nil, err
	}
	if err := j.catchUpIndex(); err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 || limit > maxSearchLimit {
		limit = maxSearchLimit
	}
	since, until := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.Since.IsZero() {
		since = q.Since.UnixNano()
	}
	if !q.Until.IsZero() {
		until = q.Until.UnixNano()
	}
	sqlLimit := int64(limit)
	if chk != nil {
		sqlLimit = -1 // candidates: read until limit of them pass
	}
	var session any = ""
	if q.Session != "" {
		session = j.sessionArg(q.Session)
	}
	rows, err := j.rd.search.Query(match, session, q.Origin, since, until, sqlLimit)
	if err != nil {
		if strings.Contains(err.Error(), "phrase queries are not supported") {
			// a word FTS5 cuts in two where ftsWords does not (a
			// character newer than its Unicode tables)
			return nil, &store.QueryError{Msg: fmt.Sprintf("the query %q has a word the index cannot search as one: separate its parts with spaces", q.Query)}
		}
		return nil, fmt.Errorf("journal: search: %w", err)
	}
	defer rows.Close()
	var hits []store.SearchHit
	for rows.Next() {
		var r eventRow
		if err := rows.Scan(r.cols()...); err != nil {
			return nil, fmt.Errorf("journal: search: %w", err)
		}
		ev, err := j.rowEvent(&r)
		if errors.Is(err, errBlockGone) {
			continue // retention deleted it since the query began
		}
		if err != nil {
			return nil, err
		}
		d := docOf(ev)
		if chk != nil && !chk.ok(&d) {
			continue
		}
		hits = append(hits, store.SearchHit{Seq: ev.Seq, SessionID: ev.SessionID, Event: ev.Name, Tool: ev.Tool,
			Received: ev.Received, Snippet: snippet(d, terms)})
		if len(hits) >= limit {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: search: %w", err)
	}
	return hits, nil
}

// searchSQL finds the hits: the index is the outer loop, walked by rowid
// (seq) descending, so the newest matches come first and the scan stops at
// the limit.
var searchSQL = `SELECT ` + prefixCols("e.", eventCols) + ` FROM search JOIN events e ON e.seq = search.rowid
	WHERE search MATCH ?1 AND (?2 = '' OR e.session_id = ?2) AND (?3 = '' OR e.origin = ?3)
	AND e.received_ns >= ?4 AND e.received_ns <= ?5
	ORDER BY search.rowid DESC LIMIT ?6`

// snippetWidth is about how many characters a snippet shows.
const snippetWidth = 160

// snippet returns the text around the first match of terms in d (the
// fields a term names first), HTML-escaped, every match in <mark>.
func snippet(d searchDoc, terms []term) string {
	type span struct{ a, b int }
	bestField, bestAt := -1, -1
	// the first term found in a text field (event and tool names make a
	// poor snippet)
	for _, t := range terms {
		for f := fPrompt; f < len(d) && bestField < 0; f++ {
			if t.field != "" && searchFields[f] != t.field {
				continue
			}
			if at := indexFold(d[f], t.text); at >= 0 {
				bestField, bestAt = f, at
			}
		}
		if bestField >= 0 {
			break
		}
	}
	if bestField < 0 { // matched by tokens the plain text search misses (diacritics): show the start
		for f := fPrompt; f < len(d); f++ {
			if d[f] != "" {
				bestField, bestAt = f, 0
				break
			}
		}
		if bestField < 0 {
			return html.EscapeString(d[fEvent] + " " + d[fTool])
		}
	}
	text := d[bestField]
	a := max(0, bestAt-snippetWidth/3)
	for a > 0 && !utf8.RuneStart(text[a]) {
		a--
	}
	b := min(len(text), a+snippetWidth)
	for b < len(text) && !utf8.RuneStart(text[b]) {
		b++
	}
	win := text[a:b]
	var marks []span
	for _, t := range terms {
		for off := 0; off < len(win); {
			at := indexFold(win[off:], t.text)
			if at < 0 {
				break
			}
			s := span{off + at, off + at + len(t.text)}
			if t.prefix {
				for s.b < len(win) {
					r, n := utf8.DecodeRuneInString(win[s.b:])
					if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
						break
					}
					s.b += n
				}
			}
			marks = append(marks, s)
			off = s.b
		}
	}
	sort.Slice(marks, func(x, y int) bool { return marks[x].a < marks[y].a })
	var out strings.Builder
	if a > 0 {
		out.WriteString("…")
	}
	pos := 0
	for _, m := range marks {
		if m.a < pos {
			continue // overlaps the previous mark
		}
		out.WriteString(oneLine(html.EscapeString(win[pos:m.a])))
		out.WriteString("<mark>" + oneLine(html.EscapeString(win[m.a:m.b])) + "</mark>")
		pos = m.b
	}
	out.WriteString(oneLine(html.EscapeString(win[pos:])))
	if b < len(text) {
		out.WriteString("…")
	}
	return out.String()
}

// oneLine folds newlines and tabs to spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
}

// indexFold is strings.Index ignoring case (simple folding).
func indexFold(s, sub string) int {
	if sub == "" {
		return -1
	}
	ls, lsub := strings.ToLower(s), strings.ToLower(sub)
	if len(ls) != len(s) || len(lsub) != len(sub) {
		// folding changed lengths (rare scripts): exact match only
		return strings.Index(s, sub)
	}
	return strings.Index(ls, lsub)
}
