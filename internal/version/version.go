// Package version holds the build's version: set with
// -ldflags "-X github.com/mpm-dev/mpm/internal/version.Version=v1.2.3",
// else taken from the build info the go command stamps into the binary
// (the module version after `go install module@version`, the VCS revision
// after a build in a checkout).
package version

import "runtime/debug"

// Version is the version of every mpm binary in this build: what
// --version prints and what the daemon reports on /healthz.
var Version = "dev"

func init() {
	if Version == "dev" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			Version = fromBuildInfo(bi)
		}
	}
}

// fromBuildInfo is the module version when there is one, else
// "devel-<revision>" (with "-dirty" for uncommitted changes), else "dev".
func fromBuildInfo(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel-" + rev
}
