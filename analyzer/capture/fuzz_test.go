package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// fuzzSeeds are small synthetic captures, whole and damaged.
func fuzzSeeds(t testing.TB) map[string][]byte {
	pcapLE := writePcap(t, false, 128, layers.LinkTypeEthernet, somePackets(3, 1))
	pcapNano := writePcap(t, true, 0, layers.LinkTypeLinuxSLL, somePackets(2, 1))
	ng, ngPkts := writePcapng(t, []ngSection{
		{links: []layers.LinkType{layers.LinkTypeEthernet, linkTypeSLL2}, pkts: somePackets(3, 2)},
		{links: []layers.LinkType{layers.LinkTypeRaw}, pkts: somePackets(1, 1)},
	})
	badLen := append([]byte(nil), ng...)
	binary.LittleEndian.PutUint32(badLen[ngPkts[1].offset+4:], 0x7ffffff0)
	return map[string][]byte{
		"pcap-le":       pcapLE,
		"pcap-be":       pcapToBigEndian(pcapLE),
		"pcap-nano":     pcapNano,
		"pcap-gzip":     gzipBytes(t, pcapNano),
		"pcap-cut":      pcapLE[:len(pcapLE)-7],
		"pcapng":        ng,
		"pcapng-gzip":   gzipBytes(t, ng[:300]),
		"pcapng-badlen": badLen,
		"pcapng-cut":    ng[:len(ng)-9],
		"text":          []byte("GET / HTTP/1.1\r\n"),
	}
}

// fuzzTargets share the seed corpus.
var fuzzTargets = []string{"FuzzReader", "FuzzMapped", "FuzzStdin"}

// TestFuzzCorpus writes the seed corpus under testdata/fuzz/<target> with
// -update and otherwise checks that it is there.
func TestFuzzCorpus(t *testing.T) {
	for _, target := range fuzzTargets {
		checkCorpus(t, filepath.Join("testdata", "fuzz", target))
	}
}

func checkCorpus(t *testing.T, dir string) {
	for name, data := range fuzzSeeds(t) {
		path := filepath.Join(dir, "seed-"+name)
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Errorf("%s missing or stale (run with -update): %v", path, err)
		}
	}
}

// FuzzReader: no input makes the reader panic, loop, allocate without bound
// or report positions outside the input.
func FuzzReader(f *testing.F) {
	for _, data := range fuzzSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader("fuzz", bytes.NewReader(data))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Offset != 0 || e.Frame != 0 {
				t.Fatalf("open error %T %v", err, err)
			}
			return
		}
		defer r.Close()
		gz := len(data) > 1 && data[0] == 0x1f && data[1] == 0x8b
		var last Packet
		for n := 0; ; n++ {
			if !gz && n > len(data)/12+1 {
				t.Fatalf("%d packets from %d bytes", n, len(data))
			}
			p, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Path != "fuzz" || e.Frame <= last.Frame || e.Offset < last.Offset {
					t.Fatalf("error %T %v after frame %d at %d", err, err, last.Frame, last.Offset)
				}
				if !gz && e.Offset > int64(len(data)) {
					t.Fatalf("error offset %d beyond %d bytes", e.Offset, len(data))
				}
				if _, err2 := r.Next(); err2 != err {
					t.Fatalf("error not sticky: %v then %v", err, err2)
				}
				return
			}
			if len(p.Data) != p.CaptureLength || p.Frame <= last.Frame || (n > 0 && p.Offset <= last.Offset) || p.Offset < 0 {
				t.Fatalf("frame %d offset %d len %d/%d after frame %d at %d", p.Frame, p.Offset, len(p.Data), p.CaptureLength, last.Frame, last.Offset)
			}
			if !gz && p.Offset+int64(p.CaptureLength) > int64(len(data)) {
				t.Fatalf("frame %d at %d with %d bytes beyond %d bytes", p.Frame, p.Offset, p.CaptureLength, len(data))
			}
			last = *p
		}
	})
}

// benchFile is an in-memory capture of n packets of 60 to 1514 bytes.
func benchFile(b testing.TB, ng bool, n int) []byte {
	pkts := make([]synthPacket, n)
	for i := range pkts {
		size := 60 + (i*97)%1455
		pkts[i] = synthPacket{data: payload(i, size), ts: synthTime(i), wire: size}
	}
	if ng {
		data, _ := writePcapng(b, []ngSection{{links: []layers.LinkType{layers.LinkTypeEthernet}, pkts: pkts}})
		return data
	}
	return writePcap(b, false, 65535, layers.LinkTypeEthernet, pkts)
}

// TestZeroAllocs: Next allocates nothing per packet, except on pcapng
// interfaces whose link type is over 255 (SLL2 is 276): pcapgo boxes the
// link type into an interface value for each packet, and Go allocates
// boxes of integers over 255.
func TestZeroAllocs(t *testing.T) {
	sll2, _ := writePcapng(t, []ngSection{{links: []layers.LinkType{linkTypeSLL2}, pkts: somePackets(2000, 1)}})
	for _, c := range []struct {
		name   string
		data   []byte
		allocs float64
	}{{"pcap", benchFile(t, false, 2000), 0}, {"pcapng", benchFile(t, true, 2000), 0}, {"pcapng-sll2", sll2, 1}} {
		data, ng := c.data, c.name
		r, err := NewReader("alloc", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10; i++ { // warm up: buffers reach their size
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		}
		allocs := testing.AllocsPerRun(1000, func() {
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != c.allocs {
			t.Errorf("%s: %.2f allocations per packet, want %.0f", ng, allocs, c.allocs)
		}
	}
}

func benchmarkRead(b *testing.B, ng bool) {
	data := benchFile(b, ng, 10000)
	b.ReportAllocs()
	b.SetBytes(int64(len(data) / 10000))
	b.ResetTimer()
	var r *Reader
	for i := 0; i < b.N; i++ {
		if r == nil {
			var err error
			if r, err = NewReader("bench", bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := r.Next(); err == io.EOF {
			r = nil
		} else if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadPcap is the bare zero-copy read loop, per packet.
func BenchmarkReadPcap(b *testing.B) { benchmarkRead(b, false) }

// BenchmarkReadPcapng is the same over pcapng.
func BenchmarkReadPcapng(b *testing.B) { benchmarkRead(b, true) }

// readOutcome is everything a reader delivered: each packet's position,
// lengths, time and a digest of its data, and how reading ended.
func readOutcome(r *Reader, err error) string {
	if err != nil {
		return "open: " + err.Error()
	}
	defer r.Close()
	var b strings.Builder
	for {
		p, err := r.Next()
		if err != nil {
			if err == io.EOF {
				b.WriteString("EOF")
			} else {
				b.WriteString(err.Error())
			}
			return b.String()
		}
		fmt.Fprintf(&b, "%d@%d s%d i%d lt%d %d/%d %d %x\n", p.Frame, p.Offset, p.Section, p.InterfaceIndex, p.LinkType,
			p.CaptureLength, p.Length, p.Timestamp.UnixNano(), crc32.ChecksumIEEE(p.Data))
	}
}

// FuzzMapped: a capture read from a regular file, through the sliding
// memory map (one page at a time, so records straddle windows), gives
// exactly what the same bytes give through buffered reads: packets,
// offsets, frame numbers and the error.
func FuzzMapped(f *testing.F) {
	for _, data := range fuzzSeeds(f) {
		f.Add(data)
	}
	old, oldShare := mapWindow, shareWindow
	mapWindow, shareWindow = os.Getpagesize(), os.Getpagesize()
	f.Cleanup(func() { mapWindow, shareWindow = old, oldShare })
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		want := readOutcome(NewReader("fuzz", bytes.NewReader(data)))
		path := filepath.Join(dir, "capture")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		file, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		if got := readOutcome(NewReader("fuzz", file)); got != want {
			t.Fatalf("mapped:\n%s\nbuffered:\n%s", got, want)
		}
	})
}

// FuzzStdin: a capture read from a pipe, as standard input is ("-"), gives
// exactly what the same bytes give from memory, and errors say <stdin>.
func FuzzStdin(f *testing.F) {
	for _, data := range fuzzSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want := readOutcome(NewReader("-", bytes.NewReader(data)))
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			pw.Write(data) // fails once the reader gave up early; that is fine
			pw.Close()
		}()
		got := readOutcome(NewReader("-", pr))
		pr.Close()
		<-done
		if got != want {
			t.Fatalf("pipe:\n%s\nmemory:\n%s", got, want)
		}
		if strings.Contains(got, "-: offset") {
			t.Fatalf("error names - instead of <stdin>: %s", got)
		}
	})
}
