package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestParse: help, version, a usage error naming the flag as typed, and
// positional arguments, on one in-process Program.
func TestParse(t *testing.T) {
	for _, c := range []struct {
		args       []string
		code       int
		done       bool
		out, errs  string
		allowArgs  bool
		wantTyped  string
		wantNArgs  int
		wantTimout time.Duration
	}{
		{args: []string{"--help"}, code: 0, done: true, out: "Usage:\n  x [flags]"},
		{args: []string{"-h"}, code: 0, done: true, out: "--timeout DURATION"},
		{args: []string{"help"}, code: 0, done: true, out: "(default 5s)"},
		{args: []string{"--version"}, code: 0, done: true, out: "x "},
		{args: []string{"version"}, code: 0, done: true, out: "x "},
		{args: []string{"--nope"}, code: 2, done: true, errs: "x: unknown flag --nope (see x --help)\n"},
		{args: []string{"-nope=1"}, code: 2, done: true, errs: "x: unknown flag -nope (see x --help)\n"},
		{args: []string{"--timeout"}, code: 2, done: true, errs: "x: --timeout needs a value (see x --help)\n"},
		{args: []string{"--timeout=soon"}, code: 2, done: true, errs: `x: invalid value "soon" for flag --timeout: parse error (see x --help)` + "\n"},
		{args: []string{"-timeout", "soon"}, code: 2, done: true, errs: `x: invalid value "soon" for flag -timeout: parse error (see x --help)` + "\n"},
		{args: []string{"extra"}, code: 2, done: true, errs: "x: unexpected argument \"extra\" (see x --help)\n"},
		{args: []string{"extra"}, allowArgs: true, wantNArgs: 1, wantTimout: 5 * time.Second},
		{args: []string{"--timeout", "2s"}, wantTimout: 2 * time.Second},
	} {
		var out, errs bytes.Buffer
		p := &Program{Name: "x", Synopsis: []string{"x [flags]"}, Args: c.allowArgs, Stdout: &out, Stderr: &errs}
		fs := p.FlagSet()
		timeout := fs.Duration("timeout", 5*time.Second, "how long")
		code, done := p.Parse(fs, c.args)
		if code != c.code || done != c.done {
			t.Errorf("%v: (%d, %v), want (%d, %v)", c.args, code, done, c.code, c.done)
		}
		if c.out != "" && !strings.Contains(out.String(), c.out) || c.out == "" && out.Len() > 0 {
			t.Errorf("%v: stdout %q, want it to hold %q", c.args, out.String(), c.out)
		}
		if errs.String() != c.errs {
			t.Errorf("%v: stderr %q, want %q", c.args, errs.String(), c.errs)
		}
		if !done && (fs.NArg() != c.wantNArgs || *timeout != c.wantTimout) {
			t.Errorf("%v: %d args, timeout %v", c.args, fs.NArg(), *timeout)
		}
	}
}

// TestWriteFlags: defaults come from the definitions, booleans take no
// value, one-letter flags get one dash, long descriptions wrap.
func TestWriteFlags(t *testing.T) {
	var out bytes.Buffer
	p := &Program{Name: "x", Stdout: &out}
	fs := p.FlagSet()
	fs.String("addr", "127.0.0.1:8765", "the daemon's `HOST:PORT`")
	fs.Bool("json", false, "JSON output")
	fs.Int("n", 10, "how many")
	fs.String("long-flag-name-here", "", strings.Repeat("word ", 30))
	WriteFlags(&out, fs)
	got := out.String()
	for _, want := range []string{
		"  --addr HOST:PORT          the daemon's HOST:PORT (default 127.0.0.1:8765)\n",
		"  --json                    JSON output\n",
		"  -n N                      how many (default 10)\n",
		"  --long-flag-name-here VALUE\n                            word word",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	for _, line := range strings.Split(got, "\n") {
		if len(line) > lineWidth {
			t.Errorf("line longer than %d: %q", lineWidth, line)
		}
	}
}
