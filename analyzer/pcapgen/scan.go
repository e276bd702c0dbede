package pcapgen

import (
	"io"
	"net/netip"
	"time"
)

// Scan describes a capture of TCP SYN probes, as a port scanner leaves
// them: each probe is one SYN, answered by a RST-ACK (port closed), a
// SYN-ACK that the scanner resets (port open), or nothing (filtered).
// Probes are generated lazily and written as they finish, so a scan of
// millions of probes streams to disk in constant memory.
//
// Every client probes Hosts addresses of Network on every port of Ports:
// client c takes the Hosts addresses starting at c×Hosts (wrapping around
// the network). One client, Hosts 65536 and 8 ports is a sweep of a /16 on
// 8 ports; 4096 clients of 256 hosts on one port make 1,048,576 distinct
// services, none of them a sweep at the default threshold.
type Scan struct {
	Seed    uint64
	Clients int          // 0 means 1; clients are 10.99.0.1, 10.99.0.2, ...
	Network netip.Prefix // zero means 10.20.0.0/16
	Hosts   int          // per client; 0 means every address of Network
	Ports   []uint16     // nil means 22, 80, 135, 139, 443, 445, 3389, 8080
	Gap     time.Duration
	// Open and Closed are the fractions of probes answered by a SYN-ACK
	// and by a RST; the rest go unanswered. Both 0 means 0.05 and 0.45.
	Open, Closed float64
	Start        time.Time // zero means DefaultStart
}

// Probes is how many SYNs the scan sends.
func (s Scan) Probes() int {
	s.defaults()
	return s.Clients * s.Hosts * len(s.Ports)
}

func (s *Scan) defaults() {
	if s.Clients <= 0 {
		s.Clients = 1
	}
	if !s.Network.IsValid() {
		s.Network = netip.MustParsePrefix("10.20.0.0/16")
	}
	s.Network = s.Network.Masked()
	size := 1 << min(32-s.Network.Bits(), 30)
	if s.Hosts <= 0 || s.Hosts > size {
		s.Hosts = size
	}
	if len(s.Ports) == 0 {
		s.Ports = []uint16{22, 80, 135, 139, 443, 445, 3389, 8080}
	}
	if s.Gap <= 0 {
		s.Gap = 20 * time.Microsecond
	}
	if s.Open == 0 && s.Closed == 0 {
		s.Open, s.Closed = 0.05, 0.45
	}
}

// Write generates the scan and writes it as one capture.
func (s Scan) Write(w io.Writer, o WriteOptions) (Stats, error) {
	s.defaults()
	src := &scanSource{s: s, g: newGen(Config{Seed: s.Seed, Start: s.Start}), total: s.Clients * s.Hosts * len(s.Ports)}
	src.size = 1 << min(32-s.Network.Bits(), 30)
	src.base = s.Network.Addr().As4()
	st, err := writeFlows(w, src.g.start, src.g.ifaces, src.g.macs, src.next, o)
	if err == nil {
		err = src.g.err
	}
	return st, err
}

type scanSource struct {
	s     Scan
	g     gen
	n     int // probes made
	total int
	size  int
	base  [4]byte
}

// next makes probe n: clients take turns, each walking its hosts, port
// by port.
func (src *scanSource) next() *flow {
	if src.n >= src.total {
		return nil
	}
	s, g := &src.s, &src.g
	n := src.n
	src.n++
	c := n % s.Clients
	rest := n / s.Clients
	h := rest % s.Hosts
	port := s.Ports[rest/s.Hosts]
	client := netip.AddrFrom4([4]byte{10, 99, byte((c + 1) >> 8), byte(c + 1)})
	idx := (c*s.Hosts + h) % src.size
	b := src.base
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(idx)
	server := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	f := g.newFlow(6, g.ephemeral(client), netip.AddrPortFrom(server, port), Path{}, false)
	if f == nil {
		return nil
	}
	at := time.Duration(n) * s.Gap
	rtt := time.Duration(200+g.rng.IntN(800)) * time.Microsecond
	isn := g.rng.Uint32()
	add := func(t time.Duration, rev bool, flags uint8, seq, ack uint32, win uint16) {
		f.steps = append(f.steps, step{at: t, kind: sTCP, rev: rev, flags: flags, seq: seq, ack: ack, win: win})
	}
	add(at, false, flagSYN, isn, 0, 1024)
	switch r := g.rng.Float64(); {
	case r < s.Open:
		sisn := g.rng.Uint32()
		add(at+rtt, true, flagSYN|flagACK, sisn, isn+1, 65535)
		add(at+rtt+10*time.Microsecond, false, flagRST, isn+1, 0, 0)
		f.state = "RSTOS0"
	case r < s.Open+s.Closed:
		add(at+rtt, true, flagRST|flagACK, 0, isn+1, 0)
		f.state = "REJ"
	default:
		f.state = "S0"
	}
	return f
}
