package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/capture"
)

// honestyFiles writes captures of every kind a run meets: a good one, one
// damaged before its end, one cut in its last record, a text file, an
// empty one, a header-only one, and frames flowaudit does not decode
// (802.11 beacons behind radiotap, LINKTYPE_USER0, LLDP on Ethernet).
func honestyFiles(t *testing.T) map[string]string {
	t.Helper()
	good, err := os.ReadFile(filepath.Join(sampleRoot, "testdata", "captures", "pcap-le-usec.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	rec := 24 // the tenth record
	for range 9 {
		rec += 16 + int(binary.LittleEndian.Uint32(good[rec+8:]))
	}
	damaged := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(damaged[rec+8:], 16711424)
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
	lldp := append(bytes.Repeat([]byte{0x01, 0x80, 0xc2, 0, 0, 0x0e}, 2), 0x88, 0xcc, 2, 7, 4, 0, 1, 2, 3, 4, 5, 0, 0)
	// 802.11 beacons behind a minimal radiotap header: Wi-Fi management
	// traffic, no IP.
	beacon := append([]byte{0, 0, 8, 0, 0, 0, 0, 0, 0x80, 0, 0, 0}, bytes.Repeat([]byte{0xff}, 6)...)
	beacon = append(append(beacon, bytes.Repeat([]byte{2}, 12)...), make([]byte, 2+12)...)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(good)
	zw.Close()
	gzData := gz.Bytes()
	dir := t.TempDir()
	paths := map[string]string{}
	for name, data := range map[string][]byte{
		"good.pcap": good, "damaged.pcap": damaged, "cut.pcap": good[:len(good)-7], "text.pcap": []byte("GET / HTTP/1.1\r\n"),
		"empty.pcap": nil, "header-only.pcap": good[:24],
		"radiotap.pcapng": frames(127, 12, beacon), "user0.pcapng": frames(147, 3, make([]byte, 40)),
		"lldp.pcapng":        frames(1, 4, lldp),
		"no-trailer.pcap.gz": gzData[:len(gzData)-8], "junk-after.pcap.gz": append(append([]byte(nil), gzData...), "junk"...),
	} {
		paths[name] = filepath.Join(dir, name)
		if err := os.WriteFile(paths[name], data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}

// TestNoDataIsNotAPass: a run in which no frame was analysed exits 1 and
// says, for each file, its link type by number and name and how many
// frames were skipped; analyze, flows and roles alike.
func TestNoDataIsNotAPass(t *testing.T) {
	paths := honestyFiles(t)
	cases := []struct {
		files []string
		msg   string // regexp on stderr
	}{
		{[]string{"radiotap.pcapng"}, `radiotap.pcapng: 12 frames of link type 127 \(RadioTap\), none carrying IP traffic flowaudit follows, skipped \(`},
		{[]string{"user0.pcapng"}, `user0.pcapng: 3 frames of link type 147 \(USER0\), which flowaudit does not decode, skipped`},
		{[]string{"lldp.pcapng"}, `lldp.pcapng: 4 frames of link type 1 \(Ethernet\), none carrying IP traffic flowaudit follows, skipped \(not IP 4\)`},
		{[]string{"header-only.pcap"}, `header-only.pcap: no packets \(a file header and nothing after it\)`},
		{[]string{"empty.pcap"}, `empty.pcap: offset 0: empty file`},
		{[]string{"header-only.pcap", "radiotap.pcapng"}, `no frame was analysed: .*header-only.pcap: no packets.*; .*radiotap.pcapng: 12 frames of link type 127`},
	}
	for _, c := range cases {
		var files []string
		for _, f := range c.files {
			files = append(files, paths[f])
		}
		for _, cmd := range [][]string{{"analyze", "-f", "json", "--fail-on", "none"}, {"flows"}, {"roles"}} {
			t.Run(strings.Join(c.files, "+")+"/"+cmd[0], func(t *testing.T) {
				code, out, errs := runCmd(t, nil, append(cmd, files...)...)
				if code != exitError {
					t.Errorf("exit %d, want %d", code, exitError)
				}
				if !regexp.MustCompile(c.msg).MatchString(errs) {
					t.Errorf("stderr does not match %q:\n%s", c.msg, errs)
				}
				if cmd[0] == "analyze" {
					r := decodeSampleReport(t, out) // the report is still written, and says it covers nothing
					if r.Complete || len(r.Captures) != len(files) {
						t.Errorf("report complete %v with %d captures", r.Complete, len(r.Captures))
					}
				}
			})
		}
	}
}

// TestEveryFileIsRead: damaged, unreadable and cut-short files do not
// stop analyze: the files after them are read, every capture appears in
// every format with its status, the report says first that it is
// incomplete, and the exit code is 1 when any file had an error, else it
// follows the findings.
func TestEveryFileIsRead(t *testing.T) {
	paths := honestyFiles(t)
	cases := []struct {
		name     string
		files    []string
		code     int
		statuses []string
		stderr   []string // in every run's stderr
	}{
		{"damaged first", []string{"damaged.pcap", "good.pcap", "cut.pcap"}, exitError, []string{"damaged", "complete", "cut-short"},
			[]string{"damaged.pcap: offset 1192, frame 10: file is corrupt", "flowaudit: warning: " + paths["cut.pcap"] + ": offset 24976, frame 52: file is cut short"}},
		{"not a capture first", []string{"text.pcap", "good.pcap"}, exitError, []string{"unreadable", "complete"},
			[]string{"text.pcap: offset 0: not a pcap or pcapng file"}},
		{"cut short only", []string{"good.pcap", "cut.pcap"}, exitFindings, []string{"complete", "cut-short"}, []string{"flowaudit: warning: "}},
		{"gzip without its trailer, gzip with junk after", []string{"no-trailer.pcap.gz", "junk-after.pcap.gz", "good.pcap"}, exitError,
			[]string{"damaged", "damaged", "complete"}, []string{
				"no-trailer.pcap.gz: offset 25066, frame 53: gzip: the compressed stream is cut short at compressed byte offset",
				"junk-after.pcap.gz: offset 25066, frame 53: gzip: data after the end of the compressed stream, at compressed byte offset"}},
		{"all good", []string{"good.pcap"}, exitFindings, []string{"complete"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var files []string
			for _, f := range c.files {
				files = append(files, paths[f])
			}
			outputs := map[string]string{}
			for _, format := range []string{"json", "table", "markdown", "csv", "html"} {
				code, out, errs := runCmd(t, nil, append([]string{"analyze", "-f", format, "--reproducible"}, files...)...)
				if code != c.code {
					t.Errorf("%s: exit %d, want %d:\n%s", format, code, c.code, errs)
				}
				for _, want := range c.stderr {
					if !strings.Contains(errs, want) {
						t.Errorf("%s: stderr lacks %q:\n%s", format, want, errs)
					}
				}
				outputs[format] = out
			}
			r := decodeSampleReport(t, outputs["json"])
			if len(r.Captures) != len(files) {
				t.Fatalf("%d captures in the report, want %d", len(r.Captures), len(files))
			}
			for i, rc := range r.Captures {
				if rc.Path != files[i] || rc.Status != c.statuses[i] {
					t.Errorf("capture %d: %s %s, want %s %s", i, rc.Path, rc.Status, files[i], c.statuses[i])
				}
				if rc.Status == "good" && rc.Packets != 52 {
					t.Errorf("good.pcap: %d packets", rc.Packets)
				}
			}
			complete := c.statuses[len(c.statuses)-1] == "complete" && c.statuses[0] == "complete"
			if r.Complete != complete || len(r.Flows) == 0 {
				t.Errorf("complete %v, %d flows", r.Complete, len(r.Flows))
			}
			// Each capture with its status in every format; the incomplete
			// warning before the summary.
			for format, out := range outputs {
				if format == "json" {
					continue
				}
				for i, f := range files {
					status := map[string]string{"damaged": "damaged at byte offset ", "unreadable": "unreadable (not a pcap or pcapng file",
						"cut-short": "cut short at byte offset", "complete": "complete"}[c.statuses[i]]
					if format == "csv" && complete {
						continue // a complete CSV report is rows only
					}
					if !strings.Contains(out, filepath.Base(f)) || !strings.Contains(out, status) {
						t.Errorf("%s: lacks %s with %q", format, filepath.Base(f), status)
					}
				}
				warn := strings.Index(strings.ToLower(out), "incomplete report")
				summary := strings.Index(out, "Summary")
				if format == "csv" {
					summary = strings.Index(out, "status,blocked")
				}
				if complete != (warn < 0) || !complete && (summary < 0 || warn > summary) {
					t.Errorf("%s: incomplete warning at %d, summary at %d (complete %v)", format, warn, summary, complete)
				}
			}
			cr := csv.NewReader(strings.NewReader(outputs["csv"]))
			cr.Comment = '#'
			if rows, err := cr.ReadAll(); err != nil || len(rows) != 1+len(r.Flows) {
				t.Errorf("csv: %d rows, %v; want %d", len(rows), err, 1+len(r.Flows))
			}
		})
	}
}

// TestEvidenceWithDamagedCapture: --evidence is written for what could be
// read (its findings' pcaps from the readable files), and the run still
// exits 1 for the damaged file.
func TestEvidenceWithDamagedCapture(t *testing.T) {
	paths := honestyFiles(t)
	dir := t.TempDir()
	code, _, errs := runCmd(t, nil, "analyze", "--evidence", dir, "--reproducible", paths["damaged.pcap"], paths["text.pcap"], paths["good.pcap"])
	if code != exitError {
		t.Fatalf("exit %d, want %d:\n%s", code, exitError, errs)
	}
	pcaps, _ := filepath.Glob(filepath.Join(dir, "findings", "*.pcapng"))
	r := decodeSampleReport(t, mustRead(t, filepath.Join(dir, "report.json")))
	if len(pcaps) == 0 || len(r.Captures) != 3 || r.Complete {
		t.Errorf("%d finding pcaps, %d captures, complete %v", len(pcaps), len(r.Captures), r.Complete)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
