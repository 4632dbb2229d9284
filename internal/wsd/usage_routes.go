package wsd

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/mpm-dev/mpm/internal/protocol"
	"github.com/mpm-dev/mpm/internal/usage"
)

// handleUsage is GET /v1/usage?since=&until=&bucket=hour|day&tz= (docs/protocol.md,
// "Usage over time"): the local sessions' tokens and cost in the range, per
// project (cwd), per model and per bucket.
func (s *Server) handleUsage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	loc := time.Local
	if tz := q.Get("tz"); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			httpError(w, http.StatusBadRequest, "tz: unknown time zone "+tz+": give an IANA name such as Europe/Paris, or UTC, or leave it out for the daemon's own")
			return
		}
		loc = l
	}
	now := time.Now()
	since, err := usageWhen(q.Get("since"), now, loc)
	if err != nil {
		httpError(w, http.StatusBadRequest, "since: "+err.Error())
		return
	}
	if since.IsZero() {
		since, _ = usageWhen("today", now, loc)
	}
	until, err := usageWhen(q.Get("until"), now, loc)
	if err != nil {
		httpError(w, http.StatusBadRequest, "until: "+err.Error())
		return
	}
	if until.IsZero() {
		until = now
	}
	bucket := q.Get("bucket")
	if bucket == "" {
		bucket = protocol.BucketHour
		if until.Sub(since) > 48*time.Hour {
			bucket = protocol.BucketDay
		}
	}
	rep, err := s.usage.Report(usage.Query{Since: since, Until: until, Bucket: bucket, Loc: loc, Project: func(id string) string {
		in, _ := s.tracker.Get(id)
		return in.Cwd
	}})
	if errors.Is(err, usage.ErrQuery) {
		httpError(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), usage.ErrQuery.Error()+": "))
		return
	}
	if err != nil {
		httpError(w, http.StatusInternalServerError, "usage report failed: "+err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, rep)
}

// usageWhen reads since/until of GET /v1/usage: "today" (midnight in loc),
// "week" (Monday's midnight), or what parseWhen takes.
func usageWhen(v string, now time.Time, loc *time.Location) (time.Time, error) {
	l := now.In(loc)
	switch v {
	case "today":
		return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc), nil
	case "week":
		back := (int(l.Weekday()) + 6) % 7 // days since Monday
		return time.Date(l.Year(), l.Month(), l.Day()-back, 0, 0, 0, 0, loc), nil
	}
	t, err := parseWhen(v, now)
	if err != nil {
		return t, errors.New(strings.Replace(err.Error(), "want an RFC 3339", `want "today", "week", an RFC 3339`, 1))
	}
	return t, nil
}
