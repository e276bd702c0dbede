package analyzer

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/capturetest"
	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// splitPcap writes the classic pcap file in halves (the records before
// and from the middle one), as a capture rotated once; ok is false for a
// file that is not a little-endian pcap of two records or more.
func splitPcap(t *testing.T, path, dir string) (a, b string, ok bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 24 || (binary.LittleEndian.Uint32(data) != 0xa1b2c3d4 && binary.LittleEndian.Uint32(data) != 0xa1b23c4d) {
		return "", "", false
	}
	var offs []int
	for off := 24; off+16 <= len(data); {
		n := int(binary.LittleEndian.Uint32(data[off+8:]))
		if off+16+n > len(data) {
			break
		}
		offs = append(offs, off)
		off += 16 + n
	}
	if len(offs) < 2 {
		return "", "", false
	}
	mid := offs[len(offs)/2]
	base := filepath.Join(dir, strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)))
	a, b = base+".part1.pcap", base+".part2.pcap"
	write(t, a, data[:mid])
	write(t, b, append(append([]byte{}, data[:24]...), data[mid:]...))
	return a, b, true
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func gzipCopy(t *testing.T, path, dir string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	out := filepath.Join(dir, filepath.Base(path)+".gz")
	write(t, out, b.Bytes())
	return out
}

// comparable is r with what depends on how the files were read and not
// on what they held cleared: the tracker's timing counters (a connection
// live at the end of one file ends by timeout in a later one when read in
// order, at the end of its own file when read on its own), and errors as
// their text, and connection IDs.
func comparable(r *Result) (*Result, []string) {
	c := *r
	c.Captures = append([]Capture(nil), r.Captures...)
	var errs []string
	for i := range c.Captures {
		if c.Captures[i].Err != nil {
			errs = append(errs, c.Captures[i].Err.Error())
		}
		c.Captures[i].Err = nil
	}
	c.Stats.TimedOut, c.Stats.PeakLive, c.Stats.ClockJumps = 0, 0, 0
	// Connection IDs are numbered per tracker: FirstID names the
	// earliest connection in its file's numbering (no report shows it).
	c.Services = append([]flow.Service(nil), r.Services...)
	for i := range c.Services {
		c.Services[i].FirstID = 0
	}
	return &c, errs
}

// TestParallelSameResult: --parallel gives the Result reading in order
// gives, on the sample pilots, every shared capture (pcap, pcapng, damaged
// ones, every link type), gzip copies, Zeek conn.logs, and rotated
// captures (each shared pcap split in two: parts that share connections
// are read again in order, the others merged).
func TestParallelSameResult(t *testing.T) {
	dir := capturetest.Dir(t)
	tmp := t.TempDir()
	var shared []string
	for _, name := range capturetest.Files(t) {
		if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.Mode().IsRegular() {
			shared = append(shared, filepath.Join(dir, name))
		}
	}
	samples, _ := filepath.Glob("../testdata/samples/*/pilot.pcapng")
	local, _ := filepath.Glob("../testdata/captures/*.pcap")
	logs, _ := filepath.Glob("../testdata/zeek-baselines/*.conn.log")
	if len(samples) != 4 || len(local) == 0 || len(logs) == 0 {
		t.Fatalf("samples %d, testdata captures %d, conn.logs %d", len(samples), len(local), len(logs))
	}
	var gz, splits, reversed []string
	for i, p := range shared {
		if i%3 == 0 {
			gz = append(gz, gzipCopy(t, p, tmp))
		}
		if a, b, ok := splitPcap(t, p, tmp); ok {
			splits = append(splits, a, b)
			reversed = append(reversed, b, a)
		}
	}
	sets := []struct {
		name  string
		paths []string
	}{
		{"samples", samples},
		{"shared", shared},
		{"testdata captures", local},
		{"gzip and plain", append(append([]string{}, gz...), shared[:5]...)},
		{"conn.logs and captures", append(append([]string{}, logs...), samples...)},
		{"rotated parts", splits},
		{"parts in reverse", reversed},
		{"the same capture twice", []string{samples[0], samples[0]}},
	}
	rereads, merged := 0, 0
	testOnLink = func(from, to int, ok bool) {
		if ok {
			merged++
		} else {
			rereads++
		}
	}
	defer func() { testOnLink = nil }()
	for _, set := range sets {
		t.Run(set.name, func(t *testing.T) {
			serial, serr := Run(set.paths, Options{AddrMACs: true})
			par, perr := Run(set.paths, Options{Parallel: true, AddrMACs: true})
			if fmt.Sprint(serr) != fmt.Sprint(perr) {
				t.Errorf("errors differ:\nserial   %v\nparallel %v", serr, perr)
			}
			s, se := comparable(serial)
			p, pe := comparable(par)
			if !reflect.DeepEqual(se, pe) {
				t.Errorf("capture errors differ:\nserial   %q\nparallel %q", se, pe)
			}
			if len(s.Services) == 0 && set.name != "testdata captures" {
				t.Fatalf("no services: nothing compared")
			}
			if !reflect.DeepEqual(s, p) {
				diffResults(t, s, p)
			}
		})
	}
	if rereads == 0 || merged == 0 {
		t.Errorf("links of several files: %d read again in order, %d merged as read; want both", rereads, merged)
	}
	t.Logf("links of several files: %d read again in order (they share connections), %d merged as read", rereads, merged)
}

func diffResults(t *testing.T, s, p *Result) {
	t.Helper()
	if !reflect.DeepEqual(s.Captures, p.Captures) {
		for i := range s.Captures {
			if i < len(p.Captures) && !reflect.DeepEqual(s.Captures[i], p.Captures[i]) {
				t.Errorf("capture %d:\nserial   %+v\nparallel %+v", i, s.Captures[i], p.Captures[i])
			}
		}
	}
	if len(s.Services) != len(p.Services) {
		t.Errorf("%d services in order, %d in parallel", len(s.Services), len(p.Services))
	}
	for i := range min(len(s.Services), len(p.Services)) {
		if !reflect.DeepEqual(s.Services[i], p.Services[i]) {
			t.Errorf("service %d:\nserial   %+v\nparallel %+v", i, s.Services[i], p.Services[i])
			break
		}
	}
	if !reflect.DeepEqual(s.Sweeps, p.Sweeps) {
		t.Errorf("sweeps differ:\nserial   %+v\nparallel %+v", s.Sweeps, p.Sweeps)
	}
	if !reflect.DeepEqual(s.Stats, p.Stats) {
		t.Errorf("stats:\nserial   %+v\nparallel %+v", s.Stats, p.Stats)
	}
	if !reflect.DeepEqual(s.AddrMACs, p.AddrMACs) {
		t.Errorf("MACs differ")
	}
	t.Errorf("results differ (packets %d/%d, decoded %d/%d, skipped %v/%v)", s.Packets, p.Packets, s.Decoded, p.Decoded, s.Skipped, p.Skipped)
}

// TestLinks: a capture starting before the captures before it ended is
// another link, with a connection table of its own: the same capture
// given twice counts each connection twice, in the same services. With
// Rotated it would continue the first's connections.
func TestLinks(t *testing.T) {
	samples, _ := filepath.Glob("../testdata/samples/*/pilot.pcapng")
	if len(samples) == 0 {
		t.Fatal("no sample pilots")
	}
	one, err := Run(samples[:1], Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, parallel := range []bool{false, true} {
		two, err := Run([]string{samples[0], samples[0]}, Options{Parallel: parallel})
		if err != nil {
			t.Fatal(err)
		}
		if len(two.Services) != len(one.Services) || len(two.Services) == 0 {
			t.Fatalf("parallel %v: %d services, want %d", parallel, len(two.Services), len(one.Services))
		}
		for i, s := range two.Services {
			o := one.Services[i]
			if s.ServiceKey != o.ServiceKey || s.Connections != 2*o.Connections || s.ClientPackets != 2*o.ClientPackets ||
				s.Established != 2*o.Established || s.FirstPos != o.FirstPos || s.ServerTTLMin != o.ServerTTLMin || s.ServerTTLMax != o.ServerTTLMax {
				t.Errorf("parallel %v: service %d %+v, want twice %+v", parallel, i, s, o)
			}
		}
		if two.Stats.Connections != 2*one.Stats.Connections {
			t.Errorf("parallel %v: %d connections, want %d", parallel, two.Stats.Connections, 2*one.Stats.Connections)
		}
	}
	rot, err := Run([]string{samples[0], samples[0]}, Options{Rotated: true})
	if err != nil {
		t.Fatal(err)
	}
	if rot.Stats.Connections == 2*one.Stats.Connections {
		t.Errorf("--rotated: the second copy's connections did not meet the first's")
	}
}

func TestStartsNewLink(t *testing.T) {
	last := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		start, last time.Time
		want        bool
	}{
		{last.Add(time.Minute), last, false},       // after: the next part of a rotation
		{last, last, false},                        // at the end
		{last.Add(-time.Second), last, false},      // within the slack: packets a little out of order
		{last.Add(-time.Second - 1), last, true},   // earlier: captured at the same time, another link
		{last.Add(-time.Hour), last, true},         // much earlier
		{last.Add(-time.Hour), time.Time{}, false}, // nothing before it
		{time.Time{}, last, false},                 // no time (a simple packet block): cannot be placed, continues
		{time.Unix(0, 0), last, true},              // stamped zero: 1970, earlier than the link
	} {
		if got := startsNewLink(c.start, c.last); got != c.want {
			t.Errorf("startsNewLink(%s, %s) = %v, want %v", c.start, c.last, got, c.want)
		}
	}
}
