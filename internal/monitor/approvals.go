package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mpm-dev/mpm/internal/cli"
	"github.com/mpm-dev/mpm/internal/client"
	"github.com/mpm-dev/mpm/internal/gist"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/protocol"
)

// ApprovalCommands are the subcommands ApprovalsMain carries out.
var ApprovalCommands = []string{"approvals", "approve", "deny"}

// approvalsAbout is the help text of the approval commands.
const approvalsAbout = `Answer Claude Code's permission requests from a terminal (or over SSH).
Requests wait when Claude Code's hook was installed with mpm-hook install
--approvals. Claude Code's own prompt shows at the same time: whoever answers
first wins. --off makes waiting hooks return at once (Claude Code asks in the
terminal); --on turns answering from mpm back on.`

// ApprovalsMain runs `mpm-monitor approvals|approve|deny args...` and
// returns the exit code: 0 done, 1 failed (daemon unreachable, request
// already resolved or unknown), 2 bad usage.
func ApprovalsMain(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) int {
	p := &cli.Program{
		Name: "mpm-monitor " + cmd,
		Synopsis: []string{
			"mpm-monitor approvals [--json] [--on|--off]   list the requests waiting for an answer from mpm",
			"mpm-monitor approve ID [--always N]           allow (--always N: also apply its Nth permission suggestion)",
			"mpm-monitor deny ID [--message M]             deny; Claude gets M",
		},
		About:  approvalsAbout,
		Env:    []string{paths.EnvAddr, paths.EnvDataDir},
		Notes:  "Exit status: 0 done; 1 the daemon cannot be reached, or the request is unknown or already resolved; 2 on bad flags.",
		Args:   true,
		Stdout: stdout, Stderr: stderr,
	}
	fs := p.FlagSet()
	addr := fs.String("addr", paths.Addr(), "mpm-wsd's address")
	dataDir := fs.String("data-dir", paths.DataDir(), "mpm-wsd's data directory, for the token")
	tok := fs.String("token", "", "access token (default: read from the data directory)")
	jsonOut := fs.Bool("json", false, "approvals: print the pending requests as the daemon serves them, one per line")
	on := fs.Bool("on", false, "approvals: switch answering from mpm on")
	off := fs.Bool("off", false, "approvals: switch answering from mpm off (waiting hooks return at once)")
	always := fs.Int("always", -1, "approve: also apply the request's permission suggestion number N (0 is the first), e.g. allow this command from now on")
	message := fs.String("message", "", "deny: what Claude is told")
	// The id may come before, between or after the flags.
	var pos []string
	rest := args
	for {
		if code, done := p.Parse(fs, rest); done {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	bad := p.Usage
	switch cmd {
	case "approvals":
		if len(pos) > 0 {
			return bad("unexpected argument %q", pos[0])
		}
		if *on && *off {
			return bad("--on and --off exclude each other")
		}
	case "approve", "deny":
		if len(pos) != 1 {
			return bad("give one request ID (mpm-monitor approvals lists them)")
		}
		if cmd == "approve" && *message != "" {
			return bad("--message goes with deny")
		}
		if cmd == "deny" && *always >= 0 {
			return bad("--always goes with approve")
		}
	default:
		return bad("unknown command")
	}
	c, err := client.New(client.Config{Addr: *addr, DataDir: *dataDir, Token: *tok})
	if err != nil {
		return bad("%v", err)
	}
	fail := func(err error) int { return p.Fail("%v", err) }
	switch cmd {
	case "approve", "deny":
		d := protocol.ApprovalDecision{Decision: protocol.ApprovalAllow}
		if cmd == "deny" {
			d = protocol.ApprovalDecision{Decision: protocol.ApprovalDeny, Message: *message}
		}
		if *always >= 0 {
			d.Suggestion = always
		}
		res, err := c.Decide(ctx, pos[0], d, "monitor")
		switch {
		case client.IsStatus(err, http.StatusConflict):
			return fail(fmt.Errorf("%s was not changed: it is %w", pos[0], err))
		case client.IsStatus(err, http.StatusNotFound):
			return fail(fmt.Errorf("no pending request %s: mpm-monitor approvals lists them", pos[0]))
		case err != nil:
			return fail(err)
		}
		verb := map[string]string{"allow": "allowed", "deny": "denied"}[res.Outcome]
		fmt.Fprintf(stdout, "%s %s.\n", pos[0], verb)
		if res.Error != "" {
			fmt.Fprintf(stderr, "%s: warning: %s\n", p.Name, res.Error)
		}
		return 0
	}
	if *on || *off {
		enabled, err := c.ApprovalMode(ctx, on)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "Answering from mpm is %s.\n", onOff(enabled))
		return 0
	}
	list, enabled, err := c.Approvals(ctx)
	if err != nil {
		return fail(err)
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		for _, a := range list {
			if err := enc.Encode(a); err != nil {
				return fail(err)
			}
		}
		return 0
	}
	io.WriteString(stdout, ApprovalsTable(list, enabled, time.Now()))
	return 0
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off (requests are shown, Claude Code asks in the terminal)"
}

// ApprovalsTable is what `mpm-monitor approvals` prints.
func ApprovalsTable(list []protocol.Approval, enabled bool, now time.Time) string {
	var b strings.Builder
	if !enabled {
		b.WriteString("Answering from mpm is off: `mpm-monitor approvals --on` turns it on.\n")
	}
	if len(list) == 0 {
		b.WriteString("No permission request waits for an answer.\n")
		return b.String()
	}
	fmt.Fprintf(&b, "%-12s %-9s %-12s %-10s %s\n", "ID", "SESSION", "PROJECT", "EXPIRES", "REQUEST")
	for _, a := range list {
		sess := a.SessionID
		if len(sess) > 8 {
			sess = sess[:8]
		}
		left := a.ExpiresAt.Sub(now).Round(time.Second)
		exp := "in " + left.String()
		if left <= 0 {
			exp = "now"
		}
		fmt.Fprintf(&b, "%-12s %-9s %-12s %-10s %s: %s\n", a.ID, sess, gist.Clean(gist.Project(a.Cwd), 12), exp,
			gist.Clean(a.ToolName, 40), gist.ToolInput(a.ToolName, json.RawMessage(a.ToolInput), 80))
		if a.ReadOnly { // another machine's, on a fleet hub
			fmt.Fprintf(&b, "%-12s read-only: from %s, answer it there\n", "", gist.Clean(a.Origin, 100))
			continue
		}
		if n := suggestionCount(a.PermissionSuggestions); n > 0 {
			fmt.Fprintf(&b, "%-12s %d permission suggestion(s): approve %s --always N (0..%d)\n", "", n, a.ID, n-1)
		}
	}
	return b.String()
}

func suggestionCount(raw protocol.RawJSON) int {
	var s []json.RawMessage
	if json.Unmarshal(raw, &s) != nil {
		return 0
	}
	return len(s)
}
