package connlog

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/decode"
	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// nfdump -o csv: the header line names the columns, in nfdump 1.6's short
// names (ts, te, td, sa, da, sp, dp, pr, flg, ipkt, ibyt, opkt, obyt) or
// 1.7's long ones (firstSeen, lastSeen, duration, srcAddr, dstAddr,
// srcPort, dstPort, proto, flags, inPackets, inBytes, outPackets,
// outBytes); a "Summary" line ends the records.
const (
	nfStart = iota
	nfEnd
	nfSrc
	nfDst
	nfSrcPort
	nfDstPort
	nfProto
	nfFlags
	nfInPkts
	nfInBytes
	nfOutPkts
	nfOutBytes
	nfCols
)

var nfNames = map[string]int{
	"ts": nfStart, "firstSeen": nfStart, "te": nfEnd, "lastSeen": nfEnd,
	"sa": nfSrc, "srcAddr": nfSrc, "da": nfDst, "dstAddr": nfDst,
	"sp": nfSrcPort, "srcPort": nfSrcPort, "dp": nfDstPort, "dstPort": nfDstPort,
	"pr": nfProto, "proto": nfProto, "flg": nfFlags, "flags": nfFlags,
	"ipkt": nfInPkts, "inPackets": nfInPkts, "packets": nfInPkts, "ibyt": nfInBytes, "inBytes": nfInBytes, "bytes": nfInBytes,
	"opkt": nfOutPkts, "outPackets": nfOutPkts, "obyt": nfOutBytes, "outBytes": nfOutBytes,
}

var nfRequired = []int{nfStart, nfSrc, nfDst, nfSrcPort, nfDstPort, nfProto, nfInPkts}

// nfHeader reads an nfdump CSV header line: its column of each role (-1
// when absent), ok when it names the required ones.
func nfHeader(line []byte) (cols [nfCols]int, ok bool) {
	for i := range cols {
		cols[i] = -1
	}
	for i, name := range bytes.Split(line, []byte(",")) {
		if role, known := nfNames[string(bytes.TrimSpace(name))]; known && cols[role] < 0 {
			cols[role] = i
		}
	}
	for _, r := range nfRequired {
		if cols[r] < 0 {
			return cols, false
		}
	}
	return cols, true
}

// nfRecord is one unidirectional (or bidirectional, opkt/obyt) record
// waiting for its reverse.
type nfRecord struct {
	seq        uint64 // line order
	line       int
	src, dst   netip.Addr
	sp, dp     uint16
	proto      uint8
	flags      string
	revFlags   string // a bidirectional record's reverse TCP flags (IPFIX biflow), else ""
	start, end int64
	pkts, ipb  uint64
	opkts, ob  uint64
	done       bool // paired or emitted
	// What the record left out: its end (so its duration), its octets.
	noEnd, noBytes bool
}

// nfKey is a record's direction: a reverse record has src and dst, sp and
// dp swapped. For ICMP echo the ports hold the request type both ways.
type nfKey struct {
	src, dst netip.Addr
	sp, dp   uint16
	proto    uint8
}

// nfState pairs the two directions of a NetFlow connection: a record
// waits (at most pairWindow, and at most maxPending records) for its
// reverse.
type nfState struct {
	cols    [nfCols]int
	pending map[nfKey]*nfRecord
	fifo    []*nfRecord
	out     []flow.Connection
	seq     uint64
	summary bool // past the "Summary" line
	// ServerPorts names documented server ports, for the client of a
	// record whose reverse never came.
	ports flow.ServerPorts
	// stop is why reading stopped (io.EOF at the end): the records still
	// waiting for their reverse are handed out before it.
	stop error
	// Records read that cannot be a connection (IPFIX records without
	// addresses, nfdump's JSON events): how many, and the first's why.
	unusable uint64
	why      string
}

// skip counts a record that cannot be a connection.
func (s *nfState) skip(why string) {
	if s.unusable == 0 {
		s.why = why
	}
	s.unusable++
}

const (
	pairWindow = int64(2 * time.Minute)
	maxPending = 1 << 16
)

func (k nfKey) reverse() nfKey { return nfKey{k.dst, k.src, k.dp, k.sp, k.proto} }

// icmpPairType maps an echo reply to its request's type, so both
// directions share a key.
func icmpPairType(proto uint8, t uint8) uint8 {
	switch {
	case proto == decode.ProtoICMP && t == 0:
		return 8
	case proto == decode.ProtoICMPv6 && t == 129:
		return 128
	}
	return t
}

func (rec *nfRecord) key() nfKey {
	k := nfKey{rec.src, rec.dst, rec.sp, rec.dp, rec.proto}
	if rec.proto == decode.ProtoICMP || rec.proto == decode.ProtoICMPv6 {
		t := icmpPairType(rec.proto, uint8(rec.dp>>8))
		k.sp, k.dp = uint16(t), uint16(t)
	}
	return k
}

// nfLine reads one line: a record (for nfAdd), or nil for the header
// and the summary lines after the records.
func (r *Reader) nfLine(line []byte) (*nfRecord, error) {
	s := &r.nf
	if s.summary {
		return nil, nil
	}
	if bytes.Equal(bytes.TrimSpace(line), []byte("Summary")) {
		s.summary = true
		return nil, nil
	}
	if s.cols[nfStart] < 0 {
		cols, ok := nfHeader(line)
		if !ok {
			return nil, errors.New("not an nfdump -o csv header (want ts/firstSeen, sa/srcAddr, da/dstAddr, sp, dp, pr, ipkt columns)")
		}
		s.cols = cols
		return nil, nil
	}
	var f [nfCols][]byte
	n := 0
	for i, v := range bytes.Split(line, []byte(",")) {
		for role, col := range s.cols {
			if col == i {
				f[role] = bytes.TrimSpace(v)
			}
		}
		n = i + 1
	}
	for _, role := range nfRequired {
		if s.cols[role] >= n {
			return nil, fmt.Errorf("%d columns, the header names more", n)
		}
	}
	rec := &nfRecord{line: r.line}
	var err error
	if rec.start, err = nfTime(f[nfStart]); err != nil {
		return nil, fmt.Errorf("first seen %q: %w", f[nfStart], err)
	}
	rec.end, rec.noEnd = rec.start, f[nfEnd] == nil
	rec.noBytes = len(f[nfInBytes]) == 0
	if f[nfEnd] != nil {
		if rec.end, err = nfTime(f[nfEnd]); err != nil {
			return nil, fmt.Errorf("last seen %q: %w", f[nfEnd], err)
		}
		if rec.end < rec.start {
			return nil, fmt.Errorf("last seen %s before first seen %s", f[nfEnd], f[nfStart])
		}
	}
	if rec.src, err = r.addr(f[nfSrc]); err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	if rec.dst, err = r.addr(f[nfDst]); err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	if rec.proto, err = nfProtoNum(f[nfProto]); err != nil {
		return nil, err
	}
	icmp := rec.proto == decode.ProtoICMP || rec.proto == decode.ProtoICMPv6
	if rec.sp, err = nfPort(f[nfSrcPort], false); err != nil {
		return nil, fmt.Errorf("source port: %w", err)
	}
	if rec.dp, err = nfPort(f[nfDstPort], icmp); err != nil {
		return nil, fmt.Errorf("destination port: %w", err)
	}
	rec.flags = string(f[nfFlags])
	counts := [...]struct {
		role int
		dst  *uint64
	}{{nfInPkts, &rec.pkts}, {nfInBytes, &rec.ipb}, {nfOutPkts, &rec.opkts}, {nfOutBytes, &rec.ob}}
	for _, c := range counts {
		if v := f[c.role]; len(v) > 0 {
			if *c.dst, err = nfCount(v); err != nil {
				return nil, fmt.Errorf("%q: %w", v, err)
			}
		}
	}
	return rec, nil
}

// nfAdd takes a one-way (or bidirectional) record, from any of the
// NetFlow formats, into the pending table; connections made complete are
// queued in out.
func (r *Reader) nfAdd(rec *nfRecord) {
	s := &r.nf
	s.seq++
	rec.seq = s.seq
	r.nfExpire(rec.start)
	k := rec.key()
	if rev, ok := s.pending[k.reverse()]; ok && !rev.done && rec.opkts == 0 && rev.opkts == 0 && abs(rec.start-rev.start) <= pairWindow {
		rev.done = true
		delete(s.pending, k.reverse())
		s.out = append(s.out, r.nfConn(rev, rec))
		return
	}
	if old, ok := s.pending[k]; ok && !old.done {
		old.done = true // a new flow on the same tuple: the old one had no reverse
		s.out = append(s.out, r.nfConn(old, nil))
	}
	if rec.opkts > 0 || rec.ob > 0 {
		s.out = append(s.out, r.nfConn(rec, nil)) // bidirectional already
		return
	}
	s.pending[k] = rec
	s.fifo = append(s.fifo, rec)
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// nfExpire emits the waiting records too old to be paired with a record
// starting at now, or past maxPending, oldest first.
func (r *Reader) nfExpire(now int64) {
	s := &r.nf
	i := 0
	for ; i < len(s.fifo); i++ {
		rec := s.fifo[i]
		if rec.done {
			continue
		}
		if rec.start >= now-pairWindow && len(s.pending) < maxPending {
			break
		}
		rec.done = true
		delete(s.pending, rec.key())
		s.out = append(s.out, r.nfConn(rec, nil))
	}
	s.fifo = s.fifo[i:]
	if cap(s.fifo) > 4*maxPending && len(s.fifo) < maxPending {
		s.fifo = append([]*nfRecord(nil), s.fifo...)
	}
}

// nfFlush emits every record still waiting, in line order.
func (r *Reader) nfFlush() {
	s := &r.nf
	for _, rec := range s.fifo {
		if !rec.done {
			rec.done = true
			s.out = append(s.out, r.nfConn(rec, nil))
		}
	}
	s.fifo, s.pending = nil, map[nfKey]*nfRecord{}
}

// isRequestSide says whether a record's sender is the client, for a
// record without its reverse: a TCP SYN without ACK (not a reset without
// SYN), an ICMP request, or
// the destination port being a server's (documented, then well-known);
// failing those, the sender, as of a first packet.
func (r *Reader) isRequestSide(rec *nfRecord) bool {
	switch rec.proto {
	case decode.ProtoTCP:
		syn, ack := hasFlag(rec.flags, 'S'), hasFlag(rec.flags, 'A')
		switch {
		case syn && !ack:
			return true
		case !syn && hasFlag(rec.flags, 'R'):
			return false // a reset without a SYN answers one
		}
	case decode.ProtoICMP, decode.ProtoICMPv6:
		t := uint8(rec.dp >> 8)
		return icmpPairType(rec.proto, t) == t // not a reply
	}
	if r.nf.ports != nil {
		sd, ss := r.nf.ports.ServerPort(rec.proto, rec.dp), r.nf.ports.ServerPort(rec.proto, rec.sp)
		if sd != ss {
			return sd
		}
	}
	if (rec.dp < 1024) != (rec.sp < 1024) {
		return rec.dp < 1024
	}
	return true // as the sender of a first packet
}

func hasFlag(flags string, f byte) bool {
	for i := 0; i < len(flags); i++ {
		if flags[i] == f {
			return true
		}
	}
	return false
}

// nfConn makes the connection of a record and its reverse (nil: none came).
func (r *Reader) nfConn(a, b *nfRecord) flow.Connection {
	cli, srv := a, b
	if b != nil && (b.start < a.start || b.start == a.start && r.isRequestSide(b) && !r.isRequestSide(a)) {
		cli, srv = b, a
	}
	// A record's octets are IP bytes, headers included: never Zeek's
	// payload bytes, nor its missed_bytes.
	c := flow.Connection{ClientBy: flow.ByRecord, Unknown: flow.FlowRecordUnknown}
	if srv == nil && a.opkts == 0 && a.ob == 0 && !r.isRequestSide(a) {
		// Only the server's direction was exported.
		c.Orig, c.Resp, c.OrigPort, c.RespPort = a.dst, a.src, a.dp, a.sp
		c.RespPkts, c.RespIPBytes = a.pkts, a.ipb
		if a.noBytes {
			c.Unknown |= flow.FieldRespIPBytes
		}
	} else {
		c.Orig, c.Resp, c.OrigPort, c.RespPort = cli.src, cli.dst, cli.sp, cli.dp
		c.OrigPkts, c.OrigIPBytes = cli.pkts, cli.ipb
		c.RespPkts, c.RespIPBytes = cli.opkts, cli.ob
		if cli.noBytes {
			c.Unknown |= flow.FieldOrigIPBytes
		}
		switch {
		case srv != nil:
			c.RespPkts, c.RespIPBytes = srv.pkts, srv.ipb
			if srv.noBytes {
				c.Unknown |= flow.FieldRespIPBytes
			}
		case cli.noBytes && cli.opkts > 0:
			c.Unknown |= flow.FieldRespIPBytes // a biflow without octets
		}
	}
	if a.noEnd || b != nil && b.noEnd {
		c.Unknown |= flow.FieldDuration
	}
	c.Proto = a.proto
	icmpField := a.dp // nfdump's type<<8 | code of the record the client's type comes from
	if cli != nil && (srv != nil || r.isRequestSide(a)) {
		icmpField = cli.dp
	}
	start, end := a.start, a.end
	if b != nil {
		start, end = min(start, b.start), max(end, b.end)
	}
	c.Start, c.End = time.Unix(0, start).UTC(), time.Unix(0, end).UTC()
	if c.Proto == decode.ProtoICMP || c.Proto == decode.ProtoICMPv6 {
		// nfdump's destination port of ICMP is type<<8 | code; as Zeek,
		// the client's type and its counterpart (or the code).
		t, code := uint8(icmpField>>8), uint8(icmpField)
		if c.OrigPkts == 0 {
			t = icmpPairType(c.Proto, t)
		}
		c.OrigPort, c.RespPort = uint16(t), uint16(code)
		switch {
		case c.Proto == decode.ProtoICMP && t == 8:
			c.RespPort = 0
		case c.Proto == decode.ProtoICMPv6 && t == 128:
			c.RespPort = 129
		}
	}
	respFlags := a.revFlags
	if srv != nil {
		respFlags = srv.flags
	}
	switch {
	case c.OrigPkts == 0:
		c.Outcome = flow.Partial // only the server's side was seen
	case c.RespPkts == 0:
		c.Outcome = flow.Unanswered
	case c.Proto == decode.ProtoTCP && hasFlag(respFlags, 'R') && !hasFlag(respFlags, 'S'):
		c.Outcome = flow.Rejected // the answer to the SYN was a reset
	default:
		c.Outcome = flow.Established
	}
	return c
}

// nfTime reads nfdump's time: "2026-11-29 10:00:00[.123]" (UTC), or
// epoch seconds with a fraction (the raw %tsr format).
func nfTime(b []byte) (int64, error) {
	if len(b) > 0 && bytes.IndexByte(b, '-') < 0 {
		return parseTime(b)
	}
	t, err := time.Parse("2006-01-02 15:04:05.999999999", string(b))
	if err != nil {
		return 0, errors.New("not a time (want 2006-01-02 15:04:05.000 or epoch seconds)")
	}
	return t.UnixNano(), nil
}

func nfProtoNum(b []byte) (uint8, error) {
	switch string(b) {
	case "TCP", "tcp":
		return decode.ProtoTCP, nil
	case "UDP", "udp":
		return decode.ProtoUDP, nil
	case "ICMP", "icmp":
		return decode.ProtoICMP, nil
	case "ICMP6", "icmp6", "IPv6-ICMP", "ipv6-icmp":
		return decode.ProtoICMPv6, nil
	case "SCTP", "sctp":
		return decode.ProtoSCTP, nil
	case "GRE", "gre":
		return 47, nil
	case "ESP", "esp":
		return 50, nil
	case "AH", "ah":
		return 51, nil
	case "VRRP", "vrrp":
		return 112, nil
	}
	n, err := strconv.ParseUint(string(b), 10, 8)
	if err != nil {
		return 0, fmt.Errorf("protocol %q: not a name or number", b)
	}
	return uint8(n), nil
}

// nfPort reads a port; for ICMP's destination port also nfdump's "8.0"
// (type.code), kept as type<<8 | code.
func nfPort(b []byte, icmp bool) (uint16, error) {
	if icmp {
		if t, c, ok := bytes.Cut(b, []byte(".")); ok {
			tv, err1 := strconv.ParseUint(string(t), 10, 8)
			cv, err2 := strconv.ParseUint(string(c), 10, 8)
			if err1 != nil || err2 != nil {
				return 0, fmt.Errorf("%q: not an ICMP type.code", b)
			}
			return uint16(tv)<<8 | uint16(cv), nil
		}
	}
	if len(b) == 0 {
		return 0, nil
	}
	return parsePort(b)
}

func nfCount(b []byte) (uint64, error) {
	// nfdump may scale large counts ("1.2 M") outside csv; csv has digits.
	return parseCount(b)
}
