package main

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// update is accepted so that `go test ./... -update`, which refreshes the
// golden files of other packages, runs here too; this package has none.
var _ = flag.Bool("update", false, "rewrite golden files (none in this package)")

func TestRun(t *testing.T) {
	dir := t.TempDir()
	bench := filepath.Join(dir, "b.pcapng")
	tests := []struct {
		name string
		args []string
		code int
		out  string // regexp the output must match
	}{
		{"no kind", nil, 2, `usage: pcapgen`},
		{"unknown kind", []string{"-kind", "nope"}, 2, `usage: pcapgen`},
		{"stray argument", []string{"-kind", "bench", "x"}, 2, `unexpected argument "x"`},
		{"flowcases", []string{"-kind", "flowcases", "-o", filepath.Join(dir, "fc")}, 0, `wrote 19 captures and README.md`},
		{"samples", []string{"-kind", "samples", "-o", filepath.Join(dir, "samples")}, 0, `wrote 5 sample captures to `},
		{"read sample", []string{"read", filepath.Join(dir, "samples", "ras", "pilot.pcapng")}, 0, `ras/pilot.pcapng: \d+ packets`},
		{"generate-all", []string{"-kind", "generate-all", "-o", filepath.Join(dir, "all")}, 0, `regenerated \d+ files under `},
		{"read generated sample", []string{"read", filepath.Join(dir, "all", "samples", "lync", "pilot.pcapng")}, 0, `lync/pilot.pcapng: \d+ packets`},
		{"bench", []string{"-kind", "bench", "-flows", "300", "-format", "pcapng", "-o", bench}, 0, `: \d+ packets, 300 flows, `},
		{"bad format", []string{"-kind", "bench", "-format", "erf", "-o", bench + "x"}, 1, `unknown format "erf"`},
		{"read", []string{"read", filepath.Join(dir, "fc", "conn-SF.pcap"), filepath.Join(dir, "fc", "conn-REJ.pcap")}, 0, `conn-SF.pcap: 36 packets, .*\n.*conn-REJ.pcap: 2 packets`},
		{"read missing", []string{"read", filepath.Join(dir, "none.pcap")}, 1, `none.pcap: after 0 packets: open`},
		{"read nothing", []string{"read"}, 2, `usage: pcapgen read`},
		{"sha256", []string{"sha256", filepath.Join(dir, "fc", "conn-SF.pcap")}, 0, `^[0-9a-f]{64}  .*conn-SF.pcap: \d+ bytes hashed in `},
		{"sha256 missing", []string{"sha256", filepath.Join(dir, "none.pcap")}, 1, `none.pcap: no such file`},
		{"sha256 nothing", []string{"sha256"}, 2, `usage: pcapgen sha256`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(tc.args, &out, &out)
			if code != tc.code {
				t.Errorf("exit %d, want %d; output:\n%s", code, tc.code, out.String())
			}
			if !regexp.MustCompile(tc.out).MatchString(out.String()) {
				t.Errorf("output does not match %q:\n%s", tc.out, out.String())
			}
		})
	}
	// the bench capture is readable and read counts what bench wrote
	var out bytes.Buffer
	if run([]string{"read", bench}, &out, &out) != 0 {
		t.Fatalf("read %s: %s", bench, out.String())
	}
	if n := regexp.MustCompile(`: (\d+) packets`).FindStringSubmatch(out.String()); n == nil || n[1] == "0" {
		t.Errorf("read found no packets: %s", out.String())
	}
	// sha256 prints sha256sum's digest of the bench capture
	out.Reset()
	if run([]string{"sha256", bench}, &out, &out) != 0 {
		t.Fatalf("sha256 %s: %s", bench, out.String())
	}
	data, err := os.ReadFile(bench)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%x  %s: %d bytes hashed in ", sha256.Sum256(data), bench, len(data)); !strings.HasPrefix(out.String(), want) {
		t.Errorf("sha256: %s\nwant %s...", out.String(), want)
	}
	readme, err := os.ReadFile(filepath.Join(dir, "fc", "README.md"))
	if err != nil || !strings.Contains(string(readme), "| conn-REJ.pcap |") {
		t.Errorf("README.md missing or without conn-REJ.pcap: %v", err)
	}
}
