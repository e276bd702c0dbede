package decode

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// The DecodingLayers below wrap gopacket's layers where a Packet needs more
// than the layer keeps (a VLAN id or outer address that the next layer of the
// same type would overwrite), where a layer lacks a bounds check, or where
// google/gopacket v1.1.19 has no DecodingLayer at all (Linux SLL2, MPLS,
// PPPoE, PPP, IPv6 fragment, GENEVE, ERSPAN type III). Each records what it
// decoded into the Decoder's state as the parser walks the frame.

// Layer types gopacket v1.1.19 does not have.
var (
	layerTypeSLL2    = gopacket.RegisterLayerType(1276, gopacket.LayerTypeMetadata{Name: "LinuxSLL2"})
	layerTypeERSPAN3 = gopacket.RegisterLayerType(1277, gopacket.LayerTypeMetadata{Name: "ERSPANIII"})
	layerTypeCHDLC   = gopacket.RegisterLayerType(1278, gopacket.LayerTypeMetadata{Name: "CiscoHDLC"})
)

// Errors of the layers below; preallocated so a bad frame costs no
// allocation either.
var (
	errShort       = errors.New("header cut short")
	errIPv4Version = errors.New("ethertype or link type says IPv4, version field differs")
	errIPv6Version = errors.New("ethertype or link type says IPv6, version field differs")
	errTooDeep     = errors.New("more than 8 nested IP headers")
	errSLLAddrLen  = errors.New("linux SLL address length over 8")
	errGRERouting  = errors.New("GRE source routing is not followed")
	errGREVersion  = errors.New("GRE version over 1")
	errPPPoE       = errors.New("PPPoE header is not a version 1 session frame")
	errGeneve      = errors.New("GENEVE version is not 0")
	errNoTransport = errors.New("IP length leaves no room for the transport header")
	errRadiotap    = errors.New("radiotap header version is not 0 or its length is impossible")
	errDot11       = errors.New("802.11 protocol version is not 0")
	errBadFCS      = errors.New("802.11 frame failed its FCS check (radiotap flags)")
)

const maxIPHeaders = 8

// state is what the layers record while one frame is decoded.
type state struct {
	p       *Packet
	nIP     int    // IP headers decoded so far
	pending Tunnel // tunnel header seen since the last IP header
	proto   uint8  // next protocol after the innermost IP header and its extensions
	ipLen   int    // innermost IP total length
	l4len   int    // transport bytes by the IP length fields
	l4      []byte // captured transport bytes
	// nonFirst: the innermost IP packet is a fragment other than the first,
	// so it has no transport header.
	nonFirst bool
	// cut: an IP header declared more bytes than the frame holds.
	cut bool
	// fcs: the radiotap header says the 802.11 frame ends with its
	// 4-byte FCS.
	fcs bool
	// skip: the link layer says the frame carries no IP (an 802.11
	// management or control frame, an encrypted or empty data frame).
	skip Reason
}

func (s *state) reset(p *Packet) { *s = state{p: p} }

// ip records an IP header: the innermost packet so far; the first one
// becomes the outer address pair once a second one follows.
func (s *state) ip(src, dst netip.Addr, ttl uint8) error {
	s.nIP++
	p := s.p
	switch {
	case s.nIP > maxIPHeaders:
		return errTooDeep
	case s.nIP == 2:
		p.OuterSrc, p.OuterDst = p.Src, p.Dst
		p.Tunnel = s.pending
		if p.Tunnel == TunnelNone {
			p.Tunnel = TunnelIPinIP
		}
	}
	p.Src, p.Dst = src, dst
	p.TTL = ttl
	p.Fragment, p.FragID, p.FragOffset, p.MoreFragments = false, 0, 0, false
	s.pending = TunnelNone
	s.nonFirst = false
	return nil
}

// etherNext is the layer after an EtherType, for the ones this package
// follows; every other EtherType ends the frame (not IP).
func etherNext(t layers.EthernetType) gopacket.LayerType {
	switch t {
	case layers.EthernetTypeIPv4:
		return layers.LayerTypeIPv4
	case layers.EthernetTypeIPv6:
		return layers.LayerTypeIPv6
	case layers.EthernetTypeDot1Q, layers.EthernetTypeQinQ, 0x9100, 0x9200:
		return layers.LayerTypeDot1Q
	case layers.EthernetTypeMPLSUnicast, layers.EthernetTypeMPLSMulticast:
		return layers.LayerTypeMPLS
	case layers.EthernetTypePPPoESession:
		return layers.LayerTypePPPoE
	case layers.EthernetTypeTransparentEthernetBridging:
		return layers.LayerTypeEthernet
	case layers.EthernetTypeERSPAN:
		return layers.LayerTypeERSPANII
	case 0x22EB:
		return layerTypeERSPAN3
	case 0x880B: // PPP, as PPTP's enhanced GRE carries it
		return layers.LayerTypePPP
	}
	return t.LayerType()
}

// ipByNibble picks IPv4 or IPv6 by the version nibble.
func ipByNibble(b []byte) gopacket.LayerType {
	if len(b) > 0 {
		switch b[0] >> 4 {
		case 4:
			return layers.LayerTypeIPv4
		case 6:
			return layers.LayerTypeIPv6
		}
	}
	return gopacket.LayerTypePayload
}

type ethernetLayer struct{ layers.Ethernet }

func (l *ethernetLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 14 {
		df.SetTruncated()
		return errShort
	}
	return l.Ethernet.DecodeFromBytes(data, df)
}

func (l *ethernetLayer) NextLayerType() gopacket.LayerType {
	if l.Length != 0 { // 802.3 length field: LLC, never IP here
		return layers.LayerTypeLLC
	}
	return etherNext(l.EthernetType)
}

type dot1qLayer struct {
	layers.Dot1Q
	st *state
}

func (l *dot1qLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if err := l.Dot1Q.DecodeFromBytes(data, df); err != nil {
		return err
	}
	if p := l.st.p; l.st.nIP == 0 {
		p.Encap |= EncapVLAN
		if p.NVLAN < uint8(len(p.VLANs)) {
			p.VLANs[p.NVLAN] = l.VLANIdentifier
			p.NVLAN++
		}
	}
	return nil
}

func (l *dot1qLayer) NextLayerType() gopacket.LayerType { return etherNext(l.Type) }

type sllLayer struct{ layers.LinuxSLL }

func (l *sllLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 16 {
		df.SetTruncated()
		return errShort
	}
	if binary.BigEndian.Uint16(data[4:6]) > 8 {
		return errSLLAddrLen // gopacket would slice past the header
	}
	return l.LinuxSLL.DecodeFromBytes(data, df)
}

func (l *sllLayer) NextLayerType() gopacket.LayerType { return etherNext(l.EthernetType) }

// sll2Layer is the 20-byte Linux cooked capture v2 header (LINKTYPE 276):
// protocol type, reserved, interface index, ARPHRD type, packet type,
// address length, 8 address bytes.
type sll2Layer struct {
	layers.BaseLayer
	Protocol layers.EthernetType
}

func (l *sll2Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 20 {
		df.SetTruncated()
		return errShort
	}
	l.Protocol = layers.EthernetType(binary.BigEndian.Uint16(data[0:2]))
	l.BaseLayer = layers.BaseLayer{Contents: data[:20], Payload: data[20:]}
	return nil
}
func (l *sll2Layer) CanDecode() gopacket.LayerClass    { return layerTypeSLL2 }
func (l *sll2Layer) NextLayerType() gopacket.LayerType { return etherNext(l.Protocol) }

// mplsLayer takes the whole MPLS label stack at once (gopacket v1.1.19 has
// no MPLS DecodingLayer) and guesses the payload by its first nibble, as
// gopacket's MPLS decoder does.
type mplsLayer struct {
	layers.BaseLayer
	Labels int
	st     *state
}

func (l *mplsLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	l.Labels = 0
	if l.st.nIP == 0 {
		l.st.p.Encap |= EncapMPLS
	}
	for off := 0; ; off += 4 {
		if len(data) < off+4 {
			df.SetTruncated()
			return errShort
		}
		l.Labels++
		if data[off+2]&1 != 0 { // bottom of stack
			l.BaseLayer = layers.BaseLayer{Contents: data[:off+4], Payload: data[off+4:]}
			return nil
		}
	}
}
func (l *mplsLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeMPLS }
func (l *mplsLayer) NextLayerType() gopacket.LayerType { return ipByNibble(l.Payload) }

// pppoeLayer is a PPPoE session header (RFC 2516): version and type 1, code
// 0, session id, length.
type pppoeLayer struct {
	layers.BaseLayer
	SessionID uint16
	st        *state
}

func (l *pppoeLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 6 {
		df.SetTruncated()
		return errShort
	}
	if data[0] != 0x11 || data[1] != 0 {
		return errPPPoE
	}
	l.SessionID = binary.BigEndian.Uint16(data[2:4])
	if l.st.nIP == 0 {
		l.st.p.Encap |= EncapPPPoE
	}
	end := 6 + int(binary.BigEndian.Uint16(data[4:6]))
	if end > len(data) {
		df.SetTruncated()
		end = len(data)
	}
	l.BaseLayer = layers.BaseLayer{Contents: data[:6], Payload: data[6:end]}
	return nil
}
func (l *pppoeLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypePPPoE }
func (l *pppoeLayer) NextLayerType() gopacket.LayerType { return layers.LayerTypePPP }

// pppLayer is the PPP protocol field (one byte when compressed), after an
// optional HDLC address and control pair (ff 03).
type pppLayer struct {
	layers.BaseLayer
	Protocol layers.PPPType
}

func (l *pppLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	off := 0
	if len(data) >= 2 && data[0] == 0xff && data[1] == 0x03 {
		off = 2
	}
	switch {
	case len(data) > off && data[off]&1 == 1:
		l.Protocol = layers.PPPType(data[off])
		off++
	case len(data) >= off+2:
		l.Protocol = layers.PPPType(binary.BigEndian.Uint16(data[off:]))
		off += 2
	default:
		df.SetTruncated()
		return errShort
	}
	l.BaseLayer = layers.BaseLayer{Contents: data[:off], Payload: data[off:]}
	return nil
}
func (l *pppLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypePPP }
func (l *pppLayer) NextLayerType() gopacket.LayerType {
	switch l.Protocol {
	case layers.PPPTypeIPv4:
		return layers.LayerTypeIPv4
	case layers.PPPTypeIPv6:
		return layers.LayerTypeIPv6
	case layers.PPPTypeMPLSUnicast, layers.PPPTypeMPLSMulticast:
		return layers.LayerTypeMPLS
	}
	return gopacket.LayerTypePayload // LCP, IPCP, PAP ...: not IP
}

// tcpLayer lets gopacket decode the fixed TCP header of a segment whose
// options the capture cut, from a copy whose data offset says "no options",
// instead of failing (with an allocated error) on the whole header.
type tcpLayer struct {
	layers.TCP
	scratch [20]byte
	cut     bool // the options were cut; Payload is empty
}

func (l *tcpLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	l.cut = false
	if len(data) >= 20 && data[12]>>4 >= 5 && int(data[12]>>4)*4 > len(data) {
		copy(l.scratch[:], data[:20])
		l.scratch[12] = 5<<4 | data[12]&0x0f
		if err := l.TCP.DecodeFromBytes(l.scratch[:], df); err != nil {
			return err
		}
		l.DataOffset = data[12] >> 4
		l.Contents, l.Payload = data, nil
		l.cut = true
		df.SetTruncated()
		return nil
	}
	return l.TCP.DecodeFromBytes(data, df)
}

// NextLayerType ends the frame: nothing above TCP is decoded. gopacket's
// own answer looks both ports up in a 512 KiB table of application layers,
// a cache miss on most segments, only for the parser to find no decoder.
func (l *tcpLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

// udpLayer is followed only into the tunnels this package decodes, which
// gopacket finds by port: VXLAN (4789) and GENEVE (6081). For any other
// ports the answer would be a layer without a decoder here, so gopacket's
// 512 KiB port table is not looked up.
type udpLayer struct{ layers.UDP }

func (l *udpLayer) NextLayerType() gopacket.LayerType {
	if !udpTunnelPort(l.DstPort) && !udpTunnelPort(l.SrcPort) {
		return gopacket.LayerTypeZero
	}
	return l.UDP.NextLayerType()
}

func udpTunnelPort(p layers.UDPPort) bool { return p == 4789 || p == 6081 }

type ipv4Layer struct {
	layers.IPv4
	st *state
}

func (l *ipv4Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) > 0 && data[0]>>4 != 4 {
		return errIPv4Version
	}
	if err := l.IPv4.DecodeFromBytes(data, df); err != nil {
		return err
	}
	if err := l.st.ip(netip.AddrFrom4([4]byte(l.SrcIP)), netip.AddrFrom4([4]byte(l.DstIP)), l.TTL); err != nil {
		return err
	}
	p, st := l.st.p, l.st
	if l.Flags&layers.IPv4MoreFragments != 0 || l.FragOffset != 0 {
		p.Fragment = true
		p.FragID = uint32(l.Id)
		p.FragOffset = l.FragOffset * 8
		p.MoreFragments = l.Flags&layers.IPv4MoreFragments != 0
		st.nonFirst = l.FragOffset != 0
	}
	st.proto = uint8(l.Protocol)
	st.ipLen = int(l.Length)
	st.cut = st.cut || int(l.Length) > len(data)
	st.l4len = int(l.Length) - int(l.IHL)*4
	st.l4 = l.Payload
	return nil
}

// NextLayerType follows the first fragment into its transport header (the
// flow tracker needs its ports) and stops at later fragments.
func (l *ipv4Layer) NextLayerType() gopacket.LayerType {
	if l.FragOffset != 0 {
		return gopacket.LayerTypeFragment
	}
	switch l.Protocol {
	case layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Routing, layers.IPProtocolIPv6Fragment, layers.IPProtocolIPv6Destination:
		return gopacket.LayerTypePayload // IPv6 extension numbers mean nothing after IPv4
	}
	return l.Protocol.LayerType()
}

type ipv6Layer struct {
	layers.IPv6
	st *state
}

func (l *ipv6Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) > 0 && data[0]>>4 != 6 {
		return errIPv6Version
	}
	if len(data) >= 40 && data[4] == 0 && data[5] == 0 && layers.IPProtocol(data[6]) != layers.IPProtocolIPv6HopByHop {
		// Payload length 0: gopacket takes it for a jumbogram without
		// its option and fails, but it is a packet with an empty
		// payload (next header 59, or a probe), which Zeek tracks.
		l.emptyPayload(data)
	} else if err := l.IPv6.DecodeFromBytes(data, df); err != nil {
		return err
	}
	if err := l.st.ip(netip.AddrFrom16([16]byte(l.SrcIP)), netip.AddrFrom16([16]byte(l.DstIP)), l.HopLimit); err != nil {
		return err
	}
	st := l.st
	st.proto = uint8(l.NextHeader)
	st.ipLen = 40 + int(l.Length)
	st.l4len = int(l.Length)
	if l.HopByHop != nil { // gopacket decodes hop-by-hop as part of IPv6
		st.proto = uint8(l.HopByHop.NextHeader)
		st.l4len -= l.HopByHop.ActualLength
		if l.Length == 0 { // jumbogram
			st.ipLen = 40 + l.HopByHop.ActualLength + len(l.Payload)
			st.l4len = len(l.Payload)
		}
	}
	st.l4 = l.Payload
	st.cut = st.cut || st.ipLen > len(data)
	return nil
}

// emptyPayload fills the fixed header of an IPv6 packet whose payload
// length is 0, as gopacket would for any other length.
func (l *ipv6Layer) emptyPayload(data []byte) {
	ip := &l.IPv6
	ip.Version = data[0] >> 4
	ip.TrafficClass = uint8(binary.BigEndian.Uint16(data[0:2]) >> 4)
	ip.FlowLabel = binary.BigEndian.Uint32(data[0:4]) & 0x000FFFFF
	ip.Length = 0
	ip.NextHeader = layers.IPProtocol(data[6])
	ip.HopLimit = data[7]
	ip.SrcIP = data[8:24]
	ip.DstIP = data[24:40]
	ip.HopByHop = nil
	ip.BaseLayer = layers.BaseLayer{Contents: data[:40], Payload: data[40:40]}
}

// ip6ExtLayer skips routing, destination options (and hop-by-hop in a
// later place) headers, keeping the protocol that follows.
type ip6ExtLayer struct {
	layers.IPv6ExtensionSkipper
	st *state
}

func (l *ip6ExtLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if err := l.IPv6ExtensionSkipper.DecodeFromBytes(data, df); err != nil {
		return err
	}
	l.st.proto = uint8(l.NextHeader)
	l.st.l4len -= len(l.Contents)
	l.st.l4 = l.Payload
	return nil
}

// ip6FragLayer is the IPv6 fragment header (gopacket v1.1.19 has no
// DecodingLayer for it).
type ip6FragLayer struct {
	layers.BaseLayer
	NextHeader    layers.IPProtocol
	Offset        uint16 // bytes
	MoreFragments bool
	ID            uint32
	st            *state
}

func (l *ip6FragLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		df.SetTruncated()
		return errShort
	}
	l.NextHeader = layers.IPProtocol(data[0])
	v := binary.BigEndian.Uint16(data[2:4])
	l.Offset = v &^ 7
	l.MoreFragments = v&1 != 0
	l.ID = binary.BigEndian.Uint32(data[4:8])
	l.BaseLayer = layers.BaseLayer{Contents: data[:8], Payload: data[8:]}

	p, st := l.st.p, l.st
	if l.Offset != 0 || l.MoreFragments { // not an atomic fragment (RFC 6946)
		p.Fragment = true
		p.FragID = l.ID
		p.FragOffset = l.Offset
		p.MoreFragments = l.MoreFragments
	}
	st.nonFirst = l.Offset != 0
	st.proto = uint8(l.NextHeader)
	st.l4len -= 8
	st.l4 = l.Payload
	return nil
}
func (l *ip6FragLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeIPv6Fragment }
func (l *ip6FragLayer) NextLayerType() gopacket.LayerType {
	if l.Offset != 0 {
		return gopacket.LayerTypeFragment
	}
	return l.NextHeader.LayerType()
}

// greLayer checks the header length before gopacket's GRE, which reads
// without bounds checks, and does not follow source routing.
type greLayer struct {
	layers.GRE
	st *state
}

func (l *greLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		df.SetTruncated()
		return errShort
	}
	if data[0]&0x40 != 0 {
		return errGRERouting
	}
	if data[1]&7 > 1 {
		return errGREVersion
	}
	need := 4
	for _, bit := range [...]bool{data[0]&0x80 != 0, data[0]&0x20 != 0, data[0]&0x10 != 0, data[1]&0x80 != 0} {
		if bit {
			need += 4
		}
	}
	if len(data) < need {
		df.SetTruncated()
		return errShort
	}
	if err := l.GRE.DecodeFromBytes(data, df); err != nil {
		return err
	}
	l.st.pending = TunnelGRE
	if l.Protocol == layers.EthernetTypeERSPAN || l.Protocol == 0x22EB {
		l.st.pending = TunnelERSPAN
	}
	return nil
}

func (l *greLayer) NextLayerType() gopacket.LayerType {
	if l.Protocol == layers.EthernetTypeERSPAN && !l.SeqPresent {
		return layers.LayerTypeEthernet // ERSPAN type I: no ERSPAN header
	}
	return etherNext(l.Protocol)
}

// loopbackLayer is BSD loopback; gopacket's layer guesses the byte order of
// the family field.
type loopbackLayer struct{ layers.Loopback }

func (l *loopbackLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		df.SetTruncated()
		return errShort
	}
	return l.Loopback.DecodeFromBytes(data, df)
}

type erspan2Layer struct{ layers.ERSPANII }

func (l *erspan2Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		df.SetTruncated()
		return errShort
	}
	return l.ERSPANII.DecodeFromBytes(data, df)
}

// erspan3Layer is the ERSPAN type III header: 12 bytes, plus 8 when the O
// flag announces the platform-specific subheader; the frame type says
// whether Ethernet (0) or IP (2) follows.
type erspan3Layer struct {
	layers.BaseLayer
	FrameType uint8
}

func (l *erspan3Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	n := 12
	if len(data) >= 12 && data[11]&1 != 0 {
		n = 20
	}
	if len(data) < n {
		df.SetTruncated()
		return errShort
	}
	l.FrameType = data[10] >> 2 & 0x1f
	l.BaseLayer = layers.BaseLayer{Contents: data[:n], Payload: data[n:]}
	return nil
}
func (l *erspan3Layer) CanDecode() gopacket.LayerClass { return layerTypeERSPAN3 }
func (l *erspan3Layer) NextLayerType() gopacket.LayerType {
	switch l.FrameType {
	case 0:
		return layers.LayerTypeEthernet
	case 2:
		return ipByNibble(l.Payload)
	}
	return gopacket.LayerTypePayload
}

type vxlanLayer struct {
	layers.VXLAN
	st *state
}

func (l *vxlanLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		df.SetTruncated()
		return errShort
	}
	if err := l.VXLAN.DecodeFromBytes(data, df); err != nil {
		return err
	}
	l.st.pending = TunnelVXLAN
	return nil
}

// geneveLayer is the GENEVE header (RFC 8926) with its options skipped;
// gopacket v1.1.19's Geneve allocates each option and keeps appending them
// across packets.
type geneveLayer struct {
	layers.BaseLayer
	Protocol layers.EthernetType
	VNI      uint32
	st       *state
}

func (l *geneveLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		df.SetTruncated()
		return errShort
	}
	if data[0]>>6 != 0 {
		return errGeneve
	}
	n := 8 + int(data[0]&0x3f)*4
	if len(data) < n {
		df.SetTruncated()
		return errShort
	}
	l.Protocol = layers.EthernetType(binary.BigEndian.Uint16(data[2:4]))
	l.VNI = binary.BigEndian.Uint32(data[4:8]) >> 8
	l.BaseLayer = layers.BaseLayer{Contents: data[:n], Payload: data[n:]}
	l.st.pending = TunnelGENEVE
	return nil
}
func (l *geneveLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeGeneve }
func (l *geneveLayer) NextLayerType() gopacket.LayerType { return etherNext(l.Protocol) }

// chdlcLayer is Cisco HDLC (LINKTYPE 104, and LINKTYPE 50 frames that start
// with 0x0f or 0x8f): address, control, then an EtherType (google/gopacket
// v1.1.19 has no layer for it).
type chdlcLayer struct {
	layers.BaseLayer
	Protocol layers.EthernetType
}

func (l *chdlcLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		df.SetTruncated()
		return errShort
	}
	l.Protocol = layers.EthernetType(binary.BigEndian.Uint16(data[2:4]))
	l.BaseLayer = layers.BaseLayer{Contents: data[:4], Payload: data[4:]}
	return nil
}
func (l *chdlcLayer) CanDecode() gopacket.LayerClass    { return layerTypeCHDLC }
func (l *chdlcLayer) NextLayerType() gopacket.LayerType { return etherNext(l.Protocol) }

// radiotapLayer is the radiotap header before an 802.11 frame (LINKTYPE
// 127). Only its length and two flags matter here: whether the frame ends
// with its FCS, and whether the FCS check failed. gopacket's RadioTap reads
// its fields without bounds checks (a header cut short panics) and decodes
// every field, so the header is walked here: the chain of present words,
// then TSFT (8 bytes, aligned) and the Flags byte, the first two fields.
type radiotapLayer struct {
	layers.BaseLayer
	st *state
}

func (l *radiotapLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		df.SetTruncated()
		return errShort
	}
	n := int(binary.LittleEndian.Uint16(data[2:4]))
	if data[0] != 0 || n < 8 {
		return errRadiotap
	}
	if n > len(data) {
		df.SetTruncated()
		return errShort
	}
	present := binary.LittleEndian.Uint32(data[4:8])
	off := 8
	for w := present; w&(1<<31) != 0; off += 4 {
		if off+4 > n {
			return errRadiotap
		}
		w = binary.LittleEndian.Uint32(data[off:])
	}
	if present&1 != 0 { // TSFT
		off = (off+7)&^7 + 8
	}
	if present&2 != 0 && off < n { // Flags
		f := data[off]
		if f&0x40 != 0 {
			return errBadFCS
		}
		l.st.fcs = f&0x10 != 0
	}
	l.BaseLayer = layers.BaseLayer{Contents: data[:n], Payload: data[n:]}
	return nil
}
func (l *radiotapLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeRadioTap }
func (l *radiotapLayer) NextLayerType() gopacket.LayerType { return layers.LayerTypeDot11 }

// dot11Layer is the IEEE 802.11 MAC header. A data frame with a payload
// goes on to its LLC header; management, control, empty (null function) and
// protected (encrypted) frames end the frame with their reason. gopacket's
// Dot11 allocates a layer (and a QoS value) for every data frame and always
// takes the last four bytes for an FCS, which a capture without one
// (LINKTYPE 105, radiotap without the FCS flag) does not have.
type dot11Layer struct {
	layers.BaseLayer
	st   *state
	next gopacket.LayerType
}

func (l *dot11Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	l.next = gopacket.LayerTypeZero
	if len(data) < 2 {
		df.SetTruncated()
		return errShort
	}
	fc, flags := data[0], data[1]
	if fc&3 != 0 {
		return errDot11
	}
	l.BaseLayer = layers.BaseLayer{Contents: data}
	switch fc >> 2 & 3 {
	case 0:
		l.st.skip = ReasonWiFiManagement
		return nil
	case 1:
		l.st.skip = ReasonWiFiControl
		return nil
	case 3: // extension frames (DMG beacons): no IP
		l.st.skip = ReasonNotIP
		return nil
	}
	sub := fc >> 4
	hdr := 24
	if flags&3 == 3 { // to and from the DS: a fourth address
		hdr += 6
	}
	qos := sub&8 != 0
	if qos {
		hdr += 2
		if flags&0x80 != 0 { // +HTC: the HT control field
			hdr += 4
		}
	}
	if len(data) < hdr {
		df.SetTruncated()
		return errShort
	}
	payload := data[hdr:]
	if l.st.fcs {
		if len(payload) < 4 {
			df.SetTruncated()
			return errShort
		}
		payload = payload[:len(payload)-4]
	}
	l.BaseLayer = layers.BaseLayer{Contents: data[:hdr], Payload: payload}
	qosAt := 24
	if flags&3 == 3 {
		qosAt += 6
	}
	switch {
	case sub&4 != 0: // null function: no data
		l.st.skip = ReasonNotIP
	case flags&0x40 != 0:
		l.st.skip = ReasonEncrypted
	case qos && data[qosAt]&0x80 != 0: // an A-MSDU of several subframes
		l.st.skip = ReasonUnsupported
	default:
		l.next = layers.LayerTypeLLC
	}
	return nil
}
func (l *dot11Layer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeDot11 }
func (l *dot11Layer) NextLayerType() gopacket.LayerType { return l.next }

// llcLayer is gopacket's LLC with the length checked first (its errors are
// allocated), going on only to SNAP.
type llcLayer struct{ layers.LLC }

func (l *llcLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 3 || (len(data) < 4 && (data[2]&1 == 0 || data[2]&3 == 1)) {
		df.SetTruncated()
		return errShort
	}
	return l.LLC.DecodeFromBytes(data, df)
}
func (l *llcLayer) NextLayerType() gopacket.LayerType {
	if l.DSAP == 0xaa && l.SSAP == 0xaa {
		return layers.LayerTypeSNAP
	}
	return gopacket.LayerTypeZero // STP, NetBIOS, IPX ...: not IP
}

// snapLayer is gopacket's SNAP with the length checked first, going on by
// its EtherType as Ethernet does (RFC 1042 encapsulation of IP and ARP).
type snapLayer struct{ layers.SNAP }

func (l *snapLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 5 {
		df.SetTruncated()
		return errShort
	}
	return l.SNAP.DecodeFromBytes(data, df)
}
func (l *snapLayer) NextLayerType() gopacket.LayerType { return etherNext(l.Type) }
