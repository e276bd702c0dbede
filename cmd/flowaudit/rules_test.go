package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/firewall"
	"github.com/flowaudit/flowaudit/analyzer/firewall/firewalltest"
)

// rulesRequest is the JSON request, as much of it as the tests read.
type rulesRequest struct {
	Only    string `json:"only"`
	GroupBy string `json:"group_by"`
	Lines   []struct {
		Line       int
		Src        []string    `json:"source_addresses"`
		Dst        []string    `json:"destination_addresses"`
		DstObject  string      `json:"destination_object"`
		Proto      string      `json:"proto"`
		Ports      [][2]uint16 `json:"ports"`
		Status     []string    `json:"status"`
		RuleIDs    []string    `json:"rule_ids"`
		Justifying []struct {
			Rule   string
			Status string
		} `json:"justification"`
	} `json:"lines"`
	Waived  []struct{ Rule, Ticket string } `json:"waived"`
	Objects []struct{ Name, Kind string }   `json:"objects"`
}

func decodeRequest(t *testing.T, s string) *rulesRequest {
	t.Helper()
	var r rulesRequest
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("request is not JSON: %v\n%.500s", err, s)
	}
	return &r
}

func addrsContain(list []string, a string) bool {
	addr := netip.MustParseAddr(a)
	for _, s := range list {
		if s == "any" {
			return true
		}
		if p, err := netip.ParsePrefix(s); err == nil && p.Contains(addr) {
			return true
		}
		if b, err := netip.ParseAddr(s); err == nil && b == addr {
			return true
		}
	}
	return false
}

// covers says which line of the request lets the service through, or 0.
func (r *rulesRequest) covers(client, server, proto string, port *int) int {
	for _, l := range r.Lines {
		if l.Proto != proto || !addrsContain(l.Src, client) || !addrsContain(l.Dst, server) {
			continue
		}
		if port == nil {
			if len(l.Ports) == 0 {
				return l.Line
			}
			continue
		}
		for _, p := range l.Ports {
			if int(p[0]) <= *port && *port <= int(p[1]) {
				return l.Line
			}
		}
	}
	return 0
}

// rulesVariants are the ways each sample is checked: as the issue's
// done-when writes the command (inventory and capture alone), and with
// the sample's own site rules and waivers.
// Per host too: coverage must not depend on the grouping.
type rulesVariant struct {
	name       string
	flags      []string // analyze's and rules'
	rulesFlags []string // rules' alone
}

func rulesVariants(p samplePilot) []rulesVariant {
	return []rulesVariant{{"plain", nil, nil}, {"sample-flags", p.flags, nil}, {"by-host", p.flags, []string{"--group-by", "host"}}}
}

// TestRulesNeededCoversTheReport is the acceptance test: for each
// sample, every documented service the analyze report saw established and
// every blocked one has a line in `rules --only needed`, and no
// undocumented service has one.
func TestRulesNeededCoversTheReport(t *testing.T) {
	t.Chdir(sampleRoot)
	for _, p := range samplePilots {
		for _, v := range rulesVariants(p) {
			flags := v.flags
			t.Run(p.family+"/"+v.name, func(t *testing.T) {
				// With the sample's flags the analysis is the sample's golden
				// report (TestSampleReports holds it equal to a fresh one).
				var out, errb string
				if v.name == "plain" {
					args := append([]string{"analyze", "-i", p.dir() + "/inventory.yaml"}, flags...)
					_, out, errb = analyzeCmd(t, append(args, "--reproducible", "-f", "json", p.capture())...)
				} else {
					b, err := os.ReadFile(p.dir() + "/report.json")
					if err != nil {
						t.Fatal(err)
					}
					out = string(b)
				}
				rep := decodeSampleReport(t, out)
				if len(rep.Flows) == 0 {
					t.Fatalf("analyze gave no flows: %s", errb)
				}
				rargs := append(append([]string{"rules", "-i", p.dir() + "/inventory.yaml"}, flags...), v.rulesFlags...)
				code, out, errb := analyzeCmd(t, append(rargs, "--capture", p.capture(), "--only", "needed", "-f", "json")...)
				if code != exitOK {
					t.Fatalf("rules exit %d: %s", code, errb)
				}
				req := decodeRequest(t, out)
				if req.Only != "needed" || len(req.Lines) == 0 {
					t.Fatalf("only %q, %d lines", req.Only, len(req.Lines))
				}
				var observed, blocked, undocumented int
				for _, f := range rep.Flows {
					key := sampleFlowKey(f.Client, f.Server, f.Proto, f.Port)
					line := req.covers(f.Client, f.Server, f.Proto, f.Port)
					switch {
					case f.Status == "documented" && f.Blocked:
						blocked++
						if line == 0 {
							t.Errorf("blocked service %s has no line", key)
						}
					case f.Status == "documented":
						observed++
						if line == 0 {
							t.Errorf("documented service %s (%s) has no line", key, f.Outcome)
						}
					case len(f.Rules) == 0: // undocumented, waived or not
						undocumented++
						if line != 0 {
							t.Errorf("undocumented service %s is let through by line %d", key, line)
						}
					}
				}
				if observed == 0 || blocked == 0 || undocumented == 0 {
					t.Errorf("the sample should have each kind: %d observed, %d blocked, %d undocumented", observed, blocked, undocumented)
				}
				// Only observed and blocked rules are in the request.
				for _, l := range req.Lines {
					for _, j := range l.Justifying {
						if j.Status != "observed" && j.Status != "blocked" {
							t.Errorf("line %d: %s is %s", l.Line, j.Rule, j.Status)
						}
					}
				}
			})
		}
	}
}

// TestRulesFromReport: the analyze JSON report gives the same request as
// the capture it was made from.
func TestRulesFromReport(t *testing.T) {
	t.Chdir(sampleRoot)
	for _, p := range samplePilots {
		t.Run(p.family, func(t *testing.T) {
			base := append([]string{"rules", "-i", p.dir() + "/inventory.yaml"}, p.flags...)
			onlies := []string{"needed"}
			if p.family == "horizon" {
				onlies = append(onlies, "missing")
			}
			for _, only := range onlies {
				_, fromCapture, errb := analyzeCmd(t, append(base, "--capture", p.capture(), "--only", only, "-f", "nft")...)
				code, fromReport, errb2 := analyzeCmd(t, append(base, "--from-report", p.dir()+"/report.json", "--only", only, "-f", "nft")...)
				if code != exitOK {
					t.Fatalf("--from-report exit %d: %s %s", code, errb, errb2)
				}
				// The header names the evidence; the rest must be equal.
				strip := func(s string) string {
					var out []string
					for _, l := range strings.Split(s, "\n") {
						if !strings.HasPrefix(l, "# Evidence:") {
							out = append(out, l)
						}
					}
					return strings.Join(out, "\n")
				}
				if strip(fromCapture) != strip(fromReport) {
					t.Errorf("--only %s: --from-report differs from --capture\ncapture:\n%s\nreport:\n%s", only, fromCapture, fromReport)
				}
			}
		})
	}
}

func samplesWithFormat(t *testing.T, format string, extra ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	// The command (needed, per role), and the widest request (every
	// rule, per host).
	for _, p := range samplePilots {
		for _, v := range []struct{ only, group string }{{"needed", "role"}, {"all", "host"}} {
			args := append([]string{"rules", "-i", p.dir() + "/inventory.yaml", "--capture", p.capture(), "--only", v.only,
				"--group-by", v.group, "-f", format}, extra...)
			code, stdout, stderr := analyzeCmd(t, args...)
			if code != exitOK {
				t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, stderr)
			}
			out[p.family+"-"+v.only+"-by-"+v.group] = stdout
		}
	}
	return out
}

// TestRulesNFTAccepted: every sample's nft request passes `nft -c -f`.
func TestRulesNFTAccepted(t *testing.T) {
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("nft not installed (Debian package nftables; .ci/run installs it)")
	}
	t.Chdir(sampleRoot)
	dir := t.TempDir()
	for name, text := range samplesWithFormat(t, "nft") {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, name+".nft")
			if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			firewalltest.Check(t, "", "nft", "-c", "-f", file)
		})
	}
}

// TestRulesIPTablesAccepted: every sample's iptables request passes
// `iptables-restore --test`, and its IPv6 section `ip6tables-restore --test`.
func TestRulesIPTablesAccepted(t *testing.T) {
	if _, err := exec.LookPath("iptables-restore"); err != nil {
		t.Skip("iptables-restore not installed (Debian package iptables; .ci/run installs it)")
	}
	t.Chdir(sampleRoot)
	dir := t.TempDir()
	for name, text := range samplesWithFormat(t, "iptables") {
		t.Run(name, func(t *testing.T) {
			v4, v6, _ := strings.Cut(text, firewall.IPv6Marker)
			file := filepath.Join(dir, name+".v4")
			if err := os.WriteFile(file, []byte(v4), 0o644); err != nil {
				t.Fatal(err)
			}
			firewalltest.Check(t, file, "iptables-restore", "--test")
			if strings.Contains(v6, "COMMIT") {
				file6 := filepath.Join(dir, name+".v6")
				if err := os.WriteFile(file6, []byte(v6), 0o644); err != nil {
					t.Fatal(err)
				}
				firewalltest.Check(t, file6, "ip6tables-restore", "--test")
			}
		})
	}
}

// TestRulesOutputFiles: -o picks the format from the extension and writes
// the IPv6 section of iptables beside the IPv4 file.
func TestRulesOutputFiles(t *testing.T) {
	t.Chdir(sampleRoot)
	dir := t.TempDir()
	p := samplePilots[0] // horizon: dual stack
	base := []string{"rules", "-i", p.dir() + "/inventory.yaml", "--capture", p.capture()}
	for _, tc := range []struct {
		out, want, also string
	}{
		{"r.nft", "table inet flowaudit {", ""},
		{"r.v4", "*filter", "r.v6"},
		{"r.ps1", "New-NetFirewallRule", ""},
		{"r.csv", "line,source_object,", ""},
		{"r.json", "\"lines\": [", ""},
		{"r.md", "# Firewall change request", ""},
		{"r.markdown", "# Firewall change request", ""},
	} {
		t.Run(tc.out, func(t *testing.T) {
			code, stdout, stderr := analyzeCmd(t, append(base, "-o", filepath.Join(dir, tc.out))...)
			if code != exitOK || stdout != "" {
				t.Fatalf("exit %d, stdout %q: %s", code, stdout, stderr)
			}
			b, err := os.ReadFile(filepath.Join(dir, tc.out))
			if err != nil || !strings.Contains(string(b), tc.want) {
				t.Fatalf("%s: %v, want %q in\n%.300s", tc.out, err, tc.want, b)
			}
			if tc.also != "" {
				b, err := os.ReadFile(filepath.Join(dir, tc.also))
				if err != nil || !strings.Contains(string(b), "ip6tables-restore") || !strings.Contains(string(b), "2001:db8:") {
					t.Fatalf("%s: %v\n%.300s", tc.also, err, b)
				}
			}
		})
	}
}

func TestRulesUsage(t *testing.T) {
	t.Chdir(sampleRoot)
	inv := "testdata/samples/ras/inventory.yaml"
	capture := "testdata/samples/ras/pilot.pcapng"
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no inventory", []string{"--capture", capture}, exitUsage, "needs an inventory"},
		{"both evidences", []string{"-i", inv, "--capture", capture, "--from-report", "x.json"}, exitUsage, "use one"},
		{"bad format", []string{"-i", inv, "-f", "pf"}, exitUsage, `unknown format "pf"`},
		{"-o extension of no syntax", []string{"-i", inv, "-o", "rules.pdf"}, exitUsage, `no format has the extension ".pdf"`},
		{"bad only", []string{"-i", inv, "--capture", capture, "--only", "some"}, exitUsage, `--only "some"`},
		{"only without evidence", []string{"-i", inv, "--only", "missing"}, exitUsage, "needs evidence"},
		{"bad group", []string{"-i", inv, "--group-by", "zone"}, exitUsage, "--group-by"},
		{"bad product", []string{"-i", inv, "--product", "vnc"}, exitUsage, `unknown product "vnc"`},
		{"missing capture", []string{"-i", inv, "--capture", "nope.pcap"}, exitError, "nope.pcap"},
		{"missing report", []string{"-i", inv, "--from-report", "nope.json"}, exitError, "nope.json"},
		{"not a report", []string{"-i", inv, "--from-report", inv}, exitError, "testdata/samples/ras/inventory.yaml"},
		{"help", []string{"--help"}, exitOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := analyzeCmd(t, append([]string{"rules"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q, want %q", stderr, tc.want)
			}
			if tc.name == "help" {
				for _, w := range []string{"Examples:", "REQUEST TO REVIEW", "written as any", "--from-report"} {
					if !strings.Contains(stdout, w) {
						t.Errorf("help lacks %q", w)
					}
				}
			}
		})
	}
}

// TestRulesWaivedAndDeterministic: the horizon sample's rule waiver leaves
// its rule out with the ticket, and two runs give the same bytes.
func TestRulesWaivedAndDeterministic(t *testing.T) {
	t.Chdir(sampleRoot)
	p := samplePilots[0]
	args := append([]string{"rules", "-i", p.dir() + "/inventory.yaml"}, p.flags...)
	args = append(args, "--capture", p.capture(), "--only", "missing", "-f", "json")
	_, a, _ := analyzeCmd(t, args...)
	_, b, _ := analyzeCmd(t, args...)
	if a != b {
		t.Fatal("two runs differ")
	}
	req := decodeRequest(t, a)
	found := false
	for _, w := range req.Waived {
		if w.Rule == "hz-cs-jmp-443" && w.Ticket == "CHG-2025-0150" {
			found = true
		}
	}
	if !found {
		t.Errorf("waived %+v, want hz-cs-jmp-443 with CHG-2025-0150", req.Waived)
	}
	for _, l := range req.Lines {
		for _, id := range l.RuleIDs {
			if id == "hz-cs-jmp-443" {
				t.Errorf("line %d keeps the waived rule", l.Line)
			}
		}
	}
	_, nft, _ := analyzeCmd(t, append(args[:len(args)-2], "-f", "nft")...)
	if !strings.Contains(nft, "# Left out, waived: hz-cs-jmp-443 (ticket CHG-2025-0150") {
		t.Errorf("nft header does not name the waived rule:\n%.1500s", nft)
	}
}

// TestRulesCutCapture: a capture cut short still gets the request of what
// was read, which says so, and the exit code is 1.
func TestRulesCutCapture(t *testing.T) {
	t.Chdir(sampleRoot)
	data, err := os.ReadFile("testdata/samples/ras/pilot.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcapng")
	if err := os.WriteFile(cut, data[:len(data)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errb := analyzeCmd(t, "rules", "-i", "testdata/samples/ras/inventory.yaml", "--capture", cut, "-f", "nft")
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	if !strings.Contains(out, "table inet flowaudit {") || !strings.Contains(out, "INCOMPLETE") || !strings.Contains(out, "accept comment") {
		t.Errorf("the request of what was read is missing or does not say it is incomplete:\n%.1500s", out)
	}
	if !strings.Contains(errb, "cut.pcapng: offset ") {
		t.Errorf("stderr %q does not name the file and offset", errb)
	}
	// The analyze report of the cut capture says it is incomplete: so
	// does the request built from it, with exit 1.
	report := filepath.Join(t.TempDir(), "report.json")
	analyzeCmd(t, "analyze", "-i", "testdata/samples/ras/inventory.yaml", "-f", "json", "-o", report, cut)
	code, out, errb = analyzeCmd(t, "rules", "-i", "testdata/samples/ras/inventory.yaml", "--from-report", report, "-f", "nft")
	if code != exitError || !strings.Contains(out, "INCOMPLETE analysis") || !strings.Contains(errb, "the analysis is incomplete") {
		t.Errorf("--from-report of an incomplete analysis: exit %d, stderr %q\n%.800s", code, errb, out)
	}
}

// TestRulesProductKeepsSiteRules: --product narrows the vendor rules; the
// team's own site rules stay in scope, as in analyze.
func TestRulesProductKeepsSiteRules(t *testing.T) {
	t.Chdir(sampleRoot)
	p := samplePilots[0]
	args := append([]string{"rules", "-i", p.dir() + "/inventory.yaml"}, p.flags...)
	for _, tc := range []struct {
		product      string
		site, vendor bool
	}{{"horizon", true, true}, {"citrix", true, false}} {
		code, out, errb := analyzeCmd(t, append(args, "--product", tc.product, "--capture", p.capture(), "-f", "json")...)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errb)
		}
		var site, vendor bool
		for _, l := range decodeRequest(t, out).Lines {
			for _, id := range l.RuleIDs {
				site = site || strings.HasPrefix(id, "site-")
				vendor = vendor || strings.HasPrefix(id, "hz-")
			}
		}
		if site != tc.site || vendor != tc.vendor {
			t.Errorf("--product %s: site rules %v, horizon rules %v", tc.product, site, vendor)
		}
	}
}

// TestRulesFromReportWarnings: a report made with other site rules or
// another inventory is said to be so, on stderr and in the request.
func TestRulesFromReportWarnings(t *testing.T) {
	t.Chdir(sampleRoot)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"without the site rules", []string{"-i", "testdata/samples/horizon/inventory.yaml"}, "the evidence names rules this catalog and --product do not have (site-"},
		{"another inventory", []string{"-i", "testdata/samples/citrix/inventory.yaml"}, "was analysed with another inventory than testdata/samples/citrix/inventory.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"rules"}, tc.args...), "--from-report", "testdata/samples/horizon/report.json", "-f", "nft")
			code, out, errb := analyzeCmd(t, args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errb)
			}
			if !strings.Contains(errb, "warning: ") || !strings.Contains(errb, tc.want) || !strings.Contains(out, "# WARNING: ") {
				t.Errorf("stderr %q, want %q, and a WARNING in the request", errb, tc.want)
			}
		})
	}
}

// TestRulesStdin: the capture may come from standard input.
func TestRulesStdin(t *testing.T) {
	t.Chdir(sampleRoot)
	data, err := os.ReadFile("testdata/samples/ras/pilot.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"rules", "-i", "testdata/samples/ras/inventory.yaml", "-f", "json"}
	_, want, _ := analyzeCmd(t, append(args, "--capture", "testdata/samples/ras/pilot.pcapng")...)
	var out, errb bytes.Buffer
	if code := run(append(args, "--capture", "-"), bytes.NewReader(data), &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	a, b := decodeRequest(t, want), decodeRequest(t, out.String())
	if len(a.Lines) == 0 || fmt.Sprint(a.Lines) != fmt.Sprint(b.Lines) {
		t.Errorf("standard input gives another request:\n%v\n%v", a.Lines, b.Lines)
	}
}

// TestRulesMaxServicesWarns: services past --max-services are not
// evidence: the request says so, and the exit code is 1.
func TestRulesMaxServicesWarns(t *testing.T) {
	t.Chdir(sampleRoot)
	code, out, errb := analyzeCmd(t, "rules", "-i", "testdata/samples/ras/inventory.yaml", "--capture", "testdata/samples/ras/pilot.pcapng",
		"--max-services", "3", "--only", "missing", "-f", "nft")
	if code != exitError {
		t.Fatalf("exit %d, want %d: %s", code, exitError, errb)
	}
	if !strings.Contains(out, "# WARNING: ") || !strings.Contains(out, "connections were not analysed (more than --max-services=3") ||
		!strings.Contains(errb, "warning: ") {
		t.Errorf("no warning of the services not kept:\n%.1200s\n%s", out, errb)
	}
}

// TestRulesFromConnLog: a Zeek conn.log of a sample gives the lines its
// capture gives; the evidence names records by time, not frame.
func TestRulesFromConnLog(t *testing.T) {
	t.Chdir(sampleRoot)
	p := samplePilots[2] // ras
	code, log, errs := analyzeCmd(t, "flows", "--format", "zeek", p.capture())
	if code != exitOK {
		t.Fatalf("flows: exit %d: %s", code, errs)
	}
	path := filepath.Join(t.TempDir(), "conn.log")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := func(capture string) (string, string) {
		code, out, errb := analyzeCmd(t, "rules", "-i", p.dir()+"/inventory.yaml", "--capture", capture, "-f", "json")
		if code != exitOK {
			t.Fatalf("rules --capture %s: exit %d: %s", capture, code, errb)
		}
		var b strings.Builder
		for _, l := range decodeRequest(t, out).Lines {
			fmt.Fprintf(&b, "%s → %s %s %v %v %v\n", strings.Join(l.Src, ","), strings.Join(l.Dst, ","), l.Proto, l.Ports, l.Status, l.RuleIDs)
		}
		return b.String(), out
	}
	fromCapture, _ := lines(p.capture())
	fromLog, out := lines(path)
	if fromCapture != fromLog {
		t.Errorf("conn.log lines differ from the capture's\ncapture:\n%s\nconn.log:\n%s", fromCapture, fromLog)
	}
	if !strings.Contains(out, `"first_seen": "2025-`) || strings.Contains(out, `"first_frame"`) || !strings.Contains(out, `"first_uid": "C`) {
		t.Errorf("flow records' evidence should have first_seen, first_uid and no first_frame:\n%.1500s", out)
	}
	// From the analyze report of the conn.log: the same evidence, the
	// first record's uid kept where the report has it (first_uid), as a
	// capture's report keeps its first_frame.
	report := filepath.Join(t.TempDir(), "report.json")
	if code, _, errb := analyzeCmd(t, "analyze", "-i", p.dir()+"/inventory.yaml", "-f", "json", "-o", report, path); code > exitFindings {
		t.Fatalf("analyze: exit %d: %s", code, errb)
	}
	justifications := func(out string) string {
		var r struct {
			Lines []struct {
				Justification []map[string]any `json:"justification"`
			} `json:"lines"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		j, _ := json.Marshal(r.Lines)
		return string(j)
	}
	code, fromReport, errb := analyzeCmd(t, "rules", "-i", p.dir()+"/inventory.yaml", "--from-report", report, "-f", "json")
	if code != exitOK {
		t.Fatalf("rules --from-report: exit %d: %s", code, errb)
	}
	if a, b := justifications(fromReport), justifications(out); a != b || !strings.Contains(a, `"first_uid":"C`) {
		t.Errorf("--from-report justifications differ from --capture's, or have no first_uid:\n%s\n%s", a, b)
	}
	for _, args := range [][]string{{"--capture", path}, {"--from-report", report}} {
		_, nft, _ := analyzeCmd(t, append([]string{"rules", "-i", p.dir() + "/inventory.yaml", "-f", "nft"}, args...)...)
		if !strings.Contains(nft, " in conn.log (uid C") {
			t.Errorf("rules %s: the nft comments do not name the first record's uid:\n%.1500s", args[0], nft)
		}
	}
}

// TestRulesHostNames: host-pattern rules the capture's names documented
// (SNI, HTTP Host, DNS) are observed on their line to the FQDN object,
// with the names and addresses seen; nft still accepts the request, the
// names as comments.
func TestRulesHostNames(t *testing.T) {
	t.Chdir(sampleRoot)
	inv, capture := "testdata/names/inventory.yaml", "testdata/names/cloud-connector.pcapng"
	_, out, _ := analyzeCmd(t, "analyze", "-i", inv, "-f", "json", capture)
	rep := decodeSampleReport(t, out)
	code, out, errb := analyzeCmd(t, "rules", "-i", inv, "--capture", capture, "-f", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb)
	}
	req := decodeRequest(t, out)
	kind := map[string]string{}
	for _, o := range req.Objects {
		kind[o.Name] = o.Kind
	}
	byName := 0
	for _, f := range rep.Flows {
		if f.Status != "documented" {
			continue
		}
		found := false
		for _, l := range req.Lines {
			if l.Proto != f.Proto || !addrsContain(l.Src, f.Client) {
				continue
			}
			for _, r := range f.Rules {
				if kind[l.DstObject] == "fqdn" && strings.Contains(strings.Join(l.RuleIDs, " "), r.ID) {
					found = true
					byName++
				}
			}
		}
		if !found && req.covers(f.Client, f.Server, f.Proto, f.Port) == 0 {
			t.Errorf("documented %s has no line", sampleFlowKey(f.Client, f.Server, f.Proto, f.Port))
		}
	}
	if byName == 0 {
		t.Error("no flow documented by name")
	}
	if !strings.Contains(out, `"names_seen": [`) || !strings.Contains(out, "(sni) at 203.0.113.82") {
		t.Errorf("no names seen in the justification:\n%.2000s", out)
	}
	_, nft, _ := analyzeCmd(t, "rules", "-i", inv, "--capture", capture, "-f", "nft")
	file := filepath.Join(t.TempDir(), "names.nft")
	if err := os.WriteFile(file, []byte(nft), 0o644); err != nil {
		t.Fatal(err)
	}
	firewalltest.Check(t, "", "nft", "-c", "-f", file)
	// The analyze report carries the names too.
	report := filepath.Join(t.TempDir(), "report.json")
	analyzeCmd(t, "analyze", "-i", inv, "-f", "json", "-o", report, capture)
	_, fromReport, errb := analyzeCmd(t, "rules", "-i", inv, "--from-report", report, "-f", "nft")
	drop := func(s string) string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(l, "# Evidence:") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	if drop(fromReport) != drop(nft) {
		t.Errorf("--from-report differs from --capture (%s):\n%s\n---\n%s", errb, fromReport, nft)
	}
}
