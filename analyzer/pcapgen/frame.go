package pcapgen

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// framer turns steps into frame bytes. It owns one instance of every layer
// it may need and reuses them, its serialisation buffers and its layer
// list, so that writing a packet does not allocate in the common cases.
type framer struct {
	buf, qbuf gopacket.SerializeBuffer
	opts      gopacket.SerializeOptions
	ls, ls2   []gopacket.SerializableLayer
	fill      []byte
	quote     []byte

	eth, ieth  layers.Ethernet
	dot1q      [2]layers.Dot1Q
	mpls       [4]layers.MPLS
	pppoe      layers.PPPoE
	ppp        layers.PPP
	sll        sllHeader
	sll2       sll2Header
	null       layers.Loopback
	oip4       layers.IPv4
	oip6       layers.IPv6
	oudp       layers.UDP
	gre        layers.GRE
	vxlan      layers.VXLAN
	geneve     geneveHeader
	erspan     layers.ERSPANII
	ip4        layers.IPv4
	ip6        layers.IPv6
	hbh        layers.IPv6HopByHop
	dsto       layers.IPv6Destination
	frag6      ipv6Fragment
	tcp        layers.TCP
	udp        layers.UDP
	icmp4      layers.ICMPv4
	icmp6      layers.ICMPv6
	echo6      layers.ICMPv6Echo
	ns         layers.ICMPv6NeighborSolicitation
	na         layers.ICMPv6NeighborAdvertisement
	arp        layers.ARP
	vrrp       vrrpAdvert
	dns        layers.DNS
	payload    gopacket.Payload
	payloadRaw gopacket.Payload

	mac     [6][6]byte             // eth src/dst, inner eth src/dst, spare
	macs    map[netip.Addr][6]byte // Scenario.SameHost: addresses sharing a machine's MAC
	ip      [10][16]byte           // backing arrays for net.IP fields
	tcpOpts [6]layers.TCPOption
	mssBuf  [2]byte
	wsBuf   [1]byte
	ndOpts  [1]layers.ICMPv6Option
	hbhOpt  layers.IPv6HopByHopOption
	dstOpt  layers.IPv6DestinationOption
	padN    [4]byte
	hbhPtr  [1]*layers.IPv6HopByHopOption
	dstPtr  [1]*layers.IPv6DestinationOption
	dnsQ    [1]layers.DNSQuestion
	dnsA    [1]layers.DNSResourceRecord
	dnsName []byte
	greSeq  uint32
}

func newFramer() *framer {
	return &framer{
		buf:   gopacket.NewSerializeBufferExpectedSize(256, 0),
		qbuf:  gopacket.NewSerializeBufferExpectedSize(256, 0),
		opts:  gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		ls:    make([]gopacket.SerializableLayer, 0, 24),
		ls2:   make([]gopacket.SerializableLayer, 0, 8),
		fill:  fillBlock(),
		quote: make([]byte, 0, 2048),
	}
}

// netIP copies a into the i-th backing array and returns it as a net.IP
// without allocating.
func (fb *framer) netIP(i int, a netip.Addr) net.IP {
	fb.ip[i] = a.As16()
	if a.Is4() {
		return fb.ip[i][12:16]
	}
	return fb.ip[i][:16]
}

// macFor is the Ethernet address used for a: multicast and broadcast
// groups map to their group MACs, unicast hosts to a locally administered
// address derived from the IP address.
func macFor(a netip.Addr) [6]byte {
	if a.Is4() {
		b := a.As4()
		switch {
		case a.IsMulticast():
			return [6]byte{0x01, 0x00, 0x5e, b[1] & 0x7f, b[2], b[3]}
		case b[3] == 255:
			return [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		}
		return [6]byte{0x02, 0x42, b[0], b[1], b[2], b[3]}
	}
	b := a.As16()
	if a.IsMulticast() {
		return [6]byte{0x33, 0x33, b[12], b[13], b[14], b[15]}
	}
	h := hashAddr(a)
	return [6]byte{0x02, 0x66, byte(h >> 24), byte(h >> 16), byte(h >> 8), byte(h)}
}

// hostMAC is a's MAC: its machine's when Scenario.SameHost named it,
// macFor's otherwise.
func (fb *framer) hostMAC(a netip.Addr) [6]byte {
	if m, ok := fb.macs[a]; ok {
		return m
	}
	return macFor(a)
}

func (fb *framer) macSlice(i int, m [6]byte) net.HardwareAddr {
	fb.mac[i] = m
	return fb.mac[i][:]
}

func etypeOf(a netip.Addr) layers.EthernetType {
	if a.Is4() {
		return layers.EthernetTypeIPv4
	}
	return layers.EthernetTypeIPv6
}

// solicitedNode is ff02::1:ffXX:XXXX for a.
func solicitedNode(a netip.Addr) netip.Addr {
	b := a.As16()
	return netip.AddrFrom16([16]byte{0xff, 0x02, 10: 0, 11: 0x01, 12: 0xff, 13: b[13], 14: b[14], 15: b[15]})
}

// endpoints returns the IP source and destination of step st.
func (f *flow) endpoints(st *step) (src, dst netip.AddrPort) {
	src, dst = f.orig, f.resp
	switch st.kind {
	case sICMPError:
		from := f.resp.Addr()
		if f.errFrom.IsValid() {
			from = f.errFrom
		}
		return netip.AddrPortFrom(from, 0), netip.AddrPortFrom(f.orig.Addr(), 0)
	case sNDSol:
		return src, netip.AddrPortFrom(solicitedNode(f.resp.Addr()), 0)
	case sVRRP:
		return src, dst
	}
	if st.rev {
		src, dst = dst, src
		if f.replyFrom.IsValid() {
			src = netip.AddrPortFrom(f.replyFrom, src.Port())
		}
	}
	return src, dst
}

// frame serialises step i of f for a capture interface of the given link
// type. The returned slice is valid until the next call.
func (fb *framer) frame(f *flow, i int, link LinkType) ([]byte, error) {
	st := &f.steps[i]
	src, dst := f.endpoints(st)
	fb.ls = fb.ls[:0]
	p := &f.path
	tun := p.Tunnel.Kind

	inner := etypeOf(src.Addr())
	if st.kind == sARP {
		inner = layers.EthernetTypeARP
	}
	// the EtherType right after the link header and encapsulation
	carried := inner
	if tun != TunnelNone {
		carried = etypeOf(p.Tunnel.Src)
	}
	// L2 addresses of the outermost frame
	srcMAC, dstMAC := fb.hostMAC(src.Addr()), fb.hostMAC(dst.Addr())
	if st.kind == sVRRP {
		srcMAC = [6]byte{0x00, 0x00, 0x5e, 0x00, 0x01, f.vrid}
	}
	if st.kind == sARP && !st.rev {
		dstMAC = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	}
	if tun != TunnelNone {
		os, od := fb.outerAddrs(f, st)
		srcMAC, dstMAC = fb.hostMAC(os), fb.hostMAC(od)
	}

	// etype chain: link header -> VLAN tags -> MPLS / PPPoE -> carried
	first := carried
	if p.PPPoE != 0 {
		first = layers.EthernetTypePPPoESession
	}
	if len(p.MPLS) > 0 {
		first = layers.EthernetTypeMPLSUnicast
	}
	if n := len(p.VLANs); n > 0 {
		first = layers.EthernetTypeDot1Q
		if p.QinQ {
			first = layers.EthernetTypeQinQ
		}
	}

	switch link {
	case LinkEthernet:
		fb.eth = layers.Ethernet{SrcMAC: fb.macSlice(0, srcMAC), DstMAC: fb.macSlice(1, dstMAC), EthernetType: first}
		fb.ls = append(fb.ls, &fb.eth)
	case LinkSLL, LinkSLL2:
		pt := uint16(4) // outgoing: the capture runs on the originator's host
		switch {
		case dstMAC[0] == 0xff:
			pt = 1
		case dstMAC[0]&1 == 1:
			pt = 2
		case st.rev:
			pt = 0
		}
		if link == LinkSLL {
			fb.sll = sllHeader{pktType: pt, addr: srcMAC, protocol: first}
			fb.ls = append(fb.ls, &fb.sll)
		} else {
			fb.sll2 = sll2Header{protocol: first, ifIndex: 2, pktType: uint8(pt), addr: srcMAC}
			fb.ls = append(fb.ls, &fb.sll2)
		}
	case LinkNull:
		fam := layers.ProtocolFamilyIPv4
		if carried == layers.EthernetTypeIPv6 {
			fam = layers.ProtocolFamilyIPv6Darwin
		}
		fb.null = layers.Loopback{Family: fam}
		fb.ls = append(fb.ls, &fb.null)
	case LinkRaw, LinkIPv4, LinkIPv6:
	default:
		return nil, fmt.Errorf("link type %v not supported", link)
	}
	if link.hasL2() {
		for k, vid := range p.VLANs {
			next := carried
			switch {
			case k+1 < len(p.VLANs):
				next = layers.EthernetTypeDot1Q
			case len(p.MPLS) > 0:
				next = layers.EthernetTypeMPLSUnicast
			case p.PPPoE != 0:
				next = layers.EthernetTypePPPoESession
			}
			fb.dot1q[k] = layers.Dot1Q{VLANIdentifier: vid, Type: next}
			fb.ls = append(fb.ls, &fb.dot1q[k])
		}
		for k, label := range p.MPLS {
			fb.mpls[k] = layers.MPLS{Label: label, TTL: 64, StackBottom: k == len(p.MPLS)-1}
			fb.ls = append(fb.ls, &fb.mpls[k])
		}
		if p.PPPoE != 0 {
			fb.pppoe = layers.PPPoE{Version: 1, Type: 1, Code: layers.PPPoECodeSession, SessionId: p.PPPoE}
			fb.ppp = layers.PPP{PPPType: layers.PPPTypeIPv4}
			if carried == layers.EthernetTypeIPv6 {
				fb.ppp.PPPType = layers.PPPTypeIPv6
			}
			fb.ls = append(fb.ls, &fb.pppoe, &fb.ppp)
		}
	}
	if tun != TunnelNone {
		if err := fb.tunnel(f, i, st, src, dst, inner); err != nil {
			return nil, err
		}
	}
	if st.kind == sARP {
		fb.appendARP(f, st)
	} else if err := fb.appendIP(&fb.ls, f, i, src, dst); err != nil {
		return nil, err
	}
	if err := gopacket.SerializeLayers(fb.buf, fb.opts, fb.ls...); err != nil {
		return nil, fmt.Errorf("flow %d step %d: %w", f.id, i, err)
	}
	return fb.buf.Bytes(), nil
}

// outerAddrs are the tunnel endpoints for step st.
func (fb *framer) outerAddrs(f *flow, st *step) (src, dst netip.Addr) {
	t := &f.path.Tunnel
	if st.rev && t.Kind != TunnelERSPAN {
		return t.Dst, t.Src
	}
	return t.Src, t.Dst
}

// tunnel appends the outer IP header and tunnel headers (and the inner
// Ethernet header for L2 tunnels).
func (fb *framer) tunnel(f *flow, i int, st *step, src, dst netip.AddrPort, inner layers.EthernetType) error {
	t := &f.path.Tunnel
	os, od := fb.outerAddrs(f, st)
	var proto layers.IPProtocol
	switch t.Kind {
	case TunnelVXLAN, TunnelGENEVE:
		proto = layers.IPProtocolUDP
	case TunnelGRE, TunnelERSPAN:
		proto = layers.IPProtocolGRE
	case TunnelIPinIP:
		proto = layers.IPProtocolIPv4
		if inner == layers.EthernetTypeIPv6 {
			proto = layers.IPProtocolIPv6
		}
	default:
		return fmt.Errorf("tunnel %v not supported", t.Kind)
	}
	var outer gopacket.NetworkLayer
	if os.Is4() {
		fb.oip4 = layers.IPv4{Version: 4, TTL: 63, Id: f.ipid ^ 0x5a5a + uint16(i), Protocol: proto,
			SrcIP: fb.netIP(0, os), DstIP: fb.netIP(1, od)}
		fb.ls = append(fb.ls, &fb.oip4)
		outer = &fb.oip4
	} else {
		fb.oip6 = layers.IPv6{Version: 6, HopLimit: 63, NextHeader: proto, SrcIP: fb.netIP(0, os), DstIP: fb.netIP(1, od)}
		fb.ls = append(fb.ls, &fb.oip6)
		outer = &fb.oip6
	}
	l2 := false
	switch t.Kind {
	case TunnelVXLAN, TunnelGENEVE:
		// source port: hash of the inner flow, as VTEPs do for ECMP entropy
		sp := layers.UDPPort(49152 + (hashAddr(f.orig.Addr())^uint32(f.orig.Port())^uint32(f.resp.Port()))%16384)
		fb.oudp = layers.UDP{SrcPort: sp, DstPort: 4789}
		if t.Kind == TunnelGENEVE {
			fb.oudp.DstPort = 6081
		}
		_ = fb.oudp.SetNetworkLayerForChecksum(outer)
		fb.ls = append(fb.ls, &fb.oudp)
		if t.Kind == TunnelVXLAN {
			fb.vxlan = layers.VXLAN{ValidIDFlag: true, VNI: t.ID & 0xffffff}
			fb.ls = append(fb.ls, &fb.vxlan)
		} else {
			fb.geneve = geneveHeader{protocol: layers.EthernetTypeTransparentEthernetBridging, vni: t.ID & 0xffffff}
			fb.ls = append(fb.ls, &fb.geneve)
		}
		l2 = true
	case TunnelGRE:
		fb.gre = layers.GRE{Protocol: inner, KeyPresent: t.ID != 0, Key: t.ID}
		fb.ls = append(fb.ls, &fb.gre)
	case TunnelERSPAN:
		fb.greSeq++
		fb.gre = layers.GRE{Protocol: layers.EthernetTypeERSPAN, SeqPresent: true, Seq: fb.greSeq}
		fb.erspan = layers.ERSPANII{Version: 1, SessionID: uint16(t.ID & 0x3ff), Index: uint32(f.path.Iface)}
		fb.ls = append(fb.ls, &fb.gre, &fb.erspan)
		l2 = true
	}
	if l2 {
		smac, dmac := fb.hostMAC(src.Addr()), fb.hostMAC(dst.Addr())
		if st.kind == sARP && !st.rev {
			dmac = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		}
		fb.ieth = layers.Ethernet{SrcMAC: fb.macSlice(2, smac), DstMAC: fb.macSlice(3, dmac), EthernetType: inner}
		fb.ls = append(fb.ls, &fb.ieth)
	}
	return nil
}

func (fb *framer) appendARP(f *flow, st *step) {
	sender, target := f.orig.Addr(), f.resp.Addr()
	smac, tmac := fb.hostMAC(sender), [6]byte{}
	op := uint16(layers.ARPRequest)
	if st.rev {
		op = layers.ARPReply
		sender, target = target, sender
		smac, tmac = fb.hostMAC(sender), fb.hostMAC(target)
	}
	fb.arp = layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: op,
		SourceHwAddress: fb.macSlice(4, smac), SourceProtAddress: fb.netIP(2, sender),
		DstHwAddress: fb.macSlice(5, tmac), DstProtAddress: fb.netIP(3, target),
	}
	fb.ls = append(fb.ls, &fb.arp)
}

// payloadFor returns n filler bytes for a step: a window into the fixed
// random block chosen by flow and position, so payloads differ between
// packets without drawing random numbers at write time.
func (fb *framer) payloadFor(f *flow, st *step, n int) []byte {
	if n > len(fb.fill)/2 {
		n = len(fb.fill) / 2
	}
	off := (uint32(f.id)*7919 + st.seq + st.x*131 + uint32(st.at) + uint32(st.win)*977) % uint32(len(fb.fill)-n)
	return fb.fill[off : int(off)+n]
}

// ipHeader sets the (inner) IP layer for src -> dst and appends it and the
// configured IPv6 extension headers to *ls. next is the upper protocol.
func (fb *framer) ipHeader(ls *[]gopacket.SerializableLayer, f *flow, i int, src, dst netip.Addr, next layers.IPProtocol, ttl uint8, frag6 bool) gopacket.NetworkLayer {
	st := &f.steps[i]
	if src.Is4() {
		id := f.ipid + uint16(i)
		if st.rev {
			id = ^f.ipid + uint16(i)
		}
		fb.ip4 = layers.IPv4{Version: 4, TTL: ttl, Protocol: next, Id: id, SrcIP: fb.netIP(4, src), DstIP: fb.netIP(5, dst)}
		if next == layers.IPProtocolTCP {
			fb.ip4.Flags = layers.IPv4DontFragment
		}
		*ls = append(*ls, &fb.ip4)
		return &fb.ip4
	}
	fb.ip6 = layers.IPv6{Version: 6, HopLimit: ttl, SrcIP: fb.netIP(4, src), DstIP: fb.netIP(5, dst)}
	*ls = append(*ls, &fb.ip6)
	// chain: IPv6 -> [hop-by-hop] -> [destination options] -> [fragment] -> next
	chain := next
	if frag6 {
		fb.frag6.next = next
		chain = layers.IPProtocolIPv6Fragment
	}
	ext := f.path.IPv6Ext
	if ext&ExtDestOpts != 0 {
		fb.dstOpt = layers.IPv6DestinationOption{OptionType: 1, OptionData: fb.padN[:]} // PadN
		fb.dstPtr[0] = &fb.dstOpt
		fb.dsto = layers.IPv6Destination{Options: fb.dstPtr[:]}
		fb.dsto.NextHeader = chain
		chain = layers.IPProtocolIPv6Destination
	}
	if ext&ExtHopByHop != 0 {
		fb.hbhOpt = layers.IPv6HopByHopOption{OptionType: 1, OptionData: fb.padN[:]}
		fb.hbhPtr[0] = &fb.hbhOpt
		fb.hbh = layers.IPv6HopByHop{Options: fb.hbhPtr[:]}
		fb.hbh.NextHeader = chain
		chain = layers.IPProtocolIPv6HopByHop
	}
	fb.ip6.NextHeader = chain
	if ext&ExtHopByHop != 0 {
		*ls = append(*ls, &fb.hbh)
	}
	if ext&ExtDestOpts != 0 {
		*ls = append(*ls, &fb.dsto)
	}
	if frag6 {
		*ls = append(*ls, &fb.frag6)
	}
	return &fb.ip6
}

// appendIP appends the IP packet of step i (IP header, transport, payload).
func (fb *framer) appendIP(ls *[]gopacket.SerializableLayer, f *flow, i int, src, dst netip.AddrPort) error {
	st := &f.steps[i]
	ttl := f.ttlO
	if st.rev {
		ttl = f.ttlR
	}
	v4 := src.Addr().Is4()
	switch st.kind {
	case sTCP:
		nl := fb.ipHeader(ls, f, i, src.Addr(), dst.Addr(), layers.IPProtocolTCP, ttl, false)
		fb.tcp = layers.TCP{
			SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
			Seq: st.seq, Ack: st.ack, Window: st.win,
			FIN: st.flags&flagFIN != 0, SYN: st.flags&flagSYN != 0, RST: st.flags&flagRST != 0,
			PSH: st.flags&flagPSH != 0, ACK: st.flags&flagACK != 0,
		}
		if st.flags&flagSYN != 0 {
			fb.tcp.Options = fb.synOptions(f)
		}
		_ = fb.tcp.SetNetworkLayerForChecksum(nl)
		*ls = append(*ls, &fb.tcp)
		if st.n > 0 {
			fb.payload = fb.payloadFor(f, st, int(st.n))
			if d, seq0 := f.reqData, f.reqSeq0; d != nil || f.respData != nil {
				if st.rev {
					d, seq0 = f.respData, f.respSeq0
				}
				if off := int(st.seq - seq0); d != nil && off >= 0 && off+int(st.n) <= len(d) {
					fb.payload = d[off : off+int(st.n)]
				}
			}
			*ls = append(*ls, &fb.payload)
		}
	case sUDP:
		nl := fb.ipHeader(ls, f, i, src.Addr(), dst.Addr(), layers.IPProtocolUDP, ttl, false)
		fb.udp = layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
		_ = fb.udp.SetNetworkLayerForChecksum(nl)
		*ls = append(*ls, &fb.udp)
		switch {
		case f.reqData != nil && !st.rev:
			fb.payload = f.reqData
			*ls = append(*ls, &fb.payload)
		case f.respData != nil && st.rev:
			fb.payload = f.respData
			*ls = append(*ls, &fb.payload)
		case f.qname != "":
			fb.setDNS(f, st)
			*ls = append(*ls, &fb.dns)
		case st.n > 0:
			fb.payload = fb.payloadFor(f, st, int(st.n))
			*ls = append(*ls, &fb.payload)
		}
	case sUDPFrag:
		return fb.appendFragment(ls, f, i, src, dst, ttl)
	case sICMPEcho:
		id, seq := uint16(st.x>>16), uint16(st.x)
		if v4 {
			fb.ipHeader(ls, f, i, src.Addr(), dst.Addr(), layers.IPProtocolICMPv4, ttl, false)
			tc := layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0)
			if st.rev {
				tc = layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoReply, 0)
			}
			fb.icmp4 = layers.ICMPv4{TypeCode: tc, Id: id, Seq: seq}
			*ls = append(*ls, &fb.icmp4)
		} else {
			nl := fb.ipHeader(ls, f, i, src.Addr(), dst.Addr(), layers.IPProtocolICMPv6, ttl, false)
			tc := layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)
			if st.rev {
				tc = layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoReply, 0)
			}
			fb.icmp6 = layers.ICMPv6{TypeCode: tc}
			_ = fb.icmp6.SetNetworkLayerForChecksum(nl)
			fb.echo6 = layers.ICMPv6Echo{Identifier: id, SeqNumber: seq}
			*ls = append(*ls, &fb.icmp6, &fb.echo6)
		}
		fb.payload = fb.payloadFor(f, st, int(st.n))
		*ls = append(*ls, &fb.payload)
	case sICMPError:
		return fb.appendICMPError(ls, f, i, src, dst)
	case sNDSol, sNDAdv:
		nl := fb.ipHeader(ls, f, i, src.Addr(), dst.Addr(), layers.IPProtocolICMPv6, 255, false)
		target := f.resp.Addr()
		fb.ndOpts[0] = layers.ICMPv6Option{Data: fb.macSlice(4, fb.hostMAC(src.Addr()))}
		if st.kind == sNDSol {
			fb.icmp6 = layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborSolicitation, 0)}
			fb.ndOpts[0].Type = layers.ICMPv6OptSourceAddress
			fb.ns = layers.ICMPv6NeighborSolicitation{TargetAddress: fb.netIP(6, target), Options: fb.ndOpts[:]}
			*ls = append(*ls, &fb.icmp6, &fb.ns)
		} else {
			fb.icmp6 = layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborAdvertisement, 0)}
			fb.ndOpts[0].Type = layers.ICMPv6OptTargetAddress
			fb.na = layers.ICMPv6NeighborAdvertisement{Flags: 0x60, TargetAddress: fb.netIP(6, target), Options: fb.ndOpts[:]}
			*ls = append(*ls, &fb.icmp6, &fb.na)
		}
		_ = fb.icmp6.SetNetworkLayerForChecksum(nl)
	case sVRRP:
		fb.ipHeader(ls, f, i, src.Addr(), dst.Addr(), layers.IPProtocolVRRP, 255, false)
		fb.vrrp = vrrpAdvert{vrid: f.vrid, priority: f.prio, addr: f.vip.As4()}
		*ls = append(*ls, &fb.vrrp)
	default:
		return fmt.Errorf("flow %d step %d: unknown step kind %d", f.id, i, st.kind)
	}
	return nil
}

// synOptions are the options of a modern stack's SYN: MSS, window scale,
// SACK permitted.
func (fb *framer) synOptions(f *flow) []layers.TCPOption {
	mss := f.mss()
	fb.mssBuf = [2]byte{byte(mss >> 8), byte(mss)}
	fb.wsBuf = [1]byte{8}
	fb.tcpOpts = [6]layers.TCPOption{
		{OptionType: layers.TCPOptionKindMSS, OptionData: fb.mssBuf[:]},
		{OptionType: layers.TCPOptionKindNop},
		{OptionType: layers.TCPOptionKindWindowScale, OptionData: fb.wsBuf[:]},
		{OptionType: layers.TCPOptionKindNop},
		{OptionType: layers.TCPOptionKindNop},
		{OptionType: layers.TCPOptionKindSACKPermitted},
	}
	return fb.tcpOpts[:]
}

// setDNS fills the DNS layer: a query for f.qname, or from the responder
// an answer whose address is derived from the name.
func (fb *framer) setDNS(f *flow, st *step) {
	fb.dnsName = append(fb.dnsName[:0], f.qname...)
	qt := layers.DNSTypeA
	if !f.orig.Addr().Is4() {
		qt = layers.DNSTypeAAAA
	}
	fb.dnsQ[0] = layers.DNSQuestion{Name: fb.dnsName, Type: qt, Class: layers.DNSClassIN}
	fb.dns = layers.DNS{ID: f.ipid + uint16(st.x), RD: true, Questions: fb.dnsQ[:]}
	if st.rev {
		h := hashAddr(netip.AddrFrom4([4]byte{byte(len(f.qname)), f.qname[0], f.qname[len(f.qname)-1], 0}))
		var ans netip.Addr
		if qt == layers.DNSTypeA {
			ans = netip.AddrFrom4([4]byte{10, 99, byte(h >> 8), byte(h)})
		} else {
			ans = netip.AddrFrom16([16]byte{0xfd, 0x00, 0, 0x99, 14: byte(h >> 8), 15: byte(h)})
		}
		fb.dnsA[0] = layers.DNSResourceRecord{Name: fb.dnsName, Type: qt, Class: layers.DNSClassIN, TTL: 300, IP: fb.netIP(7, ans)}
		fb.dns.QR, fb.dns.RA, fb.dns.Answers = true, true, fb.dnsA[:]
	}
}

// appendFragment appends one IP fragment of the UDP datagram of step i.
func (fb *framer) appendFragment(ls *[]gopacket.SerializableLayer, f *flow, i int, src, dst netip.AddrPort, ttl uint8) error {
	st := &f.steps[i]
	// the whole datagram, with its checksum, built once per fragment
	fb.ls2 = fb.ls2[:0]
	nl := fb.ipHeader(&fb.ls2, f, i, src.Addr(), dst.Addr(), layers.IPProtocolUDP, ttl, false)
	fb.udp = layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	_ = fb.udp.SetNetworkLayerForChecksum(nl)
	// the payload depends only on the datagram, not on the fragment
	whole := step{n: st.n, win: st.win, rev: st.rev}
	fb.payload = fb.payloadFor(f, &whole, int(st.n))
	if err := gopacket.SerializeLayers(fb.qbuf, fb.opts, &fb.udp, &fb.payload); err != nil {
		return fmt.Errorf("flow %d step %d: %w", f.id, i, err)
	}
	dgram := fb.qbuf.Bytes()
	v4 := src.Addr().Is4()
	hdr := 20
	if !v4 {
		hdr = 48
	}
	chunk := (f.mtu - hdr) &^ 7
	off := int(st.x)
	end := min(off+chunk, len(dgram))
	more := end < len(dgram)
	fb.quote = append(fb.quote[:0], dgram[off:end]...)
	if v4 {
		fb.ipHeader(ls, f, i, src.Addr(), dst.Addr(), layers.IPProtocolUDP, ttl, false)
		fb.ip4.Id = f.fragID(st)
		fb.ip4.FragOffset = uint16(off / 8)
		if more {
			fb.ip4.Flags = layers.IPv4MoreFragments
		}
	} else {
		fb.ipHeader(ls, f, i, src.Addr(), dst.Addr(), layers.IPProtocolUDP, ttl, true)
		fb.frag6.offset, fb.frag6.more, fb.frag6.id = uint16(off), more, uint32(f.fragID(st))|0x8000_0000
	}
	fb.payloadRaw = fb.quote
	*ls = append(*ls, &fb.payloadRaw)
	return nil
}

// fragID is the IP identification shared by the fragments of one datagram:
// derived from the flow, the datagram number (kept in win) and direction.
func (f *flow) fragID(st *step) uint16 {
	return f.ipid + st.win*7 + uint16(b2i(st.rev))*0x4000
}

// appendICMPError appends an ICMP (or ICMPv6) destination-unreachable
// message quoting the step it answers.
func (fb *framer) appendICMPError(ls *[]gopacket.SerializableLayer, f *flow, i int, src, dst netip.AddrPort) error {
	st := &f.steps[i]
	q := int(st.x)
	if q >= i || f.steps[q].rev || f.steps[q].kind == sUDPFrag {
		return fmt.Errorf("flow %d step %d: ICMP error must quote an earlier originator packet", f.id, i)
	}
	// serialise the quoted packet first: it reuses the IP/transport layers
	fb.ls2 = fb.ls2[:0]
	if err := fb.appendIP(&fb.ls2, f, q, f.orig, f.resp); err != nil {
		return err
	}
	if err := gopacket.SerializeLayers(fb.qbuf, fb.opts, fb.ls2...); err != nil {
		return fmt.Errorf("flow %d step %d: quoting: %w", f.id, i, err)
	}
	quoted := fb.qbuf.Bytes()
	v4 := src.Addr().Is4()
	limit := 548 // RFC 1812: as much as fits in 576 bytes
	if !v4 {
		limit = 1232 // RFC 4443: up to the minimum IPv6 MTU
	}
	quoted = quoted[:min(len(quoted), limit)]
	ttl := uint8(255)
	if src.Addr() == f.resp.Addr() {
		ttl = f.ttlR
	}
	if v4 {
		code := uint8(layers.ICMPv4CodePort)
		switch st.code {
		case icmpProhibited:
			code = layers.ICMPv4CodeCommAdminProhibited
		case icmpHostUnreach:
			code = layers.ICMPv4CodeHost
		}
		fb.quote = append(fb.quote[:0], quoted...)
		fb.ipHeader(ls, f, i, src.Addr(), dst.Addr(), layers.IPProtocolICMPv4, ttl, false)
		fb.icmp4 = layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, code)}
		fb.payloadRaw = fb.quote
		*ls = append(*ls, &fb.icmp4, &fb.payloadRaw)
		return nil
	}
	code := uint8(layers.ICMPv6CodePortUnreachable)
	switch st.code {
	case icmpProhibited:
		code = layers.ICMPv6CodeAdminProhibited
	case icmpHostUnreach:
		code = layers.ICMPv6CodeAddressUnreachable
	}
	fb.quote = append(fb.quote[:0], 0, 0, 0, 0) // unused word
	fb.quote = append(fb.quote, quoted...)
	nl := fb.ipHeader(ls, f, i, src.Addr(), dst.Addr(), layers.IPProtocolICMPv6, ttl, false)
	fb.icmp6 = layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeDestinationUnreachable, code)}
	_ = fb.icmp6.SetNetworkLayerForChecksum(nl)
	fb.payloadRaw = fb.quote
	*ls = append(*ls, &fb.icmp6, &fb.payloadRaw)
	return nil
}
