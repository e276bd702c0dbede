package flow

import (
	"net/netip"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/decode"
)

// TestCommunityID checks the spec's baseline vectors
// (corelight/community-id-spec baseline/baseline_deflt.json for seed 0 and
// baseline_seed1.json for seed 1). For ICMP the vectors' ports are the
// type and its port equivalent; passing the type as sport yields the same
// equivalents.
func TestCommunityID(t *testing.T) {
	tests := []struct {
		seed         uint16
		proto        uint8
		saddr, daddr string
		sport, dport uint16
		want         string
	}{
		{0, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
		{0, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
		{0, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136, "1:zavyT/cezQr1fmImYCwYnMXbgck="},
		{0, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 135, "1:zavyT/cezQr1fmImYCwYnMXbgck="},
		{0, 58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, "1:2ObVBgIn28oZvibYZhZMBgh7WdQ="},
		{0, 58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4, "1:hLZd0XGWojozrvxqE0dWB1iM6R0="},
		{0, 58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="},
		{0, 58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 128, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="},
		{0, 58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0="},
		{0, 58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 133, "1:pkvHqCL88/tg1k4cPigmZXUtL00="},
		{0, 1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
		{0, 1, "192.168.0.1", "192.168.0.89", 0, 8, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
		{0, 1, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM="},
		{0, 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
		{0, 6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
		{0, 132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
		{0, 132, "192.168.170.56", "192.168.170.8", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
		{0, 6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{0, 6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{0, 17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
		{0, 17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
		{0, 46, "10.1.12.1", "10.1.12.2", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
		{0, 46, "10.1.12.2", "10.1.12.1", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
		{1, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136, "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
		{1, 1, "192.168.0.89", "192.168.0.1", 8, 0, "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
		{1, 1, "10.0.0.1", "10.0.0.2", 11, 0, "1:XjUibYHaafLQ3pxQeiMI8g25q20="},
		{1, 6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
		{1, 17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
		{1, 46, "10.1.12.1", "10.1.12.2", 0, 0, "1:rYir8gphR31noO9iDRQmF/BteEI="},
	}
	for _, tc := range tests {
		got := CommunityID(tc.seed, netip.MustParseAddr(tc.saddr), netip.MustParseAddr(tc.daddr), tc.sport, tc.dport, tc.proto)
		if got != tc.want {
			t.Errorf("seed %d proto %d %s:%d -> %s:%d: %s, want %s", tc.seed, tc.proto, tc.saddr, tc.sport, tc.daddr, tc.dport, got, tc.want)
		}
	}
}

// TestConnectionCommunityID checks that a tracked connection carries the
// spec's ID for its tuple, whichever side sent first.
func TestConnectionCommunityID(t *testing.T) {
	s := newSession(t, Config{})
	s.cli, s.srv = netip.MustParseAddr("128.232.110.120"), netip.MustParseAddr("66.35.250.204")
	s.cport, s.sport = 34855, 80
	s.s("PA", 10) // the server speaks first: the tuple is flipped
	c := s.one()
	if c.CommunityID != "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" {
		t.Fatalf("community id %s", c.CommunityID)
	}
	s = newSession(t, Config{})
	s.feed(decode.Packet{Src: netip.MustParseAddr("192.168.0.1"), Dst: netip.MustParseAddr("192.168.0.89"),
		Proto: decode.ProtoICMP, ICMPType: 0, ICMPID: 5, IPLen: 84})
	if c := s.one(); c.CommunityID != "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=" {
		t.Fatalf("icmp community id %s", c.CommunityID)
	}
}

func BenchmarkCommunityID(b *testing.B) {
	src, dst := netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("10.20.0.7")
	b.ReportAllocs()
	for b.Loop() {
		_ = CommunityID(0, src, dst, 51234, 443, decode.ProtoTCP)
	}
}
