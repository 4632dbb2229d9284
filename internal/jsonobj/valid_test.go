package jsonobj

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// isObject is what Valid must say: encoding/json's verdict, valid UTF-8,
// and an object.
func isObject(b []byte) bool {
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	return json.Valid(b) && utf8.Valid(b) && len(trimmed) > 0 && trimmed[0] == '{'
}

func TestValid(t *testing.T) {
	good := []string{`{}`, ` {"a":[1,-2.5e+3,true,false,null,"\u00e9\n"],"b":{}} `, `{"é":"日本"}`,
		`{"long":"` + strings.Repeat("abcdefgh", 40) + `"}`}
	bad := []string{``, `[]`, `{"a":1,}`, `{"a":01}`, `{"a":"` + "\x01" + `"}`, `{"a":1}x`, "{\"a\":\"\xff\"}", `{"a":tru}`, `{"a" 1}`, `{"a":"\x"}`}
	for _, s := range good {
		if !Valid([]byte(s)) {
			t.Errorf("Valid(%q) = false", s)
		}
	}
	for _, s := range bad {
		if Valid([]byte(s)) {
			t.Errorf("Valid(%q) = true", s)
		}
	}
}

// TestValidEveryPosition puts each byte a string's fast path must stop at
// (control characters, quote, backslash, non-ASCII, broken UTF-8) at every
// offset of a long string, so that each lands in every lane of the 8-byte
// words, in each of the four words of a 32-byte step, and in the tail;
// Valid must agree with encoding/json on each.
func TestValidEveryPosition(t *testing.T) {
	specials := []string{"\x00", "\x01", "\x1f", "\"", "\\", "\\n", "\\u00e9", "\x7f", "é", "\u2028", "\xff", "\xc3", "\xed\xa0\x80", " ", "~"}
	for _, sp := range specials {
		for pre := 0; pre < 72; pre++ {
			for post := 0; post < 10; post++ {
				b := []byte(`{"k":"` + strings.Repeat("x", pre) + sp + strings.Repeat("y", post) + `"}`)
				if got, want := Valid(b), isObject(b); got != want {
					t.Fatalf("Valid(%q) = %v, encoding/json says %v", b, got, want)
				}
			}
		}
	}
}

// TestValidTwoInAWord puts two bytes that need a look into the same 8-byte
// word at every pair of offsets: the first is found exactly, and the ones
// after it (which a borrow may flag falsely) each get their own look.
func TestValidTwoInAWord(t *testing.T) {
	specials := []string{"\\n", "\\\"", "\\\\", "é", "\x01", "\"", "\xff", "\\u00e9"}
	for _, a := range specials {
		for _, b := range specials {
			for pre := 0; pre < 9; pre++ {
				for gap := 0; gap < 9; gap++ {
					s := []byte(`{"k":"` + strings.Repeat("x", pre) + a + strings.Repeat("y", gap) + b + `z"}`)
					if got, want := Valid(s), isObject(s); got != want {
						t.Fatalf("Valid(%q) = %v, encoding/json says %v", s, got, want)
					}
				}
			}
		}
	}
}

// FuzzValid holds Valid to encoding/json: they must agree on every input.
func FuzzValid(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":"}\"{"} tail`, `{"x":[{"y":null}]}`, `[1]`, `{"a":"\ud800"}`,
		"{\"a\":\"\xed\xa0\x80\"}", `{"s":"0123456789abcdef\u0041\t"}`, "{\"a\":\"abcdefg\x80hij\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), isObject(b); got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", b, got, want)
		}
	})
}

// BenchmarkValid compares Valid with encoding/json.Valid on a 256 KiB
// payload made of one long string (a Read result), the daemon's costliest
// kind of event.
func BenchmarkValid(b *testing.B) {
	p := []byte(`{"session_id":"s","hook_event_name":"PostToolUse","tool_response":{"content":"` +
		strings.Repeat(`package main\n\nfunc main() { println(\"x\") }\n`, 256<<10/48) + `"}}`)
	b.Run("jsonobj", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			if !Valid(p) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			if !json.Valid(p) {
				b.Fatal("invalid")
			}
		}
	})
}
