package decode

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/capture"
	"github.com/flowaudit/flowaudit/analyzer/capturetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

var tunnelNames = map[Tunnel]string{TunnelVXLAN: "vxlan", TunnelGENEVE: "geneve", TunnelGRE: "gre", TunnelERSPAN: "erspan", TunnelIPinIP: "ipip"}

func protoName(p uint8) string {
	switch p {
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoICMP:
		return "icmp"
	case ProtoICMPv6:
		return "icmpv6"
	case ProtoVRRP:
		return "vrrp"
	case ProtoGRE:
		return "gre"
	}
	return fmt.Sprintf("ip/%d", p)
}

// frameKeys are the counters one decoded frame adds to its file's summary.
func frameKeys(reason Reason, p *Packet) []string {
	if reason != ReasonNone {
		return []string{"reason " + reason.String()}
	}
	fam := "ipv4"
	if p.Src.Is6() {
		fam = "ipv6"
	}
	keys := []string{"decoded", fam, "proto " + protoName(p.Proto)}
	if t := tunnelNames[p.Tunnel]; t != "" {
		keys = append(keys, "tunnel "+t, "tunnel "+t+" "+fam+" "+protoName(p.Proto))
	}
	if p.NVLAN > 0 {
		keys = append(keys, fmt.Sprintf("vlan tags %d", p.NVLAN))
	}
	if p.Encap&EncapMPLS != 0 {
		keys = append(keys, "mpls")
	}
	if p.Encap&EncapPPPoE != 0 {
		keys = append(keys, "pppoe")
	}
	if p.Fragment {
		if p.FragOffset == 0 {
			keys = append(keys, "fragment first "+fam)
		} else {
			keys = append(keys, "fragment later "+fam)
		}
	}
	if p.Quoted.Valid {
		keys = append(keys, fmt.Sprintf("icmp error quoting %s %d>%d", protoName(p.Quoted.Proto), p.Quoted.SrcPort, p.Quoted.DstPort))
	}
	if p.Truncated {
		keys = append(keys, "truncated")
	}
	if p.Proto == ProtoTCP && p.TCPFlags&(FlagSYN|FlagACK) == FlagSYN {
		keys = append(keys, fmt.Sprintf("syn to %d", p.DstPort))
	}
	return keys
}

// decodeFile decodes every packet the capture reader delivers.
func decodeFile(t testing.TB, path string) (map[string]int, []Packet) {
	t.Helper()
	counts := map[string]int{}
	var pkts []Packet
	r, err := capture.Open(path)
	if err != nil {
		counts["capture error"]++
		return counts, nil
	}
	defer r.Close()
	d := NewDecoder()
	full := NewDecoder()
	full.fullEthernet = true
	for {
		cp, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var ce *capture.Error
			if !errors.As(err, &ce) {
				t.Errorf("%s: %v", path, err)
			}
			counts["capture error"]++
			break
		}
		counts["frames"]++
		var p Packet
		reason, derr := d.Decode(cp.LinkType, cp.Data, &p)
		sameAsFullEthernet(t, full, cp.LinkType, cp.Data, p, reason, derr)
		for _, k := range frameKeys(reason, &p) {
			counts[k]++
		}
		pkts = append(pkts, p)
	}
	return counts, pkts
}

// sharedExpect is what tshark 4.0.17 shows for the files the brief names
// (protocol stacks from `tshark -T fields -e frame.protocols`, VLAN ids,
// addresses and ports per frame); the decoder must agree on these counters.
// A per-frame comparison of source address, ports and VLAN ids against
// tshark for all 46 files agreed except where tshark names the 802.1ad
// S-tag differently (ieee8021ad.id).
var sharedExpect = map[string]map[string]int{
	// tshark counts the two VXLAN frames carrying ARP as UDP (the first
	// protocol after the outer IP); flowaudit analyses tunnels by their
	// inner frame, so they are ARP.
	"vxlan.pcap":                   {"frames": 10, "decoded": 8, "tunnel vxlan ipv4 icmp": 8, "reason arp": 2},
	"gre-sample.pcap":              {"frames": 40, "tunnel gre": 40, "tunnel gre ipv4 tcp": 22, "tunnel gre ipv4 udp": 8, "tunnel gre ipv4 icmp": 10, "icmp error quoting udp 37675>53": 2},
	"syslog.pcap":                  {"frames": 94, "decoded": 94, "vlan tags 1": 24, "pppoe": 6, "tunnel ipip ipv6 udp": 6, "proto udp": 83, "proto tcp": 11},
	"http-qinq-0.pcap":             {"frames": 14, "decoded": 14, "vlan tags 2": 14, "proto tcp": 14},
	"mixed-vlan-mpls.pcap":         {"frames": 47, "decoded": 47, "vlan tags 1": 14, "mpls": 11, "proto tcp": 47},
	"dot1ad.pcap":                  {"frames": 2, "decoded": 2, "vlan tags 2": 2, "proto icmp": 2},
	"tcp-syslog.pcap":              {"frames": 10, "decoded": 10, "proto tcp": 10, "syn to 514": 1},
	"sv-decode-sll2-01-input.pcap": {"frames": 5, "decoded": 5, "proto tcp": 5, "syn to 80": 1},
	"test_loopback.pcap":           {"frames": 24, "decoded": 24, "ipv6": 24, "proto tcp": 24},
	"tcp-handshake-nano.pcap":      {"frames": 3, "decoded": 3, "proto tcp": 3, "syn to 80": 1},
	"icmp-destunreach-udp.pcap":    {"frames": 1, "decoded": 1, "icmp error quoting udp 53>59207": 1},
	"dns_fragmented.pcap":          {"frames": 66, "decoded": 66, "fragment first ipv4": 4, "fragment later ipv4": 4, "fragment first ipv6": 3, "fragment later ipv6": 3},
	"mapi.pcap":                    {"frames": 800, "decoded": 795, "reason not IP": 5},
	"vrrp.pcap":                    {"frames": 165, "decoded": 165, "proto vrrp": 165},
	"modify-request.pcapng":        {"frames": 17, "decoded": 17, "ipv6": 17, "proto tcp": 17},
	"radius_localhost.pcap":        {"frames": 19, "decoded": 19, "proto udp": 19},
	"ocs.pcap":                     {"frames": 946, "decoded": 946, "proto tcp": 938, "proto udp": 8},
	"synscan.pcap":                 {"frames": 2011, "decoded": 2011, "proto tcp": 2011},
}

const goldenHeader = `# Decoding every packet of every file in ../shared/captures: counters per
# file (frames, skip reasons, protocols of the innermost packet, tunnels,
# VLAN tags, MPLS, PPPoE, fragments, ICMP error quotes, snap-length cuts,
# SYNs by destination port). Regenerate: go test ./analyzer/decode -update
# The counters of sharedExpect in files_test.go were checked against tshark
# 4.0.17 independently of this file.

`

func TestSharedCaptures(t *testing.T) {
	dir := capturetest.Dir(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	out.WriteString(goldenHeader)
	for _, e := range entries {
		if e.IsDir() || e.Name() == "SOURCES.md" {
			continue
		}
		counts, _ := decodeFile(t, filepath.Join(dir, e.Name()))
		var keys []string
		for k := range counts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(&out, "file: %s\n", e.Name())
		for _, k := range keys {
			fmt.Fprintf(&out, "  %s: %d\n", k, counts[k])
		}
		out.WriteString("\n")
		for k, want := range sharedExpect[e.Name()] {
			if counts[k] != want {
				t.Errorf("%s: %q = %d, tshark says %d", e.Name(), k, counts[k], want)
			}
		}
	}
	for name := range sharedExpect {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("expected capture %s: %v", name, err)
		}
	}
	capturetest.Golden(t, filepath.Join("testdata", "shared-captures.golden"), []byte(out.String()), *update)
}

// TestSharedCaptureFrames checks single frames whose fields tshark shows.
func TestSharedCaptureFrames(t *testing.T) {
	dir := capturetest.Dir(t)
	cases := []struct {
		file  string
		frame int // 1-based
		check func(p Packet) bool
		what  string
	}{
		{"dot1ad.pcap", 1, func(p Packet) bool { return p.NVLAN == 2 && p.VLANs == [2]uint16{1525, 30} }, "S-tag 1525, C-tag 30"},
		{"dot1ad.pcap", 2, func(p Packet) bool { return p.VLANs == [2]uint16{1535, 40} }, "S-tag 1535, C-tag 40"},
		{"tcp-handshake-nano.pcap", 1, func(p Packet) bool { return p.TCPFlags == FlagSYN && p.DstPort == 80 }, "SYN to 80"},
		{"tcp-handshake-nano.pcap", 2, func(p Packet) bool { return p.TCPFlags == FlagSYN|FlagACK && p.SrcPort == 80 }, "SYN-ACK from 80"},
		{"tcp-handshake-nano.pcap", 3, func(p Packet) bool { return p.TCPFlags == FlagACK && p.PayloadLen == 0 }, "ACK"},
		{"icmp-destunreach-udp.pcap", 1, func(p Packet) bool {
			return p.Proto == ProtoICMP && p.ICMPType == 3 && p.ICMPCode == 3 && p.Quoted.Valid && p.Quoted.Proto == ProtoUDP && p.Quoted.SrcPort == 53 && p.Quoted.Src == p.Dst
		}, "port unreachable quoting the DNS answer from UDP/53 it rejected"},
		{"vxlan.pcap", 3, func(p Packet) bool {
			return p.Tunnel == TunnelVXLAN && p.Proto == ProtoICMP && p.OuterSrc.IsValid() && p.OuterSrc != p.Src
		}, "inner ICMP, outer addresses kept"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.file)
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		_, pkts := decodeFile(t, path)
		if c.frame > len(pkts) || !c.check(pkts[c.frame-1]) {
			t.Errorf("%s frame %d: want %s", c.file, c.frame, c.what)
		}
	}
}
