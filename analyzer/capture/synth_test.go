package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// synthPacket is one packet of a synthetic capture and where it must come
// back from.
type synthPacket struct {
	data   []byte
	ts     time.Time
	wire   int
	iface  int
	link   uint32
	offset int64
	sect   int
}

// payload returns n bytes that differ from packet to packet.
func payload(seed, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(seed*31 + i)
	}
	return b
}

// synthTimes are timestamps with sub-microsecond parts, so resolution
// matters.
func synthTime(i int) time.Time {
	return time.Unix(1700000000+int64(i), int64(i)*1001+123).UTC()
}

// writePcap writes packets with pcapgo's writer (little-endian, micro- or
// nanosecond) and fills in the offsets the reader must report.
func writePcap(t testing.TB, nanos bool, snaplen uint32, link layers.LinkType, pkts []synthPacket) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if nanos {
		w = pcapgo.NewWriterNanos(&buf)
	}
	if err := w.WriteFileHeader(snaplen, link); err != nil {
		t.Fatal(err)
	}
	for i := range pkts {
		pkts[i].offset = int64(buf.Len())
		pkts[i].link = uint32(link)
		ci := gopacket.CaptureInfo{Timestamp: pkts[i].ts, CaptureLength: len(pkts[i].data), Length: pkts[i].wire}
		if err := w.WritePacket(ci, pkts[i].data); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// pcapToBigEndian rewrites a little-endian pcap file as big-endian: the
// file header fields and each record header.
func pcapToBigEndian(le []byte) []byte {
	be := append([]byte(nil), le...)
	swap32 := func(b []byte) { binary.BigEndian.PutUint32(b, binary.LittleEndian.Uint32(b)) }
	swap16 := func(b []byte) { binary.BigEndian.PutUint16(b, binary.LittleEndian.Uint16(b)) }
	swap32(be[0:4])
	swap16(be[4:6])
	swap16(be[6:8])
	for i := 8; i < 24; i += 4 {
		swap32(be[i : i+4])
	}
	for off := 24; off+16 <= len(be); {
		caplen := int(binary.LittleEndian.Uint32(le[off+8 : off+12]))
		for i := 0; i < 16; i += 4 {
			swap32(be[off+i : off+i+4])
		}
		off += 16 + caplen
	}
	return be
}

// ngSection describes one pcapng section: its interfaces' link types and
// packets (each naming its interface).
type ngSection struct {
	links   []layers.LinkType
	pkts    []synthPacket
	snaplen uint32 // of every interface; 0 for none
}

// writePcapng writes sections with pcapgo's NgWriter, one after the other
// (each NgWriter starts a section), and fills in offsets, link types and
// section numbers.
func writePcapng(t testing.TB, sections []ngSection) ([]byte, []synthPacket) {
	t.Helper()
	var buf bytes.Buffer
	var all []synthPacket
	for s, sec := range sections {
		intf := pcapgo.DefaultNgInterface
		intf.LinkType = sec.links[0]
		intf.SnapLength = sec.snaplen
		w, err := pcapgo.NewNgWriterInterface(&buf, intf, pcapgo.DefaultNgWriterOptions)
		if err != nil {
			t.Fatal(err)
		}
		for _, lt := range sec.links[1:] {
			intf.LinkType = lt
			if _, err := w.AddInterface(intf); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range sec.pkts {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			p.offset = int64(buf.Len())
			p.link = uint32(sec.links[p.iface])
			p.sect = s
			ci := gopacket.CaptureInfo{Timestamp: p.ts, CaptureLength: len(p.data), Length: p.wire, InterfaceIndex: p.iface}
			if err := w.WritePacket(ci, p.data); err != nil {
				t.Fatal(err)
			}
			all = append(all, p)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes(), all
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// somePackets returns n packets of varying sizes (odd ones too, for pcapng
// padding) on the given interfaces in turn.
func somePackets(n int, ifaces int) []synthPacket {
	pkts := make([]synthPacket, n)
	for i := range pkts {
		size := 14 + (i*37)%200
		pkts[i] = synthPacket{data: payload(i, size), ts: synthTime(i), wire: size + i%3, iface: i % ifaces}
	}
	return pkts
}
