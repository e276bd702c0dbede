package flow

import (
	"net"
	"net/netip"
	"slices"

	"github.com/flowaudit/flowaudit/analyzer/decode"
)

// MaxAddrMACs bounds the addresses whose source MAC a Tracker keeps (about
// 40 bytes each); the senders past it are counted in
// Stats.AddrMACsNotKept.
const MaxAddrMACs = 1 << 16

// AddrMAC is what the capture showed of the Ethernet frames an address
// sent: the source MAC of the first frame of each of its connections'
// directions. A host on the captured segment sends from its own MAC; a
// host behind a router arrives from the router's, which many addresses
// share; a VRRP master sends its advertisements from the group's virtual
// MAC and its other traffic from its own.
type AddrMAC struct {
	Addr netip.Addr
	MAC  [6]byte // the first MAC seen
	// Second is the second distinct MAC seen, if MACs > 1.
	Second [6]byte
	// MACs is how many distinct MACs were seen: 1, 2, or 3 for three or
	// more (a failover pair, a capture on both sides of a router, a spoof).
	MACs uint8
}

// HardwareAddr is the first MAC in the standard library's form.
func (a AddrMAC) HardwareAddr() net.HardwareAddr { return net.HardwareAddr(a.MAC[:]) }

type macEntry struct {
	mac, second [6]byte
	n           uint8 // distinct MACs seen, saturating at 3
}

// add notes one more MAC of an address and says whether e changed.
func (e *macEntry) add(mac [6]byte) bool {
	switch {
	case e.mac == mac, e.n >= 3:
		return false
	case e.n == 1:
		e.second, e.n = mac, 2
	case e.second != mac:
		e.n = 3
	default:
		return false
	}
	return true
}

// noteMAC records the source MAC of p, a packet whose sender has not yet
// been seen in its connection: a map lookup per connection side, nothing
// per packet.
func (t *Tracker) noteMAC(p *decode.Packet) {
	e, ok := t.macs[p.Src]
	switch {
	case ok:
		if e.add(p.SrcMAC) {
			t.macs[p.Src] = e
		}
	case len(t.macs) < MaxAddrMACs:
		t.macs[p.Src] = macEntry{mac: p.SrcMAC, n: 1}
	default:
		t.stats.AddrMACsNotKept++
	}
}

// AddrMACs returns the source MAC of every address that sent an Ethernet
// frame, sorted by address. Captures of other link types, and packets
// found inside tunnels, add nothing.
func (t *Tracker) AddrMACs() []AddrMAC {
	out := make([]AddrMAC, 0, len(t.macs))
	for a, e := range t.macs {
		out = append(out, AddrMAC{Addr: a, MAC: e.mac, Second: e.second, MACs: e.n})
	}
	slices.SortFunc(out, func(a, b AddrMAC) int { return a.Addr.Compare(b.Addr) })
	return out
}
