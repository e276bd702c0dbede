package flow

import (
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/decode"
)

// probe is one TCP connection attempt from hostC and what answered it.
type probe struct {
	server netip.Addr
	port   uint16
	answer string // "rst", "synack", "none", "icmp"
	ttl    uint8  // TTL of the answer
}

// feedProbes plays each probe as a SYN and its answer, 1 ms apart, the
// client port changing with every probe.
func feedProbes(tr *Tracker, ps []probe) {
	now := base
	frame := uint64(0)
	add := func(p decode.Packet) {
		frame++
		now = now.Add(time.Millisecond)
		tr.Add(&p, now, Pos{Frame: frame})
	}
	for i, pr := range ps {
		cport := uint16(20000 + i%40000)
		add(decode.Packet{Src: hostC, Dst: pr.server, SrcPort: cport, DstPort: pr.port, Proto: decode.ProtoTCP,
			TCPFlags: decode.FlagSYN, Seq: 1, IPLen: 40, TTL: 64})
		switch pr.answer {
		case "rst":
			add(decode.Packet{Src: pr.server, Dst: hostC, SrcPort: pr.port, DstPort: cport, Proto: decode.ProtoTCP,
				TCPFlags: decode.FlagRST | decode.FlagACK, Ack: 2, IPLen: 40, TTL: pr.ttl})
		case "synack":
			add(decode.Packet{Src: pr.server, Dst: hostC, SrcPort: pr.port, DstPort: cport, Proto: decode.ProtoTCP,
				TCPFlags: decode.FlagSYN | decode.FlagACK, Seq: 100, Ack: 2, IPLen: 44, TTL: pr.ttl})
			add(decode.Packet{Src: hostC, Dst: pr.server, SrcPort: cport, DstPort: pr.port, Proto: decode.ProtoTCP,
				TCPFlags: decode.FlagACK, Seq: 2, Ack: 101, IPLen: 40, TTL: 64})
		case "icmp":
			add(decode.Packet{Src: hostR, Dst: hostC, Proto: decode.ProtoICMP, ICMPType: 3, ICMPCode: 13, IPLen: 56, TTL: pr.ttl,
				Quoted: decode.Quoted{Valid: true, Src: hostC, Dst: pr.server, SrcPort: cport, DstPort: pr.port, Proto: decode.ProtoTCP}})
		}
	}
	tr.Flush()
}

func TestBlockEvidence(t *testing.T) {
	srv2 := netip.MustParseAddr("10.0.0.3")
	tests := []struct {
		name   string
		probes []probe
		want   Service // only the evidence fields are compared
	}{
		{"host refuses: RST with the server's TTL",
			[]probe{{hostS, 443, "synack", 61}, {hostS, 3389, "rst", 61}},
			Service{ServerTTLMin: 61, ServerTTLMax: 61, RSTTTL: 61, RSTs: 1}},
		{"middlebox resets: RST with another TTL",
			[]probe{{hostS, 443, "synack", 61}, {hostS, 3389, "rst", 250}},
			Service{ServerTTLMin: 61, ServerTTLMax: 61, RSTTTL: 250, RSTs: 1}},
		{"host refuses: RST within the server's TTLs",
			[]probe{{hostS, 443, "synack", 60}, {hostS, 80, "synack", 62}, {hostS, 3389, "rst", 61}},
			Service{ServerTTLMin: 60, ServerTTLMax: 62, RSTTTL: 61, RSTs: 1}},
		{"RST only: no other packet of the server",
			[]probe{{srv2, 3389, "rst", 128}},
			Service{RSTTTL: 128, RSTs: 1}},
		{"ICMP admin prohibited from the router",
			[]probe{{hostS, 3389, "icmp", 255}},
			Service{ICMPFrom: hostR, ICMPType: 3, ICMPCode: 13}},
		{"no answer",
			[]probe{{hostS, 3389, "none", 0}, {hostS, 3389, "none", 0}},
			Service{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker(Config{})
			feedProbes(tr, tc.probes)
			var got *Service
			ss := tr.Services()
			for i := range ss {
				if ss[i].Port == 3389 {
					got = &ss[i]
				}
			}
			if got == nil {
				t.Fatalf("no 3389 service in %+v", ss)
			}
			ev := Service{ServerTTLMin: got.ServerTTLMin, ServerTTLMax: got.ServerTTLMax, RSTTTL: got.RSTTTL, RSTs: got.RSTs,
				ICMPFrom: got.ICMPFrom, ICMPType: got.ICMPType, ICMPCode: got.ICMPCode}
			if !reflect.DeepEqual(ev, tc.want) {
				t.Errorf("evidence %+v, want %+v", ev, tc.want)
			}
		})
	}
}

func addr4(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}) }

func TestSweeps(t *testing.T) {
	// hosts: n servers on port 445, answers cycling rst, synack, none.
	hosts := func(n int, port uint16) []probe {
		var ps []probe
		for i := 0; i < n; i++ {
			ps = append(ps, probe{addr4(i), port, []string{"rst", "synack", "none"}[i%3], 64})
		}
		return ps
	}
	ports := func(server netip.Addr, from, to int) []probe {
		var ps []probe
		for p := from; p <= to; p++ {
			ps = append(ps, probe{server, uint16(p), "rst", 64})
		}
		return ps
	}
	type want struct {
		services int
		sweeps   []Sweep // compared on kind, client, server, proto, ports, servers and counts
	}
	cat := func(pss ...[]probe) []probe {
		var out []probe
		for _, ps := range pss {
			out = append(out, ps...)
		}
		return out
	}
	tests := []struct {
		name      string
		threshold int
		probes    []probe
		want      want
	}{
		{"at the threshold: services", 10, hosts(10, 445), want{services: 10}},
		{"one past: a host sweep", 10, hosts(11, 445), want{sweeps: []Sweep{
			{Kind: SweepHosts, Client: hostC, Proto: 6, Ports: []PortRange{{445, 445}}, Servers: 11, ServerLo: addr4(0), ServerHi: addr4(10), Counts: Counts{Connections: 11, Established: 4, Rejected: 4, Unanswered: 3}}}}},
		{"repeated probes count servers once", 10, cat(hosts(20, 445), hosts(20, 445)), want{sweeps: []Sweep{
			{Kind: SweepHosts, Client: hostC, Proto: 6, Ports: []PortRange{{445, 445}}, Servers: 20, ServerLo: addr4(0), ServerHi: addr4(19), Counts: Counts{Connections: 40, Established: 14, Rejected: 14, Unanswered: 12}}}}},
		{"port sweep with ranges", 10, cat(ports(hostS, 1, 8), ports(hostS, 20, 25), ports(hostS, 443, 443)), want{sweeps: []Sweep{
			{Kind: SweepPorts, Client: hostC, Server: hostS, Proto: 6, Ports: []PortRange{{1, 8}, {20, 25}, {443, 443}}, Servers: 1, ServerLo: hostS, ServerHi: hostS, Counts: Counts{Connections: 15, Rejected: 15}}}}},
		{"two sweeps and a service left alone", 10, cat(hosts(12, 445), hosts(12, 139), []probe{{hostS, 22, "synack", 64}}), want{services: 1, sweeps: []Sweep{
			{Kind: SweepHosts, Client: hostC, Proto: 6, Ports: []PortRange{{139, 139}}, Servers: 12, ServerLo: addr4(0), ServerHi: addr4(11), Counts: Counts{Connections: 12, Established: 4, Rejected: 4, Unanswered: 4}},
			{Kind: SweepHosts, Client: hostC, Proto: 6, Ports: []PortRange{{445, 445}}, Servers: 12, ServerLo: addr4(0), ServerHi: addr4(11), Counts: Counts{Connections: 12, Established: 4, Rejected: 4, Unanswered: 4}}}}},
		{"detection off", -1, hosts(300, 445), want{services: 300}},
		{"default threshold 256", 0, hosts(257, 445), want{sweeps: []Sweep{
			{Kind: SweepHosts, Client: hostC, Proto: 6, Ports: []PortRange{{445, 445}}, Servers: 257, ServerLo: addr4(0), ServerHi: addr4(256), Counts: Counts{Connections: 257, Established: 86, Rejected: 86, Unanswered: 85}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker(Config{SweepThreshold: tc.threshold})
			feedProbes(tr, tc.probes)
			ss, sw := tr.Services(), tr.Sweeps()
			if len(ss) != tc.want.services {
				t.Errorf("%d services, want %d", len(ss), tc.want.services)
			}
			if len(sw) != len(tc.want.sweeps) {
				t.Fatalf("%d sweeps, want %d: %+v", len(sw), len(tc.want.sweeps), sw)
			}
			var conns uint64
			for _, s := range ss {
				conns += s.Connections
			}
			for i, g := range sw {
				conns += g.Connections
				w := tc.want.sweeps[i]
				if g.First.IsZero() || g.Last.Before(g.First) || g.FirstPos.Frame == 0 {
					t.Errorf("sweep %d: times %v..%v, first frame %d", i, g.First, g.Last, g.FirstPos.Frame)
				}
				g.First, g.Last, g.FirstPos = time.Time{}, time.Time{}, Pos{}
				g.ClientPackets, g.ServerPackets, g.ClientIPBytes, g.ServerIPBytes, g.Partial = 0, 0, 0, 0, 0
				if !reflect.DeepEqual(g, w) {
					t.Errorf("sweep %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
			if st := tr.Stats(); conns != st.Connections {
				t.Errorf("services and sweeps hold %d connections, the tracker made %d", conns, st.Connections)
			}
			// Asking again gives the same answer.
			if again := tr.Sweeps(); len(again) != len(sw) || (len(sw) > 0 && again[0].Connections != sw[0].Connections) {
				t.Errorf("second Sweeps call differs: %+v", again)
			}
		})
	}
}

// TestSweepExtent: a host sweep's server extent is its lowest and highest
// server, kept exactly when the servers are no longer remembered one by
// one (ServersApprox), so a waiver can be judged against it.
func TestSweepExtent(t *testing.T) {
	w := &sweeps{members: maxSweepMembers} // the bound is reached: no server is remembered
	s := &Sweep{Kind: SweepHosts, Client: hostC, Proto: 6, Ports: []PortRange{{445, 445}}, members: map[netip.Addr]struct{}{}}
	for _, i := range []int{300, 7, 4000, 7, 12} {
		w.member(s, ServiceKey{Client: hostC, Server: addr4(i), Proto: 6, Port: 445})
	}
	if !s.ServersApprox || s.Servers != 5 {
		t.Errorf("servers %d approx %v: want 5 counted approximately (7 twice)", s.Servers, s.ServersApprox)
	}
	if s.ServerLo != addr4(7) || s.ServerHi != addr4(4000) {
		t.Errorf("extent %s..%s, want %s..%s", s.ServerLo, s.ServerHi, addr4(7), addr4(4000))
	}
	// Merged from another reader, the extent is the union.
	o := &Sweep{Kind: SweepHosts, ServerLo: addr4(2), ServerHi: addr4(9)}
	s.extend(o.ServerLo)
	s.extend(o.ServerHi)
	s.extend(netip.Addr{}) // a sweep with no extent widens nothing
	if s.ServerLo != addr4(2) || s.ServerHi != addr4(4000) {
		t.Errorf("merged extent %s..%s, want %s..%s", s.ServerLo, s.ServerHi, addr4(2), addr4(4000))
	}
}

// TestSweepCountsBounded: the sweep counters hold at most MaxServices keys
// each; a key past the bound is not counted (so never opens a sweep), and
// a key whose sweep opened no longer counts toward the bound.
func TestSweepCountsBounded(t *testing.T) {
	hosts := func(port uint16, servers ...int) []probe {
		var ps []probe
		for _, i := range servers {
			ps = append(ps, probe{addr4(i), port, "rst", 64})
		}
		return ps
	}
	type got struct {
		Services, Unaggregated uint64
		Sweeps                 []string // kind client port: servers connections
	}
	tests := []struct {
		name        string
		maxServices int
		probes      [][]probe
		want        got
	}{
		// Ports 1 and 2 fill the counters: port 3's servers are not
		// counted and open no sweep.
		{"a key past the bound", 2, [][]probe{hosts(1, 1), hosts(2, 2), hosts(3, 10, 11, 12, 13)},
			got{Services: 2, Unaggregated: 4}},
		// Port 445's sweep frees its counter: port 139 is counted and
		// opens a sweep of its own.
		{"a sweep frees its count", 1, [][]probe{hosts(445, 1, 2, 3), hosts(139, 1, 2, 3)},
			got{Unaggregated: 3, Sweeps: []string{"hosts 10.0.0.1 139: 1 servers 1 connections", "hosts 10.0.0.1 445: 2 servers 2 connections"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker(Config{SweepThreshold: 2, MaxServices: tc.maxServices})
			var ps []probe
			for _, p := range tc.probes {
				ps = append(ps, p...)
			}
			feedProbes(tr, ps)
			g := got{Services: uint64(len(tr.Services())), Unaggregated: tr.Stats().Unaggregated}
			for _, s := range tr.Sweeps() {
				g.Sweeps = append(g.Sweeps, fmt.Sprintf("%s %s %d: %d servers %d connections", s.Kind, s.Client, s.Ports[0].Lo, s.Servers, s.Connections))
			}
			if !reflect.DeepEqual(g, tc.want) {
				t.Errorf("got  %+v\nwant %+v", g, tc.want)
			}
		})
	}
}
