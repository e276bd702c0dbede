package names

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/decode"
	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
)

// TestAnswerLogLikeSniffer: the same answers, seen by a Sniffer in DNS
// responses and added to an AnswerLog, name every connection alike (name,
// evidence, DNSName), within what a Sniffer keeps (four answers an
// address, no repeat of one name to one client): the client's own latest
// answer at or before the start, else any client's latest before it, else
// the earliest after it; equal times are broken alike.
func TestAnswerLogLikeSniffer(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 1))
	clients := []netip.Addr{client, client2, netip.MustParseAddr("2001:db8::5")}
	addrs := []netip.Addr{server, server6, netip.MustParseAddr("192.0.2.11"), netip.MustParseAddr("192.0.2.12")}
	bySource := map[flow.NameSource]int{}
	for round := 0; round < 200; round++ {
		s := New(Limits{})
		var l AnswerLog
		// At most four answers an address, each (client, name) once.
		for _, addr := range addrs {
			n := rng.IntN(5)
			for i := 0; i < n; i++ {
				c := clients[rng.IntN(len(clients))]
				name := fmt.Sprintf("n%d-%d.example", round, i)
				sec := rng.IntN(6) * 10 // equal times are frequent
				msg := pcapgen.DNSResponse(1, name, addr.Is6(), pcapgen.DNSRecord{Name: name, Addr: addr})
				s.Packet(pkt(decode.ProtoUDP, dnsSrv, c, 53, 40000, 0, msg), msg, int64(sec)*1e9)
				if !l.Add(c, addr, []byte(name), int64(sec)*1e9) {
					t.Fatalf("%s: not added", name)
				}
			}
		}
		for i := 0; i < 20; i++ {
			c := flow.Connection{Orig: clients[rng.IntN(len(clients))], Resp: addrs[rng.IntN(len(addrs))],
				Start: time.Unix(int64(rng.IntN(7)*10-5+rng.IntN(2)*5), 0)}
			if rng.IntN(4) == 0 {
				c.ServerName, c.NameSource = "own.example", flow.NameSNI
			}
			fromSniffer, fromLog := c, c
			s.Name(&fromSniffer)
			l.Name(&fromLog)
			if fromSniffer.ServerName != fromLog.ServerName || fromSniffer.NameSource != fromLog.NameSource || fromSniffer.DNSName != fromLog.DNSName {
				t.Fatalf("round %d, %s -> %s at %v: sniffer %q %v %q, log %q %v %q", round, c.Orig, c.Resp, c.Start.Unix(),
					fromSniffer.ServerName, fromSniffer.NameSource, fromSniffer.DNSName, fromLog.ServerName, fromLog.NameSource, fromLog.DNSName)
			}
			bySource[fromLog.NameSource]++
		}
	}
	// Every way of naming was compared, many times.
	for _, src := range []flow.NameSource{flow.NameNone, flow.NameSNI, flow.NameDNS, flow.NameDNSOther} {
		if bySource[src] < 100 {
			t.Errorf("%d connections named by %q, want 100 or more: %v", bySource[src], src, bySource)
		}
	}
}

// TestAnswerLog: what a log keeps beyond a Sniffer's rings (every answer:
// the one before a connection is found after later repeats), names
// cleaned as a capture's, IPv4-mapped addresses as IPv4, and the bound.
func TestAnswerLog(t *testing.T) {
	at := func(sec int) int64 { return int64(sec) * 1e9 }
	conn := func(c, srv netip.Addr, sec int) *flow.Connection {
		return &flow.Connection{Orig: c, Resp: srv, Start: time.Unix(0, at(sec))}
	}
	var l AnswerLog
	for i, a := range []struct {
		c    netip.Addr
		name string
		sec  int
	}{{client, "x.example", 10}, {client, "Y.Example.", 20}, {client, "x.example", 30}, {client, "x.example", 40},
		{client, "x.example", 50}, {client, "x.example", 60}, {client2, "z.example", 70}} {
		if !l.Add(a.c, server, []byte(a.name), at(a.sec)) {
			t.Fatalf("answer %d not added", i)
		}
	}
	if l.Add(client, server, []byte("bad name\n"), at(1)) || l.Add(client, server, []byte("192.0.2.1"), at(1)) {
		t.Error("a name that is no host name was added")
	}
	if !l.Add(netip.AddrFrom16(client2.As16()), netip.MustParseAddr("::ffff:192.0.2.77"), []byte("m.example"), at(1)) {
		t.Fatal("an answer with mapped addresses not added")
	}
	for _, tc := range []struct {
		name string
		c    *flow.Connection
		want string
		src  flow.NameSource
	}{
		{"before the repeats", conn(client, server, 25), "y.example", flow.NameDNS},
		{"the latest", conn(client, server, 65), "x.example", flow.NameDNS},
		{"another client's latest", conn(client2, server, 65), "x.example", flow.NameDNSOther},
		{"another client's, after", conn(netip.MustParseAddr("10.9.9.9"), server, 5), "x.example", flow.NameDNSOther},
		{"its own, after others'", conn(client2, server, 75), "z.example", flow.NameDNS},
		{"mapped", conn(client2, netip.MustParseAddr("192.0.2.77"), 2), "m.example", flow.NameDNS},
		{"no answer", conn(client, server6, 30), "", flow.NameNone},
	} {
		l.Name(tc.c)
		if tc.c.ServerName != tc.want || tc.c.NameSource != tc.src || tc.c.DNSName != tc.want {
			t.Errorf("%s: %q %v (dns %q), want %q %v", tc.name, tc.c.ServerName, tc.c.NameSource, tc.c.DNSName, tc.want, tc.src)
		}
	}

	b := AnswerLog{Max: 2}
	for i := 0; i < 5; i++ {
		b.Add(client, server, []byte("a.example"), at(i))
	}
	if b.Len() != 2 || b.Overflow != 3 {
		t.Errorf("bound 2: %d kept, %d over", b.Len(), b.Overflow)
	}
}

// TestAnswerLogConcurrent: once the answers are added, connections are
// named from several goroutines at once (analyze --parallel), the first
// one indexing the answers (go test -race).
func TestAnswerLogConcurrent(t *testing.T) {
	var l AnswerLog
	for i := 0; i < 100; i++ {
		l.Add(client, netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), []byte(fmt.Sprintf("h%d.example", i)), int64(i)*1e9)
	}
	done := make(chan string)
	for g := 0; g < 4; g++ {
		go func() {
			c := flow.Connection{Orig: client, Resp: netip.AddrFrom4([4]byte{192, 0, 2, 7}), Start: time.Unix(50, 0)}
			l.Name(&c)
			done <- c.ServerName
		}()
	}
	for g := 0; g < 4; g++ {
		if got := <-done; got != "h7.example" {
			t.Errorf("named %q, want h7.example", got)
		}
	}
}
