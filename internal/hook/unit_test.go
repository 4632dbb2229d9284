package hook

import (
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mpm-dev/mpm/internal/jsonobj"
)

// scanEnd feeds b to a scanner in chunks of size n.
func scanEnd(b []byte, n int) (scanStatus, int, int) {
	s := newScanner()
	for i := 0; i < len(b); i += n {
		j := min(i+n, len(b))
		if st := s.feed(b[i:j]); st != scanMore {
			return st, s.start, s.end
		}
	}
	return s.status, s.start, s.end
}

func TestScannerFindsObjectEnd(t *testing.T) {
	cases := []struct {
		in     string
		status scanStatus
		value  string
	}{
		{`{"a":1}`, scanDone, `{"a":1}`},
		{" \n\t{\"a\":\"}\"}\n{\"next\":1}", scanDone, `{"a":"}"}`},
		{`{"a":"\"}"}xyz`, scanDone, `{"a":"\"}"}`},
		{`{"a":[1,{"b":"\\"}]}`, scanDone, `{"a":[1,{"b":"\\"}]}`},
		{`{"a":`, scanMore, ""},
		{`[1]`, scanBad, ""},
		{`hello`, scanBad, ""},
		{``, scanMore, ""},
	}
	for _, c := range cases {
		for _, chunk := range []int{1, 3, 1 << 20} {
			st, start, end := scanEnd([]byte(c.in), chunk)
			if st != c.status || (st == scanDone && c.in[start:end] != c.value) {
				t.Errorf("scan(%q, chunks of %d) = %v [%d:%d], want %v %q", c.in, chunk, st, start, end, c.status, c.value)
			}
		}
	}
}

// FuzzJSONScan holds the scanner and validator to encoding/json.
func FuzzJSONScan(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":"}\"{"} tail`, `{"x":[{"y":null}]}`, `[1]`, `{"a":"\ud800"}`, "{\"a\":\"\xed\xa0\x80\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		trimmed := bytes.TrimLeft(b, " \t\r\n")
		want := json.Valid(b) && utf8.Valid(b) && len(trimmed) > 0 && trimmed[0] == '{'
		if got := jsonobj.Valid(b); got != want {
			t.Fatalf("jsonobj.Valid(%q) = %v, encoding/json says %v", b, got, want)
		}
		st, start, end := scanEnd(b, 7)
		if want {
			// A valid object scans to exactly its end.
			if st != scanDone || !bytes.Equal(bytes.TrimRight(b, " \t\r\n"), b[:end]) || start != len(b)-len(trimmed) {
				t.Fatalf("scan(%q) = %v [%d:%d]", b, st, start, end)
			}
		}
		if st == scanDone && json.Valid(b[start:end]) != jsonobj.Valid(b[start:end]) && utf8.Valid(b[start:end]) {
			t.Fatalf("disagree on %q", b[start:end])
		}
	})
}

func TestStatusLine(t *testing.T) {
	cases := []struct {
		in   string
		code int
		ok   bool
		bad  bool
	}{
		{"HTTP/1.1 202 Accepted\r\n", 202, true, false},
		{"HTTP/1.0 503\r\n", 503, true, false},
		{"HTTP/1.1 20", 0, false, false},
		{"HTTP/1.1 2x2 OK\r\n", 0, false, true},
		{"SSH-2.0-OpenSSH\r\n", 0, false, true},
		{"HTTP/1.1 2000\r\n", 0, false, true},
	}
	for _, c := range cases {
		code, ok, err := statusLine([]byte(c.in))
		if code != c.code || ok != c.ok || (err != nil) != c.bad {
			t.Errorf("statusLine(%q) = %d %v %v", c.in, code, ok, err)
		}
	}
}

func FuzzParseIP(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::1", "fe80::1:2", "1::", "::", "1:2:3:4:5:6:7:8", "01.2.3.4", "256.1.1.1", "1.2.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseIP(s)
		if s == "localhost" {
			return
		}
		a, err := netip.ParseAddr(s)
		want := err == nil && a.Zone() == "" && !(a.Is6() && strings.Contains(s, "."))
		if ok != want {
			t.Fatalf("parseIP(%q) ok=%v, netip says %v (%v)", s, ok, want, err)
		}
		if ok && !bytes.Equal(got, a.AsSlice()) {
			t.Fatalf("parseIP(%q) = %v, netip %v", s, got, a.AsSlice())
		}
	})
}

func TestHostPort(t *testing.T) {
	for in, want := range map[string]string{"127.0.0.1:8765": "127.0.0.1", "[::1]:80": "::1", "localhost:1": "localhost"} {
		if h, _, err := hostPort(in); err != nil || h != want {
			t.Errorf("hostPort(%q) = %q, %v", in, h, err)
		}
	}
	for _, in := range []string{"127.0.0.1", "127.0.0.1:0", "127.0.0.1:x", ":99999"} {
		if _, _, err := hostPort(in); err == nil {
			t.Errorf("hostPort(%q) accepted", in)
		}
	}
}

// readInput returns the object as soon as it is complete, with stdin still
// open, and keeps reading what follows so that the writer never blocks.
func TestReadInputStdinLeftOpen(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	obj := `{"session_id":"s","big":"` + strings.Repeat("b", 200<<10) + `"}`
	written := make(chan error, 1)
	go func() {
		_, err := w.Write([]byte(obj + "\n" + strings.Repeat("trailing ", 20000)))
		written <- err
	}()
	in := readInput(r, time.Minute)
	if !in.complete || string(in.data) != obj {
		t.Fatalf("readInput: complete=%v timedOut=%v len=%d", in.complete, in.timedOut, len(in.data))
	}
	if err := <-written; err != nil {
		t.Fatalf("the writer's trailing bytes were not read: %v", err)
	}
}

func TestReadInputDeadline(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	w.Write([]byte(`{"never":"ends`))
	in := readInput(r, 100*time.Millisecond)
	if in.complete || !in.timedOut || string(in.data) != `{"never":"ends` {
		t.Fatalf("readInput = %+v", in)
	}
	in = readInput(strings.NewReader(""), time.Minute)
	if len(in.data) != 0 || in.complete || in.timedOut {
		t.Fatalf("empty stdin: %+v", in)
	}
	in = readInput(io.MultiReader(strings.NewReader("[1]")), time.Minute)
	if in.complete || string(in.data) != "[1]" {
		t.Fatalf("not an object: %+v", in)
	}
}

func TestNewKey(t *testing.T) {
	a, b := newKey(), newKey()
	if len(a) != 32 || a == b || strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("keys %q %q", a, b)
	}
}
