package wsd_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// TestTokenNeverLoggedWithoutTerminal: a daemon whose stderr is not a
// terminal (a service's, a pipe, a file) logs the dashboard address
// without the token, with the URL last on its line; the log never holds
// the token (it may go to the system journal).
func TestTokenNeverLoggedWithoutTerminal(t *testing.T) {
	d := testutil.StartDaemon(t)
	tok := d.Token()
	d.Stop()
	log := d.Log.String()
	if strings.Contains(log, tok) || strings.Contains(log, "#token=") {
		t.Fatalf("the log holds the token:\n%s", log)
	}
	if !regexp.MustCompile(`(?m)dashboard.*url=http://` + regexp.QuoteMeta(d.Addr) + `/$`).MatchString(log) {
		t.Fatalf("the log lacks the dashboard address at the end of a line:\n%s", log)
	}
}
