package flow

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
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

// TestSeveralHoles: an acknowledgement that passes over several holes
// counts the bytes of every one of them in missed_bytes, and each hole as
// one gap in the history's scaled count, as Zeek's
// Reassembler::Undelivered reports one content_gap per hole.
func TestSeveralHoles(t *testing.T) {
	lose := func(s *session, client bool, n int) decode.Packet {
		s.drop = true
		s.tcp(client, "PA", n)
		s.drop = false
		return s.lastPkt
	}
	// ackAt sends a pure ACK from the server acknowledging the client's
	// stream up to the client's initial sequence number (1000) plus rel.
	ackAt := func(s *session, rel uint32) {
		saved := s.next[0]
		s.next[0] = 1000 + rel
		s.s("A", 0)
		s.next[0] = saved
	}
	// After the handshake the client's first data byte is at 1001: rel 1.
	tests := []struct {
		name     string
		script   func(s *session)
		history  string
		missed   uint64
		state    string
		origGaps uint32 // gaps counted on the originator's side
	}{
		{"two holes, one ACK", func(s *session) {
			s.steps(handshake...)
			lose(s, true, 100)
			s.c("PA", 50)
			lose(s, true, 200)
			s.c("PA", 30)
			s.s("A", 0)
		}, "ShADaG", 300, "S1", 2},
		{"three holes, one ACK", func(s *session) {
			s.steps(handshake...)
			lose(s, true, 100)
			s.c("PA", 50)
			lose(s, true, 200)
			s.c("PA", 30)
			lose(s, true, 300)
			s.c("PA", 20)
			s.s("A", 0)
		}, "ShADaG", 600, "S1", 3},
		{"three holes, the last one up to the ACK", func(s *session) {
			s.steps(handshake...)
			lose(s, true, 100)
			s.c("PA", 50)
			lose(s, true, 200)
			s.c("PA", 30)
			lose(s, true, 300)
			s.s("A", 0)
		}, "ShADaG", 600, "S1", 3},
		{"the middle hole filled by a retransmission", func(s *session) {
			s.steps(handshake...)
			lose(s, true, 100)
			s.c("PA", 50)
			p := lose(s, true, 200)
			s.c("PA", 30)
			lose(s, true, 300)
			s.c("PA", 20)
			s.feed(p)
			s.s("A", 0)
		}, "ShADTaG", 400, "S1", 2},
		{"every hole filled by retransmissions, last first", func(s *session) {
			s.steps(handshake...)
			p1 := lose(s, true, 100)
			s.c("PA", 50)
			p2 := lose(s, true, 200)
			s.c("PA", 30)
			s.feed(p2)
			s.feed(p1)
			s.s("A", 0)
		}, "ShADTa", 0, "S1", 0},
		{"the first hole filled after the first ACK", func(s *session) {
			s.steps(handshake...)
			p1 := lose(s, true, 100)
			s.c("PA", 50)
			lose(s, true, 200)
			s.c("PA", 30)
			ackAt(s, 1) // acknowledges nothing new
			s.feed(p1)
			s.s("A", 0)
		}, "ShADaTG", 200, "S1", 1},
		{"holes acknowledged in separate ACKs", func(s *session) {
			s.steps(handshake...)
			lose(s, true, 100)
			s.c("PA", 50)
			lose(s, true, 200)
			s.c("PA", 30)
			ackAt(s, 151) // the end of the first block
			s.s("A", 0)
		}, "ShADaG", 300, "S1", 2},
		{"ACKs ending inside holes", func(s *session) {
			s.steps(handshake...)
			lose(s, true, 100)
			s.c("PA", 50)
			lose(s, true, 200)
			s.c("PA", 30)
			ackAt(s, 50)  // inside the first hole: 49 bytes
			ackAt(s, 200) // 51, the block, then 49 of the second hole
			s.s("A", 0)   // the second hole's other 151, the block
		}, "ShADaG", 300, "S1", 4},
		{"an ACK inside a block", func(s *session) {
			s.steps(handshake...)
			lose(s, true, 100)
			s.c("PA", 50)
			lose(s, true, 200)
			s.c("PA", 30)
			ackAt(s, 120) // the first hole, into the block
			s.s("A", 0)   // the second hole
		}, "ShADaG", 300, "S1", 2},
		{"holes then FIN", func(s *session) {
			s.steps(handshake...)
			s.c("PA", 10)
			lose(s, true, 100)
			s.c("PA", 50)
			lose(s, true, 200)
			s.c("FA", 0)
			s.s("FA", 0)
			s.c("A", 0)
		}, "ShADFfG", 300, "SF", 2},
		{"holes then FIN carrying data", func(s *session) {
			s.steps(handshake...)
			lose(s, true, 100)
			s.c("PA", 50)
			lose(s, true, 200)
			s.c("FPA", 40)
			s.s("FA", 0)
			s.c("A", 0)
		}, "ShADFfG", 300, "SF", 2},
		{"holes in both directions", func(s *session) {
			s.steps(handshake...)
			lose(s, true, 100)
			s.c("PA", 50)
			lose(s, true, 200)
			s.c("PA", 30)
			s.s("A", 0)
			lose(s, false, 1000)
			s.s("PA", 20)
			lose(s, false, 10)
			s.s("PA", 5)
			lose(s, false, 7)
			s.c("A", 0)
		}, "ShADaGdg", 1317, "S1", 2},
		{"holes revealed by a RST are not flagged", func(s *session) {
			s.steps(handshake...)
			lose(s, true, 100)
			s.c("PA", 50)
			lose(s, true, 200)
			s.c("PA", 30)
			s.s("RA", 0)
		}, "ShADr", 0, "RSTR", 0},
		{"ten holes over two ACKs: the letter again on the tenth", func(s *session) {
			s.steps(handshake...)
			for range 2 {
				for range 4 {
					lose(s, true, 10)
					s.c("PA", 1)
				}
				lose(s, true, 10)
				s.s("A", 0)
			}
		}, "ShADaGG", 100, "S1", 10},
		{"more holes than maxHoles: the smallest between blocks merged", func(s *session) {
			s.steps(handshake...)
			for _, n := range []int{100, 5, 200, 300, 400, 500} {
				lose(s, true, n)
				s.c("PA", 10)
			}
			s.s("A", 0)
		}, "ShADaG", 1505 - 5 - 200, "S1", 4}, // the 5- and 200-byte holes merged
		{"16 KiB beyond a hole before any data is acknowledged: Zeek gives up", func(s *session) {
			s.steps(handshake...)
			lose(s, true, 100)
			for range 12 { // 100 + 16,800 above the hole: more than 16,384
				s.c("PA", 1400)
			}
			s.s("A", 0)
		}, "ShADa", 0, "S1", 0},
		{"just under 16 KiB beyond a hole before any ACK", func(s *session) {
			s.steps(handshake...)
			lose(s, true, 100)
			for range 11 { // 100 + 15,400
				s.c("PA", 1400)
			}
			s.s("A", 0)
		}, "ShADaG", 100, "S1", 1},
		{"16 KiB beyond a hole once data was acknowledged", func(s *session) {
			s.steps(handshake...)
			s.c("PA", 10)
			s.s("A", 0)
			lose(s, true, 100)
			for range 12 {
				s.c("PA", 1400)
			}
			s.s("A", 0)
		}, "ShADaG", 100, "S1", 1},
		{"10 MiB held without further ACKs: Zeek gives up", func(s *session) {
			s.steps(handshake...)
			s.c("PA", 10)
			s.s("A", 0)
			lose(s, true, 100)
			for range 7500 { // 10,500,000 bytes: more than 10,485,760
				s.c("PA", 1400)
			}
			s.s("A", 0)
		}, "ShADa", 0, "S1", 0},
		{"just under 10 MiB held", func(s *session) {
			s.steps(handshake...)
			s.c("PA", 10)
			s.s("A", 0)
			lose(s, true, 100)
			for range 7480 { // 10,472,000 bytes
				s.c("PA", 1400)
			}
			s.s("A", 0)
		}, "ShADaG", 100, "S1", 1},
		{"10 MiB in order without ACKs, then a hole: Zeek gives up", func(s *session) {
			s.steps(handshake...)
			s.c("PA", 10)
			s.s("A", 0)
			for range 7500 {
				s.c("PA", 1400)
			}
			lose(s, true, 100)
			s.c("PA", 10)
			s.s("A", 0)
		}, "ShADa", 0, "S1", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(t, Config{})
			tc.script(s)
			// The gap count is checked on the live endpoint, before the
			// flush hands the connection out.
			var gaps uint32
			s.tr.conns.each(func(c *conn) { gaps = c.ep[0].gapCnt })
			c := s.one()
			if c.History != tc.history || c.MissedBytes != tc.missed || c.State != tc.state || gaps != tc.origGaps {
				t.Errorf("%s %q missed %d, %d gaps; want %s %q missed %d, %d gaps",
					c.State, c.History, c.MissedBytes, gaps, tc.state, tc.history, tc.missed, tc.origGaps)
			}
		})
	}
}

// TestHolesAgainstByteModel checks the gap bookkeeping against a plain
// byte-by-byte model of Zeek's reassembler over random segments and
// acknowledgements: exact while no more than maxHoles blocks are open
// beyond holes, never more than the model once holes were merged.
func TestHolesAgainstByteModel(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 2026))
	const size = 300
	exact, merged := 0, 0
	for round := range 5000 {
		var c conn
		c.ep[0].state, c.ep[1].state = tcpEstablished, tcpEstablished
		var seen [size + 40]bool
		lrs, trim := uint64(1), uint64(1)
		var missed uint64
		var gaps uint32
		overflow := false
		var script []string
		for range 40 {
			if r.IntN(3) > 0 {
				seq, n := 1+uint64(r.IntN(size)), 1+uint64(r.IntN(25))
				script = append(script, fmt.Sprintf("data %d+%d", seq, n))
				c.dataSent(0, seq, n)
				for b := max(seq, trim); b < seq+n; b++ {
					seen[b] = true
				}
				for seen[lrs] {
					lrs++
				}
				runs := 0
				for b := lrs + 1; b < uint64(len(seen)); b++ {
					if seen[b] && !seen[b-1] {
						runs++
					}
				}
				if runs > maxHoles {
					overflow = true
				}
				continue
			}
			ack := 1 + uint64(r.IntN(size+20))
			script = append(script, fmt.Sprintf("ack %d", ack))
			c.ackReceived(0, ack)
			if ack <= trim {
				continue
			}
			trim = ack
			inHole := false
			for ; lrs < ack; lrs++ {
				if !seen[lrs] && !inHole {
					gaps++ // one gap per run of bytes never seen
				}
				if inHole = !seen[lrs]; inHole {
					missed++
				}
			}
			for seen[lrs] {
				lrs++
			}
		}
		e := &c.ep[0]
		if overflow {
			merged++
			if e.missed > missed {
				t.Fatalf("round %d: missed %d, more than the model's %d after merging holes\n%s", round, e.missed, missed, strings.Join(script, "\n"))
			}
			continue
		}
		exact++
		if e.missed != missed || e.gapCnt != gaps || e.reasm != lrs {
			t.Fatalf("round %d: missed %d in %d gaps (reasm %d), model %d in %d (%d)\n%s", round, e.missed, e.gapCnt, e.reasm, missed, gaps, lrs, strings.Join(script, "\n"))
		}
	}
	t.Logf("%d rounds exact, %d with holes merged", exact, merged)
	if exact < 1000 || merged < 100 {
		t.Errorf("only %d exact and %d merged rounds: the generator misses a case", exact, merged)
	}
}
