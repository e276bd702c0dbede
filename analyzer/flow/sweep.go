package flow

import (
	"net/netip"
	"slices"
	"time"
)

// DefaultSweepThreshold is how many servers on one port (or ports on one
// server) a client may contact before its services are summarized as a
// sweep.
const DefaultSweepThreshold = 256

// maxSweepMembers bounds the distinct servers remembered across all
// host sweeps (about 50 bytes each); past it a sweep counts one server per
// connection to a server it has not remembered, and says so.
const maxSweepMembers = 1 << 20

// SweepKind says what a sweep varied.
type SweepKind uint8

// Sweep kinds.
const (
	// SweepHosts: one client, one protocol and port, many servers (a
	// horizontal scan: a /16 on 445).
	SweepHosts SweepKind = iota
	// SweepPorts: one client, one server, many ports of one protocol (a
	// vertical scan of a host).
	SweepPorts
)

func (k SweepKind) String() string {
	if k == SweepPorts {
		return "ports"
	}
	return "hosts"
}

// PortRange is an inclusive range of ports.
type PortRange struct{ Lo, Hi uint16 }

// Sweep summarizes the services of a client that contacted more than the
// sweep threshold of servers on one protocol and port, or of ports on one
// server. Its services are folded into it, not kept one by one.
type Sweep struct {
	Kind   SweepKind
	Client netip.Addr
	Server netip.Addr // SweepPorts: the server; the zero Addr for SweepHosts
	Proto  uint8
	// Ports are the ports contacted: for SweepHosts the one port, for
	// SweepPorts every port, merged into ranges.
	Ports []PortRange
	// Servers is the number of distinct servers contacted (1 for
	// SweepPorts). ServersApprox is set when more servers were swept than
	// flowaudit remembers (1,048,576 over all sweeps): beyond that a
	// connection to a server not remembered counts as a new one.
	Servers       uint64
	ServersApprox bool
	// ServerLo and ServerHi are the lowest and highest server address a
	// SweepHosts contacted (the extent of its servers), exact even when
	// ServersApprox: a waiver covers the sweep only if it covers them
	// both and all between. For SweepPorts both are Server.
	ServerLo, ServerHi netip.Addr

	Counts

	First, Last time.Time
	FirstPos    Pos      // position of the earliest connection's first packet
	FirstUID    FirstUID // Zeek uid of the earliest connection from a conn.log

	members map[netip.Addr]struct{} // SweepHosts: servers seen
	ports   *[1 << 13]byte          // SweepPorts: bitmap of ports seen
}

// portKey names a host sweep: client, protocol, port.
type portKey struct {
	client netip.Addr
	proto  uint8
	port   uint16
}

func (k portKey) hash(s *[4]uint64) uint64 { return hashPortOf(k.client, k.proto, k.port, s) }

// hashPort is the hash of service k's portKey.
func hashPort(k *ServiceKey, s *[4]uint64) uint64 { return hashPortOf(k.Client, k.Proto, k.Port, s) }

func hashPortOf(client netip.Addr, proto uint8, port uint16, s *[4]uint64) uint64 {
	ah, al := words(client)
	return mix(ah^s[0], al^s[1]) ^ mix(uint64(proto)<<16|uint64(port)^s[2], s[3])
}

// serverKey names a port sweep: client, server, protocol.
type serverKey struct {
	client, server netip.Addr
	proto          uint8
}

func (k serverKey) hash(s *[4]uint64) uint64 {
	return hashPair(k.client, k.server, uint64(k.proto)<<16, s)
}

// hashServer is the hash of service k's serverKey.
func hashServer(k *ServiceKey, s *[4]uint64) uint64 {
	return hashPair(k.Client, k.Server, uint64(k.Proto)<<16, s)
}

// portCount counts the servers of a client on one protocol and port (the
// new services), or holds the host sweep they opened.
type portCount struct {
	k  portKey
	n  int32
	sw *Sweep
}

func (c *portCount) key() portKey { return c.k }

// serverCount counts the ports of a client on one server and protocol,
// or holds the port sweep they opened.
type serverCount struct {
	k  serverKey
	n  int32
	sw *Sweep
}

func (c *serverCount) key() serverKey { return c.k }

// sweeps detects sweeps while services are folded, in memory bounded by
// the services: each new service counts once toward its client's
// (protocol, port) servers and its (server, protocol) ports; a count past
// the threshold opens a sweep, and every later connection of that client
// on that port (or to that server) goes into the sweep instead of a new
// service. Services made before the sweep opened are folded in at the end.
//
// A count and the sweep it opened share an entry, so that a new service
// finds its sweep or counts toward one in two lookups.
type sweeps struct {
	threshold int32
	maxKeys   int // bound on the counts of each table
	byPort    keyTable[portKey, portCount, *portCount]
	byServer  keyTable[serverKey, serverCount, *serverCount]
	nPort     int // entries of byPort that count (no sweep)
	nServer   int // entries of byServer that count (no sweep)
	hosts     map[portKey]*Sweep
	ports     map[serverKey]*Sweep
	members   int // servers remembered over all host sweeps
}

func newSweeps(threshold, maxKeys int) *sweeps {
	if threshold <= 0 {
		return nil
	}
	return &sweeps{threshold: int32(min(threshold, 1<<30)), maxKeys: maxKeys,
		hosts: map[portKey]*Sweep{}, ports: map[serverKey]*Sweep{}}
}

func keysOf(k ServiceKey) (portKey, serverKey) {
	return portKey{k.Client, k.Proto, k.Port}, serverKey{k.Client, k.Server, k.Proto}
}

// find returns the open sweep a service belongs to, or nil.
func (w *sweeps) find(k ServiceKey) *Sweep {
	pk, sk := keysOf(k)
	if c := w.byPort.get(pk); c != nil && c.sw != nil {
		return c.sw
	}
	if c := w.byServer.get(sk); c != nil {
		return c.sw
	}
	return nil
}

// route returns the open sweep a service not yet made belongs to; else it
// counts the new service and returns the sweep it opens, or nil. hs are
// k's hashes where known.
func (w *sweeps) route(k ServiceKey, hs *keyHashes) *Sweep {
	pk, sk := keysOf(k)
	pc, pat := w.byPort.lookupHash(pk, hs.h[1], hs.ok[1])
	if pc != nil && pc.sw != nil {
		return pc.sw
	}
	sc, sat := w.byServer.lookupHash(sk, hs.h[2], hs.ok[2])
	if sc != nil && sc.sw != nil {
		return sc.sw
	}
	// Count it (unless the table is full and the key new).
	if pc == nil && w.nPort < w.maxKeys {
		pc = w.byPort.add(pat)
		pc.k = pk
		w.nPort++
	}
	var np, ns int32
	if pc != nil {
		pc.n++
		np = pc.n
	}
	if sc == nil && w.nServer < w.maxKeys {
		sc = w.byServer.add(sat)
		sc.k = sk
		w.nServer++
	}
	if sc != nil {
		sc.n++
		ns = sc.n
	}
	switch {
	case np > w.threshold:
		s := &Sweep{Kind: SweepHosts, Client: k.Client, Proto: k.Proto, Ports: []PortRange{{k.Port, k.Port}},
			members: map[netip.Addr]struct{}{}}
		w.openHosts(pk, s)
		return s
	case ns > w.threshold:
		s := &Sweep{Kind: SweepPorts, Client: k.Client, Server: k.Server, Proto: k.Proto, Servers: 1,
			ServerLo: k.Server, ServerHi: k.Server, ports: new([1 << 13]byte)}
		w.openPorts(sk, s)
		return s
	}
	return nil
}

// openHosts makes s the host sweep of pk; its count ends.
func (w *sweeps) openHosts(pk portKey, s *Sweep) {
	w.hosts[pk] = s
	c, at := w.byPort.lookup(pk)
	switch {
	case c == nil:
		c = w.byPort.add(at)
		c.k = pk
	case c.sw == nil:
		w.nPort--
	}
	c.n, c.sw = 0, s
}

// openPorts makes s the port sweep of sk; its count ends.
func (w *sweeps) openPorts(sk serverKey, s *Sweep) {
	w.ports[sk] = s
	c, at := w.byServer.lookup(sk)
	switch {
	case c == nil:
		c = w.byServer.add(at)
		c.k = sk
	case c.sw == nil:
		w.nServer--
	}
	c.n, c.sw = 0, s
}

// member records that s contacted service k.
func (w *sweeps) member(s *Sweep, k ServiceKey) {
	if s.Kind == SweepPorts {
		s.ports[k.Port>>3] |= 1 << (k.Port & 7)
		return
	}
	s.extend(k.Server)
	if _, ok := s.members[k.Server]; ok {
		return
	}
	s.Servers++
	if w.members >= maxSweepMembers {
		s.ServersApprox = true
		return
	}
	s.members[k.Server] = struct{}{}
	w.members++
}

// extend widens the sweep's server extent to a.
func (s *Sweep) extend(a netip.Addr) {
	if !a.IsValid() {
		return
	}
	if !s.ServerLo.IsValid() || a.Less(s.ServerLo) {
		s.ServerLo = a
	}
	if !s.ServerHi.IsValid() || s.ServerHi.Less(a) {
		s.ServerHi = a
	}
}

// add folds a finished connection into s.
func (w *sweeps) add(s *Sweep, c *Connection, k ServiceKey) {
	w.member(s, k)
	first := s.Connections == 0
	s.Counts.addConn(c)
	s.span(first, c.Start, c.End, c.FirstPos)
	s.FirstUID.Add(&c.UID, c.Start.UnixNano())
}

// addService folds a service made before its sweep opened.
func (w *sweeps) addService(s *Sweep, v *Service) {
	w.member(s, v.ServiceKey)
	s.addCounts(&v.Counts, v.First, v.Last, v.FirstPos)
	s.FirstUID.Merge(&v.FirstUID)
}

// addCounts adds counts n of connections that spanned start..end, the
// earliest of them starting at pos.
func (s *Sweep) addCounts(n *Counts, start, end time.Time, pos Pos) {
	first := s.Connections == 0
	s.Counts.Add(n)
	s.span(first, start, end, pos)
}

func (s *Sweep) span(first bool, start, end time.Time, pos Pos) {
	if first || start.Before(s.First) {
		s.First = start
	}
	if first || end.After(s.Last) {
		s.Last = end
	}
	if first || pos.Less(s.FirstPos) {
		s.FirstPos = pos
	}
}

// portRanges turns the bitmap into ranges.
func portRanges(b *[1 << 13]byte) []PortRange {
	var out []PortRange
	in := false
	for p := 0; p < 1<<16; p++ {
		set := b[p>>3]&(1<<(p&7)) != 0
		switch {
		case set && !in:
			out = append(out, PortRange{uint16(p), uint16(p)})
			in = true
		case set:
			out[len(out)-1].Hi = uint16(p)
		default:
			in = false
		}
	}
	return out
}

// Compare orders sweeps by client, protocol, kind, port, then server.
func (s *Sweep) Compare(o *Sweep) int {
	if c := s.Client.Compare(o.Client); c != 0 {
		return c
	}
	if s.Proto != o.Proto {
		return int(s.Proto) - int(o.Proto)
	}
	if s.Kind != o.Kind {
		return int(s.Kind) - int(o.Kind)
	}
	if s.Kind == SweepHosts {
		return int(s.Ports[0].Lo) - int(o.Ports[0].Lo)
	}
	return s.Server.Compare(o.Server)
}

// fold moves the services made before their sweep opened into it, in
// key order (so the bounded member set fills the same way on every run),
// deleting them from services.
func (w *sweeps) fold(services *serviceTable) {
	if w == nil || len(w.hosts)+len(w.ports) == 0 {
		return
	}
	var swept []*svc
	for _, s := range services.all() {
		if w.find(s.ServiceKey) != nil {
			swept = append(swept, s)
		}
	}
	slices.SortFunc(swept, func(a, b *svc) int { return a.ServiceKey.Compare(b.ServiceKey) })
	for _, s := range swept {
		w.addService(w.find(s.ServiceKey), &s.Service)
	}
	for _, s := range swept {
		services.remove(s.ServiceKey)
	}
}

// list returns the sweeps, sorted.
func (w *sweeps) list() []Sweep {
	if w == nil {
		return nil
	}
	out := make([]Sweep, 0, len(w.hosts)+len(w.ports))
	for _, s := range w.hosts {
		out = append(out, *s)
	}
	for _, s := range w.ports {
		c := *s
		c.Ports = portRanges(s.ports)
		out = append(out, c)
	}
	for i := range out {
		out[i].members, out[i].ports = nil, nil
	}
	slices.SortFunc(out, func(a, b Sweep) int { return a.Compare(&b) })
	return out
}
