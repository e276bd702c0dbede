package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/capturetest"
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
