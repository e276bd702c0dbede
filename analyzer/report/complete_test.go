package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// render is every format's output of rep.
func renderAll(t *testing.T, rep *Report) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, write := range map[string]func(*bytes.Buffer) error{
		"txt":  func(b *bytes.Buffer) error { return rep.Text(b, TextOptions{}) },
		"md":   func(b *bytes.Buffer) error { return rep.Markdown(b) },
		"json": func(b *bytes.Buffer) error { return rep.JSON(b) },
		"csv":  func(b *bytes.Buffer) error { return rep.CSV(b) },
		"html": func(b *bytes.Buffer) error { return rep.HTML(b) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = b.String()
	}
	return out
}

// TestIncompleteSaidFirst: when a capture was not read to its end, had
// nothing analysed, or services were left out past --max-services, every
// format says so before anything else, gives every reason, and the
// never-seen findings say they may be in the missing part; a complete
// report says nothing of the kind.
func TestIncompleteSaidFirst(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Report)
		want   []string // reasons, as every format gives them
	}{
		{"complete", func(*Report) {}, nil},
		{"cut short", func(r *Report) {
			r.Captures[0].Status, r.Captures[0].Offset, r.Captures[0].Frame = StatusCutShort, 9000, 124
			r.Captures[0].Error = "file is cut short: record of 1514 bytes, file ends after 20"
		}, []string{"pilot.pcap: cut short at byte offset 9000 (frame 124): file is cut short: record of 1514 bytes, file ends after 20; the 123 frames before it were analysed"}},
		{"standard input cut short", func(r *Report) {
			r.Captures[0].Path, r.Captures[0].Status, r.Captures[0].Offset, r.Captures[0].Frame = "-", StatusCutShort, 9000, 124
			r.Captures[0].Error = "file is cut short: record header is 5 of 16 bytes"
		}, []string{"<stdin>: cut short at byte offset 9000 (frame 124): file is cut short: record header is 5 of 16 bytes; the 123 frames before it were analysed"}},
		{"damaged and unreadable", func(r *Report) {
			r.Captures[0].Status, r.Captures[0].Offset, r.Captures[0].Frame = StatusDamaged, 228, 2
			r.Captures[0].Error, r.Captures[0].Packets = "file is corrupt: capture length exceeds snap length: 16711424 > 262144", 1
			r.Captures = append(r.Captures, Capture{Path: "notes.txt", Status: StatusUnreadable, Error: `not a pcap or pcapng file: starts with "GET " (text?)`})
		}, []string{
			"pilot.pcap: damaged at byte offset 228 (frame 2): file is corrupt: capture length exceeds snap length: 16711424 > 262144; the frame before it was read, nothing after it",
			`notes.txt: unreadable (not a pcap or pcapng file: starts with "GET " (text?))`}},
		{"unreadable at its first record", func(r *Report) {
			r.Captures = append(r.Captures, Capture{Path: "aoe.pcap", Status: StatusUnreadable, Offset: 24, Frame: 1,
				Error: "file is corrupt: capture length exceeds original packet length: 34 > 32"})
		}, []string{"aoe.pcap: unreadable: its first record, at byte offset 24 (frame 1), is damaged: file is corrupt: capture length exceeds original packet length: 34 > 32"}},
		{"nothing analysed: a link type not decoded", func(r *Report) {
			r.Captures = append(r.Captures, Capture{Path: "user0.pcap", Status: StatusComplete, Packets: 12,
				NothingAnalysed: "12 frames of link type 147 (USER0), which flowaudit does not decode, skipped",
				NotDecoded:      "12 frames of link type 147 (USER0), which flowaudit does not decode"})
		}, []string{"user0.pcap: complete; nothing analysed: 12 frames of link type 147 (USER0), which flowaudit does not decode, skipped"}},
		{"some frames of a link type not decoded", func(r *Report) {
			r.Captures[0].NotDecoded = "3 frames of link type 147 (USER0), which flowaudit does not decode"
		}, []string{"pilot.pcap: complete; not analysed: 3 frames of link type 147 (USER0), which flowaudit does not decode"}},
		{"nothing analysed: no IP in it", func(r *Report) { // STP only: every frame looked at, nothing to follow
			r.Captures = append(r.Captures, Capture{Path: "stp.pcap", Status: StatusComplete, Packets: 14,
				NothingAnalysed: "14 frames of link type 1 (Ethernet), none carrying IP traffic flowaudit follows, skipped (not IP 14)"})
		}, nil},
		{"no frame analysed at all", func(r *Report) {
			r.Captures[0].Analysed = 0
		}, []string{"no frame of any capture was analysed: this report has nothing to say about the traffic"}},
		{"services not kept", func(r *Report) {
			r.Limits.UnaggregatedConnections, r.Limits.UnaggregatedServices, r.Limits.UnaggregatedServicesMore = 5000, 32768, true
		}, []string{"5000 connections of at least 32768 services were not analysed: more than --max-services=1048576 services (a scan?)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := testReport(t)
			c.change(rep)
			if got := rep.Incomplete(); strings.Join(got, "\n") != strings.Join(c.want, "\n") || rep.Complete() != (len(c.want) == 0) {
				t.Fatalf("Incomplete() = %q, want %q", got, c.want)
			}
			out := renderAll(t, rep)
			// Each text format: the warning, then every reason, before the summary.
			first := map[string]struct{ warn, summary string }{
				"txt":  {"INCOMPLETE REPORT", "\nSummary\n"},
				"md":   {"**Incomplete report", "## Summary"},
				"html": {`<div class="incomplete" role="alert">`, `<h2 id="summary"`},
			}
			for f, m := range first {
				w, s := strings.Index(out[f], m.warn), strings.Index(out[f], m.summary)
				if len(c.want) == 0 {
					if w >= 0 {
						t.Errorf("%s: a complete report says it is incomplete", f)
					}
					continue
				}
				if w < 0 || s < 0 || w > s {
					t.Errorf("%s: warning at %d, summary at %d", f, w, s)
				}
				for _, why := range c.want {
					if i := strings.Index(out[f], escapeFor(f, why)); i < 0 || i > s {
						t.Errorf("%s: reason %q not before the summary", f, why)
					}
				}
				if hasNote := strings.Contains(out[f], "may be in the part that is missing"); hasNote != (len(c.want) > 0) {
					t.Errorf("%s: never-seen caveat shown %v", f, hasNote)
				}
			}
			// CSV: comment lines first; the rows still parse with '#' comments.
			csvFirst := strings.SplitN(out["csv"], "\n", 2)[0]
			if (csvFirst == "# INCOMPLETE REPORT: not every frame of the captures was analysed") != (len(c.want) > 0) {
				t.Errorf("csv starts %q", csvFirst)
			}
			for _, why := range c.want {
				if !strings.Contains(out["csv"], "# incomplete: "+why+"\n") {
					t.Errorf("csv lacks %q", why)
				}
			}
			cr := csv.NewReader(strings.NewReader(out["csv"]))
			cr.Comment = '#'
			rows, err := cr.ReadAll()
			if err != nil || len(rows) < 1+len(rep.Result.Flows) || strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
				t.Errorf("csv rows %d, %v", len(rows), err)
			}
			// JSON: complete, the reasons, every capture's status, the caveat.
			var doc struct {
				Complete   bool     `json:"complete"`
				Incomplete []string `json:"incomplete"`
				Captures   []struct {
					Status string  `json:"status"`
					Offset *int64  `json:"offset"`
					Frame  *uint64 `json:"frame"`
				} `json:"captures"`
				Missing []struct {
					Caveat string `json:"caveat"`
				} `json:"missing"`
			}
			if err := json.Unmarshal([]byte(out["json"]), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Complete != (len(c.want) == 0) || strings.Join(doc.Incomplete, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("json complete %v, incomplete %q", doc.Complete, doc.Incomplete)
			}
			for i, jc := range doc.Captures {
				rc := rep.Captures[i]
				stopped := rc.Status == StatusCutShort || rc.Status == StatusDamaged || rc.Status == StatusUnreadable && rc.Frame > 0
				if jc.Status != rc.Status || (jc.Offset != nil) != stopped || stopped && (*jc.Offset != rc.Offset || *jc.Frame != rc.Frame) {
					t.Errorf("json capture %d: %+v, want %+v", i, jc, rc)
				}
			}
			for _, m := range doc.Missing {
				if (m.Caveat != "") != (len(c.want) > 0) {
					t.Errorf("json missing caveat %q", m.Caveat)
				}
			}
		})
	}
}

// escapeFor is a reason as format f writes it.
func escapeFor(f, s string) string {
	switch f {
	case "md":
		return mdCell(s, false)
	case "html":
		return strings.NewReplacer(`&`, "&amp;", `"`, "&#34;", `'`, "&#39;", "<", "&lt;", ">", "&gt;").Replace(s)
	}
	return s
}

// TestLimitsInEveryFormat: what --max-connections and --max-services cost
// is in every format, not only on a terminal.
func TestLimitsInEveryFormat(t *testing.T) {
	rep := testReport(t)
	rep.Limits = Limits{MaxConnections: 1000, EvictedConnections: 17, MaxServices: 2000, UnaggregatedServices: 5, UnaggregatedConnections: 9}
	out := renderAll(t, rep)
	for _, f := range []string{"txt", "md", "html"} {
		for _, want := range []string{"--max-connections", "17 connections ended early", "--max-services", "5 services (9 connections) not kept"} {
			if !strings.Contains(out[f], want) {
				t.Errorf("%s lacks %q", f, want)
			}
		}
	}
	var doc struct {
		Limits map[string]any `json:"limits"`
	}
	if err := json.Unmarshal([]byte(out["json"]), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"evicted_connections": 17.0, "unaggregated_services": 5.0, "unaggregated_connections": 9.0, "max_connections": 1000.0, "max_services": 2000.0}
	for k, v := range want {
		if doc.Limits[k] != v {
			t.Errorf("json limits.%s = %v, want %v", k, doc.Limits[k], v)
		}
	}
	if !strings.Contains(out["csv"], "# limits: evicted_connections=17 (max_connections=1000), unaggregated_services=5, unaggregated_connections=9 (max_services=2000)\n") {
		t.Errorf("csv lacks the limits:\n%s", out["csv"])
	}
	// Connections ended early leave the report complete, but the CSV
	// still says what the limit did; within every limit it says nothing.
	for _, c := range []struct {
		limits Limits
		want   string
	}{
		{Limits{MaxConnections: 1000, EvictedConnections: 17, MaxServices: 2000}, "# capture: pilot.pcap: complete\n# limits: evicted_connections=17 (max_connections=1000), unaggregated_services=0, unaggregated_connections=0 (max_services=2000)\nkind,"},
		{Limits{MaxConnections: 1000, MaxServices: 2000, EvidenceMax: 3, EvidenceNotWritten: 4}, "# limits: evicted_connections=0 (max_connections=1000), unaggregated_services=0, unaggregated_connections=0 (max_services=2000), evidence_not_written=4 (evidence_max=3)\nkind,"},
		{Limits{MaxConnections: 1000, MaxServices: 2000}, "kind,"},
	} {
		rep.Limits = c.limits
		var b bytes.Buffer
		if err := rep.CSV(&b); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(b.String(), c.want) && !strings.Contains(b.String(), "\n"+c.want) || strings.Contains(b.String(), "INCOMPLETE") {
			t.Errorf("limits %+v: csv starts\n%.400s\nwant %q", c.limits, b.String(), c.want)
		}
		if c.want == "kind," && !strings.HasPrefix(b.String(), "kind,") {
			t.Errorf("a report within its limits has comment lines:\n%.300s", b.String())
		}
	}
}

// TestSummaryCountsAgree: "documented" counts the same services in every
// format (blocked documented services are counted as blocked only), and
// the findings count is the same everywhere.
func TestSummaryCountsAgree(t *testing.T) {
	rep := testReport(t)
	out := renderAll(t, rep)
	var doc struct {
		Summary struct {
			Documented, Blocked, Findings int
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out["json"]), &doc); err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(strings.NewReader(out["csv"]))
	cr.Comment = '#'
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	csvDoc, csvBlocked := 0, 0
	for _, row := range rows[1:] {
		switch row[csvColumn("kind")] {
		case CSVDocumented:
			csvDoc++
		case CSVBlocked:
			csvBlocked++
		}
	}
	c := rep.Result.Counts()
	cell := func(f, label string) int {
		re := map[string]*regexp.Regexp{
			"txt":  regexp.MustCompile(`\n ` + regexp.QuoteMeta(label) + ` +(\d+) `),
			"md":   regexp.MustCompile(`\| ` + regexp.QuoteMeta(label) + ` \| (\d+) \|`),
			"html": regexp.MustCompile(`<td>` + regexp.QuoteMeta(label) + `</td><td>(\d+)</td>`),
		}[f]
		m := re.FindStringSubmatch(out[f])
		if m == nil {
			t.Fatalf("%s: no %q row", f, label)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	// The audit counts blocked services among the documented ones; the
	// report's "documented" leaves them to "blocked".
	if doc.Summary.Documented != c.Documented-c.Blocked || csvDoc != doc.Summary.Documented || doc.Summary.Blocked != c.Blocked ||
		csvBlocked != c.Blocked || c.Blocked == 0 {
		t.Errorf("documented: json %d, csv %d; blocked: json %d, csv %d; audit %+v", doc.Summary.Documented, csvDoc, doc.Summary.Blocked, csvBlocked, c)
	}
	for _, f := range []string{"txt", "md", "html"} {
		if got := cell(f, "Documented services"); got != doc.Summary.Documented {
			t.Errorf("%s: documented %d, json %d", f, got, doc.Summary.Documented)
		}
		if got := cell(f, "Blocked documented services"); got != doc.Summary.Blocked {
			t.Errorf("%s: blocked %d, json %d", f, got, doc.Summary.Blocked)
		}
	}
}

// TestFindingCountOnce: a finding of two kinds (undocumented, and its
// waiver expired) is counted once, whichever of its kinds --fail-on names.
func TestFindingCountOnce(t *testing.T) {
	rep := testReportWaivers(t, `
waivers:
  - {server: 192.0.2.20, proto: tcp, port: 22, reason: admin access, ticket: CHG-1, expires: 2026-01-31}
  - {rule: c-usb, reason: no USB in the pilot, ticket: CHG-2, expires: 2026-01-31}
`)
	n := rep.Result.Counts()
	if n.Undocumented != 2 || n.ExpiredWaivers != 2 || n.MissingOptional != 1 || n.Missing != 0 {
		t.Fatalf("test report counts %+v: want 2 undocumented, 2 expired waivers, 1 optional missing", n)
	}
	for _, c := range []struct {
		failOn []string
		want   int
	}{
		{[]string{KindUndocumented}, 2},
		{[]string{KindExpiredWaiver}, 2},                      // the SSH service and the USB rule
		{[]string{KindUndocumented, KindExpiredWaiver}, 3},    // 2 undocumented + the USB rule; SSH once
		{[]string{KindOptionalMissing, KindExpiredWaiver}, 2}, // USB once
		{Kinds, n.Undocumented + n.Blocked + n.MissingOptional + n.Sweeps},
		{[]string{KindMissing, KindBlocked, KindOptionalMissing}, n.Blocked + 1}, // no expired-waiver: unchanged
		{[]string{KindUndocumented, KindBlocked, KindExpiredWaiver}, 2 + n.Blocked + 1},
	} {
		rep.FailOn = c.failOn
		if got := rep.FindingCount(); got != c.want {
			t.Errorf("FindingCount(%v) = %d, want %d", c.failOn, got, c.want)
		}
	}
}

// TestSummaryFailOnNone: the summary's findings row names the kinds
// --fail-on counted, and says none for none, not an empty "--fail-on ".
func TestSummaryFailOnNone(t *testing.T) {
	rep := testReport(t)
	for _, tc := range []struct {
		failOn []string
		want   string
	}{
		{nil, "Findings (--fail-on none)"},
		{[]string{"undocumented", "blocked"}, "Findings (--fail-on undocumented,blocked)"},
	} {
		rep.FailOn = tc.failOn
		if got := rep.SummaryTable().Rows; got[len(got)-1][0] != tc.want {
			t.Errorf("--fail-on %q: row %q, want %q", tc.failOn, got[len(got)-1][0], tc.want)
		}
	}
}
