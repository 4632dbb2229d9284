package hookcfg

import "testing"

// BenchmarkInstall measures an install edit of a typical settings file
// (others' hooks present), and a no-change second install.
func BenchmarkInstall(b *testing.B) {
	plan := Plan{Mode: ModeCommand, Events: Events, Target: Target{Executable: "/usr/local/bin/mpm-hook", Addr: "127.0.0.1:8765"}}
	res, err := Install([]byte(othersHooks), plan)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fresh", func(b *testing.B) {
		for b.Loop() {
			if _, err := Install([]byte(othersHooks), plan); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("already-wired", func(b *testing.B) {
		for b.Loop() {
			if r, err := Install(res.After, plan); err != nil || r.Changed {
				b.Fatal(err)
			}
		}
	})
}
