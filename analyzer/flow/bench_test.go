package flow

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/decode"
)

// BenchmarkEstablished measures the per-packet path of an established TCP
// connection (data one way, ACKs the other).
func BenchmarkEstablished(b *testing.B) {
	tr := NewTracker(Config{})
	syn := decode.Packet{Src: hostC, Dst: hostS, SrcPort: 50000, DstPort: 443, Proto: decode.ProtoTCP, TCPFlags: decode.FlagSYN, Seq: 1, IPLen: 40}
	tr.Add(&syn, base, Pos{Frame: 1})
	data := decode.Packet{Src: hostC, Dst: hostS, SrcPort: 50000, DstPort: 443, Proto: decode.ProtoTCP,
		TCPFlags: decode.FlagACK | decode.FlagPSH, Seq: 2, Window: 512, IPLen: 1500, PayloadLen: 1460}
	ack := decode.Packet{Src: hostS, Dst: hostC, SrcPort: 443, DstPort: 50000, Proto: decode.ProtoTCP,
		TCPFlags: decode.FlagACK, Seq: 1, Window: 512, IPLen: 40}
	ts := base
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		ts = ts.Add(time.Microsecond)
		if i&1 == 0 {
			data.Seq += 1460
			tr.Add(&data, ts, Pos{Frame: uint64(i)})
		} else {
			ack.Ack = data.Seq + 1460
			tr.Add(&ack, ts, Pos{Frame: uint64(i)})
		}
	}
}

// BenchmarkHoles is BenchmarkEstablished with one data segment in four
// lost to the capture, and every ACK passing over holes: the content gap
// bookkeeping's worst steady case.
func BenchmarkHoles(b *testing.B) {
	tr := NewTracker(Config{})
	syn := decode.Packet{Src: hostC, Dst: hostS, SrcPort: 50000, DstPort: 443, Proto: decode.ProtoTCP, TCPFlags: decode.FlagSYN, Seq: 1 << 31, IPLen: 40}
	tr.Add(&syn, base, Pos{Frame: 1})
	synAck := decode.Packet{Src: hostS, Dst: hostC, SrcPort: 443, DstPort: 50000, Proto: decode.ProtoTCP,
		TCPFlags: decode.FlagSYN | decode.FlagACK, Seq: 0, Ack: 1<<31 + 1, Window: 512, IPLen: 40}
	tr.Add(&synAck, base, Pos{Frame: 2})
	data := decode.Packet{Src: hostC, Dst: hostS, SrcPort: 50000, DstPort: 443, Proto: decode.ProtoTCP,
		TCPFlags: decode.FlagACK | decode.FlagPSH, Seq: 1<<31 + 1 - 1460, Ack: 1, Window: 512, IPLen: 1500, PayloadLen: 1460}
	ack := decode.Packet{Src: hostS, Dst: hostC, SrcPort: 443, DstPort: 50000, Proto: decode.ProtoTCP,
		TCPFlags: decode.FlagACK, Seq: 1, Window: 512, IPLen: 40}
	ts := base
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		ts = ts.Add(time.Microsecond)
		switch {
		case i%8 == 7:
			ack.Ack = data.Seq + 1460
			tr.Add(&ack, ts, Pos{Frame: uint64(i)})
		case i%8 == 2:
			data.Seq += 1460 // lost
		default:
			data.Seq += 1460
			tr.Add(&data, ts, Pos{Frame: uint64(i)})
		}
	}
	b.StopTimer()
	var missed uint64
	tr.conns.each(func(c *conn) { missed = c.ep[0].missed })
	if b.N >= 8 && missed == 0 {
		b.Fatal("no content gap counted")
	}
}

// BenchmarkManyConnections spreads packets over 10,000 live UDP and TCP
// connections, so map lookups miss the CPU cache as on a busy link.
func BenchmarkManyConnections(b *testing.B) {
	tr := NewTracker(Config{})
	const n = 10000
	pkts := make([]decode.Packet, n)
	for i := range pkts {
		a := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		p := decode.Packet{Src: a, Dst: hostS, SrcPort: uint16(40000 + i%20000), DstPort: 443, Proto: decode.ProtoUDP, IPLen: 200, PayloadLen: 172}
		if i%2 == 0 {
			p.Proto, p.TCPFlags, p.Window = decode.ProtoTCP, decode.FlagACK, 1000
		}
		pkts[i] = p
		tr.Add(&pkts[i], base, Pos{Frame: uint64(i + 1)})
	}
	ts := base
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p := &pkts[i%n]
		p.Seq += 172
		ts = ts.Add(time.Microsecond)
		tr.Add(p, ts, Pos{Frame: uint64(i)})
	}
}

// BenchmarkNewConnections measures connection churn: every packet opens a
// connection and the bounded table evicts one.
func BenchmarkNewConnections(b *testing.B) {
	tr := NewTracker(Config{MaxConnections: 4096})
	p := decode.Packet{Src: hostC, Dst: hostS, Proto: decode.ProtoTCP, TCPFlags: decode.FlagSYN, IPLen: 40,
		SrcMAC: [6]byte{2, 0, 0, 0, 0, 1}, HasMAC: true} // its source MAC is looked up once per connection
	ts := base
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p.SrcPort = uint16(1024 + i%60000)
		p.Dst = netip.AddrFrom4([4]byte{10, 2, byte(i >> 24), byte(i >> 16)})
		p.DstPort = uint16(i)
		ts = ts.Add(time.Microsecond)
		tr.Add(&p, ts, Pos{Frame: uint64(i)})
	}
}

// BenchmarkServices measures the end of an analysis with the services at
// DefaultMaxServices (a scan, the make-bench capture): Services copies
// them out of the tracker, sorted.
func BenchmarkServices(b *testing.B) {
	tr := NewTracker(Config{SweepThreshold: -1})
	for i := range DefaultMaxServices {
		c := Connection{Orig: netip.AddrFrom4([4]byte{10, 1, byte(i >> 12), byte(i >> 4)}), Resp: netip.AddrFrom4([4]byte{10, 20, byte(i * 7), byte(i)}),
			OrigPort: 40000, RespPort: uint16(i * 13), Proto: decode.ProtoTCP, Start: base, End: base.Add(time.Second), Outcome: Established,
			OrigPkts: 3, RespPkts: 2, RespTTL: 64}
		tr.AddConnection(&c)
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(tr.Services()) != DefaultMaxServices {
			b.Fatal("services lost")
		}
	}
}

// benchConnections are n finished connections shaped like the make-bench
// capture's (pcapgen.Mix): 2,000 clients (one in twenty IPv6), 250 servers,
// a service port picked per kind (web, directory, DNS, refused ports over a
// wide range ...), the server one of four per port, DNS names on most. About
// half as many services as connections, most with one connection.
func benchConnections(n int) []Connection {
	r := rand.New(rand.NewPCG(1, 2))
	clients := make([]netip.Addr, 2000)
	for i := range clients {
		clients[i] = netip.AddrFrom4([4]byte{10, 1, byte(i / 250), byte(i%250 + 1)})
		if i%20 == 19 {
			clients[i] = netip.AddrFrom16([16]byte{0xfd, 0, 0, 1, 14: byte(i >> 8), 15: byte(i)})
		}
	}
	server := func(port uint16, v6 bool) netip.Addr {
		i := (int(port)*7 + r.IntN(4)) % 250
		if v6 {
			return netip.AddrFrom16([16]byte{0xfd, 0, 0, 0x20, 14: byte(i / 250), 15: byte(i%250 + 1)})
		}
		return netip.AddrFrom4([4]byte{10, 20, byte(i / 250), byte(i%250 + 1)})
	}
	web := []uint16{443, 443, 443, 443, 8443, 80, 4172, 443}
	dir := []uint16{389, 88, 445, 135, 1433, 5061, 636, 3268}
	names := []string{"a.corp.example", "b.corp.example", "vdi.corp.example", "mail.corp.example"}
	out := make([]Connection, n)
	t := base
	for i := range out {
		cl := clients[r.IntN(len(clients))]
		v6 := !cl.Is4()
		c := Connection{Orig: cl, OrigPort: uint16(32768 + r.IntN(28000)), Proto: decode.ProtoTCP, Outcome: Established,
			OrigPkts: 6, RespPkts: 5, OrigIPBytes: 900, RespIPBytes: 4000, OrigBytes: 500, RespBytes: 3700, RespTTL: 64}
		switch k := r.IntN(1000); {
		case k < 300:
			c.RespPort = web[r.IntN(len(web))]
			c.ServerName, c.NameSource = names[r.IntN(len(names))], NameSNI
		case k < 450:
			c.RespPort = dir[r.IntN(len(dir))]
		case k < 510: // refused
			c.RespPort, c.Outcome, c.RespRST, c.RSTTTL, c.RespTTL = uint16(1+r.IntN(10000)), Rejected, true, 64, 0
		case k < 550:
			c.RespPort, c.Outcome, c.RespPkts, c.RespTTL = dir[r.IntN(len(dir))], Unanswered, 0, 0
		case k < 850: // DNS
			c.Proto, c.RespPort = decode.ProtoUDP, 53
		case k < 970: // UDP to a closed port
			c.Proto, c.RespPort, c.Outcome, c.ICMPErrors, c.ICMPType, c.ICMPCode = decode.ProtoUDP, uint16(1024+r.IntN(30000)), Rejected, 1, 3, 3
		default:
			c.Proto, c.RespPort, c.Outcome, c.RespPkts = decode.ProtoUDP, 514, Unanswered, 0
		}
		c.Resp = server(c.RespPort, v6)
		if c.ICMPErrors > 0 {
			c.ICMPFrom = c.Resp
		}
		if r.IntN(2) == 0 {
			c.DNSName = names[r.IntN(len(names))]
		}
		t = t.Add(18 * time.Millisecond)
		c.Start, c.End = t, t.Add(time.Duration(r.IntN(2000))*time.Millisecond)
		c.FirstPos = Pos{Frame: uint64(20*i + 1)}
		out[i] = c
	}
	return out
}

// BenchmarkFold measures folding the make-bench capture's connections into
// their services (200,000 connections, about 100,000 services; sweep
// detection on, the service bound raised past them as make bench does):
// ns/conn is the cost per connection on the packet path, including the
// tracker's share of growing its tables.
func BenchmarkFold(b *testing.B) {
	conns := benchConnections(200000)
	var services int
	b.ReportAllocs()
	for b.Loop() {
		tr := NewTracker(Config{MaxServices: 1 << 18})
		for i := range conns {
			tr.fold(&conns[i])
		}
		services = tr.ServiceCount()
	}
	if services < 80000 || services > 120000 {
		b.Fatalf("%d services, want about 100,000", services)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(conns)), "ns/conn")
}
