package infer

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// MaxTiedAddrs is the most addresses one MAC may send from and still be
// taken for one machine: an IPv4 address and up to three IPv6 addresses
// (a stable, a temporary and a DHCPv6 one). Link-local addresses do not
// count.
const MaxTiedAddrs = 4

// Tie is a set of addresses the capture shows to be one machine.
type Tie struct {
	Addrs []netip.Addr // a VRRP master's own address, else its IPv4 address (or lowest), first; then by address
	How   string       // the evidence, for a reader
}

// NoMACNote is the note of an address the captures show no source MAC
// for, when they show some for others: it is tied to nothing.
const NoMACNote = "no source MAC recorded for it (it sent no Ethernet frame outside a tunnel, or its MAC was past " +
	"the addresses kept): not tied to other addresses"

// vrrpMAC says whether m is a VRRP group's virtual MAC (RFC 5798:
// 00-00-5E-00-01-{VRID} for IPv4, 00-00-5E-00-02-{VRID} for IPv6).
func vrrpMAC(m [6]byte) bool {
	return m[0] == 0 && m[1] == 0 && m[2] == 0x5e && m[3] == 0 && (m[4] == 1 || m[4] == 2)
}

func macString(m [6]byte) string { return net.HardwareAddr(m[:]).String() }

// TieAddresses groups the eligible addresses by the source MACs of the
// Ethernet frames they sent (flow.Tracker.AddrMACs).
//
// A MAC ties the addresses that sent from it, and from no other MAC, into
// one host when at most one of them is IPv4 and there are at most
// MaxTiedAddrs: the same machine, dual stack. A MAC that sends for several
// IPv4 addresses, or for more than MaxTiedAddrs, is a router's (the
// source MAC of every host behind it) or a machine's with several
// addresses the capture cannot tell apart; it ties nothing.
//
// A VRRP virtual MAC is the group's: its master sends its advertisements
// from it, and the group's virtual addresses send from nothing else. When
// exactly one address sent from the virtual MAC and also from a MAC of its
// own (the master), the virtual addresses are tied to it: the master
// holds them. A failover within the capture (two masters) ties nothing.
//
// An address seen from two MACs (other than a VRRP master's pair) or from
// more is tied to nothing. notes says, for each address left untied for
// one of these reasons, why. (An address with no MAC at all gets its note
// from NoMACNote.)
func TieAddresses(macs []flow.AddrMAC) (ties []Tie, notes map[netip.Addr]string) {
	notes = map[netip.Addr]string{}
	by := map[[6]byte][]netip.Addr{}
	var order [][6]byte
	join := func(m [6]byte, a netip.Addr) {
		if _, ok := by[m]; !ok {
			order = append(order, m)
		}
		by[m] = append(by[m], a)
	}
	master := map[netip.Addr]bool{} // sent from a virtual MAC and from its own
	for _, m := range macs {
		a := m.Addr.Unmap()
		if !Eligible(a) {
			continue
		}
		switch {
		case m.MACs >= 3:
			notes[a] = "sent from three or more source MACs (" + macString(m.MAC) + ", " + macString(m.Second) + ", …): not tied"
		case m.MACs == 2 && vrrpMAC(m.MAC) != vrrpMAC(m.Second):
			master[a] = true
			join(m.MAC, a)
			join(m.Second, a)
		case m.MACs == 2:
			notes[a] = "sent from two source MACs (" + macString(m.MAC) + ", " + macString(m.Second) + "): not tied"
		default:
			join(m.MAC, a)
		}
	}
	// Union-find over the addresses, with the evidence of each union.
	parent := map[netip.Addr]netip.Addr{}
	var find func(netip.Addr) netip.Addr
	find = func(a netip.Addr) netip.Addr {
		p, ok := parent[a]
		if !ok || p == a {
			return a
		}
		r := find(p)
		parent[a] = r
		return r
	}
	how := map[netip.Addr][]string{}
	union := func(addrs []netip.Addr, why string) {
		r := find(addrs[0])
		for _, a := range addrs[1:] {
			if b := find(a); b != r {
				parent[b] = r
				how[r] = append(how[r], how[b]...)
				delete(how, b)
			}
		}
		how[r] = append(how[r], why)
	}
	for _, mac := range order {
		addrs := by[mac]
		if vrrpMAC(mac) {
			var masters, virtual []netip.Addr
			for _, a := range addrs {
				if master[a] {
					masters = append(masters, a)
				} else {
					virtual = append(virtual, a)
				}
			}
			switch {
			case len(virtual) == 0:
			case len(masters) == 1:
				union(append(masters, virtual...), "holds the VRRP virtual address of group "+
					fmt.Sprint(mac[5])+" (virtual MAC "+macString(mac)+"): the only router that sent from that MAC and from its own")
			default:
				for _, a := range virtual {
					notes[a] = fmt.Sprintf("VRRP virtual address (virtual MAC %s); %d routers sent from that MAC: not tied", macString(mac), len(masters))
				}
			}
			continue
		}
		var own []netip.Addr // a master's own MAC: only its own addresses
		v4 := 0
		for _, a := range addrs {
			own = append(own, a)
			if a.Is4() {
				v4++
			}
		}
		if len(own) < 2 {
			continue
		}
		if v4 > 1 || len(own) > MaxTiedAddrs {
			for _, a := range own {
				notes[a] = fmt.Sprintf("source MAC %s sent for %d addresses (%d IPv4): a router or a machine with several addresses, not tied",
					macString(mac), len(own), v4)
			}
			continue
		}
		union(own, "same source MAC "+macString(mac)+", which sent for no other address")
	}
	groups := map[netip.Addr][]netip.Addr{}
	for a := range parent {
		r := find(a)
		groups[r] = append(groups[r], a)
	}
	for r, addrs := range groups {
		if !slices.Contains(addrs, r) {
			addrs = append(addrs, r)
		}
		slices.SortFunc(addrs, func(a, b netip.Addr) int {
			if master[a] != master[b] { // a VRRP master's own address first
				if master[a] {
					return -1
				}
				return 1
			}
			if a.Is4() != b.Is4() {
				if a.Is4() {
					return -1
				}
				return 1
			}
			return a.Compare(b)
		})
		if len(addrs) > 1 {
			ties = append(ties, Tie{Addrs: addrs, How: strings.Join(how[r], "; ")})
		}
	}
	slices.SortFunc(ties, func(a, b Tie) int { return a.Addrs[0].Compare(b.Addrs[0]) })
	return ties, notes
}
