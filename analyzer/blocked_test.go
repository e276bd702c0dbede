package analyzer

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
	"github.com/flowaudit/flowaudit/catalog"
)

// TestBlockedBy: from generated packets through the tracker and the audit,
// every service that never established says what answered for it.
func TestBlockedBy(t *testing.T) {
	cli := netip.MustParseAddr("10.0.0.5")
	srv := netip.MustParseAddr("10.0.1.20")
	router := netip.MustParseAddr("10.0.0.1")
	tests := []struct {
		name     string
		build    func(s *pcapgen.Scenario)
		port     uint16
		kind     string
		text     string // part of the sentence
		packets  uint64 // in the report, ICMP errors included
		icmpErrs uint64
	}{
		{"host refuses", func(s *pcapgen.Scenario) {
			s.TCP(0, s.Client(cli), netip.AddrPortFrom(srv, 443), pcapgen.TCPOpts{})
			s.TCP(time.Second, s.Client(cli), netip.AddrPortFrom(srv, 3389), pcapgen.TCPOpts{Open: pcapgen.OpenRefused})
		}, 3389, audit.BlockHostReset, "the host refused", 2, 0},
		{"firewall prohibits", func(s *pcapgen.Scenario) {
			s.TCP(0, s.Client(cli), netip.AddrPortFrom(srv, 3389), pcapgen.TCPOpts{Open: pcapgen.OpenProhibited, From: router, Retries: 2})
		}, 3389, audit.BlockICMP, "ICMP 3/13 DestinationUnreachable(CommAdminProhibited) from 10.0.0.1", 6, 3},
		{"port unreachable from the server", func(s *pcapgen.Scenario) {
			s.UDP(0, s.Client(cli), netip.AddrPortFrom(srv, 4172), pcapgen.UDPOpts{Reply: pcapgen.ReplyPortUnreachable})
		}, 4172, audit.BlockICMP, "DestinationUnreachable(Port) from the server itself", 2, 1},
		{"nothing answers", func(s *pcapgen.Scenario) {
			s.TCP(0, s.Client(cli), netip.AddrPortFrom(srv, 3389), pcapgen.TCPOpts{Open: pcapgen.OpenUnanswered, Retries: 2})
		}, 3389, audit.BlockNoAnswer, "no answer to 3 SYNs over 3s", 3, 0},
		{"RST alone", func(s *pcapgen.Scenario) {
			s.TCP(0, s.Client(cli), netip.AddrPortFrom(srv, 3389), pcapgen.TCPOpts{Open: pcapgen.OpenRefused})
		}, 3389, audit.BlockReset, "no other packet of it to compare", 2, 0},
	}
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := pcapgen.New(pcapgen.Config{Seed: 7})
			tc.build(s)
			var buf bytes.Buffer
			if _, err := s.Write(&buf, pcapgen.WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), "c.pcap")
			if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Run([]string{p}, Options{NoHash: true})
			if err != nil {
				t.Fatal(err)
			}
			r := audit.Audit(AuditServices(res.Services, []string{p}), nil, cat, audit.Options{})
			var f *audit.Flow
			for _, x := range r.Flows {
				if x.Port == tc.port && x.Server == srv {
					f = x
				}
			}
			if f == nil || f.BlockedBy == nil {
				t.Fatalf("no blocked flow on port %d: %+v", tc.port, r.Flows)
			}
			if f.BlockedBy.Kind != tc.kind || !strings.Contains(f.BlockedBy.Text, tc.text) {
				t.Errorf("blocked by %s %q, want %s containing %q", f.BlockedBy.Kind, f.BlockedBy.Text, tc.kind, tc.text)
			}
			if f.Packets != tc.packets || f.ICMPErrors != tc.icmpErrs {
				t.Errorf("packets %d (ICMP errors %d), want %d (%d)", f.Packets, f.ICMPErrors, tc.packets, tc.icmpErrs)
			}
		})
	}
}
