package analyzer

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
)

// scanFile writes a generated scan (only the packets in [o.From, o.Until)
// when set) to dir/name.
func scanFile(t testing.TB, dir, name string, sc pcapgen.Scan, o pcapgen.WriteOptions) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Write(f, o); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// sweepSplits are generated scans cut in two at the sweep threshold's
// boundaries: parts of one link (the scan split at a time) and
// independent links (scans of the same client captured at the same time
// on two links), where the sweep exists only once the two are put
// together, or in each already. link says how the parallel run must
// put the parts of one link together: merged as read (true) or read again
// in order ("merged", "read again"), or "separate" links, each merged.
func sweepSplits(t testing.TB, dir string) []struct {
	name   string
	paths  []string
	sweeps int
	link   string
} {
	slow := 10 * time.Millisecond // every probe answered before the next: no connection crosses the cut
	net2 := netip.MustParsePrefix("10.21.0.0/16")
	hosts := pcapgen.Scan{Seed: 1, Hosts: 400, Ports: []uint16{445}, Gap: slow}
	ports := pcapgen.Scan{Seed: 2, Hosts: 1, Ports: portRange(1, 400), Gap: slow}
	fast := pcapgen.Scan{Seed: 3, Hosts: 400, Ports: []uint16{445}}
	at := func(n int, gap time.Duration) time.Duration { return time.Duration(n) * gap }
	return []struct {
		name   string
		paths  []string
		sweeps int
		link   string
	}{
		{"host sweep cut in two, 200 servers on each side", []string{
			scanFile(t, dir, "hosts.1.pcap", hosts, pcapgen.WriteOptions{Until: at(200, slow)}),
			scanFile(t, dir, "hosts.2.pcap", hosts, pcapgen.WriteOptions{From: at(200, slow)}),
		}, 1, "merged"},
		{"host sweep cut at 300: a sweep in the first part only", []string{
			scanFile(t, dir, "hosts300.1.pcap", hosts, pcapgen.WriteOptions{Until: at(300, slow)}),
			scanFile(t, dir, "hosts300.2.pcap", hosts, pcapgen.WriteOptions{From: at(300, slow)}),
		}, 1, "read again"},
		{"port sweep cut in two", []string{
			scanFile(t, dir, "ports.1.pcap", ports, pcapgen.WriteOptions{Until: at(200, slow)}),
			scanFile(t, dir, "ports.2.pcap", ports, pcapgen.WriteOptions{From: at(200, slow)}),
		}, 1, "merged"},
		{"fast scan cut with probes answered across the cut", []string{
			scanFile(t, dir, "fast.1.pcap", fast, pcapgen.WriteOptions{Until: at(200, 20*time.Microsecond) + 100*time.Microsecond}),
			scanFile(t, dir, "fast.2.pcap", fast, pcapgen.WriteOptions{From: at(200, 20*time.Microsecond) + 100*time.Microsecond}),
		}, 1, "read again"},
		{"servers in both parts (two connections each), crossing --sweep-threshold 250 only together", []string{
			scanFile(t, dir, "again.1.pcap", pcapgen.Scan{Seed: 4, Hosts: 200, Ports: []uint16{445}, Gap: slow}, pcapgen.WriteOptions{}),
			scanFile(t, dir, "again.2.pcap", pcapgen.Scan{Seed: 9, Hosts: 128, Ports: []uint16{445}, Gap: slow,
				Network: netip.MustParsePrefix("10.20.0.128/25"), Start: pcapgen.DefaultStart.Add(time.Hour)}, pcapgen.WriteOptions{}),
		}, 1, "merged"},
		{"independent links, 200 servers each: a sweep only together", []string{
			scanFile(t, dir, "linkA.pcap", pcapgen.Scan{Seed: 5, Hosts: 200, Ports: []uint16{445}, Gap: slow}, pcapgen.WriteOptions{}),
			scanFile(t, dir, "linkB.pcap", pcapgen.Scan{Seed: 6, Hosts: 200, Ports: []uint16{445}, Gap: slow, Network: net2,
				Start: pcapgen.DefaultStart.Add(5 * time.Millisecond)}, pcapgen.WriteOptions{}),
		}, 1, "separate"},
		{"independent links, each a sweep of the same servers", []string{
			scanFile(t, dir, "sweepA.pcap", pcapgen.Scan{Seed: 7, Hosts: 300, Ports: []uint16{445}, Gap: slow}, pcapgen.WriteOptions{}),
			scanFile(t, dir, "sweepB.pcap", pcapgen.Scan{Seed: 8, Hosts: 300, Ports: []uint16{445}, Gap: slow,
				Start: pcapgen.DefaultStart.Add(5 * time.Millisecond)}, pcapgen.WriteOptions{}),
		}, 1, "separate"},
	}
}

func portRange(from, to int) []uint16 {
	var out []uint16
	for p := from; p <= to; p++ {
		out = append(out, uint16(p))
	}
	return out
}

// TestParallelSweepBoundaries: a sweep split over two captures — parts of
// one link or independent links, a client crossing the threshold only
// once the parts are merged — gives the Result reading in order gives,
// Stats.Swept included.
func TestParallelSweepBoundaries(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range sweepSplits(t, dir) {
		t.Run(tc.name, func(t *testing.T) {
			var links []string
			testOnLink = func(from, to int, ok bool) {
				links = append(links, map[bool]string{true: "merged", false: "read again"}[ok])
			}
			defer func() { testOnLink = nil }()
			opts := Options{SweepThreshold: 250}
			serial, serr := Run(tc.paths, opts)
			opts.Parallel = true
			par, perr := Run(tc.paths, opts)
			if serr != nil || perr != nil {
				t.Fatalf("errors: %v, %v", serr, perr)
			}
			if len(serial.Sweeps) != tc.sweeps {
				t.Fatalf("%d sweeps in order, want %d: %+v", len(serial.Sweeps), tc.sweeps, serial.Sweeps)
			}
			s, _ := comparable(serial)
			p, _ := comparable(par)
			if !reflect.DeepEqual(s, p) {
				diffResults(t, s, p)
			}
			want := []string{tc.link}
			if tc.link == "separate" {
				want = nil
			}
			if !reflect.DeepEqual(links, want) {
				t.Errorf("links of several files %q, want %q", links, want)
			}
		})
	}
}
