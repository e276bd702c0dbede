// Package capture turns capture files into raw packets. It reads pcap (both
// byte orders, microsecond and nanosecond timestamps) and pcapng (several
// sections and interfaces with different link types), plain or gzip
// compressed, from a file or standard input, through pcapgo's zero-copy
// readers. It is the only package that uses pcapgo; no pcapgo or gopacket
// type appears in its API.
//
// A regular file is read through a sliding memory map on Linux, so its bytes
// reach pcapgo without a read system call per buffer, and the CPU is asked
// to prefetch them a buffer ahead of pcapgo; a file truncated while it is
// read gives an error, not a SIGBUS crash.
//
// Every record comes with its byte offset and frame number, and every error
// is an *Error naming the file, the byte offset of the record or block that
// failed and the frame being read. Impossible lengths are reported, never
// followed: no allocation is sized by an unchecked length field.
package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Packet is one record of a capture file.
type Packet struct {
	Data           []byte // valid until the next call to Next
	Timestamp      time.Time
	CaptureLength  int
	Length         int    // original length on the wire
	InterfaceIndex int    // pcapng interface id within its section; 0 for pcap
	LinkType       uint32 // LINKTYPE_* number of this packet's interface (FCS bits of the pcap header masked off)
	Frame          uint64 // 1-based frame number within the file, as Wireshark shows it (Wireshark numbers pcapng custom blocks too)
	Offset         int64  // byte offset of this record in the (decompressed) file
	Section        int    // 0-based pcapng section number; 0 for pcap
}

// bufSize is the read buffer; pcapgo reads through it without a buffer of
// its own (bufio.NewReader returns a *bufio.Reader that is big enough).
const bufSize = 64 << 10

// mappedBufSize is the buffer for a mapped file: the copies into it and out
// of it stay within the CPU's first-level cache, and the mapping costs no
// system call per buffer. flows is 3% faster on the make-bench capture than
// with bufSize.
const mappedBufSize = 16 << 10

// maxPcapRecord is the record length pcapgo accepts above a smaller snap
// length (libpcap's MAXIMUM_SNAPLEN, as tcpdump and Wireshark do).
const maxPcapRecord = 262144

// Magic numbers, as the first four bytes read little-endian.
const (
	magicPcapMicroLE = 0xA1B2C3D4
	magicPcapNanoLE  = 0xA1B23C4D
	magicPcapMicroBE = 0xD4C3B2A1
	magicPcapNanoBE  = 0x4D3CB2A1
	magicModifiedLE  = 0xA1B2CD34 // Alexey Kuznetzov's modified pcap
	magicModifiedBE  = 0x34CDB2A1
	magicPcapng      = 0x0A0D0D0A
)

// Reader reads the packets of one capture file.
type Reader struct {
	name    string
	closers []io.Closer
	src     *framer
	br      *bufio.Reader
	in      *counter // the input as given (or its mapping), counted
	mapped  *mapping // the file's memory map, when it is read through one
	gzip    bool
	ng      bool
	detail  string

	pcap     *pcapgo.Reader
	pcapng   *pcapgo.NgReader
	linkType uint32 // pcap only

	frame uint64
	err   error  // sticky: io.EOF or *Error
	pkt   Packet // the packet Next returns, reused

	// pcap 2.0 to 2.3: record length fields in the other order
	swapLens int
	order    binary.ByteOrder
}

const (
	swapNever = iota
	swapAlways
	swapIfLonger
)

// counter counts the bytes taken from the input (compressed bytes for
// gzip), for Consumed.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Open opens a capture file; "-" is standard input. The format (pcap or
// pcapng, optionally gzip compressed) is detected from the magic bytes, not
// from the name.
func Open(path string) (*Reader, error) {
	if path == "-" {
		return NewReader(path, os.Stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closers = append(r.closers, f)
	return r, nil
}

// NewReader reads a capture from r; name is used in errors and by Path. It
// reads the file header (and for pcapng the first section header) at once.
// Close does not close r.
//
// A regular file given as an *os.File open at its start is read through a
// memory map (see mapping), as it was when NewReader was called.
func NewReader(name string, r io.Reader) (*Reader, error) {
	rd := &Reader{name: name}
	if err := rd.init(r); err != nil {
		rd.Close()
		return nil, err
	}
	return rd, nil
}

func (r *Reader) init(in io.Reader) error {
	switch f := in.(type) {
	case *os.File:
		if m := mapFile(f); m != nil {
			r.closers = append(r.closers, m)
			r.mapped = m
			in = m
		}
	case *mapping: // one reader of a Share
		r.closers = append(r.closers, f)
		r.mapped = f
	}
	r.in = &counter{r: in}
	in = r.in
	// The magic is read before the framer starts, so the framer follows
	// pcapng framing from the first byte it passes.
	var head [4]byte
	n, err := io.ReadFull(in, head[:])
	if n >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, zerr := newGzipStream(r.in, head[:n])
		if zerr != nil {
			return r.fail(0, zerr)
		}
		r.gzip = true
		in = zr
		n, err = io.ReadFull(in, head[:])
	}
	if n < 4 {
		switch {
		case err != nil && err != io.EOF && err != io.ErrUnexpectedEOF:
			return r.fail(0, err)
		case n == 0:
			return r.fail(0, ErrEmpty)
		}
		return r.fail(0, fmt.Errorf("%w: %d bytes, too short for a file header", ErrTruncated, n))
	}
	m := binary.LittleEndian.Uint32(head[:])
	r.src = &framer{r: io.MultiReader(bytes.NewReader(head[:]), in), ng: m == magicPcapng}
	size := bufSize
	if r.mapped != nil {
		size = mappedBufSize
	}
	r.br = bufio.NewReaderSize(r.src, size)
	switch m {
	case magicPcapMicroLE, magicPcapNanoLE, magicPcapMicroBE, magicPcapNanoBE:
		return r.initPcap(m)
	case magicPcapng:
		return r.initPcapng()
	case magicModifiedLE, magicModifiedBE:
		return r.fail(0, fmt.Errorf("%w: modified (Kuznetzov) pcap; convert it with editcap", ErrUnsupported))
	default:
		return r.fail(0, fmt.Errorf("%w: starts with %s", ErrUnknownFormat, describeMagic(head[:])))
	}
}

// describeMagic shows the first bytes of an unknown file.
func describeMagic(b []byte) string {
	text := true
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c > 0x7e {
			text = false
		}
	}
	if text {
		return fmt.Sprintf("%q (text?)", b)
	}
	return fmt.Sprintf("% x", b)
}

func (r *Reader) initPcap(magic uint32) error {
	hdr, err := r.br.Peek(24)
	if len(hdr) < 24 {
		if err == io.EOF {
			err = fmt.Errorf("%w: pcap file header is %d of 24 bytes", ErrTruncated, len(hdr))
		}
		return r.fail(0, err)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if magic == magicPcapMicroBE || magic == magicPcapNanoBE {
		order = binary.BigEndian
	}
	maj, min := order.Uint16(hdr[4:6]), order.Uint16(hdr[6:8])
	if maj != 2 || min > 4 {
		return r.fail(0, fmt.Errorf("%w: pcap version %d.%d, only 2.0 to 2.4 are read", ErrUnsupported, maj, min))
	}
	if min < 4 {
		// Versions before 2.3 store the original length before the captured
		// length, and some 2.3 writers did too (libpcap swaps them in 2.3
		// files when captured > original). The layout is 2.4's otherwise, so
		// pcapgo (which takes 2.4 only) reads them after the version in the
		// buffered header is raised to 2.4 and each record header is put
		// into 2.4 order in the buffer before pcapgo reads it.
		order.PutUint16(hdr[6:8], 4)
		r.order = order
		r.swapLens = swapAlways
		if min == 3 {
			r.swapLens = swapIfLonger
		}
	}
	r.linkType = order.Uint32(hdr[20:24]) & 0xFFFF // LT_LINKTYPE: FCS length and flags live above bit 16
	p, err := pcapgo.NewReader(r.br)
	if err != nil {
		return r.fail(0, err)
	}
	r.pcap = p
	res := "microsecond"
	if magic == magicPcapNanoLE || magic == magicPcapNanoBE {
		res = "nanosecond"
	}
	r.detail = "pcap, " + orderName(order == binary.BigEndian) + ", " + res
	return nil
}

func orderName(big bool) string {
	if big {
		return "big-endian"
	}
	return "little-endian"
}

func (r *Reader) initPcapng() error {
	r.ng = true
	big := false
	if shb, _ := r.br.Peek(12); len(shb) == 12 {
		big = binary.BigEndian.Uint32(shb[8:12]) == ngByteOrderMagic
	}
	ng, err := pcapgo.NewNgReader(r.br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		return r.fail(0, r.cause(err))
	}
	r.pcapng = ng
	r.detail = "pcapng, " + orderName(big)
	return nil
}

// pos is the offset of the next byte pcapgo will read.
func (r *Reader) pos() int64 { return r.src.n - int64(r.br.Buffered()) }

// Consumed is how many bytes of the input the reader has taken so far,
// read-ahead included; for a compressed file, compressed bytes. It is meant
// for progress reports.
func (r *Reader) Consumed() int64 { return r.in.n }

// fail makes err sticky as an *Error at the given offset, for the frame
// after the last one delivered (0 while the file header is read).
func (r *Reader) fail(off int64, err error) error {
	frame := r.frame + 1
	if r.pcap == nil && r.pcapng == nil {
		frame = 0
	}
	return r.failFrame(off, frame, err)
}

func (r *Reader) failFrame(off int64, frame uint64, err error) error {
	e := &Error{Path: r.name, Offset: off, Frame: frame, Err: err}
	r.err = e
	return e
}

// sourceError describes a failure of the input below the capture format.
func (r *Reader) sourceError() error {
	err := r.src.srcErr
	if errors.Is(err, ErrGzip) {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("%w: %w", ErrTruncated, err)
	}
	return err
}

// cause turns a pcapgo error into the most precise cause known: the
// framer's finding if it cut the stream, the input's own failure, a
// truncation otherwise.
func (r *Reader) cause(err error) error {
	if bad := r.src.reached(r.pos()); bad != nil {
		return bad
	}
	if r.src.srcErr != nil {
		return r.sourceError()
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %w", ErrTruncated, err)
	}
	return err
}

// prefetch has the CPU load the part of a mapped file's next buffer that
// matches how much of the current one pcapgo has used: the bytes arrive
// from memory while this buffer's records are worked on, not all at once
// when the buffer is refilled, which the CPU would otherwise wait for.
// On the make-bench capture this takes 6% off the whole of
// `flowaudit flows`.
func (r *Reader) prefetch() {
	if r.mapped != nil {
		r.mapped.prefetch(r.br.Size() - r.br.Buffered())
	}
}

// Next returns the next packet. The Packet and its Data are the reader's
// own and valid until the next call, so that reading copies nothing it need
// not. It returns io.EOF at the clean end of the file and an *Error
// otherwise; once it returned an error it returns the same error again.
func (r *Reader) Next() (*Packet, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.pcap != nil {
		return r.nextPcap()
	}
	return r.nextPcapng()
}

func (r *Reader) nextPcap() (*Packet, error) {
	off := r.pos()
	if r.swapLens != swapNever {
		if h, _ := r.br.Peek(16); len(h) == 16 {
			c, l := r.order.Uint32(h[8:12]), r.order.Uint32(h[12:16])
			if r.swapLens == swapAlways || c > l {
				r.order.PutUint32(h[8:12], l)
				r.order.PutUint32(h[12:16], c)
			}
		}
	}
	data, ci, err := r.pcap.ZeroCopyReadPacketData()
	if err != nil {
		if err == io.EOF && r.pos() == off {
			r.err = io.EOF
			return nil, io.EOF
		}
		if r.src.srcErr != nil { // the input failed (gzip stream cut short, bad checksum, I/O)
			err = r.sourceError()
		} else if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
			have := r.pos() - off
			if have < 16 {
				err = fmt.Errorf("%w: record header is %d of 16 bytes", ErrTruncated, have)
			} else {
				err = fmt.Errorf("%w: record of %d bytes, file ends after %d", ErrTruncated, ci.CaptureLength, have-16)
			}
		} else if ci.CaptureLength > ci.Length || ci.CaptureLength > max(int(r.pcap.Snaplen()), maxPcapRecord) {
			err = fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return nil, r.fail(off, err)
	}
	r.frame++
	r.prefetch()
	// Field by field: a composite literal is built on the stack and copied,
	// which costs more than the rest of this function. InterfaceIndex and
	// Section stay zero in a pcap file.
	p := &r.pkt
	p.Data = data
	p.Timestamp = ci.Timestamp
	p.CaptureLength = ci.CaptureLength
	p.Length = ci.Length
	p.LinkType = r.linkType
	p.Frame = r.frame
	p.Offset = off
	return p, nil
}

func (r *Reader) nextPcapng() (*Packet, error) {
	data, ci, err := r.pcapng.ZeroCopyReadPacketData()
	end := r.pos()
	if err != nil {
		if err == io.EOF && r.src.reached(end) == nil && r.src.srcErr == nil {
			r.err = io.EOF
			return nil, io.EOF
		}
		if bad := r.src.reached(end); bad != nil {
			return nil, r.failFrame(bad.offset, bad.frame, bad)
		}
		b, ok := r.src.blockAt(end)
		if !ok {
			return nil, r.fail(end, r.cause(err))
		}
		return nil, r.failFrame(b.start, b.frame, fmt.Errorf("%s: %w", blockName(b.typ), r.cause(err)))
	}
	r.frame++
	r.prefetch()
	p := &r.pkt
	*p = Packet{
		Data:           data,
		Timestamp:      ci.Timestamp,
		CaptureLength:  ci.CaptureLength,
		Length:         ci.Length,
		InterfaceIndex: ci.InterfaceIndex,
		Frame:          r.frame,
		Offset:         -1,
	}
	if len(ci.AncillaryData) > 0 {
		if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
			p.LinkType = uint32(lt)
		}
	}
	if b, ok := r.src.packetBlock(end); ok {
		p.Offset, p.Section, p.Frame = b.start, b.section, b.frame
		r.frame = b.frame
	}
	// pcapng times are 64-bit counts since 1970; pcapgo turns those past
	// 2262 (or past int64 seconds) into times the tools downstream would
	// wrap, or wraps them itself. One comparison for most packets.
	if s := p.Timestamp.Unix(); s < 0 || s >= maxUnixNanoSec {
		if err := checkTime(p.Timestamp); err != nil {
			return nil, r.failFrame(max(p.Offset, 0), p.Frame, err)
		}
	}
	return p, nil
}

// maxUnixNanoSec is the second from which times cannot be nanoseconds
// since 1970 in an int64 (2262-04-11T23:47:16.854775807Z).
const maxUnixNanoSec = math.MaxInt64 / int64(time.Second)

// MaxTime is the latest packet time flowaudit represents: the last
// nanosecond an int64 count of nanoseconds since 1970 reaches.
var MaxTime = time.Unix(0, math.MaxInt64).UTC()

// checkTime rejects a pcapng packet time that cannot be represented. The
// zero time (a simple packet block has none) is fine; a time before 1970
// is a wrapped one.
func checkTime(ts time.Time) error {
	switch {
	case ts.IsZero():
		return nil
	case ts.After(MaxTime):
		return fmt.Errorf("%w: timestamp %s is after %s, the latest time flowaudit represents", ErrUnsupported, ts.Format(time.RFC3339Nano), MaxTime.Format(time.RFC3339Nano))
	case ts.Before(time.Unix(0, 0)):
		return fmt.Errorf("%w: timestamp overflows: the interface's time resolution and offset put it past the year 2262 (read as %s)", ErrUnsupported, ts.Format(time.RFC3339Nano))
	}
	return nil
}

// Close releases the file and the decompressor. It does not close a reader
// passed to NewReader, nor standard input.
func (r *Reader) Close() error {
	var first error
	for i := len(r.closers) - 1; i >= 0; i-- {
		if err := r.closers[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	r.closers = nil
	return first
}

// Path is the name the reader was opened with ("-" for standard input).
func (r *Reader) Path() string { return r.name }

// Format is "pcap" or "pcapng", followed by ", gzip" for compressed input.
func (r *Reader) Format() string {
	f := "pcap"
	if r.ng {
		f = "pcapng"
	}
	if r.gzip {
		f += ", gzip"
	}
	return f
}

// Detail describes the container as SOURCES.md does: "pcap, little-endian,
// microsecond" or "pcapng, big-endian" (byte order of the first section),
// followed by ", gzip" for compressed input.
func (r *Reader) Detail() string {
	if r.gzip {
		return r.detail + ", gzip"
	}
	return r.detail
}

// LinkTypeName is the name of a LINKTYPE_ number, as gopacket knows it
// ("Ethernet", "RadioTap"), else as tcpdump's link-layer header types list
// names it ("C_HDLC", "USER0"), or "unnamed".
func LinkTypeName(lt uint32) string {
	if lt > 0xffff {
		return "unnamed"
	}
	if n := layers.LinkType(lt).String(); n != "UnknownLinkType" {
		return n
	}
	if lt >= 147 && lt <= 162 {
		return fmt.Sprintf("USER%d", lt-147)
	}
	if n, ok := tcpdumpLinkTypes[lt]; ok {
		return n
	}
	return "unnamed"
}

// tcpdumpLinkTypes are the LINKTYPE_ names (https://www.tcpdump.org/linktypes.html)
// of the link types flowaudit decodes and of common ones, where gopacket
// has no name.
var tcpdumpLinkTypes = map[uint32]string{
	6:   "IEEE802_5",
	50:  "PPP_HDLC",
	51:  "PPP_ETHER",
	104: "C_HDLC",
	107: "FRELAY",
	119: "IEEE802_11_PRISM",
	123: "SUNATM",
	129: "ARCNET_LINUX",
	163: "IEEE802_11_AVS",
	189: "USB_LINUX",
	192: "PPI",
	195: "IEEE802_15_4_WITHFCS",
	215: "IEEE802_15_4_NONASK_PHY",
	220: "USB_LINUX_MMAPPED",
	227: "CAN_SOCKETCAN",
	228: "IPV4",
	229: "IPV6",
	230: "IEEE802_15_4_NOFCS",
	239: "NFLOG",
	249: "USBPCAP",
	251: "BLUETOOTH_LE_LL",
	258: "PKTAP",
}
