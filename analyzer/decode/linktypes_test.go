package decode

import (
	"path/filepath"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/capturetest"
)

// TestLinkTypeCaptures: real captures of the PPP (9, 50), Cisco HDLC (104)
// and radiotap (127) link types from the tcpdump test corpus decode as
// tshark 4.0.17 reads them: the frames it shows an IP layer in
// (`tshark -Y "ip or ipv6"`) are the decoded ones, and 802.11 frames are
// counted by their type (`-e wlan.fc.type -e wlan.fc.type_subtype`).
func TestLinkTypeCaptures(t *testing.T) {
	dir := filepath.Join(capturetest.Dir(t), "tcpdump-tests")
	tests := []struct {
		file string
		want map[string]int
	}{
		{"bgp_vpn_attrset.pcap", map[string]int{"frames": 1, "decoded": 1, "proto tcp": 1}},
		{"icmp-rfc5837.pcap", map[string]int{"frames": 1, "decoded": 1, "proto icmp": 1}},
		{"mpls-traceroute.pcap", map[string]int{"decoded": 18, "mpls": 9}},
		{"lspping-fec-ldp.pcap", map[string]int{"decoded": 13}},
		{"wb-oobr.pcap", map[string]int{"decoded": 6}},
		{"ppp-invalid-lengths.pcap", map[string]int{"frames": 1, "reason not IP": 1}},
		{"HDLC.pcap", map[string]int{"decoded": 10, "proto icmp": 10}},
		{"chdlc-slarp.pcap", map[string]int{"frames": 1, "reason not IP": 1}},
		{"ieee802.11_htc.pcap", map[string]int{"decoded": 1}},
		{"ieee802.11_exthdr.pcap", map[string]int{"frames": 26, "reason 802.11 management": 16, "reason 802.11 control": 8, "reason not IP": 2}},
		{"reason_code-0.pcap", map[string]int{"frames": 1, "reason 802.11 management": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			counts, _ := decodeFile(t, filepath.Join(dir, tc.file))
			for k, v := range tc.want {
				if counts[k] != v {
					t.Errorf("%s = %d, want %d (all: %v)", k, counts[k], v, counts)
				}
			}
			if counts["decoded"] != tc.want["decoded"] {
				t.Errorf("decoded %d, want %d", counts["decoded"], tc.want["decoded"])
			}
		})
	}
}
