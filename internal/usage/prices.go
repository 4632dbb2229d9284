package usage

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// DefaultContextWindow is a model's context window when the price table
// does not say (tokens).
const DefaultContextWindow = 200_000

// LongContextWindow is the window of a model named with the "[1m]" suffix,
// and of any model whose last turn was larger than its table's window.
const LongContextWindow = 1_000_000

// Price is one model's list price in USD per million tokens, and its
// context window.
type Price struct {
	Input      float64 `json:"input"`
	Output     float64 `json:"output"`
	CacheRead  float64 `json:"cache_read"`
	CacheWrite float64 `json:"cache_write"`
	// ContextWindow in tokens; 0: DefaultContextWindow.
	ContextWindow int64 `json:"context_window,omitempty"`
}

// Prices maps model name prefixes to prices; the longest matching prefix
// wins. Read-only once built.
type Prices struct {
	byPrefix map[string]Price
}

// builtin are Anthropic's list prices (USD per million tokens; cache
// writes at the 5-minute rate). A model the table does not know is priced
// by its family (opus, sonnet, haiku); --prices FILE overrides entries.
var builtin = map[string]Price{
	"claude-opus-4":      {Input: 5, Output: 25, CacheRead: 0.50, CacheWrite: 6.25},
	"claude-opus-4-0":    {Input: 15, Output: 75, CacheRead: 1.50, CacheWrite: 18.75},
	"claude-opus-4-1":    {Input: 15, Output: 75, CacheRead: 1.50, CacheWrite: 18.75},
	"claude-opus-4-2025": {Input: 15, Output: 75, CacheRead: 1.50, CacheWrite: 18.75},
	"claude-3-opus":      {Input: 15, Output: 75, CacheRead: 1.50, CacheWrite: 18.75},
	"claude-sonnet-4":    {Input: 3, Output: 15, CacheRead: 0.30, CacheWrite: 3.75},
	"claude-3-7-sonnet":  {Input: 3, Output: 15, CacheRead: 0.30, CacheWrite: 3.75},
	"claude-3-5-sonnet":  {Input: 3, Output: 15, CacheRead: 0.30, CacheWrite: 3.75},
	"claude-haiku-4":     {Input: 1, Output: 5, CacheRead: 0.10, CacheWrite: 1.25},
	"claude-3-5-haiku":   {Input: 0.80, Output: 4, CacheRead: 0.08, CacheWrite: 1},
	"claude-3-haiku":     {Input: 0.25, Output: 1.25, CacheRead: 0.03, CacheWrite: 0.30},
}

// families price a model no prefix matches, by the family in its name.
var families = []struct{ word, prefix string }{
	{"opus", "claude-opus-4"}, {"sonnet", "claude-sonnet-4"}, {"haiku", "claude-haiku-4"},
}

// DefaultPrices returns the built-in table.
func DefaultPrices() *Prices {
	p := &Prices{byPrefix: make(map[string]Price, len(builtin))}
	for k, v := range builtin {
		p.byPrefix[k] = v
	}
	return p
}

// LoadPrices returns the built-in table with the entries of the JSON file
// at path added or replaced: {"<model prefix>": {"input": USD per MTok,
// "output": …, "cache_read": …, "cache_write": …, "context_window": tokens}}.
// An empty path gives the built-in table.
func LoadPrices(path string) (*Prices, error) {
	p := DefaultPrices()
	if path == "" {
		return p, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--prices: %w (give a readable JSON file, or leave --prices out for the built-in table)", err)
	}
	var m map[string]Price
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("--prices %s: not a JSON object of model → {\"input\",\"output\",\"cache_read\",\"cache_write\",\"context_window\"}: %v", path, err)
	}
	for k, v := range m {
		if k == "" || v.Input < 0 || v.Output < 0 || v.CacheRead < 0 || v.CacheWrite < 0 || v.ContextWindow < 0 {
			return nil, fmt.Errorf("--prices %s: entry %q: the model name must not be empty and no figure may be negative", path, k)
		}
		p.byPrefix[k] = v
	}
	return p, nil
}

// baseModel strips a "[…]" suffix such as "[1m]" from a model name.
func baseModel(model string) string {
	if i := strings.IndexByte(model, '['); i > 0 {
		return model[:i]
	}
	return model
}

// Lookup returns model's price: the longest prefix in the table, else its
// family's; ok is false when neither matches (cost 0).
func (p *Prices) Lookup(model string) (Price, bool) {
	m := baseModel(model)
	best, found := "", false
	for k := range p.byPrefix {
		if strings.HasPrefix(m, k) && len(k) >= len(best) {
			best, found = k, true
		}
	}
	if found {
		return p.byPrefix[best], true
	}
	for _, f := range families {
		if strings.Contains(m, f.word) {
			if pr, ok := p.byPrefix[f.prefix]; ok {
				return pr, true
			}
		}
	}
	return Price{}, false
}

// Window returns model's context window for a turn of ctx tokens.
func (p *Prices) Window(model string, ctx int64) int64 {
	w := int64(DefaultContextWindow)
	if pr, ok := p.Lookup(model); ok && pr.ContextWindow > 0 {
		w = pr.ContextWindow
	}
	if strings.Contains(model, "[1m]") || ctx > w {
		w = max(w, LongContextWindow)
	}
	return w
}

// Cost prices t for model in USD.
func (p *Prices) Cost(model string, t Tokens) float64 {
	pr, ok := p.Lookup(model)
	if !ok {
		return 0
	}
	return pr.cost(t)
}

// cost prices t in USD (a Price of zero for a model the table does not know).
func (pr Price) cost(t Tokens) float64 {
	return (float64(t.Input)*pr.Input + float64(t.Output)*pr.Output +
		float64(t.CacheRead)*pr.CacheRead + float64(t.CacheCreation)*pr.CacheWrite) / 1e6
}

// memo is Prices with each model's Lookup done once (Lookup walks the
// table): for pricing many cells of few models.
type memo struct {
	p  *Prices
	by map[string]Price
}

func (m *memo) cost(model string, t Tokens) float64 {
	pr, ok := m.by[model]
	if !ok {
		pr, _ = m.p.Lookup(model)
		if m.by == nil {
			m.by = map[string]Price{}
		}
		m.by[model] = pr
	}
	return pr.cost(t)
}
