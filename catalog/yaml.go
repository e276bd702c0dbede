package catalog

import (
	"github.com/flowaudit/flowaudit/catalog/yamlfile"
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
	File  string `yaml:"file"`
	Title string `yaml:"title"`
	// Citation is the document as a person knows it, in reports
	// ("Parallels RAS — firewall requirements"); Title when empty.
	Citation string `yaml:"citation"`
	// Edition is the edition, date or article number that tells this
	// copy from others ("KB 129097", "blog post, 2019-07-17").
	Edition  string `yaml:"edition"`
	Product  string `yaml:"product"`
	Language string `yaml:"language"`
	lines    map[string]int
}

// citation is how reports name the document: its citation or title, and
// its edition.
func (d yDocument) citation() string {
	c := d.Citation
	if c == "" {
		c = d.Title
	}
	if c != "" && d.Edition != "" {
		c += " (" + d.Edition + ")"
	}
	return c
}

type yRole struct {
	ID             string           `yaml:"id"`
	Name           string           `yaml:"name"`
	Product        string           `yaml:"product"`
	Description    string           `yaml:"description"`
	Aliases        yamlfile.StrList `yaml:"aliases"`
	ProductAliases yamlfile.StrList `yaml:"product_aliases"`
	Members        yamlfile.StrList `yaml:"members"`
	MembersProduct string           `yaml:"members_product"`
	Modes          []yMode          `yaml:"modes"`
	line           int
	lines          map[string]int
}

type yMode struct {
	ID             string           `yaml:"id"`
	Name           string           `yaml:"name"`
	Aliases        yamlfile.StrList `yaml:"aliases"`
	ProductAliases yamlfile.StrList `yaml:"product_aliases"`
	line           int
	lines          map[string]int
}

type yAlias struct {
	Role  string           `yaml:"role"`
	Names yamlfile.StrList `yaml:"names"`
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
	ID            string           `yaml:"id"`
	Section       string           `yaml:"section"`
	From          yamlfile.StrList `yaml:"from"`
	To            yamlfile.StrList `yaml:"to"`
	ToHost        string           `yaml:"to_host"`
	ToAddress     yamlfile.StrList `yaml:"to_address"`
	Protocols     yamlfile.StrList `yaml:"protocols"`
	Ports         yamlfile.Scalar  `yaml:"ports"`
	Description   string           `yaml:"description"`
	Original      string           `yaml:"original"`
	Note          string           `yaml:"note"`
	Optional      bool             `yaml:"optional"`
	Bidirectional bool             `yaml:"bidirectional"`
	Configurable  bool             `yaml:"configurable"`
	Dynamic       bool             `yaml:"dynamic"`
	Direction     string           `yaml:"direction"`
	SameAs        *ySameAs         `yaml:"same_as"`
	Source        []ySource        `yaml:"source"`
	line          int
	lines         map[string]int
}

func (d *yDocument) UnmarshalYAML(n *yaml.Node) (err error) {
	type plain yDocument
	if d.lines, err = yamlfile.Strict(n, plain{}); err != nil {
		return err
	}
	return n.Decode((*plain)(d))
}

func (r *yRole) UnmarshalYAML(n *yaml.Node) (err error) {
	type plain yRole
	if r.lines, err = yamlfile.Strict(n, plain{}); err != nil {
		return err
	}
	r.line = n.Line
	return n.Decode((*plain)(r))
}

func (m *yMode) UnmarshalYAML(n *yaml.Node) (err error) {
	type plain yMode
	if m.lines, err = yamlfile.Strict(n, plain{}); err != nil {
		return err
	}
	m.line = n.Line
	return n.Decode((*plain)(m))
}

func (a *yAlias) UnmarshalYAML(n *yaml.Node) (err error) {
	type plain yAlias
	if a.lines, err = yamlfile.Strict(n, plain{}); err != nil {
		return err
	}
	a.line = n.Line
	return n.Decode((*plain)(a))
}

func (s *ySameAs) UnmarshalYAML(n *yaml.Node) (err error) {
	type plain ySameAs
	if s.lines, err = yamlfile.Strict(n, plain{}); err != nil {
		return err
	}
	s.line = n.Line
	return n.Decode((*plain)(s))
}

func (s *ySource) UnmarshalYAML(n *yaml.Node) (err error) {
	type plain ySource
	if s.lines, err = yamlfile.Strict(n, plain{}); err != nil {
		return err
	}
	s.line = n.Line
	return n.Decode((*plain)(s))
}

func (r *yRule) UnmarshalYAML(n *yaml.Node) (err error) {
	type plain yRule
	if r.lines, err = yamlfile.Strict(n, plain{}); err != nil {
		return err
	}
	r.line = n.Line
	return n.Decode((*plain)(r))
}
