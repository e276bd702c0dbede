package flow

import (
	"net/netip"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/decode"
)

// Pos is the position of a packet in the input: which capture file (0-based
// index in the order the files were given) and which frame in that file
// (1-based, as Wireshark numbers them).
type Pos struct {
	File  int
	Frame uint64
}

// Less orders positions by file, then frame; a flow record's position
// (Frame 0: a conn.log line has no frame) comes after every packet's, so
// that where a capture and a log hold connections of one service, its
// first-of evidence (first frame, filter, evidence pcap) is the capture's
// whatever order the files were given in.
func (p Pos) Less(q Pos) bool {
	if (p.Frame == 0) != (q.Frame == 0) {
		return p.Frame != 0
	}
	if p.File != q.File {
		return p.File < q.File
	}
	return p.Frame < q.Frame
}

// Outcome summarises what became of a connection.
type Outcome uint8

// Outcomes, in the order a connection is tested for them.
const (
	// Established: the TCP handshake completed (the responder's SYN-ACK
	// was acknowledged), or both directions carried data (for UDP, ICMP
	// and other protocols: both directions sent packets).
	Established Outcome = iota
	// Rejected: the responder answered the SYN with a RST (Zeek's REJ),
	// or an ICMP destination-unreachable quoted the connection.
	Rejected
	// Unanswered: only the client sent anything.
	Unanswered
	// Partial: anything else, for instance a SYN answered by a SYN-ACK
	// that the client reset (a SYN scan of an open port), or traffic seen
	// from the server only.
	Partial
	numOutcomes
)

var outcomeNames = [...]string{"established", "rejected", "unanswered", "partial"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// ClientBy says which rule chose the client (originator) of a connection.
type ClientBy uint8

// Client decision rules, in the order they are tried.
const (
	BySYN         ClientBy = iota // sender of a SYN without ACK
	BySYNACK                      // receiver of a SYN-ACK
	ByICMP                        // sender of an ICMP request (echo, timestamp, solicitation ...)
	ByGroup                       // the other side is a broadcast or multicast address, never a client
	ByCatalog                     // the other side's port is a documented server port
	ByWellKnown                   // the other side's port is below 1024 (the lower one if both are)
	ByEphemeral                   // this side's port is ephemeral (>= 32768), the other's is not
	ByFirstPacket                 // sender of the first packet seen
	ByRecord                      // the originator of a sensor's flow record (connlog)
)

var clientByNames = [...]string{"syn", "synack", "icmp", "group", "catalog", "well-known", "ephemeral", "first-packet", "record"}

func (b ClientBy) String() string {
	if int(b) < len(clientByNames) {
		return clientByNames[b]
	}
	return "unknown"
}

// EndReason says why a connection left the live table.
type EndReason uint8

// End reasons.
const (
	EndOfInput EndReason = iota // still open when the input ended
	EndTimeout                  // idle past its timeout (closed connections linger briefly)
	EndReused                   // a new SYN on the same addresses and ports after a close
	EndEvicted                  // the live table was full and this was the oldest idle connection
)

var endNames = [...]string{"end-of-input", "timeout", "reused", "evicted"}

func (r EndReason) String() string {
	if int(r) < len(endNames) {
		return endNames[r]
	}
	return "unknown"
}

// Connection is a finished connection, as handed to Config.OnConnection.
// Orig is the client and Resp the server, whatever direction the first
// packet had.
type Connection struct {
	ID         uint64 // creation order in the tracker, from 1
	Orig, Resp netip.Addr
	// OrigPort and RespPort are the ports; for ICMP, as in Zeek, OrigPort
	// is the type of the client's message and RespPort the type of the
	// reply (echo: 8 and 0) or, without a counterpart, the code. Zero for
	// protocols without ports.
	OrigPort, RespPort uint16
	Proto              uint8
	VLAN, InnerVLAN    uint16        // outer and inner 802.1Q/802.1ad ids of the first packet, 0 if untagged
	Tunnel             decode.Tunnel // encapsulation the packets were found in
	Start, End         time.Time     // first and last packet
	FirstPos, LastPos  Pos

	OrigPkts, RespPkts       uint64
	OrigBytes, RespBytes     uint64 // payload bytes (TCP from sequence numbers, as Zeek)
	OrigIPBytes, RespIPBytes uint64 // IP total lengths
	// MissedBytes is Zeek's missed_bytes: TCP bytes the peer acknowledged
	// that the capture never held (content gaps, 'G'/'g' in History).
	MissedBytes uint64

	State       string // Zeek conn_state: S0, S1, SF, REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH
	History     string // Zeek history letters (TCP and UDP)
	Outcome     Outcome
	ClientBy    ClientBy
	CommunityID string    // Community ID v1, seed 0
	ICMPErrors  uint64    // ICMP errors that quoted this connection (not counted in packets)
	Reason      EndReason // why the connection left the live table

	// What the responder's side showed, for telling who refused a
	// connection: the TTL (hop limit) of its first packet other than a
	// TCP RST (0: none), and of its first RST (RespRST says there was one).
	RespTTL, RSTTTL uint8
	RespRST         bool
	// The first ICMP error that quoted the connection (ICMPErrors > 0):
	// its sender (a router or firewall, or the server) and type and code.
	ICMPFrom           netip.Addr
	ICMPType, ICMPCode uint8

	// What a sensor's record said and a capture cannot (connlog): Zeek's
	// service (the protocols its analyzers confirmed, comma-separated) and
	// local_orig and local_resp ("T" or "F"; "" unset).
	Service              string
	LocalOrig, LocalResp string

	// ServerName is the host name the connection was for and NameSource
	// where it came from (see NameSource; "" and NameNone: none known).
	// DNSName is what DNS called the server's address for this client
	// (see Namer), even when the connection named itself otherwise: a
	// ServerName that differs from it contradicts DNS.
	ServerName string
	NameSource NameSource
	DNSName    string

	// UID is the uid a Zeek conn.log gave the connection (connlog); none
	// for a capture's.
	UID UID

	// Unknown are the counts and the duration the connection's source
	// could not give (a sensor's record: connlog), which outputs leave
	// absent rather than print as zero. A capture knows them all (0).
	// The strings above are unknown when empty.
	Unknown Fields
}

// Fields is a set of a Connection's numeric fields.
type Fields uint16

// The fields a Fields set holds.
const (
	FieldDuration    Fields = 1 << iota // End, and so Duration (Start is always known)
	FieldOrigBytes                      // payload bytes, as Zeek's orig_bytes
	FieldRespBytes                      // payload bytes, as Zeek's resp_bytes
	FieldMissedBytes                    // Zeek's missed_bytes
	FieldOrigPkts
	FieldRespPkts
	FieldOrigIPBytes
	FieldRespIPBytes
)

// FlowRecordUnknown are the fields a NetFlow/IPFIX record never gives:
// its octets are IP bytes (headers included), not payload, and it has no
// view of TCP sequence gaps.
const FlowRecordUnknown = FieldOrigBytes | FieldRespBytes | FieldMissedBytes

// Known says whether the connection's source gave every field of f.
func (c *Connection) Known(f Fields) bool { return c.Unknown&f == 0 }

// Duration is the time from the first to the last packet.
func (c *Connection) Duration() time.Duration { return c.End.Sub(c.Start) }

// Key kinds: how the two port fields of a key are used.
const (
	kindPorts  uint8 = iota // TCP, UDP, SCTP ports, or none (other protocols)
	kindEcho                // ICMP echo: both fields hold the identifier
	kindPair                // ICMP request/reply pair: both fields hold the request type
	kindOneWay              // other ICMP: both fields hold type<<8 | code
)

// connKey identifies a connection in either direction: the lower endpoint
// (address, then port) comes first.
type connKey struct {
	a, b            netip.Addr
	pa, pb          uint16
	proto           uint8
	kind            uint8
	vlan, innerVLAN uint16
}

// set makes k the key of a packet from src to dst. It fills k in place,
// field by field: returning the 56-byte key by value costs a copy through
// the stack that is slower than everything else here.
func (k *connKey) set(src, dst *netip.Addr, sp, dp uint16, proto, kind uint8, vlan, inner uint16) {
	if c := src.Compare(*dst); c > 0 || (c == 0 && sp > dp) {
		src, dst, sp, dp = dst, src, dp, sp
	}
	k.a, k.b = *src, *dst
	k.pa, k.pb = sp, dp
	k.proto, k.kind = proto, kind
	k.vlan, k.innerVLAN = vlan, inner
}

const histCap = 31

// conn is a live connection.
type conn struct {
	key        connKey
	id         uint64
	origPort   uint16
	respPort   uint16
	proto      uint8
	kind       uint8
	clientBy   ClientBy
	tunnel     decode.Tunnel
	vlan       uint16 // tags of the first packet
	innerVLAN  uint16
	origIsB    bool       // the originator is key.b, the responder key.a (see orig)
	nameSrc    NameSource // serverName's source
	handshake  bool       // TCP: the responder's SYN-ACK was acknowledged
	unreach    bool       // an ICMP unreachable quoted this connection
	respRST    bool       // the responder sent a RST; rstTTL is its TTL
	respTTL    uint8
	rstTTL     uint8
	macSeen    uint8 // bit dir: the MAC of that side's sender was recorded
	icmpType   uint8 // the first attached ICMP error: type, code, sender
	icmpCode   uint8
	icmpFrom   netip.Addr
	histLen    uint8
	list       uint8
	hist       [histCap]byte
	histSeen   uint32
	icmpErrors uint64
	start      int64 // first and last packet time, unix nanoseconds
	last       int64
	seen       int64 // tracker clock at the last packet (orders the idle list)
	firstPos   Pos
	lastPos    Pos
	ep         [2]endpoint
	prev, next *conn       // in the idle list
	serverName string      // from the connection's own payload (SNI, HTTP Host)
	holes      *[2]holeSet // TCP: data beyond content holes, per side, from the first hole on
}

// orig and resp are the originator's and responder's addresses. They are
// the key's two addresses, which a conn does not hold twice: 48 bytes less
// per live connection (a conn fits the allocator's 576-byte class instead
// of 640), on a table of 262,144 connections 16 MiB.
func (c *conn) orig() netip.Addr {
	if c.origIsB {
		return c.key.b
	}
	return c.key.a
}

func (c *conn) resp() netip.Addr {
	if c.origIsB {
		return c.key.a
	}
	return c.key.b
}

func (c *conn) isTCP() bool { return c.proto == decode.ProtoTCP }

// once records letter for side dir the first time bit is seen and reports
// whether it had been seen before.
func (c *conn) once(dir int, bit uint32, letter byte) bool {
	if dir == 1 {
		bit <<= 16
	}
	if c.histSeen&bit != 0 {
		return true
	}
	c.histSeen |= bit
	c.addHistory(dir, letter)
	return false
}

// addHistory appends letter, upper case for the originator and lower case
// for the responder. History beyond histCap letters is dropped.
func (c *conn) addHistory(dir int, letter byte) {
	if dir == 1 && letter >= 'A' && letter <= 'Z' {
		letter += 'a' - 'A'
	}
	if int(c.histLen) < len(c.hist) {
		c.hist[c.histLen] = letter
		c.histLen++
	}
}

// scaledHistory records letter on the 1st, 10th, 100th ... event.
func (c *conn) scaledHistory(dir int, letter byte, count, next *uint32) {
	*count++
	if *next == 0 {
		*next = 1
	}
	if *count == *next {
		c.addHistory(dir, letter)
		if *next <= (1<<32-1)/10 {
			*next *= 10
		} else {
			*next = 1<<32 - 1
		}
	}
}

// dirOf says which side sent p: 0 the originator, 1 the responder.
func (c *conn) dirOf(p *decode.Packet, icmpType uint8) int {
	if p.Src != p.Dst {
		if p.Src == c.orig() {
			return 0
		}
		return 1
	}
	switch c.kind {
	case kindPorts:
		if p.SrcPort == c.origPort {
			return 0
		}
		return 1
	case kindEcho, kindPair:
		if icmpIsRequest(p.Proto, icmpType) {
			return 0
		}
		return 1
	}
	return 0
}

func (c *conn) state() string {
	switch c.proto {
	case decode.ProtoTCP:
		return c.tcpConnState()
	case decode.ProtoUDP:
		o, r := c.ep[0].pkts > 0, c.ep[1].pkts > 0
		switch {
		case o && r:
			return "SF"
		case o:
			return "S0"
		case r:
			return "SHR"
		}
	}
	return "OTH"
}

func (c *conn) outcome(state string) Outcome {
	o, r := &c.ep[0], &c.ep[1]
	if c.isTCP() {
		if c.handshake || (o.sentData && r.sentData) {
			return Established
		}
	} else if o.pkts > 0 && r.pkts > 0 {
		return Established
	}
	if c.unreach || state == "REJ" {
		return Rejected
	}
	if r.pkts == 0 {
		return Unanswered
	}
	return Partial
}

// export builds the public record of c.
// exportTo fills out with the finished connection; full adds the History
// and Community ID strings, which cost allocations.
func (c *conn) exportTo(out *Connection, reason EndReason, full bool) {
	*out = Connection{
		ID:          c.id,
		Orig:        c.orig(),
		Resp:        c.resp(),
		OrigPort:    c.origPort,
		RespPort:    c.respPort,
		Proto:       c.proto,
		VLAN:        c.vlan,
		InnerVLAN:   c.innerVLAN,
		Tunnel:      c.tunnel,
		Start:       time.Unix(0, c.start).UTC(),
		End:         time.Unix(0, c.last).UTC(),
		FirstPos:    c.firstPos,
		LastPos:     c.lastPos,
		OrigPkts:    c.ep[0].pkts,
		RespPkts:    c.ep[1].pkts,
		OrigIPBytes: c.ep[0].ipBytes,
		RespIPBytes: c.ep[1].ipBytes,
		ClientBy:    c.clientBy,
		ICMPErrors:  c.icmpErrors,
		Reason:      reason,
		RespTTL:     c.respTTL,
		RSTTTL:      c.rstTTL,
		RespRST:     c.respRST,
		ICMPFrom:    c.icmpFrom,
		ICMPType:    c.icmpType,
		ICMPCode:    c.icmpCode,
		ServerName:  c.serverName,
		NameSource:  c.nameSrc,
	}
	if c.isTCP() {
		out.OrigBytes = c.ep[0].size(&c.ep[1])
		out.RespBytes = c.ep[1].size(&c.ep[0])
		out.MissedBytes = c.ep[0].missed + c.ep[1].missed
	} else {
		out.OrigBytes = c.ep[0].payload
		out.RespBytes = c.ep[1].payload
	}
	out.State = c.state()
	out.Outcome = c.outcome(out.State)
	if full {
		out.History = string(c.hist[:c.histLen])
		out.CommunityID = CommunityID(0, c.orig(), c.resp(), c.origPort, c.respPort, c.proto)
	}
}
