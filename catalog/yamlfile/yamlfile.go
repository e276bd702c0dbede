// Package yamlfile decodes YAML configuration strictly and reports
// problems as file:line errors: the catalog, inventory and waiver files all
// read through it.
package yamlfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
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

// LineOf is the line of key in the mapping, or the mapping's own line.
func LineOf(lines map[string]int, key string, def int) int {
	if l, ok := lines[key]; ok {
		return l
	}
	return def
}

// LineError is an error at a line of the file being decoded; load adds the
// file name.
type LineError struct {
	line int
	err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }

// Strict checks that node is a mapping whose keys are all yaml-tagged
// fields of v's type, and returns each key's line.
func Strict(node *yaml.Node, v any) (map[string]int, error) {
	if node.Kind != yaml.MappingNode {
		return nil, &LineError{node.Line, fmt.Errorf("expected a mapping, found %s", KindName(node))}
	}
	allowed := yamlKeys(reflect.TypeOf(v))
	lines := make(map[string]int, len(node.Content)/2)
	for i := 0; i+1 < len(node.Content); i += 2 {
		k := node.Content[i]
		if _, ok := allowed[k.Value]; !ok {
			return nil, &LineError{k.Line, fmt.Errorf("unknown field %q%s", k.Value, didYouMean(k.Value, slices.Sorted(maps.Keys(allowed))))}
		}
		if _, dup := lines[k.Value]; dup {
			return nil, &LineError{k.Line, fmt.Errorf("field %q given twice", k.Value)}
		}
		lines[k.Value] = k.Line
	}
	return lines, nil
}

func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case yaml.MappingNode:
		return "a mapping"
	}
	return "nothing"
}

func yamlKeys(t reflect.Type) map[string]struct{} {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	m := map[string]struct{}{}
	for i := 0; i < t.NumField(); i++ {
		if tag, ok := t.Field(i).Tag.Lookup("yaml"); ok {
			m[strings.Split(tag, ",")[0]] = struct{}{}
		}
	}
	return m
}

// StrList is a list of strings that may also be written as one scalar.
type StrList []string

func (s *StrList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*s = StrList{n.Value}
		return nil
	case yaml.SequenceNode:
		out := make(StrList, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return &LineError{c.Line, fmt.Errorf("expected a name, found %s", KindName(c))}
			}
			out = append(out, c.Value)
		}
		*s = out
		return nil
	}
	return &LineError{n.Line, fmt.Errorf("expected a name or a list of names, found %s", KindName(n))}
}

// Scalar is a string that may be written as a number ("ports: 443").
type Scalar string

func (s *Scalar) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &LineError{n.Line, fmt.Errorf("expected a value such as \"80, 443\", found %s", KindName(n))}
	}
	*s = Scalar(n.Value)
	return nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// FileErrors turns a yaml decoding error into ParseErrors for file.
func FileErrors(file string, err error) ErrorList {
	var le *LineError
	if errors.As(err, &le) {
		return ErrorList{{File: file, Line: le.line, Err: le.err}}
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var out ErrorList
		for _, msg := range te.Errors {
			out = append(out, lineMessage(file, msg))
		}
		return out
	}
	return ErrorList{lineMessage(file, strings.TrimPrefix(err.Error(), "yaml: "))}
}

func lineMessage(file, msg string) *ParseError {
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &ParseError{File: file, Line: n, Err: errors.New(m[2])}
	}
	return &ParseError{File: file, Err: errors.New(msg)}
}

// DecodeList decodes each element of a YAML list on its own, keeping the
// good ones and an error for each bad one.
func DecodeList[T any](file, field string, n *yaml.Node, errs *ErrorList) []T {
	if n.Kind == 0 || n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		*errs = append(*errs, &ParseError{File: file, Line: n.Line, Err: fmt.Errorf("%s: expected a list, found %s", field, KindName(n))})
		return nil
	}
	out := make([]T, 0, len(n.Content))
	for _, el := range n.Content {
		var v T
		if err := el.Decode(&v); err != nil {
			*errs = append(*errs, FileErrors(file, err)...)
			continue
		}
		out = append(out, v)
	}
	return out
}

// Parse decodes data, a single YAML document, into v (whose top-level
// mapping is checked by Strict), and returns file:line errors.
func Parse(file string, data []byte, v any) ErrorList {
	errs := parse(file, data, v)
	// yaml.v3 may place a problem just past the end (the empty document
	// after a final "---"): the last line is the one to look at.
	last := LineCount(data)
	for _, e := range errs {
		e.Line = min(e.Line, last)
	}
	return errs
}

func parse(file string, data []byte, v any) ErrorList {
	if len(bytes.TrimSpace(data)) == 0 {
		return ErrorList{{File: file, Err: errors.New("empty file")}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		return ErrorList{syntaxError(file, data, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return ErrorList{{File: file, Line: extra.Line, Err: errors.New("more than one YAML document in the file")}}
	}
	top := &root
	if top.Kind == yaml.DocumentNode && len(top.Content) == 1 {
		top = top.Content[0]
	}
	if _, err := Strict(top, v); err != nil {
		return FileErrors(file, err)
	}
	if err := top.Decode(v); err != nil {
		return FileErrors(file, err)
	}
	return nil
}

// MaxFileSize bounds a configuration file (catalog, inventory, waivers)
// read into memory.
const MaxFileSize = 16 << 20

// ReadFile reads a configuration file whole. A file larger than
// MaxFileSize is an error, never silently cut; errors name the file.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s: is a directory, not a file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, MaxFileSize>>20)
	}
	return data, nil
}

// parserProblems are the messages of yaml.v3's parser (as opposed to its
// scanner). yaml.v3 reports a parser error at the 0-based line of the
// construct being parsed (the line of an unclosed "[" minus one), or at
// the 0-based line of the problem when that construct starts on the first
// line; scanner errors are reported 1-based.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"found undefined tag handle":             true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

// blockProblems are parser errors inside a block list or mapping, which
// yaml.v3 reports at the line where the list or mapping starts, however
// far below it the offending line is.
var blockProblems = map[string]string{
	"did not find expected '-' indicator": "list",
	"did not find expected key":           "mapping",
}

// syntaxError turns a yaml.v3 syntax error into a ParseError at the right
// 1-based line: parser errors are moved down to the line yaml.v3 meant,
// and an error in a block list or mapping is moved to the first line that
// breaks it (found by decoding ever longer prefixes of the file, only when
// there is an error), with the line where the list or mapping starts.
func syntaxError(file string, data []byte, err error) *ParseError {
	pe := lineMessage(file, strings.TrimPrefix(err.Error(), "yaml: "))
	msg := pe.Err.Error()
	if !parserProblems[msg] {
		return pe
	}
	pe.Line++ // 0-based, or no line (0) for the first line
	lines := splitLines(data)
	last := max(len(lines), 1) // the last line's number
	if pe.Line > last {
		// The problem is the end of the file (an unclosed "[", a
		// dangling ","): the last line is the one to fix.
		pe.Line = max(last, 1)
		pe.Err = fmt.Errorf("%s at the end of the file", msg)
		return pe
	}
	kind, ok := blockProblems[msg]
	if !ok {
		return pe
	}
	fails := func(n int) bool {
		var root yaml.Node
		err := yaml.Unmarshal(bytes.Join(lines[:n], nil), &root)
		return err != nil && strings.HasSuffix(err.Error(), msg)
	}
	// The first n for which the first n lines fail the same way: prefixes
	// that end before the offending line are well-formed block YAML.
	lo, hi := pe.Line, len(lines)
	if lo < 1 || lo > hi || !fails(hi) {
		return pe
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if hi != pe.Line {
		pe.Err = fmt.Errorf("%s (in the %s that starts on line %d)", msg, kind, pe.Line)
		pe.Line = hi
	}
	return pe
}

// splitLines splits data after each line break as YAML counts them: LF,
// CR LF, a lone CR, NEL, LS and PS. A final line break ends the last line
// rather than starting an empty one.
func splitLines(data []byte) [][]byte {
	var out [][]byte
	start := 0
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		end := -1
		switch {
		case r == '\r' && i+1 < len(data) && data[i+1] == '\n':
			end = i + 2
		case r == '\n', r == '\r', r == '\u0085', r == '\u2028', r == '\u2029':
			end = i + size
		}
		if end < 0 {
			i += size
			continue
		}
		out = append(out, data[start:end])
		start, i = end, end
	}
	if start < len(data) {
		out = append(out, data[start:])
	}
	return out
}

// LineCount is how many lines data has, as YAML counts them (at least 1),
// so that callers can check a line number is in the file.
func LineCount(data []byte) int { return max(len(splitLines(data)), 1) }

// didYouMean is a small edit-distance suggestion for field names.
func didYouMean(s string, candidates []string) string {
	sort.Strings(candidates)
	best, bestD := "", 3
	for _, c := range candidates {
		if d := Levenshtein(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// Levenshtein is the edit distance between a and b, in runes.
func Levenshtein(a, b string) int {
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
