package catalog

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The YAML shapes of a catalog file. Every mapping is decoded strictly: a
// key that is not a field is an error on that key's line.

// yFile is a whole file. Its lists are decoded element by element, so one
// bad rule does not hide the errors in the next.
type yFile struct {
	Document *yDocument `yaml:"document"`
	Roles    yaml.Node  `yaml:"roles"`
	Aliases  yaml.Node  `yaml:"aliases"`
	Rules    yaml.Node  `yaml:"rules"`
}

type yDocument struct {
	File     string `yaml:"file"`
	Title    string `yaml:"title"`
	Product  string `yaml:"product"`
	Language string `yaml:"language"`
	lines    map[string]int
}

type yRole struct {
	ID             string  `yaml:"id"`
	Name           string  `yaml:"name"`
	Product        string  `yaml:"product"`
	Description    string  `yaml:"description"`
	Aliases        strList `yaml:"aliases"`
	Members        strList `yaml:"members"`
	MembersProduct string  `yaml:"members_product"`
	Modes          []yMode `yaml:"modes"`
	line           int
	lines          map[string]int
}

type yMode struct {
	ID      string  `yaml:"id"`
	Name    string  `yaml:"name"`
	Aliases strList `yaml:"aliases"`
	line    int
	lines   map[string]int
}

type yAlias struct {
	Role  string  `yaml:"role"`
	Names strList `yaml:"names"`
	line  int
	lines map[string]int
}

type ySameAs struct {
	From  string `yaml:"from"`
	To    string `yaml:"to"`
	line  int
	lines map[string]int
}

type ySource struct {
	Doc     string `yaml:"doc"`
	Section string `yaml:"section"`
	Row     int    `yaml:"row"`
	line    int
	lines   map[string]int
}

type yRule struct {
	ID            string    `yaml:"id"`
	Section       string    `yaml:"section"`
	From          strList   `yaml:"from"`
	To            strList   `yaml:"to"`
	ToHost        string    `yaml:"to_host"`
	ToAddress     strList   `yaml:"to_address"`
	Protocols     strList   `yaml:"protocols"`
	Ports         scalar    `yaml:"ports"`
	Description   string    `yaml:"description"`
	Original      string    `yaml:"original"`
	Note          string    `yaml:"note"`
	Optional      bool      `yaml:"optional"`
	Bidirectional bool      `yaml:"bidirectional"`
	Configurable  bool      `yaml:"configurable"`
	Dynamic       bool      `yaml:"dynamic"`
	Direction     string    `yaml:"direction"`
	SameAs        *ySameAs  `yaml:"same_as"`
	Source        []ySource `yaml:"source"`
	line          int
	lines         map[string]int
}

// lineOf is the line of key in the mapping, or the mapping's own line.
func lineOf(lines map[string]int, key string, def int) int {
	if l, ok := lines[key]; ok {
		return l
	}
	return def
}

// lineErr is an error at a line of the file being decoded; load adds the
// file name.
type lineErr struct {
	line int
	err  error
}

func (e *lineErr) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }

// strict checks that node is a mapping whose keys are all yaml-tagged
// fields of v's type, and returns each key's line.
func strict(node *yaml.Node, v any) (map[string]int, error) {
	if node.Kind != yaml.MappingNode {
		return nil, &lineErr{node.Line, fmt.Errorf("expected a mapping, found %s", kindName(node))}
	}
	allowed := yamlKeys(reflect.TypeOf(v))
	lines := make(map[string]int, len(node.Content)/2)
	for i := 0; i+1 < len(node.Content); i += 2 {
		k := node.Content[i]
		if _, ok := allowed[k.Value]; !ok {
			return nil, &lineErr{k.Line, fmt.Errorf("unknown field %q%s", k.Value, DidYouMean(k.Value, sortedKeys(allowed)))}
		}
		if _, dup := lines[k.Value]; dup {
			return nil, &lineErr{k.Line, fmt.Errorf("field %q given twice", k.Value)}
		}
		lines[k.Value] = k.Line
	}
	return lines, nil
}

func kindName(n *yaml.Node) string {
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

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func (d *yDocument) UnmarshalYAML(n *yaml.Node) (err error) {
	type plain yDocument
	if d.lines, err = strict(n, plain{}); err != nil {
		return err
	}
	return n.Decode((*plain)(d))
}

func (r *yRole) UnmarshalYAML(n *yaml.Node) (err error) {
	type plain yRole
	if r.lines, err = strict(n, plain{}); err != nil {
		return err
	}
	r.line = n.Line
	return n.Decode((*plain)(r))
}

func (m *yMode) UnmarshalYAML(n *yaml.Node) (err error) {
	type plain yMode
	if m.lines, err = strict(n, plain{}); err != nil {
		return err
	}
	m.line = n.Line
	return n.Decode((*plain)(m))
}

func (a *yAlias) UnmarshalYAML(n *yaml.Node) (err error) {
	type plain yAlias
	if a.lines, err = strict(n, plain{}); err != nil {
		return err
	}
	a.line = n.Line
	return n.Decode((*plain)(a))
}

func (s *ySameAs) UnmarshalYAML(n *yaml.Node) (err error) {
	type plain ySameAs
	if s.lines, err = strict(n, plain{}); err != nil {
		return err
	}
	s.line = n.Line
	return n.Decode((*plain)(s))
}

func (s *ySource) UnmarshalYAML(n *yaml.Node) (err error) {
	type plain ySource
	if s.lines, err = strict(n, plain{}); err != nil {
		return err
	}
	s.line = n.Line
	return n.Decode((*plain)(s))
}

func (r *yRule) UnmarshalYAML(n *yaml.Node) (err error) {
	type plain yRule
	if r.lines, err = strict(n, plain{}); err != nil {
		return err
	}
	r.line = n.Line
	return n.Decode((*plain)(r))
}

// strList is a list of strings that may also be written as one scalar.
type strList []string

func (s *strList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*s = strList{n.Value}
		return nil
	case yaml.SequenceNode:
		out := make(strList, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return &lineErr{c.Line, fmt.Errorf("expected a name, found %s", kindName(c))}
			}
			out = append(out, c.Value)
		}
		*s = out
		return nil
	}
	return &lineErr{n.Line, fmt.Errorf("expected a name or a list of names, found %s", kindName(n))}
}

// scalar is a string that may be written as a number ("ports: 443").
type scalar string

func (s *scalar) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &lineErr{n.Line, fmt.Errorf("expected a value such as \"80, 443\", found %s", kindName(n))}
	}
	*s = scalar(n.Value)
	return nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// fileErrors turns a yaml decoding error into ParseErrors for file.
func fileErrors(file string, err error) ErrorList {
	var le *lineErr
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
