package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
)

// overServices writes a generated capture of 8 services (one client
// probing 8 hosts on 445/tcp, no sweep at the default threshold): over
// --max-services=3, the connections of 5 of them are counted, not
// analysed.
func overServices(t *testing.T) string {
	t.Helper()
	return writeScanPart(t, t.TempDir(), "scan.pcap", pcapgen.Scan{Seed: 3, Hosts: 8, Ports: []uint16{445}}, pcapgen.WriteOptions{})
}

// checkUnaggregatedErr: stderr names the connections not analysed and
// the flag to raise.
func checkUnaggregatedErr(t *testing.T, stderr string) {
	t.Helper()
	if !strings.Contains(stderr, "connections were not analysed: more than --max-services=3 services") ||
		!strings.Contains(stderr, "raise --max-services") {
		t.Errorf("stderr does not say connections past --max-services were not analysed:\n%s", stderr)
	}
}

// TestAnalyzeMaxServicesExit: connections past --max-services were never
// audited, so analyze exits 1 whatever --fail-on says, in every format,
// after writing the report (which says it is incomplete); within the
// limit the same capture exits by its findings.
func TestAnalyzeMaxServicesExit(t *testing.T) {
	capture := overServices(t)
	for _, format := range []string{"table", "markdown", "json", "csv", "html", "dot"} {
		t.Run(format, func(t *testing.T) {
			for _, failOn := range []string{"none", "undocumented,blocked,sweep"} {
				code, out, errb := analyzeCmd(t, "analyze", "-f", format, "--fail-on", failOn, "--max-services", "3", capture)
				if code != exitError {
					t.Errorf("--fail-on %s --max-services 3: exit %d, want %d: %s", failOn, code, exitError, errb)
				}
				if out == "" {
					t.Errorf("--fail-on %s: no report written", failOn)
				}
				checkUnaggregatedErr(t, errb)
			}
			code, _, errb := analyzeCmd(t, "analyze", "-f", format, "--fail-on", "none", capture)
			if code != exitOK {
				t.Errorf("within --max-services: exit %d, want 0: %s", code, errb)
			}
		})
	}
	code, out, _ := analyzeCmd(t, "analyze", "-f", "json", "--fail-on", "none", "--max-services", "3", capture)
	var r struct {
		Complete   bool
		Incomplete []string
		Limits     struct {
			UnaggregatedServices    uint64 `json:"unaggregated_services"`
			UnaggregatedConnections uint64 `json:"unaggregated_connections"`
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("exit %d: %v", code, err)
	}
	if r.Complete || len(r.Incomplete) != 1 || r.Limits.UnaggregatedServices != 5 || r.Limits.UnaggregatedConnections != 5 {
		t.Errorf("complete %v, incomplete %q, limits %+v: want incomplete, 5 services of 5 connections not analysed", r.Complete, r.Incomplete, r.Limits)
	}
}

// TestAnalyzeMaxConnectionsIsALimit: a connection ended early by
// --max-connections is still folded into its service and audited, so
// the report is complete and the exit code follows the findings.
func TestAnalyzeMaxConnectionsIsALimit(t *testing.T) {
	capture := overServices(t)
	code, out, errb := analyzeCmd(t, "analyze", "-f", "json", "--fail-on", "none", "--max-connections", "1", capture)
	if code != exitOK {
		t.Fatalf("exit %d, want 0: %s", code, errb)
	}
	var r struct {
		Complete bool
		Summary  struct{ Flows int }
		Limits   struct {
			EvictedConnections uint64 `json:"evicted_connections"`
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if !r.Complete || r.Limits.EvictedConnections == 0 || r.Summary.Flows != 8 {
		t.Errorf("complete %v, evicted %d, flows %d: want complete, connections evicted, all 8 services analysed",
			r.Complete, r.Limits.EvictedConnections, r.Summary.Flows)
	}
	if code, _, errb := analyzeCmd(t, "analyze", "--max-connections", "1", capture); code != exitFindings {
		t.Errorf("default --fail-on: exit %d, want %d (the findings): %s", code, exitFindings, errb)
	}
}

// TestRulesMaxServicesExit: a change request built on connections that
// were not analysed is written, marked INCOMPLETE, and exits 1.
func TestRulesMaxServicesExit(t *testing.T) {
	capture := overServices(t)
	inv := filepath.Join(sampleRoot, "testdata/samples/ras/inventory.yaml")
	code, out, errb := analyzeCmd(t, "rules", "-i", inv, "--capture", capture, "--max-services", "3", "--only", "all", "-f", "nft")
	if code != exitError {
		t.Errorf("exit %d, want %d: %s", code, exitError, errb)
	}
	if !strings.Contains(out, "# WARNING: INCOMPLETE analysis: 5 connections were not analysed (more than --max-services=3") {
		t.Errorf("the request does not say it is incomplete:\n%.1500s", out)
	}
	checkUnaggregatedErr(t, errb)
	if code, _, errb := analyzeCmd(t, "rules", "-i", inv, "--capture", capture, "--only", "all", "-f", "nft"); code != exitOK {
		t.Errorf("within --max-services: exit %d: %s", code, errb)
	}
	// The same from the report of that analysis: its "incomplete" says
	// so, and --from-report fails on it as on a capture cut short.
	_, rep, _ := analyzeCmd(t, "analyze", "-i", inv, "-f", "json", "--max-services", "3", capture)
	saved := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(saved, []byte(rep), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errb = analyzeCmd(t, "rules", "-i", inv, "--from-report", saved, "--only", "all", "-f", "nft")
	if code != exitError || !strings.Contains(out, "INCOMPLETE analysis") ||
		!strings.Contains(errb, "the analysis is incomplete: 5 connections of 5 services were not analysed: more than --max-services=3") {
		t.Errorf("--from-report: exit %d, want %d and INCOMPLETE:\n%.1200s\n%s", code, exitError, out, errb)
	}
}

// TestRolesMaxServicesExit: roles inferred from part of the services are
// written, marked INCOMPLETE in every format, and exit 1.
func TestRolesMaxServicesExit(t *testing.T) {
	capture := overServices(t)
	for _, tc := range []struct{ format, want string }{
		{"yaml", "# INCOMPLETE: 5 connections were not analysed: more than --max-services=3 services"},
		{"table", "INCOMPLETE: 5 connections were not analysed: more than --max-services=3 services"},
		{"json", `"incomplete": [`},
	} {
		code, out, errb := analyzeCmd(t, "roles", "-f", tc.format, "--max-services", "3", capture)
		if code != exitError {
			t.Errorf("%s: exit %d, want %d: %s", tc.format, code, exitError, errb)
		}
		if !strings.Contains(out, tc.want) {
			t.Errorf("%s: no %q in:\n%.1500s", tc.format, tc.want, out)
		}
		checkUnaggregatedErr(t, errb)
		code, out, errb = analyzeCmd(t, "roles", "-f", tc.format, capture)
		if code != exitOK || strings.Contains(out, "INCOMPLETE") || strings.Contains(out, `"incomplete"`) {
			t.Errorf("%s within --max-services: exit %d, incomplete said: %s\n%.800s", tc.format, code, errb, out)
		}
	}
}

// TestDiffMaxServicesExit: diff exits 1 when either side's analysis left
// connections past --max-services unanalysed, whether the side is a
// capture analysed with the limit or a JSON report saved from one; a
// report of a complete analysis diffs by its changes.
func TestDiffMaxServicesExit(t *testing.T) {
	capture := overServices(t)
	dir := t.TempDir()
	save := func(name string, args ...string) string {
		t.Helper()
		_, out, _ := analyzeCmd(t, append(append([]string{"analyze", "-f", "json", "--reproducible"}, args...), capture)...)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	full, partial := save("full.json"), save("partial.json", "--max-services", "3")
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"complete reports", []string{full, full}, exitOK},
		{"partial report before", []string{partial, full}, exitError},
		{"partial report after", []string{full, partial}, exitError},
		{"captures over the limit", []string{"--max-services", "3", capture, capture}, exitError},
		{"captures within it", []string{capture, capture}, exitOK},
	} {
		code, out, errb := analyzeCmd(t, append([]string{"diff", "--fail-on", "none"}, tc.args...)...)
		if code != tc.want {
			t.Errorf("%s: exit %d, want %d: %s", tc.name, code, tc.want, errb)
		}
		if out == "" {
			t.Errorf("%s: no diff written", tc.name)
		}
		if tc.want == exitError && !strings.Contains(errb, "connections were not analysed: more than --max-services=3 services") {
			t.Errorf("%s: stderr does not name --max-services:\n%s", tc.name, errb)
		}
	}
}
