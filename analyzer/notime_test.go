package analyzer

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
	"github.com/flowaudit/flowaudit/catalog"
)

// pcapRecord is a frame of a little-endian microsecond pcap file.
type pcapRecord struct {
	ts   time.Time
	orig uint32
	data []byte
}

func readPcapRecords(t *testing.T, path string) (linkType uint32, recs []pcapRecord) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		t.Fatalf("%s: not a little-endian microsecond pcap", path)
	}
	linkType = binary.LittleEndian.Uint32(b[20:])
	for off := 24; off+16 <= len(b); {
		sec, usec := binary.LittleEndian.Uint32(b[off:]), binary.LittleEndian.Uint32(b[off+4:])
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		recs = append(recs, pcapRecord{time.Unix(int64(sec), int64(usec)*1000), binary.LittleEndian.Uint32(b[off+12:]), b[off+16 : off+16+n]})
		off += 16 + n
	}
	return linkType, recs
}

// Frame times of writeNg: as recorded, none (a simple packet block), or
// zero (an enhanced packet block stamped 0, the 1970 epoch).
const (
	stamped = iota
	noTime
	zeroTime
)

// writeNg writes the frames as a little-endian pcapng file of one
// interface (microsecond times), each frame's time as how(i) says.
func writeNg(t *testing.T, path string, linkType uint32, recs []pcapRecord, how func(i int) int) string {
	t.Helper()
	var b bytes.Buffer
	le := binary.LittleEndian
	block := func(typ uint32, body []byte) {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		n := uint32(12 + len(body))
		b.Write(le.AppendUint32(le.AppendUint32(nil, typ), n))
		b.Write(body)
		b.Write(le.AppendUint32(nil, n))
	}
	block(0x0a0d0d0a, le.AppendUint64(le.AppendUint16(le.AppendUint16(le.AppendUint32(nil, 0x1a2b3c4d), 1), 0), ^uint64(0)))
	block(1, le.AppendUint32(le.AppendUint16(le.AppendUint16(nil, uint16(linkType)), 0), 0))
	for i, r := range recs {
		switch how(i) {
		case noTime:
			block(3, append(le.AppendUint32(nil, r.orig), r.data...))
		default:
			var us uint64
			if how(i) == stamped {
				us = uint64(r.ts.UnixMicro())
			}
			body := le.AppendUint32(nil, 0)
			body = le.AppendUint32(body, uint32(us>>32))
			body = le.AppendUint32(body, uint32(us))
			body = le.AppendUint32(body, uint32(len(r.data)))
			body = le.AppendUint32(body, r.orig)
			block(6, append(body, r.data...))
		}
	}
	write(t, path, b.Bytes())
	return path
}

// TestLinksWithoutTimes: frames without a time (pcapng simple packet
// blocks) or stamped zero do not make the link decision differ between
// reading in order and --parallel, and crash neither. The first frame of
// a capture decides its link: without a time it continues the link
// before it; stamped 1970, it is earlier than any capture before it, so
// another link.
func TestLinksWithoutTimes(t *testing.T) {
	dir := t.TempDir()
	// 200 probes 10 ms apart: two seconds, more than the link slack.
	scan := scanFile(t, dir, "scan.pcap", pcapgen.Scan{Seed: 1, Hosts: 200, Ports: []uint16{445}, Gap: 10 * time.Millisecond}, pcapgen.WriteOptions{})
	other := scanFile(t, dir, "other.pcap", pcapgen.Scan{Seed: 2, Hosts: 200, Ports: []uint16{3389}, Gap: 10 * time.Millisecond}, pcapgen.WriteOptions{})
	lt, recs := readPcapRecords(t, other)
	ng := func(name string, how func(int) int) string {
		return writeNg(t, filepath.Join(dir, name), lt, recs, how)
	}
	all := func(h int) func(int) int { return func(int) int { return h } }
	firstNone := ng("first-untimed.pcapng", func(i int) int { return map[bool]int{true: noTime, false: stamped}[i < 3] })
	firstZero := ng("first-zero.pcapng", func(i int) int { return map[bool]int{true: zeroTime, false: stamped}[i < 3] })
	untimed := ng("untimed.pcapng", all(noTime))
	zero := ng("zero.pcapng", all(zeroTime))
	mixed := ng("mixed.pcapng", func(i int) int { return []int{stamped, noTime, zeroTime}[i%3] })

	tests := []struct {
		name  string
		paths []string
		links int // trackers reading in order ends with
	}{
		{"a capture of untimed frames continues the link", []string{scan, untimed}, 1},
		{"untimed, then a capture", []string{untimed, scan}, 1},
		{"untimed frames first, then times of the same moments as the capture before: the first frame decides", []string{scan, firstNone}, 1},
		{"stamped zero: earlier than the capture before, another link", []string{scan, zero}, 2},
		{"stamped zero first, then times: the first frame decides", []string{scan, firstZero}, 2},
		{"stamped zero, then a capture of that day: continues (later)", []string{zero, scan}, 1},
		{"frames stamped, untimed and zero by turns", []string{scan, mixed, other}, 3},
		{"the same capture at the same moments: another link", []string{scan, other}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, rotated := range []bool{false, true} {
				serial, serr := Run(tc.paths, Options{Rotated: rotated})
				par, perr := Run(tc.paths, Options{Rotated: rotated, Parallel: true})
				if serr != nil || perr != nil {
					t.Fatalf("rotated %v: errors %v, %v", rotated, serr, perr)
				}
				s, _ := comparable(serial)
				p, _ := comparable(par)
				if !reflect.DeepEqual(s, p) {
					diffResults(t, s, p)
				}
				if serial.Packets == 0 || serial.Decoded != serial.Packets {
					t.Errorf("rotated %v: %d of %d frames decoded", rotated, serial.Decoded, serial.Packets)
				}
			}
			r := newRunner(Options{}, flow.Config{ServerPorts: catalog.BuiltinServerPorts()})
			for i, p := range tc.paths {
				if err := r.file(i, p); err != nil {
					t.Fatal(err)
				}
			}
			if got := len(r.links) + 1; got != tc.links {
				t.Errorf("%d links, want %d", got, tc.links)
			}
		})
	}
}
