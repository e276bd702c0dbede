package main

import (
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestCloudConnectorNames is the Cloud Connector pilot of testdata/names:
// its outbound connections carry SNI, HTTP Host and DNS for DigiCert's
// hosts, which the catalog names by host pattern. Every format reports
// them documented by those rules with the evidence named; the SNI that
// contradicts DNS is undocumented and says so; the host-pattern rules are
// neither "cannot be checked" nor never seen.
func TestCloudConnectorNames(t *testing.T) {
	t.Chdir(sampleRoot)
	args := func(format string) []string {
		return []string{"analyze", "-i", "testdata/names/inventory.yaml", "--product", "citrix", "--reproducible", "-f", format,
			"testdata/names/cloud-connector.pcapng"}
	}
	_, out, errs := analyzeCmd(t, args("json")...)
	var r struct {
		Flows []struct {
			Status, Client, Server string
			Port                   int
			Rules                  []struct{ ID string }
			Hints                  []string
			Names                  []struct{ Name, Evidence string }
			NameMatches            []struct{ Rule, Name, Evidence string } `json:"name_matches"`
		}
		Missing      []struct{ Rule string }
		Unverifiable []struct{ Rule string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, errs)
	}
	want := map[string]string{ // server port → "status rules evidence"
		"203.0.113.80 80":     "documented ctx-cc-cc-digicert-80 http-host",
		"203.0.113.82 443":    "documented ctx-cc-cc-cacerts-codesign-443,ctx-cc-cc-cacerts-rootca-443,ctx-cc-cc-digicert-443 sni",
		"203.0.113.81 443":    "documented ctx-cc-cc-digicert-443 dns",
		"2001:db8:d1::82 443": "documented ctx-cc-cc-cacerts-codesign-443,ctx-cc-cc-cacerts-rootca-443,ctx-cc-cc-digicert-443 dns",
		"203.0.113.80 443":    "undocumented  ",
	}
	seen := map[string]int{}
	otherClient := false
	for _, f := range r.Flows {
		key := f.Server + " " + itoa(f.Port)
		w, ok := want[key]
		if !ok {
			continue
		}
		var ids, ev []string
		for _, x := range f.Rules {
			ids = append(ids, x.ID)
		}
		for _, m := range f.NameMatches {
			if !slices.Contains(ev, m.Evidence) {
				ev = append(ev, m.Evidence)
			}
		}
		got := f.Status + " " + strings.Join(ids, ",") + " " + strings.Join(ev, ",")
		if f.Client == "192.0.2.62" && f.Server == "203.0.113.81" {
			otherClient = got == "documented ctx-cc-cc-digicert-443 dns (other client)"
			continue
		}
		seen[key]++
		if got != w {
			t.Errorf("%s: %q, want %q", key, got, w)
		}
		if f.Status == "undocumented" && (len(f.Hints) == 0 || !strings.Contains(f.Hints[0], "sni evil.example contradicts DNS, which called 203.0.113.80 ocsp.digicert.com")) {
			t.Errorf("contradiction hints %q", f.Hints)
		}
	}
	if len(seen) != len(want) || !otherClient {
		t.Errorf("flows seen %v, cc02's dns (other client) %v", seen, otherClient)
	}
	for _, m := range r.Missing {
		if strings.HasPrefix(m.Rule, "ctx-cc-cc-") {
			t.Errorf("%s never seen", m.Rule)
		}
	}
	if len(r.Unverifiable) != 0 {
		t.Errorf("unverifiable %v", r.Unverifiable)
	}

	// The evidence is named in every other format.
	for _, f := range []string{"table", "md", "html"} {
		_, out, _ := analyzeCmd(t, args(f)...)
		for _, s := range []string{"ocsp.digicert.com (http-host)", "dl.cacerts.digicert.com (sni)", "crl3.digicert.com (dns)",
			"crl3.digicert.com (dns (other client))", "evil.example (sni)", "contradicts DNS"} {
			if f == "table" && s == "contradicts DNS" {
				// The reasons are in the terminal's --wide view, wrapped.
				_, out, _ = analyzeCmd(t, append(args(f), "--wide")...)
				s = "contradicts"
			}
			if !strings.Contains(out, s) {
				t.Errorf("%s: no %q", f, s)
			}
		}
	}
	_, out, _ = analyzeCmd(t, args("csv")...)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	ev, names := slices.Index(rows[0], "name_evidence"), slices.Index(rows[0], "host_names")
	for _, row := range rows[1:] {
		if ev >= 0 && names >= 0 && row[0] == "documented" && row[ev] == "ctx-cc-cc-digicert-80: ocsp.digicert.com (http-host)" && row[names] == "ocsp.digicert.com (http-host)" {
			found = true
		}
	}
	if !found {
		t.Errorf("csv: no documented row with the name evidence: %v", rows[0])
	}
}

// TestFlowsServerName: flows gives each connection its server name and
// source in JSON lines, CSV and the table.
func TestFlowsServerName(t *testing.T) {
	t.Chdir(sampleRoot)
	const capture = "testdata/names/cloud-connector.pcapng"
	_, out, _ := runCmd(t, nil, "flows", "-f", "jsonl", capture)
	names := map[string]string{}
	for _, l := range jsonLines(t, out) {
		if n, ok := l["server_name"].(string); ok {
			names[l["id.resp_h"].(string)+" "+l["id.orig_h"].(string)] = n + " (" + l["server_name_source"].(string) + ")"
		}
	}
	if names["203.0.113.90 192.0.2.62"] != "quic.example (sni)" || names["203.0.113.81 192.0.2.62"] != "crl3.digicert.com (dns (other client))" || len(names) != 7 {
		t.Errorf("jsonl names %v", names)
	}
	_, out, _ = runCmd(t, nil, "flows", "-f", "csv", capture)
	if !strings.Contains(out, ",ocsp.digicert.com,http-host,") {
		t.Errorf("csv:\n%s", out)
	}
	_, out, _ = runCmd(t, nil, "flows", "-f", "table", capture)
	if !strings.Contains(out, "SERVER NAME") || !strings.Contains(out, "evil.example (sni)") {
		t.Errorf("table:\n%s", out)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
