package usage

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/mpm-dev/mpm/internal/gist"
)

// maxTokens bounds one figure read from a line (a transcript is untrusted
// input: no overflow, no negative counts).
const maxTokens = 1 << 40

// Tokens are token counts by kind.
type Tokens struct {
	Input, Output, CacheRead, CacheCreation int64
}

func (t Tokens) add(o Tokens) Tokens {
	return Tokens{t.Input + o.Input, t.Output + o.Output, t.CacheRead + o.CacheRead, t.CacheCreation + o.CacheCreation}
}

func (t Tokens) sub(o Tokens) Tokens {
	return Tokens{t.Input - o.Input, t.Output - o.Output, t.CacheRead - o.CacheRead, t.CacheCreation - o.CacheCreation}
}

// context is the turn's size: what the model read.
func (t Tokens) context() int64 { return t.Input + t.CacheRead + t.CacheCreation }

// Record kinds.
const (
	kindNone = iota
	// kindAssistant: an assistant message line with message.usage.
	kindAssistant
	// kindCostState: Claude Code's cost-state record.
	kindCostState
)

// Record is what one transcript line says about usage.
type Record struct {
	Kind int
	// Key identifies the message (message.id + requestId); empty: none.
	Key   string
	Model string
	Tokens
	// Time is the line's timestamp (zero: none, or not RFC 3339).
	Time time.Time
	// Cost is a cost-state record's content.
	Cost *CostState
}

// CostState is Claude Code's cost-state record: authoritative totals.
type CostState struct {
	TotalUSD float64
	Models   map[string]ModelCost
}

// ModelCost is one model's entry of a cost-state record.
type ModelCost struct {
	Tokens
	USD float64
}

var (
	markUsage     = []byte(`"usage"`)
	markCostState = []byte(`"cost-state"`)
)

// ParseLine reads one transcript line. Lines that say nothing about usage
// (most of a transcript: prompts, tool results, attachments) are passed
// over with a byte search; only the few members needed are decoded, so a
// line carrying a large tool input costs a scan, not a decode.
func ParseLine(line []byte) (Record, bool) {
	isUsage := bytes.Contains(line, markUsage)
	if !isUsage && !bytes.Contains(line, markCostState) {
		return Record{}, false
	}
	f := gist.Fields(line, "type", "message", "requestId", "totalCostUSD", "modelUsage", "timestamp")
	var typ string
	if json.Unmarshal(f["type"], &typ) != nil {
		return Record{}, false
	}
	switch typ {
	case "assistant":
		if !isUsage {
			return Record{}, false
		}
		m := gist.Fields(f["message"], "id", "model", "usage")
		var u struct {
			Input         int64 `json:"input_tokens"`
			Output        int64 `json:"output_tokens"`
			CacheRead     int64 `json:"cache_read_input_tokens"`
			CacheCreation int64 `json:"cache_creation_input_tokens"`
		}
		if len(m["usage"]) == 0 || json.Unmarshal(m["usage"], &u) != nil {
			return Record{}, false
		}
		var id, req, model string
		_ = json.Unmarshal(m["id"], &id) // another type: no key
		_ = json.Unmarshal(f["requestId"], &req)
		_ = json.Unmarshal(m["model"], &model)
		if model == "" || model == "<synthetic>" {
			// Claude Code's own messages (errors, interruptions): no API call.
			return Record{}, false
		}
		r := Record{Kind: kindAssistant, Model: model,
			Tokens: Tokens{clamp(u.Input), clamp(u.Output), clamp(u.CacheRead), clamp(u.CacheCreation)}}
		if id != "" {
			r.Key = id + "\x00" + req
		}
		r.Time = timestamp(f["timestamp"])
		return r, true
	case "cost-state":
		var total float64
		if json.Unmarshal(f["totalCostUSD"], &total) != nil {
			return Record{}, false
		}
		var mu map[string]struct {
			Input         int64   `json:"inputTokens"`
			Output        int64   `json:"outputTokens"`
			CacheRead     int64   `json:"cacheReadInputTokens"`
			CacheCreation int64   `json:"cacheCreationInputTokens"`
			USD           float64 `json:"costUSD"`
		}
		if len(f["modelUsage"]) > 0 && json.Unmarshal(f["modelUsage"], &mu) != nil {
			return Record{}, false
		}
		cs := &CostState{TotalUSD: clampUSD(total), Models: make(map[string]ModelCost, len(mu))}
		for name, v := range mu {
			cs.Models[name] = ModelCost{
				Tokens: Tokens{clamp(v.Input), clamp(v.Output), clamp(v.CacheRead), clamp(v.CacheCreation)},
				USD:    clampUSD(v.USD),
			}
		}
		return Record{Kind: kindCostState, Cost: cs, Time: timestamp(f["timestamp"])}, true
	}
	return Record{}, false
}

func clamp(n int64) int64 { return min(max(n, 0), maxTokens) }

func clampUSD(f float64) float64 {
	if !(f >= 0) { // NaN too
		return 0
	}
	return min(f, 1e12)
}

// timestamp reads a line's "timestamp" (RFC 3339, as Claude Code writes
// it); zero when absent or unreadable.
func timestamp(raw []byte) time.Time {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
