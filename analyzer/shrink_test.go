package analyzer

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/capture"
	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
)

// TestShrinkWhileRead: a capture that shrinks while it is read (a
// copytruncate rotation) is damaged, an error naming where, not a file
// cut short in its last record (a warning): the records it held past the
// cut were never analysed. So with its digest begun early or by Run.
func TestShrinkWhileRead(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("files are memory-mapped on Linux only")
	}
	src := filepath.Join(t.TempDir(), "mix.pcap")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (pcapgen.Mix{Seed: 2, Flows: 2000}).Write(f, pcapgen.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 1<<20 {
		t.Fatalf("only %d bytes", len(data))
	}
	for _, early := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "shrinking.pcap")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		opts := Options{}
		if early {
			opts.Early = StartEarly(path, false)
		}
		cut := false
		opts.OnConnection = func(*flow.Connection) {
			if !cut {
				cut = true
				if err := os.Truncate(path, int64(len(data)/4)); err != nil {
					t.Error(err)
				}
			}
		}
		res, err := Run([]string{path}, opts)
		if !cut {
			t.Fatal("no connection ended while the file was read")
		}
		if len(res.Captures) != 1 {
			t.Fatalf("%d captures", len(res.Captures))
		}
		c := res.Captures[0]
		if err == nil || !errors.Is(err, capture.ErrTruncated) || !strings.Contains(err.Error(), "shrank while it was being read (at offset") {
			t.Errorf("early %v: error %v", early, err)
		}
		if c.Status != StatusDamaged || c.Complete || c.Packets == 0 {
			t.Errorf("early %v: status %s, complete %v, %d packets; %v", early, c.Status, c.Complete, c.Packets, c.Err)
		}
	}
}
