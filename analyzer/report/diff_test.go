package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/diff"
)

// testDiff covers every category, both kinds, and the warnings.
func testDiff() *Diff {
	p := func(n uint16) *uint16 { return &n }
	id := func(capture, sha, inv string, rules int) diff.Identity {
		return diff.Identity{Version: "test", Generated: "2026-11-02T09:00:00.000000Z", Captures: []diff.File{{Path: capture, SHA256: sha}},
			Inventory: &diff.File{Path: "inventory.yaml", SHA256: inv}, CatalogFiles: []string{"catalog/data/shared.yaml"}, Rules: rules}
	}
	svc := func(c, s string, port uint16, status, outcome string, blocked bool, rules ...string) diff.Service {
		return diff.Service{Client: "192.0.2." + c, Server: "192.0.2." + s, ClientHost: "h" + c, ServerHost: "h" + s, Proto: "tcp", Port: p(port),
			Status: status, Outcome: outcome, Blocked: blocked, Connections: 2, Rules: rules}
	}
	before := &diff.Report{Name: "before.json", Identity: id("before.pcap", strings.Repeat("ab", 32), strings.Repeat("cd", 32), 10),
		Services: []diff.Service{
			svc("1", "10", 443, "documented", "established", false, "c-login"),
			svc("1", "20", 4172, "documented", "unanswered", true, "c-display"),
			svc("9", "20", 22, "undocumented", "established", false),
			svc("1", "20", 8080, "undocumented", "established", false),
			svc("1", "30", 80, "documented", "rejected", true, "c-web"),
		},
		Missing: []diff.MissingRule{{Rule: "c-usb", Proto: "tcp", Ports: "32111", Clients: []string{"h1"}, Servers: []string{"h20"}},
			{Rule: "c-print", Proto: "tcp", Ports: "9100", Clients: []string{"h1"}, Servers: []string{"h40"}}}}
	after := &diff.Report{Name: "after <1>.pcap", Identity: id("after.pcap", strings.Repeat("ef", 32), strings.Repeat("01", 32), 10),
		Services: []diff.Service{
			svc("1", "10", 443, "documented", "rejected", true, "c-login"),
			svc("1", "20", 4172, "documented", "established", false, "c-display"),
			svc("1", "20", 32111, "documented", "established", false, "c-usb"),
			svc("1", "20", 8080, "undocumented", "established", false),
			svc("1", "30", 80, "documented", "unanswered", true, "c-web"),
			svc("7", "20", 3389, "undocumented", "established", false),
		},
		Missing: []diff.MissingRule{{Rule: "c-print", Proto: "tcp", Ports: "9100", Clients: []string{"h1"}, Servers: []string{"h40"}}},
		Sweeps:  []diff.Sweep{{Kind: "hosts", Client: "198.51.100.9", Proto: "tcp", Ports: "445", Servers: 254, Connections: 254}}}
	return &Diff{Tool: "flowaudit", Version: "test", Result: diff.Compare(before, after), FailOn: []string{diff.Regressed}}
}

func TestDiffGolden(t *testing.T) {
	d := testDiff()
	checkGolden(t, []goldenFormat{
		{"diff.txt", func(b *bytes.Buffer) error { return d.Text(b, TextOptions{}) }},
		{"diff.md", func(b *bytes.Buffer) error { return d.Markdown(b) }},
		{"diff.json", func(b *bytes.Buffer) error { return d.JSON(b) }},
		{"diff.html", func(b *bytes.Buffer) error { return d.HTML(b) }},
	})
}

// The test diff holds one of each category, and the JSON names scripts
// use are there.
func TestDiffJSON(t *testing.T) {
	d := testDiff()
	var buf bytes.Buffer
	if err := d.JSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Before struct {
			Report    string `json:"report"`
			Inventory struct {
				SHA256 string `json:"sha256"`
			} `json:"inventory"`
		} `json:"before"`
		Warnings []string       `json:"warnings"`
		Summary  map[string]any `json:"summary"`
		Changes  []struct {
			Category string `json:"category"`
			Kind     string `json:"kind"`
			Before   struct {
				State string `json:"state"`
			} `json:"before"`
			After struct {
				State string `json:"state"`
			} `json:"after"`
			Reason string `json:"reason"`
		} `json:"changes"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Before.Report != "before.json" || doc.Before.Inventory.SHA256 != strings.Repeat("cd", 32) {
		t.Errorf("before: %+v", doc.Before)
	}
	if len(doc.Warnings) != 1 || !strings.Contains(doc.Warnings[0], "inventories differ") {
		t.Errorf("warnings %q", doc.Warnings)
	}
	got := map[string]string{}
	for _, c := range doc.Changes {
		got[c.Category] += c.Kind + ":" + c.Before.State + ">" + c.After.State + " "
	}
	want := map[string]string{
		"regressed":  "service:established>blocked service:absent>undocumented sweep:absent>sweep ",
		"fixed":      "service:blocked>established service:undocumented>absent missing:missing>established ",
		"changed":    "service:blocked>blocked ",
		"unresolved": "service:undocumented>undocumented missing:missing>missing ",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	for _, k := range []string{"fixed", "regressed", "changed", "unresolved", "unchanged", "fail_on", "failures"} {
		if _, ok := doc.Summary[k]; !ok {
			t.Errorf("summary has no %q", k)
		}
	}
	if doc.Summary["failures"] != float64(3) {
		t.Errorf("failures %v, want 3 (the regressions)", doc.Summary["failures"])
	}
	d.FailOn = []string{"mismatch"}
	if d.Failures() != 1 {
		t.Errorf("--fail-on mismatch: %d failures, want 1 (the warning)", d.Failures())
	}
}

// The summary's failures row names --fail-on's categories, and none for
// none, not an empty "--fail-on ".
func TestDiffSummaryFailOnNone(t *testing.T) {
	d := testDiff()
	for _, tc := range []struct {
		failOn []string
		want   string
	}{
		{nil, "Failures (--fail-on none)"},
		{[]string{diff.Regressed, diff.Changed}, "Failures (--fail-on regressed,changed)"},
	} {
		d.FailOn = tc.failOn
		rows := d.DiffTables()[0].Rows
		if got := rows[len(rows)-1][0]; got != tc.want {
			t.Errorf("--fail-on %q: row %q, want %q", tc.failOn, got, tc.want)
		}
	}
}
