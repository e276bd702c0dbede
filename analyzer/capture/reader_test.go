package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

const linkTypeSLL2 = layers.LinkType(276)

// readAll reads every packet, copying the data, until the first error.
func readAll(t testing.TB, r *Reader) ([]Packet, error) {
	t.Helper()
	var out []Packet
	for {
		p, err := r.Next()
		if err != nil {
			if err2 := func() error { _, e := r.Next(); return e }(); err2 != err {
				t.Errorf("error not sticky: %v then %v", err, err2)
			}
			return out, err
		}
		c := *p
		c.Data = append([]byte(nil), p.Data...)
		out = append(out, c)
	}
}

func checkPackets(t *testing.T, got []Packet, want []synthPacket, tsRes time.Duration) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d packets, want %d", len(got), len(want))
	}
	for i, p := range got {
		w := want[i]
		if !bytes.Equal(p.Data, w.data) {
			t.Errorf("packet %d: data differs", i+1)
		}
		if wantTS := w.ts.Truncate(tsRes); !p.Timestamp.Equal(wantTS) {
			t.Errorf("packet %d: timestamp %v, want %v", i+1, p.Timestamp, wantTS)
		}
		if p.CaptureLength != len(w.data) || p.Length != w.wire {
			t.Errorf("packet %d: lengths %d/%d, want %d/%d", i+1, p.CaptureLength, p.Length, len(w.data), w.wire)
		}
		if p.InterfaceIndex != w.iface || p.LinkType != w.link || p.Section != w.sect {
			t.Errorf("packet %d: iface %d link %d section %d, want %d %d %d", i+1, p.InterfaceIndex, p.LinkType, p.Section, w.iface, w.link, w.sect)
		}
		if p.Frame != uint64(i+1) || p.Offset != w.offset {
			t.Errorf("packet %d: frame %d offset %d, want %d %d", i+1, p.Frame, p.Offset, i+1, w.offset)
		}
	}
}

// TestFormats reads synthetic captures written with pcapgo's writers in
// every container variant and checks every field of every packet.
func TestFormats(t *testing.T) {
	type tc struct {
		name   string
		data   []byte
		want   []synthPacket
		res    time.Duration
		format string
		detail string
	}
	var cases []tc

	micro := somePackets(7, 1)
	microLE := writePcap(t, false, 65535, layers.LinkTypeEthernet, micro)
	nano := somePackets(5, 1)
	nanoLE := writePcap(t, true, 262144, layers.LinkTypeLinuxSLL, nano)
	cases = append(cases,
		tc{"pcap-le-micro", microLE, micro, time.Microsecond, "pcap", "pcap, little-endian, microsecond"},
		tc{"pcap-le-nano", nanoLE, nano, time.Nanosecond, "pcap", "pcap, little-endian, nanosecond"},
		tc{"pcap-be-micro", pcapToBigEndian(microLE), micro, time.Microsecond, "pcap", "pcap, big-endian, microsecond"},
		tc{"pcap-be-nano", pcapToBigEndian(nanoLE), nano, time.Nanosecond, "pcap", "pcap, big-endian, nanosecond"},
		tc{"pcap-gzip", gzipBytes(t, nanoLE), nano, time.Nanosecond, "pcap, gzip", "pcap, little-endian, nanosecond, gzip"},
		tc{"pcap-empty", microLE[:24], nil, time.Microsecond, "pcap", "pcap, little-endian, microsecond"},
	)

	// pcap 2.2 stores the original length first; 2.3 may (libpcap swaps when
	// the captured length is the larger).
	for _, minor := range []uint16{2, 3} {
		old := append([]byte(nil), microLE...)
		binary.LittleEndian.PutUint16(old[6:8], minor)
		for _, p := range micro {
			h := old[p.offset : p.offset+16]
			c, l := binary.LittleEndian.Uint32(h[8:12]), binary.LittleEndian.Uint32(h[12:16])
			if minor == 2 || l > c {
				binary.LittleEndian.PutUint32(h[8:12], l)
				binary.LittleEndian.PutUint32(h[12:16], c)
			}
		}
		cases = append(cases, tc{"pcap-2." + string(rune('0'+minor)), old, micro, time.Microsecond, "pcap", "pcap, little-endian, microsecond"})
	}

	// pcapng: three interfaces with different link types, two sections.
	ng, ngWant := writePcapng(t, []ngSection{
		{links: []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw, linkTypeSLL2}, pkts: somePackets(9, 3)},
		{links: []layers.LinkType{layers.LinkTypeNull, layers.LinkTypeEthernet}, pkts: somePackets(4, 2)},
	})
	cases = append(cases,
		tc{"pcapng-sections", ng, ngWant, time.Nanosecond, "pcapng", "pcapng, little-endian"},
		tc{"pcapng-gzip", gzipBytes(t, ng), ngWant, time.Nanosecond, "pcapng, gzip", "pcapng, little-endian, gzip"},
	)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewReader(c.name, bytes.NewReader(c.data))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.Format() != c.format || r.Detail() != c.detail || r.Path() != c.name {
				t.Errorf("format %q detail %q path %q, want %q %q %q", r.Format(), r.Detail(), r.Path(), c.format, c.detail, c.name)
			}
			got, err := readAll(t, r)
			if err != io.EOF {
				t.Fatalf("end: %v, want io.EOF", err)
			}
			checkPackets(t, got, c.want, c.res)
		})
	}
}

// TestOpen opens files by path (format found by magic, not by name) and
// standard input.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	pkts := somePackets(3, 1)
	plain := writePcap(t, false, 65535, layers.LinkTypeEthernet, pkts)
	files := map[string][]byte{
		"plain.pcap":       plain,
		"compressed.pcap":  gzipBytes(t, plain), // gzip without .gz
		"capture.pcap.gz":  gzipBytes(t, plain),
		"not-gzip.pcap.gz": plain, // .gz that is not compressed
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := readAll(t, r)
		if err != io.EOF {
			t.Fatalf("%s: %v", name, err)
		}
		checkPackets(t, got, pkts, time.Microsecond)
		if err := r.Close(); err != nil {
			t.Errorf("%s: close: %v", name, err)
		}
	}

	if _, err := Open(filepath.Join(dir, "missing.pcap")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want not exist", err)
	}

	// Standard input.
	stdin := filepath.Join(dir, "stdin")
	if err := os.WriteFile(stdin, gzipBytes(t, plain), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(stdin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = saved }()
	r, err := Open("-")
	if err != nil {
		t.Fatal(err)
	}
	if r.Path() != "-" || r.Format() != "pcap, gzip" {
		t.Errorf("stdin: path %q format %q", r.Path(), r.Format())
	}
	got, err := readAll(t, r)
	if err != io.EOF {
		t.Fatal(err)
	}
	checkPackets(t, got, pkts, time.Microsecond)
	r.Close()
	if _, err := f.Stat(); err != nil {
		t.Errorf("Close closed standard input: %v", err)
	}
}

// TestBadInput: every damaged input gives an *Error naming the file, the
// offset of the record or block and the frame, after the packets before it.
func TestBadInput(t *testing.T) {
	pkts := somePackets(3, 1)
	good := writePcap(t, false, 65535, layers.LinkTypeEthernet, pkts)
	rec2 := pkts[1].offset // second record
	le := binary.LittleEndian

	edit := func(b []byte, f func([]byte)) []byte {
		c := append([]byte(nil), b...)
		f(c)
		return c
	}

	ng, ngPkts := writePcapng(t, []ngSection{{links: []layers.LinkType{layers.LinkTypeEthernet}, pkts: somePackets(3, 1)}})
	ngRec2 := ngPkts[1].offset
	ngLen2 := int64(le.Uint32(ng[ngRec2+4:]))

	gz := gzipBytes(t, good)

	big := somePackets(2, 1)
	big[1].data, big[1].wire = payload(7, maxNoSnaplen+1), maxNoSnaplen+1
	ngBig, ngBigPkts := writePcapng(t, []ngSection{{links: []layers.LinkType{layers.LinkTypeEthernet}, pkts: big}})
	// A section with one interface too many: the SHB of ng, then IDBs.
	shbLen := int(le.Uint32(ng[4:]))
	idb := ng[shbLen : shbLen+int(le.Uint32(ng[shbLen+4:]))]
	manyIDBs := append([]byte(nil), ng[:shbLen]...)
	for range maxInterfaces + 1 {
		manyIDBs = append(manyIDBs, idb...)
	}
	// Enhanced packet block times, in the interface's nanoseconds since 1970.
	setTime := func(b []byte, off int64, ns uint64) {
		le.PutUint32(b[off+12:], uint32(ns>>32))
		le.PutUint32(b[off+16:], uint32(ns))
	}
	ngYear := func(sec int64) []byte {
		return edit(ng, func(b []byte) { setTime(b, ngRec2, uint64(sec)*1e9) })
	}

	cases := []struct {
		name     string
		data     []byte
		packets  int    // delivered before the error
		sentinel error  // errors.Is
		offset   int64  // *Error.Offset
		frame    uint64 // *Error.Frame
		msg      string // in the message
	}{
		{"empty", nil, 0, ErrEmpty, 0, 0, "empty file"},
		{"three-bytes", []byte{0xd4, 0xc3, 0xb2}, 0, ErrTruncated, 0, 0, "3 bytes"},
		{"text-named-pcap", []byte("hello, this is not a capture\n"), 0, ErrUnknownFormat, 0, 0, `"hell" (text?)`},
		{"binary-garbage", []byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3}, 0, ErrUnknownFormat, 0, 0, "de ad be ef"},
		{"modified-pcap", edit(good, func(b []byte) { le.PutUint32(b, magicModifiedLE) }), 0, ErrUnsupported, 0, 0, "modified"},
		{"pcap-version-3", edit(good, func(b []byte) { le.PutUint16(b[4:], 3) }), 0, ErrUnsupported, 0, 0, "version 3.4"},
		{"short-file-header", good[:20], 0, ErrTruncated, 0, 0, "20 of 24"},
		{"short-record-header", good[:rec2+5], 1, ErrTruncated, rec2, 2, "record header is 5 of 16 bytes"},
		{"short-record-data", good[:rec2+16+3], 1, ErrTruncated, rec2, 2, "file ends after 3"},
		{"record-over-snaplen", edit(good, func(b []byte) { le.PutUint32(b[rec2+8:], 16711424); le.PutUint32(b[rec2+12:], 16711424) }), 1, ErrCorrupt, rec2, 2, "16711424 > 65535"},
		{"caplen-over-wirelen", edit(good, func(b []byte) { le.PutUint32(b[rec2+12:], 1) }), 1, ErrCorrupt, rec2, 2, "exceeds original packet length"},
		{"garbage-after-header", append(append([]byte(nil), good[:24]...), bytes.Repeat([]byte{0xff}, 40)...), 0, ErrCorrupt, 24, 1, "capture length exceeds snap length"},
		{"huge-record-in-small-file", edit(good[:rec2+40], func(b []byte) { le.PutUint32(b[rec2+8:], 200000); le.PutUint32(b[rec2+12:], 200000) }), 1, ErrTruncated, rec2, 2, "record of 200000 bytes, file ends after 24"},
		{"gzip-truncated", gz[:len(gz)-4], 3, ErrTruncated, int64(len(good)), 4, "gzip: the compressed stream is cut short at compressed byte offset"},
		{"gzip-bad-checksum", edit(gz, func(b []byte) { b[len(b)-6] ^= 0xff }), 3, gzip.ErrChecksum, int64(len(good)), 4, "gzip: the trailer's CRC-32 or length does not match the data"},
		{"gzip-cut-in-record", gzipBytes(t, good[:rec2+20]), 1, ErrTruncated, rec2, 2, "file ends after 4"},
		{"gzip-bad-header", []byte{0x1f, 0x8b, 1}, 0, io.ErrUnexpectedEOF, 0, 0, "gzip"},
		{"ng-block-length-7", edit(ng, func(b []byte) { le.PutUint32(b[ngRec2+4:], 7) }), 1, ErrCorrupt, ngRec2, 2, "enhanced packet block: impossible block length 7"},
		{"ng-block-length-huge", edit(ng, func(b []byte) { le.PutUint32(b[ngRec2+4:], 0xfffffff0) }), 1, ErrTruncated, ngRec2, 2, "length 4294967280, file ends after"},
		{"ng-caplen-over-block", edit(ng, func(b []byte) { le.PutUint32(b[ngRec2+20:], 5000) }), 1, ErrCorrupt, ngRec2, 2, "captured length 5000 does not fit in a block of"},
		{"ng-trailer-mismatch", edit(ng, func(b []byte) { le.PutUint32(b[ngRec2+ngLen2-4:], 8) }), 1, ErrCorrupt, ngRec2, 2, "trailing length 8 differs"},
		{"ng-cut-in-block", ng[:ngRec2+40], 1, ErrTruncated, ngRec2, 2, "enhanced packet block cut short"},
		{"ng-cut-in-block-header", ng[:ngRec2+5], 1, ErrTruncated, ngRec2, 2, "block header cut short: 5 of 8 bytes"},
		{"ng-bad-byte-order", edit(ng, func(b []byte) { le.PutUint32(b[8:], 0x01020304) }), 0, ErrCorrupt, 0, 0, "bad byte-order magic"},
		{"ng-version-2", edit(ng, func(b []byte) { le.PutUint16(b[12:], 2) }), 0, ErrUnsupported, 0, 0, "pcapng version 2.0"},
		{"ng-over-snaplen", edit(ng, func(b []byte) { le.PutUint32(b[shbLen+12:], 40) }), 1, ErrCorrupt, ngRec2, 2, "captured length 51 exceeds interface 0's snap length 40"},
		{"ng-over-256k-without-snaplen", ngBig, 1, ErrCorrupt, ngBigPkts[1].offset, 2, "captured length 262145 exceeds 262144 bytes (interface 0 has no snap length)"},
		{"ng-65537-interfaces", manyIDBs, 0, ErrCorrupt, int64(shbLen + maxInterfaces*len(idb)), 1, "more than 65536 interfaces in one section"},
		{"ng-time-2300", ngYear(10413792000), 1, ErrUnsupported, ngRec2, 2, "timestamp 2300-01-01T00:00:00Z is after 2262-04-11T23:47:16.854775807Z"},
		{"ng-time-max", edit(ng, func(b []byte) { setTime(b, ngRec2, 1<<64-1) }), 1, ErrUnsupported, ngRec2, 2, "the latest time flowaudit represents"},
		{"gzip-junk-after-stream", append(append([]byte(nil), gz...), "junk!"...), 3, ErrGzip, int64(len(good)), 4, fmt.Sprintf("gzip: data after the end of the compressed stream, at compressed byte offset %d (gzip -t: trailing garbage)", len(gz))},
		{"gzip-junk-like-a-member", append(append([]byte(nil), gz...), 0x1f, 0x8b, 'x', 'y'), 3, ErrGzip, int64(len(good)), 4, fmt.Sprintf("at compressed byte offset %d, is not a gzip member", len(gz))},
		{"ng-interface-missing", edit(ng, func(b []byte) { le.PutUint32(b[ngRec2+8:], 9) }), 1, nil, ngRec2, 2, "Interface id 9 not present"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []Packet
			r, err := NewReader(c.name+".pcap", bytes.NewReader(c.data))
			if err == nil {
				got, err = readAll(t, r)
				r.Close()
			}
			if len(got) != c.packets {
				t.Errorf("delivered %d packets, want %d", len(got), c.packets)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v, want *Error", err, err)
			}
			if e.Path != c.name+".pcap" || e.Offset != c.offset || e.Frame != c.frame {
				t.Errorf("error at %s offset %d frame %d, want offset %d frame %d (%v)", e.Path, e.Offset, e.Frame, c.offset, c.frame, err)
			}
			if c.sentinel != nil && !errors.Is(err, c.sentinel) {
				t.Errorf("%v is not %v", err, c.sentinel)
			}
			if !strings.Contains(err.Error(), c.msg) || !strings.HasPrefix(err.Error(), c.name+".pcap: offset ") {
				t.Errorf("message %q lacks %q", err.Error(), c.msg)
			}
		})
	}
}

// TestStdinName: errors on standard input say so.
func TestStdinName(t *testing.T) {
	e := &Error{Path: "-", Offset: 24, Frame: 1, Err: ErrCorrupt}
	if got := e.Error(); got != "<stdin>: offset 24, frame 1: file is corrupt" {
		t.Errorf("got %q", got)
	}
}

// TestLengthFieldsDoNotSizeAllocations: a short file whose length fields
// claim gigabytes makes the reader allocate what the file holds, not what
// it claims.
func TestLengthFieldsDoNotSizeAllocations(t *testing.T) {
	le := binary.LittleEndian
	hugePcap := writePcap(t, false, 0x7fffffff, layers.LinkTypeEthernet, somePackets(1, 1))
	le.PutUint32(hugePcap[24+8:], 0x7ffffff0)
	le.PutUint32(hugePcap[24+12:], 0x7ffffff0)
	ng, ngPkts := writePcapng(t, []ngSection{{links: []layers.LinkType{layers.LinkTypeEthernet}, pkts: somePackets(1, 1), snaplen: 0x7fffffff}})
	hugeNg := append([]byte(nil), ng...)
	le.PutUint32(hugeNg[ngPkts[0].offset+4:], 0x7ffffff0)
	le.PutUint32(hugeNg[ngPkts[0].offset+20:], 0x7fffffc0) // the length fields agree, so only the end of the file stops it

	for name, data := range map[string][]byte{"pcap": hugePcap, "pcapng": hugeNg} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r, err := NewReader(name, bytes.NewReader(data))
		if err == nil {
			_, err = readAll(t, r)
		}
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: %v, want truncated", name, err)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("%s: %d bytes allocated for a %d-byte file", name, n, len(data))
		}
	}
}

// TestAcceptedEdges: what gzip -t and the pcapng spec accept is read: gzip
// members one after the other, and packet times up to the last nanosecond
// an int64 holds (2262-04-11T23:47:16.854775807Z), which stay exact.
func TestAcceptedEdges(t *testing.T) {
	le := binary.LittleEndian
	pkts := somePackets(3, 1)
	good := writePcap(t, false, 65535, layers.LinkTypeEthernet, pkts)
	ng, ngPkts := writePcapng(t, []ngSection{{links: []layers.LinkType{layers.LinkTypeEthernet}, pkts: somePackets(2, 1)}})
	atTime := func(ns uint64) []byte {
		b := append([]byte(nil), ng...)
		le.PutUint32(b[ngPkts[1].offset+12:], uint32(ns>>32))
		le.PutUint32(b[ngPkts[1].offset+16:], uint32(ns))
		return b
	}
	for _, c := range []struct {
		name    string
		data    []byte
		packets int
		last    time.Time // time of the last packet; zero: not checked
	}{
		{"gzip-two-members", append(gzipBytes(t, good[:pkts[1].offset]), gzipBytes(t, good[pkts[1].offset:])...), 3, time.Time{}},
		{"ng-time-2262-01-01", atTime(uint64(time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC).Unix()) * 1e9), 2, time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"ng-time-max", atTime(math.MaxInt64), 2, MaxTime},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewReader(c.name, bytes.NewReader(c.data))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got, err := readAll(t, r)
			if err != io.EOF || len(got) != c.packets {
				t.Fatalf("%d packets, %v; want %d and EOF", len(got), err, c.packets)
			}
			if !c.last.IsZero() && !got[len(got)-1].Timestamp.Equal(c.last) {
				t.Errorf("last packet at %s, want %s", got[len(got)-1].Timestamp, c.last)
			}
		})
	}
}

func TestLinkTypeName(t *testing.T) {
	for _, tc := range []struct {
		lt   uint32
		want string
	}{
		{1, "Ethernet"},   // gopacket's name
		{127, "RadioTap"}, // gopacket's name
		{104, "C_HDLC"},   // decoded, gopacket has no name
		{50, "PPP_HDLC"},  // decoded, gopacket has no name
		{228, "IPV4"},     // decoded, gopacket has no name
		{147, "USER0"},    // the user range
		{162, "USER15"},   // the user range
		{195, "IEEE802_15_4_WITHFCS"},
		{163, "IEEE802_11_AVS"}, // just past the user range
		{146, "unnamed"},
		{1 << 20, "unnamed"},
	} {
		if got := LinkTypeName(tc.lt); got != tc.want {
			t.Errorf("LinkTypeName(%d) = %q, want %q", tc.lt, got, tc.want)
		}
	}
}
