package capture

import (
	"encoding/binary"
	"fmt"
	"io"
)

// pcapng block types the framer knows by name.
const (
	blockSHB = 0x0A0D0D0A
	blockIDB = 1
	blockPB  = 2 // obsolete packet block
	blockSPB = 3
	blockNRB = 4
	blockISB = 5
	blockEPB = 6
	blockDSB = 10
)

const ngByteOrderMagic = 0x1A2B3C4D

func blockName(typ uint32) string {
	switch typ {
	case blockSHB:
		return "section header block"
	case blockIDB:
		return "interface description block"
	case blockPB:
		return "packet block"
	case blockSPB:
		return "simple packet block"
	case blockNRB:
		return "name resolution block"
	case blockISB:
		return "interface statistics block"
	case blockEPB:
		return "enhanced packet block"
	case blockDSB:
		return "decryption secrets block"
	}
	return fmt.Sprintf("block type 0x%08x", typ)
}

// minBlockLen is the smallest total length a block of the type can have: the
// fixed fields pcapgo reads plus the 12 bytes of type and both lengths.
func minBlockLen(typ uint32) uint32 {
	switch typ {
	case blockSHB:
		return 28
	case blockIDB:
		return 20
	case blockEPB, blockPB:
		return 32
	case blockSPB, blockNRB:
		return 16
	case blockISB:
		return 24
	case blockDSB:
		return 20
	}
	return 12
}

func isPacketBlock(typ uint32) bool {
	return typ == blockEPB || typ == blockSPB || typ == blockPB
}

// isRecordBlock reports whether Wireshark gives the block a frame number:
// packets, custom blocks (which Wireshark 4 lists as frames) and systemd
// journal export blocks.
func isRecordBlock(typ uint32) bool {
	return isPacketBlock(typ) || typ == 0x00000BAD || typ == 0x40000BAD || typ == 9
}

// blockInfo is one pcapng block the framer has seen start.
type blockInfo struct {
	start   int64
	length  int64
	typ     uint32
	section int    // 0-based section number
	frame   uint64 // Wireshark frame number of the block, or the next one's for a block that is no record
}

// framer sits below the bufio.Reader that pcapgo reads from. It counts the
// bytes that pass (so the reader knows the offset of every record: bytes
// passed minus bytes still buffered) and, for pcapng, follows the block
// framing as the bytes go by: it records where each block starts and checks
// each block's length fields before pcapgo sees them. At the first impossible
// block it cuts the stream there and returns a *blockError, so pcapgo
// delivers every packet before that block and then fails with that error.
// It never allocates per block once its queue has grown to the number of
// blocks one buffer can hold.
type framer struct {
	r io.Reader
	n int64 // bytes passed to the reader above

	ng bool // follow pcapng framing

	// current block
	blockStart int64
	blockEnd   int64 // absolute offset of the next block; blocks start here
	tailStart  int64
	hdr        [24]byte
	hdrN       int // header bytes collected
	need       int // header bytes wanted; 0 when not collecting
	tail       [4]byte
	tailN      int
	length     uint32
	typ        uint32
	bigEndian  bool
	section    int

	q       []blockInfo
	head    int
	records uint64 // blocks Wireshark numbers as frames, so far
	pushed  bool   // the current block's header was checked and queued

	// snaplens are the snap lengths of the section's interfaces, in
	// order, for checking packet blocks' captured lengths.
	snaplens []uint32

	bad    *blockError
	cut    int64 // bytes beyond this offset are not passed once bad is set
	srcErr error // sticky error of the underlying reader
}

func (f *framer) order() binary.ByteOrder {
	if f.bigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func (f *framer) Read(p []byte) (int, error) {
	if f.bad != nil && f.n >= f.cut {
		return 0, f.bad
	}
	if f.srcErr != nil {
		return 0, f.srcErr
	}
	n, err := f.r.Read(p)
	if f.ng && n > 0 {
		n = f.scan(p[:n])
		if f.bad != nil && f.n+int64(n) >= f.cut {
			if f.cut < f.n {
				f.cut = f.n // the bad block began in bytes already passed
			}
			n = int(f.cut - f.n)
			f.n += int64(n)
			if n == 0 {
				return 0, f.bad
			}
			return n, nil
		}
	}
	f.n += int64(n)
	if err == io.EOF && f.ng && f.bad == nil && (f.need > 0 || f.n < f.blockEnd) {
		f.truncated()
		if n == 0 {
			return 0, f.bad
		}
		return n, nil
	}
	if err != nil && err != io.EOF {
		f.srcErr = err
	}
	return n, err
}

// reached returns the framer's error if the reader above, standing at pos,
// has reached the point where the stream was cut; pcapgo may fail on its own
// before that, on a block the framer found fine.
func (f *framer) reached(pos int64) *blockError {
	if f.bad != nil && pos >= f.cut {
		return f.bad
	}
	return nil
}

// truncated records that the input ended inside the current block.
func (f *framer) truncated() {
	have := f.n - f.blockStart
	msg := ""
	if f.need > 0 {
		if f.hdrN >= 8 {
			msg = fmt.Sprintf("%s header cut short: %d of %d bytes", blockName(f.typ), have, f.need)
		} else {
			msg = fmt.Sprintf("block header cut short: %d of 8 bytes", have)
		}
	} else {
		msg = fmt.Sprintf("%s cut short: length %d, file ends after %d bytes", blockName(f.typ), f.length, have)
	}
	f.fail(ErrTruncated, f.n, msg)
}

func (f *framer) fail(kind error, cut int64, msg string) {
	frame := f.records + 1
	if f.pushed { // the block's header was fine; its frame number is known
		frame = f.q[len(f.q)-1].frame
	}
	f.bad = &blockError{kind: kind, offset: f.blockStart, frame: frame, msg: msg}
	f.cut = cut
}

// scan follows the block framing over p, the bytes at offsets f.n onwards.
// It returns len(p); when it finds a bad block it sets f.bad and f.cut and
// stops.
func (f *framer) scan(p []byte) int {
	base := f.n
	i := 0
	for i < len(p) && f.bad == nil {
		abs := base + int64(i)
		switch {
		case f.need > 0:
			k := copy(f.hdr[f.hdrN:f.need], p[i:])
			f.hdrN += k
			i += k
			if f.hdrN == f.need {
				f.header()
			}
		case abs < f.tailStart:
			skip := f.tailStart - abs
			if rest := int64(len(p) - i); skip > rest {
				skip = rest
			}
			i += int(skip)
		case abs < f.blockEnd:
			k := copy(f.tail[f.tailN:], p[i:])
			f.tailN += k
			i += k
			if f.tailN == 4 {
				if got := f.order().Uint32(f.tail[:]); got != f.length {
					f.fail(ErrCorrupt, f.tailStart, fmt.Sprintf("%s: trailing length %d differs from leading length %d", blockName(f.typ), got, f.length))
				}
			}
		default: // a new block starts at abs
			f.blockStart = abs
			f.hdrN = 0
			f.need = 8
			f.pushed = false
		}
	}
	return len(p)
}

// header checks the collected header bytes of the current block; it may ask
// for more bytes (f.need grows) before the block is complete.
func (f *framer) header() {
	if f.hdrN == 8 {
		f.typ = binary.LittleEndian.Uint32(f.hdr[0:4]) // SHB type reads the same both ways
		if f.typ == blockSHB {
			f.need = 16 // byte-order magic and version come before the length is known
			return
		}
		f.typ = f.order().Uint32(f.hdr[0:4])
	}
	if f.typ == blockSHB && f.hdrN == 16 {
		switch {
		case binary.BigEndian.Uint32(f.hdr[8:12]) == ngByteOrderMagic:
			f.bigEndian = true
		case binary.LittleEndian.Uint32(f.hdr[8:12]) == ngByteOrderMagic:
			f.bigEndian = false
		default:
			f.fail(ErrCorrupt, f.blockStart, fmt.Sprintf("section header block: bad byte-order magic 0x%08x", binary.BigEndian.Uint32(f.hdr[8:12])))
			return
		}
		maj, min := f.order().Uint16(f.hdr[12:14]), f.order().Uint16(f.hdr[14:16])
		if maj != 1 || min != 0 {
			f.fail(ErrUnsupported, f.blockStart, fmt.Sprintf("section header block: pcapng version %d.%d, only 1.0 is read", maj, min))
			return
		}
		if f.blockStart > 0 || len(f.q) > 0 {
			f.section++
		}
		f.snaplens = f.snaplens[:0]
	}
	if f.hdrN == 8 || (f.typ == blockSHB && f.hdrN == 16) {
		f.length = f.order().Uint32(f.hdr[4:8])
		if f.length < minBlockLen(f.typ) || f.length%4 != 0 {
			f.fail(ErrCorrupt, f.blockStart, fmt.Sprintf("%s: impossible block length %d", blockName(f.typ), f.length))
			return
		}
		switch f.typ {
		case blockEPB, blockPB:
			f.need = 24 // up to the captured length
			return
		case blockIDB:
			f.need = 16 // up to the snap length
			return
		case blockSPB:
			if caplen := uint64(f.length) - 16; caplen > uint64(f.snaplen(0))+3 { // the data is padded to 4 bytes
				f.fail(ErrCorrupt, f.blockStart, fmt.Sprintf("%s: %d bytes of packet data exceed %s", blockName(f.typ), caplen, f.snaplenText(0)))
				return
			}
		}
	}
	if f.typ == blockIDB && f.hdrN == 16 {
		if len(f.snaplens) >= maxInterfaces {
			f.fail(ErrCorrupt, f.blockStart, fmt.Sprintf("%s: more than %d interfaces in one section", blockName(f.typ), maxInterfaces))
			return
		}
		f.snaplens = append(f.snaplens, f.order().Uint32(f.hdr[12:16]))
	}
	if (f.typ == blockEPB || f.typ == blockPB) && f.hdrN == 24 {
		caplen := f.order().Uint32(f.hdr[20:24])
		if uint64(caplen) > uint64(f.length)-32 {
			f.fail(ErrCorrupt, f.blockStart, fmt.Sprintf("%s: captured length %d does not fit in a block of %d bytes", blockName(f.typ), caplen, f.length))
			return
		}
		iface := int(f.order().Uint32(f.hdr[8:12]))
		if f.typ == blockPB {
			iface = int(f.order().Uint16(f.hdr[8:10]))
		}
		if iface < len(f.snaplens) && caplen > f.snaplen(iface) {
			f.fail(ErrCorrupt, f.blockStart, fmt.Sprintf("%s: captured length %d exceeds %s", blockName(f.typ), caplen, f.snaplenText(iface)))
			return
		}
	}
	f.need = 0
	f.blockEnd = f.blockStart + int64(f.length)
	f.tailStart = f.blockEnd - 4
	f.tailN = 0
	b := blockInfo{start: f.blockStart, length: int64(f.length), typ: f.typ, section: f.section, frame: f.records + 1}
	if isRecordBlock(f.typ) {
		f.records++
	}
	f.push(b)
	f.pushed = true
}

// maxInterfaces is the most interface description blocks a section may
// have: each costs pcapgo memory, and no capture has more.
const maxInterfaces = 65536

// maxNoSnaplen is the longest packet taken from an interface whose snap
// length is 0 (none): libpcap's MAXIMUM_SNAPLEN, as for pcap records.
const maxNoSnaplen = maxPcapRecord

// snaplen is the longest packet interface i may hold: its snap length, or
// maxNoSnaplen when it has none. An interface not described (yet) gets
// maxNoSnaplen; pcapgo reports packets of missing interfaces itself.
func (f *framer) snaplen(i int) uint32 {
	if i < len(f.snaplens) && f.snaplens[i] != 0 {
		return f.snaplens[i]
	}
	return maxNoSnaplen
}

func (f *framer) snaplenText(i int) string {
	if i < len(f.snaplens) && f.snaplens[i] != 0 {
		return fmt.Sprintf("interface %d's snap length %d", i, f.snaplens[i])
	}
	return fmt.Sprintf("%d bytes (interface %d has no snap length)", maxNoSnaplen, i)
}

func (f *framer) push(b blockInfo) {
	if f.head > 64 && f.head*2 > len(f.q) {
		n := copy(f.q, f.q[f.head:])
		f.q = f.q[:n]
		f.head = 0
	}
	f.q = append(f.q, b)
}

// packetBlock returns the packet block that ends at end, the offset at which
// pcapgo stands after delivering a packet, and forgets the blocks before it.
func (f *framer) packetBlock(end int64) (blockInfo, bool) {
	for f.head < len(f.q) {
		b := f.q[f.head]
		if b.start+b.length > end {
			break
		}
		f.head++
		if b.start+b.length == end && isPacketBlock(b.typ) {
			return b, true
		}
	}
	return blockInfo{}, false
}

// blockAt returns the block that holds offset off.
func (f *framer) blockAt(off int64) (blockInfo, bool) {
	for i := len(f.q) - 1; i >= 0; i-- {
		if b := f.q[i]; b.start <= off {
			return b, off < b.start+b.length
		}
	}
	return blockInfo{}, false
}
