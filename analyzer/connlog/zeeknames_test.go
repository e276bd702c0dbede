package connlog

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/flow"
)

const sslHeader = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tssl\n" +
	"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tcipher\tserver_name\testablished\n" +
	"#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tbool\n"

func conn(uid string) *flow.Connection {
	u, _ := flow.ParseUID([]byte(uid))
	return &flow.Connection{UID: u, Orig: netip.MustParseAddr("192.0.2.1")}
}

// TestNamesRead: ssl.log (TSV and JSON) server_name and http.log host
// name connections by uid, cleaned as a capture's SNI and Host (lower
// case, no :port, no trailing dot, address literals not names); SNI wins
// over Host for one uid; a connection with a name of its own keeps it.
func TestNamesRead(t *testing.T) {
	var n Names
	ssl := sslHeader +
		"1.0\tCssl1\t192.0.2.1\t1\t192.0.2.2\t443\tTLSv13\t-\tOCSP.DigiCert.com.\tT\n" +
		"1.0\tCssl2\t192.0.2.1\t2\t192.0.2.2\t443\tTLSv13\t-\t-\tT\n" + // no SNI
		"1.0\tCboth\t192.0.2.1\t3\t192.0.2.2\t443\tTLSv13\t-\tsni.example\tT\n"
	http := `{"ts":1.0,"uid":"Chttp1","id.orig_h":"192.0.2.1","id.orig_p":4,"id.resp_h":"192.0.2.3","id.resp_p":80,"trans_depth":1,"method":"GET","host":"www.Example.com:8080","uri":"/"}` + "\n" +
		`{"ts":1.0,"uid":"Chttp2","id.orig_h":"192.0.2.1","id.orig_p":5,"id.resp_h":"192.0.2.3","id.resp_p":80,"trans_depth":1,"method":"GET","host":"192.0.2.3","uri":"/"}` + "\n" +
		`{"ts":1.0,"uid":"Cboth","id.orig_h":"192.0.2.1","id.orig_p":3,"id.resp_h":"192.0.2.2","id.resp_p":443,"trans_depth":1,"method":"GET","host":"host.example","uri":"/"}` + "\n" +
		`{"ts":1.0,"uid":"Cnohost","id.orig_h":"192.0.2.1","id.orig_p":6,"id.resp_h":"192.0.2.3","id.resp_p":80,"trans_depth":1,"method":"GET","uri":"/"}` + "\n"
	if err := n.Read("ssl.log", strings.NewReader(ssl)); err != nil {
		t.Fatal(err)
	}
	if err := n.Read("http.log", strings.NewReader(http)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		uid, name string
		src       flow.NameSource
	}{
		{"Cssl1", "ocsp.digicert.com", flow.NameSNI}, {"Cssl2", "", flow.NameNone}, {"Cboth", "sni.example", flow.NameSNI},
		{"Chttp1", "www.example.com", flow.NameHTTPHost}, {"Chttp2", "", flow.NameNone}, {"Cnohost", "", flow.NameNone}, {"Cother", "", flow.NameNone},
	} {
		c := conn(tt.uid)
		n.Name(c)
		if c.ServerName != tt.name || c.NameSource != tt.src {
			t.Errorf("%s: %q (%v), want %q (%v)", tt.uid, c.ServerName, c.NameSource, tt.name, tt.src)
		}
	}
	c := conn("Cssl1")
	c.ServerName, c.NameSource = "own.example", flow.NameSNI
	if n.Name(c); c.ServerName != "own.example" {
		t.Errorf("a connection's own name replaced by %q", c.ServerName)
	}
	var none flow.Connection
	if n.Name(&none); none.ServerName != "" {
		t.Errorf("a connection without uid named %q", none.ServerName)
	}
	if n.Len() != 3 || !slices.Equal(n.Files, []string{"ssl.log", "http.log"}) {
		t.Errorf("%d uids, files %v", n.Len(), n.Files)
	}
}

// TestNamesBound: past Max uids names are counted, not kept; a uid
// already kept still takes a stronger name.
func TestNamesBound(t *testing.T) {
	n := Names{Max: 2}
	var b strings.Builder
	b.WriteString(sslHeader)
	for _, u := range []string{"C1", "C2", "C3", "C4"} {
		b.WriteString("1.0\t" + u + "\t192.0.2.1\t1\t192.0.2.2\t443\tTLSv13\t-\t" + u + ".example\tT\n")
	}
	if err := n.Read("ssl.log", strings.NewReader(b.String())); err != nil {
		t.Fatal(err)
	}
	if n.Len() != 2 || n.Overflow != 2 {
		t.Errorf("%d kept, %d overflow; want 2, 2", n.Len(), n.Overflow)
	}
}

// TestNamesErrors: a bad line stops the log with its file and line; the
// names before it are kept.
func TestNamesErrors(t *testing.T) {
	good := "1.0\tC1\t192.0.2.1\t1\t192.0.2.2\t443\tTLSv13\t-\ta.example\tT\n"
	for _, tt := range []struct{ name, log, want string }{
		{"bad uid", sslHeader + good + "1.0\tC-2\t192.0.2.1\t1\t192.0.2.2\t443\tTLSv13\t-\tb.example\tT\n", `ssl.log:9: uid "C-2": not a zeek uid`},
		{"columns", sslHeader + good + "1.0\tC2\t192.0.2.1\n", "ssl.log:9: 3 columns, the #fields header names 10"},
		{"another log", "#separator \\x09\n#path\tdns\n", "ssl.log:2: #path dns: not an ssl.log or http.log"},
		{"no name column", "#separator \\x09\n#path\tssl\n#fields\tts\tuid\n", "ssl.log:3: #fields: no uid or server_name column"},
		{"data first", good, "ssl.log:1: a data line before any #fields header"},
		{"json", `{"ts":1,"uid":"C1","server_name":"a.example"}` + "\n" + `{"ts":1,"server_name":"b.example"}` + "\n", "ssl.log:2: no uid"},
		{"json broken", `{"ts":1,"uid":"C1","server_name":"a.example"}` + "\n{\"uid\":\n", "ssl.log:2: not a JSON ssl.log or http.log object"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var n Names
			err := n.Read("ssl.log", strings.NewReader(tt.log))
			var e *Error
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &e) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if tt.name != "another log" && tt.name != "no name column" && tt.name != "data first" {
				c := conn("C1")
				if n.Name(c); c.ServerName != "a.example" {
					t.Errorf("the name before the error lost: %q", c.ServerName)
				}
			}
		})
	}
}

// TestNameLogFiles: logs are recognised by content (#path, JSON keys),
// also compressed; ssl and http logs beside a conn.log are found by Zeek's
// names, rotated ones too, and a directory of logs does not take them for
// conn.logs.
func TestNameLogFiles(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	for _, tt := range []struct {
		head []byte
		want string
	}{
		{[]byte(sslHeader), "ssl"}, {gz(sslHeader), "ssl"},
		{[]byte("#separator \\x09\n#path\thttp\n"), "http"},
		{[]byte(`{"ts":1,"uid":"C1","id.orig_h":"192.0.2.1","server_name":"a"}`), "ssl"},
		{[]byte(`{"ts":1,"uid":"C1","id.orig_h":"192.0.2.1","trans_depth":1,"method":"GET"}`), "http"},
		{[]byte(`{"ts":1,"uid":"C1","id.orig_h":"192.0.2.1","proto":"tcp"}`), ""},
		{[]byte("#separator \\x09\n#path\tconn\n"), ""},
	} {
		if got := NameLogKind(tt.head); got != tt.want {
			t.Errorf("NameLogKind(%.40q) = %q, want %q", tt.head, got, tt.want)
		}
	}
	dir := t.TempDir()
	for _, f := range []string{"conn.log", "ssl.log", "http.log", "ssl.10:00:00-11:00:00.log.gz", "http.2026-11-29-10-00-00.log", "sslx.log", "dns.log"} {
		data := "#separator \\x09\n#path\t" + strings.SplitN(f, ".", 2)[0] + "\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n"
		if err := os.WriteFile(filepath.Join(dir, f), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := NameLogsBeside(filepath.Join(dir, "conn.log"))
	for i := range got {
		got[i] = filepath.Base(got[i])
	}
	if want := []string{"http.2026-11-29-10-00-00.log", "http.log", "ssl.10:00:00-11:00:00.log.gz", "ssl.log"}; !slices.Equal(got, want) {
		t.Errorf("beside: %v, want %v", got, want)
	}
	files, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if IsNameLogName(filepath.Base(f)) {
			t.Errorf("Files took %s for a conn.log", f)
		}
	}
}

// TestNamesReadFileSHA256: ReadFile hashes each log's whole bytes as
// stored (gzip-compressed or not), even where its names stop at an error,
// so the report can cite the file it read; Read, of a stream, leaves "".
func TestNamesReadFileSHA256(t *testing.T) {
	dir := t.TempDir()
	good := "#separator \\x09\n#path\tssl\n#fields\tuid\tserver_name\nCAbc1234567890abcd\ta.example\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(good))
	zw.Close()
	bad := good + "CAbc1234567890abce\n" + strings.Repeat("#x\n", 30000) // an error, then 90 KB more
	tests := []struct {
		name    string
		data    []byte
		wantErr bool
	}{
		{"ssl.log", []byte(good), false},
		{"ssl.log.gz", gz.Bytes(), false},
		{"bad-ssl.log", []byte(bad), true},
	}
	var n Names
	for _, tt := range tests {
		p := filepath.Join(dir, tt.name)
		if err := os.WriteFile(p, tt.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := n.ReadFile(p); (err != nil) != tt.wantErr {
			t.Errorf("%s: error %v, want one: %v", tt.name, err, tt.wantErr)
		}
	}
	if len(n.Files) != len(tests) || len(n.SHA256) != len(tests) {
		t.Fatalf("files %q, sums %q", n.Files, n.SHA256)
	}
	for i, tt := range tests {
		h := sha256.Sum256(tt.data)
		if n.SHA256[i] != hex.EncodeToString(h[:]) {
			t.Errorf("%s: sha256 %s, want %x", tt.name, n.SHA256[i], h)
		}
	}
	var s Names
	if err := s.Read("-", strings.NewReader(good)); err != nil || len(s.SHA256) != 1 || s.SHA256[0] != "" {
		t.Errorf("Read: %v, sums %q", err, s.SHA256)
	}
}
