package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/catalog"
	"github.com/jedib0t/go-pretty/v6/text"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const testInventory = `
hosts:
  - {name: client1, addresses: [192.0.2.1], roles: [T Client]}
  - {name: broker1, addresses: [192.0.2.10, "2001:db8::10"], roles: [T Broker]}
  - {name: agent1, addresses: [192.0.2.20], roles: [T Agent]}
`

func testReport(t *testing.T) *Report {
	t.Helper()
	return testReportWaivers(t, "")
}

// testReportWaivers is testReport with the waivers of a waiver file.
func testReportWaivers(t *testing.T, waiverYAML string) *Report {
	t.Helper()
	// A file in testdata, so the golden reports cite a stable path.
	cat, err := catalog.Load("testdata/site.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Parse("inventory.yaml", []byte(testInventory), cat)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	svc := func(c, s string, proto uint8, port uint16, est, rej, un int, frame uint64) audit.Service {
		return audit.Service{Client: netip.MustParseAddr(c), Server: netip.MustParseAddr(s), Proto: proto, Port: port,
			Connections: est + rej + un, Established: est, Rejected: rej, Unanswered: un, Packets: uint64(10 * (est + rej + un)),
			Bytes: uint64(1000 * (est + 1)), FirstSeen: t0.Add(time.Duration(frame) * time.Second), LastSeen: t0.Add(time.Duration(frame+5) * time.Second),
			FirstFrame: audit.Frame{File: "pilot.pcap", Frame: frame}}
	}
	services := []audit.Service{
		svc("192.0.2.1", "192.0.2.10", 6, 443, 3, 0, 0, 1),
		svc("192.0.2.1", "2001:db8::10", 6, 8443, 1, 0, 0, 7),
		svc("192.0.2.1", "192.0.2.20", 17, 4172, 0, 0, 2, 12),
		svc("192.0.2.1", "192.0.2.20", 6, 4172, 0, 1, 0, 20),
		svc("198.51.100.9", "192.0.2.20", 6, 22, 1, 0, 0, 31),
		svc("fe80::1", "ff02::1", 58, 135, 0, 0, 1, 40),
		svc("192.0.2.1", "2001:db8::10", 6, 443, 0, 1, 0, 50),
	}
	// Who blocked: nothing came back for udp/4172, a middlebox reset
	// tcp/4172 (its RST's TTL is not the agent's), a firewall refused
	// tcp/443 to the broker's IPv6 address with ICMP admin-prohibited.
	services[2].ClientPackets = 20
	services[3].RSTs, services[3].RSTTTL, services[3].ServerTTLMin, services[3].ServerTTLMax = 1, 250, 61, 61
	services[6].ICMPErrors, services[6].ICMPFrom, services[6].ICMPType, services[6].ICMPCode = 1, netip.MustParseAddr("2001:db8::fe"), 1, 1
	services[6].ICMPName = "DestinationUnreachable(AdminProhibited)"
	var waivers *audit.Waivers
	if waiverYAML != "" {
		if waivers, err = audit.ParseWaivers("waivers.yaml", []byte(waiverYAML), inv, cat); err != nil {
			t.Fatal(err)
		}
	}
	result := audit.Audit(services, inv, cat, audit.Options{Products: []string{"custom"}, Now: t0, Waivers: waivers})
	result.AddSweeps([]audit.Sweep{
		{Kind: "hosts", Client: netip.MustParseAddr("198.51.100.9"), Proto: 6, Ports: []catalog.PortRange{{Lo: 445, Hi: 445}}, Servers: 65536,
			ServerLo: netip.MustParseAddr("10.0.0.0"), ServerHi: netip.MustParseAddr("10.0.255.255"),
			Connections: 65536, Established: 12, Rejected: 40000, Unanswered: 25524, Packets: 131000, Bytes: 5240000,
			FirstSeen: t0.Add(60 * time.Second), LastSeen: t0.Add(900 * time.Second), FirstFrame: audit.Frame{File: "pilot.pcap", Frame: 60}},
		{Kind: "ports", Client: netip.MustParseAddr("198.51.100.9"), Server: netip.MustParseAddr("192.0.2.10"), Proto: 6,
			Ports: []catalog.PortRange{{Lo: 1, Hi: 1024}, {Lo: 3389, Hi: 3389}}, Servers: 1,
			ServerLo: netip.MustParseAddr("192.0.2.10"), ServerHi: netip.MustParseAddr("192.0.2.10"), Connections: 1025, Established: 2, Rejected: 1023,
			Packets: 2050, Bytes: 82000, FirstSeen: t0.Add(61 * time.Second), LastSeen: t0.Add(62 * time.Second), FirstFrame: audit.Frame{File: "pilot.pcap", Frame: 61}},
	}, inv)
	waivers.ApplySweeps(result, t0)
	return &Report{
		Tool: "flowaudit", Version: "test", Generated: t0,
		Captures: []Capture{{Path: "pilot.pcap", SHA256: strings.Repeat("ab", 32), Format: "pcap", Packets: 123, Bytes: 45678, First: t0, Last: t0.Add(time.Minute),
			Status: StatusComplete, Analysed: 119}},
		Limits:    Limits{MaxConnections: 262144, MaxServices: 1048576},
		Inventory: "inventory.yaml", InventorySHA: strings.Repeat("cd", 32),
		CatalogFiles: []string{"catalog/data/shared.yaml", "t.yaml"},
		Products:     []string{"custom"},
		Hosts:        inv.Hosts, Result: result, FailOn: []string{KindUndocumented, KindBlocked, KindSweep},
		Skipped: map[string]uint64{"not-ip": 4}, Packets: 123,
	}
}

func TestFormatsGolden(t *testing.T) {
	rep := testReport(t)
	formats := []goldenFormat{
		{"report.txt", func(b *bytes.Buffer) error { return rep.Text(b, TextOptions{}) }},
		{"report.md", func(b *bytes.Buffer) error { return rep.Markdown(b) }},
		{"report.json", func(b *bytes.Buffer) error { return rep.JSON(b) }},
		{"report.csv", func(b *bytes.Buffer) error { return rep.CSV(b) }},
		{"report.html", func(b *bytes.Buffer) error { return rep.HTML(b) }},
	}
	checkGolden(t, formats)
}

// TestWaivedSweepsGolden: a sweep a waiver covers is listed as waived in
// every format (the Waived table, CSV kind waived, JSON status waived with
// its waiver) and is no finding; a sweep whose waiver expired stays a
// sweep finding and says so.
func TestWaivedSweepsGolden(t *testing.T) {
	rep := testReportWaivers(t, `
waivers:
  - {client: 198.51.100.9, server: 10.0.0.0/16, proto: tcp, port: 445, reason: vulnerability scanner, ticket: CHG-900}
  - {client: 198.51.100.9, server: broker1, proto: tcp, reason: port scan of the broker, ticket: CHG-901, expires: 2026-10-31}
`)
	c := rep.Result.Counts()
	if c.Sweeps != 1 || c.Waived != 1 || c.ExpiredWaivers != 1 {
		t.Fatalf("counts %+v: want 1 sweep, 1 waived, 1 expired waiver", c)
	}
	if len(rep.Result.UnusedWaivers) != 0 {
		t.Errorf("unused waivers %v: both were used by sweeps", rep.Result.UnusedWaivers)
	}
	base := testReport(t)
	rep.FailOn = []string{KindSweep}
	base.FailOn = []string{KindSweep}
	if got, was := rep.FindingCount(), base.FindingCount(); got != was-1 {
		t.Errorf("--fail-on sweep: %d findings with the waivers, %d without: the waived sweep must not count", got, was)
	}
	rep.FailOn = []string{KindExpiredWaiver}
	if got := rep.FindingCount(); got != 1 {
		t.Errorf("--fail-on expired-waiver: %d findings, want 1 (the port sweep)", got)
	}
	rep.FailOn = []string{KindUndocumented, KindBlocked, KindSweep}
	var j bytes.Buffer
	if err := rep.JSON(&j); err != nil {
		t.Fatal(err)
	}
	doc, err := ReadDocument("report.json", &j)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Sweeps) != 2 {
		t.Fatalf("JSON has %d sweeps, want both", len(doc.Sweeps))
	}
	for _, w := range doc.Sweeps {
		switch {
		case w.Kind == "hosts" && (w.Status != "waived" || w.Waiver == nil || w.Waiver.Ticket != "CHG-900" || w.Waiver.Expired):
			t.Errorf("hosts sweep: status %q waiver %+v, want waived by CHG-900", w.Status, w.Waiver)
		case w.Kind == "ports" && (w.Status != "sweep" || w.Waiver == nil || w.Waiver.Ticket != "CHG-901" || !w.Waiver.Expired):
			t.Errorf("ports sweep: status %q waiver %+v, want sweep with CHG-901 expired", w.Status, w.Waiver)
		}
	}
	// diff reads the waiver back from the JSON.
	for _, w := range doc.DiffReport("report.json").Sweeps {
		if w.Kind == "hosts" && (!w.Waived || w.Waiver != "CHG-900" || w.WaiverExpired) ||
			w.Kind == "ports" && (w.Waived || w.Waiver != "CHG-901" || !w.WaiverExpired) {
			t.Errorf("diff's view of the %s sweep: %+v", w.Kind, w)
		}
	}
	checkGolden(t, []goldenFormat{
		{"waived-sweeps.txt", func(b *bytes.Buffer) error { return rep.Text(b, TextOptions{}) }},
		{"waived-sweeps.md", func(b *bytes.Buffer) error { return rep.Markdown(b) }},
		{"waived-sweeps.json", func(b *bytes.Buffer) error { return rep.JSON(b) }},
		{"waived-sweeps.csv", func(b *bytes.Buffer) error { return rep.CSV(b) }},
		{"waived-sweeps.html", func(b *bytes.Buffer) error { return rep.HTML(b) }},
	})
}

// goldenFormat is one rendering checked against testdata/<name>.
type goldenFormat struct {
	name  string
	write func(*bytes.Buffer) error
}

// checkGolden renders each format twice (the bytes must be equal) and
// compares it with its golden file in testdata/, rewritten with -update.
func checkGolden(t *testing.T, formats []goldenFormat) {
	t.Helper()
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := f.write(&a); err != nil {
				t.Fatal(err)
			}
			if err := f.write(&b); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatal("two renderings differ: output is not deterministic")
			}
			golden := filepath.Join("testdata", f.name)
			if *update {
				if err := os.WriteFile(golden, a.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./analyzer/report -update)", err)
			}
			if !bytes.Equal(a.Bytes(), want) {
				t.Errorf("%s differs from the golden file; rerun with -update if intended\n%s", f.name, a.String())
			}
		})
	}
}

// TestJSONSchema checks the names scripts rely on, field by field.
func TestJSONSchema(t *testing.T) {
	var buf bytes.Buffer
	if err := testReport(t).JSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	need := map[string][]string{
		"hosts":    {"name", "addresses", "roles"},
		"captures": {"path", "sha256", "packets", "first", "last"},
		"flows": {"client", "server", "proto", "port", "client_roles", "server_roles", "status", "outcome", "connections",
			"packets", "bytes", "first_seen", "last_seen", "first_frame", "filter", "rules"},
		"missing": {"rule", "product", "from_role", "to_role", "proto", "ports", "optional", "clients", "servers"},
	}
	for list, fields := range need {
		items, ok := doc[list].([]any)
		if !ok || len(items) == 0 {
			t.Errorf("%s: missing or empty", list)
			continue
		}
		for _, it := range items {
			m := it.(map[string]any)
			for _, f := range fields {
				if _, ok := m[f]; !ok {
					t.Errorf("%s entry lacks %q: %v", list, f, m)
				}
			}
		}
	}
	flows := doc["flows"].([]any)
	byKey := map[string]map[string]any{}
	for _, f := range flows {
		m := f.(map[string]any)
		if k := m["server"].(string) + "/" + m["proto"].(string); byKey[k] == nil { // the first of a server and protocol
			byKey[k] = m
		}
	}
	if f := byKey["2001:db8::10/tcp"]; f["status"] != "undocumented" || f["port"].(float64) != 8443 {
		t.Errorf("ipv6 flow = %v", f)
	}
	if f := byKey["192.0.2.20/udp"]; f["status"] != "documented" || f["outcome"] != "unanswered" || f["blocked"] != true {
		t.Errorf("blocked flow = %v", f)
	}
	rules := byKey["192.0.2.10/tcp"]["rules"].([]any)
	if len(rules) != 1 || rules[0].(map[string]any)["id"] != "c-login" {
		t.Errorf("rules = %v", rules)
	}
	missing := doc["missing"].([]any)
	var ids []string
	for _, m := range missing {
		mm := m.(map[string]any)
		ids = append(ids, mm["rule"].(string)+"/"+mm["proto"].(string))
		if mm["rule"] == "a-vrrp" {
			t.Error("a rule between two hosts of one role needs two hosts")
		}
	}
	if strings.Join(ids, " ") != "c-usb/tcp" {
		t.Errorf("missing = %v, want only the optional USB rule (4172 was attempted)", ids)
	}
}

func TestFilter(t *testing.T) {
	f := func(c, s string, proto uint8, port uint16) *audit.Flow {
		return &audit.Flow{Service: &audit.Service{Client: netip.MustParseAddr(c), Server: netip.MustParseAddr(s), Proto: proto, Port: port,
			FirstFrame: audit.Frame{File: "pilot.pcap", Frame: 7}}}
	}
	fromRecords := f("192.0.2.1", "192.0.2.10", 6, 443)
	fromRecords.FirstFrame = audit.Frame{File: "conn.log"} // a flow record has no frame, so no filter
	tests := []struct {
		flow *audit.Flow
		want string
	}{
		{fromRecords, ""},
		{f("192.0.2.1", "192.0.2.10", 6, 443), "(ip.src==192.0.2.1 && ip.dst==192.0.2.10 && tcp.dstport==443) || (ip.src==192.0.2.10 && ip.dst==192.0.2.1 && tcp.srcport==443)"},
		{f("2001:db8::1", "2001:db8::2", 17, 4172), "(ipv6.src==2001:db8::1 && ipv6.dst==2001:db8::2 && udp.dstport==4172) || (ipv6.src==2001:db8::2 && ipv6.dst==2001:db8::1 && udp.srcport==4172)"},
		{f("192.0.2.30", "224.0.0.18", 112, 0), "((ip.src==192.0.2.30 && ip.dst==224.0.0.18) || (ip.src==224.0.0.18 && ip.dst==192.0.2.30)) && ip.proto==112"},
		{f("192.0.2.1", "192.0.2.2", 1, 8), "((ip.src==192.0.2.1 && ip.dst==192.0.2.2) || (ip.src==192.0.2.2 && ip.dst==192.0.2.1)) && icmp"},
	}
	for _, tt := range tests {
		if got := Filter(tt.flow); got != tt.want {
			t.Errorf("Filter = %s\nwant     %s", got, tt.want)
		}
	}
}

func TestMarkdownEscapes(t *testing.T) {
	if got := mdCell("a|b_c", false); got != `a\|b\_c` {
		t.Errorf("mdCell = %q", got)
	}
	if got := mdCell("x || y", true); got != "`x \\|\\| y`" {
		t.Errorf("code cell = %q", got)
	}
}

func TestFindingCount(t *testing.T) {
	rep := testReport(t)
	tests := []struct {
		failOn []string
		want   int
	}{
		{[]string{KindUndocumented}, 2},
		{[]string{KindBlocked}, 3},
		{[]string{KindUndocumented, KindBlocked}, 5},
		{[]string{KindOptionalMissing}, 1},
		{[]string{KindSweep}, 2},
		{[]string{KindUndocumented, KindBlocked, KindSweep}, 7},
		{nil, 0},
	}
	for _, tt := range tests {
		rep.FailOn = tt.failOn
		if got := rep.FindingCount(); got != tt.want {
			t.Errorf("FindingCount(%v) = %d, want %d", tt.failOn, got, tt.want)
		}
	}
}

// The CSV carries every finding, told apart by its kind column, with the
// rule ids, descriptions and sources.
func TestCSVKinds(t *testing.T) {
	rep := testReport(t)
	cat, err := catalog.Load("testdata/site.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Parse("inventory.yaml", []byte(testInventory), cat)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := audit.ParseWaivers("w.yaml", []byte("waivers:\n"+
		"  - {client: 198.51.100.9, port: 22, reason: jump host, ticket: CHG-1}\n"+
		"  - {rule: c-usb, reason: no USB in the pilot, ticket: CHG-2}\n"), inv, cat)
	if err != nil {
		t.Fatal(err)
	}
	var services []audit.Service
	for _, f := range rep.Result.Flows {
		services = append(services, *f.Service)
	}
	sweeps := rep.Result.Sweeps
	rep.Result = audit.Audit(services, inv, cat, audit.Options{Products: []string{"custom"}, Now: rep.Generated, Waivers: ws})
	rep.Result.Sweeps = sweeps
	if len(sweeps) == 0 {
		t.Fatal("the test report has no sweeps")
	}
	rep.Result.Missing = append(rep.Result.Missing, &audit.Missing{Rule: cat.Rule("c-login"), Proto: 6, Clients: inv.Hosts[:1], Servers: inv.Hosts[1:2]})
	rep.Result.Unverifiable = append(rep.Result.Unverifiable, &audit.Unverifiable{Rule: cat.Rule("a-vrrp"), Reason: "no address"})

	var buf bytes.Buffer
	if err := rep.CSV(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := func(row []string, name string) string { return row[csvColumn(name)] }
	if !slices.Equal(rows[0], CSVHeader) {
		t.Fatalf("header %q", rows[0])
	}
	want := []struct {
		kind, rules, descriptions, client, server, port, waiver string
	}{
		{"undocumented", "", "", "192.0.2.1", "2001:db8::10", "8443", ""},
		{"blocked", "c-display", "Display | protocol", "192.0.2.1", "192.0.2.20", "4172", ""},
		{"blocked", "c-display", "Display | protocol", "192.0.2.1", "192.0.2.20", "4172", ""},
		{"blocked", "c-login", "Login", "192.0.2.1", "2001:db8::10", "443", ""},
		{"missing", "c-login", "Login", "", "", "443", ""},
		{"unverifiable", "a-vrrp", "VRRP", "", "", "", ""},
		{"sweep", "", "", "198.51.100.9", "", "445", ""},
		{"sweep", "", "", "198.51.100.9", "192.0.2.10", "1-1024, 3389", ""},
		{"waived", "", "", "198.51.100.9", "192.0.2.20", "22", "CHG-1: jump host"},
		{"waived", "c-usb", "USB redirection", "", "", "32111", "CHG-2: no USB in the pilot"},
		{"documented", "c-login", "Login", "192.0.2.1", "192.0.2.10", "443", ""},
	}
	if len(rows)-1 != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(rows)-1, len(want), buf.String())
	}
	for i, w := range want {
		row := rows[i+1]
		got := []string{col(row, "kind"), col(row, "rules"), col(row, "descriptions"), col(row, "client"), col(row, "server"), col(row, "port"), col(row, "waiver")}
		exp := []string{w.kind, w.rules, w.descriptions, w.client, w.server, w.port, w.waiver}
		if !slices.Equal(got, exp) {
			t.Errorf("row %d = %q, want %q", i+1, got, exp)
		}
		if w.rules != "" && !strings.HasPrefix(col(row, "sources"), "site rule testdata/site.yaml:") {
			t.Errorf("row %d: sources %q", i+1, col(row, "sources"))
		}
	}
	for _, row := range rows[1:] {
		if k := col(row, "kind"); k == "missing" || k == "unverifiable" {
			if col(row, "client_roles") == "" || col(row, "server_roles") == "" {
				t.Errorf("rule row without roles: %q", row)
			}
		}
	}
}

func TestShortenAndBrief(t *testing.T) {
	for _, tt := range []struct {
		in    string
		width int
		want  string
	}{
		{"RAS Secure Gateway (Normal mode)", 40, "RAS Secure Gateway (Normal mode)"},
		{"RAS Secure Gateway (Normal mode)", 20, "RAS Secure Gateway…"},
		{"RAS Secure Gateway (Normal mode)", 8, "RAS Sec…"},
		{"2001:db8:85a3::8a2e:370:7334", 12, "2001:db8:85…"},
		{"no role → RAS RD Session Host Agent", 12, "no role…"},
		{"ユーザーデバイス", 7, "ユーザ…"},
		{"abc", 0, ""},
	} {
		if got := shorten(tt.in, tt.width); got != tt.want {
			t.Errorf("shorten(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"cs01 (192.0.2.20)", "cs01"},
		{"rejected (1 rejected, 0 unanswered)", "rejected"},
		{"192.0.2.1", "192.0.2.1"},
		{"a (b (c))", "a"},
		{"(x)", "(x)"},
	} {
		if got := brief(tt.in); got != tt.want {
			t.Errorf("brief(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The terminal table fits the terminal: at 80 and 120 columns every line
// fits and every finding is one line; --wide has every column, and no
// rule id or hash is split across lines in either.
func TestTextWidth(t *testing.T) {
	rep := testReport(t)
	s := rep.Split()
	for _, tt := range []struct {
		width int
		wide  bool
	}{{80, false}, {120, false}, {80, true}, {120, true}, {200, false}} {
		t.Run(fmt.Sprintf("%d wide=%v", tt.width, tt.wide), func(t *testing.T) {
			var buf bytes.Buffer
			if err := rep.Text(&buf, TextOptions{Width: tt.width, Wide: tt.wide}); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			lines := strings.Split(out, "\n")
			if !tt.wide {
				for i, l := range lines {
					if w := text.StringWidthWithoutEscSequences(l); w > tt.width {
						t.Errorf("line %d is %d columns wide:\n%s", i+1, w, l)
					}
				}
				// one line per finding: the table under each title has
				// exactly as many body lines as rows
				for _, sec := range []struct {
					title string
					rows  int
				}{{"Undocumented services", len(s.Undocumented)}, {"Blocked documented services", len(s.Blocked)},
					{"Sweeps", len(rep.Result.Sweeps)}, {"Documented services", len(s.Documented)}} {
					if n := tableBodyLines(lines, sec.title); n != sec.rows {
						t.Errorf("%s: %d lines for %d rows:\n%s", sec.title, n, sec.rows, out)
					}
				}
			}
			// words that must never be split: they appear whole
			words := []string{rep.InventorySHA, rep.Captures[0].SHA256}
			for _, f := range rep.Result.Flows {
				for _, r := range f.Rules {
					words = append(words, r.ID)
				}
			}
			for _, w := range words {
				shown := strings.Contains(out, w)
				if tt.wide && !shown {
					t.Errorf("--wide at %d lacks %q whole", tt.width, w)
				}
				if !tt.wide && !shown && strings.Contains(out, w[:min(len(w), 8)]) {
					t.Errorf("%q is split or cut", w)
				}
			}
			hasFilter := strings.Contains(out, "ip.src==")
			if hasFilter != tt.wide {
				t.Errorf("filters shown: %v, want %v", hasFilter, tt.wide)
			}
		})
	}
}

// tableBodyLines counts the lines of the table under title: those after
// its header rule up to the next blank line.
func tableBodyLines(lines []string, title string) int {
	for i, l := range lines {
		if !strings.HasPrefix(l, title) {
			continue
		}
		n := 0
		for _, b := range lines[i+1:] {
			if strings.TrimSpace(b) == "" {
				break
			}
			n++
		}
		if n <= 2 {
			return 0 // "none"
		}
		return n - 2 // the header and its rule
	}
	return -1
}

// Every rule a report names is cited, with its document, in Markdown,
// HTML and --wide; the default terminal view leaves the long text out.
func TestRulesCited(t *testing.T) {
	rep := testReport(t)
	tbl := rep.RulesTable()
	var ids []string
	for _, row := range tbl.Rows {
		ids = append(ids, row[0])
		if !strings.HasPrefix(row[2], "site rule testdata/site.yaml:") {
			t.Errorf("%s: source %q", row[0], row[2])
		}
	}
	// c-login and c-display document or block services, c-usb is never
	// seen
	if want := []string{"c-display", "c-login", "c-usb"}; !slices.Equal(ids, want) {
		t.Errorf("rules cited %v, want %v", ids, want)
	}
	for _, tt := range []struct {
		name  string
		write func(*bytes.Buffer) error
		cites bool
	}{
		{"markdown", func(b *bytes.Buffer) error { return rep.Markdown(b) }, true},
		{"html", func(b *bytes.Buffer) error { return rep.HTML(b) }, true},
		{"table --wide", func(b *bytes.Buffer) error { return rep.Text(b, TextOptions{Wide: true}) }, true},
		{"table", func(b *bytes.Buffer) error { return rep.Text(b, TextOptions{}) }, false},
	} {
		var b bytes.Buffer
		if err := tt.write(&b); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(b.String(), "Rules cited"); got != tt.cites {
			t.Errorf("%s: rules cited shown %v, want %v", tt.name, got, tt.cites)
		}
	}
}

// Write gives each format its renderer's bytes, and an unknown format is
// an error naming the formats.
func TestWriteFormats(t *testing.T) {
	rep := testReport(t)
	d := testDiff()
	for _, f := range Formats {
		var got, want bytes.Buffer
		if err := rep.Write(&got, f, TextOptions{}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var err error
		switch f {
		case "table":
			err = rep.Text(&want, TextOptions{})
		case "markdown":
			err = rep.Markdown(&want)
		case "json":
			err = rep.JSON(&want)
		case "csv":
			err = rep.CSV(&want)
		case "html":
			err = rep.HTML(&want)
		case "dot":
			err = rep.Graph().DOT(&want)
		}
		if err != nil || want.Len() == 0 || !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: Write gives %d bytes, the renderer %d (%v)", f, got.Len(), want.Len(), err)
		}
	}
	for _, f := range DiffFormats {
		var got bytes.Buffer
		if err := d.Write(&got, f, TextOptions{}); err != nil || got.Len() == 0 {
			t.Errorf("diff %s: %d bytes, %v", f, got.Len(), err)
		}
	}
	if err := rep.Write(io.Discard, "xml", TextOptions{}); err == nil || !strings.Contains(err.Error(), "table, markdown") {
		t.Errorf("report xml: %v", err)
	}
	if err := d.Write(io.Discard, "csv", TextOptions{}); err == nil || !strings.Contains(err.Error(), "table, markdown, json, html") {
		t.Errorf("diff csv: %v", err)
	}
}

// TestTextRowsNotMade: the terminal table made only from the rows it
// shows (tablesUpTo, the rest counted in More) is byte for byte the table
// made from every row and cut when written, for every row limit against
// the test report's tables (3 undocumented, 2 blocked, 2 sweeps, ...),
// wide or not, with the "… and N more rows" lines.
func TestTextRowsNotMade(t *testing.T) {
	rep := testReport(t)
	for _, maxRows := range []int{-1, 1, 2, 3, 5} {
		for _, wide := range []bool{false, true} {
			o := TextOptions{MaxRows: maxRows, Wide: wide}
			var want, got bytes.Buffer
			writeTextTables(&want, rep.AllTables(), o)
			writeTextTables(&got, rep.tablesUpTo(o.rowLimit()), o)
			if got.String() != want.String() {
				t.Errorf("MaxRows %d, wide %v:\n%s\nwant:\n%s", maxRows, wide, got.String(), want.String())
			}
			if maxRows == 1 && !strings.Contains(got.String(), "… and 1 more rows") {
				t.Errorf("MaxRows 1: no row left out:\n%s", got.String())
			}
		}
	}
	all := rep.tablesUpTo(-1)
	for i, tb := range rep.tablesUpTo(1) {
		if tb.More != len(all[i].Rows)-len(tb.Rows) || len(tb.Rows) > 1 && tb.More > 0 {
			t.Errorf("%s: %d rows, %d more, of %d", tb.ID, len(tb.Rows), tb.More, len(all[i].Rows))
		}
	}
}

// TestPrepareSameOutput: a report prepared ahead of rendering (Prepare)
// is written byte for byte as one that is not, in every format, with and
// without waivers, and its captures may still change after Prepare; a
// caller reordering what Split returns does not change the next render.
func TestPrepareSameOutput(t *testing.T) {
	const waived = `
waivers:
  - {client: 198.51.100.9, server: 10.0.0.0/16, proto: tcp, port: 445, reason: vulnerability scanner, ticket: CHG-900}
  - {client: 198.51.100.9, server: broker1, proto: tcp, reason: port scan of the broker, ticket: CHG-901, expires: 2026-10-31}
  - {client: 192.0.2.1, server: agent1, proto: udp, port: 4172, reason: test, ticket: CHG-902}
`
	for _, waivers := range []string{"", waived} {
		plain, prepared := testReportWaivers(t, waivers), testReportWaivers(t, waivers)
		prepared.Captures = nil
		prepared.Prepare()
		prepared.Captures = plain.Captures
		s := prepared.Split()
		slices.Reverse(s.Undocumented)
		for _, f := range Formats {
			var want, got bytes.Buffer
			if err := plain.Write(&want, f, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := prepared.Write(&got, f, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			if want.Len() == 0 || !bytes.Equal(want.Bytes(), got.Bytes()) {
				t.Errorf("waivers %v, %s: prepared report differs (%d bytes, want %d)", waivers != "", f, got.Len(), want.Len())
			}
		}
		if prepared.FindingCount() != plain.FindingCount() || prepared.DocumentedCount() != plain.DocumentedCount() {
			t.Errorf("counts differ: %d/%d findings", prepared.FindingCount(), plain.FindingCount())
		}
	}
}
