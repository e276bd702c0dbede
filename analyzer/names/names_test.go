package names

import (
	"encoding/hex"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/decode"
	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
)

var (
	client  = netip.MustParseAddr("10.0.0.5")
	client2 = netip.MustParseAddr("10.0.0.6")
	server  = netip.MustParseAddr("192.0.2.10")
	server6 = netip.MustParseAddr("2001:db8::10")
	dnsSrv  = netip.MustParseAddr("10.0.0.53")
)

func TestReadName(t *testing.T) {
	long := strings.Repeat("a", 63)
	label := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	var over []byte // five 63-byte labels: 319 bytes
	for i := 0; i < 5; i++ {
		over = append(over, label(long)...)
	}
	over = append(over, 0)
	cases := []struct {
		name string
		msg  []byte
		off  int
		want string
		end  int
		err  error
	}{
		{"plain", []byte("\x03www\x07Example\x03com\x00"), 0, "www.example.com", 17, nil},
		{"root", []byte{0}, 0, "", 1, nil},
		{"pointer", []byte("\x03com\x00\x07example\xc0\x00"), 5, "example.com", 15, nil},
		{"pointer loop", []byte("\x01a\xc0\x00"), 0, "", 0, errDNSPointer},
		{"self pointer", []byte("\xc0\x00"), 0, "", 0, errDNSPointer},
		{"pointer past end", []byte("\x01a\xc0\x40"), 0, "", 0, errDNSPointer},
		{"pointer cut", []byte("\x01a\xc0"), 0, "", 0, errDNSShort},
		{"label 64 (extended type)", append([]byte{64}, make([]byte, 64)...), 0, "", 0, errDNSLabel},
		{"label reserved 0x80", []byte{0x80, 0}, 0, "", 0, errDNSLabel},
		{"label cut", []byte("\x05ab"), 0, "", 0, errDNSShort},
		{"no terminator", []byte("\x01a"), 0, "", 0, errDNSShort},
		{"name over 255", over, 0, "", 0, errDNSNameLong},
		{"63-byte label", append(label(long), 0), 0, long, 65, nil},
	}
	for _, c := range cases {
		var n dnsName
		end, err := readName(c.msg, c.off, &n)
		if err != c.err || err == nil && (string(n.bytes()) != c.want || end != c.end) {
			t.Errorf("%s: got %q end %d err %v, want %q end %d err %v", c.name, n.bytes(), end, err, c.want, c.end, c.err)
		}
	}
}

func TestParseDNSChain(t *testing.T) {
	a := netip.MustParseAddr("198.51.100.7")
	// The answers out of order: the address first, then the CNAMEs from
	// the end of the chain back to the name asked for.
	msg := pcapgen.DNSResponse(7, "api.cloud.com", false,
		pcapgen.DNSRecord{Name: "edge.cdn.example", Addr: a},
		pcapgen.DNSRecord{Name: "api.trafficmanager.net", Target: "edge.cdn.example"},
		pcapgen.DNSRecord{Name: "api.cloud.com", Target: "api.trafficmanager.net"},
	)
	var m dnsMessage
	// A message with longer names first: names left in the reused
	// records must not spoil the comparison of the next message's.
	long := pcapgen.DNSResponse(6, "a-much-longer-name.cs9.wac.phicdn.net", false,
		pcapgen.DNSRecord{Name: "a-much-longer-name.cs9.wac.phicdn.net", Target: "another-long-target.edge.cdn.example.org"},
		pcapgen.DNSRecord{Name: "another-long-target.edge.cdn.example.org", Target: "x"},
		pcapgen.DNSRecord{Name: "a-long-name-of-an-address.example", Addr: a})
	if err := parseDNS(long, &m); err != nil {
		t.Fatal(err)
	}
	if err := parseDNS(msg, &m); err != nil {
		t.Fatal(err)
	}
	if m.n != 3 || m.records[0].addr != a {
		t.Fatalf("records %d, first %v", m.n, m.records[0].addr)
	}
	if h := m.head(0); string(h.bytes()) != "api.cloud.com" {
		t.Errorf("head = %q", h.bytes())
	}
	// A CNAME loop ends after maxChain links without hanging.
	loop := pcapgen.DNSResponse(8, "a.example", false,
		pcapgen.DNSRecord{Name: "a.example", Target: "b.example"},
		pcapgen.DNSRecord{Name: "b.example", Target: "a.example"},
		pcapgen.DNSRecord{Name: "a.example", Addr: a})
	if err := parseDNS(loop, &m); err != nil {
		t.Fatal(err)
	}
	if h := m.head(2); h.n == 0 {
		t.Errorf("loop head empty")
	}
	// A query is not a response; a cut response keeps what was read.
	if err := parseDNS(pcapgen.DNSQuery(1, "a.example", false), &m); err != errDNSNotResp {
		t.Errorf("query: %v", err)
	}
	two := pcapgen.DNSResponse(9, "x.example", false, pcapgen.DNSRecord{Name: "x.example", Addr: a}, pcapgen.DNSRecord{Name: "x.example", Addr: server})
	if err := parseDNS(two[:len(two)-3], &m); err != errDNSShort || m.n != 1 {
		t.Errorf("cut: %v, %d records", err, m.n)
	}
}

// pkt is a decoded packet summary for the sniffer.
func pkt(proto uint8, src, dst netip.Addr, sp, dp uint16, seq uint32, payload []byte) *decode.Packet {
	return &decode.Packet{Src: src, Dst: dst, SrcPort: sp, DstPort: dp, Proto: proto, Seq: seq, PayloadLen: len(payload)}
}

func TestHello(t *testing.T) {
	hello := pcapgen.ClientHello("OCSP.DigiCert.com.", 0)
	cases := []struct {
		name     string
		segments [][]byte
		want     string
	}{
		{"whole", [][]byte{hello}, "ocsp.digicert.com"},
		{"split in three", [][]byte{hello[:3], hello[3:100], hello[100:]}, ""},
		{"split after the record header", [][]byte{hello[:5], hello[5:]}, ""},
		{"no sni", [][]byte{pcapgen.ClientHello("", 0)}, ""},
	}
	for _, c := range cases {
		s := New(Limits{})
		seq := uint32(1000)
		got := ""
		for _, seg := range c.segments {
			if n, src := s.Packet(pkt(decode.ProtoTCP, client, server, 50000, 8443, seq, seg), seg, 1); n != "" {
				if src != flow.NameSNI {
					t.Errorf("%s: source %v", c.name, src)
				}
				got = n
			}
			seq += uint32(len(seg))
		}
		want := c.want
		if c.name != "no sni" && want == "" {
			want = "ocsp.digicert.com" // the split ones find it too
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", c.name, got, want)
		}
	}
}

func TestHelloLargeAndRecords(t *testing.T) {
	// A ClientHello of 3 KiB (post-quantum key shares), over three segments
	// with a retransmission of the first one in between.
	hello := pcapgen.ClientHello("ctx.cloud.com", 3000)
	s := New(Limits{})
	segs := [][]byte{hello[:1400], hello[:1400], hello[1400:2800], hello[2800:]}
	seqs := []uint32{1, 1, 1401, 2801}
	got := ""
	for i, seg := range segs {
		if n, _ := s.Packet(pkt(decode.ProtoTCP, client, server, 50001, 443, seqs[i], seg), seg, 1); n != "" {
			got = n
		}
	}
	if got != "ctx.cloud.com" || s.Stats().Reassembled != 1 {
		t.Errorf("got %q, stats %+v", got, s.Stats())
	}
	// A gap ends the reassembly without a name.
	s = New(Limits{})
	s.Packet(pkt(decode.ProtoTCP, client, server, 50002, 443, 1, hello[:1400]), hello[:1400], 1)
	if n, _ := s.Packet(pkt(decode.ProtoTCP, client, server, 50002, 443, 2801, hello[2800:]), hello[2800:], 1); n != "" || len(s.pend) != 0 {
		t.Errorf("gap: %q, %d pending", n, len(s.pend))
	}
	// One handshake message over two TLS records.
	hs := hello[5:]
	h := len(hs) / 2
	two := append([]byte{0x16, 3, 3, byte(h >> 8), byte(h)}, hs[:h]...)
	two = append(two, 0x16, 3, 3, byte((len(hs)-h)>>8), byte(len(hs)-h))
	two = append(two, hs[h:]...)
	if b, res := helloFromRecords(two, make([]byte, MaxHello)); res != helloDone || string(b) != "ctx.cloud.com" {
		t.Errorf("two records: %q %v", b, res)
	}
	// Over MaxHello: refused.
	big := pcapgen.ClientHello("big.example", MaxHello)
	if _, res := helloFromRecords(big, make([]byte, MaxHello)); res != helloNot {
		t.Errorf("over MaxHello: %v", res)
	}
}

func TestHTTPHost(t *testing.T) {
	cases := []struct{ req, want string }{
		{"GET / HTTP/1.1\r\nHost: Download.Citrix.com:8080\r\n\r\n", "download.citrix.com"},
		{"POST /x HTTP/1.0\r\nUser-Agent: a\r\nhOsT:   a.example  \r\n\r\n", "a.example"},
		{"GET http://proxy.example/a HTTP/1.1\r\nHost: other.example\r\n\r\n", "proxy.example"},
		{"CONNECT tunnel.example:443 HTTP/1.1\r\nHost: tunnel.example:443\r\n\r\n", "tunnel.example"},
		{"GET / HTTP/1.1\r\nAccept: */*\r\n\r\nHost: body.example\r\n", ""},
		{"GET / HTTP/1.1\r\nHost: 10.1.2.3\r\n\r\n", ""},
		{"GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n", ""},
		{"GET / HTTP/2.0\r\nHost: h2.example\r\n\r\n", ""},
		{"GET / HTTP/1.1\r\nHost: bad name\r\n\r\n", ""},
		{"GET / HTTP/1.1\r\nX: y\r\nHost: cut.exam", "cut.exam"},
	}
	for _, c := range cases {
		s := New(Limits{})
		got, src := s.Packet(pkt(decode.ProtoTCP, client, server, 50000, 80, 1, []byte(c.req)), []byte(c.req), 1)
		if got != c.want || got != "" && src != flow.NameHTTPHost {
			t.Errorf("%q: got %q (%v), want %q", c.req, got, src, c.want)
		}
	}
}

func TestCleanName(t *testing.T) {
	cases := []struct {
		in   string
		want string
		ok   bool
	}{
		{"Example.COM.", "example.com", true},
		{"a..b", "", false},
		{"a..", "", false},
		{"..", "", false},
		{".a", "", false},
		{strings.Repeat("a", 64) + ".com", "", false},
		{strings.Repeat("a.", 127) + "ab", "", false},
		{"1.2.3.4", "", false},
		{"under_score.example", "under_score.example", true},
		{"", "", false},
		{"a\x00b", "", false},
	}
	for _, c := range cases {
		var n dnsName
		ok := cleanName([]byte(c.in), &n)
		if ok != c.ok || ok && string(n.bytes()) != c.want {
			t.Errorf("%q: %q %v", c.in, n.bytes(), ok)
		}
	}
}

// TestQUICRFC9001 checks the key derivation and the decryption of the
// client Initial of RFC 9001 Appendix A.
func TestQUICRFC9001(t *testing.T) {
	dcid, _ := hex.DecodeString("8394c8f03e515708")
	secret, err := clientInitialSecret(quicV1, dcid)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(secret); got != "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea" {
		t.Errorf("client_initial_secret %s", got)
	}
	for _, c := range []struct{ label, want string }{
		{"quic key", "1f369613dd76d5467730efcbe3b1a22d"},
		{"quic iv", "fa044b2f42a3fd3b46fb255c"},
		{"quic hp", "9f50449e04a0e810283a1e9933adedd2"},
	} {
		n := len(c.want) / 2
		b, _ := expandLabel(secret, c.label, n)
		if got := hex.EncodeToString(b); got != c.want {
			t.Errorf("%s = %s, want %s", c.label, got, c.want)
		}
	}
	raw, err := os.ReadFile("testdata/rfc9001-a2-client-initial.hex")
	if err != nil {
		t.Fatal(err)
	}
	packet, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(packet) != 1200 {
		t.Fatalf("vector: %d bytes, %v", len(packet), err)
	}
	s := New(Limits{})
	got, src := s.Packet(pkt(decode.ProtoUDP, client, server, 50000, 443, 0, packet), packet, 1)
	if got != "example.com" || src != flow.NameSNI || s.Stats().QUICSNI != 1 {
		t.Errorf("RFC 9001 A.2: %q %v %+v", got, src, s.Stats())
	}
	// A flipped bit anywhere in the protected part fails the AEAD.
	bad := append([]byte(nil), packet...)
	bad[600] ^= 1
	if got, _ := New(Limits{}).Packet(pkt(decode.ProtoUDP, client, server, 50000, 443, 0, bad), bad, 1); got != "" {
		t.Errorf("corrupted packet named %q", got)
	}
}

// TestQUICv2RFC9369 decrypts the client Initial of RFC 9369 Appendix A.2:
// the same ClientHello as RFC 9001's, under QUIC version 2's salt, labels
// and packet type bits.
func TestQUICv2RFC9369(t *testing.T) {
	raw, err := os.ReadFile("testdata/rfc9369-a2-client-initial.hex")
	if err != nil {
		t.Fatal(err)
	}
	packet, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(packet) != 1200 {
		t.Fatalf("vector: %d bytes, %v", len(packet), err)
	}
	got, src := New(Limits{}).Packet(pkt(decode.ProtoUDP, client, server, 50000, 443, 0, packet), packet, 1)
	if got != "example.com" || src != flow.NameSNI {
		t.Errorf("RFC 9369 A.2: %q %v", got, src)
	}
}

func TestQUICGenerated(t *testing.T) {
	dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	// A ClientHello over two Initial packets (post-quantum key shares).
	s := New(Limits{})
	got := ""
	for _, p := range pcapgen.QUICInitials(dcid, "pq.example", 1500, 2) {
		if n, _ := s.Packet(pkt(decode.ProtoUDP, client, server, 50001, 443, 0, p), p, 1); n != "" {
			got = n
		}
	}
	if got != "pq.example" || s.Stats().Reassembled != 1 || len(s.qpend) != 0 {
		t.Errorf("two Initials: %q %+v", got, s.Stats())
	}
	for _, split := range []bool{false, true} {
		p := pcapgen.QUICInitial(dcid, "wvd.microsoft.com", split)
		s := New(Limits{})
		got, _ := s.Packet(pkt(decode.ProtoUDP, client, server, 50000, 443, 0, p), p, 1)
		if got != "wvd.microsoft.com" {
			t.Errorf("split %v: %q %+v", split, got, s.Stats())
		}
	}
}

func TestDNSEvidence(t *testing.T) {
	s := New(Limits{})
	at := func(sec int) int64 { return int64(sec) * 1e9 }
	resp := func(to netip.Addr, sec int, name string, addr netip.Addr) {
		msg := pcapgen.DNSResponse(1, name, addr.Is6(), pcapgen.DNSRecord{Name: name, Addr: addr})
		s.Packet(pkt(decode.ProtoUDP, dnsSrv, to, 53, 40000, 0, msg), msg, at(sec))
	}
	resp(client, 10, "old.example", server)
	resp(client, 20, "ocsp.digicert.com", server)
	resp(client, 100, "late.example", server)
	resp(client2, 5, "other.example", server6)
	// Over TCP, in two segments.
	tcpMsg := pcapgen.DNSOverTCP(pcapgen.DNSResponse(2, "tcp.example", false, pcapgen.DNSRecord{Name: "tcp.example", Addr: netip.MustParseAddr("192.0.2.99")}))
	s.Packet(pkt(decode.ProtoTCP, dnsSrv, client, 53, 40001, 1, tcpMsg[:10]), tcpMsg[:10], at(1))
	s.Packet(pkt(decode.ProtoTCP, dnsSrv, client, 53, 40001, 11, tcpMsg[10:]), tcpMsg[10:], at(1))

	conn := func(c, srv netip.Addr, sec int) *flow.Connection {
		return &flow.Connection{Orig: c, Resp: srv, Start: time.Unix(0, at(sec))}
	}
	cases := []struct {
		name string
		c    *flow.Connection
		want string
		src  flow.NameSource
	}{
		{"latest before the start", conn(client, server, 30), "ocsp.digicert.com", flow.NameDNS},
		{"at the answer's time", conn(client, server, 20), "ocsp.digicert.com", flow.NameDNS},
		{"before any answer to it", conn(client, server, 1), "old.example", flow.NameDNSOther},
		{"another client's answer", conn(client, server6, 30), "other.example", flow.NameDNSOther},
		{"over TCP", conn(client, netip.MustParseAddr("192.0.2.99"), 30), "tcp.example", flow.NameDNS},
		{"no answer", conn(client, dnsSrv, 30), "", flow.NameNone},
	}
	for _, c := range cases {
		s.Name(c.c)
		if c.c.ServerName != c.want || c.c.NameSource != c.src {
			t.Errorf("%s: %q %v, want %q %v", c.name, c.c.ServerName, c.c.NameSource, c.want, c.src)
		}
	}
	// An SNI stays; DNSName says what DNS called the address.
	c := conn(client, server, 30)
	c.ServerName, c.NameSource = "evil.example", flow.NameSNI
	s.Name(c)
	if c.ServerName != "evil.example" || c.DNSName != "ocsp.digicert.com" {
		t.Errorf("sni kept: %+v", c)
	}
}

func TestBounds(t *testing.T) {
	s := New(Limits{Names: 2, Answers: 2, Pending: 1})
	for i := 0; i < 5; i++ {
		name := string(rune('a'+i)) + ".example"
		addr := netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})
		msg := pcapgen.DNSResponse(1, name, false, pcapgen.DNSRecord{Name: name, Addr: addr})
		s.Packet(pkt(decode.ProtoUDP, dnsSrv, client, 53, 40000, 0, msg), msg, 1)
	}
	if len(s.intern) > 2 || len(s.byPair) > 2 || len(s.byAddr) > 2 || s.Stats().Dropped == 0 {
		t.Errorf("names %d pairs %d addrs %d, %+v", len(s.intern), len(s.byPair), len(s.byAddr), s.Stats())
	}
	hello := pcapgen.ClientHello("x.example", 2000)
	for i := 0; i < 3; i++ {
		s.Packet(pkt(decode.ProtoTCP, client, server, uint16(50000+i), 443, 1, hello[:100]), hello[:100], 1)
	}
	if len(s.pend) != 1 {
		t.Errorf("pending %d", len(s.pend))
	}
	// QUIC Initials whose ClientHello never completes: the newest are
	// kept, so a later whole one is still read.
	s = New(Limits{Pending: 1})
	for i := 0; i < 3; i++ {
		half := pcapgen.QUICInitials([]byte{1, 2, 3, 4, 5, 6, 7, byte(i)}, "part.example", 1500, 2)[0]
		s.Packet(pkt(decode.ProtoUDP, client, server, uint16(40000+i), 443, 0, half), half, 1)
	}
	whole := pcapgen.QUICInitial([]byte{9, 9, 9, 9, 9, 9, 9, 9}, "whole.example", true)
	if n, _ := s.Packet(pkt(decode.ProtoUDP, client, server, 41000, 443, 0, whole), whole, 2); n != "whole.example" || len(s.qpend) > 1 {
		t.Errorf("after incomplete Initials: %q, %d pending", n, len(s.qpend))
	}
}

// TestNoAllocs: packets that carry no name, and a DNS answer seen before,
// cost no allocation.
func TestNoAllocs(t *testing.T) {
	s := New(Limits{})
	data := make([]byte, 1200)
	for i := range data {
		data[i] = byte(i * 13)
	}
	appData := append([]byte{0x17, 3, 3, 4, 0xb0}, data...)
	msg := pcapgen.DNSResponse(1, "a.example", false, pcapgen.DNSRecord{Name: "a.example", Addr: server})
	hello := pcapgen.ClientHello("ocsp.digicert.com", 0)
	http := pcapgen.HTTPRequest("download.citrix.com")
	s.Packet(pkt(decode.ProtoUDP, dnsSrv, client, 53, 40000, 0, msg), msg, 1)
	s.Packet(pkt(decode.ProtoTCP, client, server, 50000, 443, 1, hello), hello, 1)
	s.Packet(pkt(decode.ProtoTCP, client, server, 50000, 80, 1, http), http, 1)
	for _, c := range []struct {
		name string
		p    *decode.Packet
		data []byte
	}{
		{"tcp data", pkt(decode.ProtoTCP, server, client, 443, 50000, 1, data), data},
		{"tls application data", pkt(decode.ProtoTCP, client, server, 50000, 443, 1, appData), appData},
		{"udp data", pkt(decode.ProtoUDP, client, server, 50000, 3389, 0, data), data},
		{"dns answer seen before", pkt(decode.ProtoUDP, dnsSrv, client, 53, 40000, 0, msg), msg},
		{"client hello of a name seen before", pkt(decode.ProtoTCP, client, server, 50001, 443, 1, hello), hello},
		{"http request of a host seen before", pkt(decode.ProtoTCP, client, server, 50001, 80, 1, http), http},
	} {
		if n := testing.AllocsPerRun(100, func() { s.Packet(c.p, c.data, 2) }); n != 0 {
			t.Errorf("%s: %v allocs", c.name, n)
		}
	}
}

func BenchmarkPacket(b *testing.B) {
	s := New(Limits{})
	data := make([]byte, 1200)
	p := pkt(decode.ProtoTCP, server, client, 443, 50000, 1, data)
	b.ReportAllocs()
	for b.Loop() {
		s.Packet(p, data, 1)
	}
}

// TestDNSNamesAreHostNames: a DNS answer's name is held to what SNI and
// HTTP Host names are (cleanName): a name with bytes no host name has
// (a spreadsheet formula, terminal escapes, a newline) names no
// connection, so it can neither match a host-pattern rule ("*.digicert.com"
// matched "=hyperlink(...).digicert.com") nor reach a report.
func TestDNSNamesAreHostNames(t *testing.T) {
	s := New(Limits{})
	addr := func(i byte) netip.Addr { return netip.AddrFrom4([4]byte{192, 0, 2, 100 + i}) }
	names := []string{
		`=HYPERLINK("http://evil"|x).digicert.com`,
		"a\x1b[31mred\x1b[0m.digicert.com",
		"line\nbreak.digicert.com",
		"sp ace.example",
		"OCSP.DigiCert.com", // lower-cased, as before
	}
	for i, name := range names {
		msg := pcapgen.DNSResponse(1, name, false, pcapgen.DNSRecord{Name: name, Addr: addr(byte(i))})
		s.Packet(pkt(decode.ProtoUDP, dnsSrv, client, 53, 40000, 0, msg), msg, 1e9)
	}
	for i, name := range names {
		c := &flow.Connection{Orig: client, Resp: addr(byte(i)), Start: time.Unix(2, 0)}
		s.Name(c)
		want := ""
		if i == len(names)-1 {
			want = "ocsp.digicert.com"
		}
		if c.ServerName != want {
			t.Errorf("answer %q names the connection %q, want %q", name, c.ServerName, want)
		}
		if got := s.Answers(addr(byte(i))); (want == "") != (len(got) == 0) {
			t.Errorf("answer %q: Answers %q", name, got)
		}
	}
}
