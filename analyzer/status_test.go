package analyzer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/capture"
)

// statusFiles writes one capture of each kind a run meets into a
// directory and returns their paths by name.
func statusFiles(t *testing.T) map[string]string {
	t.Helper()
	good, err := os.ReadFile(filepath.Join("..", "testdata", "captures", "pcap-le-usec.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	rec := 24 // the tenth record
	for range 9 {
		rec += 16 + int(binary.LittleEndian.Uint32(good[rec+8:]))
	}
	damaged := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(damaged[rec+8:], 16711424) // captured length over the snap length
	binary.LittleEndian.PutUint32(damaged[rec+12:], 16711424)
	frames := func(linkType uint32, n int, frame []byte) []byte {
		var buf bytes.Buffer
		w := capture.NewWriter(&buf)
		for i := range n {
			if err := w.Write(capture.Packet{Data: frame, CaptureLength: len(frame), Length: len(frame), LinkType: linkType,
				Timestamp: time.Date(2026, 11, 2, 9, 0, i, 0, time.UTC)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	// One UDP datagram over IPv4 over Ethernet.
	udp := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x04, 0xd2, 0, 53, 0, 8, 0, 0}
	// LLDP: Ethernet, but no IP in it.
	lldp := append(bytes.Repeat([]byte{0x01, 0x80, 0xc2, 0, 0, 0x0e}, 2), 0x88, 0xcc, 2, 7, 4, 0, 1, 2, 3, 4, 5, 0, 0)
	// 802.11 beacons behind a minimal radiotap header: Wi-Fi management
	// traffic, no IP.
	beacon := append([]byte{0, 0, 8, 0, 0, 0, 0, 0, 0x80, 0, 0, 0}, bytes.Repeat([]byte{0xff}, 6)...)
	beacon = append(append(beacon, bytes.Repeat([]byte{2}, 12)...), make([]byte, 2+12)...)
	files := map[string][]byte{
		"good.pcap":        good,
		"damaged.pcap":     damaged,
		"cut.pcap":         good[:len(good)-7],
		"text.pcap":        []byte("this is not a capture\n"),
		"header-only.pcap": good[:24],
		"empty.pcap":       nil,
		"radiotap.pcapng":  frames(127, 12, beacon),
		"user0.pcapng":     frames(147, 3, make([]byte, 40)), // LINKTYPE_USER0: no decoder will take it
		"lldp.pcapng":      frames(1, 4, lldp),
		"mixed.pcapng":     append(frames(1, 2, udp), frames(147, 3, make([]byte, 40))...), // two sections
	}
	dir := t.TempDir()
	paths := map[string]string{}
	for name, data := range files {
		paths[name] = filepath.Join(dir, name)
		if err := os.WriteFile(paths[name], data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}

// TestRunStatus: every capture gets a status, a file with frames none of
// which was analysed says why (link type by number and name, frames
// skipped), and a run that analysed nothing is an ErrNoData error.
func TestRunStatus(t *testing.T) {
	paths := statusFiles(t)
	for _, c := range []struct {
		file    string
		status  Status
		runErr  string // in Run's error; "" for none
		noData  string // in NoData's error; "" for nil
		packets uint64
	}{
		{"good.pcap", StatusComplete, "", "", 52},
		{"damaged.pcap", StatusDamaged, "frame 10: file is corrupt", "", 9},
		{"cut.pcap", StatusCutShort, "", "", 51},
		{"text.pcap", StatusUnreadable, `starts with "this" (text?)`, "text.pcap: unreadable", 0},
		{"empty.pcap", StatusUnreadable, "empty file", "empty.pcap: unreadable", 0},
		{"header-only.pcap", StatusComplete, "", "header-only.pcap: no packets (a file header and nothing after it)", 0},
		{"radiotap.pcapng", StatusComplete, "", "radiotap.pcapng: 12 frames of link type 127 (RadioTap), none carrying IP traffic flowaudit follows, skipped (", 12},
		{"user0.pcapng", StatusComplete, "", "user0.pcapng: 3 frames of link type 147 (USER0), which flowaudit does not decode, skipped", 3},
		{"lldp.pcapng", StatusComplete, "", "lldp.pcapng: 4 frames of link type 1 (Ethernet), none carrying IP traffic flowaudit follows, skipped (not IP 4)", 4},
		{"mixed.pcapng", StatusComplete, "", "", 5},
	} {
		t.Run(c.file, func(t *testing.T) {
			res, err := Run([]string{paths[c.file]}, Options{})
			if res == nil || len(res.Captures) != 1 {
				t.Fatalf("result %+v, %v", res, err)
			}
			got := res.Captures[0]
			if got.Status != c.status || got.Packets != c.packets || got.Complete != (c.status == StatusComplete) {
				t.Errorf("status %s, %d packets, complete %v; want %s, %d", got.Status, got.Packets, got.Complete, c.status, c.packets)
			}
			if (got.Err == nil) != (c.status == StatusComplete) {
				t.Errorf("Err %v with status %s", got.Err, got.Status)
			}
			if c.runErr == "" && err != nil || c.runErr != "" && (err == nil || !strings.Contains(err.Error(), c.runErr)) {
				t.Errorf("Run error %v, want %q", err, c.runErr)
			}
			wantNotDecoded := map[string]string{
				"user0.pcapng": "3 frames of link type 147 (USER0), which flowaudit does not decode",
				"mixed.pcapng": "3 frames of link type 147 (USER0), which flowaudit does not decode",
			}[c.file]
			if nd := got.NotDecoded(); nd != wantNotDecoded {
				t.Errorf("NotDecoded %q, want %q", nd, wantNotDecoded)
			}
			nd := res.NoData()
			if c.noData == "" && nd != nil || c.noData != "" && (nd == nil || !errors.Is(nd, ErrNoData) || !strings.Contains(nd.Error(), c.noData)) {
				t.Errorf("NoData %v, want %q", nd, c.noData)
			}
		})
	}
}

// TestRunReadsEveryFile: damaged and unreadable files do not stop the
// run; the files after them are read, each error is returned (joined),
// and a file cut in its last record is a warning only.
func TestRunReadsEveryFile(t *testing.T) {
	paths := statusFiles(t)
	order := []string{"damaged.pcap", "text.pcap", "good.pcap", "cut.pcap", "radiotap.pcapng"}
	var in []string
	for _, n := range order {
		in = append(in, paths[n])
	}
	res, err := Run(in, Options{})
	if len(res.Captures) != len(order) {
		t.Fatalf("%d captures, want %d", len(res.Captures), len(order))
	}
	want := []Status{StatusDamaged, StatusUnreadable, StatusComplete, StatusCutShort, StatusComplete}
	for i, c := range res.Captures {
		if c.Path != in[i] || c.Status != want[i] {
			t.Errorf("capture %d: %s %s, want %s %s", i, c.Path, c.Status, in[i], want[i])
		}
	}
	if res.Packets != 9+52+51+12 || res.NoData() != nil {
		t.Errorf("%d packets, NoData %v", res.Packets, res.NoData())
	}
	var ce *capture.Error
	if err == nil || !errors.As(err, &ce) || ce.Path != paths["damaged.pcap"] || !strings.Contains(err.Error(), "text.pcap") ||
		strings.Contains(err.Error(), "cut.pcap") {
		t.Errorf("error %v: want the damaged and the text file's, not the cut one's", err)
	}
}
