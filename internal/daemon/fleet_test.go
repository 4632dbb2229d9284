package daemon

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mpm-dev/mpm/internal/fleet"
	"github.com/mpm-dev/mpm/internal/paths"
)

// TestReadSecrets: the NATS password and token come from their flag, else
// their 0600 file, else the environment (only for the kind of credentials
// given), so a service's arguments need carry no secret.
func TestReadSecrets(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("from-file\n"), 0o600)
	open := filepath.Join(dir, "open")
	os.WriteFile(open, []byte("x\n"), 0o644)
	os.Chmod(open, 0o644)
	t.Setenv(paths.EnvNATSPassword, "from-env-pw")
	t.Setenv(paths.EnvNATSToken, "from-env-tok")
	for _, tc := range []struct {
		name            string
		in              fleet.Config
		wantPw, wantTok string
		errHas          string
		skipOnWindows   bool
	}{
		{name: "flag", in: fleet.Config{User: "u", Password: "p"}, wantPw: "p"},
		{name: "file", in: fleet.Config{User: "u", PasswordFile: pw}, wantPw: "from-file"},
		{name: "env password", in: fleet.Config{User: "u"}, wantPw: "from-env-pw"},
		{name: "env token", in: fleet.Config{}, wantTok: "from-env-tok"},
		{name: "token file", in: fleet.Config{TokenFile: pw}, wantTok: "from-file"},
		{name: "creds: no env", in: fleet.Config{Creds: "x"}},
		{name: "both", in: fleet.Config{User: "u", Password: "p", PasswordFile: pw}, errHas: "not both"},
		{name: "open file", in: fleet.Config{User: "u", PasswordFile: open}, errHas: "chmod 600", skipOnWindows: true},
	} {
		if tc.skipOnWindows && runtime.GOOS == "windows" {
			continue
		}
		fc := tc.in
		err := readSecrets(&fc)
		if tc.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.errHas)
			}
			continue
		}
		if err != nil || fc.Password != tc.wantPw || fc.Token != tc.wantTok {
			t.Errorf("%s: password %q token %q err %v, want %q %q", tc.name, fc.Password, fc.Token, err, tc.wantPw, tc.wantTok)
		}
	}
}
