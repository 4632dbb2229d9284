package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"os"
	"strings"

	"github.com/mpm-dev/mpm/internal/cli"
	"github.com/mpm-dev/mpm/internal/client"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/protocol"
)

// historyCmd reports whether args start with one of the history
// subcommands (search, export), which historyMain runs.
func historyCmd(args []string) bool {
	return len(args) > 0 && (args[0] == "search" || args[0] == "export")
}

const searchNotes = `The query: words (all must match), "a phrase", prefix* (rout* finds
router, routes), OR between two terms, -word to exclude, and field:term for
one field (tool, event, prompt, command, path, input, output, message):
  mpm-monitor search 'tool:Edit path:orders.go'
  mpm-monitor search '"connection refused"' --since 7d
  mpm-monitor search 'command:"go test"' --session 4f1c --json
Needs an mpm-wsd with its journal (not --journal=false).

Exit status: 0 with hits, 1 with none or when the daemon cannot answer,
2 on bad flags or a bad query.`

const exportNotes = `SESSION is a session id, or a prefix of one that names a single session
(see mpm-monitor sessions). Markdown (the default) is for people: prompts,
tool calls with a summary and their timing, outputs folded, errors marked.
NDJSON is every stored event record, one per line.
  mpm-monitor export 4f1c > session.md
  mpm-monitor export 4f1c --format ndjson | jq .payload.tool_name`

// historyMain runs "mpm-monitor search" and "mpm-monitor export".
func historyMain(args []string, stdout, stderr io.Writer) int {
	sub := args[0]
	p := &cli.Program{Name: "mpm-monitor " + sub, Env: []string{paths.EnvAddr, paths.EnvDataDir, "NO_COLOR"},
		Stdout: stdout, Stderr: stderr, Args: true}
	fs := p.FlagSet()
	addr := fs.String("addr", paths.Addr(), "mpm-wsd's address")
	dataDir := fs.String("data-dir", paths.DataDir(), "mpm-wsd's data directory, for the token")
	tok := fs.String("token", "", "access token (default: read from the data directory)")
	var sp client.SearchParams
	jsonOut, format, colorMode := new(bool), new(string), new(string)
	if sub == "search" {
		p.Synopsis = []string{"mpm-monitor search QUERY [--session ID] [--origin O] [--since T] [--until T] [--limit N] [--json]"}
		p.About = "mpm-monitor search finds events in the daemon's whole stored history, newest first."
		p.Notes = searchNotes
		fs.StringVar(&sp.Session, "session", "", "only this session (a prefix of the id is enough)")
		fs.StringVar(&sp.Origin, "origin", "", "only events from this fleet origin")
		fs.StringVar(&sp.Since, "since", "", "only events received since: an RFC 3339 time or a duration back from now (90m, 24h, 7d)")
		fs.StringVar(&sp.Until, "until", "", "only events received until: as --since")
		fs.IntVar(&sp.Limit, "limit", 20, "the most hits to print (1 to 500)")
		jsonOut = fs.Bool("json", false, "write one JSON hit per line (seq, session_id, event, tool, received, snippet)")
		colorMode = fs.String("color", "auto", "highlight the matches: auto (a terminal without NO_COLOR), always, never")
	} else {
		p.Synopsis = []string{"mpm-monitor export SESSION [--format markdown|ndjson]"}
		p.About = "mpm-monitor export writes one session's stored history to stdout."
		p.Notes = exportNotes
		format = fs.String("format", "markdown", "markdown (to read and share) or ndjson (every event record)")
	}
	// Flags may come before or after the words: parse, take the words up
	// to the next flag, parse again.
	var words []string
	rest := args[1:]
	for {
		if code, done := p.Parse(fs, rest); done {
			return code
		}
		rest = fs.Args()
		for len(rest) > 0 && (!strings.HasPrefix(rest[0], "-") || rest[0] == "-") {
			words, rest = append(words, rest[0]), rest[1:]
		}
		if len(rest) == 0 {
			break
		}
	}
	c, err := client.New(client.Config{Addr: *addr, DataDir: *dataDir, Token: *tok})
	if err != nil {
		return p.Usage("%v", err)
	}
	ctx, stop := cli.Context()
	defer stop()
	if sub == "export" {
		if len(words) != 1 {
			return p.Usage("give one SESSION id (or a prefix of one)")
		}
		if *format != "markdown" && *format != "ndjson" {
			return p.Usage("--format %q: use markdown or ndjson", *format)
		}
		id, err := resolveSession(ctx, c, words[0])
		if err != nil {
			return p.Fail("%v", err)
		}
		if err := c.Export(ctx, id, *format, stdout); err != nil {
			return p.Fail("%v", err)
		}
		return cli.ExitOK
	}
	sp.Query = strings.Join(words, " ")
	if strings.TrimSpace(sp.Query) == "" {
		return p.Usage("give a QUERY, e.g. mpm-monitor search 'tool:Edit path:orders.go'")
	}
	if sp.Limit < 1 || sp.Limit > 500 {
		return p.Usage("--limit must be from 1 to 500")
	}
	out, _ := stdout.(*os.File)
	color := false
	switch *colorMode {
	case "auto":
		color = !*jsonOut && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb" && out != nil && IsTerminal(out) && EnableColor(out)
	case "always":
		color = !*jsonOut
	case "never":
	default:
		return p.Usage("--color %q: use auto, always or never", *colorMode)
	}
	if sp.Session != "" {
		if sp.Session, err = resolveSession(ctx, c, sp.Session); err != nil {
			return p.Fail("%v", err)
		}
	}
	res, err := c.Search(ctx, sp)
	if client.IsStatus(err, 400) {
		return p.Usage("%v", err)
	}
	if err != nil {
		return p.Fail("%v", err)
	}
	if err := printHits(stdout, res.Hits, *jsonOut, color); err != nil {
		return p.Fail("%v", err)
	}
	if len(res.Hits) == 0 {
		if !*jsonOut {
			fmt.Fprintln(stderr, "no events match")
		}
		return cli.ExitError
	}
	return cli.ExitOK
}

// printHits writes the hits, one JSON object per line or two human lines
// each: when, session, event and tool, seq; then the snippet.
func printHits(w io.Writer, hits []protocol.SearchHit, asJSON, color bool) error {
	for _, h := range hits {
		if asJSON {
			b, err := json.Marshal(h)
			if err != nil {
				return err
			}
			if _, err := w.Write(append(b, '\n')); err != nil {
				return err
			}
			continue
		}
		on, off := "", ""
		if color {
			on, off = bold+yellow, reset
		}
		snip := strings.NewReplacer("<mark>", on, "</mark>", off).Replace(h.Snippet)
		what := h.Event
		if h.Tool != "" {
			what += " " + h.Tool
		}
		if _, err := fmt.Fprintf(w, "%s  %s  %s  #%d\n    %s\n", h.Received.Local().Format("2006-01-02 15:04:05"), short(h.SessionID), what, h.Seq, html.UnescapeString(snip)); err != nil {
			return err
		}
	}
	return nil
}

// resolveSession returns the one session id that id is or starts.
func resolveSession(ctx context.Context, c *client.Client, id string) (string, error) {
	ss, err := c.Sessions(ctx)
	if err != nil {
		return "", err
	}
	var match []string
	for _, s := range ss {
		if s.SessionID == id {
			return id, nil
		}
		if strings.HasPrefix(s.SessionID, id) {
			match = append(match, s.SessionID)
		}
	}
	switch len(match) {
	case 0:
		return id, nil // not among the summaries: let the daemon say
	case 1:
		return match[0], nil
	default:
		return "", fmt.Errorf("%q starts %d sessions (%s, …): give more of the id", id, len(match), strings.Join(match[:2], ", "))
	}
}
