package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// nameWidth pads check names in the human output.
const nameWidth = 11

// WriteText prints r for people: one line per check with its mark, what it
// found, and the fix under it; then a summary and the dashboard URLs.
func WriteText(w io.Writer, r Report) {
	fmt.Fprintf(w, "mpm-verify %s: daemon address %s, data directory %s\n\n", r.Version, r.Addr, r.DataDir)
	indent := strings.Repeat(" ", 2+nameWidth+1)
	for _, c := range r.Checks {
		fmt.Fprintf(w, "%s %-*s %s\n", c.Status.Symbol(), nameWidth, c.Name, wrapDetail(c.Detail, indent))
		if c.Fix != "" && c.Status != OK && c.Status != Skip {
			fmt.Fprintf(w, "%sfix: %s\n", indent, c.Fix)
		}
	}
	fmt.Fprintln(w)
	fails, warns, skips := r.Count(Fail), r.Count(Warn), r.Count(Skip)
	switch {
	case fails == 0 && warns == 0:
		fmt.Fprintln(w, "All checks passed.")
	case fails == 0:
		fmt.Fprintf(w, "No failures, %d %s.\n", warns, plural(warns, "warning", "warnings"))
	default:
		fmt.Fprintf(w, "%d failed, %d %s, %d skipped: fix the first ✗ and run mpm-verify again.\n", fails, warns, plural(warns, "warning", "warnings"), skips)
	}
	if r.DashboardURL != "" {
		fmt.Fprintf(w, "Dashboard: %s\n", r.DashboardURL)
	}
	if r.SessionURL != "" {
		fmt.Fprintf(w, "Session:   %s\n", r.SessionURL)
	}
}

// WriteJSON prints r as one indented JSON object.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// wrapDetail puts each "; "-separated part of a long detail on its own
// line, indented under the first.
func wrapDetail(d, indent string) string {
	if len(d) <= 100 {
		return d
	}
	return strings.ReplaceAll(d, "; ", ";\n"+indent)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
