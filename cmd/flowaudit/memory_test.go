package main

import (
	"github.com/flowaudit/flowaudit/analyzer/gcpace"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
)

// peakMemory samples the memory the Go runtime holds from the OS (what it
// mapped, less what it released: close to the resident set) every
// millisecond while it runs, and returns the highest sample.
type peakMemory struct {
	stop chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

func startPeakMemory() *peakMemory {
	runtime.GC()
	debug.FreeOSMemory()
	p := &peakMemory{stop: make(chan struct{})}
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	read := func() {
		metrics.Read(samples)
		if v := samples[0].Value.Uint64() - samples[1].Value.Uint64(); v > p.peak {
			p.peak = v
		}
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				read()
				return
			case <-t.C:
				read()
			}
		}
	}()
	return p
}

func (p *peakMemory) done() float64 {
	close(p.stop)
	p.wg.Wait()
	return float64(p.peak) / (1 << 20)
}

// BenchmarkAnalyzeScanMemory is the peak memory of analyze and flows on
// the generated scan captures the README's memory figures come from: a SYN
// sweep of a /16 on 8 ports (524,288 probes, 812,275 packets) and 4,096
// clients probing 256 servers each on 445 (1,048,576 distinct services,
// none a sweep). The captures are generated once into a temporary
// directory. peak-MiB is the highest memory the Go runtime held from the
// OS during one run, sampled every millisecond, with the soft memory limit
// the command sets from its flags and the collector paced as main paces it
// (gcpace; for the rest of the test binary too: benchmarks run last).
//
//	go test ./cmd/flowaudit -run '^$' -bench AnalyzeScanMemory -benchtime 1x
func BenchmarkAnalyzeScanMemory(b *testing.B) {
	gcpace.Start(gcFloor)
	dir := b.TempDir()
	scans := []struct {
		name string
		scan pcapgen.Scan
		// incomplete: more services than the default --max-services,
		// which analyze counts without analysing them: it exits 1 (the
		// memory measured is the bounded default's).
		incomplete bool
	}{
		{"sweep-16x8", pcapgen.Scan{Seed: 1}, false},
		{"services-1M", pcapgen.Scan{Seed: 2, Clients: 4096, Hosts: 256, Ports: []uint16{445}}, true},
	}
	runs := []struct {
		name string
		args func(capture, out string) []string
	}{
		{"analyze-json", func(c, _ string) []string { return []string{"analyze", "-f", "json", c} }},
		{"analyze-o-html", func(c, o string) []string { return []string{"analyze", "-o", o + ".html", c} }},
		{"analyze-markdown", func(c, _ string) []string { return []string{"analyze", "-f", "markdown", c} }},
		{"flows-jsonl", func(c, _ string) []string { return []string{"flows", "-f", "jsonl", c} }},
		{"flows-table", func(c, _ string) []string { return []string{"flows", "-f", "table", c} }},
	}
	for _, sc := range scans {
		capture := filepath.Join(dir, sc.name+".pcap")
		f, err := os.Create(capture)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sc.scan.Write(f, pcapgen.WriteOptions{}); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		for _, r := range runs {
			b.Run(sc.name+"/"+r.name, func(b *testing.B) {
				b.ReportAllocs()
				var peak float64
				for i := 0; i < b.N; i++ {
					p := startPeakMemory()
					code := run(r.args(capture, filepath.Join(dir, "report")), nil, io.Discard, io.Discard)
					peak = max(peak, p.done())
					switch {
					case sc.incomplete && r.name[:7] == "analyze":
						if code != exitError {
							b.Fatalf("exit %d, want %d: the analysis past --max-services is incomplete", code, exitError)
						}
					case code != exitOK && code != exitFindings:
						b.Fatalf("exit %d", code)
					}
				}
				b.ReportMetric(peak, "peak-MiB")
				debug.SetMemoryLimit(-1) // leave the runtime as the next benchmark expects
			})
		}
	}
}

// The soft memory limit follows the bounds, and huge bounds saturate at no
// limit instead of overflowing into a small one (or a negative one, which
// debug.SetMemoryLimit ignores).
func TestMemoryLimit(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name        string
		conns, svcs int
		services    bool
		want        int64
	}{
		{"flows defaults", 262144, 65536, false, 224 * mib},
		{"analyze defaults", 262144, 65536, true, 480 * mib},
		{"huge connections", 1 << 58, 65536, false, math.MaxInt64},
		{"connections that wrapped to a small limit", 28823037615171174, 65536, false, math.MaxInt64},
		{"huge services", 262144, 1 << 61, true, math.MaxInt64},
		{"largest int", math.MaxInt, math.MaxInt, true, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := captureFlags{maxConnections: tc.conns, maxServices: tc.svcs}
			if got := memoryLimit(c, tc.services); got != tc.want {
				t.Errorf("memoryLimit = %d, want %d", got, tc.want)
			}
		})
	}
}
