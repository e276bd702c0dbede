// Package ipfixgen writes finished connections as an IPFIX file (RFC
// 7011 messages one after another, RFC 5655's file format), or NetFlow v9
// packets (RFC 3954) one after another, the way a
// metering process exports them: each direction that carried packets is
// a one-way record (uniflow), or, with Options.Biflow, one RFC 5103
// biflow record carries both. It exists for flowaudit's tests: the
// sample captures written as IPFIX and read back by connlog, and IPFIX
// over UDP for Wireshark to cross-check. Production code only reads
// IPFIX (connlog, through goflow2).
package ipfixgen

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// Options choose how records are written.
type Options struct {
	Domain uint32 // observation domain ID
	// Biflow writes one record per connection with RFC 5103's reverse
	// elements (enterprise 29305) for the responder's direction.
	Biflow bool
	// PerMessage is the most records a message holds (0: 20); each
	// message is at most 65,535 bytes.
	PerMessage int
	// TemplateEvery repeats the templates every so many messages (0:
	// only in the first), as exporters over UDP do.
	TemplateEvery int
	// ExportTime is every message's export time (zero: each message's
	// latest flow end).
	ExportTime time.Time
	// V9 writes NetFlow v9 packets (RFC 3954) instead: a 20-byte header
	// without length, template flowset 0, and the times as
	// FIRST_SWITCHED/LAST_SWITCHED, milliseconds of an uptime of a day
	// at the export time. Not with Biflow.
	V9 bool
}

// v9Uptime is the exporter's uptime at each v9 packet's export time.
const v9Uptime = 86400000

// Information elements (IANA) and the templates' IDs.
const (
	ieOctetDelta   = 1
	iePacketDelta  = 2
	ieProtocol     = 4
	ieTCPFlags     = 6
	ieSrcPort      = 7
	ieSrcIPv4      = 8
	ieDstPort      = 11
	ieDstIPv4      = 12
	ieSrcIPv6      = 27
	ieDstIPv6      = 28
	ieICMPTypeCode = 32
	ieICMPv6TC     = 139
	ieStartNanos   = 156
	ieEndNanos     = 157
	ieLastSwitched = 21
	ieFirstSwitch  = 22
	penReverse     = 29305

	tmplV4 = 256
	tmplV6 = 257
)

type field struct {
	id, length uint16
	pen        uint32
}

func template(v6, biflow, v9 bool) []field {
	addr, sa, da, icmp := uint16(4), uint16(ieSrcIPv4), uint16(ieDstIPv4), uint16(ieICMPTypeCode)
	if v6 {
		addr, sa, da, icmp = 16, ieSrcIPv6, ieDstIPv6, ieICMPv6TC
	}
	f := []field{
		{ieStartNanos, 8, 0}, {ieEndNanos, 8, 0},
		{sa, addr, 0}, {da, addr, 0},
		{ieSrcPort, 2, 0}, {ieDstPort, 2, 0}, {ieProtocol, 1, 0},
		{ieTCPFlags, 2, 0}, {icmp, 2, 0},
		{iePacketDelta, 8, 0}, {ieOctetDelta, 8, 0},
	}
	if v9 {
		f[0], f[1] = field{ieFirstSwitch, 4, 0}, field{ieLastSwitched, 4, 0}
	}
	if biflow {
		f = append(f, field{iePacketDelta, 8, penReverse}, field{ieOctetDelta, 8, penReverse}, field{ieTCPFlags, 2, penReverse})
	}
	return f
}

// Record is one data record's values: one direction of a connection, or
// both (biflow: the Rev fields).
type Record struct {
	Start, End            time.Time
	Src, Dst              netip.Addr
	SrcPort, DstPort      uint16 // 0 for ICMP
	Proto                 uint8
	Flags                 uint16 // tcpControlBits
	ICMP                  uint16 // type<<8 | code, for ICMP
	Packets, Octets       uint64
	RevPackets, RevOctets uint64
	RevFlags              uint16
	V6                    bool
}

// Write writes conns to w as IPFIX messages.
func Write(w io.Writer, conns []flow.Connection, o Options) error {
	msgs, err := Messages(conns, o)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if _, err := w.Write(m); err != nil {
			return err
		}
	}
	return nil
}

// Messages are conns as IPFIX messages, each a []byte (a UDP payload, or
// one after another a file).
func Messages(conns []flow.Connection, o Options) ([][]byte, error) {
	var recs []Record
	for i := range conns {
		recs = append(recs, Records(&conns[i], o.Biflow)...)
	}
	return messages(recs, o)
}

// Records are a connection's data records: one per direction that
// carried packets, or one biflow record. TCP flags come from Zeek's
// history letters (S, H/h, A, D, F, R: upper case the originator's).
func Records(c *flow.Connection, biflow bool) []Record {
	of, rf := historyFlags(c.History)
	base := Record{Start: c.Start, End: c.End, Proto: c.Proto, V6: !c.Orig.Unmap().Is4()}
	fwd := base
	fwd.Src, fwd.Dst, fwd.SrcPort, fwd.DstPort = c.Orig.Unmap(), c.Resp.Unmap(), c.OrigPort, c.RespPort
	fwd.Packets, fwd.Octets, fwd.Flags = c.OrigPkts, c.OrigIPBytes, of
	rev := base
	rev.Src, rev.Dst, rev.SrcPort, rev.DstPort = c.Resp.Unmap(), c.Orig.Unmap(), c.RespPort, c.OrigPort
	rev.Packets, rev.Octets, rev.Flags = c.RespPkts, c.RespIPBytes, rf
	if icmp(c.Proto) {
		// Zeek's ICMP "ports": the client's type and the reply's type
		// (echo) or the code. Exporters put type<<8 | code in
		// icmpTypeCode.
		fwd.SrcPort, fwd.DstPort, rev.SrcPort, rev.DstPort = 0, 0, 0, 0
		if c.RespPkts > 0 {
			fwd.ICMP, rev.ICMP = c.OrigPort<<8, c.RespPort<<8
		} else {
			fwd.ICMP = c.OrigPort<<8 | c.RespPort&0xff
		}
	}
	if biflow {
		fwd.RevPackets, fwd.RevOctets, fwd.RevFlags = rev.Packets, rev.Octets, rev.Flags
		return []Record{fwd}
	}
	var out []Record
	if fwd.Packets > 0 {
		out = append(out, fwd)
	}
	if rev.Packets > 0 {
		out = append(out, rev)
	}
	return out
}

func icmp(proto uint8) bool { return proto == 1 || proto == 58 }

func historyFlags(h string) (orig, resp uint16) {
	const fin, syn, rst, psh, ack = 0x01, 0x02, 0x04, 0x08, 0x10
	for i := 0; i < len(h); i++ {
		c := h[i]
		f := &orig
		if c >= 'a' && c <= 'z' {
			f, c = &resp, c-'a'+'A'
		}
		switch c {
		case 'S':
			*f |= syn
		case 'H':
			*f |= syn | ack
		case 'A':
			*f |= ack
		case 'D':
			*f |= ack | psh
		case 'F':
			*f |= fin
		case 'R':
			*f |= rst
		}
	}
	return orig, resp
}

// messages encodes records into IPFIX messages.
func messages(recs []Record, o Options) ([][]byte, error) {
	per := o.PerMessage
	if per <= 0 {
		per = 20
	}
	if o.V9 && o.Biflow {
		return nil, errors.New("ipfixgen: NetFlow v9 has no biflow records")
	}
	var msgs [][]byte
	var seq uint32
	for i, n := 0, 0; i < len(recs) || n == 0; n++ {
		j := min(i+per, len(recs))
		batch := recs[i:j]
		i = j
		export := o.ExportTime
		if export.IsZero() {
			for _, r := range batch {
				if r.End.After(export) {
					export = r.End
				}
			}
		}
		unix := export.Unix() + 1
		boot := unix*1000 - v9Uptime // ms since 1970 when the v9 exporter booted
		var body []byte
		count := len(batch)
		if n == 0 || o.TemplateEvery > 0 && n%o.TemplateEvery == 0 {
			body = appendTemplates(body, o.Biflow, o.V9)
			count += 2
		}
		for _, v6 := range []bool{false, true} {
			id := uint16(tmplV4)
			if v6 {
				id = tmplV6
			}
			var set []byte
			for _, r := range batch {
				if r.V6 == v6 {
					set = appendRecord(set, r, o.Biflow, o.V9, boot)
				}
			}
			if len(set) > 0 {
				body = binary.BigEndian.AppendUint16(body, id)
				body = binary.BigEndian.AppendUint16(body, uint16(4+len(set)))
				body = append(body, set...)
			}
		}
		if 20+len(body) > 0xffff {
			return nil, errors.New("ipfixgen: a message over 65,535 bytes: fewer records per message")
		}
		m := make([]byte, 0, 20+len(body))
		if o.V9 {
			m = binary.BigEndian.AppendUint16(m, 9)
			m = binary.BigEndian.AppendUint16(m, uint16(count))
			m = binary.BigEndian.AppendUint32(m, v9Uptime)
			m = binary.BigEndian.AppendUint32(m, uint32(unix))
		} else {
			m = binary.BigEndian.AppendUint16(m, 10)
			m = binary.BigEndian.AppendUint16(m, uint16(16+len(body)))
			m = binary.BigEndian.AppendUint32(m, uint32(unix))
		}
		m = binary.BigEndian.AppendUint32(m, seq)
		m = binary.BigEndian.AppendUint32(m, o.Domain)
		m = append(m, body...)
		msgs = append(msgs, m)
		seq += uint32(len(batch))
		if len(recs) == 0 {
			break
		}
	}
	return msgs, nil
}

func appendTemplates(b []byte, biflow, v9 bool) []byte {
	var set []byte
	for _, v6 := range []bool{false, true} {
		id := uint16(tmplV4)
		if v6 {
			id = tmplV6
		}
		fs := template(v6, biflow, v9)
		set = binary.BigEndian.AppendUint16(set, id)
		set = binary.BigEndian.AppendUint16(set, uint16(len(fs)))
		for _, f := range fs {
			if f.pen != 0 {
				set = binary.BigEndian.AppendUint16(set, f.id|0x8000)
				set = binary.BigEndian.AppendUint16(set, f.length)
				set = binary.BigEndian.AppendUint32(set, f.pen)
				continue
			}
			set = binary.BigEndian.AppendUint16(set, f.id)
			set = binary.BigEndian.AppendUint16(set, f.length)
		}
	}
	id := uint16(2)
	if v9 {
		id = 0
	}
	b = binary.BigEndian.AppendUint16(b, id)
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(set)))
	return append(b, set...)
}

// NTP is t as an NTP timestamp (dateTimeNanoseconds), rounded.
func NTP(t time.Time) uint64 {
	sec := uint64(t.Unix() + 2208988800)
	frac := (uint64(t.Nanosecond())<<32 + 5e8) / 1e9
	return sec<<32 + frac
}

func appendRecord(b []byte, r Record, biflow, v9 bool, boot int64) []byte {
	if v9 {
		b = binary.BigEndian.AppendUint32(b, uint32(r.Start.UnixMilli()-boot))
		b = binary.BigEndian.AppendUint32(b, uint32(r.End.UnixMilli()-boot))
	} else {
		b = binary.BigEndian.AppendUint64(b, NTP(r.Start))
		b = binary.BigEndian.AppendUint64(b, NTP(r.End))
	}
	if r.V6 {
		s, d := r.Src.As16(), r.Dst.As16()
		b = append(append(b, s[:]...), d[:]...)
	} else {
		s, d := r.Src.As4(), r.Dst.As4()
		b = append(append(b, s[:]...), d[:]...)
	}
	b = binary.BigEndian.AppendUint16(b, r.SrcPort)
	b = binary.BigEndian.AppendUint16(b, r.DstPort)
	b = append(b, r.Proto)
	b = binary.BigEndian.AppendUint16(b, r.Flags)
	b = binary.BigEndian.AppendUint16(b, r.ICMP)
	b = binary.BigEndian.AppendUint64(b, r.Packets)
	b = binary.BigEndian.AppendUint64(b, r.Octets)
	if biflow {
		b = binary.BigEndian.AppendUint64(b, r.RevPackets)
		b = binary.BigEndian.AppendUint64(b, r.RevOctets)
		b = binary.BigEndian.AppendUint16(b, r.RevFlags)
	}
	return b
}
