package manager

import (
	"strings"
	"testing"
)

// TestCheckSecretArgs: install refuses a NATS password or token among the
// daemon's flags (it would sit in the unit file) and names the file flag;
// the file flags pass.
func TestCheckSecretArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		bad  string
	}{
		{[]string{"--nats=nats://h:4222", "--nats-password-file=/home/me/pw"}, ""},
		{[]string{"--nats-token-file", "/home/me/tok"}, ""},
		{[]string{"--nats-password=hunter2"}, "--nats-password-file"},
		{[]string{"-nats-token", "abc"}, "--nats-token-file"},
	} {
		err := checkSecretArgs(tc.args)
		if (tc.bad == "") != (err == nil) || (err != nil && (!strings.Contains(err.Error(), tc.bad) || strings.Contains(err.Error(), "hunter2"))) {
			t.Errorf("%q: %v", tc.args, err)
		}
	}
}
