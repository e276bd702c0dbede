// Package names learns, passively, which host name each connection of a
// capture was for: from DNS responses (UDP and TCP port 53: A and AAAA
// answers, CNAME chains followed back to the name asked for, in any answer
// order), from the server_name (SNI) of TLS ClientHellos on any TCP port
// and of QUIC Initial packets on UDP port 443 (decrypted with the keys RFC
// 9001 §5.2 derives from the connection id), and from the Host header of
// HTTP/1.x requests.
//
// A Sniffer looks at the payload of the few packets that can carry one of
// these (port 53, and a client's data that starts a ClientHello, an HTTP
// request or a QUIC Initial) and returns the name found for the packet's
// connection; everything else costs a few byte comparisons and allocates
// nothing. A ClientHello split over TCP segments (or QUIC CRYPTO frames
// over Initial packets) is reassembled up to MaxHello bytes, and only the
// ClientHello. As a flow.Namer it names the connections that carried no
// name of their own from the DNS answers: the latest one the client
// received for the server's address before the connection started, else
// any other for that address (weaker evidence).
//
// Every table is bounded (Limits); what did not fit is counted in Stats.
package names

import (
	"net/netip"

	"github.com/flowaudit/flowaudit/analyzer/decode"
	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// Limits bound the Sniffer's memory. Zero values mean the defaults.
type Limits struct {
	Names   int // distinct names kept (default 65,536)
	Answers int // (client, address) pairs and addresses with DNS answers (default 262,144 each)
	Pending int // ClientHellos being reassembled at once (default 256, 16 KiB each at most)
}

// Stats counts what the Sniffer saw.
type Stats struct {
	DNSResponses  uint64 // DNS responses read
	DNSMalformed  uint64 // DNS responses that could not be read to the end (answers before the fault kept)
	DNSAnswers    uint64 // address answers recorded
	SNI           uint64 // ClientHellos with a server_name (TCP)
	QUICSNI       uint64 // QUIC Initials whose ClientHello had a server_name
	QUICUndecrypt uint64 // QUIC Initial packets that did not decrypt
	HTTPHost      uint64 // HTTP requests with a host
	Malformed     uint64 // ClientHellos and names that could not be read
	Reassembled   uint64 // ClientHellos put together from several segments or packets
	Dropped       uint64 // names, answers or reassemblies left out: a table was full, a hello over MaxHello or out of order
}

// answer is one DNS answer: the name an address was given, when, and to
// which client.
type answer struct {
	name   string
	t      int64
	client netip.Addr
}

// ring keeps the latest answers for a key, oldest first.
const ringSize = 4

type ring struct {
	a [ringSize]answer
	n uint8
}

// newRing is a ring holding a alone. Its memory is written, not read
// first: a read of memory fresh from the system maps the shared zero page,
// and the write after it faults again and interrupts every other core the
// process runs on (see package prefault).
func newRing(a answer) *ring {
	r := new(ring)
	*r = ring{a: [ringSize]answer{a}, n: 1}
	return r
}

func (r *ring) add(a answer) {
	// Repeats of the latest answer only move its time.
	for i := int(r.n) - 1; i >= 0; i-- {
		if r.a[i].name == a.name && r.a[i].client == a.client {
			if a.t > r.a[i].t {
				r.a[i].t = a.t
			}
			return
		}
	}
	if int(r.n) < ringSize {
		r.a[r.n] = a
		r.n++
		return
	}
	copy(r.a[:], r.a[1:])
	r.a[ringSize-1] = a
}

// latestBefore is the latest answer at or before t; else, if anyTime, the
// earliest one after.
func (r *ring) latestBefore(t int64, anyTime bool) (answer, bool) {
	best := -1
	for i := 0; i < int(r.n); i++ {
		if r.a[i].t <= t && (best < 0 || r.a[i].t >= r.a[best].t) {
			best = i
		}
	}
	if best < 0 && anyTime {
		for i := 0; i < int(r.n); i++ {
			if best < 0 || r.a[i].t < r.a[best].t {
				best = i
			}
		}
	}
	if best < 0 {
		return answer{}, false
	}
	return r.a[best], true
}

type pair struct{ client, addr netip.Addr }

// flowKey is one direction of a transport connection.
type flowKey struct {
	src, dst         netip.Addr
	srcPort, dstPort uint16
	proto            uint8
}

// pending is a ClientHello (or a DNS message over TCP) being put together.
type pending struct {
	buf  []byte
	next uint32 // TCP: the sequence number expected next
	have []byte // QUIC: which bytes of buf arrived (one per byte, 1 = arrived)
	age  uint64
	t    int64 // time of the first segment
	dns  bool
}

// pendingTimeout drops a reassembly whose next segment has not come.
const pendingTimeout = int64(30e9)

// Sniffer finds host names in packets. It is not safe for concurrent use.
type Sniffer struct {
	lim     Limits
	intern  map[string]string
	byPair  map[pair]*ring
	byAddr  map[netip.Addr]*ring
	pend    map[flowKey]*pending // TCP: ClientHellos and DNS messages over several segments
	qpend   map[flowKey]*pending // QUIC: ClientHellos over several Initial packets
	tick    uint64
	stats   Stats
	msg     dnsMessage
	scratch [MaxHello]byte
	qbuf    []byte
	nm      dnsName
}

// New returns a Sniffer with the limits given.
func New(lim Limits) *Sniffer {
	if lim.Names <= 0 {
		lim.Names = 1 << 16
	}
	if lim.Answers <= 0 {
		lim.Answers = 1 << 18
	}
	if lim.Pending <= 0 {
		lim.Pending = 256
	}
	return &Sniffer{lim: lim, intern: map[string]string{}, byPair: map[pair]*ring{},
		byAddr: map[netip.Addr]*ring{}, pend: map[flowKey]*pending{}, qpend: map[flowKey]*pending{}}
}

// Stats returns the counters so far.
func (s *Sniffer) Stats() Stats { return s.stats }

// name interns b, so that a name seen again costs no allocation.
func (s *Sniffer) name(b []byte) (string, bool) {
	if n, ok := s.intern[string(b)]; ok {
		return n, true
	}
	if len(s.intern) >= s.lim.Names {
		s.stats.Dropped++
		return "", false
	}
	n := string(b)
	s.intern[n] = n
	return n, true
}

// Packet looks at one decoded TCP or UDP packet whose transport payload
// (as captured) is payload, seen at ts (Unix nanoseconds). It returns the
// server name the packet carried for its own connection (SNI, HTTP Host),
// or "" and flow.NameNone; DNS answers it carries are recorded for Name.
func (s *Sniffer) Packet(p *decode.Packet, payload []byte, ts int64) (string, flow.NameSource) {
	if len(payload) == 0 || p.Fragment {
		return "", flow.NameNone
	}
	switch p.Proto {
	case decode.ProtoUDP:
		switch {
		case p.SrcPort == 53:
			s.dns(payload, p.Dst, ts)
		case p.DstPort == 443 && looksLikeQUICInitial(payload):
			return s.quic(p, payload, ts)
		}
	case decode.ProtoTCP:
		if len(s.pend) > 0 {
			k := flowKey{p.Src, p.Dst, p.SrcPort, p.DstPort, p.Proto}
			if pe := s.pend[k]; pe != nil {
				return s.more(k, pe, p, payload, ts)
			}
		}
		switch {
		case p.SrcPort == 53:
			return s.tcpDNS(p, payload, ts)
		case looksLikeHello(payload):
			return s.hello(p, payload, ts)
		case looksLikeHTTP(payload):
			if h := httpHost(payload); h != nil && cleanName(h, &s.nm) {
				if n, ok := s.name(s.nm.bytes()); ok {
					s.stats.HTTPHost++
					return n, flow.NameHTTPHost
				}
			}
		}
	}
	return "", flow.NameNone
}

// sni interns the server_name of a ClientHello.
func (s *Sniffer) sni(b []byte, quic bool) (string, flow.NameSource) {
	if b == nil {
		return "", flow.NameNone
	}
	if !cleanName(b, &s.nm) {
		s.stats.Malformed++
		return "", flow.NameNone
	}
	n, ok := s.name(s.nm.bytes())
	if !ok {
		return "", flow.NameNone
	}
	if quic {
		s.stats.QUICSNI++
	} else {
		s.stats.SNI++
	}
	return n, flow.NameSNI
}

// hello reads a ClientHello that starts in this segment, keeping it for the
// next segments when it continues.
func (s *Sniffer) hello(p *decode.Packet, payload []byte, ts int64) (string, flow.NameSource) {
	b, res := helloFromRecords(payload, s.scratch[:])
	switch res {
	case helloDone:
		return s.sni(b, false)
	case helloMore:
		if p.Truncated {
			s.stats.Dropped++ // the snap length cut the segment: what follows it is not what comes next
			return "", flow.NameNone
		}
		s.start(flowKey{p.Src, p.Dst, p.SrcPort, p.DstPort, p.Proto}, payload, p.Seq, false, ts)
	default:
		s.stats.Malformed++
	}
	return "", flow.NameNone
}

// start keeps the first segment of a message that continues.
func (s *Sniffer) start(k flowKey, payload []byte, seq uint32, dns bool, ts int64) {
	if len(payload) >= MaxHello {
		s.stats.Dropped++
		return
	}
	s.makeRoom(s.pend, ts)
	s.tick++
	pe := &pending{buf: make([]byte, len(payload), 2*len(payload)+64), next: seq + uint32(len(payload)), age: s.tick, dns: dns, t: ts}
	copy(pe.buf, payload)
	s.pend[k] = pe
}

// makeRoom drops the reassemblies of table m whose next part has not come
// for pendingTimeout and, when m is still full, the oldest one.
func (s *Sniffer) makeRoom(m map[flowKey]*pending, ts int64) {
	for k, pe := range m {
		if ts-pe.t > pendingTimeout {
			delete(m, k)
			s.stats.Dropped++
		}
	}
	if len(m) >= s.lim.Pending {
		var oldest flowKey
		var age uint64 = 1<<64 - 1
		for k, pe := range m {
			if pe.age < age {
				oldest, age = k, pe.age
			}
		}
		delete(m, oldest)
		s.stats.Dropped++
	}
}

// more adds the next segment of a message being reassembled. Segments are
// taken in order only: a retransmission of bytes already held is trimmed,
// a gap ends the reassembly.
func (s *Sniffer) more(k flowKey, pe *pending, p *decode.Packet, payload []byte, ts int64) (string, flow.NameSource) {
	d := int32(p.Seq - pe.next)
	switch {
	case d > 0 || p.Truncated:
		delete(s.pend, k)
		s.stats.Dropped++
		return "", flow.NameNone
	case d < 0:
		if int(-d) >= len(payload) {
			return "", flow.NameNone // all of it held already
		}
		payload = payload[-d:]
	}
	limit := MaxHello
	if pe.dns {
		limit = 1<<16 + 2
	}
	if len(pe.buf)+len(payload) > limit {
		delete(s.pend, k)
		s.stats.Dropped++
		return "", flow.NameNone
	}
	pe.buf = append(pe.buf, payload...)
	pe.next += uint32(len(payload))
	if pe.dns {
		if len(pe.buf) >= 2 && len(pe.buf) >= 2+(int(pe.buf[0])<<8|int(pe.buf[1])) {
			delete(s.pend, k)
			s.stats.Reassembled++
			s.tcpDNSMessages(pe.buf, p.Dst, ts)
		}
		return "", flow.NameNone
	}
	b, res := helloFromRecords(pe.buf, s.scratch[:])
	if res == helloMore {
		return "", flow.NameNone
	}
	delete(s.pend, k)
	if res == helloNot {
		s.stats.Malformed++
		return "", flow.NameNone
	}
	s.stats.Reassembled++
	return s.sni(b, false)
}

// tcpDNS reads DNS responses over TCP: each prefixed by its length.
func (s *Sniffer) tcpDNS(p *decode.Packet, payload []byte, ts int64) (string, flow.NameSource) {
	if len(payload) >= 2 {
		l := int(payload[0])<<8 | int(payload[1])
		if len(payload) < 2+l && !p.Truncated {
			s.start(flowKey{p.Src, p.Dst, p.SrcPort, p.DstPort, p.Proto}, payload, p.Seq, true, ts)
			return "", flow.NameNone
		}
	}
	s.tcpDNSMessages(payload, p.Dst, ts)
	return "", flow.NameNone
}

// tcpDNSMessages reads the length-prefixed DNS messages in b.
func (s *Sniffer) tcpDNSMessages(b []byte, client netip.Addr, ts int64) {
	for len(b) >= 2 {
		l := int(b[0])<<8 | int(b[1])
		b = b[2:]
		if l > len(b) {
			s.dns(b, client, ts) // cut short: the answers before the cut count
			return
		}
		s.dns(b[:l], client, ts)
		b = b[l:]
	}
}

// dns records the address answers of one DNS response to client.
func (s *Sniffer) dns(msg []byte, client netip.Addr, ts int64) {
	err := parseDNS(msg, &s.msg)
	if err == errDNSNotResp {
		return
	}
	s.stats.DNSResponses++
	if err != nil {
		s.stats.DNSMalformed++
	}
	m := &s.msg
	for i := 0; i < m.n; i++ {
		r := &m.records[i]
		if r.cname {
			continue
		}
		h := m.head(i)
		if h.n == 0 {
			continue
		}
		// DNS labels may hold any byte; a name is held to what an SNI
		// or Host name is (no formula, escape or newline reaches a
		// report, none matches a host pattern by its odd bytes).
		if !cleanName(h.bytes(), &s.nm) {
			continue
		}
		name, ok := s.name(s.nm.bytes())
		if !ok {
			continue
		}
		a := answer{name: name, t: ts, client: client}
		addr := r.addr.Unmap()
		pr := s.byPair[pair{client, addr}]
		if pr == nil {
			if len(s.byPair) >= s.lim.Answers {
				s.stats.Dropped++
				continue
			}
			s.byPair[pair{client, addr}] = newRing(a)
		} else {
			pr.add(a)
		}
		ar := s.byAddr[addr]
		if ar == nil {
			if len(s.byAddr) >= s.lim.Answers {
				s.stats.Dropped++
				continue
			}
			s.byAddr[addr] = newRing(a)
		} else {
			ar.add(a)
		}
		s.stats.DNSAnswers++
	}
}

// quic reads the ClientHello of a client's QUIC Initial packets.
func (s *Sniffer) quic(p *decode.Packet, payload []byte, ts int64) (string, flow.NameSource) {
	k := flowKey{p.Src, p.Dst, p.SrcPort, p.DstPort, p.Proto}
	for len(payload) > 0 && looksLikeQUICInitial(payload) {
		h, err := parseInitialHeader(payload)
		if err != nil {
			s.stats.Malformed++
			return "", flow.NameNone
		}
		pkt := payload[:h.end]
		payload = payload[h.end:]
		keys, err := deriveInitialKeys(h.version, h.dcid)
		if err != nil {
			s.stats.QUICUndecrypt++
			return "", flow.NameNone
		}
		if cap(s.qbuf) < len(pkt) {
			s.qbuf = make([]byte, len(pkt))
		}
		pt, err := openInitial(pkt, h, keys, s.qbuf)
		if err != nil {
			s.stats.QUICUndecrypt++
			continue
		}
		pe := s.qpend[k]
		existed := pe != nil
		bad := false
		err = cryptoFrames(pt, func(off uint64, data []byte) {
			if bad || len(data) == 0 {
				return
			}
			if off+uint64(len(data)) > MaxHello {
				bad = true
				return
			}
			if pe == nil {
				s.makeRoom(s.qpend, ts)
				s.tick++
				pe = &pending{buf: make([]byte, MaxHello), have: make([]byte, MaxHello), age: s.tick, t: ts}
				s.qpend[k] = pe
			}
			copy(pe.buf[off:], data)
			for i := off; i < off+uint64(len(data)); i++ {
				pe.have[i] = 1
			}
		})
		if err != nil || bad {
			delete(s.qpend, k)
			s.stats.Malformed++
			return "", flow.NameNone
		}
		if pe == nil {
			continue
		}
		// The ClientHello is there once its bytes from offset 0 are.
		n := 0
		for n < len(pe.have) && pe.have[n] == 1 {
			n++
		}
		if n < 4 {
			continue
		}
		total := helloLength(pe.buf[:n])
		if total < 0 || total > MaxHello {
			delete(s.qpend, k)
			s.stats.Malformed++
			return "", flow.NameNone
		}
		if n >= total {
			delete(s.qpend, k)
			b, res := sniFromHello(pe.buf[:total])
			if res != helloDone {
				s.stats.Malformed++
				return "", flow.NameNone
			}
			if existed {
				s.stats.Reassembled++
			}
			return s.sni(b, true)
		}
	}
	return "", flow.NameNone
}

// Name names a finished connection that carried no name of its own from
// the DNS answers recorded so far (flow.Namer): the latest answer for the
// server's address that the client received at or before the connection's
// start (flow.NameDNS), else the latest other answer for the address
// before the start, or the earliest after it (flow.NameDNSOther). DNSName
// is set to what DNS called the address in any case, for connections whose
// own name differs from it.
func (s *Sniffer) Name(c *flow.Connection) {
	if len(s.byAddr) == 0 {
		return
	}
	start := c.Start.UnixNano()
	addr := c.Resp.Unmap()
	var a answer
	src := flow.NameNone
	if r := s.byPair[pair{c.Orig, addr}]; r != nil {
		if x, ok := r.latestBefore(start, false); ok {
			a, src = x, flow.NameDNS
		}
	}
	if src == flow.NameNone {
		if r := s.byAddr[addr]; r != nil {
			if x, ok := r.latestBefore(start, true); ok {
				a, src = x, flow.NameDNSOther
			}
		}
	}
	if src == flow.NameNone {
		return
	}
	c.DNSName = a.name
	if c.NameSource == flow.NameNone {
		c.ServerName, c.NameSource = a.name, src
	}
}

// Answers is every name DNS gave addr in the answers recorded (the latest
// few), sorted, for reports that list what an address was called.
func (s *Sniffer) Answers(addr netip.Addr) []string {
	r := s.byAddr[addr.Unmap()]
	if r == nil {
		return nil
	}
	var out []string
	for i := 0; i < int(r.n); i++ {
		n := r.a[i].name
		dup := false
		for _, o := range out {
			dup = dup || o == n
		}
		if !dup {
			out = append(out, n)
		}
	}
	return out
}

// Seen says whether any name at all was found: DNS answers, SNI or HTTP
// Host.
func (s *Sniffer) Seen() bool { return len(s.intern) > 0 }
