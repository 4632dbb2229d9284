// Package version holds the build's version, set with
// -ldflags "-X github.com/mpm-dev/mpm/internal/version.Version=v1.2.3".
package version

// Version is the version of every mpm binary in this build.
var Version = "dev"
