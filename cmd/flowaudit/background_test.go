package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
)

// TestAnalyzeErrorOrder: analyze reads the captures in the background
// while it loads the inventory and waivers (without --catalog), yet its
// errors come in the order they always did, the same as with --catalog
// (read after them): the inventory's or the waivers' before a refused
// or missing capture; a capture's when they are good.
func TestAnalyzeErrorOrder(t *testing.T) {
	dir := t.TempDir()
	badInv := filepath.Join(dir, "inv.yaml")
	if err := os.WriteFile(badInv, []byte("hosts:\n  - name: a\n    addresses: [192.0.2.1]\n    roles: [\"No Such Role\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badWaivers := filepath.Join(dir, "waivers.yaml")
	if err := os.WriteFile(badWaivers, []byte("waivers:\n  - bogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sampleRoot)
	inv := "testdata/samples/horizon/inventory.yaml"
	pilot := "testdata/samples/horizon/pilot.pcapng"
	missing := filepath.Join(dir, "none.pcap")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in the first line of stderr
	}{
		{"bad inventory, stdin twice", []string{"-i", badInv, "-", "-"}, exitError, `unknown role "No Such Role"`},
		{"stdin twice", []string{"-i", inv, "-", "-"}, exitUsage, "standard input (-) is given more than once"},
		{"bad inventory, missing capture", []string{"-i", badInv, missing}, exitError, `unknown role "No Such Role"`},
		{"bad inventory, capture then missing", []string{"-i", badInv, pilot, missing}, exitError, `unknown role "No Such Role"`},
		{"bad waivers, missing capture", []string{"-i", inv, "--waivers", badWaivers, missing}, exitError, `unknown field "bogus"`},
		{"missing capture", []string{"-i", inv, missing}, exitError, "no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, extra := range [][]string{nil, {"--catalog", "testdata/samples/horizon/site-rules.yaml"}} {
				args := append(append([]string{"analyze"}, extra...), tc.args...)
				code, out, stderr := analyzeCmd(t, args...)
				first, _, _ := strings.Cut(stderr, "\n")
				if code != tc.code || out != "" || !strings.Contains(first, tc.want) {
					t.Errorf("%v: exit %d, stdout %q, stderr:\n%s\nwant exit %d and %q", args, code, out, stderr, tc.code, tc.want)
				}
			}
		})
	}
}

// TestCancelDrawsNothing: a read in the background given up (the
// inventory failed) draws no progress bar, not even after it read files
// large enough for one: the bar would say "done" of a read that was not.
func TestCancelDrawsNothing(t *testing.T) {
	defer func(old int64) { progressMinSize = old }(progressMinSize)
	progressMinSize = 0
	path := writeScanPart(t, t.TempDir(), "scan.pcap", pcapgen.Scan{Seed: 1, Hosts: 2000}, pcapgen.WriteOptions{})
	var stderr bytes.Buffer
	getenv := func(k string) string {
		if k == "GOMEMLIMIT" {
			return "off" // leave the test process's limit alone
		}
		return ""
	}
	e := &env{stderr: &stderr, stderrTTY: true, getenv: getenv}
	p, err := e.startCaptures([]string{path}, nil, captureFlags{}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	<-p.done // read to its end: its bar has something to draw
	if p.prog == nil || len(p.prog.trackers) == 0 {
		t.Fatal("no progress was recorded")
	}
	p.cancel()
	if stderr.Len() > 0 {
		t.Errorf("a cancelled read drew on stderr:\n%q", stderr.String())
	}
}

// TestAnalyzeLeaksNothing: analyze run again and again in one process,
// in every way that takes the early digest, the background read and the
// shared map through another path (a read given up, a Zeek name log or a
// conn.log first, a missing capture after it, --parallel, a capture
// given twice, --catalog), leaves no descriptor open and no capture
// mapped once it returned and the digests it gave up have stopped.
func TestAnalyzeLeaksNothing(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts /proc/self/fd and /proc/self/maps")
	}
	dir := t.TempDir()
	badInv := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badInv, []byte("hosts:\n  - name: a\n    addresses: [192.0.2.1]\n    roles: [\"No Such Role\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ssl := filepath.Join(dir, "ssl.log")
	if err := os.WriteFile(ssl, []byte("#separator \\x09\n#path\tssl\n#fields\tts\tuid\tserver_name\n#types\ttime\tstring\tstring\n1.0\tCabc\texample.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Large enough (several map windows) that a digest given up is still
	// running when the command returns.
	big := writeScanPart(t, dir, "scan.pcap", pcapgen.Scan{Seed: 1, Hosts: 12000}, pcapgen.WriteOptions{})
	t.Chdir(sampleRoot)
	inv := "testdata/samples/horizon/inventory.yaml"
	pilot := "testdata/samples/horizon/pilot.pcapng"
	connLog := filepath.Join(dir, "conn.log")
	code, out, stderr := analyzeCmd(t, "flows", "--format", "zeek", pilot)
	if code != exitOK {
		t.Fatalf("flows: exit %d: %s", code, stderr)
	}
	if err := os.WriteFile(connLog, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := [][]string{
		{"-i", inv, pilot},
		{"-i", badInv, big},
		{"-i", inv, ssl, pilot},
		{"-i", inv, connLog, pilot},
		{"-i", inv, big, filepath.Join(dir, "none.pcap")},
		{"-i", inv, "--parallel", big, pilot},
		{"-i", inv, pilot, pilot},
		{"-i", inv, "--catalog", "testdata/samples/horizon/site-rules.yaml", big},
	}
	open := func() (fds, maps int) {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		m, err := os.ReadFile("/proc/self/maps")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(m), "\n") {
			if strings.Contains(l, dir) || strings.Contains(l, "pilot.pcapng") {
				maps++
			}
		}
		return len(ents), maps
	}
	analyzeAll := func() {
		for _, args := range runs {
			if code, _, stderr := analyzeCmd(t, append([]string{"analyze", "--reproducible", "-f", "json"}, args...)...); code == exitUsage {
				t.Fatalf("%v: %s", args, stderr)
			}
		}
	}
	analyzeAll() // whatever is opened once and kept (the catalog, say)
	settle := func(wantFDs int) (fds, maps int) {
		for range 100 { // digests given up stop at their next window
			if fds, maps = open(); fds <= wantFDs && maps == 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		return fds, maps
	}
	fds0, _ := settle(0)
	for range 3 {
		analyzeAll()
	}
	if fds, maps := settle(fds0); fds > fds0 || maps > 0 {
		t.Errorf("after %d more runs: %d descriptors open (%d before), %d mappings of the captures", 3*len(runs), fds, fds0, maps)
	}
}

// TestAnalyzeStdinNotWaitedOn: a bad inventory is said at once, as it
// always was, when the capture comes from standard input (a live
// tcpdump -w -) that brings nothing more for now: the read is not begun
// before the inventory loads, so nothing waits for packets that may
// never come.
func TestAnalyzeStdinNotWaitedOn(t *testing.T) {
	dir := t.TempDir()
	badInv := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badInv, []byte("hosts:\n  - name: a\n    addresses: [192.0.2.1]\n    roles: [\"No Such Role\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(sampleRoot, "testdata", "samples", "horizon", "pilot.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write(data[:4096]) // the header and a few packets, then nothing
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		code := run([]string{"analyze", "-i", badInv, "-"}, pr, &out, &errb)
		done <- result{code, out.String(), errb.String()}
	}()
	select {
	case r := <-done:
		if r.code != exitError || r.stdout != "" || !strings.Contains(r.stderr, `unknown role "No Such Role"`) {
			t.Errorf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
		}
	case <-time.After(20 * time.Second):
		pw.Close() // end the test's read
		t.Fatal("a bad inventory waits for standard input to end")
	}
}
