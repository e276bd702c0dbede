package decode

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Frames for the tests are built with gopacket's SerializeLayers. The few
// headers google/gopacket v1.1.19 cannot serialize (Linux SLL v1 and v2,
// IPv6 fragment and routing headers, GENEVE, ERSPAN III) are the small
// serializable layers below.

// build serializes the layers with lengths and checksums fixed; TCP, UDP
// and ICMPv6 checksums use the IP layer before them.
func build(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	var ip gopacket.NetworkLayer
	sums := true // transport checksums need the IP layer; fragments built alone go without
	for _, l := range ls {
		type checksummed interface {
			SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
		}
		switch v := l.(type) {
		case *layers.IPv4:
			ip = v
		case *layers.IPv6:
			ip = v
		case checksummed:
			if ip == nil {
				sums = false
			} else if err := v.SetNetworkLayerForChecksum(ip); err != nil {
				t.Fatal(err)
			}
		}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: sums}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// rawLayer prepends fixed bytes.
type rawLayer struct {
	b  []byte
	lt gopacket.LayerType
}

func (r rawLayer) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	p, err := b.PrependBytes(len(r.b))
	copy(p, r.b)
	return err
}
func (r rawLayer) LayerType() gopacket.LayerType { return r.lt }

func sllHeader(proto layers.EthernetType) rawLayer {
	b := make([]byte, 16)
	binary.BigEndian.PutUint16(b[0:], 0) // to us
	binary.BigEndian.PutUint16(b[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(b[4:], 6)
	copy(b[6:], []byte{2, 0, 0, 0, 0, 1})
	binary.BigEndian.PutUint16(b[14:], uint16(proto))
	return rawLayer{b, layers.LayerTypeLinuxSLL}
}

func sll2Header(proto layers.EthernetType) rawLayer {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:], uint16(proto))
	binary.BigEndian.PutUint32(b[4:], 3) // interface index
	binary.BigEndian.PutUint16(b[8:], 1) // ARPHRD_ETHER
	b[10], b[11] = 4, 6                  // outgoing, address length
	copy(b[12:], []byte{2, 0, 0, 0, 0, 2})
	return rawLayer{b, layerTypeSLL2}
}

func loopbackHeader(family uint32, big bool) rawLayer {
	b := make([]byte, 4)
	if big {
		binary.BigEndian.PutUint32(b, family)
	} else {
		binary.LittleEndian.PutUint32(b, family)
	}
	return rawLayer{b, layers.LayerTypeLoopback}
}

// ip6FragHeader is an IPv6 fragment header; offset in bytes.
func ip6FragHeader(next layers.IPProtocol, offset uint16, more bool, id uint32) rawLayer {
	b := make([]byte, 8)
	b[0] = byte(next)
	v := offset &^ 7
	if more {
		v |= 1
	}
	binary.BigEndian.PutUint16(b[2:], v)
	binary.BigEndian.PutUint32(b[4:], id)
	return rawLayer{b, layers.LayerTypeIPv6Fragment}
}

// ip6RoutingHeader is a type 0 routing header with one address.
func ip6RoutingHeader(next layers.IPProtocol) rawLayer {
	b := make([]byte, 24)
	b[0], b[1], b[2], b[3] = byte(next), 2, 0, 0
	copy(b[8:], net.ParseIP("2001:db8::99"))
	return rawLayer{b, layers.LayerTypeIPv6Routing}
}

func geneveHeader(proto layers.EthernetType, vni uint32, optWords int) rawLayer {
	b := make([]byte, 8+4*optWords)
	b[0] = byte(optWords)
	binary.BigEndian.PutUint16(b[2:], uint16(proto))
	binary.BigEndian.PutUint32(b[4:], vni<<8)
	for i := 0; i < optWords; i++ { // one option per word: class, type, length 0
		binary.BigEndian.PutUint16(b[8+4*i:], 0x0101)
		b[8+4*i+2] = byte(i)
	}
	return rawLayer{b, layers.LayerTypeGeneve}
}

// erspan3Header: frame type 0 (Ethernet) or 2 (IP), optional platform
// subheader.
func erspan3Header(frameType uint8, platform bool) rawLayer {
	n := 12
	if platform {
		n = 20
	}
	b := make([]byte, n)
	b[0] = 0x20 // version 2 means type III
	b[3] = 7    // session
	b[10] = frameType << 2
	if platform {
		b[11] = 1
	}
	return rawLayer{b, layerTypeERSPAN3}
}

var (
	macA = net.HardwareAddr{0, 0x11, 0x22, 0x33, 0x44, 0x55}
	macB = net.HardwareAddr{0, 0x66, 0x77, 0x88, 0x99, 0xaa}
)

func eth(t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: t}
}

func dot1q(vlan uint16, t layers.EthernetType) *layers.Dot1Q {
	return &layers.Dot1Q{VLANIdentifier: vlan, Type: t}
}

func ip4(src, dst string, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 0x1234, Protocol: proto, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
}

func ip6(src, dst string, next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next, SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst)}
}

func tcp(sport, dport uint16, syn, ack bool) *layers.TCP {
	return &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: 1000, Ack: 2000, SYN: syn, ACK: ack, Window: 4096}
}

func udp(sport, dport uint16) *layers.UDP {
	return &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
}

func payloadN(n int) gopacket.Payload {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return gopacket.Payload(b)
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// radiotapHeader is a radiotap header with the Flags field (the FCS flag is
// 0x10, bad FCS 0x40), after a TSFT field if tsft, with a second present
// word if extended.
func radiotapHeader(flags byte, tsft, extended bool) rawLayer {
	present := uint32(1 << 1)
	if tsft {
		present |= 1
	}
	b := []byte{0, 0, 0, 0}
	if extended {
		b = binary.LittleEndian.AppendUint32(b, present|1<<31)
		b = binary.LittleEndian.AppendUint32(b, 0)
	} else {
		b = binary.LittleEndian.AppendUint32(b, present)
	}
	if tsft {
		for len(b)%8 != 0 {
			b = append(b, 0)
		}
		b = append(b, 1, 2, 3, 4, 5, 6, 7, 8)
	}
	b = append(b, flags)
	binary.LittleEndian.PutUint16(b[2:], uint16(len(b)))
	return rawLayer{b, layers.LayerTypeRadioTap}
}

// dot11Header is an 802.11 MAC header: frame control byte 0 (type and
// subtype) and flags, three addresses (four with to and from DS), the QoS
// control field for QoS subtypes, and the HT control field with the +HTC
// (order) flag.
func dot11Header(fc, flags byte) rawLayer {
	b := []byte{fc, flags, 0x2c, 0}
	for i := range 18 {
		b = append(b, byte(i))
	}
	b = append(b, 0x10, 0)
	if flags&3 == 3 {
		b = append(b, 6, 5, 4, 3, 2, 1)
	}
	if fc&0x80 != 0 && fc>>2&3 == 2 {
		b = append(b, 0, 0)
		if flags&0x80 != 0 {
			b = append(b, 0, 0, 0, 0)
		}
	}
	return rawLayer{b, layers.LayerTypeDot11}
}

// llcSNAP is the RFC 1042 LLC/SNAP header of an EtherType.
func llcSNAP(t layers.EthernetType) rawLayer {
	return rawLayer{[]byte{0xaa, 0xaa, 0x03, 0, 0, 0, byte(t >> 8), byte(t)}, layers.LayerTypeLLC}
}
