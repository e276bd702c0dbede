package pcapgen

import (
	"encoding/binary"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Layers that google/gopacket v1.1.19 decodes but cannot serialize. Each is
// a few fixed header bytes built here so that frames can still be assembled
// with gopacket.SerializeLayers. All of them write every byte they prepend:
// a reused SerializeBuffer is not zeroed.

// sllHeader is the 16-byte Linux cooked-mode header (LINKTYPE_LINUX_SLL, 113).
type sllHeader struct {
	pktType  uint16 // 0 to us, 1 broadcast, 2 multicast, 3 other host, 4 outgoing
	addr     [6]byte
	protocol layers.EthernetType
}

func (h *sllHeader) LayerType() gopacket.LayerType { return layers.LayerTypeLinuxSLL }

func (h *sllHeader) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	p, err := b.PrependBytes(16)
	if err != nil {
		return err
	}
	binary.BigEndian.PutUint16(p[0:], h.pktType)
	binary.BigEndian.PutUint16(p[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(p[4:], 6)
	copy(p[6:12], h.addr[:])
	p[12], p[13] = 0, 0
	binary.BigEndian.PutUint16(p[14:], uint16(h.protocol))
	return nil
}

// sll2Header is the 20-byte Linux cooked-mode v2 header (LINKTYPE_LINUX_SLL2, 276).
type sll2Header struct {
	protocol layers.EthernetType
	ifIndex  uint32
	pktType  uint8
	addr     [6]byte
}

// LayerType reports LinuxSLL: gopacket v1.1.19 has no SLL2 type, and
// registering one here could collide with another package doing the same.
func (h *sll2Header) LayerType() gopacket.LayerType { return layers.LayerTypeLinuxSLL }

func (h *sll2Header) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	p, err := b.PrependBytes(20)
	if err != nil {
		return err
	}
	binary.BigEndian.PutUint16(p[0:], uint16(h.protocol))
	p[2], p[3] = 0, 0 // reserved
	binary.BigEndian.PutUint32(p[4:], h.ifIndex)
	binary.BigEndian.PutUint16(p[8:], 1) // ARPHRD_ETHER
	p[10] = h.pktType
	p[11] = 6
	copy(p[12:18], h.addr[:])
	p[18], p[19] = 0, 0
	return nil
}

// geneveHeader is an 8-byte GENEVE header without options (RFC 8926).
type geneveHeader struct {
	protocol layers.EthernetType
	vni      uint32
}

func (h *geneveHeader) LayerType() gopacket.LayerType { return layers.LayerTypeGeneve }

func (h *geneveHeader) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	p, err := b.PrependBytes(8)
	if err != nil {
		return err
	}
	p[0], p[1] = 0, 0 // version 0, no options, no O/C bits
	binary.BigEndian.PutUint16(p[2:], uint16(h.protocol))
	binary.BigEndian.PutUint32(p[4:], h.vni<<8)
	return nil
}

// ipv6Fragment is the 8-byte IPv6 fragment extension header.
type ipv6Fragment struct {
	next   layers.IPProtocol
	offset uint16 // in bytes, a multiple of 8
	more   bool
	id     uint32
}

func (h *ipv6Fragment) LayerType() gopacket.LayerType { return layers.LayerTypeIPv6Fragment }

func (h *ipv6Fragment) SerializeTo(b gopacket.SerializeBuffer, _ gopacket.SerializeOptions) error {
	p, err := b.PrependBytes(8)
	if err != nil {
		return err
	}
	p[0] = byte(h.next)
	p[1] = 0
	v := h.offset &^ 7
	if h.more {
		v |= 1
	}
	binary.BigEndian.PutUint16(p[2:], v)
	binary.BigEndian.PutUint32(p[4:], h.id)
	return nil
}

// vrrpAdvert is a VRRPv2 advertisement (RFC 3768) for one virtual address.
type vrrpAdvert struct {
	vrid, priority uint8
	addr           [4]byte
}

func (h *vrrpAdvert) LayerType() gopacket.LayerType { return layers.LayerTypeVRRP }

func (h *vrrpAdvert) SerializeTo(b gopacket.SerializeBuffer, opts gopacket.SerializeOptions) error {
	p, err := b.PrependBytes(20)
	if err != nil {
		return err
	}
	p[0] = 2<<4 | 1 // version 2, advertisement
	p[1] = h.vrid
	p[2] = h.priority
	p[3] = 1 // one address
	p[4] = 0 // no authentication
	p[5] = 1 // advertisement interval, seconds
	p[6], p[7] = 0, 0
	copy(p[8:12], h.addr[:])
	clear(p[12:20]) // authentication data
	if opts.ComputeChecksums {
		binary.BigEndian.PutUint16(p[6:], inetChecksum(p))
	}
	return nil
}

// inetChecksum is the RFC 1071 one's complement sum, used for VRRP, whose
// checksum covers only the VRRP message.
func inetChecksum(p []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(p); i += 2 {
		sum += uint32(p[i])<<8 | uint32(p[i+1])
	}
	if len(p)%2 == 1 {
		sum += uint32(p[len(p)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
