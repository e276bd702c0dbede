package pcapgen

import (
	"fmt"
	"net/netip"
	"time"
)

// Reply says how a UDP request is answered.
type Reply uint8

// UDP reply variants.
const (
	ReplyUDP             Reply = iota // a datagram back from the responder (or UDPOpts.From)
	ReplyNone                         // no answer
	ReplyPortUnreachable              // ICMP port unreachable from the responder, quoting the request
	ReplyProhibited                   // ICMP administratively prohibited from UDPOpts.From (a firewall)
	ReplyHostUnreachable              // ICMP host unreachable from UDPOpts.From (a router)
)

// ICMP error codes kept in step.code.
const (
	icmpPortUnreach uint8 = iota
	icmpProhibited
	icmpHostUnreach
)

// UDPOpts describes UDP request/response exchanges. The zero value is one
// 64-byte request answered by a 256-byte response.
type UDPOpts struct {
	Requests          int           // 0 means 1
	Request, Response int           // payload bytes; 0 means 64 / 256
	Interval          time.Duration // between requests; 0 draws 0.2-2 s
	RTT               time.Duration // 0 draws 1-40 ms
	Reply             Reply
	From              netip.Addr // source of replies or ICMP errors when not the responder (a broadcast answered by one host, a router)
	DNS               string     // payloads are a DNS query and answer for this name (sizes are then ignored)
	Data, ReplyData   []byte     // payloads of every request and response, instead of filler (sizes are then theirs)

	// Fragment, when set, is the MTU: larger datagrams are sent as IP
	// fragments (IPv4 fragments, or the IPv6 fragment header).
	Fragment        int
	FragmentReverse bool // send each datagram's fragments last first, as some stacks do

	Path Path
	Note string
}

// UDP adds request/response exchanges from client to server. A broadcast
// (255.255.255.255 or an address ending in .255) or multicast server gets
// the matching Ethernet destination.
func (s *Scenario) UDP(at time.Duration, client, server netip.AddrPort, o UDPOpts) {
	s.add(s.udpFlow(at, client, server, o))
}

func (g *gen) udpFlow(at time.Duration, c, srv netip.AddrPort, o UDPOpts) *flow {
	f := g.newFlow(17, c, srv, o.Path, false)
	if f == nil {
		return nil
	}
	f.note = o.Note
	f.qname = o.DNS
	f.mtu = o.Fragment
	switch o.Reply {
	case ReplyUDP:
		f.replyFrom = o.From
	case ReplyPortUnreachable:
		f.errFrom = srv.Addr()
	default:
		f.errFrom = o.From
	}
	if o.Fragment > 0 && o.Reply >= ReplyPortUnreachable {
		g.fail(fmt.Errorf("flow %d: ICMP errors quoting fragments are not supported", f.id))
		return nil
	}
	if f.errFrom.IsValid() && f.errFrom.Is4() != c.Addr().Is4() {
		g.fail(errFamily(f))
		return nil
	}
	rtt := o.RTT
	if rtt <= 0 {
		rtt = g.rtt()
	}
	n := o.Requests
	if n <= 0 {
		n = 1
	}
	req, resp := o.Request, o.Response
	if req <= 0 {
		req = 64
	}
	if resp <= 0 {
		resp = 256
	}
	if o.Data != nil {
		req, f.reqData = len(o.Data), o.Data
	}
	if o.ReplyData != nil {
		resp, f.respData = len(o.ReplyData), o.ReplyData
	}
	if o.DNS != "" {
		// the sizes of the DNS messages the framer builds (names uncompressed)
		l := len(o.DNS) + 2
		rd := 4
		if !c.Addr().Is4() {
			rd = 16
		}
		req = 12 + l + 4
		resp = req + l + 10 + rd
	}
	t := at
	for i := 0; i < n; i++ {
		if i > 0 {
			iv := o.Interval
			if iv <= 0 {
				iv = time.Duration(200+g.rng.IntN(1800)) * time.Millisecond
			}
			t += iv
		}
		qi := len(f.steps)
		g.datagram(f, t, false, req, i, o.FragmentReverse)
		rt := t + rtt + time.Duration(g.rng.IntN(500))*time.Microsecond
		switch o.Reply {
		case ReplyUDP:
			g.datagram(f, rt, true, resp, i, o.FragmentReverse)
		case ReplyPortUnreachable, ReplyProhibited, ReplyHostUnreachable:
			code := icmpPortUnreach
			if o.Reply == ReplyProhibited {
				code = icmpProhibited
			} else if o.Reply == ReplyHostUnreachable {
				code = icmpHostUnreach
			}
			f.steps = append(f.steps, step{at: rt, kind: sICMPError, rev: true, code: code, x: uint32(qi)})
		}
	}
	f.state = "S0"
	if o.Reply == ReplyUDP && !o.From.IsValid() {
		f.state = "SF"
	}
	return f
}

// datagram appends one UDP datagram of n payload bytes, fragmented when the
// flow has an MTU and the datagram does not fit. num numbers the request
// (DNS id, fragment IP id).
func (g *gen) datagram(f *flow, t time.Duration, rev bool, n, num int, reverse bool) {
	ipHdr := 20
	if !f.orig.Addr().Is4() {
		ipHdr = 48 // fixed header and fragment header
	}
	if f.mtu == 0 || f.qname != "" || 8+n+ipHdr <= f.mtu {
		f.steps = append(f.steps, step{at: t, kind: sUDP, rev: rev, n: uint32(n), x: uint32(num)})
		return
	}
	chunk := (f.mtu - ipHdr) &^ 7
	var offs []uint32
	for off := 0; off < 8+n; off += chunk {
		offs = append(offs, uint32(off))
	}
	if reverse {
		for i, j := 0, len(offs)-1; i < j; i, j = i+1, j-1 {
			offs[i], offs[j] = offs[j], offs[i]
		}
	}
	for _, off := range offs {
		f.steps = append(f.steps, step{at: t, kind: sUDPFrag, rev: rev, n: uint32(n), x: off, win: uint16(num)})
		t += g.gap(10 * time.Microsecond)
	}
}

// StreamOpts describes one-way or two-way media: fixed-size datagrams at a
// fixed interval. The zero value is 10 s of 20 ms, 172-byte RTP-like packets.
type StreamOpts struct {
	Duration time.Duration // 0 means 10 s
	Interval time.Duration // 0 means 20 ms
	Size     int           // payload bytes; 0 means 172
	Both     bool          // the responder streams back too
	Path     Path
	Note     string
}

// Stream adds a media stream from src to dst.
func (s *Scenario) Stream(at time.Duration, src, dst netip.AddrPort, o StreamOpts) {
	s.add(s.streamFlow(at, src, dst, o))
}

func (g *gen) streamFlow(at time.Duration, src, dst netip.AddrPort, o StreamOpts) *flow {
	f := g.newFlow(17, src, dst, o.Path, false)
	if f == nil {
		return nil
	}
	f.note = o.Note
	dur, iv, size := o.Duration, o.Interval, o.Size
	if dur <= 0 {
		dur = 10 * time.Second
	}
	if iv <= 0 {
		iv = 20 * time.Millisecond
	}
	if size <= 0 {
		size = 172
	}
	count := int(dur / iv)
	f.steps = make([]step, 0, count*(1+b2i(o.Both)))
	jit := int(iv / 10)
	back := time.Duration(g.rng.IntN(int(iv)))
	for i := 0; i < count; i++ {
		base := at + time.Duration(i)*iv
		f.steps = append(f.steps, step{at: base + time.Duration(g.rng.IntN(jit+1)), kind: sUDP, n: uint32(size)})
		if o.Both {
			f.steps = append(f.steps, step{at: base + back + time.Duration(g.rng.IntN(jit+1)), kind: sUDP, rev: true, n: uint32(size)})
		}
	}
	f.state = "S0"
	if o.Both {
		f.state = "SF"
	}
	return f
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// PingOpts describes ICMP echo. The zero value is 4 answered echoes one
// second apart with 32 bytes of data.
type PingOpts struct {
	Count    int           // 0 means 4
	Interval time.Duration // 0 means 1 s
	Size     int           // data bytes; 0 means 32
	RTT      time.Duration // 0 draws 1-40 ms
	Lost     bool          // no replies
	Path     Path
	Note     string
}

// Ping adds ICMP (or ICMPv6) echo requests from src to dst and their replies.
func (s *Scenario) Ping(at time.Duration, src, dst netip.Addr, o PingOpts) {
	s.add(s.pingFlow(at, src, dst, o))
}

func (g *gen) pingFlow(at time.Duration, src, dst netip.Addr, o PingOpts) *flow {
	proto := uint8(1)
	if !src.Is4() {
		proto = 58
	}
	f := g.newFlow(proto, netip.AddrPortFrom(src, 0), netip.AddrPortFrom(dst, 0), o.Path, false)
	if f == nil {
		return nil
	}
	f.note = o.Note
	count, iv, size := o.Count, o.Interval, o.Size
	if count <= 0 {
		count = 4
	}
	if iv <= 0 {
		iv = time.Second
	}
	if size <= 0 {
		size = 32
	}
	rtt := o.RTT
	if rtt <= 0 {
		rtt = g.rtt()
	}
	id := uint32(1 + g.rng.IntN(0xfffe))
	seq := uint32(1 + g.rng.IntN(200))
	for i := 0; i < count; i++ {
		t := at + time.Duration(i)*iv + time.Duration(g.rng.IntN(2000))*time.Microsecond
		x := id<<16 | (seq+uint32(i))&0xffff
		f.steps = append(f.steps, step{at: t, kind: sICMPEcho, n: uint32(size), x: x})
		if !o.Lost {
			f.steps = append(f.steps, step{at: t + rtt, kind: sICMPEcho, rev: true, n: uint32(size), x: x})
		}
	}
	f.state = "OTH"
	return f
}

// ARP adds an ARP request from sender asking for target, broadcast, and
// the reply when reply is set. Only the interface and VLAN tags of path apply.
func (s *Scenario) ARP(at time.Duration, sender, target netip.Addr, reply bool, path Path) {
	f := s.newFlow(0, netip.AddrPortFrom(sender, 0), netip.AddrPortFrom(target, 0), path, true)
	if f == nil {
		return
	}
	if !sender.Is4() {
		s.fail(errFamily(f))
		return
	}
	f.steps = append(f.steps, step{at: at, kind: sARP})
	if reply {
		f.steps = append(f.steps, step{at: at + s.gap(200*time.Microsecond), kind: sARP, rev: true})
	}
	f.state = "-"
	s.add(f)
}

// Neighbor adds an IPv6 neighbour solicitation from sender for target to
// the solicited-node multicast address, and the advertisement when reply is set.
func (s *Scenario) Neighbor(at time.Duration, sender, target netip.Addr, reply bool, path Path) {
	f := s.newFlow(58, netip.AddrPortFrom(sender, 0), netip.AddrPortFrom(target, 0), path, false)
	if f == nil {
		return
	}
	if sender.Is4() {
		s.fail(errFamily(f))
		return
	}
	f.ttlO, f.ttlR = 255, 255
	f.steps = append(f.steps, step{at: at, kind: sNDSol})
	if reply {
		f.steps = append(f.steps, step{at: at + s.gap(300*time.Microsecond), kind: sNDAdv, rev: true})
	}
	f.state = "OTH"
	s.add(f)
}

// VRRPOpts describes a VRRPv2 master's advertisements.
type VRRPOpts struct {
	VRID     uint8         // 0 means 1
	Priority uint8         // 0 means 100
	Count    int           // 0 means 5
	Interval time.Duration // 0 means 1 s
	Path     Path
	Note     string
}

// VRRP adds advertisements from router for the virtual address vip, sent
// to 224.0.0.18 from the virtual MAC 00:00:5e:00:01:VRID.
func (s *Scenario) VRRP(at time.Duration, router, vip netip.Addr, o VRRPOpts) {
	f := s.newFlow(112, netip.AddrPortFrom(router, 0), netip.AddrPortFrom(netip.AddrFrom4([4]byte{224, 0, 0, 18}), 0), o.Path, false)
	if f == nil {
		return
	}
	if !router.Is4() || !vip.Is4() {
		s.fail(errFamily(f))
		return
	}
	f.note = o.Note
	f.ttlO = 255
	f.vrid, f.prio = o.VRID, o.Priority
	if f.vrid == 0 {
		f.vrid = 1
	}
	if f.prio == 0 {
		f.prio = 100
	}
	f.vip = vip
	// The master answers for the virtual address from the virtual MAC
	// (RFC 5798 section 7.3), as it sends its advertisements.
	if s.macs == nil {
		s.macs = map[netip.Addr][6]byte{}
	}
	s.macs[vip] = [6]byte{0x00, 0x00, 0x5e, 0x00, 0x01, f.vrid}
	count, iv := o.Count, o.Interval
	if count <= 0 {
		count = 5
	}
	if iv <= 0 {
		iv = time.Second
	}
	for i := 0; i < count; i++ {
		f.steps = append(f.steps, step{at: at + time.Duration(i)*iv + time.Duration(s.rng.IntN(500))*time.Microsecond, kind: sVRRP})
	}
	f.state = "OTH"
	s.add(f)
}

// Well-known multicast groups for name-resolution noise.
var (
	llmnr4 = netip.AddrFrom4([4]byte{224, 0, 0, 252})
	llmnr6 = netip.MustParseAddr("ff02::1:3")
	mdns4  = netip.AddrFrom4([4]byte{224, 0, 0, 251})
	mdns6  = netip.MustParseAddr("ff02::fb")
)

// LLMNR adds an unanswered LLMNR query for name from src to the LLMNR
// multicast group (UDP 5355).
func (s *Scenario) LLMNR(at time.Duration, src netip.Addr, name string, path Path) {
	dst := llmnr4
	if !src.Is4() {
		dst = llmnr6
	}
	s.UDP(at, s.Client(src), netip.AddrPortFrom(dst, 5355), UDPOpts{Reply: ReplyNone, DNS: name, Path: path, Note: "LLMNR query"})
}

// MDNS adds an unanswered mDNS query for name from src:5353 to the mDNS
// multicast group.
func (s *Scenario) MDNS(at time.Duration, src netip.Addr, name string, path Path) {
	dst := mdns4
	if !src.Is4() {
		dst = mdns6
	}
	s.UDP(at, netip.AddrPortFrom(src, 5353), netip.AddrPortFrom(dst, 5353), UDPOpts{Reply: ReplyNone, DNS: name, Path: path, Note: "mDNS query"})
}
