package flow

import (
	"net/netip"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/decode"
)

// TestAddrMACs: each sender's source MAC is recorded once per connection
// side, from either direction; an address seen behind several MACs keeps
// the first two and counts them.
func TestAddrMACs(t *testing.T) {
	var (
		macA = [6]byte{2, 0, 0, 0, 0, 0xa}
		macB = [6]byte{2, 0, 0, 0, 0, 0xb}
		macR = [6]byte{2, 0, 0, 0, 0, 0xfe}
		macC = [6]byte{2, 0, 0, 0, 0, 0xc}
		many = netip.MustParseAddr("192.0.2.21")
		v4   = netip.MustParseAddr("192.0.2.10")
		v6   = netip.MustParseAddr("2001:db8::10")
		far  = netip.MustParseAddr("203.0.113.7")
		flip = netip.MustParseAddr("192.0.2.20")
		tun  = netip.MustParseAddr("192.0.2.30")
	)
	pkt := func(src, dst netip.Addr, sp, dp uint16, flags uint8, mac [6]byte, has bool) decode.Packet {
		return decode.Packet{Src: src, Dst: dst, SrcPort: sp, DstPort: dp, Proto: decode.ProtoTCP, TCPFlags: flags,
			IPLen: 40, SrcMAC: mac, HasMAC: has}
	}
	tr := NewTracker(Config{})
	at := base
	feed := func(ps ...decode.Packet) {
		for i := range ps {
			at = at.Add(time.Millisecond)
			tr.Add(&ps[i], at, Pos{Frame: 1})
		}
	}
	feed(
		// The dual-stack server answers from one MAC on both addresses.
		pkt(hostC, v4, 50000, 443, decode.FlagSYN, macR, true),
		pkt(v4, hostC, 443, 50000, decode.FlagSYN|decode.FlagACK, macA, true),
		pkt(far, v6, 50001, 443, decode.FlagSYN, macR, true),
		pkt(v6, far, 443, 50001, decode.FlagSYN|decode.FlagACK, macA, true),
		// An address that changes MAC on a later connection.
		pkt(flip, v4, 50002, 22, decode.FlagSYN, macA, true),
		pkt(flip, v4, 50003, 22, decode.FlagSYN, macB, true),
		pkt(flip, v4, 50013, 22, decode.FlagSYN, macA, true),
		// One that sends from three.
		pkt(many, v4, 50005, 22, decode.FlagSYN, macA, true),
		pkt(many, v4, 50006, 22, decode.FlagSYN, macB, true),
		pkt(many, v4, 50007, 22, decode.FlagSYN, macC, true),
		pkt(many, v4, 50008, 22, decode.FlagSYN, macA, true),
		// A packet found in a tunnel has no MAC of its own.
		pkt(tun, v4, 50004, 80, decode.FlagSYN, [6]byte{}, false),
	)
	want := []AddrMAC{
		{Addr: hostC, MAC: macR, MACs: 1},
		{Addr: v4, MAC: macA, MACs: 1},
		{Addr: flip, MAC: macA, Second: macB, MACs: 2},
		{Addr: many, MAC: macA, Second: macB, MACs: 3},
		{Addr: far, MAC: macR, MACs: 1},
		{Addr: v6, MAC: macA, MACs: 1},
	}
	got := tr.AddrMACs()
	if len(got) != len(want) {
		t.Fatalf("got %d addresses %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("address %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if s := got[1].HardwareAddr().String(); s != "02:00:00:00:00:0a" {
		t.Errorf("HardwareAddr %s", s)
	}
}

// TestAddrMACsBounded: past MaxAddrMACs senders, new ones are counted, not
// kept.
func TestAddrMACsBounded(t *testing.T) {
	tr := NewTracker(Config{})
	p := decode.Packet{Dst: hostS, DstPort: 53, Proto: decode.ProtoUDP, IPLen: 40, HasMAC: true}
	for i := range MaxAddrMACs + 3 {
		p.Src = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		p.SrcPort = 40000
		tr.Add(&p, base, Pos{Frame: uint64(i + 1)})
	}
	if n := len(tr.AddrMACs()); n != MaxAddrMACs {
		t.Errorf("%d addresses kept, want %d", n, MaxAddrMACs)
	}
	if n := tr.Stats().AddrMACsNotKept; n != 3 {
		t.Errorf("AddrMACsNotKept %d, want 3", n)
	}
}
