// Package decode turns the bytes of one captured frame into a Packet: the
// small summary (addresses, ports, protocol, TCP state, VLANs, tunnel,
// fragment, ICMP error quote) the flow tracker works from. It is the only
// package that uses gopacket layer types.
//
// Each link type has one gopacket.DecodingLayerParser over one set of
// preallocated layers, so the common path allocates nothing. Tunnels
// (VXLAN, GENEVE, GRE, ERSPAN, IP in IP) are followed to the innermost IP
// packet, which is what the Packet describes; the outer addresses are kept
// aside. Frames that cannot be described get a Reason, never a panic.
package decode

import (
	"encoding/binary"
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// LINKTYPE_* values this package reads.
const (
	LinkTypeNull     uint32 = 0   // BSD loopback, host byte order family
	LinkTypeEthernet uint32 = 1   // Ethernet II and 802.3
	LinkTypePPP      uint32 = 9   // PPP, with or without the HDLC address and control bytes
	LinkTypePPPHDLC  uint32 = 50  // PPP in HDLC-like framing (RFC 1662), or Cisco PPP with HDLC framing
	LinkTypeCHDLC    uint32 = 104 // Cisco HDLC
	LinkTypeDot11    uint32 = 105 // IEEE 802.11 without a radio header
	LinkTypeRadiotap uint32 = 127 // IEEE 802.11 behind a radiotap header
	LinkTypeRawAlt   uint32 = 12  // raw IP (DLT_RAW on some BSDs)
	LinkTypeRaw      uint32 = 101 // raw IPv4 or IPv6
	LinkTypeLoop     uint32 = 108 // OpenBSD loopback, network byte order family
	LinkTypeLinuxSLL uint32 = 113 // Linux cooked capture v1
	LinkTypeIPv4     uint32 = 228 // raw IPv4
	LinkTypeIPv6     uint32 = 229 // raw IPv6
	LinkTypeSLL2     uint32 = 276 // Linux cooked capture v2
)

// SupportedLinkType reports whether Decode reads frames of the link type.
func SupportedLinkType(lt uint32) bool {
	switch lt {
	case LinkTypeNull, LinkTypeEthernet, LinkTypeRawAlt, LinkTypeRaw, LinkTypeLoop, LinkTypeLinuxSLL, LinkTypeIPv4, LinkTypeIPv6, LinkTypeSLL2,
		LinkTypePPP, LinkTypePPPHDLC, LinkTypeCHDLC, LinkTypeDot11, LinkTypeRadiotap:
		return true
	}
	return false
}

// parser entry points
const (
	firstEthernet = iota
	firstSLL
	firstSLL2
	firstLoopback
	firstIPv4
	firstIPv6
	firstPPP
	firstCHDLC
	firstDot11
	firstRadiotap
	numFirst
)

// Decoder decodes frames into Packets. It keeps the layers it decodes into
// from frame to frame, so it is not safe for concurrent use: use one per
// goroutine.
type Decoder struct {
	st      state
	payload []byte // the last TCP or UDP packet's payload, into the frame

	eth     ethernetLayer
	dot1q   dot1qLayer
	sll     sllLayer
	sll2    sll2Layer
	loop    loopbackLayer
	mpls    mplsLayer
	pppoe   pppoeLayer
	ppp     pppLayer
	chdlc   chdlcLayer
	radio   radiotapLayer
	dot11   dot11Layer
	llc     llcLayer
	snap    snapLayer
	ip4     ipv4Layer
	ip6     ipv6Layer
	ext     ip6ExtLayer
	frag6   ip6FragLayer
	tcp     tcpLayer
	udp     udpLayer
	sctp    layers.SCTP
	icmp4   layers.ICMPv4
	icmp6   layers.ICMPv6
	echo6   layers.ICMPv6Echo
	gre     greLayer
	erspan2 erspan2Layer
	erspan3 erspan3Layer
	vxlan   vxlanLayer
	geneve  geneveLayer

	parsers [numFirst]*gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
	// fullEthernet sends Ethernet frames that carry IP through gopacket's
	// Ethernet layer too (tests compare the two ways).
	fullEthernet bool

	// the IP header and transport ports an ICMP error quotes
	qip4    layers.IPv4
	qip6    layers.IPv6
	qext    layers.IPv6ExtensionSkipper
	quoted  [2]*gopacket.DecodingLayerParser // IPv4 first, IPv6 first
	qlayers []gopacket.LayerType
}

// NewDecoder returns a Decoder with its layers and parsers allocated.
func NewDecoder() *Decoder {
	d := &Decoder{
		decoded: make([]gopacket.LayerType, 0, 32),
		qlayers: make([]gopacket.LayerType, 0, 8),
	}
	st := &d.st
	d.dot1q.st, d.ip4.st, d.ip6.st, d.ext.st, d.frag6.st = st, st, st, st, st
	d.gre.st, d.vxlan.st, d.geneve.st, d.mpls.st, d.pppoe.st = st, st, st, st, st
	d.radio.st, d.dot11.st = st, st

	all := []gopacket.DecodingLayer{
		&d.eth, &d.dot1q, &d.sll, &d.sll2, &d.loop, &d.mpls, &d.pppoe, &d.ppp,
		&d.chdlc, &d.radio, &d.dot11, &d.llc, &d.snap,
		&d.ip4, &d.ip6, &d.ext, &d.frag6, // frag6 after ext: it takes the fragment header
		&d.tcp, &d.udp, &d.sctp, &d.icmp4, &d.icmp6, &d.echo6,
		&d.gre, &d.erspan2, &d.erspan3, &d.vxlan, &d.geneve,
	}
	firsts := [numFirst]gopacket.LayerType{
		firstEthernet: layers.LayerTypeEthernet,
		firstSLL:      layers.LayerTypeLinuxSLL,
		firstSLL2:     layerTypeSLL2,
		firstLoopback: layers.LayerTypeLoopback,
		firstIPv4:     layers.LayerTypeIPv4,
		firstIPv6:     layers.LayerTypeIPv6,
		firstPPP:      layers.LayerTypePPP,
		firstCHDLC:    layerTypeCHDLC,
		firstDot11:    layers.LayerTypeDot11,
		firstRadiotap: layers.LayerTypeRadioTap,
	}
	for i, first := range firsts {
		d.parsers[i] = newParser(first, all)
	}
	q := []gopacket.DecodingLayer{&d.qip4, &d.qip6, &d.qext}
	d.quoted[0] = newParser(layers.LayerTypeIPv4, q)
	d.quoted[1] = newParser(layers.LayerTypeIPv6, q)
	return d
}

func newParser(first gopacket.LayerType, ls []gopacket.DecodingLayer) *gopacket.DecodingLayerParser {
	p := gopacket.NewDecodingLayerParser(first)
	p.SetDecodingLayerContainer(gopacket.DecodingLayerSparse(nil))
	for _, l := range ls {
		p.AddDecodingLayer(l)
	}
	p.IgnoreUnsupported = true // a layer we do not decode ends the frame; the summary says what was found
	return p
}

// parser picks the parser for a frame of the link type, and how many
// leading bytes of the frame it starts after.
//
// An Ethernet II frame that carries IP, the most common frame by far,
// enters the parser at its IP header, as a raw IP frame does: gopacket's
// Ethernet layer with one round of the parser's loop are a fifth of the
// time spent on such a frame (56 to 45 ns for Ethernet/IPv4/TCP). A frame
// that ends with its Ethernet header, and every other EtherType (802.1Q,
// MPLS, PPPoE, ARP, 802.3 lengths), goes through gopacket's Ethernet layer.
// A test on every capture and a fuzz target hold both ways to the same
// result.
func (d *Decoder) parser(linkType uint32, data []byte) (*gopacket.DecodingLayerParser, int) {
	switch linkType {
	case LinkTypeEthernet:
		if len(data) > 14 && !d.fullEthernet {
			switch layers.EthernetType(binary.BigEndian.Uint16(data[12:14])) {
			case layers.EthernetTypeIPv4:
				return d.parsers[firstIPv4], 14
			case layers.EthernetTypeIPv6:
				return d.parsers[firstIPv6], 14
			}
		}
		return d.parsers[firstEthernet], 0
	case LinkTypeLinuxSLL:
		return d.parsers[firstSLL], 0
	case LinkTypeSLL2:
		return d.parsers[firstSLL2], 0
	case LinkTypeNull, LinkTypeLoop:
		return d.parsers[firstLoopback], 0
	case LinkTypeIPv4:
		return d.parsers[firstIPv4], 0
	case LinkTypeIPv6:
		return d.parsers[firstIPv6], 0
	case LinkTypePPP:
		return d.parsers[firstPPP], 0
	case LinkTypePPPHDLC:
		// 0xff: PPP in HDLC-like framing; 0x0f or 0x8f: Cisco PPP with
		// HDLC framing, which is Cisco HDLC.
		if len(data) > 0 && data[0]&0x7f == 0x0f {
			return d.parsers[firstCHDLC], 0
		}
		return d.parsers[firstPPP], 0
	case LinkTypeCHDLC:
		return d.parsers[firstCHDLC], 0
	case LinkTypeDot11:
		return d.parsers[firstDot11], 0
	case LinkTypeRadiotap:
		return d.parsers[firstRadiotap], 0
	case LinkTypeRaw, LinkTypeRawAlt:
		if len(data) > 0 && data[0]>>4 == 6 {
			return d.parsers[firstIPv6], 0
		}
		return d.parsers[firstIPv4], 0 // and a wrong version nibble is malformed there
	}
	return nil, 0
}

// isARP says whether the frame just decoded stopped at an ARP payload
// behind Ethernet or 802.1Q.
func (d *Decoder) isARP() bool {
	if len(d.decoded) == 0 {
		return false
	}
	switch d.decoded[len(d.decoded)-1] {
	case layers.LayerTypeEthernet:
		return d.eth.EthernetType == layers.EthernetTypeARP
	case layers.LayerTypeDot1Q:
		return d.dot1q.Type == layers.EthernetTypeARP
	case layers.LayerTypeSNAP:
		return d.snap.Type == layers.EthernetTypeARP
	case layerTypeCHDLC:
		return d.chdlc.Protocol == layers.EthernetTypeARP
	}
	return false
}

// Payload is the transport payload of the TCP or UDP packet the last
// Decode described, as far as the capture holds it (nil for other
// packets). It points into the frame given to Decode: it is valid only
// until the frame's buffer is reused, and only for looking at.
func (d *Decoder) Payload() []byte { return d.payload }

// Decode fills p from one frame of the given LINKTYPE. It returns
// ReasonNone when p describes an IP packet, or the reason the frame was
// skipped, with the decoding error for truncated and malformed frames. It
// never panics and p never points into data.
//
// A frame whose innermost layers cannot be decoded is described by the
// deepest IP header that could (a GRE packet whose payload is cut short is a
// GRE packet); p.Truncated then says the capture cut it. It is skipped only
// when its TCP, UDP, SCTP or ICMP header, which the flow needs, is missing.
func (d *Decoder) Decode(linkType uint32, data []byte, p *Packet) (Reason, error) {
	*p = Packet{}
	d.payload = nil
	d.st.reset(p)
	parser, skip := d.parser(linkType, data)
	if parser == nil {
		return ReasonUnknownLinkType, nil
	}
	err := parser.DecodeLayers(data[skip:], &d.decoded)
	truncated := parser.Truncated
	st := &d.st
	if st.nIP == 0 {
		*p = Packet{}
		switch {
		case err != nil:
			return failure(truncated, err)
		case st.skip != ReasonNone:
			return st.skip, nil // an 802.11 frame that carries no IP
		case len(d.decoded) > 0 && d.decoded[len(d.decoded)-1] == layers.LayerTypeMPLS:
			return ReasonUnsupported, nil // an MPLS payload that is not IP (pseudowire, control word)
		case d.isARP():
			return ReasonARP, nil
		}
		return ReasonNotIP, nil
	}
	// A tunnel whose inner frame is not IP (ARP between the hosts of an
	// overlay): the frame is that inner frame, not a packet of the tunnel.
	if n := len(d.decoded); n > 0 && err == nil && (d.decoded[n-1] == layers.LayerTypeEthernet || d.decoded[n-1] == layers.LayerTypeDot1Q) {
		*p = Packet{}
		if d.isARP() {
			return ReasonARP, nil
		}
		return ReasonNotIP, nil
	}
	p.Proto = st.proto
	p.IPLen = st.ipLen
	p.Truncated = st.cut
	// The frame's source MAC: six bytes copied, whichever way the frame
	// was parsed. A tunnelled packet's sender is not the frame's.
	if linkType == LinkTypeEthernet && p.Tunnel == TunnelNone && len(data) >= 14 {
		copy(p.SrcMAC[:], data[6:12])
		p.HasMAC = true
	}

	// The layer right after the innermost IP header and its extensions.
	next := gopacket.LayerTypeZero
	for i := len(d.decoded) - 1; i >= 0; i-- {
		switch d.decoded[i] {
		case layers.LayerTypeIPv4, layers.LayerTypeIPv6, layers.LayerTypeIPv6Fragment,
			layers.LayerTypeIPv6Destination, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6HopByHop:
			if i+1 < len(d.decoded) {
				next = d.decoded[i+1]
			}
			i = 0
		}
	}
	if st.nonFirst {
		p.PayloadLen = max(st.l4len, 0)
		return ReasonNone, nil
	}
	l4 := st.l4
	switch p.Proto {
	case ProtoTCP:
		if next != layers.LayerTypeTCP {
			if len(l4) < 20 { // gopacket did not get to the fixed header
				return d.shortTransport(err, 20)
			}
			// gopacket filled the fixed header, then failed on the data
			// offset or the options.
			if d.tcp.DataOffset < 5 {
				*p = Packet{}
				return ReasonMalformed, err
			}
			p.Truncated = true
		}
		if d.tcp.cut {
			p.Truncated = true
		}
		t := &d.tcp.TCP
		p.SrcPort, p.DstPort = uint16(t.SrcPort), uint16(t.DstPort)
		p.Seq, p.Ack, p.Window = t.Seq, t.Ack, t.Window
		p.TCPFlags = tcpFlags(t)
		p.PayloadLen = max(st.l4len-int(t.DataOffset)*4, 0)
		d.payload = t.Payload
	case ProtoUDP:
		if next != layers.LayerTypeUDP {
			if len(l4) < 8 {
				return d.shortTransport(err, 8)
			}
			*p = Packet{}
			return ReasonMalformed, err // UDP length field under 8
		}
		p.SrcPort, p.DstPort = uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
		p.PayloadLen = max(st.l4len-8, 0)
		d.payload = d.udp.Payload
	case ProtoSCTP:
		if next != layers.LayerTypeSCTP {
			return d.shortTransport(err, 12)
		}
		p.SrcPort, p.DstPort = uint16(d.sctp.SrcPort), uint16(d.sctp.DstPort)
		p.PayloadLen = max(st.l4len-12, 0)
	case ProtoICMP:
		if next != layers.LayerTypeICMPv4 {
			return d.shortTransport(err, 8)
		}
		t := d.icmp4.TypeCode
		p.ICMPType, p.ICMPCode = t.Type(), t.Code()
		switch p.ICMPType {
		case layers.ICMPv4TypeEchoRequest, layers.ICMPv4TypeEchoReply:
			p.ICMPID = d.icmp4.Id
		case layers.ICMPv4TypeDestinationUnreachable, layers.ICMPv4TypeSourceQuench, layers.ICMPv4TypeRedirect,
			layers.ICMPv4TypeTimeExceeded, layers.ICMPv4TypeParameterProblem:
			d.quote(d.icmp4.Payload, &p.Quoted)
		}
		p.PayloadLen = max(st.l4len-8, 0)
	case ProtoICMPv6:
		if next != layers.LayerTypeICMPv6 {
			return d.shortTransport(err, 4)
		}
		t := d.icmp6.TypeCode
		p.ICMPType, p.ICMPCode = t.Type(), t.Code()
		switch p.ICMPType {
		case layers.ICMPv6TypeEchoRequest, layers.ICMPv6TypeEchoReply:
			if len(d.decoded) > 0 && d.decoded[len(d.decoded)-1] == layers.LayerTypeICMPv6Echo {
				p.ICMPID = d.echo6.Identifier
			}
		case layers.ICMPv6TypeDestinationUnreachable, layers.ICMPv6TypePacketTooBig,
			layers.ICMPv6TypeTimeExceeded, layers.ICMPv6TypeParameterProblem:
			if pl := d.icmp6.Payload; len(pl) >= 4 { // unused, MTU or pointer, then the quote
				d.quote(pl[4:], &p.Quoted)
			}
		}
		// The first 8 bytes are the header, as in ICMPv4: type, code,
		// checksum and the message's own word (echo id and sequence,
		// MTU, pointer, ND flags).
		p.PayloadLen = max(st.l4len-8, 0)
	case uint8(layers.IPProtocolIPv6HopByHop), uint8(layers.IPProtocolIPv6Routing),
		uint8(layers.IPProtocolIPv6Fragment), uint8(layers.IPProtocolIPv6Destination):
		if err != nil { // an IPv6 extension header that could not be read
			*p = Packet{}
			return failure(truncated, err)
		}
		p.PayloadLen = max(st.l4len, 0)
	default:
		p.PayloadLen = max(st.l4len, 0)
	}
	return ReasonNone, nil
}

// shortTransport handles a TCP, UDP, SCTP or ICMP header that is missing:
// a first fragment still gives its ports from the first four bytes (a
// fragment may be cut anywhere); any other frame is skipped as truncated.
func (d *Decoder) shortTransport(err error, need int) (Reason, error) {
	p, l4 := d.st.p, d.st.l4
	if p.Fragment && len(l4) >= 4 && (p.Proto == ProtoTCP || p.Proto == ProtoUDP || p.Proto == ProtoSCTP) {
		p.SrcPort = uint16(l4[0])<<8 | uint16(l4[1])
		p.DstPort = uint16(l4[2])<<8 | uint16(l4[3])
		p.Truncated = true
		return ReasonNone, nil
	}
	*p = Packet{}
	if d.st.l4len < need && !d.st.cut {
		// The IP length itself leaves no room for the header (an IPv6
		// packet with payload length 0 and next header TCP): not cut
		// by the capture but impossible; Zeek too drops it (a
		// truncated_header weird) without a connection.
		return ReasonMalformed, errNoTransport
	}
	if err == nil {
		err = errShort
	}
	return ReasonTruncated, err
}

// failure maps a decoding error to a reason.
func failure(truncated bool, err error) (Reason, error) {
	if truncated || err == errShort {
		return ReasonTruncated, err
	}
	return ReasonMalformed, err
}

// tcpFlags is the TCP header's flags byte. gopacket keeps the header bytes
// it decoded in Contents, so the byte is read from there (byte 13, whose bits
// are the Flag* values); the booleans gopacket fills are the fallback.
func tcpFlags(t *layers.TCP) uint8 {
	if len(t.Contents) >= 14 {
		return t.Contents[13]
	}
	var f uint8
	for _, b := range [...]struct {
		set  bool
		flag uint8
	}{{t.FIN, FlagFIN}, {t.SYN, FlagSYN}, {t.RST, FlagRST}, {t.PSH, FlagPSH}, {t.ACK, FlagACK}, {t.URG, FlagURG}, {t.ECE, FlagECE}, {t.CWR, FlagCWR}} {
		if b.set {
			f |= b.flag
		}
	}
	return f
}

// quote decodes the IP header and first transport bytes an ICMP error
// carries. Only 8 bytes of the transport header are quoted, too few for
// gopacket's TCP layer, so the ports are read from the first four of them
// (the same place in TCP, UDP and SCTP).
func (d *Decoder) quote(b []byte, q *Quoted) {
	*q = Quoted{}
	parser := d.quoted[0]
	switch ipByNibble(b) {
	case layers.LayerTypeIPv6:
		parser = d.quoted[1]
	case layers.LayerTypeIPv4:
	default:
		return
	}
	_ = parser.DecodeLayers(b, &d.qlayers) // a quote is cut short by design; take what decoded
	if len(d.qlayers) == 0 {
		return
	}
	var l4 []byte
	nonFirst := false
	switch d.qlayers[0] {
	case layers.LayerTypeIPv4:
		q.Src, q.Dst = netip.AddrFrom4([4]byte(d.qip4.SrcIP)), netip.AddrFrom4([4]byte(d.qip4.DstIP))
		q.Proto = uint8(d.qip4.Protocol)
		l4 = d.qip4.Payload
		nonFirst = d.qip4.FragOffset != 0
	case layers.LayerTypeIPv6:
		q.Src, q.Dst = netip.AddrFrom16([16]byte(d.qip6.SrcIP)), netip.AddrFrom16([16]byte(d.qip6.DstIP))
		q.Proto = uint8(d.qip6.NextHeader)
		if d.qip6.HopByHop != nil {
			q.Proto = uint8(d.qip6.HopByHop.NextHeader)
		}
		l4 = d.qip6.Payload
		switch n := len(d.qlayers); d.qlayers[n-1] {
		case layers.LayerTypeIPv6Fragment, layers.LayerTypeIPv6Destination, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6HopByHop:
			q.Proto = uint8(d.qext.NextHeader)
			l4 = d.qext.Payload
			nonFirst = d.qlayers[n-1] == layers.LayerTypeIPv6Fragment && len(d.qext.Contents) >= 4 && (uint16(d.qext.Contents[2])<<8|uint16(d.qext.Contents[3]))&^7 != 0
		}
	default:
		return
	}
	q.Valid = true
	if !nonFirst && len(l4) >= 4 && (q.Proto == ProtoTCP || q.Proto == ProtoUDP || q.Proto == ProtoSCTP) {
		q.SrcPort = uint16(l4[0])<<8 | uint16(l4[1])
		q.DstPort = uint16(l4[2])<<8 | uint16(l4[3])
	}
}
