package verify

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/spool"
)

// strandedAfter is how old the oldest spooled event may be, while the
// daemon answers, before the spool counts as stranded: the daemon drains
// every 2 s.
const strandedAfter = 30 * time.Second

// checkSpool is check 8: the hook spool (events mpm-hook kept while the
// daemon did not answer or refused its token) is empty, or holds records
// being drained, and how many records were ever dropped because it was
// full. It fails when the spool is stranded (the daemon answers but does
// not drain it: it uses another data directory) or cannot be written (a
// spool made by mpm-hook run as root): both lose events silently.
func checkSpool(ctx context.Context, st *state) Result {
	res := Result{Name: "spool"}
	dir := paths.Spool(st.cfg.DataDir)
	var nw *spool.NotWritableError
	if err := spool.Writable(dir); errors.As(err, &nw) {
		res.Status = Fail
		res.Detail = fmt.Sprintf("the hook spool %s cannot be used: %v; mpm-hook cannot keep events there when the daemon does not take them (they are lost), and the daemon cannot drain what is in it", dir, err)
		res.Fix = fmt.Sprintf(`give it back to your user: sudo chown -R "$(id -un)" '%s' (and never run mpm-hook as root with your data directory)`, dir)
		return res
	}
	info, err := spool.Inspect(dir)
	if err != nil {
		res.Status = Warn
		res.Detail = fmt.Sprintf("cannot read the hook spool %s: %v", dir, err)
		res.Fix = "run mpm-verify as the user that runs Claude Code and mpm-wsd, or fix the permissions of " + dir
		return res
	}
	var lost, strangers string
	if info.Dropped > 0 {
		lost = fmt.Sprintf("%d events were dropped earlier because the spool was full (the daemon was down for long)", info.Dropped)
	}
	if len(info.Foreign) > 0 {
		strangers = fmt.Sprintf("%s in it are not spool files (directories, FIFOs...) and are skipped", strings.Join(info.Foreign, ", "))
	}
	age := time.Since(info.Oldest).Round(time.Second)
	waiting := fmt.Sprintf("%d events (%d bytes, the oldest from %s ago) wait in %s", info.Records, info.Bytes, age, dir)
	switch {
	case info.Records == 0:
		res.Status = OK
		res.Detail = sentences(fmt.Sprintf("the hook spool %s is empty", dir), lost, strangers)
	case st.health != nil && age > strandedAfter:
		res.Status = Fail
		why := "though the daemon answers, it does not drain them (its log says why: look for spool warnings)"
		res.Fix = "restart the daemon: mpm-manager restart; if they stay, see its log"
		if st.tokenRefused || (!st.tokenAccepted && st.token == "") {
			why = fmt.Sprintf("the daemon on %s uses another data directory than %s, so nothing drains them", st.cfg.Addr, st.cfg.DataDir)
			res.Fix = fmt.Sprintf("give Claude Code and the daemon the same data directory: set %s=DIR in Claude Code's environment to the daemon's (mpm-manager status shows it), or run the daemon with --data-dir %s; events spooled meanwhile are delivered when a daemon with that data directory runs", paths.EnvDataDir, st.cfg.DataDir)
		}
		res.Detail = sentences("stranded: "+waiting, why, lost, strangers)
	case st.health != nil:
		res.Status = Warn
		res.Detail = sentences("draining: "+waiting+"; the daemon delivers them shortly", lost, strangers)
		res.Fix = "nothing to do if the count falls on the next run; if it does not, restart the daemon: mpm-manager restart"
	default:
		res.Status = Warn
		res.Detail = sentences(waiting+"; the daemon delivers them when it runs again (see daemon)", lost, strangers)
	}
	if (info.Dropped > 0 || len(info.Foreign) > 0) && res.Status == OK {
		res.Status = Warn
	}
	if len(info.Foreign) > 0 && res.Fix == "" {
		var rm []string
		for _, f := range info.Foreign {
			rm = append(rm, "'"+filepath.Join(dir, f)+"'")
		}
		res.Fix = "remove them: rm -r " + strings.Join(rm, " ")
	}
	return res
}
