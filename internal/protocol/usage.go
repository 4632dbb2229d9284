package protocol

import "time"

// Buckets of GET /v1/usage (UsageReport.Bucket).
const (
	BucketHour = "hour"
	BucketDay  = "day"
)

// UsageReport is the answer of GET /v1/usage: what the sessions used
// between Since and Until, in total, per project (cwd), per model and per
// bucket of time (docs/protocol.md, "Usage over time").
type UsageReport struct {
	// Since is the start of the first bucket (the asked since rounded down
	// to its bucket); Until the asked end (default: now).
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Bucket is BucketHour or BucketDay; TZ the time zone whose hours and
	// days the buckets are.
	Bucket string `json:"bucket"`
	TZ     string `json:"tz"`
	// Total sums everything in the range.
	Total UsageTotal `json:"total"`
	// Projects are the totals per session cwd, the costliest first.
	Projects []ProjectUsage `json:"projects"`
	// Models are the totals per model, the costliest first.
	Models []ModelTotal `json:"models"`
	// Series has one entry per bucket, oldest first, empty ones included.
	Series []UsageBucket `json:"series"`
}

// UsageTotal is a sum over sessions: tokens and cost, how many sessions
// used any in the range, and where the cost comes from.
type UsageTotal struct {
	ModelUsage
	Sessions int `json:"sessions"`
	// CostSource is CostClaude when every session counted has Claude
	// Code's cost-state record, CostEstimate when none has, CostMixed
	// otherwise; "" with no session.
	CostSource string `json:"cost_source,omitempty"`
}

// CostMixed is UsageTotal.CostSource when some of its sessions' costs are
// Claude Code's and some estimated.
const CostMixed = "mixed"

// ProjectUsage is one project's (session cwd's) share of a UsageReport;
// Cwd is "" for sessions whose cwd no event said.
type ProjectUsage struct {
	Cwd string `json:"cwd"`
	UsageTotal
}

// ModelTotal is one model's share of a UsageReport.
type ModelTotal struct {
	Model string `json:"model"`
	ModelUsage
}

// UsageBucket is one bucket of a UsageReport's series, from Start to the
// next bucket's start.
type UsageBucket struct {
	Start time.Time `json:"start"`
	ModelUsage
}
