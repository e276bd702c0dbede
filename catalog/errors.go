package catalog

import (
	"fmt"
	"slices"
	"strings"

	"github.com/flowaudit/flowaudit/catalog/yamlfile"
)

// ParseError is an error in a catalog file, with its file and line.
type ParseError = yamlfile.ParseError

// ErrorList is every error found in one load, in file and line order.
type ErrorList = yamlfile.ErrorList

// Closest returns up to n candidates nearest to s by edit distance (case
// folded), nearest first, leaving out those too far to be a plausible typo.
// A candidate that holds every word of s ("Lync Front End Server" for
// "front end server") is near too, by the number of words it adds.
func Closest(s string, candidates []string, n int) []string {
	type scored struct {
		c string
		d int
	}
	ls := strings.ToLower(s)
	words := strings.Fields(ls)
	var best []scored
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if extra, ok := holdsWords(strings.Fields(lc), words); ok && extra > 0 {
			best = append(best, scored{c, extra})
			continue
		}
		d := yamlfile.Levenshtein(ls, lc)
		if strings.Contains(lc, ls) || strings.Contains(ls, lc) {
			d = min(d, max(len([]rune(lc)), len([]rune(ls)))-min(len([]rune(lc)), len([]rune(ls))))
		}
		if d > max(2, len([]rune(s))/4) {
			continue
		}
		best = append(best, scored{c, d})
	}
	// Insertion sort: candidates are few and order must be stable.
	for i := 1; i < len(best); i++ {
		for j := i; j > 0 && (best[j].d < best[j-1].d || best[j].d == best[j-1].d && best[j].c < best[j-1].c); j-- {
			best[j], best[j-1] = best[j-1], best[j]
		}
	}
	var out []string
	for _, b := range best {
		if len(out) == n {
			break
		}
		out = append(out, b.c)
	}
	return out
}

// holdsWords says whether have holds every word of want, in any order,
// and how many words it has besides.
func holdsWords(have, want []string) (extra int, ok bool) {
	if len(want) == 0 || len(have) < len(want) {
		return 0, false
	}
	for _, w := range want {
		if !slices.Contains(have, w) {
			return 0, false
		}
	}
	return len(have) - len(want), true
}

// DidYouMean formats Closest's answer as ` (did you mean "a" or "b"?)`.
func DidYouMean(s string, candidates []string) string {
	c := Closest(s, candidates, 2)
	switch len(c) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf(" (did you mean %q?)", c[0])
	default:
		return fmt.Sprintf(" (did you mean %q or %q?)", c[0], c[1])
	}
}
