package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
