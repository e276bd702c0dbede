package main

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/capturetest"
	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
)

// TestParallelReports: analyze --parallel writes the report reading the
// captures in order writes, byte for byte, in every format, with the same
// exit code: the four sample pilots together, every shared capture, and
// both.
func TestParallelReports(t *testing.T) {
	var samples []string
	for _, p := range samplePilots {
		samples = append(samples, p.capture())
	}
	var shared []string
	for _, name := range capturetest.Files(t) {
		p := filepath.Join(capturetest.Dir(t), name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			shared = append(shared, p)
		}
	}
	t.Chdir(sampleRoot)
	for _, set := range []struct {
		name  string
		paths []string
	}{
		{"samples", samples},
		{"shared", shared},
		{"samples and shared", append(append([]string{}, samples...), shared...)},
	} {
		for _, format := range []string{"json", "markdown", "csv"} {
			args := append([]string{"analyze", "-i", samplePilots[0].dir() + "/inventory.yaml", "--reproducible", "-f", format}, set.paths...)
			code, out, stderr := analyzeCmd(t, args...)
			pcode, pout, pstderr := analyzeCmd(t, append(args[:1:1], append([]string{"--parallel"}, args[1:]...)...)...)
			if len(out) < 100 {
				t.Fatalf("%s, %s: a report of %d bytes (exit %d): %s", set.name, format, len(out), code, stderr)
			}
			if code != pcode || out != pout || stderr != pstderr {
				t.Errorf("%s, %s: exit %d and %d; reports equal: %v; stderr:\n%s\n--- with --parallel:\n%s", set.name, format, code, pcode, out == pout, stderr, pstderr)
			}
		}
	}
}

// TestParallelProgress: with --parallel the files' progress arrives
// interleaved; each file keeps one bar, not a new one at every switch.
func TestParallelProgress(t *testing.T) {
	e := &env{stderr: io.Discard, stderrTTY: true, getenv: func(string) string { return "" }}
	p := e.newCaptureProgress()
	for i := range 6 {
		file := i % 2
		p.update(analyzer.Progress{File: file, Path: fmt.Sprintf("link%d.pcap", file), Read: int64(i+1) << 20, Size: 64 << 20, Done: i >= 4})
	}
	p.stop()
	if len(p.trackers) != 2 {
		t.Errorf("%d progress bars for two files", len(p.trackers))
	}
	for f, tr := range p.trackers {
		if !tr.IsDone() {
			t.Errorf("file %d: bar not done", f)
		}
	}
}

// writeScanPart writes the packets of a generated scan in [o.From,
// o.Until) into dir.
func writeScanPart(t testing.TB, dir, name string, sc pcapgen.Scan, o pcapgen.WriteOptions) string {
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

// TestParallelSweepReports: sweeps split over two captures — a scan cut
// in two (parts merged as read, or read again in order where probes are
// answered across the cut) and independent links whose client crosses the
// threshold only once merged — give byte-identical reports with and
// without --parallel in every format.
func TestParallelSweepReports(t *testing.T) {
	dir := t.TempDir()
	slow := 10 * time.Millisecond
	gap := func(n int, g time.Duration) time.Duration { return time.Duration(n) * g }
	hosts := pcapgen.Scan{Seed: 1, Hosts: 400, Ports: []uint16{445, 3389}, Gap: slow}
	ports := pcapgen.Scan{Seed: 2, Hosts: 1, Ports: portList(1, 400), Gap: slow}
	fast := pcapgen.Scan{Seed: 3, Hosts: 400, Ports: []uint16{445}}
	cut := gap(200, 20*time.Microsecond) + 100*time.Microsecond
	sets := []struct {
		name  string
		paths []string
	}{
		{"hosts cut in two", []string{
			writeScanPart(t, dir, "hosts.1.pcap", hosts, pcapgen.WriteOptions{Until: gap(200, slow)}),
			writeScanPart(t, dir, "hosts.2.pcap", hosts, pcapgen.WriteOptions{From: gap(200, slow)}),
		}},
		{"ports cut in two", []string{
			writeScanPart(t, dir, "ports.1.pcap", ports, pcapgen.WriteOptions{Until: gap(200, slow)}),
			writeScanPart(t, dir, "ports.2.pcap", ports, pcapgen.WriteOptions{From: gap(200, slow)}),
		}},
		{"probes answered across the cut", []string{
			writeScanPart(t, dir, "fast.1.pcap", fast, pcapgen.WriteOptions{Until: cut}),
			writeScanPart(t, dir, "fast.2.pcap", fast, pcapgen.WriteOptions{From: cut}),
		}},
		{"independent links, a sweep only together", []string{
			writeScanPart(t, dir, "linkA.pcap", pcapgen.Scan{Seed: 5, Hosts: 200, Ports: []uint16{445}, Gap: slow}, pcapgen.WriteOptions{}),
			writeScanPart(t, dir, "linkB.pcap", pcapgen.Scan{Seed: 6, Hosts: 200, Ports: []uint16{445}, Gap: slow,
				Network: netip.MustParsePrefix("10.21.0.0/16"), Start: pcapgen.DefaultStart.Add(5 * time.Millisecond)}, pcapgen.WriteOptions{}),
		}},
	}
	for _, set := range sets {
		for _, format := range []string{"table", "markdown", "json", "csv", "html", "dot"} {
			args := append([]string{"analyze", "--reproducible", "-f", format}, set.paths...)
			code, out, stderr := analyzeCmd(t, args...)
			pcode, pout, pstderr := analyzeCmd(t, append([]string{"analyze", "--parallel"}, args[1:]...)...)
			if code != exitFindings {
				t.Fatalf("%s, %s: exit %d, want %d (sweeps): %s", set.name, format, code, exitFindings, stderr)
			}
			if format == "json" && !strings.Contains(out, `"sweeps": [`) {
				t.Errorf("%s: no sweep in the report", set.name)
			}
			if code != pcode || out != pout || stderr != pstderr {
				t.Errorf("%s, %s: exit %d and %d; reports equal: %v; stderr:\n%s\n--- with --parallel:\n%s", set.name, format, code, pcode, out == pout, stderr, pstderr)
			}
		}
	}
}

// TestProgressHeld: the progress bar of a read begun in the background is
// not drawn until the command waits for it (release), so that what the
// command prints meanwhile (warnings about the inventory) is not drawn
// over; released, it is drawn at once when a file is under way, and a
// held bar that never was drawn stops at once.
func TestProgressHeld(t *testing.T) {
	e := &env{stderr: io.Discard, stderrTTY: true, getenv: func(string) string { return "" }}
	p := e.newCaptureProgress()
	p.held = true
	p.update(analyzer.Progress{File: 0, Path: "a.pcap", Read: 1 << 20, Size: 64 << 20})
	if p.started {
		t.Fatal("drawn while held")
	}
	p.release()
	if !p.started {
		t.Fatal("not drawn once released")
	}
	p.update(analyzer.Progress{File: 0, Path: "a.pcap", Read: 64 << 20, Size: 64 << 20, Done: true})
	p.stop()

	q := e.newCaptureProgress()
	q.held = true
	q.release() // nothing under way: nothing drawn
	if q.started {
		t.Error("drawn with no file under way")
	}
	q.stop()
}

// TestAnalyzeStopsOnBadInventory: analyze reads the captures while it
// loads the inventory; a bad inventory is the error, as before, and the
// read is stopped, not waited for to its end.
func TestAnalyzeStopsOnBadInventory(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "inv.yaml")
	if err := os.WriteFile(inv, []byte("hosts:\n  - name: a\n    addresses: [192.0.2.1]\n    roles: [\"No Such Role\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := writeScanPart(t, dir, "scan.pcap", pcapgen.Scan{Seed: 1, Hosts: 2000}, pcapgen.WriteOptions{})
	code, out, stderr := analyzeCmd(t, "analyze", "-i", inv, path)
	if code != exitError || out != "" || !strings.Contains(stderr, "inv.yaml:4") || !strings.Contains(stderr, "No Such Role") {
		t.Errorf("exit %d, stdout %q, stderr:\n%s", code, out, stderr)
	}
}
