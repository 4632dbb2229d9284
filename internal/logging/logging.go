// Package logging builds the one root hclog.Logger a binary uses; components
// take Named children of it ("hub", "ingest", "supervisor", ...).
package logging

import (
	"io"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// Logger names: the root logger of each binary, then the components'
// Named children. One name per component, so that a log line's prefix
// says where it comes from ("mpm-wsd.ingest: ...").
const (
	NameDaemon  = "mpm-wsd"
	NameManager = "mpm-manager"

	NameIngest     = "ingest"
	NameHub        = "hub"
	NameHTTP       = "http"
	NameSpool      = "spool"
	NameStore      = "store"
	NameFleet      = "fleet"
	NameSupervisor = "supervisor"
	// NameChild is the manager's logger for the daemon's own lines.
	NameChild = "wsd"
)

// Options configures the root logger.
type Options struct {
	// Name is the root logger's name, usually the binary ("mpm-wsd").
	Name string
	// Level is trace, debug, info, warn or error; empty means info.
	Level string
	// JSON writes one JSON object per line instead of human text.
	JSON bool
	// Output is where log lines go; nil means stderr.
	Output io.Writer
}

// New returns the root logger described by o.
func New(o Options) hclog.Logger {
	out := o.Output
	if out == nil {
		out = os.Stderr
	}
	lvl := hclog.LevelFromString(strings.TrimSpace(o.Level))
	if lvl == hclog.NoLevel {
		lvl = hclog.Info
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:            o.Name,
		Level:           lvl,
		JSONFormat:      o.JSON,
		Output:          out,
		IncludeLocation: false,
		TimeFormat:      "2006-01-02T15:04:05.000Z07:00",
	})
}

// ValidLevel reports whether s names an hclog level.
func ValidLevel(s string) bool {
	return hclog.LevelFromString(s) != hclog.NoLevel
}
