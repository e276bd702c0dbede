package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
)

// writeScan writes a generated scan capture into dir.
func writeScan(t testing.TB, dir, name string, sc pcapgen.Scan) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Write(f, pcapgen.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func portList(from, to int) []uint16 {
	var out []uint16
	for p := from; p <= to; p++ {
		out = append(out, uint16(p))
	}
	return out
}

// TestAnalyzeSweeps: scans become sweep findings in every format, at the
// threshold the flag sets, and fail the run by default.
func TestAnalyzeSweeps(t *testing.T) {
	dir := t.TempDir()
	hosts300 := writeScan(t, dir, "hosts300.pcap", pcapgen.Scan{Seed: 1, Hosts: 300, Ports: []uint16{445}})
	hosts200 := writeScan(t, dir, "hosts200.pcap", pcapgen.Scan{Seed: 2, Hosts: 200, Ports: []uint16{445}})
	ports300 := writeScan(t, dir, "ports300.pcap", pcapgen.Scan{Seed: 3, Hosts: 1, Ports: append(portList(1, 290), 3389, 5000, 5001, 5002, 5003, 5004, 5005, 5006, 5007, 5008)})
	type sweep struct {
		Kind                                       string
		Client, Server                             string
		Ports                                      [][2]uint16
		Servers, Connections                       uint64
		Established, Rejected, Unanswered, Packets uint64
		FirstFrame                                 uint64 `json:"first_frame"`
		Filter                                     string
	}
	tests := []struct {
		name    string
		capture string
		args    []string
		code    int
		flows   int
		sweeps  []sweep // compared on kind, server, ports, servers, connections
		probes  int
	}{
		{"a /24-ish on one port is one sweep", hosts300, nil, exitFindings, 0,
			[]sweep{{Kind: "hosts", Ports: [][2]uint16{{445, 445}}, Servers: 300, Connections: 300}}, 300},
		{"under the threshold: services", hosts200, nil, exitFindings, 200, nil, 200},
		{"threshold raised", hosts300, []string{"--sweep-threshold", "300"}, exitFindings, 300, nil, 300},
		{"detection off", hosts300, []string{"--sweep-threshold", "0"}, exitFindings, 300, nil, 300},
		{"a sweep fails only with --fail-on sweep", hosts300, []string{"--fail-on", "undocumented"}, exitOK, 0,
			[]sweep{{Kind: "hosts", Ports: [][2]uint16{{445, 445}}, Servers: 300, Connections: 300}}, 300},
		{"ports of one server", ports300, nil, exitFindings, 0,
			[]sweep{{Kind: "ports", Server: "10.20.0.0", Ports: [][2]uint16{{1, 290}, {3389, 3389}, {5000, 5008}}, Servers: 1, Connections: 300}}, 300},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"analyze", "-f", "json"}, tc.args...)
			code, out, errOut := runCmd(t, nil, append(args, tc.capture)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, errOut)
			}
			var doc struct {
				Flows   []json.RawMessage
				Sweeps  []sweep
				Summary struct{ Sweeps int }
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Flows) != tc.flows || len(doc.Sweeps) != len(tc.sweeps) || doc.Summary.Sweeps != len(tc.sweeps) {
				t.Fatalf("%d flows and %d sweeps (summary %d), want %d and %d", len(doc.Flows), len(doc.Sweeps), doc.Summary.Sweeps, tc.flows, len(tc.sweeps))
			}
			for i, got := range doc.Sweeps {
				w := tc.sweeps[i]
				if got.Kind != w.Kind || got.Server != w.Server || got.Servers != w.Servers || got.Connections != w.Connections ||
					len(got.Ports) != len(w.Ports) || got.Client != "10.99.0.1" {
					t.Errorf("sweep %+v, want %+v", got, w)
				}
				for j := range w.Ports {
					if got.Ports[j] != w.Ports[j] {
						t.Errorf("ports %v, want %v", got.Ports, w.Ports)
					}
				}
				if got.Established+got.Rejected+got.Unanswered != got.Connections || got.FirstFrame != 1 || got.Filter == "" {
					t.Errorf("outcomes, first frame or filter: %+v", got)
				}
				// The filter shows the sweep's packets, and only them.
				if _, err := exec.LookPath("tshark"); err == nil {
					n := tsharkCount(t, tc.capture, got.Filter)
					if n != got.Packets {
						t.Errorf("tshark shows %d packets for %q, the report says %d", n, got.Filter, got.Packets)
					}
				}
			}
		})
	}

	// Every format has the section.
	for _, f := range []struct{ format, want string }{
		{"table", "Sweeps (1)"}, {"markdown", "## Sweeps (1)"}, {"csv", "\nsweep,sweep,false,"}, {"html", `id="sweeps"`},
	} {
		code, out, _ := runCmd(t, nil, "analyze", "-f", f.format, hosts300)
		if code != exitFindings || !strings.Contains(out, f.want) || !strings.Contains(out, "300 servers on 445/tcp") {
			t.Errorf("%s: exit %d, no %q or no description in\n%s", f.format, code, f.want, out)
		}
	}
}

func tsharkCount(t *testing.T, capture, filter string) uint64 {
	t.Helper()
	out, err := exec.Command("tshark", "-n", "-r", capture, "-Y", filter, "-T", "fields", "-e", "frame.number").Output()
	if err != nil {
		t.Fatalf("tshark %q: %v", filter, err)
	}
	n := strings.Count(string(out), "\n")
	return uint64(n)
}

// TestFlowsTablePages: the table format prints a table per 1,000
// connections, so it never holds a capture's every row.
func TestFlowsTablePages(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		hosts, tables int
	}{{10, 1}, {1000, 1}, {1001, 2}, {2500, 3}} {
		t.Run(strconv.Itoa(tc.hosts), func(t *testing.T) {
			p := writeScan(t, dir, "scan.pcap", pcapgen.Scan{Seed: 4, Hosts: tc.hosts, Ports: []uint16{445}})
			code, out, errOut := runCmd(t, nil, "flows", "-f", "table", p)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if n := strings.Count(out, "CLIENT BY"); n != tc.tables {
				t.Errorf("%d tables, want %d", n, tc.tables)
			}
			if n := strings.Count(out, "10.99.0.1:"); n != tc.hosts {
				t.Errorf("%d rows, want %d", n, tc.hosts)
			}
		})
	}
}

// TestAnalyzeWaivedSweep: a waiver covering a scanner's whole sweep (its
// client, port and every server: a block holding the sweep's extent)
// waives it, so it fails no run; expired, it fails the run again and says
// so; one narrower than the sweep waives nothing and is listed as unused.
func TestAnalyzeWaivedSweep(t *testing.T) {
	dir := t.TempDir()
	scan := writeScan(t, dir, "hosts300.pcap", pcapgen.Scan{Seed: 1, Hosts: 300, Ports: []uint16{445}})
	type doc struct {
		Sweeps []struct {
			Status      string
			ServerRange []string `json:"server_range"`
			Waiver      *struct {
				Ticket  string
				Expired bool
			}
		}
		Summary struct {
			Sweeps, Waived, Findings int
			ExpiredWaivers           int `json:"expired_waivers"`
		}
		UnusedWaivers []struct{ Ticket string } `json:"unused_waivers"`
	}
	read := func(out string) doc {
		var d doc
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatal(err)
		}
		if len(d.Sweeps) != 1 {
			t.Fatalf("%d sweeps, want 1", len(d.Sweeps))
		}
		return d
	}
	code, out, errOut := runCmd(t, nil, "analyze", "-f", "json", scan)
	if code != exitFindings {
		t.Fatalf("no waivers: exit %d: %s", code, errOut)
	}
	rng := read(out).Sweeps[0].ServerRange
	if len(rng) != 2 || !strings.HasPrefix(rng[0], "10.20.") || !strings.HasPrefix(rng[1], "10.20.") {
		t.Fatalf("server_range %v, want the scan's lowest and highest server in 10.20.0.0/16", rng)
	}
	waivers := func(entry string) string {
		p := filepath.Join(dir, "waivers.yaml")
		if err := os.WriteFile(p, []byte("waivers:\n  - {"+entry+", reason: vulnerability scanner, ticket: CHG-77}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, entry    string
		args           []string
		code           int
		status         string
		waiver, unused bool
		expired        bool
	}{
		{"covered: not a finding", "client: 10.99.0.1, server: 10.20.0.0/16, proto: tcp, port: 445", nil, exitOK, "waived", true, false, false},
		{"any server", "client: 10.99.0.1, port: 445", nil, exitOK, "waived", true, false, false},
		{"expired: a finding again", "client: 10.99.0.1, server: 10.20.0.0/16, port: 445, expires: 2020-01-31", nil, exitFindings, "sweep", true, false, true},
		{"expired, --fail-on expired-waiver", "server: 10.20.0.0/16, port: 445, expires: 2020-01-31", []string{"--fail-on", "expired-waiver"}, exitFindings, "sweep", true, false, true},
		{"narrower than the sweep", "client: 10.99.0.1, server: " + rng[0] + ", port: 445", nil, exitFindings, "sweep", false, true, false},
		{"another port", "client: 10.99.0.1, port: 139", nil, exitFindings, "sweep", false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"analyze", "-f", "json", "--waivers", waivers(tc.entry)}, tc.args...)
			code, out, errOut := runCmd(t, nil, append(args, scan)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, errOut)
			}
			d := read(out)
			sw := d.Sweeps[0]
			if sw.Status != tc.status || (sw.Waiver != nil) != tc.waiver || (sw.Waiver != nil && (sw.Waiver.Ticket != "CHG-77" || sw.Waiver.Expired != tc.expired)) {
				t.Errorf("sweep status %q waiver %+v, want %q waiver %v expired %v", sw.Status, sw.Waiver, tc.status, tc.waiver, tc.expired)
			}
			if (len(d.UnusedWaivers) == 1) != tc.unused {
				t.Errorf("unused waivers %v, want unused %v", d.UnusedWaivers, tc.unused)
			}
			waived, sweeps, expired := 0, 1, 0
			if tc.status == "waived" {
				waived, sweeps = 1, 0
			}
			if tc.expired {
				expired = 1
			}
			if s := d.Summary; s.Waived != waived || s.Sweeps != sweeps || s.ExpiredWaivers != expired || (s.Findings == 0) != (tc.code == exitOK) {
				t.Errorf("summary %+v, want waived %d, sweeps %d, expired waivers %d", s, waived, sweeps, expired)
			}
		})
	}
}
