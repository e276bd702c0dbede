package main

import (
	"encoding/json"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/capture"
	"github.com/flowaudit/flowaudit/analyzer/decode"
	"github.com/flowaudit/flowaudit/analyzer/evidence"
	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
)

// sweepPcapConns reads an evidence pcap and returns the connections in it
// (server, server port, client port) and how many packets it holds; every
// packet must be between client and a server on one of the sweep's ports.
func sweepPcapConns(t *testing.T, path string, client netip.Addr, ok func(server netip.Addr, port uint16) bool) (map[[3]string]bool, int) {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dec := decode.NewDecoder()
	conns := map[[3]string]bool{}
	n := 0
	for {
		pkt, err := r.Next()
		if err == io.EOF {
			return conns, n
		}
		if err != nil {
			t.Fatalf("%s after %d packets: %v", path, n, err)
		}
		n++
		var p decode.Packet
		if reason, err := dec.Decode(pkt.LinkType, pkt.Data, &p); reason != decode.ReasonNone || err != nil {
			t.Fatalf("%s packet %d does not decode: %v %v", path, n, reason, err)
		}
		server, sport, cport := p.Dst, p.DstPort, p.SrcPort
		if p.Src != client {
			server, sport, cport = p.Src, p.SrcPort, p.DstPort
			if p.Dst != client {
				t.Fatalf("%s packet %d: %s → %s, not the sweeping client's", path, n, p.Src, p.Dst)
			}
		}
		if !ok(server, sport) {
			t.Fatalf("%s packet %d: %s:%d is not the sweep's", path, n, server, sport)
		}
		conns[[3]string{server.String(), itoa(int(sport)), itoa(int(cport))}] = true
	}
}

// TestSweepEvidence: --evidence writes a pcap per sweep with its first
// evidence.SweepConnections connections, listed in SHA256SUMS; it counts
// toward --evidence-max; a waived sweep, no finding, has none.
func TestSweepEvidence(t *testing.T) {
	dir := t.TempDir()
	client := netip.MustParseAddr("10.99.0.1")
	hosts := writeScan(t, dir, "hosts300.pcap", pcapgen.Scan{Seed: 1, Hosts: 300, Ports: []uint16{445}})
	ports := writeScan(t, dir, "ports300.pcap", pcapgen.Scan{Seed: 3, Hosts: 1, Ports: portList(1, 300)})
	for _, tc := range []struct {
		name, capture, file string
		ok                  func(netip.Addr, uint16) bool
	}{
		{"hosts", hosts, "001-sweep-10.99.0.1-any-tcp-445.pcapng", func(_ netip.Addr, p uint16) bool { return p == 445 }},
		{"ports", ports, "001-sweep-10.99.0.1-10.20.0.0-tcp-ports.pcapng", func(s netip.Addr, p uint16) bool {
			return s == netip.MustParseAddr("10.20.0.0") && p >= 1 && p <= 300
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := filepath.Join(t.TempDir(), "ev")
			code, _, errOut := runCmd(t, nil, "analyze", "-f", "json", "--evidence", ev, tc.capture)
			if code != exitFindings {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			entries, _ := os.ReadDir(filepath.Join(ev, "findings"))
			if len(entries) != 1 || entries[0].Name() != tc.file {
				t.Fatalf("findings/ holds %v, want %s", entries, tc.file)
			}
			sums, err := os.ReadFile(filepath.Join(ev, "SHA256SUMS"))
			if err != nil || !strings.Contains(string(sums), "  findings/"+tc.file+"\n") {
				t.Errorf("SHA256SUMS does not list findings/%s: %v\n%s", tc.file, err, sums)
			}
			conns, packets := sweepPcapConns(t, filepath.Join(ev, "findings", tc.file), client, tc.ok)
			if len(conns) != evidence.SweepConnections || packets < len(conns) {
				t.Errorf("%d connections in %d packets, want the first %d", len(conns), packets, evidence.SweepConnections)
			}
		})
	}

	t.Run("evidence-max 0", func(t *testing.T) {
		ev := filepath.Join(t.TempDir(), "ev")
		code, out, errOut := runCmd(t, nil, "analyze", "-f", "json", "--evidence", ev, "--evidence-max", "0", hosts)
		if code != exitFindings || !strings.Contains(errOut, "1 findings have no pcap") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var rep struct {
			Limits struct {
				EvidenceNotWritten int `json:"evidence_not_written"`
			}
		}
		must(t, json.Unmarshal([]byte(out), &rep))
		if rep.Limits.EvidenceNotWritten != 1 {
			t.Errorf("evidence_not_written = %d, want 1 (the sweep)", rep.Limits.EvidenceNotWritten)
		}
		if entries, _ := os.ReadDir(filepath.Join(ev, "findings")); len(entries) != 0 {
			t.Errorf("findings/ holds %v past --evidence-max 0", entries)
		}
	})

	t.Run("waived", func(t *testing.T) {
		w := filepath.Join(t.TempDir(), "waivers.yaml")
		must(t, os.WriteFile(w, []byte("waivers:\n  - {client: 10.99.0.1, port: 445, reason: scanner, ticket: CHG-1}\n"), 0o644))
		ev := filepath.Join(t.TempDir(), "ev")
		code, _, errOut := runCmd(t, nil, "analyze", "-f", "json", "--waivers", w, "--evidence", ev, hosts)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if entries, _ := os.ReadDir(filepath.Join(ev, "findings")); len(entries) != 0 {
			t.Errorf("findings/ holds %v for a waived sweep", entries)
		}
	})
}
