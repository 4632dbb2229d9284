package usage

import (
	"maps"
	"slices"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// recentKeys is how many message keys a tally remembers to count each
// message once: the lines of one message (one per content block while it
// streams) come together, so a window suffices and memory stays bounded.
const recentKeys = 256

// tally sums one transcript.
type tally struct {
	// recent holds the last recentKeys messages' tokens by key; ring their
	// order of arrival.
	recent map[string]recentMsg
	ring   []string
	next   int
	// models sums the tokens by model.
	models map[string]Tokens
	// cost is the latest cost-state record, nil: none yet.
	cost *CostState
	// ctx is the last assistant turn's context tokens, of ctxModel.
	ctx      int64
	ctxModel string
	// slots sums the tokens by quarter hour of use and model (series.go);
	// lastSlot is the latest record's quarter hour (valid when hasSlot),
	// costSlot the cost-state record's.
	slots    map[slotKey]Tokens
	lastSlot int64
	hasSlot  bool
	costSlot int64
	// owners, shared by the tallies of one session's files (nil: a lone
	// tally), says which file counted each message: a message Claude Code
	// wrote both in the session's transcript and in a subagent's is
	// counted once, in the file read first.
	owners map[string]*tally
}

type recentMsg struct {
	model string
	slot  int64
	tok   Tokens
}

func newTally() *tally {
	return &tally{recent: map[string]recentMsg{}, models: map[string]Tokens{}, slots: map[slotKey]Tokens{}}
}

// fresh returns an empty tally for the same file, read again from its
// start: it shares t's owners, and the messages t counted are no longer
// counted by anyone.
func (t *tally) fresh() *tally {
	n := newTally()
	if n.owners = t.owners; n.owners != nil {
		for k, o := range n.owners {
			if o == t {
				delete(n.owners, k)
			}
		}
	}
	return n
}

// add folds one record in. A message seen again (another line of it)
// replaces its earlier figures rather than adding to them.
func (t *tally) add(r Record) {
	switch r.Kind {
	case kindCostState:
		t.cost = r.Cost
		t.costSlot = t.slotOf(r.Time)
	case kindAssistant:
		if r.Key != "" && t.owners != nil {
			if o, ok := t.owners[r.Key]; ok && o != t {
				return // another of the session's files counted it
			}
			t.owners[r.Key] = t
		}
		t.ctx, t.ctxModel = r.Tokens.context(), r.Model
		slot := t.slotOf(r.Time)
		if r.Key != "" {
			if old, ok := t.recent[r.Key]; ok {
				t.models[old.model] = t.models[old.model].sub(old.tok)
				t.models[r.Model] = t.models[r.Model].add(r.Tokens)
				t.addSlot(old.slot, old.model, Tokens{}.sub(old.tok))
				t.addSlot(slot, r.Model, r.Tokens)
				t.recent[r.Key] = recentMsg{r.Model, slot, r.Tokens}
				return
			}
			if len(t.ring) < recentKeys {
				t.ring = append(t.ring, r.Key)
			} else {
				delete(t.recent, t.ring[t.next])
				t.ring[t.next] = r.Key
				t.next = (t.next + 1) % recentKeys
			}
			t.recent[r.Key] = recentMsg{r.Model, slot, r.Tokens}
		}
		t.models[r.Model] = t.models[r.Model].add(r.Tokens)
		t.addSlot(slot, r.Model, r.Tokens)
	}
}

// usage is the tally on the wire: the cost-state record's figures when
// there is one, else the summed tokens priced with prices.
func (t *tally) usage(prices *Prices) *protocol.Usage {
	return combine(t, nil, prices)
}

// combine is a session's usage: main's cost-state record when it has one
// (Claude Code's figure for the whole session), else main's and the
// subagents' tokens summed and priced; the context is main's.
func combine(main *tally, agents []*tally, prices *Prices) *protocol.Usage {
	empty := main.cost == nil && len(main.models) == 0
	for _, a := range agents {
		empty = empty && len(a.models) == 0
	}
	if empty {
		return nil
	}
	u := &protocol.Usage{Models: map[string]protocol.ModelUsage{}, ContextTokens: main.ctx,
		ContextWindow: prices.Window(main.ctxModel, main.ctx)}
	var sum Tokens
	if main.cost != nil {
		u.CostSource, u.CostUSD = protocol.CostClaude, main.cost.TotalUSD
		for name, m := range main.cost.Models {
			u.Models[name] = modelUsage(m.Tokens, m.USD)
			sum = sum.add(m.Tokens)
		}
	} else {
		u.CostSource = protocol.CostEstimate
		models := make(map[string]Tokens, len(main.models))
		for _, t := range append([]*tally{main}, agents...) {
			for name, tok := range t.models {
				models[name] = models[name].add(tok)
			}
		}
		// In name order, so that equal tallies give equal sums to the last
		// bit (a fleet edge compares its snapshots byte for byte).
		for _, name := range slices.Sorted(maps.Keys(models)) {
			tok := models[name]
			c := prices.Cost(name, tok)
			u.Models[name] = modelUsage(tok, c)
			u.CostUSD += c
			sum = sum.add(tok)
		}
	}
	u.InputTokens, u.OutputTokens = sum.Input, sum.Output
	u.CacheReadInputTokens, u.CacheCreationInputTokens = sum.CacheRead, sum.CacheCreation
	return u
}

func modelUsage(t Tokens, usd float64) protocol.ModelUsage {
	return protocol.ModelUsage{InputTokens: t.Input, OutputTokens: t.Output,
		CacheReadInputTokens: t.CacheRead, CacheCreationInputTokens: t.CacheCreation, CostUSD: usd}
}
