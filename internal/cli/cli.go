// Package cli is the one way every mpm binary reads its command line:
//
//   - each binary is `func main() { os.Exit(x.Main(os.Args[1:], os.Stdout, os.Stderr)) }`,
//     with Main(args []string, stdout, stderr io.Writer) int in internal/;
//   - `--help`, `-h` and `help` print the usage on stdout and exit 0;
//   - a usage mistake prints one line on stderr naming the flag as it was
//     typed, plus "see <bin> --help", and exits 2;
//   - `--version` and `version` print "<bin> <version>" on stdout, exit 0;
//   - defaults shown in the help come from the flag definitions;
//   - the environment variables a binary reads are listed in its help,
//     described once here (Env);
//   - long-running binaries stop on SIGINT and SIGTERM alike (Context).
//
// mpm-hook cannot link this package (its start-up time is the product);
// it hands help, version and its subcommands to mpm-hookctl, which does.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/version"
)

// Exit codes shared by every binary.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// Env describes every environment variable mpm reads, by name. A
// binary's help lists those of Program.Env with these words.
var Env = map[string]string{
	paths.EnvAddr:             "the daemon's address, when --addr is not given (default " + paths.DefaultAddr + ")",
	paths.EnvDataDir:          "the data directory (token, journal, spool, manager state), when --data-dir is not given",
	paths.EnvToken:            "the access token Claude Code's http hooks send (mpm-hook install --mode http says how to set it)",
	paths.EnvNATSPassword:     "fleet mode: the NATS password, when --nats-password and --nats-password-file are not given",
	paths.EnvNATSToken:        "fleet mode: the NATS token, when --nats-token and --nats-token-file are not given",
	paths.EnvHookTimeout:      "mpm-hook's wait for the daemon before it spools the event (default 300ms)",
	paths.EnvHookStdinTimeout: "mpm-hook's wait for the event's JSON on stdin (default 2s)",
	paths.EnvHookDebug:        "1: mpm-hook prints one line on stderr saying what it did (never set it in Claude Code's settings)",
	"MPM_HOOK_APPROVAL_WAIT":  "set by mpm-hook install --approvals in the PermissionRequest hook's command: how long mpm-hook waits for an answer from mpm (e.g. 120s)",
	"NO_COLOR":                "set (to anything): no colours",
	"CLAUDE_CONFIG_DIR":       "Claude Code's configuration directory, where the user settings.json is (default ~/.claude)",
}

// Program describes one binary (or one subcommand) for its help and its
// messages.
type Program struct {
	// Name is what the user typed: "mpm-wsd", or "mpm-manager install".
	Name string
	// Synopsis is the usage lines after "Usage:", each starting with the
	// binary's name.
	Synopsis []string
	// About says in a few lines what the program is for.
	About string
	// Env lists the environment variables it reads (names in Env).
	Env []string
	// Notes follow the flags and environment: examples, exit codes.
	Notes string
	// Args, when true, lets positional arguments through Parse (the
	// caller checks them); else one is a usage error.
	Args bool

	// Stdout and Stderr are where help and messages go.
	Stdout, Stderr io.Writer
}

// Bin is the binary's own name: Name without a subcommand.
func (p *Program) Bin() string {
	bin, _, _ := strings.Cut(p.Name, " ")
	return bin
}

// FlagSet returns an empty flag set for p. Parse reports its errors, so
// the flag package prints nothing itself.
func (p *Program) FlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet(p.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// Parse parses args into fs, first handling `help` and `version` as the
// first argument and adding --version to fs. done is true when the caller
// must return code: after help or version (0), or after a usage error it
// has reported (2).
func (p *Program) Parse(fs *flag.FlagSet, args []string) (code int, done bool) {
	if fs.Lookup("version") == nil {
		fs.Bool("version", false, "print the version and exit")
	}
	if len(args) > 0 {
		switch args[0] {
		case "help":
			p.PrintHelp(fs)
			return ExitOK, true
		case "version":
			p.PrintVersion()
			return ExitOK, true
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			p.PrintHelp(fs)
			return ExitOK, true
		}
		return p.Usage("%s", describe(err, args)), true
	}
	if v, ok := fs.Lookup("version").Value.(flag.Getter); ok && v.Get() == true {
		p.PrintVersion()
		return ExitOK, true
	}
	if !p.Args && fs.NArg() > 0 {
		return p.Usage("unexpected argument %q", fs.Arg(0)), true
	}
	return ExitOK, false
}

// Usage reports a usage mistake in one line on stderr, pointing at the
// help, and returns ExitUsage.
func (p *Program) Usage(format string, a ...any) int {
	fmt.Fprintf(p.Stderr, "%s: %s (see %s --help)\n", p.Name, fmt.Sprintf(format, a...), p.Bin())
	return ExitUsage
}

// Fail reports an error on stderr and returns ExitError.
func (p *Program) Fail(format string, a ...any) int {
	fmt.Fprintf(p.Stderr, "%s: %s\n", p.Name, fmt.Sprintf(format, a...))
	return ExitError
}

// PrintVersion prints "<bin> <version>" on stdout.
func (p *Program) PrintVersion() {
	fmt.Fprintln(p.Stdout, p.Bin(), version.Version)
}

// PrintHelp prints p's help on stdout: about, usage, the flags of fs
// (nil: none) with their defaults, the environment, the notes.
func (p *Program) PrintHelp(fs *flag.FlagSet) {
	w := p.Stdout
	if p.About != "" {
		fmt.Fprintln(w, strings.TrimRight(p.About, "\n"))
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "Usage:")
	for _, s := range p.Synopsis {
		fmt.Fprintln(w, "  "+s)
	}
	if fs != nil {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Flags:")
		WriteFlags(w, fs)
	}
	if len(p.Env) > 0 {
		fmt.Fprintln(w)
		p.PrintEnv()
	}
	if p.Notes != "" {
		fmt.Fprintln(w)
		fmt.Fprintln(w, strings.TrimRight(p.Notes, "\n"))
	}
}

// PrintEnv prints the "Environment:" section of p's help on stdout.
func (p *Program) PrintEnv() {
	fmt.Fprintln(p.Stdout, "Environment:")
	width := 0
	for _, e := range p.Env {
		width = max(width, len(e))
	}
	for _, e := range p.Env {
		writeItem(p.Stdout, e, width, Env[e])
	}
}

// nameWidth is the column the flags' descriptions start at (a longer flag
// puts its description on the next line).
const nameWidth = 26

// lineWidth is where descriptions wrap.
const lineWidth = 80

// WriteFlags writes fs's flags as `--name VALUE  usage (default D)`, in
// name order, wrapped at 80 columns. The default is the flag's own.
func WriteFlags(w io.Writer, fs *flag.FlagSet) {
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	sort.Slice(flags, func(i, j int) bool { return flags[i].Name < flags[j].Name })
	for _, f := range flags {
		arg, usage := flag.UnquoteUsage(f)
		name := "--" + f.Name
		if len(f.Name) == 1 {
			name = "-" + f.Name
		}
		switch arg {
		case "string":
			arg = "VALUE"
		case "int", "int64", "uint", "uint64":
			arg = "N"
		case "duration":
			arg = "DURATION"
		case "value":
			arg = "VALUE"
		}
		if isBool(f) {
			arg = ""
		}
		if arg != "" {
			name += " " + arg
		}
		if d := f.DefValue; !zeroDefault(f, d) {
			usage += " (default " + d + ")"
		}
		writeItem(w, name, nameWidth-2, usage)
	}
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// zeroDefault tells defaults not worth printing.
func zeroDefault(f *flag.Flag, d string) bool {
	switch d {
	case "", "false", "[]":
		return true
	case "0", "0s":
		return !isBool(f)
	}
	return false
}

// writeItem writes "  name  text", the text wrapped and indented to width.
func writeItem(w io.Writer, name string, width int, text string) {
	indent := strings.Repeat(" ", width+4)
	line := "  " + name
	if len(name) > width {
		fmt.Fprintln(w, line)
		line = indent
	} else {
		line += strings.Repeat(" ", width+2-len(name))
	}
	start := len(line)
	for _, word := range strings.Fields(text) {
		if len(line) > start && len(line)+1+len(word) > lineWidth {
			fmt.Fprintln(w, line)
			line, start = indent, len(indent)
		}
		if len(line) > start {
			line += " "
		}
		line += word
	}
	fmt.Fprintln(w, line)
}

// describe turns the flag package's error into one line that names the
// flag as the user typed it (--nope, not -nope).
func describe(err error, args []string) string {
	msg := err.Error()
	for _, prefix := range []string{"flag provided but not defined: ", "flag needs an argument: "} {
		if name, ok := strings.CutPrefix(msg, prefix); ok {
			typed := typedAs(strings.TrimLeft(name, "-"), args)
			if prefix == "flag provided but not defined: " {
				return "unknown flag " + typed
			}
			return typed + " needs a value"
		}
	}
	// invalid value "x" for flag -name: ...; invalid boolean value "x" for -name: ...
	if i := strings.Index(msg, " for flag -"); i >= 0 {
		return rename(msg, i+len(" for flag "), args)
	}
	if i := strings.Index(msg, " for -"); i >= 0 {
		return rename(msg, i+len(" for "), args)
	}
	return msg
}

// rename replaces the "-name" at msg[i:] by the flag as typed.
func rename(msg string, i int, args []string) string {
	rest := msg[i:]
	end := strings.IndexByte(rest, ':')
	if end < 0 {
		end = len(rest)
	}
	name := strings.TrimLeft(rest[:end], "-")
	return msg[:i] + typedAs(name, args) + rest[end:]
}

// typedAs finds how name was typed in args (-name, --name, --name=x), and
// falls back to --name.
func typedAs(name string, args []string) string {
	for _, a := range args {
		if a == "--" {
			break
		}
		flagPart, _, _ := strings.Cut(a, "=")
		if strings.HasPrefix(flagPart, "-") && strings.TrimLeft(flagPart, "-") == name {
			return flagPart
		}
	}
	return "--" + name
}

// Context returns a context cancelled by SIGINT or SIGTERM (on Windows:
// Ctrl-C and the service stop), the same in every long-running binary,
// and its stop function.
func Context() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// Multi is a repeatable string flag: each use adds one value.
type Multi []string

func (m *Multi) String() string     { return strings.Join(*m, " ") }
func (m *Multi) Set(s string) error { *m = append(*m, s); return nil }
func (m *Multi) Get() any           { return []string(*m) }
