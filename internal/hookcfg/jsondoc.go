package hookcfg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// This file holds the order-preserving JSON handling: objects are decoded
// into a list of members whose values stay raw bytes, so that everything we
// do not touch is written back token for token (same key order, same string
// escapes, same number spelling); only white space is normalised.

// member is one key/value pair of a JSON object.
type member struct {
	// key is the decoded key.
	key string
	// val is the value's raw JSON text, exactly as it was in the input.
	val json.RawMessage
}

// object is a JSON object with its members in input order (duplicates kept).
type object struct {
	members []member
}

// ParseError is a settings file that is not valid JSON, or whose shape is
// not what Claude Code expects, with the position of the problem.
type ParseError struct {
	// Path is the file, when known.
	Path string
	// Line and Column are 1-based; 0 when the position is unknown.
	Line, Column int
	// Msg says what is wrong.
	Msg string
}

func (e *ParseError) Error() string {
	where := e.Path
	if where == "" {
		where = "settings"
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", where, e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("%s: %s", where, e.Msg)
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(src []byte, off int64) (int, int) {
	if off < 0 {
		off = 0
	}
	if off > int64(len(src)) {
		off = int64(len(src))
	}
	line, col := 1, 1
	for _, c := range src[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// validate checks that src is one valid JSON value and reports the first
// syntax error with its line and column.
func validate(src []byte) error {
	var v any
	err := json.Unmarshal(src, &v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// The offset points just past the offending byte.
		l, c := lineCol(src, se.Offset-1)
		if se.Offset == 0 {
			l, c = lineCol(src, 0)
		}
		return &ParseError{Line: l, Column: c, Msg: se.Error()}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || err.Error() == "unexpected end of JSON input" {
		l, c := lineCol(src, int64(len(src)))
		return &ParseError{Line: l, Column: c, Msg: "unexpected end of JSON input (unclosed object, array or string?)"}
	}
	return &ParseError{Msg: err.Error()}
}

// kind returns the first non-space byte of a raw value ('{', '[', '"', 't',
// 'f', 'n', or a digit/'-'), or 0 for empty input.
func kind(raw []byte) byte {
	t := bytes.TrimLeft(raw, " \t\r\n")
	if len(t) == 0 {
		return 0
	}
	return t[0]
}

// parseObject decodes a raw JSON object into its ordered members. raw must
// be valid JSON (see validate).
func parseObject(raw []byte) (*object, error) {
	if kind(raw) != '{' {
		return nil, errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	o := &object{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, ok := t.(string)
		if !ok {
			return nil, fmt.Errorf("object key is %T", t)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		o.members = append(o.members, member{key: k, val: v})
	}
	return o, nil
}

// parseArray decodes a raw JSON array into its raw elements.
func parseArray(raw []byte) ([]json.RawMessage, error) {
	if kind(raw) != '[' {
		return nil, errors.New("not a JSON array")
	}
	var out []json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// index returns the position of the member Claude Code would use for key:
// the last one, as JavaScript's JSON.parse keeps the last duplicate. -1 when
// absent.
func (o *object) index(key string) int {
	for i := len(o.members) - 1; i >= 0; i-- {
		if o.members[i].key == key {
			return i
		}
	}
	return -1
}

// get returns the value of key (last duplicate) and whether it exists.
func (o *object) get(key string) (json.RawMessage, bool) {
	if i := o.index(key); i >= 0 {
		return o.members[i].val, true
	}
	return nil, false
}

// set replaces the value of key in place (last duplicate), or appends it.
func (o *object) set(key string, val json.RawMessage) {
	if i := o.index(key); i >= 0 {
		o.members[i].val = val
		return
	}
	o.members = append(o.members, member{key: key, val: val})
}

// del removes every member named key.
func (o *object) del(key string) {
	kept := o.members[:0]
	for _, m := range o.members {
		if m.key != key {
			kept = append(kept, m)
		}
	}
	o.members = kept
}

// marshal writes the object compactly; raw member values are copied as
// they are (indent later normalises their white space).
func (o *object) marshal() json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o.members {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(encodeString(m.key))
		b.WriteByte(':')
		b.Write(m.val)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// marshalArray writes raw elements as a JSON array.
func marshalArray(elems []json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(e)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// encodeString encodes s as a JSON string without HTML escaping, so keys
// such as "a<b" stay readable.
func encodeString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimRight(b.Bytes(), "\n")
}

// detectIndent returns the indent unit of a pretty-printed document: the
// white space before the first indented line's first token. Compact or
// unknown layouts get two spaces, which is what Claude Code writes.
func detectIndent(src []byte) string {
	i := bytes.IndexByte(src, '\n')
	for i >= 0 && i+1 < len(src) {
		rest := src[i+1:]
		j := 0
		for j < len(rest) && (rest[j] == ' ' || rest[j] == '\t') {
			j++
		}
		if j > 0 && j < len(rest) && rest[j] != '\n' && rest[j] != '\r' {
			return string(rest[:j])
		}
		n := bytes.IndexByte(rest, '\n')
		if n < 0 {
			break
		}
		i += 1 + n
	}
	return "  "
}

// indent pretty-prints a compact or mixed document with the given unit and
// a final newline. String and number tokens are copied verbatim.
func indent(raw []byte, unit string) ([]byte, error) {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", unit); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// sameJSON reports whether two raw values mean the same (decoded equality,
// numbers compared by their text).
func sameJSON(a, b []byte) bool {
	va, err1 := decodeAny(a)
	vb, err2 := decodeAny(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return equalAny(va, vb)
}

func decodeAny(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func equalAny(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equalAny(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalAny(x[i], y[i]) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}
