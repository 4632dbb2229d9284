package daemon

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// TestBudgetFlags: the budget flags reach the daemon's configuration (0,
// off, by default); a negative or non-finite amount is refused, naming
// the flag.
func TestBudgetFlags(t *testing.T) {
	for _, tc := range []struct {
		args             []string
		session, day     float64
		errHas, parseHas string
	}{
		{args: nil},
		{args: []string{"--budget-session-usd", "5", "--budget-day-usd=0.5"}, session: 5, day: 0.5},
		{args: []string{"--budget-session-usd", "-1"}, errHas: "--budget-session-usd must be 0"},
		{args: []string{"--budget-day-usd", "NaN"}, errHas: "--budget-day-usd must be 0"},
		{args: []string{"--budget-day-usd", "+Inf"}, errHas: "--budget-day-usd must be 0"},
		{args: []string{"--budget-day-usd", "five"}, parseHas: "invalid value"},
	} {
		fs := flag.NewFlagSet("mpm-wsd", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f := register(fs)
		if err := fs.Parse(append([]string{"--data-dir", t.TempDir()}, tc.args...)); err != nil {
			if tc.parseHas == "" || !strings.Contains(err.Error(), tc.parseHas) {
				t.Errorf("%v: parse error %v", tc.args, err)
			}
			continue
		}
		cfg, _, err := f.build(hclog.NewNullLogger())
		switch {
		case tc.errHas != "":
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("%v: error %v, want %q", tc.args, err, tc.errHas)
			}
		case err != nil || cfg.BudgetSessionUSD != tc.session || cfg.BudgetDayUSD != tc.day:
			t.Errorf("%v: session %v day %v err %v, want %v %v", tc.args, cfg.BudgetSessionUSD, cfg.BudgetDayUSD, err, tc.session, tc.day)
		}
	}
}
