package audit

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/catalog"
)

// TestWaiverCoversSweep: a waiver accepts a sweep only when it covers all
// of it: the client, the protocol, every port swept and every server the
// sweep could have touched (a hosts sweep's extent, which only "any" or a
// block holding both ends covers, counted exactly or not).
func TestWaiverCoversSweep(t *testing.T) {
	cat, inv := fixture(t)
	a := netip.MustParseAddr
	hosts := func(lo, hi string, approx bool) *Sweep {
		return &Sweep{Kind: "hosts", Client: a("192.0.2.1"), ClientHost: inv.Lookup(a("192.0.2.1")), Proto: 6,
			Ports: []catalog.PortRange{{Lo: 445, Hi: 445}}, Servers: 300, ServersApprox: approx, ServerLo: a(lo), ServerHi: a(hi)}
	}
	ports := &Sweep{Kind: "ports", Client: a("192.0.2.1"), ClientHost: inv.Lookup(a("192.0.2.1")), Server: a("192.0.2.10"),
		ServerHost: inv.Lookup(a("192.0.2.10")), Proto: 6, Ports: []catalog.PortRange{{Lo: 1, Hi: 1024}, {Lo: 3389, Hi: 3389}},
		Servers: 1, ServerLo: a("192.0.2.10"), ServerHi: a("192.0.2.10")}
	for _, tc := range []struct {
		name, waiver string
		sweep        *Sweep
		want         bool
	}{
		{"any server", "{client: 192.0.2.1, proto: tcp, port: 445}", hosts("10.0.0.1", "10.0.255.254", false), true},
		{"server omitted, client by host", "{client: client1}", hosts("10.0.0.1", "10.0.255.254", false), true},
		{"block holds the extent", "{client: 192.0.2.1, server: 10.0.0.0/16, proto: tcp, port: 445}", hosts("10.0.0.1", "10.0.255.254", false), true},
		{"block holds the extent, servers approximate", "{server: 10.0.0.0/16, port: 445}", hosts("10.0.0.1", "10.0.255.254", true), true},
		{"block misses the top", "{server: 10.0.0.0/24, port: 445}", hosts("10.0.0.1", "10.0.1.7", false), false},
		{"block misses the bottom", "{server: 10.0.1.0/24, port: 445}", hosts("10.0.0.255", "10.0.1.7", false), false},
		{"one address is not a block of servers", "{server: 10.0.0.1, port: 445}", hosts("10.0.0.1", "10.0.0.200", false), false},
		{"a role names hosts, not an extent", "{server: T Broker, port: 445}", hosts("192.0.2.10", "192.0.2.10", false), false},
		{"IPv4 block, IPv6 servers too", "{server: 10.0.0.0/8}", hosts("10.0.0.1", "2001:db8::1", false), false},
		{"other port", "{server: any, port: 139}", hosts("10.0.0.1", "10.0.0.9", false), false},
		{"port in a range", "{port: 400-500}", hosts("10.0.0.1", "10.0.0.9", false), true},
		{"other proto", "{proto: udp}", hosts("10.0.0.1", "10.0.0.9", false), false},
		{"other client", "{client: 192.0.2.2}", hosts("10.0.0.1", "10.0.0.9", false), false},
		{"ports sweep: server by host, every port", "{server: broker1, proto: tcp}", ports, true},
		{"ports sweep: server by role", "{client: T Client, server: T Broker}", ports, true},
		{"ports sweep: ports as a union of ranges", "{server: broker1, port: \"1-1000, 1001-1024, 3389\"}", ports, true},
		{"ports sweep: a range not covering 3389", "{server: broker1, port: 1-1024}", ports, false},
		{"ports sweep: other server", "{server: 192.0.2.20, proto: tcp}", ports, false},
	} {
		ws, err := ParseWaivers("w.yaml", []byte("waivers:\n  - "+tc.waiver[:len(tc.waiver)-1]+", reason: scanner, ticket: CHG-7}\n"), inv, cat)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := ws.List[0].CoversSweep(tc.sweep); got != tc.want {
			t.Errorf("%s: CoversSweep = %v, want %v", tc.name, got, tc.want)
		}
	}
	rule, err := ParseWaivers("w.yaml", []byte("waivers:\n  - {rule: c-usb, reason: r, ticket: t}\n"), inv, cat)
	if err != nil {
		t.Fatal(err)
	}
	if rule.List[0].CoversSweep(ports) {
		t.Error("a rule waiver covers a sweep")
	}
}

// TestApplySweeps: a waived sweep is not a finding but counts as waived;
// an expired waiver leaves it a finding and says so, a later waiver in
// force still applies, and a waiver only a sweep used is not unused.
func TestApplySweeps(t *testing.T) {
	cat, inv := fixture(t)
	a := netip.MustParseAddr
	const doc = `
waivers:
  - {client: 192.0.2.1, server: 10.0.0.0/16, proto: tcp, port: 445, reason: old scanner, ticket: CHG-1, expires: 2026-10-31}
  - {client: 192.0.2.1, server: 10.0.0.0/16, proto: tcp, port: 445, reason: vulnerability scanner, ticket: CHG-2}
  - {client: 192.0.2.1, server: 192.0.2.10, proto: tcp, reason: port scan, ticket: CHG-3, expires: 2026-11-01}
  - {client: 192.0.2.1, server: 10.0.0.0/24, port: 3389, reason: too narrow, ticket: CHG-4}
`
	ws, err := ParseWaivers("waivers.yaml", []byte(doc), inv, cat)
	if err != nil {
		t.Fatal(err)
	}
	res := Audit(nil, inv, cat, Options{Products: []string{"custom"}, Waivers: ws, Now: t0})
	res.AddSweeps([]Sweep{
		{Kind: "hosts", Client: a("192.0.2.1"), Proto: 6, Ports: []catalog.PortRange{{Lo: 445, Hi: 445}}, Servers: 2000, ServersApprox: true,
			ServerLo: a("10.0.0.1"), ServerHi: a("10.0.7.208")},
		{Kind: "ports", Client: a("192.0.2.1"), Server: a("192.0.2.10"), Proto: 6, Ports: []catalog.PortRange{{Lo: 1, Hi: 1024}},
			Servers: 1, ServerLo: a("192.0.2.10"), ServerHi: a("192.0.2.10")},
		{Kind: "hosts", Client: a("192.0.2.1"), Proto: 6, Ports: []catalog.PortRange{{Lo: 3389, Hi: 3389}}, Servers: 400,
			ServerLo: a("10.0.0.1"), ServerHi: a("10.0.1.144")},
	}, inv)
	if n := len(res.UnusedWaivers); n != 4 {
		t.Fatalf("before ApplySweeps: %d unused waivers, want 4", n)
	}
	ws.ApplySweeps(res, t0)
	hosts, port, rdp := res.Sweeps[0], res.Sweeps[1], res.Sweeps[2]
	if !hosts.Waived() || hosts.Waiver.Ticket != "CHG-2" || hosts.WaiverExpired {
		t.Errorf("hosts sweep: waiver %+v expired=%v, want CHG-2 in force", hosts.Waiver, hosts.WaiverExpired)
	}
	if port.Waived() || port.Waiver == nil || port.Waiver.Ticket != "CHG-3" || !port.WaiverExpired {
		t.Errorf("ports sweep: waiver %+v expired=%v, want CHG-3 expired", port.Waiver, port.WaiverExpired)
	}
	if rdp.Waiver != nil {
		t.Errorf("RDP sweep past 10.0.0.0/24 waived by %s", rdp.Waiver.Ticket)
	}
	// Why CHG-4, written for the RDP sweep, does not cover it; CHG-3 (one
	// server of the client's) is no near miss of the host sweeps.
	if len(rdp.Hints) != 1 || !strings.Contains(rdp.Hints[0], "waiver CHG-4 (waivers.yaml:6) does not cover every server swept (10.0.0.1 to 10.0.1.144)") {
		t.Errorf("RDP sweep hints %q", rdp.Hints)
	}
	if len(hosts.Hints) != 0 {
		t.Errorf("a waived sweep keeps hints %q", hosts.Hints)
	}
	if len(res.UnusedWaivers) != 1 || res.UnusedWaivers[0].Ticket != "CHG-4" {
		t.Errorf("unused waivers = %v, want CHG-4 alone", res.UnusedWaivers)
	}
	c := res.Counts()
	if c.Sweeps != 2 || c.Waived != 1 || c.ExpiredWaivers != 1 {
		t.Errorf("counts = %+v, want 2 sweeps, 1 waived, 1 expired waiver", c)
	}
	// A port sweep's waiver holding only some of its ports says so.
	near, err := ParseWaivers("w.yaml", []byte("waivers:\n  - {client: 192.0.2.1, server: 192.0.2.10, port: 1-100, reason: r, ticket: CHG-8}\n"), inv, cat)
	if err != nil {
		t.Fatal(err)
	}
	port.Hints = nil
	near.ApplySweeps(res, t0)
	if len(port.Hints) != 1 || !strings.Contains(port.Hints[0], "waiver CHG-8 (w.yaml:2) holds only some of the ports swept (1-1024)") {
		t.Errorf("port sweep hints %q", port.Hints)
	}
	var none *Waivers
	none.ApplySweeps(res, t0) // no waiver file: nothing changes
	if !hosts.Waived() {
		t.Error("a nil waiver list undid a waiver")
	}
}
