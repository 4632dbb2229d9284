package gist

import (
	"fmt"

	"github.com/mpm-dev/mpm/internal/protocol"
)

// Budget says which budget a session passed, for people: "over its session
// budget: $1.23 of $1.00", "over the day's budget: $20.50 of $20.00 on
// 2026-12-01" (the webhooks and mpm-monitor say it alike).
func Budget(ob *protocol.OverBudget) string {
	if ob.Budget == protocol.BudgetDay {
		w := fmt.Sprintf("over the day's budget: $%.2f of $%.2f", ob.SpentUSD, ob.LimitUSD)
		if ob.Day != "" {
			w += " on " + ob.Day
		}
		return w
	}
	return fmt.Sprintf("over its session budget: $%.2f of $%.2f", ob.SpentUSD, ob.LimitUSD)
}
