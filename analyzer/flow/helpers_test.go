package flow

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/decode"
)

var (
	hostC  = netip.MustParseAddr("10.0.0.1")   // client
	hostS  = netip.MustParseAddr("10.0.0.2")   // server
	hostR  = netip.MustParseAddr("10.0.0.254") // router
	base   = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	ipHdr  = 20
	tcpHdr = 20
)

// session drives a tracker with packets of one TCP or UDP conversation,
// keeping sequence numbers like a real stack so tests read as scripts.
type session struct {
	t       *testing.T
	tr      *Tracker
	out     []Connection
	frame   uint64
	now     time.Time
	cli     netip.Addr
	srv     netip.Addr
	cport   uint16
	sport   uint16
	next    [2]uint32 // next sequence number: client, server
	window  uint16
	lastPkt decode.Packet
	// drop makes tcp build its segment (in lastPkt, sequence numbers
	// moving on) without feeding it: a packet the capture lost.
	drop bool
}

func newSession(t *testing.T, cfg Config) *session {
	s := &session{t: t, now: base, cli: hostC, srv: hostS, cport: 50000, sport: 443,
		next: [2]uint32{1000, 5000}, window: 8192}
	cb := cfg.OnConnection
	cfg.OnConnection = func(c *Connection) {
		s.out = append(s.out, *c)
		if cb != nil {
			cb(c)
		}
	}
	s.tr = NewTracker(cfg)
	return s
}

// feed adds p one millisecond after the previous packet.
func (s *session) feed(p decode.Packet) {
	s.frame++
	s.now = s.now.Add(time.Millisecond)
	s.lastPkt = p
	s.tr.Add(&p, s.now, Pos{Frame: s.frame})
}

func (s *session) wait(d time.Duration) { s.now = s.now.Add(d) }

// tcp sends a segment from the client (fromClient) or the server. flags is
// a string of S, A, F, R, P letters; n is the payload length.
func (s *session) tcp(fromClient bool, flags string, n int) {
	side := 1
	src, dst, sp, dp := s.srv, s.cli, s.sport, s.cport
	if fromClient {
		side = 0
		src, dst, sp, dp = s.cli, s.srv, s.cport, s.sport
	}
	var f uint8
	for _, r := range flags {
		switch r {
		case 'S':
			f |= decode.FlagSYN
		case 'A':
			f |= decode.FlagACK
		case 'F':
			f |= decode.FlagFIN
		case 'R':
			f |= decode.FlagRST
		case 'P':
			f |= decode.FlagPSH
		}
	}
	p := decode.Packet{Src: src, Dst: dst, SrcPort: sp, DstPort: dp, Proto: decode.ProtoTCP,
		TCPFlags: f, Seq: s.next[side], Window: s.window,
		IPLen: ipHdr + tcpHdr + n, PayloadLen: n}
	if f&decode.FlagACK != 0 {
		p.Ack = s.next[1-side]
	}
	adv := uint32(n)
	if f&decode.FlagSYN != 0 {
		adv++
	}
	if f&decode.FlagFIN != 0 {
		adv++
	}
	if f&decode.FlagRST != 0 {
		adv = 0
	}
	s.next[side] += adv
	if s.drop {
		s.lastPkt = p
		return
	}
	s.feed(p)
}

func (s *session) c(flags string, n int) { s.tcp(true, flags, n) }
func (s *session) s(flags string, n int) { s.tcp(false, flags, n) }

func (s *session) udp(fromClient bool, n int) {
	src, dst, sp, dp := s.srv, s.cli, s.sport, s.cport
	if fromClient {
		src, dst, sp, dp = s.cli, s.srv, s.cport, s.sport
	}
	s.feed(decode.Packet{Src: src, Dst: dst, SrcPort: sp, DstPort: dp, Proto: decode.ProtoUDP,
		IPLen: ipHdr + 8 + n, PayloadLen: n})
}

// done flushes the tracker and returns every connection emitted.
func (s *session) done() []Connection {
	s.tr.Flush()
	return s.out
}

// one flushes and requires exactly one connection.
func (s *session) one() Connection {
	s.t.Helper()
	out := s.done()
	if len(out) != 1 {
		s.t.Fatalf("got %d connections, want 1: %s", len(out), describe(out))
	}
	return out[0]
}

func describe(cs []Connection) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString("\n  ")
		b.WriteString(c.Orig.String())
		b.WriteString(" -> ")
		b.WriteString(c.Resp.String())
		b.WriteString(" ")
		b.WriteString(c.State)
		b.WriteString(" ")
		b.WriteString(c.History)
		b.WriteString(" ")
		b.WriteString(c.Outcome.String())
	}
	return b.String()
}

// fakePorts is a ServerPorts stub.
type fakePorts map[[2]int]bool

func (f fakePorts) ServerPort(proto uint8, port uint16) bool { return f[[2]int{int(proto), int(port)}] }

// steps sends scripted segments in order.
func (s *session) steps(steps ...step) {
	for _, st := range steps {
		s.tcp(st.client, st.flags, st.n)
	}
}
