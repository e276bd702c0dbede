package infer

import (
	"net/netip"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/audit"
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
