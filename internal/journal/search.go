package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"math"
	"os"
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
// Its columns are the fields a query can name (tool:Edit path:orders.go).
const searchSchema = `
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(
	event, tool, prompt, command, path, input, output, message,
	content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2'
);`

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
// in place (gist.Members), decoding only the strings it indexes and only
// as far as each field's bound: an Edit's originalFile or a 50 KiB output
// is skipped or cut without being decoded whole. A payload that is not the
// JSON object a hook sends still gets its event and tool indexed.
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
	var b [8]strings.Builder
	collect := func(v []byte, input bool, only func(key string) bool) {
		walkJSON(v, "", true, func(key string, raw []byte) {
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
			if b[f].Len() > 0 {
				b[f].WriteByte('\n')
			}
			b[f].WriteString(jsonString(raw, room))
		})
	}
	if ev.Name == "PostToolUse" {
		// It repeats its PreToolUse's input: its command and paths are
		// indexed again (short, and what an output search is narrowed
		// by), the rest (an Edit's strings, a Write's content) is not.
		collect(input, true, func(key string) bool { return key == "command" || pathKeys[key] })
	} else {
		collect(input, true, nil)
	}
	collect(response, false, nil)
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
// skipKeys are not walked.
func walkJSON(v []byte, key string, top bool, fn func(key string, raw []byte)) {
	if len(v) == 0 {
		return
	}
	switch v[0] {
	case '"':
		fn(key, v)
	case '{':
		gist.Members(v, func(rawKey, val []byte) bool {
			k := jsonString(rawKey, len(rawKey))
			if !top || !skipKeys[k] {
				walkJSON(val, k, false, fn)
			}
			return true
		})
	case '[':
		var elems []json.RawMessage // arrays are few and short (file lists, todos)
		if json.Unmarshal(v, &elems) != nil {
			return
		}
		for _, e := range elems {
			walkJSON(e, key, top, fn)
		}
	}
}

// jsonString decodes the JSON string raw (quotes included), up to max
// bytes of its text (cut on a rune boundary); "" for anything else.
// Escapes are decoded only as far as needed.
func jsonString(raw []byte, max int) string {
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
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// indexValues are the INSERT arguments of ev's index row.
func indexValues(seq int64, d *searchDoc) []any {
	vs := make([]any, 0, 9)
	vs = append(vs, seq)
	for _, s := range d {
		vs = append(vs, s)
	}
	return vs
}

// term is one query term: a word, a prefix or a phrase, maybe limited to
// one field.
type term struct {
	field  string
	text   string
	prefix bool
}

// parseQuery translates the user's query (docs/protocol.md, "Searching
// history") into an FTS5 expression, and returns the positive terms (for
// the snippet). Every term is quoted for FTS5, so no user input reaches
// its syntax; what cannot be understood is a *store.QueryError.
func parseQuery(q string) (string, []term, error) {
	bad := func(format string, args ...any) (string, []term, error) {
		return "", nil, &store.QueryError{Msg: fmt.Sprintf(format, args...)}
	}
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
		expr := `"` + strings.ReplaceAll(tok, `"`, `""`) + `"`
		if prefix {
			expr += " *"
		}
		if field != "" {
			expr = field + " : " + expr
		}
		if negate {
			neg = append(neg, expr)
			continue
		}
		terms = append(terms, term{field: field, text: tok, prefix: prefix})
		if or {
			pos[len(pos)-1] = "(" + pos[len(pos)-1] + " OR " + expr + ")"
			or = false
		} else {
			pos = append(pos, expr)
		}
	}
	if len(pos) == 0 {
		return bad("the query %q has no word to search for: give at least one (see docs/protocol.md, Searching history)", q)
	}
	match := strings.Join(pos, " AND ")
	if len(neg) > 0 {
		match = "(" + match + ") NOT (" + strings.Join(neg, " OR ") + ")"
	}
	return match, terms, nil
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
	match, terms, err := parseQuery(q.Query)
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
	rows, err := j.rd.search.Query(match, q.Session, q.Origin, since, until, limit)
	if err != nil {
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
		hits = append(hits, store.SearchHit{Seq: ev.Seq, SessionID: ev.SessionID, Event: ev.Name, Tool: ev.Tool,
			Received: ev.Received, Snippet: snippet(docOf(ev), terms)})
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
