package pcapgen

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sort"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	ggp "github.com/gopacket/gopacket"
	pcapgolayers "github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// rec is one frame read back from a generated file.
type rec struct {
	ts      time.Time
	data    []byte
	origLen int
	link    LinkType
}

// readBack reads a generated capture with pcapgo, the reader the analyzer
// uses, so the tests check the files as the analyzer will see them.
func readBack(t testing.TB, data []byte) []rec {
	t.Helper()
	if len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b {
		gz, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		if data, err = io.ReadAll(gz); err != nil {
			t.Fatalf("gzip: %v", err)
		}
	}
	var out []rec
	add := func(d []byte, ci ggp.CaptureInfo, link LinkType) {
		out = append(out, rec{ts: ci.Timestamp, data: append([]byte(nil), d...), origLen: ci.Length, link: link})
	}
	if binary.BigEndian.Uint32(data) == 0x0a0d0d0a {
		ng, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			t.Fatalf("pcapng: %v", err)
		}
		for {
			d, ci, err := ng.ReadPacketData()
			if errors.Is(err, io.EOF) {
				return out
			}
			if err != nil {
				t.Fatalf("pcapng packet %d: %v", len(out)+1, err)
			}
			add(d, ci, LinkType(ci.AncillaryData[0].(pcapgolayers.LinkType)))
		}
	}
	pr, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("pcap: %v", err)
	}
	for {
		d, ci, err := pr.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("pcap packet %d: %v", len(out)+1, err)
		}
		add(d, ci, LinkType(pr.LinkType()))
	}
}

// decodeRec decodes a frame with google/gopacket's layers, starting from
// the link type. SLL2 is unknown to gopacket v1.1.19: its 20-byte header
// is checked here and decoding starts at its protocol field.
func decodeRec(t testing.TB, r rec) gopacket.Packet {
	t.Helper()
	var first gopacket.Decoder
	data := r.data
	switch r.link {
	case LinkEthernet:
		first = layers.LayerTypeEthernet
	case LinkNull:
		first = layers.LayerTypeLoopback
	case LinkSLL:
		first = layers.LayerTypeLinuxSLL
	case LinkIPv4:
		first = layers.LayerTypeIPv4
	case LinkIPv6:
		first = layers.LayerTypeIPv6
	case LinkRaw:
		first = layers.LayerTypeIPv4
		if data[0]>>4 == 6 {
			first = layers.LayerTypeIPv6
		}
	case LinkSLL2:
		if len(data) < 20 || binary.BigEndian.Uint16(data[8:]) != 1 || data[11] != 6 {
			t.Fatalf("bad SLL2 header % x", data[:min(20, len(data))])
		}
		first = layers.EthernetType(binary.BigEndian.Uint16(data))
		data = data[20:]
	default:
		t.Fatalf("unexpected link type %v", r.link)
	}
	return gopacket.NewPacket(data, first, gopacket.Default)
}

// fkey identifies a flow by protocol and its two endpoints, in either direction.
type fkey struct {
	proto string
	a, b  netip.AddrPort
}

func mkKey(proto string, x, y netip.AddrPort) fkey {
	if x.Compare(y) > 0 {
		x, y = y, x
	}
	return fkey{proto, x, y}
}

func addrOf(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}

// fragment is an IP fragment waiting for its siblings.
type fragment struct {
	off  int
	more bool
	data []byte
}

type fragID struct {
	src, dst netip.Addr
	id       uint32
}

// classified is what the tests learn from decoded frames: frames per flow
// key, ICMP errors per quoted flow, and the layers and tags seen.
type classified struct {
	perKey    map[fkey]int
	layers    map[gopacket.LayerType]int
	vlans     map[uint16]bool
	labels    map[uint32]bool
	frags     map[fragID][]fragment
	datagrams int // reassembled UDP datagrams with a valid length and checksum
}

// classify decodes every frame and attributes it to a flow the way a flow
// tracker would: innermost IP header, ICMP errors by the quoted header,
// fragments by reassembly.
func classify(t testing.TB, recs []rec) *classified {
	t.Helper()
	c := &classified{perKey: map[fkey]int{}, layers: map[gopacket.LayerType]int{}, vlans: map[uint16]bool{},
		labels: map[uint32]bool{}, frags: map[fragID][]fragment{}}
	for i, r := range recs {
		p := decodeRec(t, r)
		// random payloads on ports gopacket has application decoders for
		// (RADIUS, say) may fail to decode; headers up to transport must not
		if el := p.ErrorLayer(); el != nil && r.origLen == len(r.data) && p.TransportLayer() == nil {
			t.Fatalf("frame %d: decode error: %v\n%s", i+1, el.Error(), p.Dump())
		}
		var src, dst netip.Addr
		var proto string
		var sport, dport uint16
		var frag *fragment
		var fid fragID
		var quoted []byte
		var quoted6 bool
		for _, l := range p.Layers() {
			c.layers[l.LayerType()]++
			switch l := l.(type) {
			case *layers.Dot1Q:
				c.vlans[l.VLANIdentifier] = true
			case *layers.MPLS:
				c.labels[l.Label] = true
			case *layers.IPv4:
				src, dst, proto, sport, dport, frag = addrOf(l.SrcIP), addrOf(l.DstIP), protoName(uint8(l.Protocol)), 0, 0, nil
				if l.FragOffset != 0 || l.Flags&layers.IPv4MoreFragments != 0 {
					frag = &fragment{off: int(l.FragOffset) * 8, more: l.Flags&layers.IPv4MoreFragments != 0, data: l.Payload}
					fid = fragID{src, dst, uint32(l.Id)}
				}
			case *layers.IPv6:
				src, dst, proto, sport, dport, frag = addrOf(l.SrcIP), addrOf(l.DstIP), protoName(uint8(l.NextHeader)), 0, 0, nil
			case *layers.IPv6Fragment:
				frag = &fragment{off: int(l.FragmentOffset) * 8, more: l.MoreFragments, data: l.Payload}
				fid = fragID{src, dst, l.Identification}
				proto = protoName(uint8(l.NextHeader))
			case *layers.TCP:
				proto, sport, dport = "tcp", uint16(l.SrcPort), uint16(l.DstPort)
			case *layers.UDP:
				proto, sport, dport = "udp", uint16(l.SrcPort), uint16(l.DstPort)
			case *layers.ICMPv4:
				proto = "icmp"
				if l.TypeCode.Type() == layers.ICMPv4TypeDestinationUnreachable {
					quoted = l.Payload
				}
			case *layers.ICMPv6:
				proto = "icmp6"
				if l.TypeCode.Type() == layers.ICMPv6TypeDestinationUnreachable {
					quoted, quoted6 = l.Payload[4:], true
				}
			case *layers.ICMPv6NeighborSolicitation:
				dst = addrOf(l.TargetAddress) // the flow is sender <-> target
			case *layers.VRRPv2:
				proto = "vrrp"
			case *layers.ARP:
				proto, src, dst, sport, dport = "arp", addrOf(l.SourceProtAddress), addrOf(l.DstProtAddress), 0, 0
			}
		}
		switch {
		case quoted != nil:
			first := layers.LayerTypeIPv4
			if quoted6 {
				first = layers.LayerTypeIPv6
			}
			q := gopacket.NewPacket(quoted, first, gopacket.Default)
			nl, tl := q.NetworkLayer(), q.TransportLayer()
			if nl == nil || tl == nil {
				t.Fatalf("frame %d: ICMP error does not quote an IP header and transport header", i+1)
			}
			qs, qd := addrOf(net.IP(nl.NetworkFlow().Src().Raw())), addrOf(net.IP(nl.NetworkFlow().Dst().Raw()))
			if qs != dst {
				t.Errorf("frame %d: ICMP error to %v quotes a packet from %v", i+1, dst, qs)
			}
			tf := tl.TransportFlow()
			c.perKey[mkKey(protoName(uint8(layerProto(tl))), netip.AddrPortFrom(qs, binary.BigEndian.Uint16(tf.Src().Raw())), netip.AddrPortFrom(qd, binary.BigEndian.Uint16(tf.Dst().Raw())))]++
		case frag != nil:
			c.frags[fid] = append(c.frags[fid], *frag)
		default:
			c.perKey[mkKey(proto, netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, dport))]++
		}
	}
	for id, fs := range c.frags {
		sort.Slice(fs, func(i, j int) bool { return fs[i].off < fs[j].off })
		var whole []byte
		for k, f := range fs {
			if f.off != len(whole) || f.more != (k < len(fs)-1) {
				t.Fatalf("fragments of %v: gap or misplaced last fragment at offset %d", id, f.off)
			}
			whole = append(whole, f.data...)
		}
		if len(whole) < 8 || int(binary.BigEndian.Uint16(whole[4:])) != len(whole) {
			t.Fatalf("fragments of %v: reassembled %d bytes, UDP length says %d", id, len(whole), binary.BigEndian.Uint16(whole[4:]))
		}
		if !udpChecksumOK(id.src, id.dst, whole) {
			t.Errorf("fragments of %v: bad UDP checksum after reassembly", id)
		}
		c.datagrams++
		k := mkKey("udp", netip.AddrPortFrom(id.src, binary.BigEndian.Uint16(whole[0:])), netip.AddrPortFrom(id.dst, binary.BigEndian.Uint16(whole[2:])))
		c.perKey[k] += len(fs)
	}
	return c
}

func layerProto(l gopacket.TransportLayer) layers.IPProtocol {
	if l.LayerType() == layers.LayerTypeTCP {
		return layers.IPProtocolTCP
	}
	return layers.IPProtocolUDP
}

// udpChecksumOK verifies a UDP datagram's checksum with the IPv4 or IPv6
// pseudo-header.
func udpChecksumOK(src, dst netip.Addr, dgram []byte) bool {
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	add(src.AsSlice())
	add(dst.AsSlice())
	sum += 17 + uint32(len(dgram))
	add(dgram)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum) == 0xffff
}

// expectedKeys is what the scenario says each flow key should hold.
func expectedKeys(s *Scenario) map[fkey]int {
	want := map[fkey]int{}
	for _, f := range s.Flows() {
		k := mkKey(f.Proto, f.Orig, f.Resp)
		want[k] += f.OrigPkts + f.ICMPErrors
		if f.ReplyFrom.IsValid() && f.Proto != "vrrp" {
			want[mkKey(f.Proto, f.Orig, netip.AddrPortFrom(f.ReplyFrom, f.Resp.Port()))] += f.RespPkts
		} else {
			want[k] += f.RespPkts
		}
	}
	for k, n := range want {
		if n == 0 {
			delete(want, k)
		}
	}
	return want
}
