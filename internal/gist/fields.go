package gist

import (
	"bytes"
	"encoding/json"
)

// Fields returns the raw values of the named top-level members of the
// JSON object obj, as slices of obj (nothing copied, nothing decoded):
// the way to read a few small fields of a payload whose other members
// (a file's content, a tool's output) may be large. Other members are
// skipped byte by byte, without decoding their strings. A member named
// twice keeps its last value, as encoding/json does. obj must be valid
// UTF-8 JSON (the daemon validated it); on anything else Fields returns what it
// found before the problem.
func Fields(obj []byte, names ...string) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(names))
	Members(obj, func(rawKey, val []byte) bool {
		if name, ok := wanted(rawKey, names); ok {
			out[name] = val
		}
		return true
	})
	return out
}

// Members calls fn with the raw key (quotes included) and the raw value of
// each top-level member of the JSON object obj, in order, until fn returns
// false; both are slices of obj (capacity capped). Values are skipped byte
// by byte, strings not decoded. On anything that is not a well-formed
// object it stops after the last member it could read.
func Members(obj []byte, fn func(rawKey, val []byte) bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return
	}
	i++
	for {
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != '"' {
			return
		}
		kEnd := skipString(obj, i)
		if kEnd < 0 {
			return
		}
		rawKey := obj[i:kEnd:kEnd]
		i = skipSpace(obj, kEnd)
		if i >= len(obj) || obj[i] != ':' {
			return
		}
		i = skipSpace(obj, i+1)
		vEnd := skipValue(obj, i)
		if vEnd < 0 {
			return
		}
		if !fn(rawKey, obj[i:vEnd:vEnd]) {
			return
		}
		i = skipSpace(obj, vEnd)
		if i >= len(obj) || obj[i] != ',' {
			return
		}
		i++
	}
}

// wanted reports which of names the quoted key rawKey is.
func wanted(rawKey []byte, names []string) (string, bool) {
	key := rawKey[1 : len(rawKey)-1]
	if bytes.IndexByte(key, '\\') >= 0 { // an escaped key: decode it
		var s string
		if json.Unmarshal(rawKey, &s) != nil {
			return "", false
		}
		key = []byte(s)
	}
	for _, n := range names {
		if string(key) == n {
			return n, true
		}
	}
	return "", false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the offset just past the string starting at b[i]
// ('"'), or -1. It jumps from quote to quote (bytes.IndexByte) and counts
// the backslashes before each: an odd number escapes it.
func skipString(b []byte, i int) int {
	start := i + 1
	i = start
	for {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return -1
		}
		q := i + j
		n := 0
		for k := q - 1; k >= start && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return q + 1
		}
		i = q + 1
	}
}

// skipValue returns the offset just past the value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// Elements calls fn with the raw value of each element of the JSON array
// arr, in order, until fn returns false; each a slice of arr (capacity
// capped). Values are skipped byte by byte, strings not decoded. On
// anything that is not a well-formed array it stops after the last
// element it could read.
func Elements(arr []byte, fn func(val []byte) bool) {
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return
	}
	i = skipSpace(arr, i+1)
	if i < len(arr) && arr[i] == ']' {
		return
	}
	for {
		end := skipValue(arr, i)
		if end < 0 || end == i {
			return
		}
		if !fn(arr[i:end:end]) {
			return
		}
		i = skipSpace(arr, end)
		if i >= len(arr) || arr[i] != ',' {
			return
		}
		i = skipSpace(arr, i+1)
	}
}
