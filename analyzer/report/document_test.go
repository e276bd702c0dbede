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
		{"trailing", "{\"tool\": \"flowaudit\", \"flows\": []}\n{}", "a.json: offset 35: data after the report's JSON object"},
		// Other flowaudit documents say "tool": "flowaudit" too; read
		// as an analysis that saw nothing, they made every service of
		// the other side new in a diff.
		{"no flows", `{"tool": "flowaudit"}`, `a.json: not a flowaudit analyze JSON report (no "flows" list: want the JSON of flowaudit analyze -f json)`},
		{"null flows", `{"tool": "flowaudit", "flows": null}`, `a.json: not a flowaudit analyze JSON report (no "flows" list`},
		{"diff report", `{"tool": "flowaudit", "before": {}, "changes": []}`, `a.json: not a flowaudit analyze JSON report (it is a flowaudit diff report`},
		{"rules request", `{"tool": "flowaudit", "lines": [], "objects": []}`, `a.json: not a flowaudit analyze JSON report (it is a flowaudit rules request)`},
		{"byte order mark, other tool", "\ufeff{\"rules\": []}", `a.json: not a flowaudit analyze JSON report (tool "")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadDocument("a.json", strings.NewReader(tc.in))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v, want prefix %q", err, tc.want)
			}
		})
	}
}

// A report over the size limit is an error, never read cut short.
func TestReadDocumentSizeLimit(t *testing.T) {
	defer func(n int64) { maxDocumentSize = n }(maxDocumentSize)
	maxDocumentSize = 64 << 10 // 64 KiB for the test
	doc := `{"tool": "flowaudit", "flows": []}`
	for _, tc := range []struct {
		name, in, want string
	}{
		{"at the limit", doc + strings.Repeat(" ", int(maxDocumentSize)-len(doc)), ""},
		{"over the limit", doc + strings.Repeat(" ", int(maxDocumentSize)-len(doc)+1), "a.json: larger than 0 MiB: not an analyze report"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadDocument("a.json", strings.NewReader(tc.in))
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || err.Error() != tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// include_noise is written when --include-noise listed the noise, and read
// back for diff, which warns when one side listed it and the other not.
func TestDocumentIncludeNoise(t *testing.T) {
	rep := testReport(t)
	for _, noise := range []bool{false, true} {
		rep.IncludeNoise = noise
		var b bytes.Buffer
		if err := rep.JSON(&b); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(b.String(), `"include_noise": true`); got != noise {
			t.Errorf("--include-noise %v: include_noise written %v", noise, got)
		}
		d, err := ReadDocument("r.json", &b)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.DiffReport("r.json").Identity.IncludeNoise; got != noise {
			t.Errorf("--include-noise %v: read back %v", noise, got)
		}
	}
}

// A report saved by a Windows editor starts with a UTF-8 byte order mark;
// it reads as the report.
func TestReadDocumentByteOrderMark(t *testing.T) {
	var b bytes.Buffer
	if err := testReport(t).JSON(&b); err != nil {
		t.Fatal(err)
	}
	d, err := ReadDocument("r.json", strings.NewReader("\ufeff"+b.String()))
	if err != nil || len(d.Flows) == 0 {
		t.Fatalf("report with a BOM: %v", err)
	}
}
