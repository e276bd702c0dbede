package decode

import (
	"net/netip"

	"github.com/google/gopacket/layers"
)

// TCP flag bits as they appear in the TCP header's flags byte.
const (
	FlagFIN uint8 = 0x01
	FlagSYN uint8 = 0x02
	FlagRST uint8 = 0x04
	FlagPSH uint8 = 0x08
	FlagACK uint8 = 0x10
	FlagURG uint8 = 0x20
	FlagECE uint8 = 0x40
	FlagCWR uint8 = 0x80
)

// IP protocol numbers used across the analyzer.
const (
	ProtoICMP   uint8 = 1
	ProtoIGMP   uint8 = 2
	ProtoIPIP   uint8 = 4
	ProtoTCP    uint8 = 6
	ProtoUDP    uint8 = 17
	ProtoIPv6   uint8 = 41
	ProtoGRE    uint8 = 47
	ProtoESP    uint8 = 50
	ProtoAH     uint8 = 51
	ProtoICMPv6 uint8 = 58
	ProtoOSPF   uint8 = 89
	ProtoPIM    uint8 = 103
	ProtoVRRP   uint8 = 112
	ProtoSCTP   uint8 = 132
)

// Tunnel says which encapsulation the inner packet was found in.
type Tunnel uint8

// Tunnel kinds.
const (
	TunnelNone Tunnel = iota
	TunnelVXLAN
	TunnelGENEVE
	TunnelGRE
	TunnelERSPAN
	TunnelIPinIP // IPv4 or IPv6 inside IPv4 or IPv6, including 6in4
)

// Encap is a set of link-level encapsulations a frame crossed before its
// first IP header.
type Encap uint8

// Encapsulations.
const (
	EncapVLAN  Encap = 1 << iota // 802.1Q or 802.1ad tags
	EncapMPLS                    // an MPLS label stack
	EncapPPPoE                   // a PPPoE session
)

// Quoted is the IP and transport header an ICMP error message quotes.
type Quoted struct {
	Valid            bool
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Proto            uint8
}

// Packet is the summary of one decoded frame: everything the flow tracker
// needs and nothing that points into gopacket. Byte slices are not kept, so a
// Packet stays valid after the capture reader reuses its buffer.
//
// For a tunnelled frame the fields describe the innermost IP packet; the
// outer addresses are in OuterSrc/OuterDst.
type Packet struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16 // TCP, UDP, SCTP ports; zero otherwise
	Proto            uint8  // innermost IP protocol number (ProtoTCP, ProtoUDP, ProtoVRRP, ...)
	TTL              uint8  // IPv4 TTL or IPv6 hop limit of the innermost IP header

	TCPFlags uint8 // Flag* bits; TCP only
	Seq, Ack uint32
	Window   uint16

	IPLen      int // IP total length of the innermost packet (header included)
	PayloadLen int // transport payload bytes (TCP/UDP data, ICMP body)

	VLANs [2]uint16 // outer then inner 802.1Q/802.1ad VLAN id
	NVLAN uint8     // how many of VLANs are set
	Encap Encap     // VLAN, MPLS, PPPoE crossed before the first IP header

	// ICMP and ICMPv6.
	ICMPType, ICMPCode uint8
	ICMPID             uint16 // echo request/reply identifier
	Quoted             Quoted // the header an ICMP error quotes

	// IP fragments (IPv4, and IPv6 fragment header). A non-first fragment
	// has no transport header: ports are zero and Proto is the fragment's
	// next protocol. FragID is the IPv4 identification or IPv6 fragment id.
	Fragment      bool
	FragID        uint32
	FragOffset    uint16 // in bytes
	MoreFragments bool

	Tunnel             Tunnel
	OuterSrc, OuterDst netip.Addr

	// SrcMAC is the source address of the Ethernet frame (LINKTYPE 1)
	// that carried an untunnelled packet; HasMAC says it is set. It is the
	// sender's own MAC when the sender is on the captured segment, and its
	// router's otherwise (flow.Tracker's per-address table, which ties the
	// addresses of a dual-stack host).
	SrcMAC [6]byte
	HasMAC bool

	// Truncated: the capture cut the frame (snap length) inside or after the
	// headers; the fields above are what it still held. Lengths come from
	// the IP header, so IPLen and PayloadLen are the sizes on the wire.
	Truncated bool
}

// ICMPName is gopacket's name of an ICMP (proto ProtoICMP) or ICMPv6 type
// and code, such as "DestinationUnreachable(CommAdminProhibited)" for 3/13.
func ICMPName(proto, typ, code uint8) string {
	if proto == ProtoICMPv6 {
		return layers.CreateICMPv6TypeCode(typ, code).String()
	}
	return layers.CreateICMPv4TypeCode(typ, code).String()
}
