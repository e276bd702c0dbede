package catalog

import (
	"fmt"
	"slices"
	"sort"
)

// MaxLintRange is the widest port range a rule may open without a lint
// warning.
const MaxLintRange = 1024

// Warning is a rule that loads but opens more than a reviewer would
// expect: Any to Any, or a port range wider than MaxLintRange ports.
type Warning struct {
	File string
	Line int
	Rule string
	Msg  string
}

func (w Warning) String() string {
	return fmt.Sprintf("%s:%d: warning: rule %q: %s", w.File, w.Line, w.Rule, w.Msg)
}

// Lint warns about the rules of the given files (as loaded: the names
// passed to Load) that allow Any to Any, or ports in a range wider than
// MaxLintRange. Vendor documents have such rules; a team's own should say
// why. Warnings come in file and line order, one per rule and problem.
func (c *Catalog) Lint(files ...string) []Warning {
	var out []Warning
	seen := map[string]bool{}
	for _, r := range c.rules {
		if !slices.Contains(files, r.File) {
			continue
		}
		add := func(msg string) {
			k := fmt.Sprintf("%s:%d:%s", r.File, r.Line, msg)
			if !seen[k] {
				seen[k] = true
				out = append(out, Warning{File: r.File, Line: r.Line, Rule: r.ID, Msg: msg})
			}
		}
		if r.From.IsAny() && r.To.IsAny() {
			add("allows Any → Any; name the roles, a to_host or a to_address")
		}
		for _, p := range r.Ports {
			if n := int(p.Hi) - int(p.Lo) + 1; n > MaxLintRange {
				add(fmt.Sprintf("port range %s is %d ports, wider than %d", FormatPorts([]PortRange{p}), n, MaxLintRange))
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out
}
