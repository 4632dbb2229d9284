package verify

import (
	"context"
	"fmt"

	"github.com/mpm-dev/mpm/internal/paths"
	"github.com/mpm-dev/mpm/internal/spool"
)

// checkSpool is check 8: the hook spool (events mpm-hook kept while the
// daemon did not answer) is empty, or holds records waiting to be drained,
// and how many records were ever dropped because it was full.
func checkSpool(ctx context.Context, st *state) Result {
	res := Result{Name: "spool"}
	dir := paths.Spool(st.cfg.DataDir)
	records, size, dropped, err := spool.Stats(dir)
	if err != nil {
		res.Status = Warn
		res.Detail = fmt.Sprintf("cannot read the hook spool %s: %v", dir, err)
		res.Fix = "run mpm-verify as the user that runs Claude Code and mpm-wsd, or fix the permissions of " + dir
		return res
	}
	var lost string
	if dropped > 0 {
		lost = fmt.Sprintf("%d events were dropped earlier because the spool was full (the daemon was down for long)", dropped)
	}
	switch {
	case records == 0:
		res.Status = OK
		res.Detail = sentences(fmt.Sprintf("the hook spool %s is empty", dir), lost)
	case st.health != nil:
		res.Status = Warn
		res.Detail = sentences(fmt.Sprintf("draining: %d events (%d bytes) wait in %s; the daemon delivers them shortly", records, size, dir), lost)
		res.Fix = "nothing to do if the count falls on the next run; if it does not, restart the daemon: mpm-manager restart"
	default:
		res.Status = Warn
		res.Detail = sentences(fmt.Sprintf("%d events (%d bytes) wait in %s; the daemon delivers them when it runs again (see daemon)", records, size, dir), lost)
	}
	if dropped > 0 && res.Status == OK {
		res.Status = Warn
	}
	return res
}
