//go:build !unix

package web_test

import (
	"testing"

	"github.com/mpm-dev/mpm/internal/testutil"
)

// freeze is unix-only (SIGSTOP); elsewhere the hung-daemon check is skipped.
func freeze(t *testing.T, d *testutil.Daemon) bool { return false }

func thaw(t *testing.T, d *testutil.Daemon) {}
