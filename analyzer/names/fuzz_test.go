package names

import (
	"encoding/hex"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/decode"
	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
)

// The fuzz targets hold each parser to: no panic, no endless loop, results
// within the message. Their corpora are in testdata/fuzz.

func FuzzDNS(f *testing.F) {
	a := netip.MustParseAddr("198.51.100.7")
	f.Add(pcapgen.DNSResponse(7, "api.cloud.com", false,
		pcapgen.DNSRecord{Name: "edge.cdn.example", Addr: a},
		pcapgen.DNSRecord{Name: "api.cloud.com", Target: "edge.cdn.example"}))
	f.Add(pcapgen.DNSResponse(8, "v6.example", true, pcapgen.DNSRecord{Name: "v6.example", Addr: netip.MustParseAddr("2001:db8::1")}))
	f.Add([]byte("\x00\x01\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		var m dnsMessage
		_ = parseDNS(msg, &m)
		if m.n > maxRecords {
			t.Fatalf("%d records", m.n)
		}
		for i := 0; i < m.n; i++ {
			if h := m.head(i); int(h.n) > maxName {
				t.Fatalf("head of %d bytes", h.n)
			}
		}
		s := New(Limits{})
		s.Packet(&decode.Packet{Proto: decode.ProtoUDP, SrcPort: 53, DstPort: 1, Src: dnsSrv, Dst: client}, msg, 1)
		s.Packet(&decode.Packet{Proto: decode.ProtoTCP, SrcPort: 53, DstPort: 1, Src: dnsSrv, Dst: client}, msg, 1)
	})
}

func FuzzClientHello(f *testing.F) {
	hello := pcapgen.ClientHello("ocsp.digicert.com", 0)
	f.Add(hello, 100)
	f.Add(hello[:60], 0)
	f.Add(pcapgen.ClientHello("", 300), 5)
	f.Fuzz(func(t *testing.T, b []byte, split int) {
		scratch := make([]byte, MaxHello)
		if name, res := helloFromRecords(b, scratch); res == helloDone && len(name) > len(b) {
			t.Fatalf("name longer than the input")
		}
		_, _ = sniFromHello(b)
		// The same bytes in two segments through the sniffer.
		s := New(Limits{})
		if split < 0 {
			split = -split
		}
		if len(b) > 0 {
			split %= len(b)
		} else {
			split = 0
		}
		p := &decode.Packet{Proto: decode.ProtoTCP, Src: client, Dst: server, SrcPort: 5, DstPort: 443, Seq: 1}
		s.Packet(p, b[:split], 1)
		p.Seq += uint32(split)
		s.Packet(p, b[split:], 1)
	})
}

func FuzzHTTPHost(f *testing.F) {
	f.Add(pcapgen.HTTPRequest("download.citrix.com"))
	f.Add([]byte("CONNECT [2001:db8::1]:443 HTTP/1.1\r\n\r\n"))
	f.Add([]byte("GET http://u@h.example:80/x HTTP/1.1\r\nHost:\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if h := httpHost(b); len(h) > len(b) {
			t.Fatalf("host longer than the request")
		}
		var n dnsName
		_ = cleanName(b, &n)
	})
}

func FuzzQUIC(f *testing.F) {
	raw, err := os.ReadFile("testdata/rfc9001-a2-client-initial.hex")
	if err != nil {
		f.Fatal(err)
	}
	vec, _ := hex.DecodeString(strings.TrimSpace(string(raw)))
	f.Add(vec)
	f.Add(pcapgen.QUICInitial([]byte{1, 2, 3, 4, 5, 6, 7, 8}, "wvd.microsoft.com", true))
	f.Add(vec[:40])
	f.Fuzz(func(t *testing.T, b []byte) {
		s := New(Limits{})
		s.Packet(&decode.Packet{Proto: decode.ProtoUDP, Src: client, Dst: server, SrcPort: 5, DstPort: 443}, b, 1)
		_ = cryptoFrames(b, func(off uint64, data []byte) {})
	})
}
