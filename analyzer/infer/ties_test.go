package infer

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/flow"
)

func TestTieAddresses(t *testing.T) {
	var (
		macA  = [6]byte{2, 0, 0, 0, 0, 0xa}
		macB  = [6]byte{2, 0, 0, 0, 0, 0xb}
		macR  = [6]byte{2, 0, 0, 0, 0, 0xfe}
		vmac  = [6]byte{0, 0, 0x5e, 0, 1, 30}
		a     = netip.MustParseAddr
		one   = func(s string, m [6]byte) flow.AddrMAC { return flow.AddrMAC{Addr: a(s), MAC: m, MACs: 1} }
		two   = func(s string, m, n [6]byte) flow.AddrMAC { return flow.AddrMAC{Addr: a(s), MAC: m, Second: n, MACs: 2} }
		three = func(s string, m, n [6]byte) flow.AddrMAC { return flow.AddrMAC{Addr: a(s), MAC: m, Second: n, MACs: 3} }
	)
	type tie struct {
		addrs []string
		how   string // prefix
	}
	for _, c := range []struct {
		name  string
		macs  []flow.AddrMAC
		ties  []tie
		notes map[string]string // address → note prefix
	}{
		{name: "dual stack, link-local ignored",
			macs: []flow.AddrMAC{one("192.0.2.10", macA), one("2001:db8::10", macA), one("fe80::10", macA), one("192.0.2.11", macB)},
			ties: []tie{{[]string{"192.0.2.10", "2001:db8::10"}, "same source MAC 02:00:00:00:00:0a"}}},
		{name: "IPv6 only, two addresses",
			macs: []flow.AddrMAC{one("2001:db8::20", macA), one("2001:db8::21", macA)},
			ties: []tie{{[]string{"2001:db8::20", "2001:db8::21"}, "same source MAC"}}},
		{name: "router: several IPv4 addresses behind one MAC",
			macs: []flow.AddrMAC{one("203.0.113.1", macR), one("203.0.113.2", macR), one("2001:db8::1", macR)},
			notes: map[string]string{"203.0.113.1": "source MAC 02:00:00:00:00:fe sent for 3 addresses (2 IPv4)",
				"203.0.113.2": "source MAC", "2001:db8::1": "source MAC"}},
		{name: "more addresses than one machine has",
			macs:  []flow.AddrMAC{one("192.0.2.1", macR), one("2001:db8::1", macR), one("2001:db8::2", macR), one("2001:db8::3", macR), one("2001:db8::4", macR)},
			notes: map[string]string{"192.0.2.1": "source MAC 02:00:00:00:00:fe sent for 5 addresses (1 IPv4)"}},
		{name: "an address from two MACs is not tied",
			macs:  []flow.AddrMAC{two("192.0.2.10", macA, macB), one("2001:db8::10", macA)},
			notes: map[string]string{"192.0.2.10": "sent from two source MACs (02:00:00:00:00:0a, 02:00:00:00:00:0b)"}},
		{name: "three MACs",
			macs:  []flow.AddrMAC{three("192.0.2.10", macA, macB)},
			notes: map[string]string{"192.0.2.10": "sent from three or more source MACs"}},
		{name: "VRRP master holds the virtual address, its own MAC ties its IPv6",
			macs: []flow.AddrMAC{one("2001:db8::31", macA), one("203.0.113.30", vmac), two("203.0.113.31", vmac, macA)},
			ties: []tie{{[]string{"203.0.113.31", "203.0.113.30", "2001:db8::31"}, "same source MAC 02:00:00:00:00:0a, which sent for no other address; holds the VRRP virtual address of group 30 (virtual MAC 00:00:5e:00:01:1e)"}}},
		{name: "VRRP failover: two masters tie nothing",
			macs:  []flow.AddrMAC{one("203.0.113.30", vmac), two("203.0.113.31", vmac, macA), two("203.0.113.32", macB, vmac)},
			notes: map[string]string{"203.0.113.30": "VRRP virtual address (virtual MAC 00:00:5e:00:01:1e); 2 routers"}},
		{name: "no MACs", macs: nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			ties, notes := TieAddresses(c.macs)
			if len(ties) != len(c.ties) {
				t.Fatalf("ties %+v, want %+v", ties, c.ties)
			}
			for i, w := range c.ties {
				var got []string
				for _, x := range ties[i].Addrs {
					got = append(got, x.String())
				}
				if !slices.Equal(got, w.addrs) || !strings.HasPrefix(ties[i].How, w.how) {
					t.Errorf("tie %d: %v %q, want %v %q…", i, got, ties[i].How, w.addrs, w.how)
				}
			}
			for addr, w := range c.notes {
				if n := notes[a(addr)]; !strings.HasPrefix(n, w) {
					t.Errorf("note for %s: %q, want %q…", addr, n, w)
				}
			}
			if len(c.notes) == 0 && len(notes) != 0 {
				t.Errorf("notes %v, want none", notes)
			}
		})
	}
}

// TestHostNotes: when the captures show MACs, an address they show none
// for (in a tunnel, past the addresses kept) is listed on its own with
// NoMACNote; without any MACs no host gets a note (the report's header
// says the captures show none).
func TestHostNotes(t *testing.T) {
	m := builtinModel(t)
	services := []audit.Service{
		svc("192.0.2.51", "192.0.2.10", 6, 443, 1, 1),
		svc("2001:db8::51", "192.0.2.10", 6, 443, 1, 1),
		svc("198.51.100.7", "192.0.2.10", 6, 443, 1, 1),
	}
	mac := func(a string, last byte) flow.AddrMAC {
		return flow.AddrMAC{Addr: netip.MustParseAddr(a), MAC: [6]byte{2, 0, 0, 0, 0, last}, MACs: 1}
	}
	for _, c := range []struct {
		name  string
		macs  []flow.AddrMAC
		notes map[string]string
	}{
		{name: "no MACs at all", notes: map[string]string{}},
		{name: "some addresses without a MAC",
			macs:  []flow.AddrMAC{mac("192.0.2.10", 0x10), mac("192.0.2.51", 0x51), mac("2001:db8::51", 0x51)},
			notes: map[string]string{"198.51.100.7": NoMACNote}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, h := range Infer(services, m, Options{MACs: c.macs}) {
				if h.Note != c.notes[h.Addr.String()] {
					t.Errorf("%s: note %q, want %q", h.Addr, h.Note, c.notes[h.Addr.String()])
				}
			}
		})
	}
}
