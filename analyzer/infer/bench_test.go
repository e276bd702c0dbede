package infer

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// BenchmarkInfer scores a pilot-sized capture: 200 clients calling 20
// servers on the ports of a Citrix site, against the built-in catalog.
func BenchmarkInfer(b *testing.B) {
	cat := builtinModel(b)
	type port struct {
		proto uint8
		port  uint16
	}
	serverPorts := [][]port{
		{{6, 1494}, {6, 2598}, {17, 1494}, {17, 2598}, {6, 80}}, // VDAs
		{{6, 80}, {6, 443}},                     // StoreFront
		{{6, 88}, {6, 389}, {17, 53}, {6, 445}}, // DC
		{{6, 1433}},                             // SQL
	}
	var services []audit.Service
	for c := 0; c < 200; c++ {
		client := netip.AddrFrom4([4]byte{10, 1, byte(c / 250), byte(c%250 + 1)})
		for s := 0; s < 20; s++ {
			server := netip.AddrFrom4([4]byte{10, 0, 0, byte(s + 1)})
			for _, p := range serverPorts[s%len(serverPorts)] {
				services = append(services, audit.Service{Client: client, Server: server, Proto: p.proto, Port: p.port,
					Connections: 1, Established: 1})
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if hosts := Infer(services, cat, Options{}); len(hosts) != 220 {
			b.Fatalf("%d hosts", len(hosts))
		}
	}
}

// BenchmarkInferFlows scores a Horizon site with a UAG and the
// connections' spans (Options.Flows): 2,000 internal clients each logging
// in to a Connection Server and opening Blast to one of 50 agents, and
// 200 remote users through the UAG, whose inside address passes each on.
// What the inside-address tie costs on top of the scoring ("spans"
// against "no spans").
func BenchmarkInferFlows(b *testing.B) {
	m := builtinModel(b)
	var conns []pilotConn
	at := 1.0
	for c := 0; c < 2000; c++ {
		client := fmt.Sprintf("10.2.%d.%d", c/250, c%250+1)
		agent := fmt.Sprintf("10.3.0.%d", c%50+1)
		conns = append(conns,
			pilotConn{client, "10.0.1.10", 6, 443, at, 0.5, flow.Established},
			pilotConn{client, agent, 6, 22443, at + 2, 30, flow.Established},
			pilotConn{client, agent, 17, 4172, at + 3, 30, flow.Established})
		at += 1.7
	}
	for u := 0; u < 200; u++ {
		user := fmt.Sprintf("203.0.113.%d", u+20)
		agent := fmt.Sprintf("10.3.0.%d", u%50+1)
		start := 10 + 17*float64(u)
		conns = append(conns,
			pilotConn{user, "203.0.113.10", 6, 443, start, 0.5, flow.Established},
			pilotConn{"10.0.9.20", "10.0.1.10", 6, 443, start + 0.3, 0.7, flow.Established},
			pilotConn{user, "203.0.113.10", 6, 8443, start + 2, 20, flow.Established},
			pilotConn{"10.0.9.20", agent, 6, 22443, start + 2.4, 20, flow.Established})
	}
	for a := 1; a <= 50; a++ {
		conns = append(conns, pilotConn{fmt.Sprintf("10.3.0.%d", a), "10.0.1.10", 6, 4002, 0.5, 3000, flow.Established})
	}
	conns = append(conns, pilotConn{"10.0.1.10", "10.0.0.30", 6, 443, 0.2, 1, flow.Established},
		pilotConn{"10.0.1.10", "10.0.3.21", 6, 22443, 0.3, 1, flow.Established})
	services, flows := pilotServices(conns)
	for _, h := range InferAll(services, m, Options{Flows: flows}).Hosts {
		if h.Addr == netip.MustParseAddr("203.0.113.10") && len(h.AllAddrs()) != 2 {
			b.Fatalf("the UAG's inside address is not tied: %v %s", h.AllAddrs(), h.TiedBy)
		}
	}
	for _, c := range []struct {
		name  string
		flows []flow.Service
	}{{"spans", flows}, {"no spans", nil}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res := InferAll(services, m, Options{Flows: c.flows}); len(res.Hosts) == 0 {
					b.Fatal("no hosts")
				}
			}
		})
	}
}
