package connlog

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// FuzzReader: any bytes either read as connections or stop at an *Error
// naming a line; nothing panics, every connection has a known outcome, a
// state Zeek writes (or none) and ends no earlier than it starts.
func FuzzReader(f *testing.F) {
	f.Add([]byte(zeekHeader + "1764410400.123456\tCabc\t192.0.2.1\t51000\t192.0.2.10\t443\ttcp\tssl\t1.500000\t500\t4000\tSF\tT\tF\t0\tShADadFf\t10\t1020\t8\t4420\t-\t6\n"))
	f.Add([]byte("#separator \\x7c\n#fields|ts|id.orig_h|id.orig_p|id.resp_h|id.resp_p|proto|history\n1.5|::1|1|::2|2|icmp|S\\x7c\n"))
	f.Add([]byte(`{"ts":1.5,"id.orig_h":"192.0.2.1","id.orig_p":1,"id.resp_h":"192.0.2.2","id.resp_p":2,"proto":"udp","conn_state":"OTH","orig_pkts":1}` + "\n"))
	f.Add([]byte(`{"ts":1.5,"id.orig_h":"192.0.2.1","id.orig_p":1,"id.resp_h":"192.0.2.2","id.resp_p":2,"proto":"tcp","orig_bytes":null,"resp_pkts":3,"missed_bytes":18446744073709551615}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader("fuzz.log", bytes.NewReader(data))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%T: %v", err, err)
			}
			return
		}
		r.Full = true
		for n := 0; ; n++ {
			var c flow.Connection
			err := r.Next(&c)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var e *Error
				// A binary or JSON file's error names a message or record;
				// its end, what was not read.
				lineless := r.Kind() == IPFIX || r.Kind() == NetFlowV9 || r.Kind() == NfdumpJSON || bytes.HasPrefix(data, []byte{0x1f, 0x8b})
				if !errors.As(err, &e) || e.Line == 0 && !lineless {
					t.Fatalf("%T %v", err, err)
				}
				if err2 := r.Next(&c); err2 != err {
					t.Fatalf("after an error Next = %v", err2)
				}
				return
			}
			if c.Outcome != flow.Established && c.Outcome != flow.Rejected && c.Outcome != flow.Unanswered && (c.Outcome != flow.Partial || r.Kind() < NfdumpCSV) {
				t.Fatalf("outcome %v", c.Outcome)
			}
			if c.State != "" && internState([]byte(c.State)) == "" {
				t.Fatalf("state %q", c.State)
			}
			if c.End.Before(c.Start) || !c.Orig.IsValid() || !c.Resp.IsValid() {
				t.Fatalf("connection %+v", c)
			}
			// What the record did not give is marked unknown and left 0
			// (outputs leave it absent); a NetFlow record never has payload
			// bytes or missed_bytes.
			for _, f := range [...]struct {
				field flow.Fields
				v     uint64
			}{{flow.FieldOrigBytes, c.OrigBytes}, {flow.FieldRespBytes, c.RespBytes}, {flow.FieldMissedBytes, c.MissedBytes},
				{flow.FieldOrigPkts, c.OrigPkts}, {flow.FieldRespPkts, c.RespPkts}, {flow.FieldOrigIPBytes, c.OrigIPBytes},
				{flow.FieldRespIPBytes, c.RespIPBytes}} {
				if !c.Known(f.field) && f.v != 0 {
					t.Fatalf("unknown field %08b is %d: %+v", f.field, f.v, c)
				}
			}
			if r.Kind() >= NfdumpCSV && c.Unknown&flow.FlowRecordUnknown != flow.FlowRecordUnknown {
				t.Fatalf("a NetFlow record with payload bytes: %+v", c)
			}
		}
	})
}

// FuzzNames: any bytes read as an ssl.log or http.log either give names
// or stop at an *Error naming a line; nothing panics, the bound holds,
// and every name kept is a clean host name.
func FuzzNames(f *testing.F) {
	f.Add([]byte(sslHeader + "1.0\tC1\t192.0.2.1\t1\t192.0.2.2\t443\tTLSv13\t-\tOCSP.example.\tT\n"))
	f.Add([]byte("#separator \\x7c\n#path|http\n#fields|uid|host\nC1|a.example:80\nC2|[::1]:80\n"))
	f.Add([]byte(`{"uid":"C1","server_name":"a.example"}` + "\n" + `{"uid":"C2","host":"b.example:8080","method":"GET"}` + "\n"))
	// Logs of two kinds concatenated: refused at the second #path.
	f.Add([]byte(sslHeader + "1.0\tC1\t192.0.2.1\t1\t192.0.2.2\t443\tTLSv13\t-\ta.example\tT\n#separator \\x09\n#path\thttp\n#fields\tuid\thost\nC2\tb.example\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := Names{Max: 4}
		err := n.Read("fuzz.log", bytes.NewReader(data))
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("%T: %v", err, err)
		}
		if n.Len() > 4 {
			t.Fatalf("%d uids past the bound 4", n.Len())
		}
		for u, z := range n.m {
			if u.IsZero() || z.name == "" || strings.ToLower(z.name) != z.name || strings.HasSuffix(z.name, ".") {
				t.Fatalf("uid %q name %q", u.String(), z.name)
			}
		}
	})
}

// FuzzDNSLog: any bytes read as a dns.log either give answers or stop at
// an *Error naming a line; nothing panics, the answer bound holds, and a
// connection named from the answers gets a clean host name (lower case,
// no trailing dot, no address literal) with a DNS evidence.
func FuzzDNSLog(f *testing.F) {
	f.Add([]byte(dnsHeader + "1709542800.000000\tCd1\t192.0.2.61\t50721\t192.0.2.5\t53\tudp\t1\t0.500000\tCRL3.DigiCert.com.\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\tcrl3.cdn.example.net,203.0.113.81,203.0.113.82\t60.000000,60.000000,60.000000\tF\n"))
	f.Add([]byte("#separator \\x7c\n#set_separator|;\n#path|dns\n#fields|ts|id.orig_h|id.resp_p|rtt|query|qclass|answers\n1.5|192.0.2.61|53|-|a.example|1|203.0.113.81;b.example;2001:db8::1\n"))
	f.Add([]byte(`{"ts":"2024-03-04T09:00:04.5Z","uid":"C1","id.orig_h":"192.0.2.61","id.resp_p":53,"rtt":0.001,"query":"a.example","qclass":1,"rcode_name":"NOERROR","answers":["203.0.113.81","::ffff:203.0.113.82"],"TTLs":[1.0,1.0]}` + "\n"))
	clients := []netip.Addr{netip.MustParseAddr("192.0.2.61"), netip.MustParseAddr("192.0.2.62")}
	servers := []netip.Addr{netip.MustParseAddr("203.0.113.81"), netip.MustParseAddr("203.0.113.82"), netip.MustParseAddr("2001:db8::1")}
	f.Fuzz(func(t *testing.T, data []byte) {
		n := Names{Max: 4}
		err := n.Read("dns.log", bytes.NewReader(data))
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("%T: %v", err, err)
		}
		if n.DNS.Len() > 4 {
			t.Fatalf("%d answers past the bound 4", n.DNS.Len())
		}
		for _, cl := range clients {
			for _, srv := range servers {
				for _, start := range []int64{0, 1709542800e9, math.MaxInt64} {
					c := flow.Connection{Orig: cl, Resp: srv, Start: time.Unix(0, start)}
					n.Name(&c)
					if c.ServerName == "" {
						continue
					}
					if c.NameSource != flow.NameDNS && c.NameSource != flow.NameDNSOther || c.DNSName != c.ServerName ||
						strings.ToLower(c.ServerName) != c.ServerName || strings.HasSuffix(c.ServerName, ".") || isAddr(c.ServerName) {
						t.Fatalf("%s -> %s: %q (%v, dns %q)", cl, srv, c.ServerName, c.NameSource, c.DNSName)
					}
				}
			}
		}
	})
}

func isAddr(s string) bool { _, err := netip.ParseAddr(s); return err == nil }
