package gist

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"unicode/utf8"
)

func TestFields(t *testing.T) {
	obj := []byte(` { "a" : "x\"y\\\\", "skip": {"n": [1, "]}", {"b": "}"}]}, "b":12.5e3 ,"c":null, "d\u0061": true, "e": [ ], "b": "last"} `)
	got := Fields(obj, "a", "b", "c", "da", "e", "missing")
	want := map[string]string{"a": `"x\"y\\\\"`, "b": `"last"`, "c": "null", "da": "true", "e": "[ ]"}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for k, v := range want {
		if string(got[k]) != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for _, bad := range []string{"", "[]", `{"a"`, `{"a":`, `{"a":"x`, `{"a":1`, "{", `{"a":{"b":1}`, `{"a":"\`} {
		Fields([]byte(bad), "a") // no panic
	}
}

// FuzzFields: on any valid JSON object, Fields agrees with encoding/json
// for every member it is asked for; on anything else it does not panic.
func FuzzFields(f *testing.F) {
	f.Add([]byte(`{"tool_input":{"command":"ls","content":"a\"b"},"prompt":"p"}`), "tool_input")
	f.Add([]byte(`{"a":[{"b":"]"}],"b":"\\\\\""}`), "b")
	f.Add([]byte(`{"\u0061":1,"a":2}`), "a")
	f.Fuzz(func(t *testing.T, obj []byte, name string) {
		got := Fields(obj, name)
		if !utf8.Valid(obj) || !utf8.ValidString(name) {
			return // the daemon accepts only UTF-8; encoding/json rewrites the rest
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(obj, &m) != nil {
			return
		}
		want, ok := m[name]
		if !ok {
			if _, has := got[name]; has {
				t.Fatalf("found %q = %q, which encoding/json does not have", name, got[name])
			}
			return
		}
		var a, b bytes.Buffer
		if json.Compact(&a, got[name]) != nil || json.Compact(&b, want) != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("%q = %q, encoding/json says %q", name, got[name], want)
		}
	})
}

// elementsOf is what Elements passes, in order.
func elementsOf(arr []byte) []string {
	var out []string
	Elements(arr, func(v []byte) bool { out = append(out, string(v)); return true })
	return out
}

func TestElements(t *testing.T) {
	cases := []struct {
		arr  string
		want []string
	}{
		{` [ 1 , "a,]" , {"b": [2, "]"]} , [ ] , null,true ] `, []string{"1", `"a,]"`, `{"b": [2, "]"]}`, "[ ]", "null", "true"}},
		{`[]`, nil},
		{`[ ]`, nil},
		{`["\"", "\\"]`, []string{`"\""`, `"\\"`}},
		{`{"a":1}`, nil},
		{`[1,`, []string{"1"}},
		{`[1,]`, []string{"1"}},
		{`["x`, nil},
		{``, nil},
	}
	for _, c := range cases {
		if got := elementsOf([]byte(c.arr)); !slices.Equal(got, c.want) {
			t.Errorf("Elements(%q) = %q, want %q", c.arr, got, c.want)
		}
	}
}

// FuzzElements: on any valid JSON array, Elements passes the elements
// encoding/json finds; on anything else it does not panic.
func FuzzElements(f *testing.F) {
	f.Add([]byte(`[1,"a",{"b":["]"]},[],null]`))
	f.Add([]byte(` [ "\\\"" , -1.5e3 ] `))
	f.Fuzz(func(t *testing.T, arr []byte) {
		got := elementsOf(arr)
		var want []json.RawMessage
		if !utf8.Valid(arr) || json.Unmarshal(arr, &want) != nil {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("Elements(%q) = %q, encoding/json says %q", arr, got, want)
		}
		for i := range got {
			if got[i] != string(want[i]) {
				t.Fatalf("Elements(%q)[%d] = %q, encoding/json says %q", arr, i, got[i], want[i])
			}
		}
	})
}
