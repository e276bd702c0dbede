package report

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/diff"
)

// FuzzReadDocument: any bytes read as a JSON report give a document or an
// error naming the file, never a panic; an accepted document compared
// with itself changes nothing, and its diff renders in every format.
func FuzzReadDocument(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "report.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add([]byte(`{"tool": "flowaudit", "flows": [{"client": "192.0.2.1", "server": "192.0.2.2", "proto": "tcp", "port": 443, "status": "documented", "outcome": "rejected", "blocked": true}]}`))
	f.Add([]byte(`{"tool": "flowaudit", "missing": [{"rule": "r", "proto": "udp", "ports": [[1, 2], [5, 5]], "clients": [], "servers": ["h"], "waiver": {"ticket": "t", "expired": true}}]}`))
	f.Add([]byte(`{"tool": "flowaudit", "flows": [{"proto": "vrrp", "port": null, "status": "undocumented"}, {"proto": "vrrp", "port": null, "status": "waived", "waiver": {"ticket": "x"}}]}`))
	f.Add([]byte(`{"tool": "flowaudit", "inventory": null, "captures": null, "flows": null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ReadDocument("fuzz.json", bytes.NewReader(data))
		if err != nil {
			if !bytes.HasPrefix([]byte(err.Error()), []byte("fuzz.json: ")) {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		r := diff.Compare(d.DiffReport("a"), d.DiffReport("b"))
		for _, c := range []string{diff.Fixed, diff.Regressed, diff.Changed} {
			if n := r.Count(c); n != 0 {
				t.Fatalf("a report against itself: %d %s: %+v", n, c, r.Changes)
			}
		}
		dr := &Diff{Tool: "flowaudit", Version: "fuzz", Result: r, FailOn: DiffKinds}
		for _, write := range []func(io.Writer) error{
			func(w io.Writer) error { return dr.Text(w, TextOptions{}) }, dr.Markdown, dr.JSON, dr.HTML,
		} {
			if err := write(io.Discard); err != nil {
				t.Fatal(err)
			}
		}
	})
}
