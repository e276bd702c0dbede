package flow

import (
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/decode"
)

// ServerPorts names the ports that are known server ports, so that a
// connection seen mid-stream (or UDP) gets its client on the other side.
// catalog.(*Catalog).ServerPort satisfies it.
type ServerPorts interface {
	ServerPort(proto uint8, port uint16) bool
}

// Defaults, after Zeek's tcp_inactivity_timeout, udp_inactivity_timeout,
// icmp_inactivity_timeout and tcp_close_delay.
const (
	DefaultTCPTimeout     = 5 * time.Minute
	DefaultUDPTimeout     = time.Minute
	DefaultOtherTimeout   = time.Minute
	DefaultClosedTimeout  = 5 * time.Second
	DefaultMaxConnections = 1 << 18
	// DefaultMaxServices bounds the per-service aggregates: a pilot has
	// thousands, a scan from many sources could have millions. A service
	// costs about 3 KiB from the tracker to the report, so the default
	// keeps analyze under 512 MiB; sweeps (one client, many servers or
	// ports) are folded before they count toward it.
	DefaultMaxServices = 1 << 16
)

// Config tunes a Tracker. Zero values mean the defaults.
type Config struct {
	TCPTimeout    time.Duration // idle timeout of open TCP connections
	UDPTimeout    time.Duration // idle timeout of UDP connections
	OtherTimeout  time.Duration // idle timeout of ICMP and other IP protocols
	ClosedTimeout time.Duration // how long a closed TCP connection (FIN both ways, or RST) waits for stray packets

	// MaxConnections bounds the live table; when it is full the connection
	// idle the longest is emitted early (Stats.Evicted counts them).
	MaxConnections int

	// MaxServices bounds the per-service aggregates; connections of new
	// services past it are counted in Stats.Unaggregated, not kept.
	MaxServices int

	// VLANKey makes the VLAN tags part of the connection key, for
	// captures where the same addresses live in several VLANs. By default
	// (as in tshark and Zeek's default key) connections are keyed by
	// addresses, ports and protocol only, so a connection whose two
	// directions cross a trunk in different VLANs stays one connection;
	// Connection.VLAN records the tags of its first packet either way.
	VLANKey bool

	// ServerPorts, if set, decides the client of mid-stream TCP and of
	// UDP connections before the port-number heuristics.
	ServerPorts ServerPorts

	// OnConnection, if set, receives every connection as it finishes. The
	// pointer is valid only during the call.
	OnConnection func(*Connection)

	// Namer, if set, names each finished connection (from DNS answers)
	// before it is folded into its service and handed to OnConnection.
	Namer Namer

	// NoServices skips the per-service aggregates (Services returns nil),
	// for callers that only want the connections.
	NoServices bool

	// NoAddrMACs skips recording each sender's source MAC (AddrMACs
	// returns none), for callers that tie no addresses to hosts: only
	// role inference does.
	NoAddrMACs bool

	// SweepThreshold: a client that contacts more than this many servers
	// on one protocol and port, or ports of one server, has those
	// services summarized as one Sweep. 0 means DefaultSweepThreshold;
	// negative turns sweep detection off.
	SweepThreshold int
}

// Stats counts what the tracker did.
type Stats struct {
	Packets             uint64 // packets given to Add
	Ignored             uint64 // packets without valid addresses
	Connections         uint64 // connections created
	Live                int    // connections in the live table now
	PeakLive            int    // most connections live at once
	TimedOut            uint64 // connections finished by an idle timeout
	Reused              uint64 // connections finished by a new SYN on the same ports
	Evicted             uint64 // connections finished early because the table was full
	Unaggregated        uint64 // connections not folded into a service: the service table was full
	Swept               uint64 // connections folded straight into a sweep (see Sweep)
	ClockJumps          uint64 // times the clock went back by more than the longest timeout (all connections ended)
	ICMPErrorsAttached  uint64 // ICMP errors attached to the connection they quote
	ICMPErrorsUnmatched uint64 // ICMP errors quoting no known connection (kept as ICMP connections)
	Fragments           uint64 // non-first IP fragments
	FragmentsOrphaned   uint64 // non-first fragments whose first fragment never came

	// UnaggregatedServices is how many distinct services the Unaggregated
	// connections belonged to; exact unless UnaggregatedServicesMore, when
	// it is a lower bound (the keys are counted in a bounded set).
	UnaggregatedServices     uint64
	UnaggregatedServicesMore bool

	// AddrMACsNotKept counts the connection sides whose sender's MAC was
	// not recorded because MaxAddrMACs addresses already were.
	AddrMACsNotKept uint64
}

// idle lists: connections ordered by last activity, one list per timeout.
const (
	listTCP = iota
	listUDP
	listOther
	listClosed
	numLists
	noList = 255
)

type idleList struct{ head, tail *conn }

// Tracker assembles packets into connections. It is not safe for
// concurrent use.
type Tracker struct {
	cfg        Config
	timeout    [numLists]int64
	max        int
	maxTimeout int64
	nextExpiry int64 // no idle-list head times out before this clock value
	conns      connTable
	lists      [numLists]idleList
	free       []*conn
	nextID     uint64
	now        int64
	services   serviceTable
	arenas     serviceArenas           // the services' spans and names
	prefetched prefetched              // the service of the connection finishing (prefetchService)
	sweeps     *sweeps                 // nil when off
	serverTTL  map[netip.Addr][2]uint8 // a server's lowest and highest TTL, to compare with RSTs
	macs       map[netip.Addr]macEntry // each sender's source MAC (AddrMACs)
	frags      fragTable
	stats      Stats
	rec        Connection // the finished connection being handed out, reused

	// unaggregated holds the services not kept past MaxServices, to
	// count them (at most maxUnaggregatedKeys).
	unaggregated map[ServiceKey]struct{}

	// Keys looked up and not found, when RecordMisses asked for them.
	recMisses, missStarted bool
	missStart              int64
	misses                 []uint64
}

// NewTracker returns an empty tracker.
func NewTracker(cfg Config) *Tracker {
	def := func(d, v time.Duration) int64 {
		if d <= 0 {
			d = v
		}
		return int64(d)
	}
	if cfg.MaxServices <= 0 {
		cfg.MaxServices = DefaultMaxServices
	}
	t := &Tracker{
		cfg:        cfg,
		max:        cfg.MaxConnections,
		nextExpiry: math.MaxInt64,
		serverTTL:  make(map[netip.Addr][2]uint8),
		macs:       make(map[netip.Addr]macEntry),
	}
	if cfg.SweepThreshold == 0 {
		cfg.SweepThreshold = DefaultSweepThreshold
	}
	t.sweeps = newSweeps(cfg.SweepThreshold, cfg.MaxServices)
	t.cfg.SweepThreshold = cfg.SweepThreshold
	if t.max <= 0 {
		t.max = DefaultMaxConnections
	}
	t.timeout[listTCP] = def(cfg.TCPTimeout, DefaultTCPTimeout)
	t.timeout[listUDP] = def(cfg.UDPTimeout, DefaultUDPTimeout)
	t.timeout[listOther] = def(cfg.OtherTimeout, DefaultOtherTimeout)
	t.timeout[listClosed] = def(cfg.ClosedTimeout, DefaultClosedTimeout)
	t.maxTimeout = max(t.timeout[0], t.timeout[1], t.timeout[2], t.timeout[3])
	t.frags.init()
	t.conns.init()
	return t
}

// Add feeds one decoded packet captured at ts, found at pos. A zero ts
// (pcapng simple packet blocks carry none) is taken as the newest time seen.
func (t *Tracker) Add(p *decode.Packet, ts time.Time, pos Pos) {
	t.stats.Packets++
	now := t.now
	if !ts.IsZero() {
		now = ts.UnixNano()
	}
	if now > t.now {
		t.now = now
	} else if t.now-now > t.maxTimeout {
		// The clock went back further than any timeout: a capture that
		// does not continue the previous one (files out of time order).
		// Every live connection ends; the clock restarts here.
		t.stats.ClockJumps++
		t.endAll(EndTimeout)
		t.now = now
	}
	t.expire()
	if !p.Src.IsValid() || !p.Dst.IsValid() {
		t.stats.Ignored++
		return
	}
	vlan, inner := t.vlans(p)
	if p.Fragment && p.FragOffset > 0 {
		t.fragment(p, now, pos)
		return
	}

	var k connKey
	var icmpType uint8
	switch p.Proto {
	case decode.ProtoICMP, decode.ProtoICMPv6:
		icmpType = p.ICMPType
		if icmpIsError(p.Proto, icmpType) && t.attachError(p, vlan, inner) {
			return
		}
		icmpKey(&k, p, vlan, inner)
	default:
		k.set(&p.Src, &p.Dst, p.SrcPort, p.DstPort, p.Proto, kindPorts, vlan, inner)
	}

	c := t.conns.get(&k)
	if c == nil && t.recMisses {
		t.miss(&k)
	}
	if c != nil && c.isTCP() && t.isReuse(c, p) {
		t.finish(c, EndReused)
		c = nil
	}
	if c == nil {
		c = t.open(&k, p, now, pos)
	}
	dir := c.dirOf(p, icmpType)
	t.count(c, p, dir, now, pos)
	if p.HasMAC && c.macSeen&(1<<dir) == 0 && !t.cfg.NoAddrMACs {
		c.macSeen |= 1 << dir
		t.noteMAC(p)
	}
	if dir == 1 {
		c.respTTLs(p)
	}
	if p.Proto == decode.ProtoTCP {
		c.tcpPacket(p, dir)
	} else if p.Proto == decode.ProtoUDP {
		c.once(dir, histData, 'D')
	}
	t.touch(c)
	if p.Fragment {
		t.firstFragment(p, c, dir, now)
	}
}

// count adds a packet's size and time to side dir of c.
func (t *Tracker) count(c *conn, p *decode.Packet, dir int, now int64, pos Pos) {
	e := &c.ep[dir]
	e.pkts++
	if p.IPLen > 0 {
		e.ipBytes += uint64(p.IPLen)
	}
	if p.PayloadLen > 0 {
		e.payload += uint64(p.PayloadLen)
	}
	// As Zeek, a TCP connection's last time stops once both endpoints
	// have closed (FIN or RST): the final ACK and late retransmissions
	// do not lengthen it.
	if now > c.last && !(c.ep[0].didClose && c.ep[1].didClose) {
		c.last = now
	}
	if now < c.start {
		c.start = now
	}
	c.lastPos = pos
}

// respTTLs keeps the TTL of the responder's first RST and of its first
// other packet: a RST whose TTL differs from the host's other packets was
// sent by something in between.
func (c *conn) respTTLs(p *decode.Packet) {
	if p.Proto == decode.ProtoTCP && p.TCPFlags&decode.FlagRST != 0 {
		if !c.respRST {
			c.respRST, c.rstTTL = true, p.TTL
		}
	} else if c.respTTL == 0 {
		c.respTTL = p.TTL
	}
}

// vlans are the outer and inner VLAN IDs of p that key its connection
// (0 without Config.VLANKey or without the tag).
func (t *Tracker) vlans(p *decode.Packet) (vlan, inner uint16) {
	if t.cfg.VLANKey {
		if p.NVLAN > 0 {
			vlan = p.VLANs[0]
		}
		if p.NVLAN > 1 {
			inner = p.VLANs[1]
		}
	}
	return vlan, inner
}

// icmpKey keys echo by identifier, request/reply pairs by the request type
// and other messages by type and code.
func icmpKey(k *connKey, p *decode.Packet, vlan, inner uint16) {
	t := p.ICMPType
	switch {
	case icmpIsEcho(p.Proto, t):
		k.set(&p.Src, &p.Dst, p.ICMPID, p.ICMPID, p.Proto, kindEcho, vlan, inner)
		return
	case icmpIsRequest(p.Proto, t):
		k.set(&p.Src, &p.Dst, uint16(t), uint16(t), p.Proto, kindPair, vlan, inner)
		return
	}
	if req, ok := icmpCounterpart(p.Proto, t); ok {
		k.set(&p.Src, &p.Dst, uint16(req), uint16(req), p.Proto, kindPair, vlan, inner)
		return
	}
	v := uint16(t)<<8 | uint16(p.ICMPCode)
	k.set(&p.Src, &p.Dst, v, v, p.Proto, kindOneWay, vlan, inner)
}

// attachError attaches an ICMP error to the connection it quotes. It
// returns false when there is no such connection.
func (t *Tracker) attachError(p *decode.Packet, vlan, inner uint16) bool {
	q := &p.Quoted
	if !q.Valid || q.Proto == decode.ProtoICMP || q.Proto == decode.ProtoICMPv6 {
		t.stats.ICMPErrorsUnmatched++
		return false
	}
	var k connKey
	k.set(&q.Src, &q.Dst, q.SrcPort, q.DstPort, q.Proto, kindPorts, vlan, inner)
	c := t.conns.get(&k)
	if c == nil {
		if t.recMisses {
			t.miss(&k)
		}
		t.stats.ICMPErrorsUnmatched++
		return false
	}
	if c.icmpErrors == 0 {
		c.icmpFrom, c.icmpType, c.icmpCode = p.Src, p.ICMPType, p.ICMPCode
	}
	c.icmpErrors++
	if icmpIsUnreachable(p.Proto, p.ICMPType, p.ICMPCode) {
		c.unreach = true
	}
	t.stats.ICMPErrorsAttached++
	return true
}

// isReuse says whether p, a SYN on the addresses and ports of c, starts a
// new connection, as Zeek's IsReuse decides: once either endpoint has
// closed (FIN or RST), any SYN does, even one retried with the same initial
// sequence number after the server's RST (each attempt is a connection);
// before that, only a SYN whose sequence number differs from the
// originator's initial one. A SYN-ACK counts only for a connection whose
// originator was never seen.
func (t *Tracker) isReuse(c *conn, p *decode.Packet) bool {
	if p.TCPFlags&decode.FlagSYN == 0 {
		return false
	}
	orig, resp := &c.ep[0], &c.ep[1]
	connOrig := orig
	ack := p.TCPFlags&decode.FlagACK != 0
	if ack {
		if orig.state != tcpInactive {
			return false
		}
		connOrig = resp
	}
	if orig.didClose || resp.didClose {
		return true
	}
	if p.Seq == connOrig.start {
		return false
	}
	if !ack && connOrig.state == tcpSynAckSent && resp.state == tcpInactive && p.Seq == resp.start {
		return false // a SYN and SYN-ACK seen in the wrong order
	}
	return true
}

// open creates the connection for the first packet p.
func (t *Tracker) open(k *connKey, p *decode.Packet, now int64, pos Pos) *conn {
	if t.conns.n >= t.max {
		t.evictOldest()
	}
	var c *conn
	var holes *[2]holeSet // reused with the memory (endpoint.nooo starts at 0)
	if n := len(t.free); n > 0 {
		c = t.free[n-1]
		t.free = t.free[:n-1]
		holes = c.holes
	} else {
		// Not read before it is written: see newRing in package names.
		c = new(conn)
	}
	t.nextID++
	*c = conn{key: *k, id: t.nextID, proto: p.Proto, kind: k.kind, tunnel: p.Tunnel,
		start: now, last: now, firstPos: pos, lastPos: pos, list: noList, holes: holes}
	if p.NVLAN > 0 {
		c.vlan = p.VLANs[0]
	}
	if p.NVLAN > 1 {
		c.innerVLAN = p.VLANs[1]
	}

	srcClient, by := t.decide(p)
	if srcClient {
		c.origIsB = p.Src != k.a
		c.origPort, c.respPort = p.SrcPort, p.DstPort
	} else {
		c.origIsB = p.Dst != k.a
		c.origPort, c.respPort = p.DstPort, p.SrcPort
	}
	c.clientBy = by
	switch k.kind {
	case kindEcho, kindPair:
		// The client's message type, then its counterpart: the request
		// and its reply, unless the client is a group's sender.
		typ := p.ICMPType
		if !srcClient {
			typ, _ = icmpCounterpart(p.Proto, typ)
		}
		other, _ := icmpCounterpart(p.Proto, typ)
		c.origPort, c.respPort = uint16(typ), uint16(other)
	case kindOneWay:
		c.origPort, c.respPort = uint16(p.ICMPType), uint16(p.ICMPCode)
	}
	if !srcClient && (p.Proto == decode.ProtoTCP || p.Proto == decode.ProtoUDP) {
		c.addHistory(0, '^')
	}
	t.conns.put(c)
	t.stats.Connections++
	if n := t.conns.n; n > t.stats.PeakLive {
		t.stats.PeakLive = n
	}
	return c
}

// Ephemeral and well-known port boundaries for the client decision.
const (
	wellKnownBelow = 1024
	ephemeralFrom  = 32768
)

// decide says whether the sender of the first packet p is the client, and
// by which rule.
func (t *Tracker) decide(p *decode.Packet) (bool, ClientBy) {
	switch p.Proto {
	case decode.ProtoTCP:
		if p.TCPFlags&decode.FlagSYN != 0 {
			if p.TCPFlags&decode.FlagACK == 0 {
				return true, BySYN
			}
			return false, BySYNACK
		}
	}
	// A broadcast or multicast address is never the client: the sender of
	// a DHCP discover, a DHCPv6 solicit or a router advertisement is.
	if gs, gd := isGroup(p.Src), isGroup(p.Dst); gs != gd {
		return gd, ByGroup
	}
	switch p.Proto {
	case decode.ProtoTCP, decode.ProtoUDP, decode.ProtoSCTP:
	case decode.ProtoICMP, decode.ProtoICMPv6:
		typ := p.ICMPType
		if icmpIsRequest(p.Proto, typ) {
			return true, ByICMP
		}
		if _, ok := icmpCounterpart(p.Proto, typ); ok {
			return false, ByICMP
		}
		return true, ByFirstPacket
	default:
		return true, ByFirstPacket
	}
	sp, dp := p.SrcPort, p.DstPort
	if t.cfg.ServerPorts != nil {
		s, d := t.cfg.ServerPorts.ServerPort(p.Proto, sp), t.cfg.ServerPorts.ServerPort(p.Proto, dp)
		if d && !s && dp != 0 {
			return true, ByCatalog
		}
		if s && !d && sp != 0 {
			return false, ByCatalog
		}
	}
	// Port 0 is reserved: never a server port, however low.
	sw, dw := sp != 0 && sp < wellKnownBelow, dp != 0 && dp < wellKnownBelow
	switch {
	case dw && !sw:
		return true, ByWellKnown
	case sw && !dw:
		return false, ByWellKnown
	case sw && dw && sp != dp:
		return dp < sp, ByWellKnown
	}
	se, de := sp >= ephemeralFrom, dp >= ephemeralFrom
	switch {
	case se && !de:
		return true, ByEphemeral
	case de && !se:
		return false, ByEphemeral
	}
	return true, ByFirstPacket
}

// isGroup says whether a is a broadcast (255.255.255.255) or multicast
// address.
func isGroup(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsMulticast() || (a.Is4() && a.As4() == [4]byte{255, 255, 255, 255})
}

func listOf(c *conn) uint8 {
	switch c.proto {
	case decode.ProtoTCP:
		if c.tcpClosedOut() {
			return listClosed
		}
		return listTCP
	case decode.ProtoUDP:
		return listUDP
	}
	return listOther
}

// touch moves c to the tail of its idle list.
func (t *Tracker) touch(c *conn) {
	c.seen = t.now
	l := listOf(c)
	if c.list == l && t.lists[l].tail == c {
		return
	}
	t.unlink(c)
	li := &t.lists[l]
	c.prev = li.tail
	if li.tail != nil {
		li.tail.next = c
	} else {
		li.head = c
	}
	li.tail = c
	c.list = l
	if li.head == c {
		t.nextExpiry = min(t.nextExpiry, expiry(c.seen, t.timeout[l]))
	}
}

// expiry is when a connection last active at seen times out, saturating
// rather than overflowing for very long timeouts.
func expiry(seen, timeout int64) int64 {
	if seen > math.MaxInt64-timeout {
		return math.MaxInt64
	}
	return seen + timeout
}

func (t *Tracker) unlink(c *conn) {
	if c.list == noList {
		return
	}
	li := &t.lists[c.list]
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		li.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		li.tail = c.prev
	}
	c.prev, c.next, c.list = nil, nil, noList
}

// expire finishes connections idle for their timeout or longer. Each list is in
// order of last activity, so only its head can be due; nextExpiry, the
// earliest head's time-out, spares the look at the heads on most packets.
// A head only ever gets later (its connection moves to the tail or ends),
// and touch lowers nextExpiry when a list gets a new head.
func (t *Tracker) expire() {
	if t.now < t.nextExpiry {
		return
	}
	next := int64(math.MaxInt64)
	for i := range t.lists {
		l := &t.lists[i]
		// Idle for the timeout or longer, as Zeek's inactivity timer
		// (last time + timeout <= now) decides.
		for l.head != nil && t.now-l.head.seen >= t.timeout[i] {
			t.finish(l.head, EndTimeout)
		}
		if l.head != nil {
			next = min(next, expiry(l.head.seen, t.timeout[i]))
		}
	}
	t.nextExpiry = next
}

// evictOldest finishes the connection idle the longest.
func (t *Tracker) evictOldest() {
	var oldest *conn
	for i := range t.lists {
		if h := t.lists[i].head; h != nil && (oldest == nil || h.seen < oldest.seen) {
			oldest = h
		}
	}
	if oldest != nil {
		t.finish(oldest, EndEvicted)
	}
}

// finish removes c from the table, emits it and folds it into its service.
func (t *Tracker) finish(c *conn, reason EndReason) {
	if !t.cfg.NoServices {
		t.prefetchService(c)
	}
	t.unlink(c)
	t.conns.remove(c)
	// The History and Community ID strings are made only for a callback;
	// the service aggregates do not need them.
	rec := &t.rec
	c.exportTo(rec, reason, t.cfg.OnConnection != nil)
	if !t.cfg.NoServices {
		t.prefetchEntries()
	}
	if t.cfg.Namer != nil {
		t.cfg.Namer.Name(rec)
	}
	switch reason {
	case EndTimeout:
		t.stats.TimedOut++
	case EndReused:
		t.stats.Reused++
	case EndEvicted:
		t.stats.Evicted++
	}
	if !t.cfg.NoServices {
		t.fold(rec)
	}
	if t.cfg.OnConnection != nil {
		t.cfg.OnConnection(rec)
	}
	*c = conn{list: noList, holes: c.holes} // the hole sets are reused with the memory
	if len(t.free) < 4096 {
		t.free = append(t.free, c)
	}
}

// AddConnection takes a connection another source assembled — a sensor's
// flow record (connlog) — as if the tracker had finished it: it gets the
// tracker's next ID, is folded into its service or sweep and handed to
// Config.OnConnection. Live connections and timeouts are not involved.
func (t *Tracker) AddConnection(c *Connection) {
	t.nextID++
	c.ID = t.nextID
	t.stats.Connections++
	if !t.cfg.NoServices {
		t.fold(c)
	}
	if t.cfg.OnConnection != nil {
		t.cfg.OnConnection(c)
	}
}

// Flush finishes every live connection, in order of first packet, as the
// end of input. The tracker can take more packets afterwards.
func (t *Tracker) Flush() {
	t.endAll(EndOfInput)
	t.frags.flush(&t.stats)
}

// endAll finishes every live connection in order of first packet.
func (t *Tracker) endAll(reason EndReason) {
	live := make([]*conn, 0, t.conns.n)
	t.conns.each(func(c *conn) { live = append(live, c) })
	slices.SortFunc(live, func(a, b *conn) int {
		switch {
		case a.firstPos.Less(b.firstPos):
			return -1
		case b.firstPos.Less(a.firstPos):
			return 1
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	for _, c := range live {
		t.finish(c, reason)
	}
}

// Stats returns the counters so far.
func (t *Tracker) Stats() Stats {
	s := t.stats
	s.Live = t.conns.n
	return s
}

// Live is the number of connections in the live table.
func (t *Tracker) Live() int { return t.conns.n }

// --- IP fragments ---------------------------------------------------------

const (
	fragSlots   = 1024
	fragTimeout = int64(30 * time.Second)
)

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
}

// fragEntry links a fragmented datagram to its connection, or holds the
// counts of fragments that came before the first one.
type fragEntry struct {
	key  fragKey
	used bool
	c    *conn
	cid  uint64
	dir  int
	seen int64
	// fragments waiting for the first one
	pkts, ipBytes, payload uint64
	first, last            int64
	firstPos, lastPos      Pos
}

// fragTable is a fixed ring of entries with an index; the oldest entry is
// overwritten when the ring is full.
type fragTable struct {
	slots []fragEntry
	index map[fragKey]int32
	next  int
}

func (f *fragTable) init() {
	f.slots = make([]fragEntry, fragSlots)
	f.index = make(map[fragKey]int32, fragSlots)
}

func (f *fragTable) lookup(k fragKey, now int64) *fragEntry {
	i, ok := f.index[k]
	if !ok {
		return nil
	}
	e := &f.slots[i]
	if now-e.seen > fragTimeout {
		return nil
	}
	return e
}

func (f *fragTable) insert(k fragKey, now int64, st *Stats) *fragEntry {
	if i, ok := f.index[k]; ok {
		e := &f.slots[i]
		st.FragmentsOrphaned += e.pkts
		*e = fragEntry{key: k, used: true, seen: now}
		return e
	}
	e := &f.slots[f.next]
	if e.used {
		st.FragmentsOrphaned += e.pkts
		delete(f.index, e.key)
	}
	*e = fragEntry{key: k, used: true, seen: now}
	f.index[k] = int32(f.next)
	f.next = (f.next + 1) % len(f.slots)
	return e
}

func (f *fragTable) flush(st *Stats) {
	for i := range f.slots {
		e := &f.slots[i]
		if e.used {
			st.FragmentsOrphaned += e.pkts
		}
		*e = fragEntry{}
	}
	clear(f.index)
	f.next = 0
}

// fragment counts a non-first fragment toward its datagram's connection.
func (t *Tracker) fragment(p *decode.Packet, now int64, pos Pos) {
	t.stats.Fragments++
	k := fragKey{src: p.Src, dst: p.Dst, id: p.FragID, proto: p.Proto}
	e := t.frags.lookup(k, now)
	if e == nil {
		e = t.frags.insert(k, now, &t.stats)
	}
	e.seen = now
	if e.c != nil && e.c.id == e.cid {
		t.count(e.c, p, e.dir, now, pos)
		t.touch(e.c)
		return
	}
	e.c = nil
	if e.pkts == 0 {
		e.first, e.firstPos = now, pos
	}
	e.pkts++
	if p.IPLen > 0 {
		e.ipBytes += uint64(p.IPLen)
	}
	if p.PayloadLen > 0 {
		e.payload += uint64(p.PayloadLen)
	}
	if now > e.last {
		e.last = now
	}
	e.lastPos = pos
}

// firstFragment links the first fragment's connection to its datagram and
// adds any fragments that came before it.
func (t *Tracker) firstFragment(p *decode.Packet, c *conn, dir int, now int64) {
	k := fragKey{src: p.Src, dst: p.Dst, id: p.FragID, proto: p.Proto}
	e := t.frags.lookup(k, now)
	if e == nil || e.c != nil {
		e = t.frags.insert(k, now, &t.stats)
	}
	e.c, e.cid, e.dir, e.seen = c, c.id, dir, now
	if e.pkts > 0 {
		s := &c.ep[dir]
		s.pkts += e.pkts
		s.ipBytes += e.ipBytes
		if !c.isTCP() {
			s.payload += e.payload
		}
		if e.last > c.last {
			c.last = e.last
		}
		if e.first < c.start {
			c.start = e.first
		}
		if e.firstPos.Less(c.firstPos) {
			c.firstPos = e.firstPos
		}
		if c.lastPos.Less(e.lastPos) {
			c.lastPos = e.lastPos
		}
		e.pkts, e.ipBytes, e.payload = 0, 0, 0
	}
}
