package hookcfg

import (
	"os"
	"testing"
)

// envRunMain makes the test binary behave as mpm-hook's installer, so that
// tests (and people) can run the real command line as a separate process.
const envRunMain = "HOOKCFG_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		args := os.Args[1:]
		if len(args) > 0 && args[0] == "--" {
			args = args[1:]
		}
		os.Exit(Main(args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
