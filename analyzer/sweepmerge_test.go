package analyzer

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
	"github.com/flowaudit/flowaudit/catalog"
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

// TestParallelSharesLiveBound: the files read at once share
// --max-connections, so two tables take no more memory than one; a file
// that needed more than its share is read again with the whole bound, and
// the Result is the serial one, whether the whole bound suffices or not.
func TestParallelSharesLiveBound(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	dir := t.TempDir()
	// 1,000 probes 10 ms apart (about 1,500 frames), about half never
	// answered: they stay live. The small scan is captured at the same
	// time: another link.
	big := scanFile(t, dir, "big.pcap", pcapgen.Scan{Seed: 1, Hosts: 1000, Ports: []uint16{445}, Gap: 10 * time.Millisecond}, pcapgen.WriteOptions{})
	small := scanFile(t, dir, "small.pcap", pcapgen.Scan{Seed: 2, Hosts: 20, Ports: []uint16{445}, Gap: 10 * time.Millisecond,
		Network: netip.MustParsePrefix("10.21.0.0/16"), Start: pcapgen.DefaultStart.Add(5 * time.Millisecond)}, pcapgen.WriteOptions{})
	one, err := Run([]string{big}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	peak := one.Stats.PeakLive
	if peak < 300 {
		t.Fatalf("the scan keeps at most %d connections live", peak)
	}
	// The first reading of a file that exceeds its share stops there.
	r := newRunner(Options{}, flow.Config{MaxConnections: peak / 2, ServerPorts: catalog.BuiltinServerPorts()})
	r.stopIfEvicted = true
	if err := r.file(0, big); !errors.Is(err, errShareExceeded) || r.res.Captures[0].Packets >= one.Packets {
		t.Errorf("a file past its share: %v after %d of %d frames", err, r.res.Captures[0].Packets, one.Packets)
	}
	for _, tc := range []struct {
		name    string
		max     int
		reread  []int // files read again
		evicted bool  // even the whole bound is too small
	}{
		{"the whole bound suffices, the share does not", peak + peak/2, []int{0}, false},
		{"even the whole bound is too small", peak / 2, []int{0}, true},
		{"the share suffices", 4 * peak, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reread []int
			testOnLink = func(from, to int, ok bool) {
				if !ok {
					reread = append(reread, from)
				}
			}
			defer func() { testOnLink = nil }()
			opts := Options{MaxConnections: tc.max}
			serial, serr := Run([]string{big, small}, opts)
			opts.Parallel = true
			par, perr := Run([]string{big, small}, opts)
			if serr != nil || perr != nil {
				t.Fatalf("errors: %v, %v", serr, perr)
			}
			if (serial.Stats.Evicted > 0) != tc.evicted {
				t.Fatalf("%d connections ended early reading in order", serial.Stats.Evicted)
			}
			s, _ := comparable(serial)
			p, _ := comparable(par)
			if !reflect.DeepEqual(s, p) {
				diffResults(t, s, p)
			}
			if !reflect.DeepEqual(reread, tc.reread) {
				t.Errorf("files read again %v, want %v", reread, tc.reread)
			}
		})
	}
}

// TestParallelStdin: standard input among the files of --parallel is read
// once, in order with the others, even where a link would be read again:
// the Result is the serial one, without an "empty file" error.
func TestParallelStdin(t *testing.T) {
	dir := t.TempDir()
	fast := pcapgen.Scan{Seed: 3, Hosts: 400, Ports: []uint16{445}}
	cut := 200*20*time.Microsecond + 100*time.Microsecond
	a := scanFile(t, dir, "fast.1.pcap", fast, pcapgen.WriteOptions{Until: cut})
	b := scanFile(t, dir, "fast.2.pcap", fast, pcapgen.WriteOptions{From: cut})
	data, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	// A named pipe (as bash's <(zcat a.pcap.gz) gives) is read once too.
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	feed := func() { // one writer for one run's reading
		go func() {
			if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
				f.Write(data)
				f.Close()
			}
		}()
	}
	for _, paths := range [][]string{{"-", b}, {b, "-"}, {fifo, b}} {
		if paths[0] == fifo {
			feed()
		}
		serial, serr := Run(paths, Options{Stdin: bytes.NewReader(data)})
		if paths[0] == fifo {
			feed()
		}
		par, perr := Run(paths, Options{Stdin: bytes.NewReader(data), Parallel: true})
		if serr != nil || perr != nil {
			t.Fatalf("%v: errors %v, %v", paths, serr, perr)
		}
		s, _ := comparable(serial)
		p, _ := comparable(par)
		if !reflect.DeepEqual(s, p) {
			diffResults(t, s, p)
		}
	}
}

// TestParallelMergesLinkAsRead: the rotated parts of one link are merged
// into one tracker as they are read, so --parallel holds one table of
// services for the link, as reading in order does, not one per part; a
// link that must be read again holds none.
func TestParallelMergesLinkAsRead(t *testing.T) {
	dir := t.TempDir()
	slow := 10 * time.Millisecond
	sc := pcapgen.Scan{Seed: 1, Hosts: 240, Ports: []uint16{445}, Gap: slow}
	fast := pcapgen.Scan{Seed: 2, Hosts: 240, Ports: []uint16{445}}
	var parts, fastParts []string
	for k := range 6 {
		o := pcapgen.WriteOptions{From: time.Duration(40*k) * slow, Until: time.Duration(40*(k+1)) * slow}
		parts = append(parts, scanFile(t, dir, fmt.Sprintf("part%d.pcap", k), sc, o))
		o = pcapgen.WriteOptions{From: time.Duration(40*k)*20*time.Microsecond + 100*time.Microsecond, Until: time.Duration(40*(k+1))*20*time.Microsecond + 100*time.Microsecond}
		if k == 0 {
			o.From = 0
		}
		if k == 5 {
			o.Until = 0
		}
		fastParts = append(fastParts, scanFile(t, dir, fmt.Sprintf("fast%d.pcap", k), fast, o))
	}
	for _, tc := range []struct {
		name    string
		paths   []string
		merged  bool
		maxHeld int
	}{
		{"parts merged as read", parts, true, 1},
		{"parts sharing connections, read again", fastParts, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var links []bool
			held := 0
			testOnLink = func(from, to int, ok bool) { links = append(links, ok) }
			testOnRetained = func(file, n int) { held = max(held, n) }
			defer func() { testOnLink, testOnRetained = nil, nil }()
			serial, serr := Run(tc.paths, Options{})
			par, perr := Run(tc.paths, Options{Parallel: true})
			if serr != nil || perr != nil {
				t.Fatalf("errors %v, %v", serr, perr)
			}
			s, _ := comparable(serial)
			p, _ := comparable(par)
			if !reflect.DeepEqual(s, p) {
				diffResults(t, s, p)
			}
			if !reflect.DeepEqual(links, []bool{tc.merged}) {
				t.Errorf("links %v, want one merged %v", links, tc.merged)
			}
			if held > tc.maxHeld || (tc.merged && held == 0) {
				t.Errorf("%d trackers held at once for one link, want at most %d", held, tc.maxHeld)
			}
		})
	}
}
