package hookcfg

import (
	"errors"
	"testing"
)

// FuzzInstallUninstall: for any settings file that is a JSON object,
// install wires every event exactly once, a second install changes nothing,
// and uninstall gives back the meaning the file had without our entries.
func FuzzInstallUninstall(f *testing.F) {
	for _, s := range []string{
		"", "{}", othersHooks, unknownKeys,
		`{"hooks":{}}`, `{"hooks":{"Stop":[]}}`, `{"hooks":{"Stop":[1,"x",{"hooks":"no"}]}}`,
		`{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"mpm-hook"}]}]}}`,
		`{"hooks":{"A":[{"x":1}]},"hooks":{}}`,
		`{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"x"}]}],"Stop":[]}}`,
		`{"\u0068ooks":{"PreToolUse":[{"matcher":"Bash","hooks":[{"type":"http","url":"http://127.0.0.1:1/v1/events"}]}]}}`,
		"\xef\xbb\xbf{\"a\":\"\\u00e9<>&\",\"n\":1e400}",
		`{"hooks":null}`, `[]`, `{"hooks":{"Stop":{}}}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	const self = "/opt/mpm/bin/mpm-hook"
	f.Fuzz(func(t *testing.T, src []byte, http bool) {
		mode := ModeCommand
		if http {
			mode = ModeHTTP
		}
		plan := Plan{Mode: mode, Events: Events, Target: Target{Executable: self, Addr: "127.0.0.1:8765"}}
		res, err := Install(src, plan)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("install failed with a non-parse error: %v", err)
			}
			if !bytesEqual(res.After, src) {
				t.Fatal("failed install returned changed content")
			}
			// Uninstall must not fail worse on the same input.
			if _, err := Uninstall(src, self); err != nil && !errors.As(err, &pe) {
				t.Fatalf("uninstall failed with a non-parse error: %v", err)
			}
			return
		}
		got := ours(t, res.After, self)
		if len(got) != len(Events) {
			t.Fatalf("install wired %d events, want %d:\n%s", len(got), len(Events), res.After)
		}
		for ev, es := range got {
			if len(es) != 1 {
				t.Fatalf("%s has %d of our entries:\n%s", ev, len(es), res.After)
			}
		}
		again, err := Install(res.After, plan)
		if err != nil || again.Changed {
			t.Fatalf("second install: changed=%v err=%v\n%s", again.Changed, err, res.After)
		}
		back, err := Uninstall(res.After, self)
		if err != nil {
			t.Fatalf("uninstall after install: %v", err)
		}
		if len(ours(t, back.After, self)) != 0 {
			t.Fatalf("uninstall left entries of ours:\n%s", back.After)
		}
		clean, err := Uninstall(src, self)
		if err != nil {
			t.Fatalf("uninstall of the original: %v", err)
		}
		if !sameMeaning(t, back.After, clean.After) {
			t.Fatalf("install+uninstall changed the meaning:\noriginal: %q\nafter:    %s\nwant:     %s", src, back.After, clean.After)
		}
		if len(ours(t, src, self)) == 0 && !sameMeaning(t, src, clean.After) {
			t.Fatalf("uninstall changed a file without our entries:\n%q\n%s", src, clean.After)
		}
	})
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }
