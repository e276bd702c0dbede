package pcapgen

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// LinkType is a pcap/pcapng link-layer header type (LINKTYPE_* value).
type LinkType uint16

// Link types the generator can write.
const (
	LinkNull     LinkType = 0   // BSD loopback: 4-byte address family, host byte order
	LinkEthernet LinkType = 1   // Ethernet II
	LinkRaw      LinkType = 101 // raw IPv4 or IPv6
	LinkSLL      LinkType = 113 // Linux cooked capture v1
	LinkIPv4     LinkType = 228 // raw IPv4 only
	LinkIPv6     LinkType = 229 // raw IPv6 only
	LinkSLL2     LinkType = 276 // Linux cooked capture v2
)

// String returns the libpcap name of the link type.
func (l LinkType) String() string {
	switch l {
	case LinkNull:
		return "NULL"
	case LinkEthernet:
		return "EN10MB"
	case LinkRaw:
		return "RAW"
	case LinkSLL:
		return "LINUX_SLL"
	case LinkIPv4:
		return "IPV4"
	case LinkIPv6:
		return "IPV6"
	case LinkSLL2:
		return "LINUX_SLL2"
	}
	return fmt.Sprintf("LINKTYPE_%d", uint16(l))
}

// hasL2 reports whether frames of this link type carry an EtherType, so
// that ARP, VLAN tags, MPLS and PPPoE can appear.
func (l LinkType) hasL2() bool { return l == LinkEthernet || l == LinkSLL || l == LinkSLL2 }

// Iface is one capture interface; pcapng files can hold several.
type Iface struct {
	Name string
	Link LinkType
}

// DefaultStart is the capture start used when Config.Start is zero.
var DefaultStart = time.Date(2024, time.March, 4, 9, 0, 0, 0, time.UTC)

// Config sets up a Scenario.
type Config struct {
	Seed   uint64    // the only source of randomness: same seed and calls, same bytes
	Start  time.Time // timestamp of offset 0; zero means DefaultStart
	Ifaces []Iface   // capture interfaces; nil means one Ethernet interface "eth0"
}

// TunnelKind selects an encapsulation between the capture link and the
// flow's own IP packets.
type TunnelKind uint8

// Tunnel kinds.
const (
	TunnelNone   TunnelKind = iota
	TunnelVXLAN             // outer UDP 4789, VXLAN, inner Ethernet
	TunnelGENEVE            // outer UDP 6081, GENEVE, inner Ethernet
	TunnelGRE               // GRE carrying IPv4/IPv6 directly (key set when ID != 0)
	TunnelERSPAN            // GRE 0x88be ERSPAN type II, inner Ethernet; outer always Src -> Dst
	TunnelIPinIP            // IP protocol 4 (IPv4 inner) or 41 (IPv6 inner, 6in4 when outer is IPv4)
)

var tunnelNames = [...]string{"none", "vxlan", "geneve", "gre", "erspan", "ipip"}

func (k TunnelKind) String() string {
	if int(k) < len(tunnelNames) {
		return tunnelNames[k]
	}
	return fmt.Sprintf("tunnel(%d)", uint8(k))
}

// Tunnel describes the outer packets of a tunnelled flow. Packets from the
// flow's originator travel Src -> Dst, replies Dst -> Src (ERSPAN mirrors
// both directions Src -> Dst).
type Tunnel struct {
	Kind     TunnelKind
	Src, Dst netip.Addr
	ID       uint32 // VNI (VXLAN, GENEVE), GRE key, ERSPAN session id
}

// IPv6Ext is a set of IPv6 extension headers put on a flow's IPv6 packets.
type IPv6Ext uint8

// IPv6 extension headers, written in this order.
const (
	ExtHopByHop IPv6Ext = 1 << iota // hop-by-hop options (one PadN option)
	ExtDestOpts                     // destination options (one PadN option)
)

// Path says how a flow's packets reach the capture: interface, L2
// encapsulation, tunnel. The zero Path is plain Ethernet on interface 0.
type Path struct {
	Iface   int      // index into Config.Ifaces
	VLANs   []uint16 // 802.1Q tags, outer first
	QinQ    bool     // the outer tag uses EtherType 0x88a8 (802.1ad) instead of 0x8100
	MPLS    []uint32 // MPLS label stack, top first
	PPPoE   uint16   // PPPoE session id; 0 means no PPPoE
	Tunnel  Tunnel
	IPv6Ext IPv6Ext
}

// Stats describes what a writer produced.
type Stats struct {
	Packets     int
	Flows       int   // flows with at least one packet written
	Bytes       int64 // sum of original frame lengths
	First, Last time.Time
}

// stepKind is what one packet of a flow is.
type stepKind uint8

const (
	sTCP       stepKind = iota
	sUDP                // UDP datagram (DNS payload when the flow has a query name)
	sUDPFrag            // one fragment of a UDP datagram; x = offset in the datagram
	sICMPEcho           // echo request (forward) or reply (reverse); x = id<<16 | seq
	sICMPError          // ICMP error from the responder or errFrom; x = index of the quoted step
	sARP                // ARP request (forward, broadcast) or reply (reverse)
	sNDSol              // IPv6 neighbour solicitation
	sNDAdv              // IPv6 neighbour advertisement
	sVRRP               // VRRPv2 advertisement to 224.0.0.18
)

// step is one packet of a flow, kept small: flows are expanded into steps
// when created and serialised into bytes only when written.
type step struct {
	at       time.Duration // offset from the capture start
	seq, ack uint32
	n        uint32 // payload bytes
	x        uint32 // kind-specific, see stepKind
	win      uint16
	kind     stepKind
	rev      bool  // sent by the responder
	flags    uint8 // TCP flags
	code     uint8 // ICMP error: 0 port unreachable, 1 admin prohibited, 2 host unreachable
}

// flow is one conversation: its endpoints, how it is encapsulated and its
// packets in time order.
type flow struct {
	id         int
	proto      uint8
	orig, resp netip.AddrPort
	replyFrom  netip.Addr // source of reverse packets if not resp (reply to a broadcast)
	errFrom    netip.Addr // source of ICMP errors if not resp (a router or firewall)
	path       Path
	ttlO, ttlR uint8
	ipid       uint16
	mtu        int    // fragment size for sUDPFrag
	qname      string // DNS query name: UDP payloads are DNS messages
	// reqData and respData, when set, are the bytes of the client's first
	// request and the server's first response (TCP: the first exchange,
	// split at segment boundaries from reqSeq0/respSeq0; UDP: every
	// datagram), instead of filler.
	reqData, respData []byte
	reqSeq0, respSeq0 uint32
	vrid, prio        uint8
	vip               netip.Addr // VRRP virtual address
	steps             []step
	next              int // next step to write
	written           int // packets of this flow written by the last Write

	state string // expected conn_state (Zeek's names)
	note  string
}

func (f *flow) start() time.Duration { return f.steps[0].at }

// gen holds what every flow constructor needs: randomness and per-host
// ephemeral port counters.
type gen struct {
	start  time.Time
	ifaces []Iface
	rng    *rand.Rand
	ports  map[netip.Addr]uint16
	nextID int
	err    error
	macs   map[netip.Addr][6]byte // SameHost
}

func newGen(cfg Config) gen {
	g := gen{
		start:  cfg.Start,
		ifaces: cfg.Ifaces,
		rng:    rand.New(rand.NewPCG(cfg.Seed, 0x666c6f7761756469)), // "flowaudi"
		ports:  map[netip.Addr]uint16{},
	}
	if g.start.IsZero() {
		g.start = DefaultStart
	}
	if len(g.ifaces) == 0 {
		g.ifaces = []Iface{{Name: "eth0", Link: LinkEthernet}}
	}
	return g
}

// ephemeral returns the host's next client port: a random start in
// 49152-57343, then counting up as operating systems do.
func (g *gen) ephemeral(host netip.Addr) netip.AddrPort {
	p, ok := g.ports[host]
	if !ok {
		p = 49152 + uint16(g.rng.IntN(8192))
	} else {
		p += 1 + uint16(g.rng.IntN(2))
		if p < 49152 {
			p = 49152
		}
	}
	g.ports[host] = p
	return netip.AddrPortFrom(host, p)
}

func (g *gen) fail(err error) {
	if g.err == nil {
		g.err = err
	}
}

// newFlow validates the path and returns a flow with per-flow constants
// (TTLs, IP id base) drawn from the generator.
func (g *gen) newFlow(proto uint8, orig, resp netip.AddrPort, p Path, needL2 bool) *flow {
	f := &flow{id: g.nextID, proto: proto, orig: orig, resp: resp, path: p}
	g.nextID++
	if err := g.checkPath(f, needL2); err != nil {
		g.fail(fmt.Errorf("flow %d (%s %v -> %v): %w", f.id, protoName(proto), orig, resp, err))
		return nil
	}
	f.ttlO = hostTTL(orig.Addr())
	// The responder is a few hops away, the same few for all its flows:
	// a host's packets reach the capture with one TTL, so a RST with
	// another one was sent by something in between. (The draw is kept so
	// the rest of the random sequence, and the captures, stay as they were.)
	_ = g.rng.IntN(6)
	f.ttlR = hostTTL(resp.Addr()) - hostHops(resp.Addr())
	f.ipid = uint16(g.rng.Uint32())
	return f
}

func (g *gen) checkPath(f *flow, needL2 bool) error {
	p := &f.path
	if p.Iface < 0 || p.Iface >= len(g.ifaces) {
		return fmt.Errorf("interface %d not configured", p.Iface)
	}
	link := g.ifaces[p.Iface].Link
	if !f.orig.Addr().IsValid() || !f.resp.Addr().IsValid() || f.orig.Addr().Is4() != f.resp.Addr().Is4() {
		return errors.New("endpoints must be valid addresses of one family")
	}
	if !link.hasL2() && (needL2 || len(p.VLANs) > 0 || len(p.MPLS) > 0 || p.PPPoE != 0) {
		return fmt.Errorf("link type %v cannot carry ARP, VLAN, MPLS or PPPoE", link)
	}
	if len(p.VLANs) > 2 || len(p.MPLS) > 4 {
		return errors.New("at most 2 VLAN tags and 4 MPLS labels")
	}
	if len(p.MPLS) > 0 && p.PPPoE != 0 {
		return errors.New("MPLS and PPPoE together are not supported")
	}
	outer := f.orig.Addr()
	if p.Tunnel.Kind != TunnelNone {
		t := p.Tunnel
		if !t.Src.IsValid() || !t.Dst.IsValid() || t.Src.Is4() != t.Dst.Is4() {
			return errors.New("tunnel endpoints must be valid addresses of one family")
		}
		if needL2 && t.Kind != TunnelVXLAN && t.Kind != TunnelGENEVE && t.Kind != TunnelERSPAN {
			return fmt.Errorf("tunnel %v cannot carry ARP", t.Kind)
		}
		outer = t.Src
	}
	if !needL2 && ((link == LinkIPv4 && !outer.Is4()) || (link == LinkIPv6 && outer.Is4())) {
		return fmt.Errorf("link type %v cannot carry this IP version", link)
	}
	return nil
}

// hostTTL is the initial TTL of a host: 128 (Windows-like) or 64
// (Unix-like), fixed per address.
func hostTTL(a netip.Addr) uint8 {
	if hashAddr(a)&1 == 0 {
		return 128
	}
	return 64
}

// hostHops is how many routers a host is from the capture point: 0 to 5,
// fixed per address.
func hostHops(a netip.Addr) uint8 { return uint8(hashAddr(a) >> 1 % 6) }

func hashAddr(a netip.Addr) uint32 {
	h := fnv.New32a()
	b := a.As16()
	h.Write(b[:])
	return h.Sum32()
}

// finish sorts a flow's steps by time (stable, so same-time steps keep
// their generation order) and adds it to the list.
func (f *flow) finish() {
	slices.SortStableFunc(f.steps, func(a, b step) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
}

// Scenario accumulates flows, then writes them as one capture in time
// order. Build it with the flow methods (TCP, UDP, Stream, Ping, ARP, ...),
// each taking the offset of the flow's first packet from the capture start.
// A method given an impossible combination records an error that Err and
// the writers return; later calls are still accepted.
type Scenario struct {
	gen
	flows  []*flow
	window WriteOptions // From/Until of the last Write
}

// New returns an empty scenario.
func New(cfg Config) *Scenario {
	return &Scenario{gen: newGen(cfg)}
}

// SameHost makes addrs the addresses of one machine (a dual-stack host's
// IPv4, IPv6 and link-local addresses): every frame any of them sends
// or receives carries the first one's MAC.
func (s *Scenario) SameHost(addrs ...netip.Addr) {
	if len(addrs) == 0 {
		return
	}
	if s.macs == nil {
		s.macs = map[netip.Addr][6]byte{}
	}
	m := macFor(addrs[0])
	for _, a := range addrs {
		s.macs[a] = m
	}
}

// Client returns the next ephemeral port of host, as its TCP/IP stack
// would pick for a new outgoing connection.
func (s *Scenario) Client(host netip.Addr) netip.AddrPort { return s.ephemeral(host) }

func (s *Scenario) add(f *flow) {
	if f == nil || len(f.steps) == 0 {
		return
	}
	f.finish()
	s.flows = append(s.flows, f)
}

// fillBlock is the payload filler: 128 KiB of fixed pseudo-random bytes
// (incompressible, like encrypted traffic), identical for every scenario.
var fillBlock = sync.OnceValue(func() []byte {
	r := rand.NewChaCha8([32]byte{'f', 'l', 'o', 'w', 'a', 'u', 'd', 'i', 't'})
	b := make([]byte, 128<<10)
	_, _ = r.Read(b)
	return b
})

func protoName(p uint8) string {
	switch p {
	case 1:
		return "icmp"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 58:
		return "icmp6"
	case 112:
		return "vrrp"
	case 0:
		return "arp"
	}
	return fmt.Sprintf("ip/%d", p)
}

func errFamily(f *flow) error {
	return fmt.Errorf("flow %d (%s %v -> %v): address family not supported here", f.id, protoName(f.proto), f.orig, f.resp)
}

// FlowInfo describes one flow of a scenario, for capture descriptions and
// for tests that compare a flow tracker with what was generated. Counts
// cover the packets of the last Write's window (all packets before any
// Write); every frame counts, each IP fragment included.
type FlowInfo struct {
	Proto      string         // tcp, udp, icmp, icmp6, vrrp, arp
	Orig, Resp netip.AddrPort // originator and responder (ports zero for ICMP, VRRP, ARP)
	ReplyFrom  netip.Addr     // source of the responder's packets when not Resp (a broadcast answered by one host)
	Tunnel     TunnelKind
	Packets    int // all frames: OrigPkts + RespPkts + ICMPErrors
	OrigPkts   int
	RespPkts   int
	OrigBytes  int // transport payload bytes (TCP/UDP data, ICMP echo data)
	RespBytes  int
	ICMPErrors int           // ICMP errors quoting this flow's packets
	Start, End time.Duration // offsets of the flow's first and last packet (whole flow)
	State      string        // expected conn_state in Zeek's terms ("-" for ARP)
	Note       string
}

// Flows lists the scenario's flows in order of their first packet.
func (s *Scenario) Flows() []FlowInfo {
	fs := slices.Clone(s.flows)
	slices.SortStableFunc(fs, func(a, b *flow) int {
		if c := cmp.Compare(a.start(), b.start()); c != 0 {
			return c
		}
		return a.id - b.id
	})
	out := make([]FlowInfo, 0, len(fs))
	for _, f := range fs {
		fi := FlowInfo{Proto: protoName(f.proto), Orig: f.orig, Resp: f.resp, ReplyFrom: f.replyFrom, Tunnel: f.path.Tunnel.Kind,
			Start: f.start(), End: f.steps[len(f.steps)-1].at, State: f.state, Note: f.note}
		for i := range f.steps {
			st := &f.steps[i]
			if st.at < s.window.From || (s.window.Until > 0 && st.at >= s.window.Until) {
				continue
			}
			fi.Packets++
			n := 0
			switch st.kind {
			case sTCP, sUDP, sICMPEcho:
				n = int(st.n)
			case sUDPFrag:
				if st.x == 0 { // count the datagram's payload once
					n = int(st.n)
				}
			case sICMPError:
				fi.ICMPErrors++
				continue
			}
			if st.rev {
				fi.RespPkts++
				fi.RespBytes += n
			} else {
				fi.OrigPkts++
				fi.OrigBytes += n
			}
		}
		out = append(out, fi)
	}
	return out
}
