package flow

import (
	"net/netip"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/decode"
)

// The tests in this file each hold one of Zeek's connection rules that
// flowaudit once broke, with packets generated the way a capture would
// carry them.

// TestDurationStopsAtClose: Zeek stops a TCP connection's last time once
// both endpoints have closed (sent a FIN or a RST); the final ACK and late
// retransmissions are counted as packets but do not lengthen the duration.
func TestDurationStopsAtClose(t *testing.T) {
	tests := []struct {
		name   string
		script func(s *session)
		// the duration in milliseconds (each packet comes 1 ms after the
		// previous one, plus any wait)
		duration int
		origPkts uint64
		respPkts uint64
	}{
		{"final ACK after both FINs", func(s *session) {
			s.c("S", 0)
			s.s("SA", 0)
			s.c("A", 0)
			s.c("FA", 0)
			s.s("FA", 0) // both closed: 4 ms after the SYN
			s.wait(40 * time.Millisecond)
			s.c("A", 0)
		}, 4, 4, 2},
		{"retransmitted FIN after the close", func(s *session) {
			s.c("S", 0)
			s.s("SA", 0)
			s.c("A", 0)
			s.c("FA", 0)
			fin := s.lastPkt
			s.s("FA", 0)
			s.c("A", 0)
			s.wait(200 * time.Millisecond)
			s.feed(fin)
		}, 4, 5, 2},
		{"RST from each side", func(s *session) {
			s.c("S", 0)
			s.s("SA", 0)
			s.c("RA", 0)
			s.s("RA", 0) // both closed
			s.wait(time.Second)
			s.c("RA", 0)
		}, 3, 3, 2},
		{"one side closed: the other's packets still count", func(s *session) {
			s.c("S", 0)
			s.s("SA", 0)
			s.c("A", 0)
			s.c("FA", 0)
			s.wait(99 * time.Millisecond)
			s.s("PA", 10) // 103 ms after the SYN
		}, 103, 3, 2},
		{"the closing packet itself counts", func(s *session) {
			s.c("S", 0)
			s.s("SA", 0)
			s.c("A", 0)
			s.c("FA", 0)
			s.wait(9 * time.Millisecond)
			s.s("FA", 0) // 13 ms after the SYN
			s.wait(time.Second)
			s.c("A", 0)
		}, 13, 4, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(t, Config{})
			tc.script(s)
			c := s.one()
			if got := c.Duration(); got != time.Duration(tc.duration)*time.Millisecond {
				t.Errorf("duration %v, want %d ms", got, tc.duration)
			}
			if c.OrigPkts != tc.origPkts || c.RespPkts != tc.respPkts {
				t.Errorf("packets %d/%d, want %d/%d", c.OrigPkts, c.RespPkts, tc.origPkts, tc.respPkts)
			}
		})
	}
}

// TestSYNReuse: a SYN on the ports of a connection that either endpoint
// closed starts a new connection, whatever its sequence number (Zeek's
// IsReuse), so three SYNs each answered by a RST are three REJ attempts; an
// open connection is replaced only by a SYN with another initial sequence
// number.
func TestSYNReuse(t *testing.T) {
	type want struct{ state, history string }
	tests := []struct {
		name   string
		script func(s *session)
		want   []want
	}{
		{"SYN retried after RST with the same ISN", func(s *session) {
			for range 3 {
				s.c("S", 0)
				syn := s.lastPkt
				s.s("RA", 0)
				s.next[0] = syn.Seq // the client retries the same SYN
			}
		}, []want{{"REJ", "Sr"}, {"REJ", "Sr"}, {"REJ", "Sr"}}},
		{"SYN retried after RST with a new ISN", func(s *session) {
			s.c("S", 0)
			s.s("RA", 0)
			s.next[0] += 7777
			s.c("S", 0)
			s.s("SA", 0)
			s.c("A", 0)
		}, []want{{"REJ", "Sr"}, {"S1", "ShA"}}},
		{"unanswered SYN retransmitted", func(s *session) {
			s.c("S", 0)
			syn := s.lastPkt
			s.wait(time.Second)
			s.feed(syn)
		}, []want{{"S0", "S"}}},
		{"unanswered SYN, then a SYN with another ISN", func(s *session) {
			s.c("S", 0)
			s.next[0] += 100000
			s.c("S", 0)
		}, []want{{"S0", "S"}, {"S0", "S"}}},
		{"SYN after the client's FIN only", func(s *session) {
			s.c("S", 0)
			s.s("SA", 0)
			s.c("A", 0)
			s.c("FA", 0)
			s.next[0] += 5000
			s.c("S", 0)
		}, []want{{"S2", "ShAF"}, {"S0", "S"}}},
		{"retransmitted SYN-ACK of an open connection", func(s *session) {
			s.c("S", 0)
			s.s("SA", 0)
			synack := s.lastPkt
			s.feed(synack)
			s.c("A", 0)
		}, []want{{"S1", "ShA"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(t, Config{})
			tc.script(s)
			out := s.done()
			if len(out) != len(tc.want) {
				t.Fatalf("got %d connections, want %d: %s", len(out), len(tc.want), describe(out))
			}
			for i, w := range tc.want {
				if out[i].State != w.state || out[i].History != w.history {
					t.Errorf("connection %d: %s %q, want %s %q", i+1, out[i].State, out[i].History, w.state, w.history)
				}
			}
			if n := uint64(len(tc.want) - 1); s.tr.Stats().Reused != n {
				t.Errorf("reused %d, want %d", s.tr.Stats().Reused, n)
			}
		})
	}
}

// TestGroupNeverClient: a broadcast or multicast destination is the
// server; the sender is the client, whatever the ports or ICMP type say.
func TestGroupNeverClient(t *testing.T) {
	a := netip.MustParseAddr
	tests := []struct {
		name       string
		p          decode.Packet
		orig, resp netip.Addr
		respPort   uint16
	}{
		{"DHCP discover", decode.Packet{Src: a("0.0.0.0"), Dst: a("255.255.255.255"), SrcPort: 68, DstPort: 67, Proto: decode.ProtoUDP},
			a("0.0.0.0"), a("255.255.255.255"), 67},
		{"DHCP offer broadcast", decode.Packet{Src: a("10.0.0.254"), Dst: a("255.255.255.255"), SrcPort: 67, DstPort: 68, Proto: decode.ProtoUDP},
			a("10.0.0.254"), a("255.255.255.255"), 68},
		{"DHCPv6 solicit", decode.Packet{Src: a("fe80::1"), Dst: a("ff02::1:2"), SrcPort: 546, DstPort: 547, Proto: decode.ProtoUDP},
			a("fe80::1"), a("ff02::1:2"), 547},
		{"mDNS", decode.Packet{Src: a("10.0.0.7"), Dst: a("224.0.0.251"), SrcPort: 5353, DstPort: 5353, Proto: decode.ProtoUDP},
			a("10.0.0.7"), a("224.0.0.251"), 5353},
		{"SSDP from an ephemeral port", decode.Packet{Src: a("10.0.0.7"), Dst: a("239.255.255.250"), SrcPort: 50000, DstPort: 1900, Proto: decode.ProtoUDP},
			a("10.0.0.7"), a("239.255.255.250"), 1900},
		{"ICMPv6 router advertisement to all nodes", decode.Packet{Src: a("fe80::1"), Dst: a("ff02::1"), Proto: decode.ProtoICMPv6, ICMPType: 134},
			a("fe80::1"), a("ff02::1"), 133}, // type 134 from the client, 133 its counterpart
		{"IPv4-mapped broadcast", decode.Packet{Src: a("::ffff:10.0.0.254"), Dst: a("::ffff:255.255.255.255"), SrcPort: 67, DstPort: 68, Proto: decode.ProtoUDP},
			a("::ffff:10.0.0.254"), a("::ffff:255.255.255.255"), 68},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(t, Config{ServerPorts: fakePorts{{17, 68}: true, {17, 546}: true}})
			tc.p.IPLen = 60
			s.feed(tc.p)
			c := s.one()
			if c.Orig != tc.orig || c.Resp != tc.resp || c.RespPort != tc.respPort || c.ClientBy != ByGroup {
				t.Errorf("%s -> %s:%d by %s, want %s -> %s:%d by group", c.Orig, c.Resp, c.RespPort, c.ClientBy, tc.orig, tc.resp, tc.respPort)
			}
		})
	}
}

// TestTimeoutBoundary: Zeek expires a connection idle for its timeout or
// longer, so a packet exactly one timeout after the last starts a new one.
func TestTimeoutBoundary(t *testing.T) {
	tests := []struct {
		name  string
		proto uint8
		cfg   Config
		idle  time.Duration
		conns int
	}{
		{"UDP idle just under the timeout", decode.ProtoUDP, Config{}, DefaultUDPTimeout - time.Nanosecond, 1},
		{"UDP idle exactly the timeout", decode.ProtoUDP, Config{}, DefaultUDPTimeout, 2},
		{"TCP idle exactly 300 s", decode.ProtoTCP, Config{}, 300 * time.Second, 2},
		{"TCP idle 300 s less a microsecond", decode.ProtoTCP, Config{}, 300*time.Second - time.Microsecond, 1},
		{"ICMP idle exactly a custom timeout", decode.ProtoICMP, Config{OtherTimeout: 10 * time.Second}, 10 * time.Second, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(t, tc.cfg)
			send := func() {
				switch tc.proto {
				case decode.ProtoUDP:
					s.udp(true, 10)
				case decode.ProtoTCP:
					s.c("PA", 10)
				default:
					s.feed(icmpPkt(hostC, hostS, 8, 0, 1))
				}
			}
			send()
			s.wait(tc.idle - time.Millisecond) // feed adds the millisecond back
			send()
			if out := s.done(); len(out) != tc.conns {
				t.Fatalf("got %d connections, want %d: %s", len(out), tc.conns, describe(out))
			}
		})
	}
}

// TestPortZeroNeverServer: port 0 is reserved, so the well-known-port rule
// never makes it the server port.
func TestPortZeroNeverServer(t *testing.T) {
	tests := []struct {
		name         string
		sport, dport uint16
		clientPort   uint16
		by           ClientBy
	}{
		{"from port 0 to a registered port", 0, 5000, 0, ByFirstPacket},
		{"to port 0 from a registered port", 5000, 0, 5000, ByFirstPacket},
		{"from port 0 to a well-known port", 0, 53, 0, ByWellKnown},
		{"to port 0 from a well-known port", 53, 0, 0, ByWellKnown},
		{"port 0 both sides", 0, 0, 0, ByFirstPacket},
		{"from port 0 to an ephemeral port", 0, 40000, 40000, ByEphemeral},
	}
	for _, tc := range tests {
		for _, proto := range []uint8{decode.ProtoUDP, decode.ProtoTCP} {
			t.Run(tc.name+"/"+map[uint8]string{6: "tcp", 17: "udp"}[proto], func(t *testing.T) {
				s := newSession(t, Config{ServerPorts: fakePorts{{int(proto), 0}: true}})
				p := decode.Packet{Src: hostS, Dst: hostC, SrcPort: tc.sport, DstPort: tc.dport, Proto: proto, IPLen: 40}
				if proto == decode.ProtoTCP {
					p.TCPFlags = decode.FlagACK
				}
				s.feed(p)
				c := s.one()
				if c.OrigPort != tc.clientPort || c.ClientBy != tc.by {
					t.Errorf("client port %d by %s, want %d by %s", c.OrigPort, c.ClientBy, tc.clientPort, tc.by)
				}
			})
		}
	}
}

// TestContentGaps: bytes the peer acknowledged that the capture never held
// are a content gap, 'G' (originator) or 'g' (responder) in the history as
// Zeek writes it (on the 1st, 10th, 100th ... gap), counted in missed_bytes;
// only while both endpoints are established or closing cleanly.
func TestContentGaps(t *testing.T) {
	lose := func(s *session, client bool, n int) decode.Packet {
		s.drop = true
		s.tcp(client, "PA", n)
		s.drop = false
		return s.lastPkt
	}
	tests := []struct {
		name    string
		script  func(s *session)
		history string
		missed  uint64
		state   string
	}{
		{"lost client segment, later data acknowledged", func(s *session) {
			s.steps(handshake...)
			lose(s, true, 100)
			s.c("PA", 50)
			s.s("A", 0)
		}, "ShADaG", 100, "S1"},
		{"lost server segment", func(s *session) {
			s.steps(handshake...)
			s.c("PA", 10)
			lose(s, false, 1400)
			s.s("PA", 1400)
			s.c("A", 0)
		}, "ShADdg", 1400, "S1"},
		{"lost segment at the end, acknowledged", func(s *session) {
			s.steps(handshake...)
			s.c("PA", 10)
			lose(s, true, 300)
			s.s("A", 0)
		}, "ShADaG", 300, "S1"},
		{"hole filled by the retransmission before the ACK", func(s *session) {
			s.steps(handshake...)
			p := lose(s, true, 100)
			s.c("PA", 50)
			s.feed(p)
			s.s("A", 0)
		}, "ShADTa", 0, "S1"}, // T: the retransmission
		{"hole never acknowledged is no gap", func(s *session) {
			s.steps(handshake...)
			lose(s, true, 100)
			s.c("PA", 50)
		}, "ShAD", 0, "S1"},
		{"gap revealed by the closing FINs", func(s *session) {
			s.steps(handshake...)
			s.c("PA", 10)
			lose(s, true, 100)
			s.c("FA", 0)
			s.s("FA", 0)
			s.c("A", 0)
		}, "ShADFfG", 100, "SF"},
		{"gap revealed by a RST is not flagged", func(s *session) {
			s.steps(handshake...)
			lose(s, true, 100)
			s.c("PA", 50)
			s.s("RA", 0)
		}, "ShADr", 0, "RSTR"},
		{"mid-stream connection: no gaps", func(s *session) {
			s.c("A", 0)
			lose(s, true, 100)
			s.c("PA", 50)
			s.s("A", 0)
		}, "ADa", 0, "OTH"},
		{"ten gaps: the letter again on the tenth", func(s *session) {
			s.steps(handshake...)
			for range 10 {
				lose(s, true, 100)
				s.c("PA", 10)
				s.s("A", 0)
			}
		}, "ShADaGG", 1000, "S1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(t, Config{})
			tc.script(s)
			c := s.one()
			if c.History != tc.history || c.MissedBytes != tc.missed || c.State != tc.state {
				t.Errorf("%s %q missed %d, want %s %q missed %d", c.State, c.History, c.MissedBytes, tc.state, tc.history, tc.missed)
			}
		})
	}
}
