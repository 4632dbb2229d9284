package monitor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mpm-dev/mpm/internal/cli"
	"github.com/mpm-dev/mpm/internal/client"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/protocol"
)

const usageNotes = `The figures are GET /v1/usage's (docs/protocol.md, "Usage over time"):
this daemon's sessions' tokens and cost in the period, per project (cwd),
per model, and per hour or day; each message counts when it was used, a
subagent's inside its session. "~" marks a cost estimated from token counts
and a price table (Claude Code's own figure when its transcript has one).
  mpm-monitor usage                    today, by the hour
  mpm-monitor usage --since week       this week (from Monday), by the day
  mpm-monitor usage --since 30d --json | jq .total.cost_usd

Exit status: 0; 1 when the daemon cannot answer; 2 on bad flags.`

// usageMain runs "mpm-monitor usage".
func usageMain(args []string, stdout, stderr io.Writer) int {
	p := &cli.Program{Name: "mpm-monitor usage", Env: []string{paths.EnvAddr, paths.EnvDataDir},
		Synopsis: []string{"mpm-monitor usage [--since today|week|T] [--until T] [--bucket hour|day] [--tz ZONE] [--json]"},
		About:    "mpm-monitor usage prints what the sessions cost: in all, per project, per model and over time.",
		Notes:    usageNotes, Stdout: stdout, Stderr: stderr}
	fs := p.FlagSet()
	addr := fs.String("addr", paths.Addr(), "mpm-wsd's address")
	dataDir := fs.String("data-dir", paths.DataDir(), "mpm-wsd's data directory, for the token")
	tok := fs.String("token", "", "access token (default: read from the data directory)")
	var up client.UsageParams
	fs.StringVar(&up.Since, "since", "today", "from: today, week (Monday), an RFC 3339 time or a duration back from now (90m, 24h, 7d)")
	fs.StringVar(&up.Until, "until", "", "until: as --since (default now)")
	fs.StringVar(&up.Bucket, "bucket", "", "hour or day (default: hour for up to 48 h, else day)")
	fs.StringVar(&up.TZ, "tz", "", "the time zone of the hours and days, e.g. Europe/Paris (default: the daemon's)")
	jsonOut := fs.Bool("json", false, "write the daemon's answer as JSON")
	if code, done := p.Parse(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		return p.Usage("unexpected argument %q", fs.Arg(0))
	}
	c, err := client.New(client.Config{Addr: *addr, DataDir: *dataDir, Token: *tok})
	if err != nil {
		return p.Usage("%v", err)
	}
	ctx, stop := cli.Context()
	defer stop()
	rep, err := c.Usage(ctx, up)
	if client.IsStatus(err, 400) {
		return p.Usage("%v", err)
	}
	if err != nil {
		return p.Fail("%v", err)
	}
	if *jsonOut {
		err = json.NewEncoder(stdout).Encode(rep)
	} else {
		_, err = stdout.Write(UsageReport(rep))
	}
	if err != nil {
		return p.Fail("%v", err)
	}
	return cli.ExitOK
}

// UsageCost is a cost as mpm-monitor prints it: "$1.23", "$0.0042" below a
// cent, "~" before what is (partly) estimated.
func UsageCost(usd float64, source string) string {
	s := fmt.Sprintf("$%.2f", usd)
	if usd > 0 && usd < 0.01 {
		s = fmt.Sprintf("$%.4f", usd)
	}
	if source != "" && source != protocol.CostClaude {
		s = "~" + s
	}
	return s
}

func tokensOf(m protocol.ModelUsage) int64 {
	return m.InputTokens + m.OutputTokens + m.CacheReadInputTokens + m.CacheCreationInputTokens
}

// thousands writes n with commas: 1,234,567.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// UsageReport renders a report for people: the total, a table per project
// and per model, and the buckets that used anything, with a bar for their
// cost.
func UsageReport(rep protocol.UsageReport) []byte {
	var b strings.Builder
	layout := "Mon 2 Jan 15:04"
	fmt.Fprintf(&b, "%s → %s (%s): %s · %s tokens · %d session%s\n",
		rep.Since.Format(layout), rep.Until.In(rep.Since.Location()).Format(layout), rep.TZ,
		UsageCost(rep.Total.CostUSD, rep.Total.CostSource), thousands(tokensOf(rep.Total.ModelUsage)),
		rep.Total.Sessions, map[bool]string{true: "", false: "s"}[rep.Total.Sessions == 1])
	if rep.Total.Sessions == 0 {
		return []byte(b.String())
	}
	fmt.Fprintf(&b, "\n%s %10s %13s %9s\n", pad("PROJECT", 38), "COST", "TOKENS", "SESSIONS")
	for _, p := range rep.Projects {
		name := p.Cwd
		if name == "" {
			name = "(no cwd)"
		}
		fmt.Fprintf(&b, "%s %10s %13s %9d\n", pad(fitWidth(name, 38), 38), UsageCost(p.CostUSD, p.CostSource), thousands(tokensOf(p.ModelUsage)), p.Sessions)
	}
	fmt.Fprintf(&b, "\n%s %10s %13s\n", pad("MODEL", 38), "COST", "TOKENS")
	for _, m := range rep.Models {
		fmt.Fprintf(&b, "%s %10s %13s\n", pad(fitWidth(m.Model, 38), 38), UsageCost(m.CostUSD, rep.Total.CostSource), thousands(tokensOf(m.ModelUsage)))
	}
	var top float64
	for _, s := range rep.Series {
		top = max(top, s.CostUSD)
	}
	head := "HOUR"
	format := "Mon 2 Jan 15:04"
	if rep.Bucket == protocol.BucketDay {
		head, format = "DAY", "Mon 2 Jan"
	}
	fmt.Fprintf(&b, "\n%s %11s %13s\n", pad(head, 16), "COST", "TOKENS")
	for _, s := range rep.Series {
		if s.CostUSD == 0 && tokensOf(s.ModelUsage) == 0 {
			continue
		}
		bar := ""
		if top > 0 {
			bar = " " + strings.Repeat("█", max(1, int(s.CostUSD/top*20+0.5)))
		}
		fmt.Fprintf(&b, "%s %11s %13s%s\n", pad(s.Start.Format(format), 16), UsageCost(s.CostUSD, rep.Total.CostSource), thousands(tokensOf(s.ModelUsage)), bar)
	}
	return []byte(b.String())
}
