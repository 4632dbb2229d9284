package verify

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"

	"github.com/mpm-dev/mpm/internal/client"
	"github.com/mpm-dev/mpm/internal/hookcfg"
	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/token"
)

// checkToken is check 3: the token file exists, is readable and private,
// and the daemon accepts the token (GET /v1/sessions answers 200, not 401).
func checkToken(ctx context.Context, st *state) Result {
	res := Result{Name: "token"}
	path := paths.Token(st.cfg.DataDir)
	_, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) && st.health == nil && st.addrOK {
		// One cause, reported once: a daemon that never ran made no token.
		res.Status = Skip
		res.Detail = fmt.Sprintf("skipped: no token file at %s yet; mpm-wsd creates it at its first start (see daemon: %s)", path, st.daemonWhy)
		return res
	}
	if err != nil {
		res.Status = Fail
		if errors.Is(err, fs.ErrNotExist) {
			res.Detail = fmt.Sprintf("no token file at %s", path)
			if st.health != nil {
				res.Detail += ": the running daemon uses another data directory"
				res.Fix = fmt.Sprintf("run mpm-verify with the daemon's data directory (--data-dir DIR or %s=DIR; mpm-manager status shows it)", paths.EnvDataDir)
			} else {
				res.Fix = "mpm-wsd creates it at its first start: " + startFix(st.cfg.Addr) + fmt.Sprintf("; if it runs with another data directory, pass --data-dir DIR (or %s=DIR)", paths.EnvDataDir)
			}
		} else {
			res.Detail = fmt.Sprintf("cannot look at the token file %s: %v", path, err)
			res.Fix = "run mpm-verify as the user that runs mpm-wsd, or fix the permissions of " + st.cfg.DataDir
		}
		return res
	}
	tok, err := token.Read(path)
	if err != nil {
		res.Status = Fail
		res.Detail = fmt.Sprintf("cannot read the token file %s: %v", path, err)
		if errors.Is(err, fs.ErrPermission) {
			res.Fix = fmt.Sprintf("run mpm-verify as the user that runs mpm-wsd (the file belongs to it), or: chmod 600 %s and chown it to you", path)
		} else {
			res.Fix = fmt.Sprintf("delete %s and restart the daemon (mpm-manager restart) to create a new token; then reopen the dashboard with the new URL", path)
		}
		return res
	}
	st.token = tok
	var notes, fixes []string
	status := OK
	for _, p := range token.Problems(path) {
		status = Warn
		notes = append(notes, p.Text)
		fixes = append(fixes, p.Fix)
	}
	// http hooks send MPM_TOKEN from Claude Code's environment, which is
	// likely this one.
	if env := os.Getenv(hookcfg.TokenEnvVar); env != "" && env != tok {
		status = Warn
		notes = append(notes, fmt.Sprintf("%s in this environment differs from %s: http hooks of a Claude Code started from here send it and are refused (401), and their events are lost", hookcfg.TokenEnvVar, path))
		fixes = append(fixes, fmt.Sprintf(`export %s="$(cat '%s')" in your shell profile, then restart Claude Code`, hookcfg.TokenEnvVar, path))
	}
	res.Fix = strings.Join(fixes, "; ")
	found := fmt.Sprintf("token file %s is readable", path)
	if st.health == nil {
		res.Status = status
		res.Detail = sentences(append([]string{found}, append(notes, "not tried against the daemon: "+st.daemonWhy)...)...)
		return res
	}
	code, body, n, err := getSessions(ctx, st.cfg, tok)
	switch {
	case err != nil:
		res.Status = Fail
		res.Detail = sentences(found, fmt.Sprintf("GET /v1/sessions failed: %v", err))
		res.Fix = "the daemon stopped answering: run mpm-verify again; if it persists, mpm-manager restart"
	case code == http.StatusOK:
		res.Status = status
		res.Detail = sentences(append([]string{found, fmt.Sprintf("the daemon accepts it (%d sessions)", n)}, notes...)...)
		st.tokenAccepted = true
	case code == http.StatusUnauthorized:
		st.tokenRefused = true
		res.Status = Fail
		res.Detail = sentences(found, "the daemon refuses it (401): it runs with another token, i.e. another data directory or a token file replaced after it started",
			fmt.Sprintf("mpm-hook sends this token too, so the daemon refuses its events: they wait in %s (see spool)", paths.Spool(st.cfg.DataDir)), body)
		res.Fix = fmt.Sprintf("point mpm-verify at the daemon's data directory (--data-dir DIR or %s=DIR), or restart the daemon so that it reads %s: mpm-manager restart", paths.EnvDataDir, path)
	default:
		res.Status = Fail
		res.Detail = sentences(found, fmt.Sprintf("GET /v1/sessions answered HTTP %d", code), body)
		res.Fix = "see the message above; mpm-manager restart if the daemon misbehaves"
	}
	return res
}

// getSessions asks GET /v1/sessions with the token and returns the status,
// an error body's first line, and the number of sessions on success.
func getSessions(ctx context.Context, cfg Config, tok string) (code int, body string, n int, err error) {
	c, err := apiClient(cfg, tok)
	if err != nil {
		return 0, "", 0, err
	}
	list, err := c.Sessions(ctx)
	var se *client.StatusError
	switch {
	case errors.As(err, &se):
		if se.Message != "" {
			body = "the daemon says: " + se.Message
		}
		return se.Code, body, 0, nil
	case err != nil:
		return 0, "", 0, cause(err)
	}
	return http.StatusOK, "", len(list), nil
}
