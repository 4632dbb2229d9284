package hookcfg

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// policy holds the settings keys that can silently stop our hooks. Claude
// Code merges the arrays across all settings sources.
type policy struct {
	// disabledIn lists the files with "disableAllHooks": true.
	disabledIn []string
	// urlPatterns is "allowedHttpHookUrls" (nil: no restriction); urlSet
	// says whether any file set it.
	urlPatterns []string
	urlSet      bool
	// envVars is "httpHookAllowedEnvVars" (nil: no restriction).
	envVars []string
	envSet  bool
}

// add records one file's policy keys.
func (p *policy) add(path string, root *object) {
	if raw, ok := root.get("disableAllHooks"); ok {
		var b bool
		if json.Unmarshal(raw, &b) == nil && b {
			p.disabledIn = append(p.disabledIn, path)
		}
	}
	if raw, ok := root.get("allowedHttpHookUrls"); ok {
		var l []string
		if json.Unmarshal(raw, &l) == nil {
			p.urlSet = true
			p.urlPatterns = append(p.urlPatterns, l...)
		}
	}
	if raw, ok := root.get("httpHookAllowedEnvVars"); ok {
		var l []string
		if json.Unmarshal(raw, &l) == nil {
			p.envSet = true
			p.envVars = append(p.envVars, l...)
		}
	}
}

// problems reports how the policy blocks the wiring found in r.
func (p *policy) problems(r Report) Problems {
	var out Problems
	for _, f := range p.disabledIn {
		out = append(out, Problem{ProblemPolicy, fmt.Sprintf(`%s sets "disableAllHooks": true, which can stop Claude Code from running any hook: remove it if mpm sees no events`, f)})
	}
	httpURLs := map[string]bool{}
	for _, s := range r.Scopes {
		for _, e := range s.Entries {
			if e.Kind == ModeHTTP {
				httpURLs[e.URL] = true
			}
		}
	}
	for u := range httpURLs {
		if p.urlSet && !matchesAny(u, p.urlPatterns) {
			out = append(out, Problem{ProblemPolicy, fmt.Sprintf(`"allowedHttpHookUrls" does not allow %s, so Claude Code blocks our http hooks: add "http://127.0.0.1:*" to it, or install with --mode command`, u)})
		}
	}
	if len(httpURLs) > 0 && p.envSet && !contains(p.envVars, TokenEnvVar) {
		out = append(out, Problem{ProblemPolicy, fmt.Sprintf(`"httpHookAllowedEnvVars" does not list %s, so our http hooks send no token (401): add it, or install with --mode command`, TokenEnvVar)})
	}
	return out
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// matchesAny reports whether u matches one of the patterns, where * stands
// for any run of characters.
func matchesAny(u string, patterns []string) bool {
	for _, p := range patterns {
		re := "^" + strings.ReplaceAll(regexp.QuoteMeta(p), `\*`, `.*`) + "$"
		if ok, _ := regexp.MatchString(re, u); ok {
			return true
		}
	}
	return false
}
