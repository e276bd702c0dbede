package pcapgen

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	pcapgolayers "github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Format is the capture file format.
type Format uint8

// File formats.
const (
	FormatPcap   Format = iota // libpcap
	FormatPcapNG               // pcapng
)

func (f Format) String() string {
	if f == FormatPcapNG {
		return "pcapng"
	}
	return "pcap"
}

// WriteOptions choose the file format and what part of the scenario to write.
type WriteOptions struct {
	Format    Format
	BigEndian bool // pcap: big-endian headers; pcapng: a big-endian section (microsecond timestamps unless Nanosecond)
	// Nanosecond selects nanosecond timestamps for pcap (magic a1b23c4d) and
	// for big-endian pcapng (if_tsresol 9). Little-endian pcapng, written by
	// pcapgo, is always nanosecond.
	Nanosecond bool
	Snaplen    uint32 // frames longer than this are truncated; 0 means 262144
	Gzip       bool   // compress the whole file

	// From and Until keep only packets at offsets in [From, Until); Until 0
	// means no end. Used to cut one scenario into rotated files.
	From, Until time.Duration
}

// sink receives frames in order.
type sink interface {
	packet(ts time.Time, iface int, data []byte, origLen int) error
	close() error
}

// Write writes the scenario's flows as one capture in time order and
// returns what was written. It fails if a flow method recorded an error.
func (s *Scenario) Write(w io.Writer, o WriteOptions) (Stats, error) {
	if s.err != nil {
		return Stats{}, s.err
	}
	flows := slices.Clone(s.flows)
	slices.SortStableFunc(flows, func(a, b *flow) int {
		if c := cmp.Compare(a.start(), b.start()); c != 0 {
			return c
		}
		return a.id - b.id
	})
	for _, f := range flows {
		f.next, f.written = 0, 0
	}
	s.window = WriteOptions{From: o.From, Until: o.Until}
	i := 0
	return writeFlows(w, s.start, s.ifaces, s.macs, func() *flow {
		if i == len(flows) {
			return nil
		}
		i++
		return flows[i-1]
	}, o)
}

// flowHeap orders active flows by the time of their next packet, then by
// creation order, so output order never depends on anything but the flows.
type flowHeap []*flow

func (h flowHeap) Len() int { return len(h) }
func (h flowHeap) Less(i, j int) bool {
	a, b := h[i].steps[h[i].next].at, h[j].steps[h[j].next].at
	if a != b {
		return a < b
	}
	return h[i].id < h[j].id
}
func (h flowHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *flowHeap) Push(x any)   { *h = append(*h, x.(*flow)) }
func (h *flowHeap) Pop() any {
	old := *h
	f := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return f
}

// writeFlows merges flows into one time-ordered capture. next returns
// flows in order of their first packet (then creation), or nil when done;
// only flows that have started and not finished are held, so a source can
// generate flows lazily and the capture is written as it goes.
func writeFlows(w io.Writer, start time.Time, ifaces []Iface, macs map[netip.Addr][6]byte, next func() *flow, o WriteOptions) (st Stats, err error) {
	var gz *gzip.Writer
	out := w
	if o.Gzip {
		gz = gzip.NewWriter(w)
		out = gz
	}
	snap := o.Snaplen
	if snap == 0 {
		snap = 262144
	}
	sk, err := newSink(out, ifaces, o, snap)
	if err != nil {
		return st, err
	}
	fb := newFramer()
	fb.macs = macs
	h := flowHeap{}
	pending := next()
	for {
		for pending != nil && (len(h) == 0 || !h.before(pending)) {
			heap.Push(&h, pending)
			pending = next()
		}
		if len(h) == 0 {
			break
		}
		f := h[0]
		i := f.next
		at := f.steps[i].at
		if at >= o.From && (o.Until == 0 || at < o.Until) {
			data, err := fb.frame(f, i, ifaces[f.path.Iface].Link)
			if err != nil {
				return st, err
			}
			ts := start.Add(at)
			origLen := len(data)
			if uint32(len(data)) > snap {
				data = data[:snap]
			}
			if err := sk.packet(ts, f.path.Iface, data, origLen); err != nil {
				return st, fmt.Errorf("writing packet %d: %w", st.Packets+1, err)
			}
			if st.Packets == 0 {
				st.First = ts
			}
			st.Last = ts
			st.Packets++
			st.Bytes += int64(origLen)
			if f.written == 0 {
				st.Flows++
			}
			f.written++
		}
		f.next++
		if f.next == len(f.steps) {
			heap.Pop(&h)
		} else {
			heap.Fix(&h, 0)
		}
	}
	if err := sk.close(); err != nil {
		return st, err
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return st, err
		}
	}
	return st, nil
}

// before reports whether the heap's next packet comes before f's first.
func (h flowHeap) before(f *flow) bool {
	a, b := h[0].steps[h[0].next].at, f.steps[0].at
	if a != b {
		return a < b
	}
	return h[0].id < f.id
}

func newSink(w io.Writer, ifaces []Iface, o WriteOptions, snap uint32) (sink, error) {
	if o.Format == FormatPcapNG {
		if o.BigEndian {
			return newNgBE(w, ifaces, o.Nanosecond, snap)
		}
		return newNgLE(w, ifaces, snap)
	}
	for _, ifc := range ifaces[1:] {
		if ifc.Link != ifaces[0].Link {
			return nil, errors.New("pcap holds one link type: use pcapng for interfaces of different link types")
		}
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if o.BigEndian {
		return newPcapBE(bw, ifaces[0].Link, o.Nanosecond, snap)
	}
	pw := pcapgo.NewWriter(bw)
	if o.Nanosecond {
		pw = pcapgo.NewWriterNanos(bw)
	}
	if err := pw.WriteFileHeader(snap, pcapgolayers.LinkType(ifaces[0].Link)); err != nil {
		return nil, err
	}
	return &pcapLE{w: pw, bw: bw}, nil
}

// pcapLE writes little-endian pcap through pcapgo.
type pcapLE struct {
	w  *pcapgo.Writer
	bw *bufio.Writer
}

func (p *pcapLE) packet(ts time.Time, _ int, data []byte, origLen int) error {
	return p.w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: origLen}, data)
}

func (p *pcapLE) close() error { return p.bw.Flush() }

// pcapBE writes big-endian pcap, which pcapgo cannot: the same 24-byte
// file header and 16-byte record headers, in network byte order.
type pcapBE struct {
	bw   *bufio.Writer
	nano bool
	hdr  [16]byte
}

func newPcapBE(bw *bufio.Writer, link LinkType, nano bool, snap uint32) (*pcapBE, error) {
	var h [24]byte
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	binary.BigEndian.PutUint32(h[0:], magic)
	binary.BigEndian.PutUint16(h[4:], 2)
	binary.BigEndian.PutUint16(h[6:], 4)
	binary.BigEndian.PutUint32(h[16:], snap)
	binary.BigEndian.PutUint32(h[20:], uint32(link))
	if _, err := bw.Write(h[:]); err != nil {
		return nil, err
	}
	return &pcapBE{bw: bw, nano: nano}, nil
}

func (p *pcapBE) packet(ts time.Time, _ int, data []byte, origLen int) error {
	frac := uint32(ts.Nanosecond())
	if !p.nano {
		frac /= 1000
	}
	binary.BigEndian.PutUint32(p.hdr[0:], uint32(ts.Unix()))
	binary.BigEndian.PutUint32(p.hdr[4:], frac)
	binary.BigEndian.PutUint32(p.hdr[8:], uint32(len(data)))
	binary.BigEndian.PutUint32(p.hdr[12:], uint32(origLen))
	if _, err := p.bw.Write(p.hdr[:]); err != nil {
		return err
	}
	_, err := p.bw.Write(data)
	return err
}

func (p *pcapBE) close() error { return p.bw.Flush() }

// sectionInfo is fixed so that output does not depend on the machine.
var sectionInfo = pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "flowaudit pcapgen"}}

// ngLE writes little-endian pcapng through pcapgo, one interface
// description block per Iface.
type ngLE struct {
	w *pcapgo.NgWriter
}

func newNgLE(w io.Writer, ifaces []Iface, snap uint32) (*ngLE, error) {
	ngIface := func(ifc Iface) pcapgo.NgInterface {
		return pcapgo.NgInterface{Name: ifc.Name, LinkType: pcapgolayers.LinkType(ifc.Link), SnapLength: snap, TimestampResolution: 9}
	}
	nw, err := pcapgo.NewNgWriterInterface(w, ngIface(ifaces[0]), sectionInfo)
	if err != nil {
		return nil, err
	}
	for _, ifc := range ifaces[1:] {
		if _, err := nw.AddInterface(ngIface(ifc)); err != nil {
			return nil, err
		}
	}
	return &ngLE{w: nw}, nil
}

func (n *ngLE) packet(ts time.Time, iface int, data []byte, origLen int) error {
	return n.w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: origLen, InterfaceIndex: iface}, data)
}

func (n *ngLE) close() error { return n.w.Flush() }

// ngBE writes a big-endian pcapng section (pcapgo writes only little
// endian): section header, interface descriptions, enhanced packet blocks.
// Timestamps are microseconds (no if_tsresol option, the pcapng default)
// unless nano is set.
type ngBE struct {
	bw   *bufio.Writer
	nano bool
	b    []byte
}

func newNgBE(w io.Writer, ifaces []Iface, nano bool, snap uint32) (*ngBE, error) {
	n := &ngBE{bw: bufio.NewWriterSize(w, 1<<20), nano: nano}
	// section header block
	var body []byte
	body = binary.BigEndian.AppendUint32(body, 0x1a2b3c4d)
	body = binary.BigEndian.AppendUint16(body, 1)
	body = binary.BigEndian.AppendUint16(body, 0)
	body = binary.BigEndian.AppendUint64(body, 0xffffffffffffffff)
	body = ngOption(body, 4, []byte(sectionInfo.SectionInfo.Application)) // shb_userappl
	body = ngOption(body, 0, nil)
	if err := n.block(0x0a0d0d0a, body); err != nil {
		return nil, err
	}
	for _, ifc := range ifaces {
		body = body[:0]
		body = binary.BigEndian.AppendUint16(body, uint16(ifc.Link))
		body = binary.BigEndian.AppendUint16(body, 0)
		body = binary.BigEndian.AppendUint32(body, snap)
		body = ngOption(body, 2, []byte(ifc.Name)) // if_name
		if nano {
			body = ngOption(body, 9, []byte{9}) // if_tsresol
		}
		body = ngOption(body, 0, nil)
		if err := n.block(1, body); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func ngOption(b []byte, code uint16, v []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, code)
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// block writes one pcapng block: type, total length, body, total length.
// bufio keeps the first write error and returns it from every later write.
func (n *ngBE) block(typ uint32, body []byte) error {
	total := uint32(12 + len(body))
	var h [8]byte
	binary.BigEndian.PutUint32(h[0:], typ)
	binary.BigEndian.PutUint32(h[4:], total)
	n.bw.Write(h[:])
	n.bw.Write(body)
	_, err := n.bw.Write(h[4:8])
	return err
}

func (n *ngBE) packet(ts time.Time, iface int, data []byte, origLen int) error {
	t := uint64(ts.UnixNano())
	if !n.nano {
		t /= 1000
	}
	b := n.b[:0]
	b = binary.BigEndian.AppendUint32(b, uint32(iface))
	b = binary.BigEndian.AppendUint32(b, uint32(t>>32))
	b = binary.BigEndian.AppendUint32(b, uint32(t))
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	b = binary.BigEndian.AppendUint32(b, uint32(origLen))
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	n.b = b
	return n.block(6, b)
}

func (n *ngBE) close() error { return n.bw.Flush() }
