package flow

import (
	"cmp"
	"encoding/binary"
	"math"
	"net/netip"
	"slices"
	"time"
	"unsafe"

	"github.com/flowaudit/flowaudit/analyzer/decode"
	"github.com/flowaudit/flowaudit/analyzer/prefault"
	"github.com/flowaudit/flowaudit/analyzer/prefetch"
)

// ServiceKey identifies a service: a client talking to a server port.
type ServiceKey struct {
	Client netip.Addr
	Server netip.Addr
	Proto  uint8 // IP protocol number
	// Port is the server port for TCP, UDP and SCTP; for ICMP the type of
	// the client's message (8 for echo, 128 for ICMPv6 echo); 0 for other
	// protocols.
	Port uint16
}

// hash hashes the key's fields under seed, as connTable.hash does.
func (k ServiceKey) hash(s *[4]uint64) uint64 {
	return hashPair(k.Client, k.Server, uint64(k.Proto)<<16|uint64(k.Port), s)
}

// hashPair hashes two addresses and a word of protocol and port.
func hashPair(a, b netip.Addr, rest uint64, s *[4]uint64) uint64 {
	if a.Is4() && b.Is4() {
		_, x := words(a)
		_, y := words(b)
		return mix(x<<32|y^s[0], rest^s[1])
	}
	ah, al := words(a)
	bh, bl := words(b)
	h := mix(ah^s[0], al^s[1]) ^ mix(bh^s[2], bl^s[3])
	return mix(h^rest, s[1])
}

// Compare orders keys by client, server, protocol, then port.
func (k ServiceKey) Compare(o ServiceKey) int {
	if c := k.Client.Compare(o.Client); c != 0 {
		return c
	}
	if c := k.Server.Compare(o.Server); c != 0 {
		return c
	}
	if k.Proto != o.Proto {
		return int(k.Proto) - int(o.Proto)
	}
	return int(k.Port) - int(o.Port)
}

// Service aggregates every finished connection of one ServiceKey.
type Service struct {
	ServiceKey

	Counts

	// Evidence of who answered for the server. ServerTTLMin and
	// ServerTTLMax are the lowest and highest TTL (hop limit) of the
	// server's packets other than RSTs, over every connection of the
	// server (0: none seen). RSTs counts connections the server's address
	// reset; RSTTTL is the TTL of the first such RST. ICMPFrom, ICMPType
	// and ICMPCode are the first ICMP error that quoted a connection.
	ServerTTLMin, ServerTTLMax uint8
	RSTTTL                     uint8
	RSTs                       uint64
	ICMPFrom                   netip.Addr
	ICMPType, ICMPCode         uint8

	// Names are the server names its connections were for, with their
	// sources (at most MaxServiceNames, in order of first appearance);
	// DNSNames what DNS called the server where that differs from a
	// connection's own name.
	Names    []ServiceName
	DNSNames []string

	First, Last time.Time // first and last packet of any connection
	FirstPos    Pos       // position of the earliest connection's first packet
	FirstID     uint64    // Connection.ID of that connection
	// FirstUID is the Zeek uid of the earliest connection from a conn.log
	// (none when no connection had one): a finding from records, without a
	// frame, is found by it in Zeek's logs.
	FirstUID FirstUID

	// Spans are when its first MaxServiceSpans connections (by first
	// packet, then last) ran, in that order: what shows one host's
	// connections following another's (a gateway's inside address
	// passing on its clients' connections; see package infer).
	Spans []Span
}

// MaxServiceSpans bounds the connection spans kept per service (24 bytes
// each).
const MaxServiceSpans = 16

// Span is when one connection of a service ran, and what became of it.
type Span struct {
	Start, End int64 // first and last packet, Unix nanoseconds
	Outcome    Outcome
}

// SpanOf is the span of connection c.
func SpanOf(c *Connection) Span {
	return Span{Start: c.Start.UnixNano(), End: c.End.UnixNano(), Outcome: c.Outcome}
}

// StartTime and EndTime are the span's first and last packet times, in UTC.
func (sp Span) StartTime() time.Time { return time.Unix(0, sp.Start).UTC() }

// EndTime: see StartTime.
func (sp Span) EndTime() time.Time { return time.Unix(0, sp.End).UTC() }

// compareSpans orders spans by start, then end, then outcome.
func compareSpans(a, b Span) int {
	if c := cmp.Compare(a.Start, b.Start); c != 0 {
		return c
	}
	if c := cmp.Compare(a.End, b.End); c != 0 {
		return c
	}
	return int(a.Outcome) - int(b.Outcome)
}

// addSpan keeps sp among the service's spans if it is one of the first
// MaxServiceSpans: the same spans whatever order connections finish or
// trackers merge in. The spans grow in a.
func (s *Service) addSpan(sp Span, a *arena[Span]) {
	n := len(s.Spans)
	if n == MaxServiceSpans && compareSpans(sp, s.Spans[n-1]) >= 0 {
		return
	}
	i := n
	if n > 0 && compareSpans(sp, s.Spans[n-1]) < 0 { // else in order: the usual case
		i, _ = slices.BinarySearchFunc(s.Spans, sp, compareSpans)
	}
	if n == MaxServiceSpans {
		copy(s.Spans[i+1:], s.Spans[i:n-1])
		s.Spans[i] = sp
		return
	}
	s.Spans = slices.Insert(a.grow(s.Spans, MaxServiceSpans), i, sp)
}

// Counts are the connection, packet and byte counts of a Service or a
// Sweep: the sums over the connections folded into it.
type Counts struct {
	Connections uint64 // connections folded in
	// Connections per outcome; they add up to Connections.
	Established, Rejected, Unanswered, Partial uint64

	ClientPackets, ServerPackets uint64
	ClientBytes, ServerBytes     uint64 // payload bytes (as Connection.OrigBytes/RespBytes)
	ClientIPBytes, ServerIPBytes uint64 // IP bytes
	ICMPErrors                   uint64 // ICMP errors that quoted its connections (not in the packets)
	// NoPackets and NoBytes are the connections whose source gave no
	// packet, or no IP byte, count for a direction (Connection.Unknown):
	// the sums above take them as 0.
	NoPackets, NoBytes uint64
}

// Count returns the number of connections with outcome o.
func (n *Counts) Count(o Outcome) uint64 {
	switch o {
	case Established:
		return n.Established
	case Rejected:
		return n.Rejected
	case Unanswered:
		return n.Unanswered
	case Partial:
		return n.Partial
	}
	return 0
}

// Add adds o's counts to n.
func (n *Counts) Add(o *Counts) {
	n.Connections += o.Connections
	n.Established += o.Established
	n.Rejected += o.Rejected
	n.Unanswered += o.Unanswered
	n.Partial += o.Partial
	n.ClientPackets += o.ClientPackets
	n.ServerPackets += o.ServerPackets
	n.ClientBytes += o.ClientBytes
	n.ServerBytes += o.ServerBytes
	n.ClientIPBytes += o.ClientIPBytes
	n.ServerIPBytes += o.ServerIPBytes
	n.ICMPErrors += o.ICMPErrors
	n.NoPackets += o.NoPackets
	n.NoBytes += o.NoBytes
}

// addConn counts one finished connection; an outcome other than
// Established, Rejected and Unanswered counts as Partial.
func (n *Counts) addConn(c *Connection) {
	n.Connections++
	switch c.Outcome {
	case Established:
		n.Established++
	case Rejected:
		n.Rejected++
	case Unanswered:
		n.Unanswered++
	default:
		n.Partial++
	}
	n.ClientPackets += c.OrigPkts
	n.ServerPackets += c.RespPkts
	n.ClientBytes += c.OrigBytes
	n.ServerBytes += c.RespBytes
	n.ClientIPBytes += c.OrigIPBytes
	n.ServerIPBytes += c.RespIPBytes
	n.ICMPErrors += c.ICMPErrors
	if c.Unknown != 0 { // a sensor's record that left counts out
		if c.Unknown&(FieldOrigPkts|FieldRespPkts) != 0 {
			n.NoPackets++
		}
		if c.Unknown&(FieldOrigIPBytes|FieldRespIPBytes) != 0 {
			n.NoBytes++
		}
	}
}

// ServiceKeyOf returns the service a connection belongs to.
func ServiceKeyOf(c *Connection) ServiceKey {
	k := ServiceKey{Client: c.Orig, Server: c.Resp, Proto: c.Proto}
	switch c.Proto {
	case decode.ProtoTCP, decode.ProtoUDP, decode.ProtoSCTP:
		k.Port = c.RespPort
	case decode.ProtoICMP, decode.ProtoICMPv6:
		k.Port = c.OrigPort
	}
	return k
}

// keyHashes are a service key's hashes in the services and sweep-count
// tables (services, byPort, byServer), worked out when their slots were
// prefetched (ok: known), so that the lookups do not work them out again.
type keyHashes struct {
	h  [3]uint32
	ok [3]bool
}

// prefetched is the service a finishing connection is folded into, and
// its key's hashes.
type prefetched struct {
	k     ServiceKey
	hs    keyHashes
	valid bool
}

// prefetchService starts bringing the table slots where c's service, and
// its sweep counts, are looked up into the caches: c is about to be
// folded, and those slots are a cache miss each on a busy link.
// prefetchEntries, called a little later, does the same for the entries
// the slots point to.
func (t *Tracker) prefetchService(c *conn) {
	p := &t.prefetched
	p.k = ServiceKey{Client: c.orig(), Server: c.resp(), Proto: c.proto}
	switch c.proto {
	case decode.ProtoTCP, decode.ProtoUDP, decode.ProtoSCTP:
		p.k.Port = c.respPort
	case decode.ProtoICMP, decode.ProtoICMPv6:
		p.k.Port = c.origPort
	}
	p.valid = true
	// The hashes are worked out here, as the lookups' would be, by direct
	// calls: through the tables' generic code each would copy the key.
	if p.hs.ok[0] = t.services.slots != nil; p.hs.ok[0] {
		p.hs.h[0] = t.services.prefetchHash(p.k.hash(&t.services.seed))
	}
	if w := t.sweeps; w != nil {
		if p.hs.ok[1] = w.byPort.slots != nil; p.hs.ok[1] {
			p.hs.h[1] = w.byPort.prefetchHash(hashPort(&p.k, &w.byPort.seed))
		}
		if p.hs.ok[2] = w.byServer.slots != nil; p.hs.ok[2] {
			p.hs.h[2] = w.byServer.prefetchHash(hashServer(&p.k, &w.byServer.seed))
		}
	}
}

// prefetchEntries starts bringing the entries of the service and sweep
// counts prefetchService prefetched the slots of into the caches.
func (t *Tracker) prefetchEntries() {
	hs := &t.prefetched.hs
	if hs.ok[0] {
		t.services.prefetchEntry(hs.h[0])
	}
	if hs.ok[1] {
		t.sweeps.byPort.prefetchEntry(hs.h[1])
	}
	if hs.ok[2] {
		t.sweeps.byServer.prefetchEntry(hs.h[2])
	}
}

// svc is a Service with the positions its first-of evidence came from:
// the earliest connection (by first packet's position) decides RSTTTL and
// the ICMP error, whatever order connections finish in, so that services
// folded from several trackers (Merge) come out as one tracker's would.
type svc struct {
	Service
	rstPos, icmpPos Pos
	// span0 holds the first span (Spans until there is a second): the
	// spans of most services, read without another cache miss.
	span0 [1]Span
}

func (s *svc) key() ServiceKey { return s.ServiceKey }

// serviceTable holds a tracker's services.
type serviceTable = keyTable[ServiceKey, svc, *svc]

// serviceArenas hold the spans and names of a tracker's services.
type serviceArenas struct {
	spans arena[Span]
	names arena[ServiceName]
	dns   arena[string]
}

// fold adds a finished connection to its service.
func (t *Tracker) fold(c *Connection) {
	t.serverTTLs(c)
	k := ServiceKeyOf(c)
	var hs keyHashes
	if p := &t.prefetched; p.valid {
		if p.k == k {
			hs = p.hs
		}
		p.valid = false
	}
	s, fresh, sw := t.route(k, 1, &hs)
	if sw != nil {
		t.sweeps.add(sw, c, k)
	}
	if s == nil {
		return
	}
	if fresh {
		s.First, s.Last, s.FirstPos, s.FirstID = c.Start, c.End, c.FirstPos, c.ID
		s.span0[0] = SpanOf(c)
		s.Spans = s.span0[:1:1]
	} else {
		s.addSpan(SpanOf(c), &t.arenas.spans)
	}
	if c.RespTTL != 0 {
		s.ServerTTLMin, s.ServerTTLMax = widenTTL(s.ServerTTLMin, s.ServerTTLMax, c.RespTTL)
	}
	if c.ServerName != "" || c.DNSName != "" {
		s.foldNames(c, &t.arenas)
	}
	if c.RespRST {
		if s.RSTs == 0 || c.FirstPos.Less(s.rstPos) {
			s.RSTTTL, s.rstPos = c.RSTTTL, c.FirstPos
		}
		s.RSTs++
	}
	if c.ICMPErrors > 0 && (s.ICMPErrors == 0 || c.FirstPos.Less(s.icmpPos)) {
		s.ICMPFrom, s.ICMPType, s.ICMPCode, s.icmpPos = c.ICMPFrom, c.ICMPType, c.ICMPCode, c.FirstPos
	}
	s.Counts.addConn(c)
	s.span(c.Start, c.End, c.FirstPos, c.ID)
	s.FirstUID.Add(&c.UID, c.Start.UnixNano())
}

// span widens the service's time span to take in start..end, and makes
// the connection id whose first packet is at pos its first if pos is
// earlier.
func (s *Service) span(start, end time.Time, pos Pos, id uint64) {
	if start.Before(s.First) {
		s.First = start
	}
	if end.After(s.Last) {
		s.Last = end
	}
	if pos.Less(s.FirstPos) {
		s.FirstPos, s.FirstID = pos, id
	}
}

// route finds where n connections of service k are folded: into their
// service s, made now (zeroed but for its key: fresh) if it is new; into
// a sweep sw; or nowhere (both nil) when the services are at MaxServices.
// The connections are counted in Stats.Swept or Stats.Unaggregated when
// they go to no service. hs are k's hashes where known.
func (t *Tracker) route(k ServiceKey, n uint64, hs *keyHashes) (s *svc, fresh bool, sw *Sweep) {
	s, at := t.services.lookupHash(k, hs.h[0], hs.ok[0])
	if s != nil {
		return s, false, nil
	}
	if t.sweeps != nil {
		if sw = t.sweeps.route(k, hs); sw != nil {
			t.stats.Swept += n
			return nil, false, sw
		}
	}
	if t.services.len() >= t.cfg.MaxServices {
		t.stats.Unaggregated += n
		t.countUnaggregated(k)
		return nil, false, nil
	}
	s = t.services.add(at)
	s.ServiceKey = k
	return s, true, nil
}

// Services returns the services of every finished connection, sorted by
// client, server, protocol and port. Call Flush first to include the
// connections still live.
//
// Services of sweeps (see Sweeps) are not among them: they are folded into
// their sweep here.
func (t *Tracker) Services() []Service {
	sorted := t.SortedServices()
	// The spans and names are copied too, into one array of each: the
	// services share nothing with the tracker (its chunks and arenas are
	// not kept alive by them, nor changed under them by later folds).
	var nSpans, nNames, nDNS int
	for _, s := range sorted {
		nSpans += len(s.Spans)
		nNames += len(s.Names)
		nDNS += len(s.DNSNames)
	}
	spans := make([]Span, 0, nSpans)
	names := make([]ServiceName, 0, nNames)
	dns := make([]string, 0, nDNS)
	prefault.Slice(names[:nNames])
	prefault.Slice(dns[:nDNS])
	out := make([]Service, len(sorted))
	prefault.Slice(out)
	for i, s := range sorted {
		// In key order the services lie anywhere in memory: each is
		// asked for a few services ahead.
		if i+prefetchAhead < len(sorted) {
			prefetch.Lines(unsafe.Pointer(sorted[i+prefetchAhead]), unsafe.Sizeof(Service{}))
		}
		o := &out[i]
		*o = *s
		o.Spans, spans = cut(spans, s.Spans)
		o.Names, names = cut(names, s.Names)
		o.DNSNames, dns = cut(dns, s.DNSNames)
	}
	return out
}

// SortedServices returns the tracker's own services in the order of
// Services, without copying them: what a caller that converts them at
// once needs (one copy instead of two). Their spans and names are the
// tracker's too. It is the tracker's last use: nothing may be added to
// it afterwards, and a later Services or SortedServices returns the same
// services.
func (t *Tracker) SortedServices() []*Service {
	t.sweeps.fold(&t.services)
	all := t.services.all() // in memory order: read through once
	out := make([]*Service, 0, len(all))
	// The services between IPv4 addresses, the usual case, are sorted on
	// a key of two words, moved and compared faster; the others (IPv6,
	// zones) on the general one. Both kinds of client sort apart
	// (compareSortKeys: IPv4 after no address, before IPv6), so they are
	// sorted apart, unless an IPv4 client has a server of another kind.
	var v4, others []*svc
	for _, s := range all {
		if s.Client.Is4() && s.Server.Is4() {
			v4 = append(v4, s)
		} else {
			others = append(others, s)
		}
	}
	if slices.ContainsFunc(others, func(s *svc) bool { return s.Client.Is4() }) {
		v4, others = nil, all
	}
	rest := sortGeneral(others)
	after := 0 // the others before the IPv4 clients: those without an address
	for after < len(rest) && rest[after].ck == 0 {
		after++
	}
	for _, k := range rest[:after] {
		out = append(out, &k.s.Service)
	}
	out = sortIPv4(v4, out)
	for _, k := range rest[after:] {
		out = append(out, &k.s.Service)
	}
	for i, s := range out {
		if i+prefetchAhead < len(out) {
			prefetch.Lines(unsafe.Pointer(out[i+prefetchAhead]), unsafe.Sizeof(Service{}))
		}
		// The range of the server's TTLs over all its connections,
		// those of sweeps and of services not kept included. Widening
		// by the same range again changes nothing.
		if r, ok := t.serverTTL[s.Server]; ok {
			s.ServerTTLMin, s.ServerTTLMax = widenTTLs(s.ServerTTLMin, s.ServerTTLMax, r[0], r[1])
		}
	}
	return out
}

// sortGeneral sorts ss by compareSortKeys.
func sortGeneral(ss []*svc) []sortKey {
	sorted := make([]sortKey, len(ss))
	prefault.Slice(sorted)
	for i, s := range ss {
		sorted[i] = sortKeyOf(s)
	}
	slices.SortFunc(sorted, compareSortKeys)
	return sorted
}

// sortIPv4 appends all, services between IPv4 addresses, to out in the
// order of compareSortKeys, sorted on a key of two words.
func sortIPv4(all []*svc, out []*Service) []*Service {
	type key4 struct {
		hi uint64 // client and server
		lo uint32 // protocol and port
		i  uint32 // index in all
	}
	if uint64(len(all)) > math.MaxUint32 {
		// Beyond the index's range (never at the bounds flowaudit sets).
		for _, k := range sortGeneral(all) {
			out = append(out, &k.s.Service)
		}
		return out
	}
	keys := make([]key4, len(all))
	prefault.Slice(keys)
	for i, s := range all {
		c, v := s.Client.As4(), s.Server.As4()
		keys[i] = key4{hi: uint64(binary.BigEndian.Uint32(c[:]))<<32 | uint64(binary.BigEndian.Uint32(v[:])),
			lo: uint32(s.Proto)<<16 | uint32(s.Port), i: uint32(i)}
	}
	slices.SortFunc(keys, func(a, b key4) int {
		if a.hi != b.hi {
			return cmp.Compare(a.hi, b.hi)
		}
		return cmp.Compare(a.lo, b.lo)
	})
	for _, k := range keys {
		out = append(out, &all[k.i].Service)
	}
	return out
}

// prefetchAhead is how many services ahead Services asks for the next
// one's memory.
const prefetchAhead = 8

// cut appends s to buf and returns the copy (nil for none, its capacity
// its length) and the longer buf.
func cut[T any](buf, s []T) ([]T, []T) {
	if len(s) == 0 {
		return nil, buf
	}
	n := len(buf)
	buf = append(buf, s...)
	return buf[n:len(buf):len(buf)], buf
}

// sortKey is a service's key as words that order as ServiceKey.Compare
// does (the addresses' kind, IPv4 before IPv6, then their bits, server
// after client, then protocol and port), compared without a call. Keys
// with a zoned address (a conn.log's link-local ones) whose clients' words
// are equal are compared as ServiceKeys, zones included.
type sortKey struct {
	ch, cl, sh, sl uint64 // client and server addresses, high and low words
	ck, sk         uint8  // their kinds: invalid, IPv4, IPv6
	zoned          bool   // either address has a zone
	pp             uint32 // protocol and port
	s              *svc
}

func sortKeyOf(s *svc) sortKey {
	k := sortKey{s: s, pp: uint32(s.Proto)<<16 | uint32(s.Port)}
	k.ch, k.cl = words(s.Client)
	k.sh, k.sl = words(s.Server)
	k.ck, k.sk = addrKind(s.Client), addrKind(s.Server)
	k.zoned = s.Client.Zone() != "" || s.Server.Zone() != ""
	return k
}

// addrKind orders addresses by kind, as netip.Addr.Compare does (BitLen).
func addrKind(a netip.Addr) uint8 {
	switch {
	case a.Is4():
		return 1
	case a.Is6():
		return 2
	}
	return 0
}

func compareSortKeys(a, b sortKey) int {
	switch {
	case a.ck != b.ck:
		return int(a.ck) - int(b.ck)
	case a.ch != b.ch:
		return cmp.Compare(a.ch, b.ch)
	case a.cl != b.cl:
		return cmp.Compare(a.cl, b.cl)
	case a.zoned || b.zoned:
		return a.s.ServiceKey.Compare(b.s.ServiceKey)
	case a.sk != b.sk:
		return int(a.sk) - int(b.sk)
	case a.sh != b.sh:
		return cmp.Compare(a.sh, b.sh)
	case a.sl != b.sl:
		return cmp.Compare(a.sl, b.sl)
	}
	return cmp.Compare(a.pp, b.pp)
}

// widenTTL widens the range lo..hi (0..0: empty) to take in ttl.
func widenTTL(lo, hi, ttl uint8) (uint8, uint8) {
	if lo == 0 || ttl < lo {
		lo = ttl
	}
	return lo, max(hi, ttl)
}

// widenTTLs widens the range lo..hi to take in the range olo..ohi (0..0:
// empty, leaving lo..hi as it is).
func widenTTLs(lo, hi, olo, ohi uint8) (uint8, uint8) {
	if olo == 0 {
		return lo, hi
	}
	lo, hi = widenTTL(lo, hi, olo)
	return widenTTL(lo, hi, ohi)
}

// serverTTLs records the TTL of a server's packet other than a RST, for
// every connection (those folded into sweeps and past --max-services
// included), so a RST can be compared with the server's other packets.
func (t *Tracker) serverTTLs(c *Connection) {
	if c.RespTTL == 0 {
		return
	}
	r, ok := t.serverTTL[c.Resp]
	if ok && r[0] <= c.RespTTL && c.RespTTL <= r[1] {
		return // the usual case: a TTL the server had sent before
	}
	if !ok && len(t.serverTTL) >= maxServerTTLs {
		return
	}
	r[0], r[1] = widenTTL(r[0], r[1], c.RespTTL)
	t.serverTTL[c.Resp] = r
}

// maxServerTTLs bounds the servers whose TTL is remembered to compare
// with their RSTs.
const maxServerTTLs = 1 << 16

// Sweeps returns the sweeps found so far, sorted by client, protocol,
// kind and port or server, with the services made before each sweep
// opened folded in. Call Flush first to include the connections still
// live.
func (t *Tracker) Sweeps() []Sweep {
	t.sweeps.fold(&t.services)
	return t.sweeps.list()
}

// maxUnaggregatedKeys bounds the set that tells services not kept apart
// (1.5 MiB of keys): past it, Stats.UnaggregatedServices is a lower bound.
const maxUnaggregatedKeys = 1 << 15

// countUnaggregated counts the distinct services not kept past
// MaxServices, exactly up to maxUnaggregatedKeys of them.
func (t *Tracker) countUnaggregated(k ServiceKey) {
	if _, ok := t.unaggregated[k]; ok {
		return
	}
	if len(t.unaggregated) >= maxUnaggregatedKeys {
		t.stats.UnaggregatedServicesMore = true
		return
	}
	if t.unaggregated == nil {
		t.unaggregated = make(map[ServiceKey]struct{})
	}
	t.unaggregated[k] = struct{}{}
	t.stats.UnaggregatedServices++
}
