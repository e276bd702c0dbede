package yamlfile

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// update is accepted so that `go test ./... -update`, which refreshes the
// golden files of other packages, runs here too; this package has none.
var _ = flag.Bool("update", false, "rewrite golden files (none in this package)")

type item struct {
	Name  string  `yaml:"name"`
	Ports Scalar  `yaml:"ports"`
	Tags  StrList `yaml:"tags"`
	line  int
	lines map[string]int
}

func (i *item) UnmarshalYAML(n *yaml.Node) (err error) {
	type plain item
	if i.lines, err = Strict(n, plain{}); err != nil {
		return err
	}
	i.line = n.Line
	return n.Decode((*plain)(i))
}

type doc struct {
	Items yaml.Node `yaml:"items"`
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, src string
		items     int
		errs      []string // "file:line: message" substrings, in order
	}{
		{"good", "items:\n  - name: a\n    ports: 443\n    tags: x\n  - {name: b, ports: \"80, 443\", tags: [y, z]}\n", 2, nil},
		{"unknown field", "items:\n  - name: a\n    prots: 443\n", 0, []string{`f.yaml:3: unknown field "prots" (did you mean "ports"?)`}},
		{"one bad, one good", "items:\n  - name: a\n    bogus: 1\n  - name: b\n", 1, []string{`f.yaml:3: unknown field "bogus"`}},
		{"duplicate key", "items:\n  - name: a\n    name: b\n", 0, []string{`f.yaml:3: field "name" given twice`}},
		{"wrong kind", "items:\n  - [1, 2]\n", 0, []string{"f.yaml:2: expected a mapping, found a list"}},
		{"wrong type", "items:\n  - name: [x]\n", 0, []string{"f.yaml:2: cannot unmarshal"}},
		{"tags of maps", "items:\n  - tags: [{a: 1}]\n", 0, []string{"f.yaml:2: expected a name, found a mapping"}},
		{"top unknown", "itemz: []\n", 0, []string{`f.yaml:1: unknown field "itemz" (did you mean "items"?)`}},
		{"not a list", "items: 3\n", 0, []string{"f.yaml:1: items: expected a list"}},
		{"two documents", "items: []\n---\nitems: []\n", 0, []string{"f.yaml:2: more than one YAML document"}},
		{"syntax", "items: [\n", 0, []string{"f.yaml:"}},
		{"empty", "  \n", 0, []string{"f.yaml: empty file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			errs := Parse("f.yaml", []byte(tt.src), &d)
			var items []item
			if errs == nil {
				items = DecodeList[item]("f.yaml", "items", &d.Items, &errs)
			}
			if len(items) != tt.items {
				t.Errorf("items = %d, want %d", len(items), tt.items)
			}
			if len(errs) != len(tt.errs) {
				t.Fatalf("errors = %v, want %d", errs, len(tt.errs))
			}
			for i, want := range tt.errs {
				if !strings.Contains(errs[i].Error(), want) {
					t.Errorf("error %d = %q, want it to contain %q", i, errs[i], want)
				}
			}
		})
	}
}

func TestLinesAndValues(t *testing.T) {
	var d doc
	if errs := Parse("f.yaml", []byte("items:\n  - name: a\n    ports: 443\n    tags: [x, y]\n"), &d); errs != nil {
		t.Fatal(errs)
	}
	var errs ErrorList
	items := DecodeList[item]("f.yaml", "items", &d.Items, &errs)
	if len(items) != 1 {
		t.Fatalf("items %v errs %v", items, errs)
	}
	it := items[0]
	if it.line != 2 || LineOf(it.lines, "ports", 0) != 3 || LineOf(it.lines, "missing", 7) != 7 {
		t.Errorf("lines: item %d, ports %d", it.line, LineOf(it.lines, "ports", 0))
	}
	if it.Ports != "443" || len(it.Tags) != 2 || it.Tags[1] != "y" {
		t.Errorf("values %+v", it)
	}
}

func TestLevenshtein(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "abc", 0}, {"kitten", "sitting", 3}, {"ポート", "ポーと", 1}, {"", "abc", 3}} {
		if got := Levenshtein(tt.a, tt.b); got != tt.d {
			t.Errorf("Levenshtein(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
}

// yaml.v3 reports parser errors one line early, and errors in a block
// list or mapping at the line where it starts; Parse puts them on the
// line a person has to fix.
func TestSyntaxErrorLines(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // the whole first error
	}{
		{"unclosed [ on line 3", "items:\n  - name: a\n    tags: [x, y\n    ports: 443\n",
			"f.yaml:3: did not find expected ',' or ']'"},
		{"unclosed [ on line 2", "top: 1\nitems: [1\n", "f.yaml:2: did not find expected ',' or ']'"},
		{"unclosed [ on line 1", "items: [1\n", "f.yaml:1: did not find expected ',' or ']' at the end of the file"},
		{"unclosed { without a newline", "{08", "f.yaml:1: did not find expected ',' or '}' at the end of the file"},
		{"unclosed [ on line 2 without a newline", "top: 1\nitems: [1", "f.yaml:2: did not find expected ',' or ']'"},
		{"dangling , on the last line", "top: 1\nitems: [1,\n", "f.yaml:2: did not find expected node content at the end of the file"},
		{"unclosed { on line 2", "top: 1\nitems: {a: 1\n", "f.yaml:2: did not find expected ',' or '}'"},
		{"bad indent in a list", "items:\n  - name: a\n    ports: 1\n  - name: b\n    ports: 2\n   tags: x\n",
			"f.yaml:6: did not find expected '-' indicator (in the list that starts on line 2)"},
		{"bad indent in a list item", "items:\n  - name: a\n    ports: 1\n    tags: x\n   name: b\n",
			"f.yaml:5: did not find expected '-' indicator (in the list that starts on line 2)"},
		{"bad indent in a mapping", "items: []\ntop:\n  a: 1\n  b: 2\n  c: 3\n d: 4\n",
			"f.yaml:6: did not find expected key"},
		{"bad indent at the top", "items:\n  - 1\n  - 2\n x: 3\n", "f.yaml:4: did not find expected key"},
		{"CRLF", "items:\r\n  - name: a\r\n    tags: [x, y\r\n    ports: 443\r\n", "f.yaml:3: did not find expected ',' or ']'"},
		{"CR", "items:\r  - name: a\r    ports: 1\r  - name: b\r    ports: 2\r   tags: x\r",
			"f.yaml:6: did not find expected '-' indicator (in the list that starts on line 2)"},
		{"an empty document after ---", "---\n", `f.yaml:1: expected a mapping, found ""`},
		{"a lone CR", "\r0", `f.yaml:2: expected a mapping, found "0"`},
		{"scanner error stays", "items: []\nname: \"x\n", "f.yaml:2: found unexpected end of stream"},
		{"mapping value", "items: 1\n name: 2\n", "f.yaml:2: mapping values are not allowed in this context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			errs := Parse("f.yaml", []byte(tt.src), &d)
			if len(errs) == 0 {
				t.Fatal("no error")
			}
			if got := errs[0].Error(); got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small, big := filepath.Join(dir, "small.yaml"), filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(small, []byte("items: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, make([]byte, MaxFileSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, err string
	}{
		{small, ""},
		{big, big + ": larger than 16 MiB"},
		{dir, dir + ": is a directory, not a file"}, // the path said once
		{filepath.Join(dir, "none"), "no such file"},
	}
	for _, tt := range tests {
		data, err := ReadFile(tt.path)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v", tt.path, err)
		case tt.err == "" && string(data) != "items: []\n":
			t.Errorf("%s: read %q", tt.path, data)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: error %v, want %q", tt.path, err, tt.err)
		}
	}
}

func TestLineCount(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
	}{{"", 1}, {"a", 1}, {"a\n", 1}, {"a\nb", 2}, {"a\r\nb\r\n", 2}, {"a\rb\rc", 3}, {"a\u2028b", 2}, {"\n\n", 2}} {
		if got := LineCount([]byte(tt.in)); got != tt.want {
			t.Errorf("LineCount(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
