package analyzer

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/capture"
	"github.com/flowaudit/flowaudit/analyzer/capturetest"
	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
)

func fileSHA(t *testing.T, path string) (string, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), b
}

func TestRunCaptureInfo(t *testing.T) {
	dir := capturetest.Dir(t)
	a, b := filepath.Join(dir, "syn-then-rst.pcap"), filepath.Join(dir, "modify-request.pcapng")
	var conns []flow.Connection
	var prog []Progress
	res, err := Run([]string{a, b}, Options{
		OnConnection: func(c *flow.Connection) { conns = append(conns, *c) },
		Progress:     func(p Progress) { prog = append(prog, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Captures) != 2 {
		t.Fatalf("%d captures", len(res.Captures))
	}
	var total uint64
	for i, p := range []string{a, b} {
		c := res.Captures[i]
		sum, data := fileSHA(t, p)
		if c.Path != p || c.SHA256 != sum || c.Size != int64(len(data)) || !c.Complete || c.Format == "" {
			t.Errorf("capture %d: %+v, want sha %s size %d", i, c, sum, len(data))
		}
		if c.Packets == 0 || c.First.IsZero() || c.Last.Before(c.First) {
			t.Errorf("capture %d: packets %d span %s-%s", i, c.Packets, c.First, c.Last)
		}
		total += c.Packets
	}
	if res.Packets != total || res.Decoded+res.SkippedTotal() != res.Packets {
		t.Errorf("packets %d decoded %d skipped %d errors %d", res.Packets, res.Decoded, res.SkippedTotal(), res.DecodeErrors)
	}
	if res.Captures[0].Packets != 2 {
		t.Errorf("syn-then-rst has 2 frames, got %d", res.Captures[0].Packets)
	}
	// Connections: frames are per file, the file index says which. In
	// syn-then-rst.pcap the client sends both the SYN and the RST.
	if len(conns) != 2 || conns[0].FirstPos != (flow.Pos{File: 0, Frame: 1}) || conns[0].State != "RSTOS0" || conns[0].History != "SR" {
		t.Fatalf("connections %+v", conns)
	}
	last := conns[len(conns)-1]
	// modify-request.pcapng: the two directions carry VLAN 81 and 80; one connection.
	if last.FirstPos.File != 1 || last.Proto != 6 || last.RespPort != 389 || last.VLAN != 81 || last.RespPkts == 0 {
		t.Errorf("second file's connection %+v", last)
	}
	if len(res.Services) != len(conns) || res.Stats.Connections != uint64(len(conns)) {
		t.Errorf("%d services, %d connections, stats %+v", len(res.Services), len(conns), res.Stats)
	}
	// Progress: one final report per file with the whole size.
	var done []Progress
	for _, p := range prog {
		if p.Done {
			done = append(done, p)
		}
	}
	if len(done) != 2 || done[0].Read != res.Captures[0].Size || done[1].Size != res.Captures[1].Size || done[1].File != 1 {
		t.Errorf("progress %+v", done)
	}
}

// TestRunRotated splits one capture's connections across two files: a
// connection seen in both is one connection.
func TestRunRotated(t *testing.T) {
	dir := capturetest.Dir(t)
	src := filepath.Join(dir, "citrix.pcap")
	one, err := Run([]string{src}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	twice, err := Run([]string{src, src}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(twice.Services) != len(one.Services) || twice.Packets != 2*one.Packets {
		t.Fatalf("services %d vs %d, packets %d vs %d", len(twice.Services), len(one.Services), twice.Packets, one.Packets)
	}
	s1, s2 := one.Services[0], twice.Services[0]
	if s2.ClientPackets+s2.ServerPackets != 2*(s1.ClientPackets+s1.ServerPackets) || s2.FirstPos != s1.FirstPos {
		t.Errorf("rotated service %+v, single %+v", s2, s1)
	}
}

func TestRunStdinAndGzip(t *testing.T) {
	dir := capturetest.Dir(t)
	path := filepath.Join(dir, "sip-tcp.pcap")
	want, err := Run([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	raw, _ := os.ReadFile(path)
	zw.Write(raw)
	zw.Close()
	sum := sha256.Sum256(gz.Bytes())

	got, err := Run([]string{"-"}, Options{Stdin: bytes.NewReader(gz.Bytes())})
	if err != nil {
		t.Fatal(err)
	}
	c := got.Captures[0]
	if c.Path != "-" || c.SHA256 != hex.EncodeToString(sum[:]) || c.Size != int64(gz.Len()) || c.Packets != want.Captures[0].Packets {
		t.Errorf("stdin capture %+v", c)
	}
	if len(got.Services) != len(want.Services) || !reflect.DeepEqual(got.Services[0], want.Services[0]) {
		t.Errorf("services differ: %+v vs %+v", got.Services, want.Services)
	}
}

// TestRunTruncated cuts a capture short: the result keeps the connections
// read before the cut, and the error names file, offset and frame.
func TestRunTruncated(t *testing.T) {
	dir := capturetest.Dir(t)
	raw, err := os.ReadFile(filepath.Join(dir, "citrix.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(cut, raw[:len(raw)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	var n int
	res, err := Run([]string{cut}, Options{OnConnection: func(*flow.Connection) { n++ }})
	if err != nil {
		t.Fatalf("a file cut in its last record is a warning, not an error: %v", err)
	}
	var ce *capture.Error
	if c := res.Captures[0]; !errors.As(c.Err, &ce) || ce.Path != cut || ce.Frame == 0 || ce.Offset <= 0 || c.Status != StatusCutShort {
		t.Fatalf("capture status %s, warning %v; want cut-short, a *capture.Error with position", c.Status, c.Err)
	}
	if res == nil || n != 1 || len(res.Services) != 1 || res.Captures[0].Complete {
		t.Fatalf("result %+v, %d connections", res, n)
	}
	sum, _ := fileSHA(t, cut)
	if c := res.Captures[0]; c.SHA256 != sum || c.Packets != ce.Frame-1 {
		t.Errorf("capture %+v; error at frame %d", c, ce.Frame)
	}
}

func TestRunMissingFile(t *testing.T) {
	res, err := Run([]string{filepath.Join(t.TempDir(), "nope.pcap")}, Options{})
	if err == nil || res != nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("res %v err %v", res, err)
	}
}

func TestRunOptionsReachTracker(t *testing.T) {
	dir := capturetest.Dir(t)
	// NTP_sync has 16 UDP conversations over more than a few seconds:
	// a one-second UDP timeout splits some of them.
	path := filepath.Join(dir, "NTP_sync.pcap")
	def, err := Run([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	short, err := Run([]string{path}, Options{UDPTimeout: time.Millisecond, MaxConnections: 2})
	if err != nil {
		t.Fatal(err)
	}
	if short.Stats.Connections <= def.Stats.Connections || short.Stats.PeakLive > 2 {
		t.Errorf("default %+v, short timeout %+v", def.Stats, short.Stats)
	}
}

// BenchmarkRun measures the whole pipeline (read, decode, track) on a
// shared capture; ns/op and allocs/op are per packet.
func BenchmarkRun(b *testing.B) {
	path := capturetest.Path(b, "mapi.pcap")
	cat := noPorts{}
	res, err := Run([]string{path}, Options{ServerPorts: cat})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N / int(res.Packets) {
		if _, err := Run([]string{path}, Options{ServerPorts: cat}); err != nil {
			b.Fatal(err)
		}
	}
}

type noPorts struct{}

func (noPorts) ServerPort(uint8, uint16) bool { return false }

// writeMix writes the benchmarks' capture, the make-bench traffic mix
// (5,000 flows, about 100k packets), to a temporary file.
func writeMix(b *testing.B) (string, pcapgen.Stats) {
	path := filepath.Join(b.TempDir(), "mix.pcap")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	st, err := pcapgen.Mix{Seed: 1, Flows: 5000}.Write(f, pcapgen.WriteOptions{})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		b.Fatal(err)
	}
	return path, st
}

// BenchmarkRunMix measures what `flowaudit flows` does before formatting, on
// a generated capture with the make-bench traffic mix (5,000 flows, about
// 100k packets): read, decode, track, and every connection handed out with
// its history and Community ID. ns/op and allocs/op are per packet.
func BenchmarkRunMix(b *testing.B) {
	path, st := writeMix(b)
	conns := 0
	opts := Options{ServerPorts: noPorts{}, NoHash: true, NoServices: true, OnConnection: func(*flow.Connection) { conns++ }}
	b.ReportAllocs()
	b.ResetTimer()
	for range max(b.N/st.Packets, 1) {
		if _, err := Run([]string{path}, opts); err != nil {
			b.Fatal(err)
		}
	}
	if conns == 0 {
		b.Fatal("no connections")
	}
}

// BenchmarkRunMixServices measures what `flowaudit analyze` does before
// auditing, on BenchmarkRunMix's capture: read, decode, track, learn host
// names and fold every connection into its service (no digest). ns/op and
// allocs/op are per packet; the services are made once per service, not
// per connection.
func BenchmarkRunMixServices(b *testing.B) {
	path, st := writeMix(b)
	opts := Options{ServerPorts: noPorts{}, NoHash: true}
	b.ReportAllocs()
	b.ResetTimer()
	var res *Result
	var err error
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	runs := max(b.N/st.Packets, 1)
	for range runs {
		if res, err = Run([]string{path}, opts); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if len(res.Services) == 0 {
		b.Fatal("no services")
	}
	conns := float64(res.Stats.Connections) * float64(runs)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/conns, "allocs/conn")
	b.ReportMetric(float64(len(res.Services))/float64(res.Stats.Connections), "services/conn")
}

// TestCaptureSpan: First and Last are the earliest and latest timestamps
// in any order of arrival, and frames without a time are left out.
func TestCaptureSpan(t *testing.T) {
	at := func(s int64) time.Time { return time.Unix(s, 0).UTC() }
	var zero time.Time
	for _, tc := range []struct {
		name        string
		ts          []time.Time
		first, last time.Time
	}{
		{"none", nil, zero, zero},
		{"only untimed", []time.Time{zero, zero}, zero, zero},
		{"one", []time.Time{at(5)}, at(5), at(5)},
		{"in order", []time.Time{at(1), at(2), at(3)}, at(1), at(3)},
		{"equal", []time.Time{at(2), at(2)}, at(2), at(2)},
		{"earlier later", []time.Time{at(5), at(7), at(3), at(6)}, at(3), at(7)},
		{"descending", []time.Time{at(9), at(8), at(7)}, at(7), at(9)},
		{"untimed first", []time.Time{zero, at(4), zero, at(2)}, at(2), at(4)},
		{"before 1970", []time.Time{at(10), at(-10)}, at(-10), at(10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Capture
			for _, ts := range tc.ts {
				c.span(ts)
			}
			if !c.First.Equal(tc.first) || !c.Last.Equal(tc.last) {
				t.Errorf("span %s to %s, want %s to %s", c.First, c.Last, tc.first, tc.last)
			}
		})
	}
}

// TestAddrMACsOnlyAsked: the senders' MACs are recorded only when asked
// for (role inference ties addresses by them); without, the tracker keeps
// none, and nothing else in the Result changes.
func TestAddrMACsOnlyAsked(t *testing.T) {
	path := filepath.Join("..", "testdata", "samples", "horizon", "pilot.pcapng")
	with, err := Run([]string{path}, Options{AddrMACs: true})
	if err != nil {
		t.Fatal(err)
	}
	without, err := Run([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(with.AddrMACs) == 0 || len(without.AddrMACs) != 0 {
		t.Errorf("%d MACs asked for, %d not asked for", len(with.AddrMACs), len(without.AddrMACs))
	}
	if !reflect.DeepEqual(with.Services, without.Services) || !reflect.DeepEqual(with.Sweeps, without.Sweeps) || with.Stats != without.Stats {
		t.Error("the services, sweeps or stats differ with the MACs")
	}
}
