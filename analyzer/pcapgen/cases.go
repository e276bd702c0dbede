package pcapgen

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Case is one committed capture: a scenario and how to write it.
type Case struct {
	Name  string // file name under the case directory
	Desc  string // what the file exercises, for README.md
	Opts  WriteOptions
	Build func() *Scenario
}

// Bytes builds and writes the case, returning the file contents and the
// scenario (whose Flows then report per-flow packet counts).
func (c Case) Bytes() ([]byte, *Scenario, Stats, error) {
	s := c.Build()
	var b bytes.Buffer
	st, err := s.Write(&b, c.Opts)
	if err != nil {
		return nil, nil, st, fmt.Errorf("%s: %w", c.Name, err)
	}
	return b.Bytes(), s, st, nil
}

// Addresses used by the committed captures.
var (
	ws1    = netip.MustParseAddr("10.0.0.10")  // workstation
	ws2    = netip.MustParseAddr("10.0.0.11")  // second workstation
	gw     = netip.MustParseAddr("10.0.0.1")   // default gateway / firewall
	srv    = netip.MustParseAddr("10.0.1.20")  // application server
	dns1   = netip.MustParseAddr("10.0.1.53")  // DNS server
	rasGW  = netip.MustParseAddr("10.0.0.30")  // Parallels RAS gateway on the client LAN
	ws1v6  = netip.MustParseAddr("fd00::10")   // workstation, IPv6
	srvv6  = netip.MustParseAddr("fd00:1::20") // server, IPv6
	dnsv6  = netip.MustParseAddr("fd00:1::53")
	vtepA  = netip.MustParseAddr("192.0.2.1") // tunnel endpoints
	vtepB  = netip.MustParseAddr("192.0.2.2")
	vtepA6 = netip.MustParseAddr("2001:db8::1")
	vtepB6 = netip.MustParseAddr("2001:db8::2")
)

const session uint16 = 443 // HTTPS, the default session port of the cases

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func ap(a netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(a, port) }

// basic is the scenario of the format cases: an IPv4 HTTPS session, a DNS
// lookup, ICMP echo, ARP and an IPv6 HTTPS session, all on Ethernet.
func basic(seed uint64) func() *Scenario {
	return func() *Scenario {
		s := New(Config{Seed: seed})
		s.ARP(0, ws1, gw, true, Path{})
		s.UDP(ms(2), s.Client(ws1), ap(dns1, 53), UDPOpts{DNS: "app.corp.example"})
		s.TCP(ms(10), s.Client(ws1), ap(srv, session), TCPOpts{Exchanges: 3, Request: 400, Response: 5000})
		s.Ping(ms(20), ws1, srv, PingOpts{Count: 2})
		s.TCP(ms(30), s.Client(ws1v6), ap(srvv6, session), TCPOpts{Exchanges: 2, Request: 300, Response: 2000})
		return s
	}
}

// ipOnly is the scenario of the raw-IP link cases: no ARP, and only the
// IP versions the link type can carry.
func ipOnly(seed uint64, link LinkType, v4, v6 bool) func() *Scenario {
	return func() *Scenario {
		s := New(Config{Seed: seed, Ifaces: []Iface{{Name: "tun0", Link: link}}})
		if v4 {
			s.UDP(ms(1), s.Client(ws1), ap(dns1, 53), UDPOpts{DNS: "app.corp.example"})
			s.TCP(ms(5), s.Client(ws1), ap(srv, session), TCPOpts{Exchanges: 2})
			s.Ping(ms(8), ws1, srv, PingOpts{Count: 1})
		}
		if v6 {
			s.UDP(ms(3), s.Client(ws1v6), ap(dnsv6, 53), UDPOpts{DNS: "app.corp.example"})
			s.TCP(ms(12), s.Client(ws1v6), ap(srvv6, session), TCPOpts{Exchanges: 2})
			s.Ping(ms(15), ws1v6, srvv6, PingOpts{Count: 1})
		}
		return s
	}
}

// withPath is one IPv4 TCP session and one DNS lookup over each path, and
// an IPv6 session over the first.
func withPath(seed uint64, paths ...Path) func() *Scenario {
	return func() *Scenario {
		s := New(Config{Seed: seed})
		for i, p := range paths {
			t := ms(20 * i)
			s.UDP(t, s.Client(ws1), ap(dns1, 53), UDPOpts{DNS: "app.corp.example", Path: p})
			s.TCP(t+ms(3), s.Client(ws1), ap(srv, session), TCPOpts{Exchanges: 2, Request: 500, Response: 3000, Path: p})
		}
		s.TCP(ms(20*len(paths)), s.Client(ws1v6), ap(srvv6, session), TCPOpts{Path: paths[0]})
		return s
	}
}

func tunnelled(seed uint64, t Tunnel, v4, v6 bool, arp bool) func() *Scenario {
	return func() *Scenario {
		s := New(Config{Seed: seed})
		p := Path{Tunnel: t}
		if arp {
			s.ARP(0, ws1, gw, true, p)
		}
		if v4 {
			s.UDP(ms(1), s.Client(ws1), ap(dns1, 53), UDPOpts{DNS: "app.corp.example", Path: p})
			s.TCP(ms(4), s.Client(ws1), ap(srv, session), TCPOpts{Exchanges: 2, Response: 4000, Path: p})
			s.Ping(ms(9), ws1, srv, PingOpts{Count: 1, Path: p})
		}
		if v6 {
			s.TCP(ms(12), s.Client(ws1v6), ap(srvv6, session), TCPOpts{Exchanges: 2, Response: 4000, Path: p})
			s.Ping(ms(16), ws1v6, srvv6, PingOpts{Count: 1, Path: p})
		}
		return s
	}
}

// LinkTypeCases are the captures under testdata/captures: every file
// format, byte order, timestamp resolution, link type, L2 encapsulation
// and tunnel the reader and decoder must handle.
func LinkTypeCases() []Case {
	le := WriteOptions{}
	return []Case{
		{Name: "pcap-le-usec.pcap", Desc: "Reference file: pcap little-endian, microsecond. ARP, DNS, IPv4 HTTPS session, ICMP echo, IPv6 HTTPS session.", Opts: le, Build: basic(1)},
		{Name: "pcap-le-nsec.pcap", Desc: "Same flows as pcap-le-usec.pcap, nanosecond timestamps (magic a1b23c4d).", Opts: WriteOptions{Nanosecond: true}, Build: basic(1)},
		{Name: "pcap-be-usec.pcap", Desc: "Same flows, big-endian pcap headers, microsecond.", Opts: WriteOptions{BigEndian: true}, Build: basic(1)},
		{Name: "pcap-be-nsec.pcap", Desc: "Same flows, big-endian pcap headers, nanosecond.", Opts: WriteOptions{BigEndian: true, Nanosecond: true}, Build: basic(1)},
		{Name: "pcapng-le.pcapng", Desc: "Same flows, pcapng little-endian (if_tsresol 9, nanosecond).", Opts: WriteOptions{Format: FormatPcapNG}, Build: basic(1)},
		{Name: "pcapng-be-usec.pcapng", Desc: "Same flows, pcapng big-endian section, no if_tsresol option (default microsecond).", Opts: WriteOptions{Format: FormatPcapNG, BigEndian: true}, Build: basic(1)},
		{Name: "pcapng-be-nsec.pcapng", Desc: "Same flows, pcapng big-endian section, if_tsresol 9.", Opts: WriteOptions{Format: FormatPcapNG, BigEndian: true, Nanosecond: true}, Build: basic(1)},
		{Name: "pcap-le-usec.pcap.gz", Desc: "pcap-le-usec.pcap compressed with gzip.", Opts: WriteOptions{Gzip: true}, Build: basic(1)},
		{Name: "pcapng-le.pcapng.gz", Desc: "pcapng-le.pcapng compressed with gzip.", Opts: WriteOptions{Format: FormatPcapNG, Gzip: true}, Build: basic(1)},
		{Name: "snaplen-96.pcap", Desc: "Same flows with snaplen 96: frames longer than 96 bytes are truncated (captured length < original length).", Opts: WriteOptions{Snaplen: 96}, Build: basic(1)},
		{Name: "pcapng-multi-iface.pcapng", Desc: "pcapng with five interfaces of four link types: eth0 Ethernet, trunk0 Ethernet with VLAN 30, tun0 RAW (101), lo0 NULL (0), any SLL (113); one or two flows on each.", Opts: WriteOptions{Format: FormatPcapNG}, Build: multiIface},
		{Name: "link-null.pcap", Desc: "LINKTYPE_NULL (0): 4-byte host-order address family, AF_INET 2 and AF_INET6 30 (Darwin).", Opts: le, Build: ipOnly(2, LinkNull, true, true)},
		{Name: "link-raw.pcap", Desc: "LINKTYPE_RAW (101): bare IPv4 and IPv6 packets.", Opts: le, Build: ipOnly(3, LinkRaw, true, true)},
		{Name: "link-ipv4.pcap", Desc: "LINKTYPE_IPV4 (228): bare IPv4 packets.", Opts: le, Build: ipOnly(4, LinkIPv4, true, false)},
		{Name: "link-ipv6.pcap", Desc: "LINKTYPE_IPV6 (229): bare IPv6 packets.", Opts: le, Build: ipOnly(5, LinkIPv6, false, true)},
		{Name: "link-sll.pcap", Desc: "LINKTYPE_LINUX_SLL (113): 16-byte cooked header; packet type 4 outgoing, 0 incoming, 1 broadcast.", Opts: le, Build: cooked(6, LinkSLL)},
		{Name: "link-sll2.pcap", Desc: "LINKTYPE_LINUX_SLL2 (276): 20-byte cooked v2 header, interface index 2.", Opts: le, Build: cooked(7, LinkSLL2)},
		{Name: "vlan-8021q.pcap", Desc: "802.1Q: flows untagged, in VLAN 100 and in VLAN 200 (same addresses in each VLAN).", Opts: le, Build: withPath(8, Path{}, Path{VLANs: []uint16{100}}, Path{VLANs: []uint16{200}})},
		{Name: "vlan-qinq.pcap", Desc: "Double tags: 802.1ad 0x88a8 outer 10 + 0x8100 inner 100, then two 0x8100 tags 20/200.", Opts: le, Build: withPath(9, Path{VLANs: []uint16{10, 100}, QinQ: true}, Path{VLANs: []uint16{20, 200}})},
		{Name: "mpls.pcap", Desc: "MPLS (0x8847): one label 100, then a two-label stack 200/300, then VLAN 50 + label 400.", Opts: le, Build: withPath(10, Path{MPLS: []uint32{100}}, Path{MPLS: []uint32{200, 300}}, Path{VLANs: []uint16{50}, MPLS: []uint32{400}})},
		{Name: "pppoe.pcap", Desc: "PPPoE session (0x8864) id 0x1234 carrying PPP IPv4 (0x0021) and IPv6 (0x0057); then VLAN 7 + PPPoE.", Opts: le, Build: withPath(11, Path{PPPoE: 0x1234}, Path{VLANs: []uint16{7}, PPPoE: 0x1235})},
		{Name: "tunnel-vxlan.pcap", Desc: "VXLAN (UDP 4789, VNI 5001) between 192.0.2.1 and 192.0.2.2 carrying Ethernet: inner ARP, DNS, TCP, ICMP, IPv6 TCP and ICMPv6. Outer flow: udp 192.0.2.x -> 4789.", Opts: le, Build: tunnelled(12, Tunnel{Kind: TunnelVXLAN, Src: vtepA, Dst: vtepB, ID: 5001}, true, true, true)},
		{Name: "tunnel-geneve.pcap", Desc: "GENEVE (UDP 6081, VNI 7001, protocol 0x6558) over IPv6 outer 2001:db8::1/::2 carrying Ethernet.", Opts: le, Build: tunnelled(13, Tunnel{Kind: TunnelGENEVE, Src: vtepA6, Dst: vtepB6, ID: 7001}, true, true, true)},
		{Name: "tunnel-gre.pcap", Desc: "GRE (IP protocol 47) with key 42 carrying IPv4 and IPv6 directly.", Opts: le, Build: tunnelled(14, Tunnel{Kind: TunnelGRE, Src: vtepA, Dst: vtepB, ID: 42}, true, true, false)},
		{Name: "tunnel-erspan.pcap", Desc: "ERSPAN type II (GRE 0x88be with sequence numbers, session 3): mirrored Ethernet frames, both directions sent 192.0.2.1 -> 192.0.2.2.", Opts: le, Build: tunnelled(15, Tunnel{Kind: TunnelERSPAN, Src: vtepA, Dst: vtepB, ID: 3}, true, true, true)},
		{Name: "tunnel-ipip.pcap", Desc: "IP-in-IP (IPv4 in IPv4, protocol 4).", Opts: le, Build: tunnelled(16, Tunnel{Kind: TunnelIPinIP, Src: vtepA, Dst: vtepB}, true, false, false)},
		{Name: "tunnel-6in4.pcap", Desc: "6in4 (IPv6 in IPv4, protocol 41).", Opts: le, Build: tunnelled(17, Tunnel{Kind: TunnelIPinIP, Src: vtepA, Dst: vtepB}, false, true, false)},
		{Name: "ipv6-exthdr.pcap", Desc: "IPv6 extension headers: TCP behind hop-by-hop + destination options, ICMPv6 echo behind hop-by-hop, a 3000-byte UDP datagram in IPv6 fragments (fragment header 44, MTU 1280), neighbour discovery.", Opts: le, Build: ipv6Ext},
		{Name: "ipv4-fragments.pcap", Desc: "IPv4 fragments (MTU 1500): a 4000-byte UDP request in 3 fragments and its 2500-byte response in 2, in order; then a 3000-byte request whose 3 fragments are sent last first, answered by an unfragmented 100-byte datagram.", Opts: le, Build: ipv4Frags},
		{Name: "noise.pcap", Desc: "LAN noise: ARP, IPv6 neighbour discovery, LLMNR (v4, v6), mDNS, VRRP advertisements to 224.0.0.18, a UDP 20000 broadcast (RAS gateway lookup) answered by the gateway, an unanswered NetBIOS-style broadcast to 10.0.0.255.", Opts: le, Build: noise},
	}
}

func cooked(seed uint64, link LinkType) func() *Scenario {
	return func() *Scenario {
		s := New(Config{Seed: seed, Ifaces: []Iface{{Name: "any", Link: link}}})
		s.ARP(0, ws1, gw, true, Path{})
		s.UDP(ms(1), s.Client(ws1), ap(dns1, 53), UDPOpts{DNS: "app.corp.example"})
		s.TCP(ms(4), s.Client(ws1), ap(srv, session), TCPOpts{Exchanges: 2})
		s.TCP(ms(9), s.Client(ws1v6), ap(srvv6, session), TCPOpts{})
		return s
	}
}

func multiIface() *Scenario {
	s := New(Config{Seed: 20, Ifaces: []Iface{
		{Name: "eth0", Link: LinkEthernet},
		{Name: "trunk0", Link: LinkEthernet},
		{Name: "tun0", Link: LinkRaw},
		{Name: "lo0", Link: LinkNull},
		{Name: "any", Link: LinkSLL},
	}})
	s.TCP(0, s.Client(ws1), ap(srv, session), TCPOpts{Path: Path{Iface: 0}})
	s.UDP(ms(2), s.Client(ws2), ap(dns1, 53), UDPOpts{DNS: "trunk.corp.example", Path: Path{Iface: 1, VLANs: []uint16{30}}})
	s.TCP(ms(4), s.Client(ws1), ap(srv, 3389), TCPOpts{Path: Path{Iface: 2}})
	s.UDP(ms(5), s.Client(ws1v6), ap(dnsv6, 53), UDPOpts{DNS: "tun.corp.example", Path: Path{Iface: 2}})
	lo := netip.MustParseAddr("127.0.0.1")
	s.TCP(ms(6), s.Client(lo), ap(lo, 8080), TCPOpts{Path: Path{Iface: 3}})
	s.Ping(ms(7), ws2, gw, PingOpts{Count: 2, Path: Path{Iface: 4}})
	return s
}

func ipv6Ext() *Scenario {
	s := New(Config{Seed: 21})
	both := Path{IPv6Ext: ExtHopByHop | ExtDestOpts}
	s.Neighbor(0, ws1v6, netip.MustParseAddr("fd00::1"), true, Path{})
	s.TCP(ms(1), s.Client(ws1v6), ap(srvv6, session), TCPOpts{Exchanges: 2, Response: 3000, Path: both})
	s.Ping(ms(5), ws1v6, srvv6, PingOpts{Count: 2, Path: Path{IPv6Ext: ExtHopByHop}})
	s.UDP(ms(8), s.Client(ws1v6), ap(srvv6, 5004), UDPOpts{Request: 3000, Response: 200, Fragment: 1280, Path: Path{IPv6Ext: ExtDestOpts}})
	return s
}

func ipv4Frags() *Scenario {
	s := New(Config{Seed: 22})
	s.UDP(0, s.Client(ws1), ap(srv, 5004), UDPOpts{Request: 4000, Response: 2500, Fragment: 1500})
	s.UDP(ms(50), s.Client(ws1), ap(srv, 5005), UDPOpts{Request: 3000, Response: 100, Fragment: 1500, FragmentReverse: true})
	return s
}

func noise() *Scenario {
	s := New(Config{Seed: 23})
	s.ARP(0, ws1, gw, true, Path{})
	s.ARP(ms(1), ws2, netip.MustParseAddr("10.0.0.99"), false, Path{})
	s.Neighbor(ms(2), ws1v6, netip.MustParseAddr("fd00::1"), true, Path{})
	s.LLMNR(ms(3), ws1, "fileserver", Path{})
	s.LLMNR(ms(4), ws1v6, "fileserver", Path{})
	s.MDNS(ms(5), ws2, "_printer._tcp.local", Path{})
	s.VRRP(ms(6), netip.MustParseAddr("10.0.0.2"), gw, VRRPOpts{VRID: 7, Priority: 200, Count: 3})
	s.UDP(ms(10), s.Client(ws1), ap(netip.MustParseAddr("255.255.255.255"), 20000), UDPOpts{From: rasGW, Request: 48, Response: 120, Note: "RAS gateway lookup: broadcast answered by 10.0.0.30"})
	s.UDP(ms(12), ap(ws2, 138), ap(netip.MustParseAddr("10.0.0.255"), 138), UDPOpts{Reply: ReplyNone, Request: 180, Note: "subnet broadcast, unanswered"})
	return s
}

// FlowCases are the captures under testdata/flowcases: one per Zeek
// conn_state, ICMP errors attached to flows, a mid-stream session,
// UDP request/response, and a capture rotated into two files.
func FlowCases() []Case {
	le := WriteOptions{}
	one := func(seed uint64, o TCPOpts) func() *Scenario {
		return func() *Scenario {
			s := New(Config{Seed: seed})
			s.TCP(0, s.Client(ws1), ap(srv, session), o)
			return s
		}
	}
	return []Case{
		{Name: "conn-S0.pcap", Desc: "SYN and two retransmissions (1 s, 2 s later), no answer.", Opts: le, Build: one(100, TCPOpts{Open: OpenUnanswered})},
		{Name: "conn-S1.pcap", Desc: "Established, data both ways, never closed.", Opts: le, Build: one(101, TCPOpts{Exchanges: 2, Close: CloseNone})},
		{Name: "conn-SF.pcap", Desc: "Handshake, 3 request/response exchanges, FIN both ways.", Opts: le, Build: one(102, TCPOpts{Exchanges: 3, Response: 6000})},
		{Name: "conn-REJ.pcap", Desc: "SYN answered by RST-ACK.", Opts: le, Build: one(103, TCPOpts{Open: OpenRefused})},
		{Name: "conn-S2.pcap", Desc: "Established; the originator sends FIN, the responder only ACKs it.", Opts: le, Build: one(104, TCPOpts{Close: CloseHalfOrig})},
		{Name: "conn-S3.pcap", Desc: "Established; the responder sends FIN, the originator only ACKs it.", Opts: le, Build: one(105, TCPOpts{Close: CloseHalfResp})},
		{Name: "conn-RSTO.pcap", Desc: "Established, data, then the originator sends RST.", Opts: le, Build: one(106, TCPOpts{Close: CloseRST})},
		{Name: "conn-RSTR.pcap", Desc: "Established, data, then the responder sends RST.", Opts: le, Build: one(107, TCPOpts{Close: CloseRSTResp})},
		{Name: "conn-RSTOS0.pcap", Desc: "SYN, retransmission, then RST from the originator; no SYN-ACK.", Opts: le, Build: one(108, TCPOpts{Open: OpenUnanswered, Retries: 1, Close: CloseRST})},
		{Name: "conn-RSTRH.pcap", Desc: "SYN-ACK from the responder (SYN not captured), then RST from the responder.", Opts: le, Build: one(109, TCPOpts{Open: OpenSynAckOnly, Close: CloseRSTResp})},
		{Name: "conn-SH.pcap", Desc: "SYN then FIN from the originator (half-open); no SYN-ACK.", Opts: le, Build: one(110, TCPOpts{Open: OpenUnanswered, Retries: 1, Close: CloseHalfOrig})},
		{Name: "conn-SHR.pcap", Desc: "SYN-ACK (SYN not captured) then FIN from the responder.", Opts: le, Build: one(111, TCPOpts{Open: OpenSynAckOnly, Close: CloseHalfResp})},
		{Name: "conn-OTH.pcap", Desc: "Mid-stream: data and ACKs both ways, no SYN, no FIN.", Opts: le, Build: one(112, TCPOpts{Open: OpenMidStream, Exchanges: 2, Close: CloseNone})},
		{Name: "midstream-40000-49752.pcap", Desc: "Mid-stream TCP 10.0.0.10:40000 -> 10.0.1.20:49752 (Citrix WEM agent port): the first captured packet is server data 49752 -> 40000; the client is 40000 because 49752 is a documented server port. No SYN, no FIN.", Opts: le, Build: midstream},
		{Name: "icmp-unreach-udp.pcap", Desc: "UDP to closed ports answered by ICMP port unreachable quoting the datagram: IPv4 (udp/161, type 3 code 3) and IPv6 (udp/161, ICMPv6 type 1 code 4). The quoted headers must attach the error to the UDP flow, not create a flow.", Opts: le, Build: icmpUnreach},
		{Name: "icmp-prohibited.pcap", Desc: "A firewall (10.0.0.1) answers with ICMP administratively prohibited (type 3 code 13): TCP SYN to 1494 (and its retransmission), UDP to 2598; a router reports host unreachable (code 1) for UDP to 10.0.9.9.", Opts: le, Build: icmpProhibitedCase},
		{Name: "udp-reqresp.pcap", Desc: "UDP request/response: DNS (udp/53), Kerberos (udp/88, 3 exchanges), NTP (udp/123), an unanswered SNMP request (udp/161), and a media stream one way (udp/5004).", Opts: le, Build: udpReqResp},
		{Name: "rotated-1.pcap", Desc: "First file of a capture rotated at t=1.5 s: a long session to 10.0.1.20:3389 starts here (SYN) and continues into rotated-2.pcap; a DNS exchange entirely in this file. Read alone the session is S1; read with rotated-2.pcap (in order) it is one SF flow.", Opts: WriteOptions{Until: 1500 * time.Millisecond}, Build: rotated},
		{Name: "rotated-2.pcap", Desc: "Second file of the rotated capture: the session's remaining data and its FINs (no SYN), and a new HTTPS session. Read alone, the 3389 session is mid-stream (Zeek: SF with no SYN in its history).", Opts: WriteOptions{From: 1500 * time.Millisecond}, Build: rotated},
	}
}

func midstream() *Scenario {
	s := New(Config{Seed: 113})
	s.TCP(0, ap(ws1, 40000), ap(srv, 49752), TCPOpts{Open: OpenMidStream, ServerFirst: true, Exchanges: 3, Request: 200, Response: 2500, Close: CloseNone})
	return s
}

func icmpUnreach() *Scenario {
	s := New(Config{Seed: 114})
	s.UDP(0, s.Client(ws1), ap(srv, 161), UDPOpts{Reply: ReplyPortUnreachable, Request: 60})
	s.UDP(ms(10), s.Client(ws1v6), ap(srvv6, 161), UDPOpts{Reply: ReplyPortUnreachable, Request: 60})
	return s
}

func icmpProhibitedCase() *Scenario {
	s := New(Config{Seed: 115})
	s.TCP(0, s.Client(ws1), ap(srv, 1494), TCPOpts{Open: OpenProhibited, Retries: 1, From: gw})
	s.UDP(ms(5), s.Client(ws1), ap(srv, 2598), UDPOpts{Reply: ReplyProhibited, From: gw})
	s.UDP(ms(9), s.Client(ws1), ap(netip.MustParseAddr("10.0.9.9"), 4172), UDPOpts{Reply: ReplyHostUnreachable, From: gw})
	return s
}

func udpReqResp() *Scenario {
	s := New(Config{Seed: 116})
	s.UDP(0, s.Client(ws1), ap(dns1, 53), UDPOpts{DNS: "horizon.corp.example"})
	s.UDP(ms(5), s.Client(ws1), ap(dns1, 88), UDPOpts{Requests: 3, Request: 250, Response: 1200, Interval: ms(30)})
	s.UDP(ms(8), ap(ws1, 123), ap(gw, 123), UDPOpts{Request: 48, Response: 48})
	s.UDP(ms(12), s.Client(ws1), ap(srv, 161), UDPOpts{Reply: ReplyNone, Request: 45})
	s.Stream(ms(20), s.Client(ws1), ap(srv, 5004), StreamOpts{Duration: ms(200), Interval: ms(20), Size: 172})
	return s
}

func rotated() *Scenario {
	s := New(Config{Seed: 117})
	s.TCP(0, s.Client(ws1), ap(srv, 3389), TCPOpts{Exchanges: 8, Request: 200, Response: 1500, Think: 300 * time.Millisecond})
	s.UDP(ms(100), s.Client(ws1), ap(dns1, 53), UDPOpts{DNS: "rds.corp.example"})
	s.TCP(ms(2000), s.Client(ws1), ap(srv, session), TCPOpts{})
	return s
}

// GenerateCases writes every case into dir, then dir/README.md describing
// them. Files are written whole or not at all.
func GenerateCases(dir string, cases []Case) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var md strings.Builder
	md.WriteString(readmeHead)
	for _, c := range cases {
		data, s, st, err := c.Bytes()
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, c.Name), data, 0o644); err != nil {
			return err
		}
		writeRow(&md, c, s, st)
	}
	return os.WriteFile(filepath.Join(dir, "README.md"), []byte(md.String()), 0o644)
}

// GenerateAll regenerates every committed capture: LinkTypeCases under
// testdata/captures, FlowCases under testdata/flowcases and NameCases
// under testdata/names (next to its hand-written inventory.yaml).
func GenerateAll(testdata string) error {
	if err := GenerateCases(filepath.Join(testdata, "captures"), LinkTypeCases()); err != nil {
		return err
	}
	if err := GenerateCases(filepath.Join(testdata, "flowcases"), FlowCases()); err != nil {
		return err
	}
	return GenerateCases(filepath.Join(testdata, "names"), NameCases())
}

const readmeHead = `# Generated captures

Written by ` + "`go run ./cmd/pcapgen -kind generate-all`" + ` (package analyzer/pcapgen); do not edit.
` + "`go test ./analyzer/pcapgen -update`" + ` rewrites them, and the package's tests fail if these
files differ from what the generator produces. Every file starts at 2024-03-04 09:00:00 UTC.

Flows are listed in order of their first packet as
` + "`proto originator -> responder state, orig/resp packets, orig/resp payload bytes`" + `. The state
is Zeek's conn_state for the packets in the file (UDP: SF answered, S0 not; ICMP, VRRP: OTH;
ARP: -). Packets count frames (each IP fragment is one); payload bytes are TCP/UDP data and ICMP
echo data. ICMP errors quoting a flow are listed with it, not as flows. Tunnelled flows are the
inner flows; the outer tunnel packets form one more flow between the tunnel endpoints. Client
ports are ephemeral ports drawn by the generator.

| File | Format | Link type | Packets | Flows | Contents |
| --- | --- | --- | --- | --- | --- |
`

func writeRow(md *strings.Builder, c Case, s *Scenario, st Stats) {
	format := c.Opts.Format.String()
	switch {
	case c.Opts.Format == FormatPcapNG && c.Opts.BigEndian:
		format += ", big-endian, " + map[bool]string{false: "µs", true: "ns"}[c.Opts.Nanosecond]
	case c.Opts.Format == FormatPcapNG:
		format += ", little-endian, ns"
	default:
		format += ", " + map[bool]string{false: "little", true: "big"}[c.Opts.BigEndian] + "-endian, " + map[bool]string{false: "µs", true: "ns"}[c.Opts.Nanosecond]
	}
	if c.Opts.Snaplen != 0 {
		format += fmt.Sprintf(", snaplen %d", c.Opts.Snaplen)
	}
	if c.Opts.Gzip {
		format += ", gzip"
	}
	var links []string
	for _, ifc := range s.ifaces {
		links = append(links, fmt.Sprintf("%s (%d)", ifc.Link, uint16(ifc.Link)))
	}
	var flows []string
	for _, f := range s.Flows() {
		if f.Packets == 0 {
			continue
		}
		state := f.State
		if c.Opts.From > 0 || c.Opts.Until > 0 {
			state = windowState(f, c.Opts)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s -> %s %s, %d/%d pkts", f.Proto, endpoint(f.Orig, f.Proto), endpoint(f.Resp, f.Proto), state, f.OrigPkts, f.RespPkts)
		if f.Proto != "arp" && f.Proto != "vrrp" {
			fmt.Fprintf(&b, ", %d/%d B", f.OrigBytes, f.RespBytes)
		}
		if f.ReplyFrom.IsValid() && f.Proto != "vrrp" {
			fmt.Fprintf(&b, ", replies from %s", f.ReplyFrom)
		}
		if f.ICMPErrors > 0 {
			fmt.Fprintf(&b, ", +%d ICMP error(s)", f.ICMPErrors)
		}
		if f.Tunnel != TunnelNone {
			fmt.Fprintf(&b, " in %s", f.Tunnel)
		}
		if f.Note != "" {
			fmt.Fprintf(&b, ": %s", f.Note)
		}
		flows = append(flows, b.String())
	}
	fmt.Fprintf(md, "| %s | %s | %s | %d | %s | %s |\n", c.Name, format, strings.Join(links, ", "), st.Packets, strings.Join(flows, "<br>"), c.Desc)
}

func endpoint(a netip.AddrPort, proto string) string {
	if a.Port() == 0 && proto != "tcp" && proto != "udp" {
		return a.Addr().String()
	}
	return a.String()
}

// windowState is the expected state of a TCP flow that a rotation window
// cuts: the rotated cases only cut normally opened, FIN-closed sessions.
func windowState(f FlowInfo, o WriteOptions) string {
	cutStart := f.Start < o.From
	cutEnd := o.Until > 0 && f.End >= o.Until
	switch {
	case f.Proto != "tcp" || f.State != "SF" || (!cutStart && !cutEnd):
		return f.State
	case cutStart && cutEnd:
		return "OTH (mid-stream, continues in the next file)"
	case cutEnd:
		return "S1 (continues in the next file)"
	}
	return "SF (mid-stream: no SYN in this file)"
}
