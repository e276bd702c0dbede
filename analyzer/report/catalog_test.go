package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/catalog"
)

// CatalogRules and CatalogRoles write every rule and role, once, in each
// format; the table has colours only when asked.
func TestCatalogRenderers(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	rules, roles := cat.Rules(), cat.Roles()
	tests := []struct {
		name   string
		n      int
		word   string
		render func(buf *bytes.Buffer, format string, color bool) error
	}{
		{"rules", len(rules), "rules", func(b *bytes.Buffer, f string, c bool) error { return CatalogRules(b, rules, f, c) }},
		{"roles", len(roles), "roles", func(b *bytes.Buffer, f string, c bool) error { return CatalogRoles(b, roles, f, c) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.render(&buf, "json", false); err != nil {
				t.Fatal(err)
			}
			var doc map[string][]map[string]any
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if got := len(doc[tt.word]); got != tt.n {
				t.Errorf("json: %d %s, want %d", got, tt.word, tt.n)
			}
			buf.Reset()
			if err := tt.render(&buf, "csv", false); err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != tt.n+1 || recs[0][0] != "id" {
				t.Errorf("csv: %d records, first %q; want a header and %d rows", len(recs), recs[0], tt.n)
			}
			for _, color := range []bool{false, true} {
				buf.Reset()
				if err := tt.render(&buf, "table", color); err != nil {
					t.Fatal(err)
				}
				out := buf.String()
				if !strings.Contains(strings.ToLower(out), fmt.Sprintf("%d %s", tt.n, tt.word)) {
					t.Errorf("table (color %v) has no footer %q", color, fmt.Sprintf("%d %s", tt.n, tt.word))
				}
				if got := strings.Contains(out, "\x1b["); got != color {
					t.Errorf("table (color %v): escape codes %v", color, got)
				}
			}
		})
	}
}
