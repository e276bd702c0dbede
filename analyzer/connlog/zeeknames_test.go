package connlog

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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
		{"another log", "#separator \\x09\n#path\tconn\n", "ssl.log:2: #path conn: not an ssl.log, http.log or dns.log"},
		{"no name column", "#separator \\x09\n#path\tssl\n#fields\tts\tuid\n", "ssl.log:3: #fields: no uid or server_name column"},
		{"data first", good, "ssl.log:1: a data line before any #fields header"},
		{"json", `{"ts":1,"uid":"C1","server_name":"a.example"}` + "\n" + `{"ts":1,"server_name":"b.example"}` + "\n", "ssl.log:2: no uid"},
		{"json broken", `{"ts":1,"uid":"C1","server_name":"a.example"}` + "\n{\"uid\":\n", "ssl.log:2: not a JSON ssl.log, http.log or dns.log object"},
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
		{[]byte(dnsHeader), "dns"}, {gz(dnsHeader), "dns"},
		{[]byte(`{"ts":1,"uid":"C1","id.orig_h":"192.0.2.1","id.resp_p":53,"proto":"udp","trans_id":1,"query":"a.example"}`), "dns"},
		{[]byte(`{"ts":1,"uid":"C1","id.orig_h":"192.0.2.1","proto":"udp","service":"dns"}`), ""},
		// Another #separator splits #path from its value too (it was
		// taken for "|dns": the log beside a conn.log skipped, one given
		// read as a conn.log).
		{[]byte("#separator \\x7c\n#set_separator|;\n#path|dns\n#fields|ts|id.orig_h|query|answers\n"), "dns"},
		{gz("#separator \\x2c\n#path,ssl\n"), "ssl"}, {[]byte("#separator \\x20\r\n#path http\r\n"), "http"},
		{[]byte("#separator \\x7c\n#path|conn\n"), ""},
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
	if want := []string{"dns.log", "http.2026-11-29-10-00-00.log", "http.log", "ssl.10:00:00-11:00:00.log.gz", "ssl.log"}; !slices.Equal(got, want) {
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

const dnsHeader = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#open\t2024-03-04-09-00-00\n" +
	"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected\n" +
	"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool\n"

// dnsConn is a connection of client to server starting at sec.
func dnsConn(client, server string, sec float64) *flow.Connection {
	whole := math.Floor(sec)
	return &flow.Connection{Orig: netip.MustParseAddr(client), Resp: netip.MustParseAddr(server), Start: time.Unix(int64(whole), int64(math.Round((sec-whole)*1e9)))}
}

// TestNamesDNS: a dns.log (TSV and JSON) names addresses as a capture's
// DNS answers do: each A or AAAA answer with the query, the head of the
// CNAME chain the answers hold (names and other records are no address);
// at the response's time (ts + rtt); only responses from port 53 (mDNS,
// LLMNR, NetBIOS are not read, as in a capture) of class IN; the
// connection's own client first, then any other (dns (other client)).
func TestNamesDNS(t *testing.T) {
	tsv := dnsHeader +
		// A CNAME chain: both addresses are named by the query.
		"1709542800.000000\tCd1\t192.0.2.61\t50721\t192.0.2.5\t53\tudp\t1\t0.500000\tCRL3.DigiCert.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\tcrl3.cdn.example.net,203.0.113.81,203.0.113.82\t60.000000,60.000000,60.000000\tF\n" +
		// IPv6 over TCP.
		"1709542801.000000\tCd2\t2001:db8::62\t51278\t2001:db8::5\t53\ttcp\t2\t0.010000\tdl.cacerts.digicert.com\t1\tC_INTERNET\t28\tAAAA\t0\tNOERROR\tF\tF\tT\tT\t0\t2001:db8:d1::82\t300.000000\tF\n" +
		// mDNS, another class, NXDOMAIN, a PTR, a TXT, a query without reply: no address named.
		"1709542802.000000\tCd3\t192.0.2.61\t5353\t224.0.0.251\t5353\tudp\t0\t-\tprinter.local\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tT\tF\tF\tF\t0\t192.0.2.99\t120.000000\tF\n" +
		"1709542802.000000\tCd4\t192.0.2.61\t50730\t192.0.2.5\t53\tudp\t3\t0.001000\tversion.bind\t3\tC_CHAOS\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t192.0.2.98\t0.000000\tF\n" +
		"1709542802.000000\tCd5\t192.0.2.61\t50731\t192.0.2.5\t53\tudp\t4\t0.001000\tnone.example\t1\tC_INTERNET\t1\tA\t3\tNXDOMAIN\tF\tF\tT\tT\t0\t-\t-\tF\n" +
		"1709542802.000000\tCd6\t192.0.2.61\t50732\t192.0.2.5\t53\tudp\t5\t0.001000\t81.113.0.203.in-addr.arpa\t1\tC_INTERNET\t12\tPTR\t0\tNOERROR\tF\tF\tT\tT\t0\tcrl.example\t60.000000\tF\n" +
		"1709542802.000000\tCd7\t192.0.2.61\t50733\t192.0.2.5\t53\tudp\t6\t0.001000\ttxt.example\t1\tC_INTERNET\t16\tTXT\t0\tNOERROR\tF\tF\tT\tT\t0\tTXT 9 192.0.2.97\t60.000000\tF\n" +
		"1709542802.000000\tCd8\t192.0.2.61\t50734\t192.0.2.5\t53\tudp\t7\t-\tlost.example\t1\tC_INTERNET\t1\tA\t-\t-\tF\tF\tT\tF\t0\t-\t-\tF\n" +
		"#close\t2024-03-04-10-00-00\n"
	json := `{"ts":1709542803.0,"uid":"Cj1","id.orig_h":"192.0.2.62","id.orig_p":53631,"id.resp_h":"192.0.2.5","id.resp_p":53,"proto":"udp","trans_id":9,"rtt":0.25,"query":"ocsp.digicert.com","qclass":1,"qclass_name":"C_INTERNET","qtype":1,"qtype_name":"A","rcode":0,"rcode_name":"NOERROR","AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"answers":["ocsp.edge.example","203.0.113.80"],"TTLs":[30.0,30.0],"rejected":false}` + "\n" +
		`{"ts":"2024-03-04T09:00:04.000000Z","uid":"Cj2","id.orig_h":"192.0.2.62","id.orig_p":5355,"id.resp_h":"224.0.0.252","id.resp_p":5355,"proto":"udp","query":"wpad","answers":["192.0.2.96"],"rcode_name":"NOERROR"}` + "\n" +
		`{"ts":"2024-03-04T09:00:04.000000Z","uid":"Cj3","id.orig_h":"192.0.2.62","id.orig_p":53632,"id.resp_h":"192.0.2.5","id.resp_p":53,"proto":"udp","trans_id":10,"query":"iso.example","answers":["203.0.113.95"],"rcode_name":"NOERROR"}` + "\n"
	var n Names
	if err := n.Read("dns.log", strings.NewReader(tsv)); err != nil {
		t.Fatal(err)
	}
	if err := n.Read("dns.json", strings.NewReader(json)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(n.Kinds, []string{"dns", "dns"}) || n.DNS.Len() != 5 || n.DNSResponses != 8 || n.Len() != 0 {
		t.Errorf("kinds %q, %d answers, %d responses, %d uids; want dns dns, 5, 8, 0", n.Kinds, n.DNS.Len(), n.DNSResponses, n.Len())
	}
	for _, tc := range []struct {
		name        string
		c           *flow.Connection
		want        string
		src         flow.NameSource
		dontCompare bool
	}{
		{"cname chain, first address", dnsConn("192.0.2.61", "203.0.113.81", 1709542800.5), "crl3.digicert.com", flow.NameDNS, false},
		{"cname chain, second address", dnsConn("192.0.2.61", "203.0.113.82", 1709542810), "crl3.digicert.com", flow.NameDNS, false},
		{"before the response came (ts + rtt)", dnsConn("192.0.2.61", "203.0.113.81", 1709542800.4), "crl3.digicert.com", flow.NameDNSOther, false},
		{"another client", dnsConn("192.0.2.62", "203.0.113.81", 1709542810), "crl3.digicert.com", flow.NameDNSOther, false},
		{"aaaa over tcp", dnsConn("2001:db8::62", "2001:db8:d1::82", 1709542802), "dl.cacerts.digicert.com", flow.NameDNS, false},
		{"json", dnsConn("192.0.2.62", "203.0.113.80", 1709542803.25), "ocsp.digicert.com", flow.NameDNS, false},
		{"json iso8601 ts", dnsConn("192.0.2.62", "203.0.113.95", 1709542804), "iso.example", flow.NameDNS, false},
		{"mdns", dnsConn("192.0.2.61", "192.0.2.99", 1709542810), "", flow.NameNone, false},
		{"llmnr", dnsConn("192.0.2.62", "192.0.2.96", 1709542810), "", flow.NameNone, false},
		{"chaos", dnsConn("192.0.2.61", "192.0.2.98", 1709542810), "", flow.NameNone, false},
		{"txt", dnsConn("192.0.2.61", "192.0.2.97", 1709542810), "", flow.NameNone, false},
	} {
		n.Name(tc.c)
		if tc.c.ServerName != tc.want || tc.c.NameSource != tc.src || tc.c.DNSName != tc.want {
			t.Errorf("%s: %q %v (dns %q), want %q %v", tc.name, tc.c.ServerName, tc.c.NameSource, tc.c.DNSName, tc.want, tc.src)
		}
	}
	// A name by uid (SNI) is the connection's own: DNS only says what it
	// called the address.
	var both Names
	if err := both.Read("ssl.log", strings.NewReader(sslHeader+"1709542801.0\tCssl1\t192.0.2.61\t1\t203.0.113.80\t443\tTLSv13\t-\tevil.example\tT\n")); err != nil {
		t.Fatal(err)
	}
	if err := both.Read("dns.log", strings.NewReader(json)); err != nil {
		t.Fatal(err)
	}
	c := dnsConn("192.0.2.62", "203.0.113.80", 1709542810)
	c.UID, _ = flow.ParseUID([]byte("Cssl1"))
	both.Name(c)
	if c.ServerName != "evil.example" || c.NameSource != flow.NameSNI || c.DNSName != "ocsp.digicert.com" {
		t.Errorf("sni and dns: %q %v (dns %q)", c.ServerName, c.NameSource, c.DNSName)
	}
	if !slices.Equal(both.Kinds, []string{"ssl", "dns"}) {
		t.Errorf("kinds %q", both.Kinds)
	}

	// The answers are bounded as the uids are, by Max.
	small := Names{Max: 2}
	if err := small.Read("dns.log", strings.NewReader(tsv)); err != nil {
		t.Fatal(err)
	}
	if small.DNS.Len() != 2 || small.DNS.Overflow != 1 {
		t.Errorf("bound 2: %d kept, %d over", small.DNS.Len(), small.DNS.Overflow)
	}
}

// TestNamesDNSErrors: a dns.log line that does not read stops the log
// with its file and line, the answers before it kept.
func TestNamesDNSErrors(t *testing.T) {
	good := "1709542800.000000\tCd1\t192.0.2.61\t50721\t192.0.2.5\t53\tudp\t1\t0.500000\ta.example\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t203.0.113.81\t60.000000\tF\n"
	bad := func(col int, v string) string {
		cols := strings.Split(strings.TrimSuffix(good, "\n"), "\t")
		cols[col] = v
		return strings.Join(cols, "\t") + "\n"
	}
	for _, tt := range []struct{ name, log, want string }{
		{"ts", dnsHeader + good + bad(0, "yesterday"), `dns.log:10: ts "yesterday": not a number of seconds`},
		{"client", dnsHeader + good + bad(2, "192.0.2"), `dns.log:10: id.orig_h "192.0.2": not an address`},
		{"port", dnsHeader + good + bad(5, "99999"), `dns.log:10: id.resp_p: "99999": not a port`},
		{"rtt", dnsHeader + good + bad(8, "-1.0"), `dns.log:10: rtt "-1.0": not an interval`},
		{"qclass", dnsHeader + good + bad(10, "IN"), `dns.log:10: qclass "IN": not a count`},
		{"no answers column", "#separator \\x09\n#path\tdns\n#fields\tts\tid.orig_h\tquery\n", "dns.log:3: #fields: no ts, id.orig_h, query or answers column"},
		{"json no client", `{"ts":1709542800.0,"uid":"Cd1","id.resp_p":53,"query":"a.example","answers":["203.0.113.81"]}` + "\n", "dns.log:1: no id.orig_h"},
		{"json rtt", `{"ts":1709542800.0,"uid":"Cd1","id.orig_h":"192.0.2.61","id.resp_p":53,"rtt":-2,"query":"a.example","answers":["203.0.113.81"]}` + "\n", "dns.log:1: rtt -2: not an interval"},
		// Without the server port, mDNS (5353) and LLMNR (5355) answers
		// could not be told from DNS: the log is refused, not read with
		// every port's answers.
		{"no port column", "#separator \\x09\n#path\tdns\n#fields\tts\tid.orig_h\tquery\tanswers\n1709542800.5\t192.0.2.61\tprinter.local\t192.0.2.99\n",
			"dns.log:3: #fields: no id.resp_p column: the server port tells DNS (53) from mDNS (5353), LLMNR (5355) and NetBIOS (137), whose answers name nothing"},
		{"port unset", dnsHeader + good + bad(5, "-"), "dns.log:10: id.resp_p unset: the server port tells DNS (53) from mDNS (5353), LLMNR (5355) and NetBIOS (137)"},
		{"json no port", `{"ts":1709542800.0,"uid":"Cd1","id.orig_h":"192.0.2.61","query":"wpad","answers":["192.0.2.96"],"rcode_name":"NOERROR"}` + "\n",
			"dns.log:1: no id.resp_p: the server port tells DNS (53) from mDNS (5353), LLMNR (5355) and NetBIOS (137)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var n Names
			err := n.Read("dns.log", strings.NewReader(tt.log))
			var e *Error
			if err == nil || err.Error() != tt.want || !errors.As(err, &e) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if strings.HasPrefix(tt.log, dnsHeader) {
				c := dnsConn("192.0.2.61", "203.0.113.81", 1709542801)
				if n.Name(c); c.ServerName != "a.example" {
					t.Errorf("the answer before the error lost: %q", c.ServerName)
				}
			}
		})
	}
}

// TestNameLogKindsConcatenated: Zeek writes one log, one #path, per file;
// a file that concatenates logs of several kinds (cat ssl.log http.log)
// was read block by block but cited as the last kind only. A block or
// JSON line of another kind than the file's first is an error with its
// line (the names before it kept); logs of one kind concatenated (rotated
// parts) are read whole.
func TestNameLogKindsConcatenated(t *testing.T) {
	const httpHeader = "#separator \\x09\n#path\thttp\n#fields\tuid\thost\n"
	const ssl1 = "1.0\tC1\t192.0.2.1\t1\t192.0.2.2\t443\tTLSv13\t-\ta.example\tT\n"
	const ssl2 = "2.0\tC2\t192.0.2.1\t2\t192.0.2.2\t443\tTLSv13\t-\tb.example\tT\n"
	const dnsLine = "1709542800.000000\tCd1\t192.0.2.61\t50721\t192.0.2.5\t53\tudp\t1\t0.500000\ta.example\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t203.0.113.81\t60.000000\tF\n"
	const jsonSSL = `{"ts":1,"uid":"C1","server_name":"a.example","cipher":"TLS_AES_128_GCM_SHA256"}` + "\n"
	const jsonHTTP = `{"ts":1,"uid":"C2","method":"GET","host":"b.example"}` + "\n"
	const jsonDNS = `{"ts":1,"uid":"C3","id.orig_h":"192.0.2.1","id.resp_p":53,"query":"c.example","answers":["203.0.113.9"]}` + "\n"
	for _, tt := range []struct {
		name, log, want, kind string
		named                 []string // uids C1, C2 named after the read
	}{
		{"ssl then http", sslHeader + ssl1 + httpHeader + "C2\tb.example\n", "x.log:10: #path http after #path ssl: Zeek writes each log to its own file; give the http.log as an input of its own", "ssl", []string{"C1"}},
		{"ssl then dns", sslHeader + ssl1 + dnsHeader + dnsLine, "x.log:13: #path dns after #path ssl", "ssl", []string{"C1"}},
		{"dns then ssl", dnsHeader + dnsLine + sslHeader + ssl1, "x.log:14: #path ssl after #path dns", "dns", nil},
		{"ssl twice (rotated parts)", sslHeader + ssl1 + "#close\t2024-03-04-10-00-00\n" + sslHeader + ssl2, "", "ssl", []string{"C1", "C2"}},
		{"json ssl then http", jsonSSL + jsonHTTP, "x.log:2: an http.log line in an ssl.log", "ssl", []string{"C1"}},
		{"json http then ssl", jsonHTTP + jsonSSL, "x.log:2: an ssl.log line in an http.log", "http", []string{"C2"}},
		{"json ssl then dns", jsonSSL + jsonDNS, "x.log:2: a dns.log line in an ssl.log", "ssl", []string{"C1"}},
		// The head says ssl (cipher) before any name: an http line is refused.
		{"json ssl without sni then http", `{"ts":1,"uid":"C9","cipher":"TLS_AES_128_GCM_SHA256"}` + "\n" + jsonHTTP, "x.log:2: an http.log line in an ssl.log", "ssl", nil},
		{"tsv ssl then json http", sslHeader + ssl1 + jsonHTTP, "x.log:9: an http.log line in an ssl.log", "ssl", []string{"C1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var n Names
			err := n.Read("x.log", strings.NewReader(tt.log))
			var e *Error
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("err %v", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want) || !errors.As(err, &e)):
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if !slices.Equal(n.Kinds, []string{tt.kind}) {
				t.Errorf("kinds %q, want %q", n.Kinds, tt.kind)
			}
			var named []string
			for _, uid := range []string{"C1", "C2"} {
				c := conn(uid)
				if n.Name(c); c.ServerName != "" {
					named = append(named, uid)
				}
			}
			if !slices.Equal(named, tt.named) {
				t.Errorf("named %v, want %v", named, tt.named)
			}
		})
	}
}
