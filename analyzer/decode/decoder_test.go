package decode

import (
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Addresses used across the cases.
const (
	cli4, srv4 = "10.0.0.1", "192.0.2.10"
	out4a      = "198.51.100.1"
	out4b      = "198.51.100.2"
	cli6, srv6 = "2001:db8::1", "2001:db8:1::10"
	out6a      = "2001:db8:ff::1"
	out6b      = "2001:db8:ff::2"
)

// tcpPkt is the Packet of a TCP segment with tcp(...)'s defaults.
func tcpPkt(src, dst string, sport, dport uint16, flags uint8, ipLen, payload int) Packet {
	return Packet{Src: addr(src), Dst: addr(dst), SrcPort: sport, DstPort: dport, Proto: ProtoTCP,
		TCPFlags: flags, Seq: 1000, Ack: 2000, Window: 4096, IPLen: ipLen, PayloadLen: payload}
}

func udpPkt(src, dst string, sport, dport uint16, ipLen, payload int) Packet {
	return Packet{Src: addr(src), Dst: addr(dst), SrcPort: sport, DstPort: dport, Proto: ProtoUDP, IPLen: ipLen, PayloadLen: payload}
}

// with applies changes to a Packet, for readable expectations.
func with(p Packet, f func(*Packet)) Packet { f(&p); return p }

type decodeCase struct {
	name   string
	link   uint32
	frame  []byte
	reason Reason
	want   Packet
}

func decodeCases(t testing.TB) []decodeCase {
	syn := tcp(50000, 443, true, false)
	syn.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}}, {OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2}}
	synFrame := build(t, eth(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolTCP), syn)

	icmpEcho := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 0x4242, Seq: 7}
	icmpEchoPkt := Packet{Src: addr(cli4), Dst: addr(srv4), Proto: ProtoICMP, ICMPType: 8, ICMPID: 0x4242, IPLen: 20 + 8 + 32, PayloadLen: 32}

	// The datagram an ICMP error quotes: IP header and 8 bytes of UDP/TCP.
	quotedUDP := build(t, ip4(srv4, cli4, layers.IPProtocolUDP), udp(33000, 53), payloadN(40))[:28]
	quotedTCP6 := build(t, ip6(cli6, srv6, layers.IPProtocolTCP), tcp(40000, 8443, false, true), payloadN(1400))[:48]

	hbh := &layers.IPv6HopByHop{Options: []*layers.IPv6HopByHopOption{{OptionType: 1, OptionLength: 4, OptionData: make([]byte, 4)}}} // PadN
	hbh.NextHeader = layers.IPProtocolIPv6Routing
	ext6 := ip6(cli6, srv6, layers.IPProtocolIPv6HopByHop)
	ext6.HopByHop = hbh
	dest := &layers.IPv6Destination{Options: []*layers.IPv6DestinationOption{{OptionType: 1, OptionLength: 4, OptionData: make([]byte, 4)}}}
	dest.NextHeader = layers.IPProtocolTCP

	frag4 := func(offset uint16, more bool) *layers.IPv4 {
		ip := ip4(cli4, srv4, layers.IPProtocolUDP)
		ip.Id = 0x7777
		ip.FragOffset = offset / 8
		if more {
			ip.Flags = layers.IPv4MoreFragments
		}
		return ip
	}
	// A first fragment: UDP header (length of the whole datagram) and the
	// first 1472 bytes of it.
	firstFrag4 := build(t, eth(layers.EthernetTypeIPv4), frag4(0, true), rawLayer{b: build(t, udp(5353, 53), payloadN(3000))[:1480]})
	allFlags := tcp(50000, 443, true, true)
	allFlags.FIN, allFlags.RST, allFlags.PSH, allFlags.URG, allFlags.ECE, allFlags.CWR, allFlags.NS = true, true, true, true, true, true, true
	oneFlag := func(set func(*layers.TCP)) []byte {
		l := tcp(50000, 443, false, false)
		set(l)
		return build(t, eth(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolTCP), l)
	}

	cases := []decodeCase{
		// Link types.
		{"ethernet-ipv4-tcp-syn", LinkTypeEthernet, synFrame, ReasonNone, tcpPkt(cli4, srv4, 50000, 443, FlagSYN, 48, 0)},
		{"ethernet-ipv4-tcp-data", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolTCP), tcp(50000, 443, false, true), payloadN(100)), ReasonNone, tcpPkt(cli4, srv4, 50000, 443, FlagACK, 140, 100)},
		{"tcp-every-flag", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolTCP), allFlags), ReasonNone, tcpPkt(cli4, srv4, 50000, 443, 0xff, 40, 0)},
		{"tcp-fin", LinkTypeEthernet, oneFlag(func(l *layers.TCP) { l.FIN = true }), ReasonNone, tcpPkt(cli4, srv4, 50000, 443, FlagFIN, 40, 0)},
		{"tcp-rst", LinkTypeEthernet, oneFlag(func(l *layers.TCP) { l.RST = true }), ReasonNone, tcpPkt(cli4, srv4, 50000, 443, FlagRST, 40, 0)},
		{"tcp-psh", LinkTypeEthernet, oneFlag(func(l *layers.TCP) { l.PSH = true }), ReasonNone, tcpPkt(cli4, srv4, 50000, 443, FlagPSH, 40, 0)},
		{"tcp-urg", LinkTypeEthernet, oneFlag(func(l *layers.TCP) { l.URG = true }), ReasonNone, tcpPkt(cli4, srv4, 50000, 443, FlagURG, 40, 0)},
		{"tcp-ece", LinkTypeEthernet, oneFlag(func(l *layers.TCP) { l.ECE = true }), ReasonNone, tcpPkt(cli4, srv4, 50000, 443, FlagECE, 40, 0)},
		{"tcp-cwr", LinkTypeEthernet, oneFlag(func(l *layers.TCP) { l.CWR = true }), ReasonNone, tcpPkt(cli4, srv4, 50000, 443, FlagCWR, 40, 0)},
		{"tcp-ns-only", LinkTypeEthernet, oneFlag(func(l *layers.TCP) { l.NS = true }), ReasonNone, tcpPkt(cli4, srv4, 50000, 443, 0, 40, 0)},
		{"ethernet-padded-udp", LinkTypeEthernet, append(build(t, eth(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolUDP), udp(1234, 53), payloadN(2)), make([]byte, 16)...), ReasonNone, udpPkt(cli4, srv4, 1234, 53, 30, 2)},
		{"ethernet-ipv6-udp", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv6), ip6(cli6, srv6, layers.IPProtocolUDP), udp(5000, 3478), payloadN(20)), ReasonNone, udpPkt(cli6, srv6, 5000, 3478, 68, 20)},
		{"sll-ipv4-udp", LinkTypeLinuxSLL, build(t, sllHeader(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolUDP), udp(1812, 1812), payloadN(10)), ReasonNone, udpPkt(cli4, srv4, 1812, 1812, 38, 10)},
		{"sll2-ipv6-tcp", LinkTypeSLL2, build(t, sll2Header(layers.EthernetTypeIPv6), ip6(cli6, srv6, layers.IPProtocolTCP), tcp(40000, 80, true, true)), ReasonNone, tcpPkt(cli6, srv6, 40000, 80, FlagSYN|FlagACK, 60, 0)},
		{"raw-101-ipv4", LinkTypeRaw, build(t, ip4(cli4, srv4, layers.IPProtocolTCP), tcp(1, 2, false, true)), ReasonNone, tcpPkt(cli4, srv4, 1, 2, FlagACK, 40, 0)},
		{"raw-101-ipv6", LinkTypeRaw, build(t, ip6(cli6, srv6, layers.IPProtocolUDP), udp(3, 4)), ReasonNone, udpPkt(cli6, srv6, 3, 4, 48, 0)},
		{"raw-12-ipv4", LinkTypeRawAlt, build(t, ip4(cli4, srv4, layers.IPProtocolUDP), udp(5, 6)), ReasonNone, udpPkt(cli4, srv4, 5, 6, 28, 0)},
		{"raw-228-ipv4", LinkTypeIPv4, build(t, ip4(cli4, srv4, layers.IPProtocolTCP), tcp(514, 514, false, true), payloadN(7)), ReasonNone, tcpPkt(cli4, srv4, 514, 514, FlagACK, 47, 7)},
		{"raw-229-ipv6", LinkTypeIPv6, build(t, ip6(cli6, srv6, layers.IPProtocolUDP), udp(7, 8)), ReasonNone, udpPkt(cli6, srv6, 7, 8, 48, 0)},
		{"raw-228-says-ipv4-holds-ipv6", LinkTypeIPv4, build(t, ip6(cli6, srv6, layers.IPProtocolUDP), udp(7, 8)), ReasonMalformed, Packet{}},
		{"null-le-ipv4", LinkTypeNull, build(t, loopbackHeader(2, false), ip4(cli4, srv4, layers.IPProtocolUDP), udp(1812, 1813)), ReasonNone, udpPkt(cli4, srv4, 1812, 1813, 28, 0)},
		{"null-le-ipv6-24", LinkTypeNull, build(t, loopbackHeader(24, false), ip6(cli6, srv6, layers.IPProtocolTCP), tcp(8080, 50000, false, true)), ReasonNone, tcpPkt(cli6, srv6, 8080, 50000, FlagACK, 60, 0)},
		{"null-be-ipv6-28", LinkTypeNull, build(t, loopbackHeader(28, true), ip6(cli6, srv6, layers.IPProtocolUDP), udp(1, 2)), ReasonNone, udpPkt(cli6, srv6, 1, 2, 48, 0)},
		{"loop-be-ipv6-30", LinkTypeLoop, build(t, loopbackHeader(30, true), ip6(cli6, srv6, layers.IPProtocolUDP), udp(1, 2)), ReasonNone, udpPkt(cli6, srv6, 1, 2, 48, 0)},
		{"loop-be-ipv4", LinkTypeLoop, build(t, loopbackHeader(2, true), ip4(cli4, srv4, layers.IPProtocolUDP), udp(1, 2)), ReasonNone, udpPkt(cli4, srv4, 1, 2, 28, 0)},
		{"unknown-link-type", 147, synFrame, ReasonUnknownLinkType, Packet{}},

		// 802.11 with and without radiotap; PPP, PPP in HDLC framing, Cisco HDLC.
		{"radiotap-qos-data-fcs", LinkTypeRadiotap, append(build(t, radiotapHeader(0x10, false, false), dot11Header(0x88, 0x01), llcSNAP(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolUDP), udp(5353, 53), payloadN(10)), 0xde, 0xad, 0xbe, 0xef),
			ReasonNone, udpPkt(cli4, srv4, 5353, 53, 38, 10)},
		{"radiotap-tsft-extended-present-no-fcs", LinkTypeRadiotap, build(t, radiotapHeader(0, true, true), dot11Header(0x08, 0x02), llcSNAP(layers.EthernetTypeIPv6), ip6(cli6, srv6, layers.IPProtocolTCP), tcp(443, 50000, true, true)),
			ReasonNone, tcpPkt(cli6, srv6, 443, 50000, FlagSYN|FlagACK, 60, 0)},
		{"dot11-four-address-qos-htc", LinkTypeDot11, build(t, dot11Header(0x88, 0x83), llcSNAP(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolTCP), tcp(50000, 3389, false, true), payloadN(20)),
			ReasonNone, tcpPkt(cli4, srv4, 50000, 3389, FlagACK, 60, 20)},
		{"radiotap-arp", LinkTypeRadiotap, build(t, radiotapHeader(0, false, false), dot11Header(0x08, 0x01), llcSNAP(layers.EthernetTypeARP), payloadN(28)), ReasonARP, Packet{}},
		{"radiotap-beacon", LinkTypeRadiotap, build(t, radiotapHeader(0x10, true, false), dot11Header(0x80, 0), payloadN(40)), ReasonWiFiManagement, Packet{}},
		{"radiotap-ack", LinkTypeRadiotap, build(t, radiotapHeader(0, false, false), rawLayer{[]byte{0xd4, 0, 0, 0, 1, 2, 3, 4, 5, 6}, layers.LayerTypeDot11}), ReasonWiFiControl, Packet{}},
		{"radiotap-protected-data", LinkTypeRadiotap, build(t, radiotapHeader(0, false, false), dot11Header(0x88, 0x41), payloadN(60)), ReasonEncrypted, Packet{}},
		{"radiotap-null-function", LinkTypeRadiotap, build(t, radiotapHeader(0, false, false), dot11Header(0x48, 0x01)), ReasonNotIP, Packet{}},
		{"radiotap-eapol", LinkTypeRadiotap, build(t, radiotapHeader(0, false, false), dot11Header(0x08, 0x02), llcSNAP(0x888e), payloadN(95)), ReasonNotIP, Packet{}},
		{"radiotap-a-msdu", LinkTypeRadiotap, edit(build(t, radiotapHeader(0, false, false), dot11Header(0x88, 0x01), payloadN(60)), func(b []byte) { b[9+24] |= 0x80 }), ReasonUnsupported, Packet{}},
		{"radiotap-bad-fcs", LinkTypeRadiotap, build(t, radiotapHeader(0x50, false, false), dot11Header(0x08, 0x01), llcSNAP(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolUDP), udp(1, 2)), ReasonMalformed, Packet{}},
		{"radiotap-length-past-frame", LinkTypeRadiotap, edit(build(t, radiotapHeader(0, false, false), dot11Header(0x08, 0x01)), func(b []byte) { b[2] = 200 }), ReasonTruncated, Packet{}},
		{"radiotap-present-chain-past-header", LinkTypeRadiotap, []byte{0, 0, 8, 0, 0, 0, 0, 0x80}, ReasonMalformed, Packet{}},
		{"dot11-short-data-header", LinkTypeDot11, dot11Header(0x08, 0x01).b[:20], ReasonTruncated, Packet{}},
		{"ppp-hdlc-bytes-ipv4", LinkTypePPP, build(t, rawLayer{[]byte{0xff, 0x03, 0x00, 0x21}, layers.LayerTypePPP}, ip4(cli4, srv4, layers.IPProtocolTCP), tcp(50000, 1494, true, false)),
			ReasonNone, tcpPkt(cli4, srv4, 50000, 1494, FlagSYN, 40, 0)},
		{"ppp-ipv6", LinkTypePPP, build(t, rawLayer{[]byte{0x00, 0x57}, layers.LayerTypePPP}, ip6(cli6, srv6, layers.IPProtocolUDP), udp(500, 500), payloadN(8)),
			ReasonNone, udpPkt(cli6, srv6, 500, 500, 56, 8)},
		{"ppp-lcp", LinkTypePPP, build(t, rawLayer{[]byte{0xff, 0x03, 0xc0, 0x21}, layers.LayerTypePPP}, payloadN(14)), ReasonNotIP, Packet{}},
		{"ppp-in-hdlc-framing", LinkTypePPPHDLC, build(t, rawLayer{[]byte{0xff, 0x03, 0x00, 0x21}, layers.LayerTypePPP}, ip4(cli4, srv4, layers.IPProtocolUDP), udp(53, 40000)),
			ReasonNone, udpPkt(cli4, srv4, 53, 40000, 28, 0)},
		{"cisco-ppp-hdlc-framing", LinkTypePPPHDLC, build(t, rawLayer{[]byte{0x0f, 0x00, 0x08, 0x00}, layerTypeCHDLC}, ip4(cli4, srv4, layers.IPProtocolUDP), udp(53, 40000)),
			ReasonNone, udpPkt(cli4, srv4, 53, 40000, 28, 0)},
		{"cisco-hdlc-ipv6", LinkTypeCHDLC, build(t, rawLayer{[]byte{0x8f, 0x00, 0x86, 0xdd}, layerTypeCHDLC}, ip6(cli6, srv6, layers.IPProtocolUDP), udp(123, 123)),
			ReasonNone, udpPkt(cli6, srv6, 123, 123, 48, 0)},
		{"cisco-hdlc-slarp", LinkTypeCHDLC, build(t, rawLayer{[]byte{0x8f, 0x00, 0x80, 0x35}, layerTypeCHDLC}, payloadN(18)), ReasonNotIP, Packet{}},
		{"cisco-hdlc-cut", LinkTypeCHDLC, []byte{0x0f, 0x00, 0x08}, ReasonTruncated, Packet{}},

		// VLAN, QinQ, MPLS, PPPoE.
		{"vlan", LinkTypeEthernet, build(t, eth(layers.EthernetTypeDot1Q), dot1q(100, layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolTCP), tcp(1, 3268, true, false)),
			ReasonNone, with(tcpPkt(cli4, srv4, 1, 3268, FlagSYN, 40, 0), func(p *Packet) { p.VLANs, p.NVLAN, p.Encap = [2]uint16{100}, 1, EncapVLAN })},
		{"qinq-8100", LinkTypeEthernet, build(t, eth(layers.EthernetTypeDot1Q), dot1q(10, layers.EthernetTypeDot1Q), dot1q(20, layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolTCP), tcp(1, 80, true, false)),
			ReasonNone, with(tcpPkt(cli4, srv4, 1, 80, FlagSYN, 40, 0), func(p *Packet) { p.VLANs, p.NVLAN, p.Encap = [2]uint16{10, 20}, 2, EncapVLAN })},
		{"dot1ad-88a8", LinkTypeEthernet, build(t, eth(layers.EthernetTypeQinQ), dot1q(1525, layers.EthernetTypeDot1Q), dot1q(30, layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolICMPv4), icmpEcho, payloadN(32)),
			ReasonNone, with(icmpEchoPkt, func(p *Packet) { p.VLANs, p.NVLAN, p.Encap = [2]uint16{1525, 30}, 2, EncapVLAN })},
		{"three-tags-keeps-two", LinkTypeEthernet, build(t, eth(layers.EthernetTypeQinQ), dot1q(1, layers.EthernetTypeDot1Q), dot1q(2, layers.EthernetTypeDot1Q), dot1q(3, layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolUDP), udp(1, 2)),
			ReasonNone, with(udpPkt(cli4, srv4, 1, 2, 28, 0), func(p *Packet) { p.VLANs, p.NVLAN, p.Encap = [2]uint16{1, 2}, 2, EncapVLAN })},
		{"mpls-two-labels-ipv4", LinkTypeEthernet, build(t, eth(layers.EthernetTypeMPLSUnicast), &layers.MPLS{Label: 16, TTL: 64}, &layers.MPLS{Label: 17, StackBottom: true, TTL: 64}, ip4(cli4, srv4, layers.IPProtocolTCP), tcp(1, 23, true, false)),
			ReasonNone, with(tcpPkt(cli4, srv4, 1, 23, FlagSYN, 40, 0), func(p *Packet) { p.Encap = EncapMPLS })},
		{"vlan-mpls-ipv6", LinkTypeEthernet, build(t, eth(layers.EthernetTypeDot1Q), dot1q(7, layers.EthernetTypeMPLSUnicast), &layers.MPLS{Label: 99, StackBottom: true}, ip6(cli6, srv6, layers.IPProtocolUDP), udp(1, 2)),
			ReasonNone, with(udpPkt(cli6, srv6, 1, 2, 48, 0), func(p *Packet) { p.VLANs, p.NVLAN, p.Encap = [2]uint16{7}, 1, EncapVLAN|EncapMPLS })},
		{"mpls-pseudowire", LinkTypeEthernet, build(t, eth(layers.EthernetTypeMPLSUnicast), &layers.MPLS{Label: 16, StackBottom: true}, rawLayer{b: make([]byte, 4)}, eth(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolUDP), udp(1, 2)), ReasonUnsupported, Packet{}},
		{"pppoe-ipv4", LinkTypeEthernet, build(t, eth(layers.EthernetTypePPPoESession), &layers.PPPoE{Version: 1, Type: 1, SessionId: 0x11}, &layers.PPP{PPPType: layers.PPPTypeIPv4}, ip4(cli4, srv4, layers.IPProtocolUDP), udp(40000, 514), payloadN(30)),
			ReasonNone, with(udpPkt(cli4, srv4, 40000, 514, 58, 30), func(p *Packet) { p.Encap = EncapPPPoE })},
		{"pppoe-ipv6", LinkTypeEthernet, build(t, eth(layers.EthernetTypePPPoESession), &layers.PPPoE{Version: 1, Type: 1, SessionId: 0x11}, &layers.PPP{PPPType: layers.PPPTypeIPv6}, ip6(cli6, srv6, layers.IPProtocolUDP), udp(1, 2)),
			ReasonNone, with(udpPkt(cli6, srv6, 1, 2, 48, 0), func(p *Packet) { p.Encap = EncapPPPoE })},
		{"pppoe-lcp", LinkTypeEthernet, build(t, eth(layers.EthernetTypePPPoESession), &layers.PPPoE{Version: 1, Type: 1, SessionId: 0x11}, &layers.PPP{PPPType: 0xc021}, payloadN(10)), ReasonNotIP, Packet{}},

		// Not IP.
		{"arp", LinkTypeEthernet, build(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4, Operation: 1, SourceHwAddress: macA, SourceProtAddress: []byte{10, 0, 0, 1}, DstHwAddress: macB, DstProtAddress: []byte{10, 0, 0, 2}}), ReasonARP, Packet{}},
		{"stp-llc", LinkTypeEthernet, build(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeLLC, Length: 38}, &layers.LLC{DSAP: 0x42, SSAP: 0x42, Control: 3}, payloadN(35)), ReasonNotIP, Packet{}},
		{"lldp", LinkTypeEthernet, build(t, eth(layers.EthernetTypeLinkLayerDiscovery), payloadN(30)), ReasonNotIP, Packet{}},

		// Tunnels.
		{"vxlan-icmp", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(out4a, out4b, layers.IPProtocolUDP), udp(55555, 4789), &layers.VXLAN{ValidIDFlag: true, VNI: 42}, eth(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolICMPv4), icmpEcho, payloadN(32)),
			ReasonNone, with(icmpEchoPkt, func(p *Packet) { p.Tunnel, p.OuterSrc, p.OuterDst = TunnelVXLAN, addr(out4a), addr(out4b) })},
		// A tunnel is analysed by its inner frame: ARP inside VXLAN is ARP,
		// not a UDP packet between the tunnel endpoints.
		{"vxlan-arp-is-arp", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(out4a, out4b, layers.IPProtocolUDP), udp(55555, 4789), &layers.VXLAN{ValidIDFlag: true, VNI: 42}, eth(layers.EthernetTypeARP), payloadN(28)),
			ReasonARP, Packet{}},
		{"geneve-ethernet-ipv6", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(out4a, out4b, layers.IPProtocolUDP), udp(1, 6081), geneveHeader(layers.EthernetTypeTransparentEthernetBridging, 7, 2), eth(layers.EthernetTypeIPv6), ip6(cli6, srv6, layers.IPProtocolTCP), tcp(1, 22, true, false)),
			ReasonNone, with(tcpPkt(cli6, srv6, 1, 22, FlagSYN, 60, 0), func(p *Packet) { p.Tunnel, p.OuterSrc, p.OuterDst = TunnelGENEVE, addr(out4a), addr(out4b) })},
		{"geneve-ipv4-direct", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv6), ip6(out6a, out6b, layers.IPProtocolUDP), udp(1, 6081), geneveHeader(layers.EthernetTypeIPv4, 7, 0), ip4(cli4, srv4, layers.IPProtocolUDP), udp(123, 123)),
			ReasonNone, with(udpPkt(cli4, srv4, 123, 123, 28, 0), func(p *Packet) { p.Tunnel, p.OuterSrc, p.OuterDst = TunnelGENEVE, addr(out6a), addr(out6b) })},
		{"gre-ipv4", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(out4a, out4b, layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeIPv4}, ip4(cli4, srv4, layers.IPProtocolUDP), udp(123, 123), payloadN(48)),
			ReasonNone, with(udpPkt(cli4, srv4, 123, 123, 76, 48), func(p *Packet) { p.Tunnel, p.OuterSrc, p.OuterDst = TunnelGRE, addr(out4a), addr(out4b) })},
		{"gre-key-seq-ipv6", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(out4a, out4b, layers.IPProtocolGRE), &layers.GRE{KeyPresent: true, Key: 9, SeqPresent: true, Seq: 3, Protocol: layers.EthernetTypeIPv6}, ip6(cli6, srv6, layers.IPProtocolTCP), tcp(1, 2, true, false)),
			ReasonNone, with(tcpPkt(cli6, srv6, 1, 2, FlagSYN, 60, 0), func(p *Packet) { p.Tunnel, p.OuterSrc, p.OuterDst = TunnelGRE, addr(out4a), addr(out4b) })},
		{"gre-teb-ethernet", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv6), ip6(out6a, out6b, layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeTransparentEthernetBridging}, eth(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolUDP), udp(1, 2)),
			ReasonNone, with(udpPkt(cli4, srv4, 1, 2, 28, 0), func(p *Packet) { p.Tunnel, p.OuterSrc, p.OuterDst = TunnelGRE, addr(out6a), addr(out6b) })},
		{"gre-undecodable-payload-is-gre", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(out4a, out4b, layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeIPv4}, rawLayer{b: []byte{0x45, 0, 0}}),
			ReasonNone, Packet{Src: addr(out4a), Dst: addr(out4b), Proto: ProtoGRE, IPLen: 27, PayloadLen: 7}},
		{"erspan-ii", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(out4a, out4b, layers.IPProtocolGRE), &layers.GRE{SeqPresent: true, Seq: 1, Protocol: layers.EthernetTypeERSPAN}, &layers.ERSPANII{Version: 1, SessionID: 5}, eth(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolTCP), tcp(1, 1494, true, false)),
			ReasonNone, with(tcpPkt(cli4, srv4, 1, 1494, FlagSYN, 40, 0), func(p *Packet) { p.Tunnel, p.OuterSrc, p.OuterDst = TunnelERSPAN, addr(out4a), addr(out4b) })},
		{"erspan-i", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(out4a, out4b, layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeERSPAN}, eth(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolTCP), tcp(1, 1494, true, false)),
			ReasonNone, with(tcpPkt(cli4, srv4, 1, 1494, FlagSYN, 40, 0), func(p *Packet) { p.Tunnel, p.OuterSrc, p.OuterDst = TunnelERSPAN, addr(out4a), addr(out4b) })},
		{"erspan-iii-platform-ethernet", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(out4a, out4b, layers.IPProtocolGRE), &layers.GRE{SeqPresent: true, Protocol: 0x22EB}, erspan3Header(0, true), eth(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolUDP), udp(1, 2598)),
			ReasonNone, with(udpPkt(cli4, srv4, 1, 2598, 28, 0), func(p *Packet) { p.Tunnel, p.OuterSrc, p.OuterDst = TunnelERSPAN, addr(out4a), addr(out4b) })},
		{"erspan-iii-ip", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(out4a, out4b, layers.IPProtocolGRE), &layers.GRE{SeqPresent: true, Protocol: 0x22EB}, erspan3Header(2, false), ip6(cli6, srv6, layers.IPProtocolUDP), udp(1, 2)),
			ReasonNone, with(udpPkt(cli6, srv6, 1, 2, 48, 0), func(p *Packet) { p.Tunnel, p.OuterSrc, p.OuterDst = TunnelERSPAN, addr(out4a), addr(out4b) })},
		{"ipip", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(out4a, out4b, layers.IPProtocolIPv4), ip4(cli4, srv4, layers.IPProtocolTCP), tcp(1, 2, true, false)),
			ReasonNone, with(tcpPkt(cli4, srv4, 1, 2, FlagSYN, 40, 0), func(p *Packet) { p.Tunnel, p.OuterSrc, p.OuterDst = TunnelIPinIP, addr(out4a), addr(out4b) })},
		{"6in4", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(out4a, out4b, layers.IPProtocolIPv6), ip6(cli6, srv6, layers.IPProtocolUDP), udp(514, 514), payloadN(5)),
			ReasonNone, with(udpPkt(cli6, srv6, 514, 514, 53, 5), func(p *Packet) { p.Tunnel, p.OuterSrc, p.OuterDst = TunnelIPinIP, addr(out4a), addr(out4b) })},
		{"4in6", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv6), ip6(out6a, out6b, layers.IPProtocolIPv4), ip4(cli4, srv4, layers.IPProtocolUDP), udp(1, 2)),
			ReasonNone, with(udpPkt(cli4, srv4, 1, 2, 28, 0), func(p *Packet) { p.Tunnel, p.OuterSrc, p.OuterDst = TunnelIPinIP, addr(out6a), addr(out6b) })},
		{"vlan-gre-in-vxlan-keeps-outermost", LinkTypeEthernet, build(t, eth(layers.EthernetTypeDot1Q), dot1q(5, layers.EthernetTypeIPv4), ip4(out4a, out4b, layers.IPProtocolUDP), udp(1, 4789), &layers.VXLAN{VNI: 1}, eth(layers.EthernetTypeDot1Q), dot1q(6, layers.EthernetTypeIPv6), ip6(out6a, out6b, layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeIPv4}, ip4(cli4, srv4, layers.IPProtocolUDP), udp(1, 2)),
			ReasonNone, with(udpPkt(cli4, srv4, 1, 2, 28, 0), func(p *Packet) {
				p.Tunnel, p.OuterSrc, p.OuterDst, p.VLANs, p.NVLAN, p.Encap = TunnelVXLAN, addr(out4a), addr(out4b), [2]uint16{5}, 1, EncapVLAN
			})},

		// IPv6 extension headers and fragments.
		{"ipv6-hop-routing-dest-tcp", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv6), ext6, ip6RoutingHeader(layers.IPProtocolIPv6Destination), dest, tcp(1, 389, true, false), payloadN(3)),
			ReasonNone, tcpPkt(cli6, srv6, 1, 389, FlagSYN, 40+8+24+8+20+3, 3)},
		{"ipv6-first-fragment", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv6), ip6(cli6, srv6, layers.IPProtocolIPv6Fragment), ip6FragHeader(layers.IPProtocolUDP, 0, true, 0xabcdef), rawLayer{b: build(t, udp(53, 40000), payloadN(2000))[:1232]}),
			ReasonNone, with(udpPkt(cli6, srv6, 53, 40000, 40+8+1232, 1224), func(p *Packet) { p.Fragment, p.FragID, p.MoreFragments = true, 0xabcdef, true })},
		{"ipv6-later-fragment", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv6), ip6(cli6, srv6, layers.IPProtocolIPv6Fragment), ip6FragHeader(layers.IPProtocolUDP, 1232, false, 0xabcdef), payloadN(776)),
			ReasonNone, Packet{Src: addr(cli6), Dst: addr(srv6), Proto: ProtoUDP, IPLen: 40 + 8 + 776, PayloadLen: 776, Fragment: true, FragID: 0xabcdef, FragOffset: 1232}},
		{"ipv6-atomic-fragment", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv6), ip6(cli6, srv6, layers.IPProtocolIPv6Fragment), ip6FragHeader(layers.IPProtocolUDP, 0, false, 1), udp(1, 2)),
			ReasonNone, udpPkt(cli6, srv6, 1, 2, 56, 0)},
		{"ipv4-first-fragment", LinkTypeEthernet, firstFrag4,
			ReasonNone, with(udpPkt(cli4, srv4, 5353, 53, 1500, 1472), func(p *Packet) { p.Fragment, p.FragID, p.MoreFragments = true, 0x7777, true })},
		{"ipv4-later-fragment", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), frag4(1480, false), payloadN(1528)),
			ReasonNone, Packet{Src: addr(cli4), Dst: addr(srv4), Proto: ProtoUDP, IPLen: 1548, PayloadLen: 1528, Fragment: true, FragID: 0x7777, FragOffset: 1480}},
		{"ipv4-tiny-first-fragment", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), &layers.IPv4{Version: 4, IHL: 5, Id: 1, Flags: layers.IPv4MoreFragments, Protocol: layers.IPProtocolTCP, SrcIP: []byte{10, 0, 0, 1}, DstIP: []byte{192, 0, 2, 10}}, rawLayer{b: build(t, tcp(1234, 80, true, false))[:8]}),
			ReasonNone, Packet{Src: addr(cli4), Dst: addr(srv4), Proto: ProtoTCP, SrcPort: 1234, DstPort: 80, IPLen: 28, Fragment: true, FragID: 1, MoreFragments: true, Truncated: true}},

		// ICMP.
		{"icmp-echo", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolICMPv4), icmpEcho, payloadN(32)), ReasonNone, icmpEchoPkt},
		{"icmp-port-unreachable-quotes-udp", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 3)}, gopacket.Payload(quotedUDP)),
			ReasonNone, Packet{Src: addr(cli4), Dst: addr(srv4), Proto: ProtoICMP, ICMPType: 3, ICMPCode: 3, IPLen: 56, PayloadLen: 28,
				Quoted: Quoted{Valid: true, Src: addr(srv4), Dst: addr(cli4), SrcPort: 33000, DstPort: 53, Proto: ProtoUDP}}},
		{"icmp-time-exceeded-quotes-tcp", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(out4a, cli4, layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(11, 0)}, gopacket.Payload(build(t, ip4(cli4, srv4, layers.IPProtocolTCP), tcp(50000, 443, true, false))[:28])),
			ReasonNone, Packet{Src: addr(out4a), Dst: addr(cli4), Proto: ProtoICMP, ICMPType: 11, IPLen: 56, PayloadLen: 28,
				Quoted: Quoted{Valid: true, Src: addr(cli4), Dst: addr(srv4), SrcPort: 50000, DstPort: 443, Proto: ProtoTCP}}},
		{"icmpv6-packet-too-big", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv6), ip6(out6a, cli6, layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(2, 0)}, gopacket.Payload(append([]byte{0, 0, 5, 0}, quotedTCP6...))),
			ReasonNone, Packet{Src: addr(out6a), Dst: addr(cli6), Proto: ProtoICMPv6, ICMPType: 2, IPLen: 40 + 4 + 4 + 48, PayloadLen: 48,
				Quoted: Quoted{Valid: true, Src: addr(cli6), Dst: addr(srv6), SrcPort: 40000, DstPort: 8443, Proto: ProtoTCP}}},
		{"icmpv6-unreachable-quotes-fragmented-udp", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv6), ip6(out6a, cli6, layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(1, 4)}, gopacket.Payload(append([]byte{0, 0, 0, 0}, build(t, ip6(cli6, srv6, layers.IPProtocolIPv6Fragment), ip6FragHeader(layers.IPProtocolUDP, 0, true, 9), udp(5060, 5060), payloadN(100))[:56]...))),
			ReasonNone, Packet{Src: addr(out6a), Dst: addr(cli6), Proto: ProtoICMPv6, ICMPType: 1, ICMPCode: 4, IPLen: 40 + 4 + 4 + 56, PayloadLen: 56,
				Quoted: Quoted{Valid: true, Src: addr(cli6), Dst: addr(srv6), SrcPort: 5060, DstPort: 5060, Proto: ProtoUDP}}},
		{"icmpv6-echo", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv6), ip6(cli6, srv6, layers.IPProtocolICMPv6), &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(128, 0)}, &layers.ICMPv6Echo{Identifier: 0x99, SeqNumber: 1}, payloadN(8)),
			ReasonNone, Packet{Src: addr(cli6), Dst: addr(srv6), Proto: ProtoICMPv6, ICMPType: 128, ICMPID: 0x99, IPLen: 40 + 4 + 4 + 8, PayloadLen: 8}},
		{"icmp-error-inside-gre", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(out4a, out4b, layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeIPv4}, ip4(cli4, srv4, layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 3)}, gopacket.Payload(quotedUDP)),
			ReasonNone, Packet{Src: addr(cli4), Dst: addr(srv4), Proto: ProtoICMP, ICMPType: 3, ICMPCode: 3, IPLen: 56, PayloadLen: 28, Tunnel: TunnelGRE, OuterSrc: addr(out4a), OuterDst: addr(out4b),
				Quoted: Quoted{Valid: true, Src: addr(srv4), Dst: addr(cli4), SrcPort: 33000, DstPort: 53, Proto: ProtoUDP}}},

		// Other transports.
		{"sctp", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolSCTP), &layers.SCTP{SrcPort: 2905, DstPort: 2905, VerificationTag: 1}, payloadN(16)),
			ReasonNone, Packet{Src: addr(cli4), Dst: addr(srv4), Proto: ProtoSCTP, SrcPort: 2905, DstPort: 2905, IPLen: 48, PayloadLen: 16}},
		{"vrrp", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4("192.0.2.1", "224.0.0.18", layers.IPProtocolVRRP), payloadN(20)),
			ReasonNone, Packet{Src: addr("192.0.2.1"), Dst: addr("224.0.0.18"), Proto: ProtoVRRP, IPLen: 40, PayloadLen: 20}},
		{"ipv4-options", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), &layers.IPv4{Version: 4, TTL: 1, Protocol: layers.IPProtocolUDP, SrcIP: []byte{10, 0, 0, 1}, DstIP: []byte{192, 0, 2, 10}, Options: []layers.IPv4Option{{OptionType: 148, OptionLength: 4, OptionData: []byte{0, 0}}}}, udp(1, 2)),
			ReasonNone, udpPkt(cli4, srv4, 1, 2, 32, 0)},

		// IPv6 with payload length 0: tracked as a packet of its protocol
		// (next header 59 and the like), Ethernet padding or not; a
		// transport that needs a header it cannot have is malformed.
		{"ipv6-empty-no-next-header", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv6), ip6(cli6, srv6, layers.IPProtocolNoNextHeader)),
			ReasonNone, Packet{Src: addr(cli6), Dst: addr(srv6), Proto: 59, IPLen: 40}},
		{"ipv6-empty-no-next-header-padded", LinkTypeEthernet, append(build(t, eth(layers.EthernetTypeIPv6), ip6(cli6, srv6, layers.IPProtocolNoNextHeader)), 0, 0, 0, 0, 0, 0),
			ReasonNone, Packet{Src: addr(cli6), Dst: addr(srv6), Proto: 59, IPLen: 40}},
		{"ipv6-empty-esp-raw", LinkTypeRaw, build(t, ip6(cli6, srv6, layers.IPProtocolESP)),
			ReasonNone, Packet{Src: addr(cli6), Dst: addr(srv6), Proto: ProtoESP, IPLen: 40}},
		{"ipv6-empty-tcp", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv6), ip6(cli6, srv6, layers.IPProtocolTCP)), ReasonMalformed, Packet{}},
		{"ipv6-empty-udp-padded", LinkTypeEthernet, append(build(t, eth(layers.EthernetTypeIPv6), ip6(cli6, srv6, layers.IPProtocolUDP)), make([]byte, 6)...), ReasonMalformed, Packet{}},
		{"ipv6-empty-icmpv6", LinkTypeIPv6, build(t, ip6(cli6, srv6, layers.IPProtocolICMPv6)), ReasonMalformed, Packet{}},

		// Damaged and cut frames.
		{"empty", LinkTypeEthernet, nil, ReasonTruncated, Packet{}},
		{"short-ethernet", LinkTypeEthernet, synFrame[:10], ReasonTruncated, Packet{}},
		{"short-ipv4", LinkTypeEthernet, synFrame[:14+12], ReasonTruncated, Packet{}},
		{"short-tcp-header", LinkTypeEthernet, synFrame[:14+20+10], ReasonTruncated, Packet{}},
		{"cut-tcp-options", LinkTypeEthernet, synFrame[:14+20+22], ReasonNone, with(tcpPkt(cli4, srv4, 50000, 443, FlagSYN, 48, 0), func(p *Packet) { p.Truncated = true })},
		{"snaplen-cut-payload", LinkTypeEthernet, build(t, eth(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolTCP), tcp(1, 2, false, true), payloadN(1000))[:96],
			ReasonNone, with(tcpPkt(cli4, srv4, 1, 2, FlagACK, 1040, 1000), func(p *Packet) { p.Truncated = true })},
		{"tcp-data-offset-3", LinkTypeEthernet, edit(build(t, eth(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolTCP), tcp(1, 2, false, true)), func(b []byte) { b[14+20+12] = 3 << 4 }), ReasonMalformed, Packet{}},
		{"udp-length-3", LinkTypeEthernet, edit(build(t, eth(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolUDP), udp(1, 2)), func(b []byte) { b[14+20+5] = 3 }), ReasonMalformed, Packet{}},
		{"ipv4-ihl-4", LinkTypeEthernet, edit(synFrame, func(b []byte) { b[14] = 0x44 }), ReasonMalformed, Packet{}},
		{"ethertype-ipv4-version-6", LinkTypeEthernet, edit(synFrame, func(b []byte) { b[14] = 0x65 }), ReasonMalformed, Packet{}},
		{"gre-routing", LinkTypeEthernet, edit(build(t, eth(layers.EthernetTypeIPv4), ip4(out4a, out4b, layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeIPv4}, ip4(cli4, srv4, layers.IPProtocolUDP), udp(1, 2)), func(b []byte) { b[34] |= 0x40 }),
			ReasonNone, Packet{Src: addr(out4a), Dst: addr(out4b), Proto: ProtoGRE, IPLen: 52, PayloadLen: 32}},
		{"sll-bad-address-length", LinkTypeLinuxSLL, edit(build(t, sllHeader(layers.EthernetTypeIPv4), ip4(cli4, srv4, layers.IPProtocolUDP), udp(1, 2)), func(b []byte) { b[5] = 200 }), ReasonMalformed, Packet{}},
	}
	// Every frame here is built with TTL / hop limit 64 (ipv4-options: 1,
	// ipv4-tiny-first-fragment: 0); a decoded packet carries the innermost
	// header's.
	for i := range cases {
		switch {
		case cases[i].reason != ReasonNone, cases[i].name == "ipv4-tiny-first-fragment":
		case cases[i].name == "ipv4-options":
			cases[i].want.TTL = 1
		default:
			cases[i].want.TTL = 64
		}
	}
	// Every Ethernet frame here is sent from macA; a packet found in a
	// tunnel was not sent by the frame's sender, so it has no MAC.
	for i := range cases {
		if c := &cases[i]; c.reason == ReasonNone && c.link == LinkTypeEthernet && c.want.Tunnel == TunnelNone {
			c.want.SrcMAC, c.want.HasMAC = [6]byte(macA), true
		}
	}
	return cases
}

func edit(b []byte, f func([]byte)) []byte {
	c := append([]byte(nil), b...)
	f(c)
	return c
}

// TestDecode: one case per link type, encapsulation, tunnel, extension
// header, fragment kind, ICMP error and damage; each compares the whole
// Packet.
func TestDecode(t *testing.T) {
	d := NewDecoder()
	for _, c := range decodeCases(t) {
		t.Run(c.name, func(t *testing.T) {
			var p Packet
			reason, err := d.Decode(c.link, c.frame, &p)
			if reason != c.reason {
				t.Fatalf("reason %v (%v), want %v", reason, err, c.reason)
			}
			if (err != nil) != (reason == ReasonTruncated || reason == ReasonMalformed) {
				t.Errorf("reason %v with error %v", reason, err)
			}
			if p != c.want {
				t.Errorf("got  %+v\nwant %+v", p, c.want)
			}
		})
	}
}

// TestDecodeReuse: a Decoder reused across frames leaves nothing of one
// frame in the next, whatever the order.
func TestDecodeReuse(t *testing.T) {
	d := NewDecoder()
	cases := decodeCases(t)
	for i := range cases {
		for _, j := range []int{i, (i * 7) % len(cases), len(cases) - 1 - i} {
			c := cases[j]
			var p Packet
			if reason, _ := d.Decode(c.link, c.frame, &p); reason != c.reason || p != c.want {
				t.Errorf("%s after %s: %v %+v", c.name, cases[i].name, reason, p)
			}
		}
	}
}

func TestReasonString(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Reasons() {
		s := r.String()
		if s == "" || seen[s] || strings.HasPrefix(s, "reason ") {
			t.Errorf("reason %d: %q", r, s)
		}
		seen[s] = true
	}
	if got := Reason(200).String(); got != "reason 200" {
		t.Errorf("unknown reason: %q", got)
	}
	if len(Reasons()) != 10 || ReasonNone.String() != "none" || ReasonNotIP.String() != "not IP" || ReasonARP.String() != "arp" {
		t.Errorf("reasons %v", Reasons())
	}
}

func TestSupportedLinkType(t *testing.T) {
	for _, lt := range []uint32{0, 1, 9, 12, 50, 101, 104, 105, 108, 113, 127, 228, 229, 276} {
		if !SupportedLinkType(lt) {
			t.Errorf("%d not supported", lt)
		}
	}
	for _, lt := range []uint32{147, 192, 2, 10} {
		if SupportedLinkType(lt) {
			t.Errorf("%d supported", lt)
		}
	}
}

func TestICMPName(t *testing.T) {
	for _, c := range []struct {
		proto, typ, code uint8
		want             string
	}{
		{ProtoICMP, 3, 13, "DestinationUnreachable(CommAdminProhibited)"},
		{ProtoICMP, 3, 3, "DestinationUnreachable(Port)"},
		{ProtoICMP, 11, 0, "TimeExceeded(TTLExceeded)"},
		{ProtoICMPv6, 1, 1, "DestinationUnreachable(AdminProhibited)"},
		{ProtoICMPv6, 1, 4, "DestinationUnreachable(PortUnreachable)"},
	} {
		if got := ICMPName(c.proto, c.typ, c.code); got != c.want {
			t.Errorf("ICMPName(%d, %d, %d) = %q, want %q", c.proto, c.typ, c.code, got, c.want)
		}
	}
}
