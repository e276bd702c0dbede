package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/report"
)

// fuzzInventory is a tiny inventory for FuzzAnalyze: two hosts of the
// built-in catalog's RAS roles, addresses the seeds use.
const fuzzInventory = `hosts:
  - {name: ras-cb01, addresses: [192.0.2.41], roles: [RAS Connection Broker]}
  - {name: ras-sg01, addresses: [192.0.2.45, 10.0.0.2], roles: [RAS Secure Gateway (Normal mode)]}
  - {name: clients, addresses: [10.0.0.0/24, 198.51.100.0/24], roles: [Parallels Client]}
`

// FuzzAnalyze drives the whole pipeline: capture bytes on standard input
// to analyze's JSON report with a tiny inventory. Whatever the bytes, it
// never panics; it exits 0 or 3 with a JSON report that reads back, or 1
// with an error on stderr (and, when part of the capture was read, the
// report of that part); and the same bytes give the same report.
func FuzzAnalyze(f *testing.F) {
	for _, pattern := range []string{"../../testdata/flowcases/conn-*.pcap", "../../testdata/captures/*.pcap"} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil && len(b) <= 8<<10 {
				f.Add(b)
				f.Add(b[:len(b)*2/3]) // cut short
			}
		}
	}
	f.Add([]byte{})
	f.Add([]byte("not a capture"))
	inv := filepath.Join(f.TempDir(), "inventory.yaml")
	if err := os.WriteFile(inv, []byte(fuzzInventory), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		analyze := func() (int, []byte, string) {
			var out, errb bytes.Buffer
			code := run([]string{"analyze", "-i", inv, "-f", "json", "--reproducible", "-"}, bytes.NewReader(data), &out, &errb)
			return code, out.Bytes(), errb.String()
		}
		code, out, errOut := analyze()
		switch code {
		case exitOK, exitFindings:
			if _, err := report.ReadDocument("stdout", bytes.NewReader(out)); err != nil {
				t.Fatalf("exit %d with a report that does not read back: %v\n%s", code, err, out)
			}
		case exitError:
			if errOut == "" {
				t.Fatal("exit 1 without a message")
			}
			if len(out) > 0 {
				if _, err := report.ReadDocument("stdout", bytes.NewReader(out)); err != nil {
					t.Fatalf("the report of what was read does not read back: %v", err)
				}
			}
		default:
			t.Fatalf("exit %d (stderr %q)", code, errOut)
		}
		code2, out2, _ := analyze()
		if code2 != code || !bytes.Equal(out, out2) {
			t.Fatalf("two runs differ: exit %d then %d", code, code2)
		}
	})
}
