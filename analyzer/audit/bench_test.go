package audit

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/catalog"
)

// benchServices is how many services BenchmarkAudit labels: about the
// make-bench capture's 97,101.
const benchServices = 100_000

// benchUndocumented are services shaped like the make-bench capture's
// (analyzer/pcapgen's Mix): 2,000 clients (one in twenty IPv6), 250
// servers each serving a few ports, web, session, directory, DNS and other
// UDP services, refused connections and closed UDP ports on random ports,
// unanswered and firewall-prohibited attempts, pings and one-way syslog.
func benchUndocumented(n int) []Service {
	r := rand.New(rand.NewPCG(1, 2))
	clients := make([]netip.Addr, 2000)
	for i := range clients {
		if i%20 == 19 {
			clients[i] = netip.AddrFrom16([16]byte{0xfd, 0, 0, 1, 14: byte((i + 1) >> 8), 15: byte(i + 1)})
			continue
		}
		clients[i] = netip.AddrFrom4([4]byte{10, 1, byte(i / 250), byte(i%250 + 1)})
	}
	router := netip.AddrFrom4([4]byte{10, 254, 0, 1})
	server := func(port uint16, v6 bool) netip.Addr {
		i := (int(port)*7 + r.IntN(4)) % 250
		if v6 {
			return netip.AddrFrom16([16]byte{0xfd, 0x00, 0, 0x20, 14: byte(i / 250), 15: byte(i%250 + 1)})
		}
		return netip.AddrFrom4([4]byte{10, 20, byte(i / 250), byte(i%250 + 1)})
	}
	web := []uint16{443, 443, 443, 443, 8443, 80, 4172, 443}
	session := []uint16{3389, 1494, 2598, 4172, 22443, 443, 8443}
	dir := []uint16{389, 88, 445, 135, 1433, 5061, 636, 3268}
	udp := []uint16{88, 123, 389, 161, 1812, 137}
	pick := func(ps []uint16) uint16 { return ps[r.IntN(len(ps))] }
	type key struct {
		c, s  netip.Addr
		proto uint8
		port  uint16
	}
	seen := map[key]bool{}
	out := make([]Service, 0, n)
	for len(out) < n {
		c := clients[r.IntN(len(clients))]
		v6 := !c.Is4()
		s := Service{Client: c, Proto: 6, Connections: 1, Packets: 10, Bytes: 4000, ClientPackets: 5,
			FirstSeen: t0, LastSeen: t0.Add(time.Duration(r.IntN(3000)) * time.Millisecond), FirstFrame: Frame{File: "bench.pcap", Frame: uint64(len(out) + 1)}}
		est := func(port uint16) { s.Port, s.Server, s.Established = port, server(port, v6), 1 }
		switch k := r.IntN(1000); {
		case k < 440:
			est(pick([][]uint16{web, session, dir}[r.IntN(3)]))
		case k < 450: // aborted: reset by the host
			est(pick(web))
			s.Established, s.Rejected, s.RSTs, s.RSTTTL, s.ServerTTLMin, s.ServerTTLMax = 0, 1, 1, 64, 64, 64
		case k < 510: // refused on a random port
			s.Port = uint16(1 + r.IntN(10000))
			s.Server, s.Rejected, s.RSTs, s.RSTTTL, s.Packets = server(s.Port, v6), 1, 1, 64, 2
		case k < 550: // unanswered
			s.Port = pick(append(session, dir...))
			s.Server, s.Unanswered, s.Packets, s.ClientPackets = server(s.Port, v6), 1, 2, 2
		case k < 850:
			s.Proto = 17
			est(53)
		case k < 930:
			s.Proto = 17
			est(pick(udp))
		case k < 955: // ping
			s.Proto, s.Port, s.Server, s.Established = 1, 8, server(0, v6), 1
			if v6 {
				s.Proto = 58
				s.Port = 128
			}
		case k < 970: // UDP to a closed port
			s.Proto, s.Port = 17, uint16(1024+r.IntN(30000))
			s.Server, s.Unanswered = server(s.Port, v6), 1
			s.ICMPErrors, s.ICMPFrom, s.ICMPType, s.ICMPCode, s.ICMPName = 1, s.Server, 3, 3, "port-unreachable"
		case k < 980 && !v6: // prohibited by a firewall
			s.Port = pick(session)
			s.Server, s.Unanswered = server(s.Port, v6), 1
			s.ICMPErrors, s.ICMPFrom, s.ICMPType, s.ICMPCode, s.ICMPName = 1, router, 3, 13, "communication-administratively-prohibited"
		default: // syslog, one way
			s.Proto, s.Port = 17, 514
			s.Server, s.Unanswered = server(514, v6), 1
		}
		if k := (key{s.Client, s.Server, s.Proto, s.Port}); !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	sortServices(out)
	return out
}

// sortServices sorts services as the flow tracker hands them out: by
// client, server, protocol and port.
func sortServices(ss []Service) {
	slices.SortFunc(ss, func(a, b Service) int { return compareKeys(&a, &b) })
}

// benchPilotInventory is a Horizon and Citrix pilot side by side: their
// servers, a pool of desktops (agents and VDAs) each, and a user LAN
// running both clients.
const benchPilotInventory = `
hosts:
  - {name: dc01, addresses: [192.0.2.5], roles: [Domain Controller, DNS Server, NTP Server]}
  - {name: hz-cs01, addresses: [192.0.2.10], roles: [Horizon Connection Server]}
  - {name: hz-uag01, addresses: [203.0.113.10, 192.0.2.20], roles: [Unified Access Gateway]}
  - {name: vc01, addresses: [192.0.2.30], roles: [vCenter Server]}
  - {name: sql01, addresses: [192.0.2.40], roles: [Horizon Event Database (Microsoft SQL Server)]}
  - {name: syslog01, addresses: [192.0.2.60], roles: [Syslog Server]}
  - {name: mon01, addresses: [192.0.2.70], roles: [SNMP Manager]}
  - {name: vdi-pool, addresses: [10.10.0.0/22], roles: [Horizon Agent]}
  - {name: ctx-ddc01, addresses: [192.0.2.11], roles: [Delivery Controller, Secure Ticket Authority]}
  - {name: ctx-sf01, addresses: [192.0.2.21], roles: [StoreFront]}
  - {name: ctx-lic01, addresses: [192.0.2.31], roles: [Citrix License Server]}
  - {name: ctx-sql01, addresses: [192.0.2.41], roles: [SQL Server]}
  - {name: vda-pool, addresses: [10.11.0.0/22], roles: [Virtual Delivery Agent]}
  - {name: user-lan, addresses: [10.100.0.0/16, "2001:db8:200::/64"], roles: [Horizon Client, Citrix Workspace app]}
`

// benchPilot are services of benchPilotInventory's hosts, nine in ten
// documented (a rule between two of its hosts' roles, on one of its
// ports), the rest on random ports or from hosts outside the inventory.
func benchPilot(tb testing.TB, n int) ([]Service, *inventory.Inventory, *catalog.Catalog) {
	cat, err := catalog.Default()
	if err != nil {
		tb.Fatal(err)
	}
	inv, err := inventory.Parse("pilot.yaml", []byte(benchPilotInventory), cat)
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	addr := func(h *inventory.Host) netip.Addr {
		p := h.Addresses[r.IntN(len(h.Addresses))]
		if p.IsSingleIP() {
			return p.Addr()
		}
		b, bits := p.Masked().Addr().AsSlice(), r.Uint64()
		for i := p.Bits(); i < len(b)*8; i++ { // random host bits
			b[i/8] |= byte(bits>>(i%64)&1) << (7 - i%8)
		}
		a, _ := netip.AddrFromSlice(b)
		return a
	}
	type pair struct {
		r              *catalog.Rule
		client, server []*inventory.Host
	}
	var pairs []pair
	for _, rule := range cat.Rules() {
		var p pair
		for _, h := range inv.Hosts {
			if h.Plays(rule.From) {
				p.client = append(p.client, h)
			}
			if h.Plays(rule.To) {
				p.server = append(p.server, h)
			}
		}
		if len(p.client) > 0 && len(p.server) > 0 && len(rule.Protocols) > 0 {
			p.r = rule
			pairs = append(pairs, p)
		}
	}
	if len(pairs) < 20 {
		tb.Fatalf("%d rules between the pilot's roles: the benchmark needs more", len(pairs))
	}
	type key struct {
		c, s  netip.Addr
		proto uint8
		port  uint16
	}
	seen := map[key]bool{}
	out := make([]Service, 0, n)
	for len(out) < n {
		p := pairs[r.IntN(len(pairs))]
		s := Service{Client: addr(p.client[r.IntN(len(p.client))]), Server: addr(p.server[r.IntN(len(p.server))]),
			Proto: p.r.Protocols[r.IntN(len(p.r.Protocols))], Connections: 3, Established: 3, Packets: 40, Bytes: 30000,
			FirstSeen: t0, LastSeen: t0.Add(time.Minute), FirstFrame: Frame{File: "pilot.pcap", Frame: uint64(len(out) + 1)}}
		if catalog.HasPorts(s.Proto) && len(p.r.Ports) > 0 {
			pr := p.r.Ports[r.IntN(len(p.r.Ports))]
			s.Port = pr.Lo + uint16(r.IntN(int(pr.Hi-pr.Lo)+1))
		}
		switch k := r.IntN(100); {
		case k < 5: // a port no rule of these roles names
			s.Proto, s.Port = 6, uint16(1+r.IntN(10000))
		case k < 10: // a client outside the inventory
			s.Client = netip.AddrFrom4([4]byte{172, 16, byte(r.IntN(16)), byte(1 + r.IntN(254))})
		case k < 13: // never answered
			s.Established, s.Unanswered, s.ClientPackets = 0, 3, 6
		}
		if k := (key{s.Client, s.Server, s.Proto, s.Port}); !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	sortServices(out)
	return out, inv, cat
}

// BenchmarkAudit audits 100,000 services: undocumented, as the make-bench
// capture's without an inventory, and a pilot's, mostly documented.
func BenchmarkAudit(b *testing.B) {
	cat, err := catalog.Default()
	if err != nil {
		b.Fatal(err)
	}
	pilot, inv, pcat := benchPilot(b, benchServices)
	cases := []struct {
		name     string
		services []Service
		inv      *inventory.Inventory
		cat      *catalog.Catalog
		opts     Options
	}{
		{"undocumented", benchUndocumented(benchServices), nil, cat, Options{Now: t0}},
		{"pilot", pilot, inv, pcat, Options{Scope: inv.Scope(), Now: t0}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Audit(c.services, c.inv, c.cat, c.opts)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(c.services)), "ns/service")
		})
	}
}

// TestBenchPilotDocumented: the pilot benchmark labels what it says,
// mostly documented services and some of every kind of undocumented.
func TestBenchPilotDocumented(t *testing.T) {
	services, inv, cat := benchPilot(t, 5000)
	c := Audit(services, inv, cat, Options{Scope: inv.Scope(), Now: t0}).Counts()
	if c.Documented < 4000 || c.Undocumented < 300 || c.Blocked < 50 {
		t.Errorf("counts %+v: want about 90%% documented, some blocked", c)
	}
}
