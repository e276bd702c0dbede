package pcapgen

import (
	"container/heap"
	"fmt"
	"io"
	"math"
	"net/netip"
	"time"
)

// Mix describes a large capture of realistic enterprise traffic for
// benchmarks: TCP sessions of varied length, UDP request/response, media
// streams, refused and unanswered connection attempts, ICMP. Flows are
// generated lazily in start order and written as they complete, so memory
// stays bounded by the flows active at one time.
type Mix struct {
	Seed     uint64
	Flows    int           // 0 means 200000
	Duration time.Duration // capture span; 0 means one hour
	Clients  int           // 0 means 2000
	Servers  int           // 0 means 250
	Start    time.Time     // zero means DefaultStart
}

func (m *Mix) defaults() {
	if m.Flows <= 0 {
		m.Flows = 200000
	}
	if m.Duration <= 0 {
		m.Duration = time.Hour
	}
	if m.Clients <= 0 {
		m.Clients = 2000
	}
	if m.Servers <= 0 {
		m.Servers = 250
	}
}

// Write generates the mix and writes it as one capture.
func (m Mix) Write(w io.Writer, o WriteOptions) (Stats, error) {
	m.defaults()
	src := newMixSource(m)
	st, err := writeFlows(w, src.g.start, src.g.ifaces, src.g.macs, src.next, o)
	if err == nil {
		err = src.g.err
	}
	return st, err
}

type mixSource struct {
	m       Mix
	g       gen
	made    int
	t       time.Duration // start of the next flow to generate
	mean    float64       // mean gap between flow starts, ns
	ready   flowHeap      // generated, not yet handed out; ordered by first packet
	clients []netip.Addr
	servers []netip.Addr
	router  netip.Addr
}

func newMixSource(m Mix) *mixSource {
	s := &mixSource{m: m, g: newGen(Config{Seed: m.Seed, Start: m.Start}), router: netip.AddrFrom4([4]byte{10, 254, 0, 1})}
	s.mean = float64(m.Duration) / float64(m.Flows)
	for i := 0; i < m.Clients; i++ {
		if i%20 == 19 {
			s.clients = append(s.clients, netip.MustParseAddr(fmt.Sprintf("fd00:1::%x", i+1)))
			continue
		}
		s.clients = append(s.clients, netip.AddrFrom4([4]byte{10, 1, byte(i / 250), byte(i%250 + 1)}))
	}
	for i := 0; i < m.Servers; i++ {
		s.servers = append(s.servers, netip.AddrFrom4([4]byte{10, 20, byte(i / 250), byte(i%250 + 1)}))
	}
	return s
}

// next hands out flows in order of their first packet. Constructors may
// put the first packet slightly after the requested start, so flows are
// held until no flow generated later can start before them.
func (s *mixSource) next() *flow {
	for s.made < s.m.Flows && (len(s.ready) == 0 || s.ready.firstAt() >= s.t) {
		if f := s.make(); f != nil && len(f.steps) > 0 {
			f.finish()
			heap.Push(&s.ready, f)
		}
		s.made++
		s.t += time.Duration(s.g.rng.ExpFloat64() * s.mean)
	}
	if len(s.ready) == 0 {
		return nil
	}
	return heap.Pop(&s.ready).(*flow)
}

// firstAt is the smallest next-packet time in the heap (flows in ready
// have not started, so next is 0).
func (h flowHeap) firstAt() time.Duration { return h[0].steps[h[0].next].at }

// server picks a server for a service: each port is served by a few hosts.
func (s *mixSource) server(port uint16, v6 bool) netip.Addr {
	r := s.g.rng
	i := (int(port)*7 + r.IntN(4)) % len(s.servers)
	a := s.servers[i]
	if v6 {
		b := a.As4()
		return netip.AddrFrom16([16]byte{0xfd, 0x00, 0, 0x20, 14: b[2], 15: b[3]})
	}
	return a
}

var (
	webPorts     = []uint16{443, 443, 443, 443, 8443, 80, 4172, 443}
	sessionPorts = []uint16{3389, 1494, 2598, 4172, 22443, 443, 8443}
	dirPorts     = []uint16{389, 88, 445, 135, 1433, 5061, 636, 3268}
	udpPorts     = []uint16{88, 123, 389, 161, 1812, 137}
	mediaPorts   = []uint16{4172, 22443, 3478, 2598}
)

func (s *mixSource) make() *flow {
	g := &s.g
	r := g.rng
	ci := r.IntN(len(s.clients))
	client := s.clients[ci]
	v6 := !client.Is4()
	var p Path
	if ci%10 == 3 {
		p.VLANs = []uint16{100}
	}
	at := s.t
	pick := func(ports []uint16) uint16 { return ports[r.IntN(len(ports))] }
	logn := func(median, sigma float64) int { return int(median * math.Exp(sigma*r.NormFloat64())) }
	k := r.IntN(1000)
	switch {
	case k < 280: // web
		port := pick(webPorts)
		return g.tcpFlow(at, g.ephemeral(client), netip.AddrPortFrom(s.server(port, v6), port), TCPOpts{
			Exchanges: 1 + r.IntN(4), Request: 200 + r.IntN(1000), Response: max(1, logn(2500, 1.2)),
			Close: Close([]Close{CloseFIN, CloseFIN, CloseFIN, CloseFINResp}[r.IntN(4)]), Path: p})
	case k < 295: // long interactive session: remote display, ICA, PCoIP ...
		port := pick(sessionPorts)
		return g.tcpFlow(at, g.ephemeral(client), netip.AddrPortFrom(s.server(port, v6), port), TCPOpts{
			Exchanges: 20 + r.IntN(100), Request: 80 + r.IntN(300), Response: max(1, logn(900, 1.0)),
			Think: time.Duration(20+r.IntN(200)) * time.Millisecond, Path: p})
	case k < 440: // directory, Kerberos, SMB, SQL, SIP-TLS
		port := pick(dirPorts)
		return g.tcpFlow(at, g.ephemeral(client), netip.AddrPortFrom(s.server(port, v6), port), TCPOpts{
			Exchanges: 1 + r.IntN(3), Request: 100 + r.IntN(1500), Response: max(1, logn(800, 1.0)), Path: p})
	case k < 450: // aborted sessions
		port := pick(webPorts)
		return g.tcpFlow(at, g.ephemeral(client), netip.AddrPortFrom(s.server(port, v6), port), TCPOpts{
			Exchanges: 1 + r.IntN(2), Close: Close([]Close{CloseRST, CloseRSTResp, CloseNone}[r.IntN(3)]), Path: p})
	case k < 510: // refused
		port := uint16(1 + r.IntN(10000))
		return g.tcpFlow(at, g.ephemeral(client), netip.AddrPortFrom(s.server(port, v6), port), TCPOpts{Open: OpenRefused, Path: p})
	case k < 550: // unanswered, often blocked by a firewall
		port := pick(append(sessionPorts, dirPorts...))
		return g.tcpFlow(at, g.ephemeral(client), netip.AddrPortFrom(s.server(port, v6), port), TCPOpts{Open: OpenUnanswered, Retries: 1 + r.IntN(2), Path: p})
	case k < 850: // DNS
		dns := s.server(53, v6)
		return g.udpFlow(at, g.ephemeral(client), netip.AddrPortFrom(dns, 53), UDPOpts{
			DNS: fmt.Sprintf("host%d.corp.example", r.IntN(5000)), Path: p})
	case k < 930: // other UDP request/response
		port := pick(udpPorts)
		return g.udpFlow(at, g.ephemeral(client), netip.AddrPortFrom(s.server(port, v6), port), UDPOpts{
			Requests: 1 + r.IntN(3), Request: 40 + r.IntN(400), Response: 40 + r.IntN(1200), Path: p})
	case k < 932: // media / display streams
		port := pick(mediaPorts)
		return g.streamFlow(at, g.ephemeral(client), netip.AddrPortFrom(s.server(port, v6), port), StreamOpts{
			Duration: time.Duration(5+r.IntN(40)) * time.Second, Interval: time.Duration(10+r.IntN(30)) * time.Millisecond,
			Size: 100 + r.IntN(1000), Both: true, Path: p})
	case k < 955: // ICMP echo
		return g.pingFlow(at, client, s.server(0, v6), PingOpts{Count: 1 + r.IntN(4), Lost: r.IntN(5) == 0, Path: p})
	case k < 970: // UDP to a closed port
		port := uint16(1024 + r.IntN(30000))
		return g.udpFlow(at, g.ephemeral(client), netip.AddrPortFrom(s.server(port, v6), port), UDPOpts{Reply: ReplyPortUnreachable, Path: p})
	case k < 980: // TCP blocked by a firewall
		if v6 {
			break
		}
		port := pick(sessionPorts)
		return g.tcpFlow(at, g.ephemeral(client), netip.AddrPortFrom(s.server(port, v6), port), TCPOpts{Open: OpenProhibited, From: s.router, Retries: 1, Path: p})
	}
	// syslog, one way
	return g.udpFlow(at, g.ephemeral(client), netip.AddrPortFrom(s.server(514, v6), 514), UDPOpts{Reply: ReplyNone, Request: 80 + r.IntN(300), Path: p})
}
