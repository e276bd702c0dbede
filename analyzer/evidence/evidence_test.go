package evidence

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/report"
)

// bundleName accepts only the names a bundle's files can have.
func TestBundleName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"report.json", true},
		{"report.txt", true},
		{"findings/001-undocumented-192.0.2.1-192.0.2.20-tcp-8443.pcapng", true},
		{"inputs/inventory-inv.yaml", true},
		{"SHA256SUMS", false},
		{"notes.txt", false},
		{"../report.json", false},
		{"findings/../../etc/passwd", false},
		{"/etc/passwd", false},
		{"findings/", false},
		{"findings/sub/x.pcapng", false},
		{"inputs\\x", false},
		{"./report.json", false},
	}
	for _, tt := range tests {
		if got := bundleName(tt.name); got != tt.want {
			t.Errorf("bundleName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// Open takes a new, empty or bundle directory and refuses anything else.
func TestOpen(t *testing.T) {
	const sum = "0000000000000000000000000000000000000000000000000000000000000000"
	tests := []struct {
		name  string
		files map[string]string // name → content; nil: the directory does not exist
		err   string            // "" when accepted
		old   []string
	}{
		{"new", nil, "", nil},
		{"empty", map[string]string{}, "", nil},
		{"bundle", map[string]string{"SHA256SUMS": sum + "  report.json\n" + sum + "  findings/a.pcapng\n"}, "", []string{"report.json", "findings/a.pcapng"}},
		{"foreign", map[string]string{"notes.txt": "x"}, "no SHA256SUMS", nil},
		{"no report", map[string]string{"SHA256SUMS": sum + "  inputs/x\n"}, "lists no report.json", nil},
		{"escaping name", map[string]string{"SHA256SUMS": sum + "  report.json\n" + sum + "  ../x\n"}, "SHA256SUMS:2 is not a line flowaudit writes", nil},
		{"not sha256sum", map[string]string{"SHA256SUMS": "report.json\n"}, "SHA256SUMS:1 is not a line", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ev")
			if tt.files != nil {
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for n, c := range tt.files {
					if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			d, err := Open(dir)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "evidence: ") {
					t.Fatalf("Open: %v, want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d.old, tt.old) {
				t.Errorf("old = %q, want %q", d.old, tt.old)
			}
		})
	}
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(f); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Open(a file): %v", err)
	}
}

// fileName names a finding's pcap by number, kind, addresses, protocol and
// port, with nothing a file system could take as a separator.
func TestFileName(t *testing.T) {
	flow := func(status audit.Status, blocked bool, client, server string, proto uint8, port uint16) *audit.Flow {
		return &audit.Flow{Status: status, Blocked: blocked, Service: &audit.Service{Client: netip.MustParseAddr(client), Server: netip.MustParseAddr(server), Proto: proto, Port: port}}
	}
	tests := []struct {
		n    int
		f    *audit.Flow
		want string
	}{
		{3, flow(audit.Undocumented, false, "192.0.2.1", "192.0.2.20", 6, 8443), "003-undocumented-192.0.2.1-192.0.2.20-tcp-8443.pcapng"},
		{12, flow(audit.Documented, true, "::ffff:192.0.2.1", "192.0.2.20", 17, 4172), "012-blocked-192.0.2.1-192.0.2.20-udp-4172.pcapng"},
		{1, flow(audit.Undocumented, false, "2001:db8::1", "2001:db8::2", 6, 443), "001-undocumented-2001_db8__1-2001_db8__2-tcp-443.pcapng"},
	}
	for _, tt := range tests {
		if got := fileName(tt.n, tt.f); got != tt.want {
			t.Errorf("fileName(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// Inputs names each input file under inputs/, catalogs and Zeek name logs
// numbered in order.
func TestInputs(t *testing.T) {
	got := Inputs("site/inv.yaml", "", []string{"a/cat.yaml", "b/cat.yaml"},
		[]report.NameLog{{Path: "z/ssl.log", SHA256: "aa"}, {Path: "y/ssl.log", SHA256: "bb"}, {Path: "z/http.log.gz", SHA256: "cc"}})
	want := map[string]string{
		"inputs/inventory-inv.yaml":  "site/inv.yaml",
		"inputs/catalog-1-cat.yaml":  "a/cat.yaml",
		"inputs/catalog-2-cat.yaml":  "b/cat.yaml",
		"inputs/names-1-ssl.log":     "z/ssl.log",
		"inputs/names-2-ssl.log":     "y/ssl.log",
		"inputs/names-3-http.log.gz": "z/http.log.gz",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Inputs = %v, want %v", got, want)
	}
}

// TestWriteNameLogs: a Zeek name log is copied as a stream, byte for byte,
// with its line in SHA256SUMS; one whose bytes are no longer those the
// report cites is refused, not copied as if it were.
func TestWriteNameLogs(t *testing.T) {
	src := filepath.Join(t.TempDir(), "ssl.log")
	data := []byte("#separator \\x09\n#path\tssl\n#fields\tuid\tserver_name\nCAbc1234567890abcd\ta.example\n")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(data)
	sum := hex.EncodeToString(h[:])
	for _, tc := range []struct {
		name, cited, wantErr string
	}{
		{"as read", sum, ""},
		{"changed", strings.Repeat("0", 64), "changed since it was read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "bundle")
			d, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			rep := &report.Report{Tool: "flowaudit", Result: &audit.Result{}, NameLogs: []report.NameLog{{Path: src, SHA256: tc.cited}}}
			err = d.Write(rep, nil, Kept{}, Inputs("", "", nil, rep.NameLogs))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Write: %v, want %q", err, tc.wantErr)
				}
				// Nothing written: no report, no copy of another file.
				for _, n := range []string{"report.json", "inputs/names-1-ssl.log", "SHA256SUMS"} {
					if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(n))); err == nil {
						t.Errorf("%s written", n)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(dir, "inputs", "names-1-ssl.log"))
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("copy: %v, %q", err, got)
			}
			sums, _ := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
			if !strings.Contains(string(sums), sum+"  inputs/names-1-ssl.log\n") {
				t.Errorf("SHA256SUMS:\n%s", sums)
			}
		})
	}
}
