package catalog

import (
	"fmt"
	"strings"
)

// ParseError is an error in a catalog file, with the file and line it is
// on, in the manner of miekg/dns's ParseError.
type ParseError struct {
	File string
	Line int // 1-based; 0 when the error concerns the whole file
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ErrorList is every error found in one load, in file and line order.
type ErrorList []*ParseError

func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap lets errors.As find the individual ParseErrors.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Closest returns up to n candidates nearest to s by edit distance (case
// folded), nearest first, leaving out those too far to be a plausible typo.
func Closest(s string, candidates []string, n int) []string {
	type scored struct {
		c string
		d int
	}
	ls := strings.ToLower(s)
	var best []scored
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := levenshtein(ls, lc)
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

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
