package report

import (
	"bytes"
	"strings"
	"testing"
)

// A report written as JSON reads back into the same document, and writing
// that document again gives the same bytes.
func TestReadDocumentRoundTrip(t *testing.T) {
	var first bytes.Buffer
	if err := testReport(t).JSON(&first); err != nil {
		t.Fatal(err)
	}
	d, err := ReadDocument("report.json", bytes.NewReader(first.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Flows) != 6 || len(d.Sweeps) != 2 || d.Flows[0].Client == "" || d.Inventory == nil || d.Inventory.SHA256 != strings.Repeat("cd", 32) {
		t.Fatalf("document lost data: %d flows, inventory %+v", len(d.Flows), d.Inventory)
	}
	var second bytes.Buffer
	if err := writeIndented(&second, d); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Errorf("round trip changed the JSON:\n%s\n---\n%s", first.String(), second.String())
	}
}

func TestReadDocumentErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "a.json: EOF"},
		{"syntax", "{\n  \"tool\": \"flowaudit\",\n  \"flows\": [}\n", "a.json: line 3, column 13: invalid character '}'"},
		{"type", "{\"tool\": \"flowaudit\", \"flows\": 3}", "a.json: line 1, column 32: json: cannot unmarshal number"},
		{"other tool", `{"rules": []}`, `a.json: not a flowaudit analyze JSON report (tool "")`},
		{"trailing", "{\"tool\": \"flowaudit\"}\n{}", "a.json: offset 22: data after the report's JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadDocument("a.json", strings.NewReader(tc.in))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v, want prefix %q", err, tc.want)
			}
		})
	}
}
