package flow

import (
	"flag"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/decode"
)

// update is accepted so that `go test ./... -update`, which refreshes the
// golden files of other packages, runs here too; this package has none.
var _ = flag.Bool("update", false, "rewrite golden files (none in this package)")

func TestClientDecision(t *testing.T) {
	catalog := fakePorts{{6, 49752}: true, {17, 3478}: true, {6, 8443}: true}
	tests := []struct {
		name           string
		proto          uint8
		flags          uint8
		sport, dport   uint16 // first packet, sent by hostS to hostC
		ports          ServerPorts
		wantClientPort uint16
		wantClientIsC  bool // the receiver of the first packet is the client
		by             ClientBy
		history        string
	}{
		{"SYN sender", 6, decode.FlagSYN, 40000, 80, nil, 40000, false, BySYN, "S"},
		{"SYN-ACK receiver", 6, decode.FlagSYN | decode.FlagACK, 80, 40000, nil, 40000, true, BySYNACK, "^h"},
		{"catalog server port beats first packet", 6, decode.FlagACK, 49752, 40000, catalog, 40000, true, ByCatalog, "^a"},
		{"catalog, first packet from the client", 6, decode.FlagACK, 40000, 49752, catalog, 40000, false, ByCatalog, "A"},
		{"catalog UDP", 17, 0, 3478, 50000, catalog, 50000, true, ByCatalog, "^d"},
		{"both documented falls through to ephemeral", 6, decode.FlagACK, 8443, 49752, catalog, 49752, true, ByEphemeral, "^a"},
		{"well-known", 17, 0, 53, 40000, nil, 40000, true, ByWellKnown, "^d"},
		{"both well-known: lower is the server", 17, 0, 68, 67, nil, 68, false, ByWellKnown, "D"},
		{"both well-known: reply first", 17, 0, 67, 68, nil, 68, true, ByWellKnown, "^d"},
		{"ephemeral", 6, decode.FlagACK, 3389, 50000, nil, 50000, true, ByEphemeral, "^a"},
		{"without catalog 49752 is just ephemeral", 6, decode.FlagACK, 49752, 40000, nil, 49752, false, ByFirstPacket, "A"},
		{"same port both sides", 17, 0, 123, 123, nil, 123, false, ByFirstPacket, "D"},
		{"neither rule applies", 17, 0, 5000, 6000, nil, 5000, false, ByFirstPacket, "D"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []Connection
			tr := NewTracker(Config{ServerPorts: tc.ports, OnConnection: func(c *Connection) { got = append(got, *c) }})
			p := decode.Packet{Src: hostS, Dst: hostC, SrcPort: tc.sport, DstPort: tc.dport, Proto: tc.proto,
				TCPFlags: tc.flags, Seq: 100, Ack: 200, Window: 100, IPLen: 40}
			tr.Add(&p, base, Pos{Frame: 1})
			tr.Flush()
			if len(got) != 1 {
				t.Fatalf("got %d connections", len(got))
			}
			c := got[0]
			wantOrig := hostS
			if tc.wantClientIsC {
				wantOrig = hostC
			}
			if c.Orig != wantOrig || c.OrigPort != tc.wantClientPort || c.ClientBy != tc.by || c.History != tc.history {
				t.Errorf("client %s:%d by %s history %q, want %s:%d by %s %q",
					c.Orig, c.OrigPort, c.ClientBy, c.History, wantOrig, tc.wantClientPort, tc.by, tc.history)
			}
		})
	}
}

func TestUDP(t *testing.T) {
	tests := []struct {
		name    string
		script  []bool // true: client sends
		state   string
		history string
		outcome Outcome
	}{
		{"request and response", []bool{true, false, true, false}, "SF", "Dd", Established},
		{"request only", []bool{true, true}, "S0", "D", Unanswered},
		{"response only", []bool{false}, "SHR", "^d", Partial},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(t, Config{})
			s.sport = 53
			var oBytes, rBytes uint64
			for i, fromClient := range tc.script {
				s.udp(fromClient, 10+i)
				if fromClient {
					oBytes += uint64(10 + i)
				} else {
					rBytes += uint64(10 + i)
				}
			}
			c := s.one()
			if c.State != tc.state || c.History != tc.history || c.Outcome != tc.outcome {
				t.Errorf("%s %q %s, want %s %q %s", c.State, c.History, c.Outcome, tc.state, tc.history, tc.outcome)
			}
			if c.OrigBytes != oBytes || c.RespBytes != rBytes || c.OrigIPBytes != oBytes+28*c.OrigPkts {
				t.Errorf("bytes %d/%d ip %d, want %d/%d", c.OrigBytes, c.RespBytes, c.OrigIPBytes, oBytes, rBytes)
			}
			if c.Proto != decode.ProtoUDP || c.RespPort != 53 || c.Orig != hostC {
				t.Errorf("orientation %s:%d -> %s:%d", c.Orig, c.OrigPort, c.Resp, c.RespPort)
			}
		})
	}
}

func icmpPkt(src, dst netip.Addr, typ, code uint8, id uint16) decode.Packet {
	return decode.Packet{Src: src, Dst: dst, Proto: decode.ProtoICMP, ICMPType: typ, ICMPCode: code,
		ICMPID: id, IPLen: 84, PayloadLen: 56}
}

func TestICMP(t *testing.T) {
	t.Run("echo by identifier", func(t *testing.T) {
		s := newSession(t, Config{})
		s.feed(icmpPkt(hostC, hostS, 8, 0, 7))
		s.feed(icmpPkt(hostS, hostC, 0, 0, 7))
		s.feed(icmpPkt(hostC, hostS, 8, 0, 9)) // another identifier: another flow
		out := s.done()
		if len(out) != 2 {
			t.Fatalf("got %d connections, want 2: %s", len(out), describe(out))
		}
		c := out[0]
		if c.Orig != hostC || c.OrigPort != 8 || c.RespPort != 0 || c.ClientBy != ByICMP || c.Outcome != Established ||
			c.OrigPkts != 1 || c.RespPkts != 1 || c.State != "OTH" || c.OrigBytes != 56 {
			t.Errorf("echo: %+v", c)
		}
		if out[1].Outcome != Unanswered || out[1].OrigPkts != 1 {
			t.Errorf("second echo: %+v", out[1])
		}
	})
	t.Run("reply first: client is the receiver", func(t *testing.T) {
		s := newSession(t, Config{})
		s.feed(icmpPkt(hostS, hostC, 0, 0, 7))
		c := s.one()
		if c.Orig != hostC || c.OrigPort != 8 || c.RespPkts != 1 || c.Outcome != Partial || c.History != "" {
			t.Errorf("%+v", c)
		}
	})
	t.Run("unreachable attaches to the quoted UDP flow", func(t *testing.T) {
		s := newSession(t, Config{})
		s.sport = 53
		s.udp(true, 30)
		e := icmpPkt(hostR, hostC, 3, 3, 0)
		e.Quoted = decode.Quoted{Valid: true, Src: hostC, Dst: hostS, SrcPort: 50000, DstPort: 53, Proto: decode.ProtoUDP}
		s.feed(e)
		c := s.one()
		if c.Proto != decode.ProtoUDP || c.Outcome != Rejected || c.ICMPErrors != 1 || c.OrigPkts != 1 || c.RespPkts != 0 {
			t.Errorf("%+v", c)
		}
		if st := s.tr.Stats(); st.ICMPErrorsAttached != 1 || st.ICMPErrorsUnmatched != 0 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("time exceeded attaches without rejecting", func(t *testing.T) {
		s := newSession(t, Config{})
		s.c("S", 0)
		e := icmpPkt(hostR, hostC, 11, 0, 0)
		e.Quoted = decode.Quoted{Valid: true, Src: hostC, Dst: hostS, SrcPort: 50000, DstPort: 443, Proto: decode.ProtoTCP}
		s.feed(e)
		c := s.one()
		if c.Outcome != Unanswered || c.ICMPErrors != 1 {
			t.Errorf("%+v", c)
		}
	})
	t.Run("unreachable after an answer stays established", func(t *testing.T) {
		s := newSession(t, Config{})
		s.sport = 53
		s.udp(true, 30)
		s.udp(false, 30)
		e := icmpPkt(hostC, hostS, 3, 3, 0)
		e.Quoted = decode.Quoted{Valid: true, Src: hostS, Dst: hostC, SrcPort: 53, DstPort: 50000, Proto: decode.ProtoUDP}
		s.feed(e)
		if c := s.one(); c.Outcome != Established || c.ICMPErrors != 1 {
			t.Errorf("%+v", c)
		}
	})
	t.Run("unmatched error is a one-way ICMP flow, quoted ports make no flow", func(t *testing.T) {
		s := newSession(t, Config{})
		e := icmpPkt(hostR, hostC, 3, 3, 0)
		e.Quoted = decode.Quoted{Valid: true, Src: hostC, Dst: hostS, SrcPort: 50000, DstPort: 53, Proto: decode.ProtoUDP}
		s.feed(e)
		c := s.one()
		if c.Proto != decode.ProtoICMP || c.Orig != hostR || c.OrigPort != 3 || c.RespPort != 3 ||
			c.ClientBy != ByFirstPacket || c.Outcome != Unanswered {
			t.Errorf("%+v", c)
		}
		if st := s.tr.Stats(); st.ICMPErrorsUnmatched != 1 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("neighbor solicitation pairs with advertisement", func(t *testing.T) {
		s := newSession(t, Config{})
		a, b := netip.MustParseAddr("fe80::1"), netip.MustParseAddr("fe80::2")
		s.feed(decode.Packet{Src: a, Dst: b, Proto: decode.ProtoICMPv6, ICMPType: 135, IPLen: 72})
		s.feed(decode.Packet{Src: b, Dst: a, Proto: decode.ProtoICMPv6, ICMPType: 136, IPLen: 72})
		c := s.one()
		if c.Orig != a || c.OrigPort != 135 || c.RespPort != 136 || c.Outcome != Established {
			t.Errorf("%+v", c)
		}
	})
}

func TestOtherProtocols(t *testing.T) {
	s := newSession(t, Config{})
	group := netip.MustParseAddr("224.0.0.18")
	for range 3 {
		s.feed(decode.Packet{Src: hostR, Dst: group, Proto: decode.ProtoVRRP, IPLen: 40, PayloadLen: 20})
	}
	s.feed(decode.Packet{Src: hostS, Dst: group, Proto: decode.ProtoVRRP, IPLen: 40, PayloadLen: 20})
	out := s.done()
	if len(out) != 2 {
		t.Fatalf("got %d: %s", len(out), describe(out))
	}
	c := out[0]
	if c.Orig != hostR || c.Resp != group || c.OrigPkts != 3 || c.OrigPort != 0 || c.State != "OTH" ||
		c.ClientBy != ByGroup || c.Outcome != Unanswered || c.OrigBytes != 60 {
		t.Errorf("%+v", c)
	}
}

func TestFragments(t *testing.T) {
	first := decode.Packet{Src: hostC, Dst: hostS, SrcPort: 50000, DstPort: 53, Proto: decode.ProtoUDP,
		IPLen: 1500, PayloadLen: 1472, Fragment: true, FragID: 77, MoreFragments: true}
	middle := decode.Packet{Src: hostC, Dst: hostS, Proto: decode.ProtoUDP,
		IPLen: 1500, PayloadLen: 1480, Fragment: true, FragID: 77, FragOffset: 1480, MoreFragments: true}
	last := decode.Packet{Src: hostC, Dst: hostS, Proto: decode.ProtoUDP,
		IPLen: 120, PayloadLen: 100, Fragment: true, FragID: 77, FragOffset: 2960}
	reply := decode.Packet{Src: hostS, Dst: hostC, SrcPort: 53, DstPort: 50000, Proto: decode.ProtoUDP, IPLen: 40, PayloadLen: 12}
	tests := []struct {
		name     string
		pkts     []decode.Packet
		conns    int
		origPkts uint64
		orphaned uint64
	}{
		{"in order", []decode.Packet{first, middle, last, reply}, 1, 3, 0},
		{"first fragment last", []decode.Packet{last, middle, first, reply}, 1, 3, 0},
		{"first fragment in the middle", []decode.Packet{middle, first, last, reply}, 1, 3, 0},
		{"first fragment never comes", []decode.Packet{middle, last}, 0, 0, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(t, Config{})
			for _, p := range tc.pkts {
				s.feed(p)
			}
			out := s.done()
			if len(out) != tc.conns {
				t.Fatalf("got %d connections: %s", len(out), describe(out))
			}
			st := s.tr.Stats()
			if st.FragmentsOrphaned != tc.orphaned {
				t.Errorf("orphaned %d, want %d", st.FragmentsOrphaned, tc.orphaned)
			}
			if tc.conns == 0 {
				return
			}
			c := out[0]
			if c.OrigPkts != tc.origPkts || c.OrigIPBytes != 3120 || c.OrigBytes != 3052 || c.RespPkts != 1 || c.Outcome != Established {
				t.Errorf("pkts %d ip %d bytes %d resp %d %s", c.OrigPkts, c.OrigIPBytes, c.OrigBytes, c.RespPkts, c.Outcome)
			}
			if c.FirstPos.Frame != 1 || c.LastPos.Frame != 4 {
				t.Errorf("frames %d-%d, want 1-4", c.FirstPos.Frame, c.LastPos.Frame)
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	t.Run("UDP idle timeout splits", func(t *testing.T) {
		s := newSession(t, Config{UDPTimeout: 30 * time.Second})
		s.sport = 53
		s.udp(true, 10)
		s.wait(31 * time.Second)
		s.udp(true, 10)
		out := s.done()
		if len(out) != 2 || out[0].Reason != EndTimeout || out[1].Reason != EndOfInput {
			t.Fatalf("%d connections: %s", len(out), describe(out))
		}
		if st := s.tr.Stats(); st.TimedOut != 1 {
			t.Errorf("timed out %d", st.TimedOut)
		}
	})
	t.Run("TCP keeps a connection the UDP timeout would end", func(t *testing.T) {
		s := newSession(t, Config{UDPTimeout: 30 * time.Second})
		for _, st := range handshake {
			s.tcp(st.client, st.flags, st.n)
		}
		s.wait(4 * time.Minute)
		s.c("PA", 5)
		if out := s.done(); len(out) != 1 || out[0].OrigPkts != 3 {
			t.Fatalf("%s", describe(out))
		}
	})
	t.Run("closed connection lingers for stray packets", func(t *testing.T) {
		s := newSession(t, Config{})
		for _, st := range with(handshake, []step{C("FA", 0), S("FA", 0)}) {
			s.tcp(st.client, st.flags, st.n)
		}
		s.wait(2 * time.Second)
		s.c("A", 0)
		s.wait(10 * time.Second)
		s.c("A", 0) // after the linger: a new, partial connection
		out := s.done()
		if len(out) != 2 || out[0].OrigPkts != 4 || out[0].State != "SF" || out[1].State != "OTH" {
			t.Fatalf("%s", describe(out))
		}
	})
	t.Run("timeouts follow the newest timestamp", func(t *testing.T) {
		s := newSession(t, Config{UDPTimeout: 30 * time.Second})
		s.sport = 53
		s.udp(true, 10)
		s.wait(40 * time.Second)
		s.cport = 50001
		s.udp(true, 10) // another flow advances the clock and expires the first
		if len(s.out) != 1 || s.out[0].OrigPort != 50000 {
			t.Fatalf("expired %s", describe(s.out))
		}
	})
	t.Run("a closed connection's short timeout comes before a pending long one", func(t *testing.T) {
		s := newSession(t, Config{UDPTimeout: time.Hour})
		s.sport = 53
		s.udp(true, 10) // the earliest time-out so far is this flow's, an hour on
		s.sport = 443
		for _, st := range with(handshake, []step{C("FA", 0), S("FA", 0), C("A", 0)}) {
			s.tcp(st.client, st.flags, st.n)
		}
		s.wait(10 * time.Second) // past the 5 s close linger
		s.sport = 53
		s.udp(false, 10)
		if len(s.out) != 1 || s.out[0].Proto != decode.ProtoTCP || s.out[0].Reason != EndTimeout {
			t.Fatalf("expired %s", describe(s.out))
		}
	})
	t.Run("the longest timeouts do not overflow", func(t *testing.T) {
		forever := time.Duration(math.MaxInt64)
		s := newSession(t, Config{TCPTimeout: forever, UDPTimeout: forever, OtherTimeout: forever, ClosedTimeout: forever})
		s.sport = 53
		s.udp(true, 10)
		s.wait(200 * 365 * 24 * time.Hour)
		s.udp(false, 10)
		if out := s.done(); len(out) != 1 || out[0].Reason != EndOfInput || out[0].RespPkts != 1 {
			t.Fatalf("%s", describe(out))
		}
	})
}

func TestSYNAfterClose(t *testing.T) {
	t.Run("new SYN after RST starts a new connection", func(t *testing.T) {
		s := newSession(t, Config{})
		s.c("S", 0)
		s.s("RA", 0)
		s.next[0] += 1000 // a new initial sequence number
		s.c("S", 0)
		s.s("SA", 0)
		s.c("A", 0)
		out := s.done()
		if len(out) != 2 || out[0].State != "REJ" || out[0].Reason != EndReused || out[1].State != "S1" || out[1].History != "ShA" {
			t.Fatalf("%s", describe(out))
		}
		if st := s.tr.Stats(); st.Reused != 1 {
			t.Errorf("reused %d", st.Reused)
		}
	})
	t.Run("new SYN after FIN close", func(t *testing.T) {
		s := newSession(t, Config{})
		for _, st := range with(handshake, []step{C("FA", 0), S("FA", 0), C("A", 0)}) {
			s.tcp(st.client, st.flags, st.n)
		}
		s.next[0] += 5000
		s.c("S", 0)
		out := s.done()
		if len(out) != 2 || out[0].State != "SF" || out[1].State != "S0" {
			t.Fatalf("%s", describe(out))
		}
	})
	t.Run("port reuse after timeout", func(t *testing.T) {
		s := newSession(t, Config{TCPTimeout: time.Minute})
		s.c("S", 0)
		s.wait(2 * time.Minute)
		s.next[0] += 5000
		s.c("S", 0)
		out := s.done()
		if len(out) != 2 || out[0].Reason != EndTimeout {
			t.Fatalf("%s", describe(out))
		}
	})
}

func TestTableBound(t *testing.T) {
	var got []Connection
	tr := NewTracker(Config{MaxConnections: 3, OnConnection: func(c *Connection) { got = append(got, *c) }})
	for i := range 5 {
		p := decode.Packet{Src: hostC, Dst: hostS, SrcPort: 40000, DstPort: uint16(1000 + i), Proto: decode.ProtoTCP,
			TCPFlags: decode.FlagSYN, Seq: 1, IPLen: 40}
		tr.Add(&p, base.Add(time.Duration(i)*time.Second), Pos{Frame: uint64(i + 1)})
	}
	if tr.Live() != 3 {
		t.Errorf("live %d, want 3", tr.Live())
	}
	st := tr.Stats()
	if st.Evicted != 2 || st.PeakLive != 3 || st.Connections != 5 {
		t.Errorf("stats %+v", st)
	}
	if len(got) != 2 || got[0].RespPort != 1000 || got[1].RespPort != 1001 || got[0].Reason != EndEvicted {
		t.Fatalf("evicted %s", describe(got))
	}
	tr.Flush()
	if len(got) != 5 {
		t.Fatalf("after flush %d", len(got))
	}
	for i, c := range got {
		if c.RespPort != uint16(1000+i) {
			t.Errorf("emission %d: port %d", i, c.RespPort)
		}
	}
}

// TestFlushOrder checks that live connections are emitted by first frame
// across files, whatever the map order.
func TestFlushOrder(t *testing.T) {
	var got []Connection
	tr := NewTracker(Config{OnConnection: func(c *Connection) { got = append(got, *c) }})
	frame := uint64(0)
	for file := range 3 {
		for i := range 50 {
			frame++
			p := decode.Packet{Src: hostC, Dst: hostS, SrcPort: uint16(40000 + file*100 + i), DstPort: 53, Proto: decode.ProtoUDP, IPLen: 40}
			tr.Add(&p, base, Pos{File: file, Frame: uint64(i + 1)})
		}
	}
	tr.Flush()
	if len(got) != 150 {
		t.Fatalf("%d connections", len(got))
	}
	for i := 1; i < len(got); i++ {
		if !got[i-1].FirstPos.Less(got[i].FirstPos) {
			t.Fatalf("emission %d at %+v after %+v", i, got[i].FirstPos, got[i-1].FirstPos)
		}
	}
}

func TestVLANKey(t *testing.T) {
	s := newSession(t, Config{VLANKey: true})
	p := decode.Packet{Src: hostC, Dst: hostS, SrcPort: 50000, DstPort: 53, Proto: decode.ProtoUDP, IPLen: 40, NVLAN: 1, VLANs: [2]uint16{10}}
	s.feed(p)
	p.VLANs[0] = 20
	s.feed(p)
	p.NVLAN, p.VLANs = 2, [2]uint16{20, 30}
	s.feed(p)
	out := s.done()
	if len(out) != 3 || out[0].VLAN != 10 || out[1].VLAN != 20 || out[2].InnerVLAN != 30 {
		t.Fatalf("%+v", out)
	}
}

func TestServices(t *testing.T) {
	s := newSession(t, Config{})
	s.sport = 3389
	// Connection 1: established.
	for _, st := range with(handshake, []step{C("PA", 100), S("PA", 200)}) {
		s.tcp(st.client, st.flags, st.n)
	}
	// Connection 2 from another client port: rejected.
	s.cport = 50001
	s.c("S", 0)
	s.s("RA", 0)
	// Connection 3 from another client: unanswered.
	s.cli = hostR
	s.c("S", 0)
	s.done()
	svcs := s.tr.Services()
	if len(svcs) != 2 {
		t.Fatalf("%d services: %+v", len(svcs), svcs)
	}
	a := svcs[0]
	want := ServiceKey{Client: hostC, Server: hostS, Proto: 6, Port: 3389}
	if a.ServiceKey != want || a.Connections != 2 || a.Established != 1 || a.Rejected != 1 || a.Unanswered != 0 {
		t.Errorf("service %+v", a)
	}
	if a.ClientPackets != 4 || a.ServerPackets != 3 || a.ClientBytes != 100 || a.ServerBytes != 200 {
		t.Errorf("service counts %+v", a)
	}
	if a.FirstPos.Frame != 1 || a.FirstID != 1 || !a.First.Equal(base.Add(time.Millisecond)) || !a.Last.Equal(base.Add(7*time.Millisecond)) {
		t.Errorf("service times %+v", a)
	}
	if a.Count(Rejected) != 1 || a.Count(Established) != 1 {
		t.Errorf("Count")
	}
	b := svcs[1]
	if b.Client != hostR || b.Unanswered != 1 || b.FirstPos.Frame != 8 {
		t.Errorf("service %+v", b)
	}
}

func TestIgnoresInvalid(t *testing.T) {
	tr := NewTracker(Config{})
	tr.Add(&decode.Packet{}, base, Pos{Frame: 1})
	if st := tr.Stats(); st.Ignored != 1 || st.Connections != 0 {
		t.Fatalf("%+v", st)
	}
}

// TestEstablishedPathAllocs pins the zero-allocation promise.
func TestEstablishedPathAllocs(t *testing.T) {
	tr := NewTracker(Config{})
	syn := decode.Packet{Src: hostC, Dst: hostS, SrcPort: 50000, DstPort: 443, Proto: decode.ProtoTCP, TCPFlags: decode.FlagSYN, Seq: 1, IPLen: 40}
	tr.Add(&syn, base, Pos{Frame: 1})
	data := decode.Packet{Src: hostC, Dst: hostS, SrcPort: 50000, DstPort: 443, Proto: decode.ProtoTCP,
		TCPFlags: decode.FlagACK | decode.FlagPSH, Seq: 2, Ack: 1, Window: 512, IPLen: 140, PayloadLen: 100}
	ack := decode.Packet{Src: hostS, Dst: hostC, SrcPort: 443, DstPort: 50000, Proto: decode.ProtoTCP,
		TCPFlags: decode.FlagACK, Seq: 1, Ack: 2, Window: 512, IPLen: 40}
	ts := base
	frame := uint64(1)
	allocs := testing.AllocsPerRun(1000, func() {
		frame++
		ts = ts.Add(time.Millisecond)
		data.Seq += 100
		tr.Add(&data, ts, Pos{Frame: frame})
		ack.Ack = data.Seq + 100
		tr.Add(&ack, ts, Pos{Frame: frame})
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per packet pair", allocs)
	}
}

// TestVLANAsymmetric: the two directions of one connection cross a trunk
// in different VLANs (as in modify-request.pcapng); by default they are one
// connection.
func TestVLANAsymmetric(t *testing.T) {
	s := newSession(t, Config{})
	p := decode.Packet{Src: hostC, Dst: hostS, SrcPort: 50000, DstPort: 53, Proto: decode.ProtoUDP, IPLen: 40, NVLAN: 1, VLANs: [2]uint16{81}}
	s.feed(p)
	p.Src, p.Dst, p.SrcPort, p.DstPort, p.VLANs[0] = hostS, hostC, 53, 50000, 80
	s.feed(p)
	c := s.one()
	if c.VLAN != 81 || c.OrigPkts != 1 || c.RespPkts != 1 || c.Outcome != Established {
		t.Fatalf("%+v", c)
	}
}

// TestClockJump: a capture whose clock is far behind the previous one
// (files given out of time order) ends the live connections and restarts
// the clock, so its own timeouts work.
func TestClockJump(t *testing.T) {
	s := newSession(t, Config{UDPTimeout: 30 * time.Second})
	s.sport = 53
	s.udp(true, 10)
	s.now = base.Add(-time.Hour)
	s.udp(true, 10) // an hour earlier: a new connection, the first one ended
	s.wait(40 * time.Second)
	s.udp(true, 10) // beyond the UDP timeout on the restarted clock
	out := s.done()
	if len(out) != 3 || out[0].Reason != EndTimeout || out[1].Reason != EndTimeout || s.tr.Stats().ClockJumps != 1 {
		t.Fatalf("%d connections %s, stats %+v", len(out), describe(out), s.tr.Stats())
	}
	// A small step back (reordered packets) changes nothing.
	s = newSession(t, Config{})
	s.sport = 53
	s.udp(true, 10)
	s.now = s.now.Add(-2 * time.Second)
	s.udp(false, 10)
	// The reply is stamped before the request: the connection starts at it.
	if c := s.one(); c.RespPkts != 1 || c.Duration() != 2*time.Second-time.Millisecond {
		t.Fatalf("%+v", c)
	}
}

// TestNoTimestamp: packets without a timestamp (pcapng simple packet
// blocks) take the current clock instead of jumping it back to year 1.
func TestNoTimestamp(t *testing.T) {
	var got []Connection
	tr := NewTracker(Config{OnConnection: func(c *Connection) { got = append(got, *c) }})
	p := decode.Packet{Src: hostC, Dst: hostS, SrcPort: 68, DstPort: 67, Proto: decode.ProtoUDP, IPLen: 300}
	tr.Add(&p, base, Pos{Frame: 1})
	tr.Add(&p, time.Time{}, Pos{Frame: 2})
	tr.Flush()
	if len(got) != 1 || got[0].OrigPkts != 2 || !got[0].End.Equal(base) || tr.Stats().ClockJumps != 0 {
		t.Fatalf("%+v", got)
	}
}

// TestServiceBound: past MaxServices, connections of new services are
// counted, not aggregated; connections of known services still are.
func TestServiceBound(t *testing.T) {
	tr := NewTracker(Config{MaxServices: 2})
	for i, port := range []uint16{1000, 1001, 1002, 1000, 1003} {
		p := decode.Packet{Src: hostC, Dst: hostS, SrcPort: uint16(40000 + i), DstPort: port, Proto: decode.ProtoTCP,
			TCPFlags: decode.FlagSYN, Seq: 1, IPLen: 40}
		tr.Add(&p, base.Add(time.Duration(i)*time.Second), Pos{Frame: uint64(i + 1)})
	}
	tr.Flush()
	svcs := tr.Services()
	if len(svcs) != 2 || svcs[0].Port != 1000 || svcs[0].Connections != 2 || svcs[1].Port != 1001 {
		t.Errorf("services %+v", svcs)
	}
	if st := tr.Stats(); st.Unaggregated != 2 || st.UnaggregatedServices != 2 || st.UnaggregatedServicesMore || st.Connections != 5 {
		t.Errorf("stats %+v", st)
	}
}

// TestUnaggregatedServicesCounted: the services not kept are counted
// distinctly (two connections of one such service count once), exactly up
// to maxUnaggregatedKeys, then as a lower bound that says so.
func TestUnaggregatedServicesCounted(t *testing.T) {
	for _, c := range []struct {
		name          string
		services      int // new services past the bound, 2 connections each
		wantServices  uint64
		wantMore      bool
		wantUnaggConn uint64
	}{
		{"few", 3, 3, false, 6},
		{"at the set's bound", maxUnaggregatedKeys, maxUnaggregatedKeys, false, 2 * maxUnaggregatedKeys},
		{"past it", maxUnaggregatedKeys + 5, maxUnaggregatedKeys, true, 2 * (maxUnaggregatedKeys + 5)},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := NewTracker(Config{MaxServices: 1, SweepThreshold: 1 << 30})
			frame := uint64(0)
			add := func(server int, src uint16) {
				frame++
				dst := netip.AddrFrom4([4]byte{11, byte(server >> 16), byte(server >> 8), byte(server)})
				p := decode.Packet{Src: hostC, Dst: dst, SrcPort: src, DstPort: 53, Proto: decode.ProtoUDP, IPLen: 40}
				tr.Add(&p, base.Add(time.Duration(frame)*time.Millisecond), Pos{Frame: frame})
			}
			add(0, 40000) // the one service kept
			for round := range 2 {
				for i := range c.services {
					add(1+i, uint16(50000+round))
				}
				tr.Flush()
			}
			st := tr.Stats()
			if st.UnaggregatedServices != c.wantServices || st.UnaggregatedServicesMore != c.wantMore || st.Unaggregated != c.wantUnaggConn {
				t.Errorf("unaggregated %d connections, %d services (more %v); want %d, %d (%v)", st.Unaggregated,
					st.UnaggregatedServices, st.UnaggregatedServicesMore, c.wantUnaggConn, c.wantServices, c.wantMore)
			}
		})
	}
}
