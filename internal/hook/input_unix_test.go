//go:build unix

package hook

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mpm-dev/mpm/internal/token"
)

// pipe returns both ends of a pipe, closed at the end of the test.
func pipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// readStdin returns the object as soon as it is complete with the pipe left
// open, and discardRest then empties what the writer sent after it.
func TestReadStdinLeftOpenThenDiscardRest(t *testing.T) {
	r, w := pipe(t)
	obj := `{"session_id":"s","big":"` + strings.Repeat("b", 20<<10) + `"}`
	if _, err := w.Write([]byte(obj + "\n" + strings.Repeat("trailing ", 3000))); err != nil {
		t.Fatal(err)
	}
	fd := int(r.Fd())
	in := readStdin(fd, time.Minute)
	if !in.complete || in.timedOut || string(in.data) != obj {
		t.Fatalf("readStdin: complete=%v timedOut=%v len=%d", in.complete, in.timedOut, len(in.data))
	}
	discardRest(fd, time.Minute)
	if err := syscall.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	if n, err := syscall.Read(fd, b[:]); !errors.Is(err, syscall.EAGAIN) {
		t.Fatalf("after discardRest the pipe still holds bytes: read %d, %v", n, err)
	}
}

// A payload larger than the static first buffer grows into the heap intact.
func TestReadStdinLarge(t *testing.T) {
	r, w := pipe(t)
	obj := `{"big":"` + strings.Repeat("x", 300<<10) + `"}`
	go w.Write([]byte(obj))
	in := readStdin(int(r.Fd()), time.Minute)
	if !in.complete || string(in.data) != obj {
		t.Fatalf("readStdin: complete=%v len=%d want %d", in.complete, len(in.data), len(obj))
	}
}

func TestReadStdinEnds(t *testing.T) {
	tests := []struct {
		name, write    string
		closeWriter    bool
		data           string
		complete, late bool
	}{
		{name: "deadline with half an object", write: `{"never":"ends`, data: `{"never":"ends`, late: true},
		{name: "nothing, then EOF", closeWriter: true},
		{name: "not an object", write: "[1]", data: "[1]"},
		{name: "object, then EOF", write: " {\"a\":1}", closeWriter: true, data: `{"a":1}`, complete: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, w := pipe(t)
			w.Write([]byte(tt.write))
			if tt.closeWriter {
				w.Close()
			}
			in := readStdin(int(r.Fd()), 100*time.Millisecond)
			if string(in.data) != tt.data || in.complete != tt.complete || in.timedOut != tt.late {
				t.Fatalf("readStdin = data %q complete %v timedOut %v; want %q %v %v", in.data, in.complete, in.timedOut, tt.data, tt.complete, tt.late)
			}
		})
	}
}

func TestReadToken(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "token")
	if _, err := readToken(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing token file: %v, want ErrNotExist", err)
	}
	os.WriteFile(p, []byte("  abc123\n"), 0o600)
	if tok, err := readToken(p); err != nil || tok != "abc123" {
		t.Fatalf("readToken = %q, %v", tok, err)
	}
	os.WriteFile(p, []byte("abc\r\nInjected: 1\n"), 0o600)
	if _, err := readToken(p); !errors.Is(err, token.ErrInvalid) {
		t.Fatalf("header injection: %v, want ErrInvalid", err)
	}
	os.WriteFile(p, []byte(strings.Repeat("a", token.MaxFileSize+10)), 0o600)
	if _, err := readToken(p); !errors.Is(err, token.ErrInvalid) {
		t.Fatalf("oversized token file: %v, want ErrInvalid", err)
	}
}
