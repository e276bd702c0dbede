package connlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestNamesStop: a names log whose reading is stopped (Names.Stop) ends at
// its next 1,024th line with ErrStopped, and ReadFile hashes none of the
// rest of it: a command that failed meanwhile does not wait for a day's
// ssl.log to be read and hashed.
func TestNamesStop(t *testing.T) {
	var b strings.Builder
	b.WriteString(sslHeader)
	const lines = 10000
	for i := range lines {
		fmt.Fprintf(&b, "1.0\tC%07d\t192.0.2.1\t40000\t198.51.100.1\t443\tTLSv13\t-\thost%d.example.com\tT\n", i, i)
	}
	path := filepath.Join(t.TempDir(), "ssl.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	n := &Names{}
	if err := n.ReadFile(path); err != nil || n.Len() != lines || n.SHA256[0] == "" {
		t.Fatalf("not stopped: %d names, sha256 %q, %v", n.Len(), n.SHA256[0], err)
	}
	var stop atomic.Bool
	stop.Store(true)
	n = &Names{Stop: &stop}
	err := n.ReadFile(path)
	if !errors.Is(err, ErrStopped) || n.Len() >= 1024 || n.SHA256[0] != "" {
		t.Errorf("stopped: %d names, sha256 %q, %v", n.Len(), n.SHA256[0], err)
	}
}
