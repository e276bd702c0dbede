package connlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/netsampler/goflow2/v2/decoders/netflow"

	"github.com/flowaudit/flowaudit/analyzer/decode"
)

// IPFIX files: RFC 7011 messages one after another, as RFC 5655's file
// format and collectors write them. This file frames the messages (each
// announces its length) and checks that its sets tile it; goflow2's
// netflow package decodes the sets with the templates seen so far (a
// template system per file, keyed by observation domain and template ID).
// Each data record becomes an nfRecord, paired with its reverse as
// nfdump's one-way records are (nfAdd).

const (
	ipfixHeaderLen = 16
	// An export time before 1995 or after 2099 is no IPFIX file's.
	ipfixMinExport = 788918400
	ipfixMaxExport = 4102444800
	// maxTemplates bounds the templates a file may define (about 50 MiB
	// of template system at most).
	maxTemplates = 1 << 14
	// penReverse is RFC 5103's private enterprise number: its elements
	// are the reverse direction of a biflow record.
	penReverse = 29305
)

// sniffIPFIX says whether head starts an IPFIX message: version 10, a
// length that holds its header and a set, a plausible export time, and a
// first set of a known kind that fits in the message.
func sniffIPFIX(head []byte) bool {
	if len(head) < ipfixHeaderLen+4 || head[0] != 0 || head[1] != 10 {
		return false
	}
	n := int(binary.BigEndian.Uint16(head[2:]))
	t := binary.BigEndian.Uint32(head[4:])
	id := binary.BigEndian.Uint16(head[16:])
	sl := int(binary.BigEndian.Uint16(head[18:]))
	return n >= ipfixHeaderLen+4 && t >= ipfixMinExport && t < ipfixMaxExport &&
		(id == 2 || id == 3 || id >= 256) && sl >= 4 && ipfixHeaderLen+sl <= n
}

// NetFlow v9 (RFC 3954) packets one after another, as a raw dump of
// what an exporter sent: a v9 header has a record count but no length,
// so a packet is its header and the flowsets after it up to the next
// packet's header, which starts with 9 where no flowset ID can (2 to 255
// are reserved), or the end of the file.
const v9HeaderLen = 20

// sniffNFv9 says whether head starts a NetFlow v9 packet: version 9, a
// plausible export time, and a first flowset of templates, options
// templates or data, no shorter than its header.
func sniffNFv9(head []byte) bool {
	if len(head) < v9HeaderLen+4 || head[0] != 0 || head[1] != 9 {
		return false
	}
	t := binary.BigEndian.Uint32(head[8:])
	id := binary.BigEndian.Uint16(head[20:])
	sl := int(binary.BigEndian.Uint16(head[22:]))
	return t >= ipfixMinExport && t < ipfixMaxExport && (id == 0 || id == 1 || id >= 256) && sl >= 4
}

// ipfixState reads an IPFIX or NetFlow v9 file.
type ipfixState struct {
	tmpl *ipfixTemplates
	buf  []byte
	msg  int   // messages read
	off  int64 // offset of the next message
	pkt  netflow.IPFIXPacket
	v9   netflow.NFv9Packet
	// initTime is each observation domain's systemInitTimeMilliseconds
	// (from an options record or a data record), for the records timed
	// by flowStart/EndSysUpTime.
	initTime map[uint32]uint64

	// Data sets whose template never came were not read.
	noTemplateSets, noTemplateBytes uint64
}

// ipfixTemplates is goflow2's template system for one file, with the
// checks goflow2 leaves to its caller: a template withdrawal (no fields)
// removes the template, a template whose records could have no length is
// refused (goflow2 would loop on it), and the templates are bounded.
type ipfixTemplates struct{ m map[uint64]any }

func templateKey(version uint16, domain uint32, id uint16) uint64 {
	return uint64(version)<<48 | uint64(domain)<<16 | uint64(id)
}

// fixedLen is the length of a record's fixed-length fields; zero says
// the fields are refused: none of fixed length, or one of length 0
// (goflow2 would decode a value per field for every byte of a data set).
func fixedLen(lists ...[]netflow.Field) (n int) {
	for _, fields := range lists {
		for _, f := range fields {
			switch f.Length {
			case 0xffff:
			case 0:
				return 0
			default:
				n += int(f.Length)
			}
		}
	}
	return n
}

func (t *ipfixTemplates) AddTemplate(version uint16, domain uint32, id uint16, template any) error {
	var fixed, count int
	switch tp := template.(type) {
	case netflow.TemplateRecord:
		fixed = fixedLen(tp.Fields)
		count = len(tp.Fields)
	case netflow.IPFIXOptionsTemplateRecord:
		fixed, count = fixedLen(tp.Scopes, tp.Options), len(tp.Scopes)+len(tp.Options)
	case netflow.NFv9OptionsTemplateRecord:
		fixed, count = fixedLen(tp.Scopes, tp.Options), len(tp.Scopes)+len(tp.Options)
	}
	if count == 0 { // a withdrawal (RFC 7011 8.1); ID 2 or 3: all of the domain's
		if id == 2 || id == 3 { // every template (2) or options template (3)
			for k, tp := range t.m {
				_, plain := tp.(netflow.TemplateRecord)
				if k>>16 == templateKey(version, domain, 0)>>16 && plain == (id == 2) {
					delete(t.m, k)
				}
			}
		}
		delete(t.m, templateKey(version, domain, id))
		return nil
	}
	if id < 256 {
		return fmt.Errorf("template ID %d: template IDs start at 256", id)
	}
	if fixed == 0 {
		return fmt.Errorf("template %d: a field of length 0, or none of fixed length (its records could not be told from padding)", id)
	}
	k := templateKey(version, domain, id)
	if _, ok := t.m[k]; !ok && len(t.m) >= maxTemplates {
		return fmt.Errorf("template %d: more than %d templates in one file", id, maxTemplates)
	}
	t.m[k] = template
	return nil
}

func (t *ipfixTemplates) GetTemplate(version uint16, domain uint32, id uint16) (any, error) {
	if tp, ok := t.m[templateKey(version, domain, id)]; ok {
		return tp, nil
	}
	return nil, netflow.ErrorTemplateNotFound
}

func (t *ipfixTemplates) RemoveTemplate(version uint16, domain uint32, id uint16) (any, error) {
	k := templateKey(version, domain, id)
	if tp, ok := t.m[k]; ok {
		delete(t.m, k)
		return tp, nil
	}
	return nil, netflow.ErrorTemplateNotFound
}

func (t *ipfixTemplates) GetTemplates() netflow.FlowBaseTemplateSet {
	out := make(netflow.FlowBaseTemplateSet, len(t.m))
	for k, v := range t.m {
		out[k] = v
	}
	return out
}

// ipfixFail is an error of the current message, at its offset.
func (r *Reader) ipfixFail(err error, cutShort bool) error {
	r.err = &Error{Path: r.path, Message: r.ix.msg, Offset: r.ix.off, Err: err, CutShort: cutShort}
	return r.err
}

// flowHeader reads the fixed header (hlen bytes) of the next IPFIX message
// or NetFlow v9 packet (unit) and checks its version. A nil header means
// the reading ends here with err: io.EOF at the end of the file, else the
// error ipfixFail made of it.
func (r *Reader) flowHeader(hlen int, version uint16, unit, format string) ([]byte, error) {
	s := &r.ix
	if s.tmpl == nil {
		s.tmpl = &ipfixTemplates{m: make(map[uint64]any)}
		s.buf = make([]byte, 1<<16)
		s.initTime = make(map[uint32]uint64)
	}
	hdr := s.buf[:hlen]
	n, err := io.ReadFull(r.br, hdr)
	if n == 0 && errors.Is(err, io.EOF) {
		return nil, r.ipfixEnd()
	}
	s.msg++
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) && (n < 2 || binary.BigEndian.Uint16(hdr) == version) {
			return nil, r.ipfixFail(fmt.Errorf("the file ends inside a %s header (%d of %d bytes)", unit, n, hlen), true)
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, r.ipfixFail(err, false)
		}
	}
	if v := binary.BigEndian.Uint16(hdr); v != version {
		return nil, r.ipfixFail(fmt.Errorf("version %d where a %s should start (%s is %d): not %s, or garbage after the last %s", v, unit, format, version, format, unit), false)
	}
	return hdr, nil
}

// ipfixMessage reads the next message and takes its data records in. At
// the end of the file it returns io.EOF, or an *Error when data sets had
// no template or records could not be used (the report must not say the
// file was analysed whole).
func (r *Reader) ipfixMessage() error {
	s := &r.ix
	hdr, err := r.flowHeader(ipfixHeaderLen, 10, "message", "IPFIX")
	if hdr == nil {
		return err
	}
	length := int(binary.BigEndian.Uint16(hdr[2:]))
	if length < ipfixHeaderLen {
		return r.ipfixFail(fmt.Errorf("message length %d, shorter than its %d-byte header", length, ipfixHeaderLen), false)
	}
	msg := s.buf[:length]
	if n, err := io.ReadFull(r.br, msg[ipfixHeaderLen:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return r.ipfixFail(fmt.Errorf("the file ends inside the message: %d of its %d bytes", ipfixHeaderLen+n, length), true)
		}
		return r.ipfixFail(err, false)
	}
	domain := binary.BigEndian.Uint32(hdr[12:])
	withdrawn := false
	for off := ipfixHeaderLen; off < length; {
		if length-off < 4 {
			return r.ipfixFail(fmt.Errorf("%d bytes after the last set, too few for a set header", length-off), false)
		}
		id := binary.BigEndian.Uint16(msg[off:])
		sl := int(binary.BigEndian.Uint16(msg[off+2:]))
		switch {
		case sl < 4:
			return r.ipfixFail(fmt.Errorf("set at byte %d: length %d, shorter than its header", off, sl), false)
		case off+sl > length:
			return r.ipfixFail(fmt.Errorf("set at byte %d (ID %d): %d bytes, past the end of the %d-byte message", off, id, sl, length), false)
		case id < 256 && id != 2 && id != 3:
			return r.ipfixFail(fmt.Errorf("set at byte %d: set ID %d is reserved (2 templates, 3 options templates, 256 and up data)", off, id), false)
		case id == 3 && optionsWithdrawals(msg[off+4:off+sl]):
			// goflow2 reads an options template record's scope field
			// count, which a withdrawal (RFC 7011 8.1: ID and a field
			// count of 0) has not: the withdrawals are done here and the
			// set taken out of what goflow2 sees.
			for w := msg[off+4 : off+sl]; len(w) >= 4; w = w[4:] {
				s.tmpl.AddTemplate(10, domain, binary.BigEndian.Uint16(w), netflow.IPFIXOptionsTemplateRecord{})
			}
			binary.BigEndian.PutUint16(msg[off:], 0xffff) // marked for removal below
			withdrawn = true
		}
		off += sl
	}
	if withdrawn {
		msg = dropMarkedSets(msg)
	}
	s.pkt = netflow.IPFIXPacket{}
	err = netflow.DecodeMessageVersion(bytes.NewBuffer(msg), s.tmpl, &s.v9, &s.pkt)
	if err != nil && !errors.Is(err, netflow.ErrorTemplateNotFound) {
		// Only a missing template lets goflow2 go on past a set.
		return r.ipfixFail(fmt.Errorf("goflow2: %w", err), false)
	}
	r.takeSets(s.pkt.FlowSets, domain, int64(s.pkt.ExportTime)*1e9)
	s.off += int64(length)
	return nil
}

// takeSets takes a message's decoded sets in: the data records, the
// exporter's boot time from options data, the data sets goflow2 could
// not decode for want of a template.
func (r *Reader) takeSets(sets []any, domain uint32, export int64) {
	s := &r.ix
	for _, fs := range sets {
		switch set := fs.(type) {
		case netflow.DataFlowSet:
			for i := range set.Records {
				r.ipfixRecord(set.Records[i].Values, domain, export, set.Id)
			}
		case netflow.OptionsDataFlowSet:
			for _, rec := range set.Records {
				for _, vs := range [][]netflow.DataField{rec.ScopesValues, rec.OptionsValues} {
					for _, v := range vs {
						if b, ok := v.Value.([]byte); ok && !v.PenProvided && v.Type == 160 {
							if t, ok := beUint(b); ok {
								s.initTime[domain] = t
							}
						}
					}
				}
			}
		case netflow.RawFlowSet:
			if set.Id >= 256 {
				s.noTemplateSets++
				s.noTemplateBytes += uint64(len(set.Records))
			}
		}
	}
}

// optionsWithdrawals says whether an options template set's records are
// all withdrawals: a template ID and a field count of 0 each (padding
// aside).
func optionsWithdrawals(set []byte) bool {
	if len(set) < 4 {
		return false
	}
	for ; len(set) >= 4; set = set[4:] {
		if binary.BigEndian.Uint16(set[2:]) != 0 {
			return false
		}
	}
	return true
}

// dropMarkedSets takes the sets marked with ID 0xffff out of a message,
// in place, and sets its length.
func dropMarkedSets(msg []byte) []byte {
	out := ipfixHeaderLen
	for off := ipfixHeaderLen; off < len(msg); {
		sl := int(binary.BigEndian.Uint16(msg[off+2:]))
		if binary.BigEndian.Uint16(msg[off:]) != 0xffff {
			copy(msg[out:], msg[off:off+sl])
			out += sl
		}
		off += sl
	}
	binary.BigEndian.PutUint16(msg[2:], uint16(out))
	return msg[:out]
}

// v9Packet reads the next NetFlow v9 packet and takes its data records
// in, as ipfixMessage does an IPFIX message's.
func (r *Reader) v9Packet() error {
	s := &r.ix
	hdr, err := r.flowHeader(v9HeaderLen, 9, "packet", "NetFlow v9")
	if hdr == nil {
		return err
	}
	length := v9HeaderLen
	for {
		p, err := r.br.Peek(4)
		if len(p) == 0 && errors.Is(err, io.EOF) {
			break
		}
		if len(p) >= 2 && binary.BigEndian.Uint16(p) == 9 {
			break // the next packet
		}
		if len(p) < 4 {
			if err == nil || errors.Is(err, io.EOF) {
				return r.ipfixFail(fmt.Errorf("the file ends inside a flowset header at byte %d of the packet", length), true)
			}
			return r.ipfixFail(err, false)
		}
		id := binary.BigEndian.Uint16(p)
		sl := int(binary.BigEndian.Uint16(p[2:]))
		switch {
		case sl < 4:
			return r.ipfixFail(fmt.Errorf("flowset at byte %d: length %d, shorter than its header", length, sl), false)
		case id >= 2 && id < 256:
			return r.ipfixFail(fmt.Errorf("flowset at byte %d: flowset ID %d is reserved (0 templates, 1 options templates, 256 and up data)", length, id), false)
		case length+sl > len(s.buf):
			return r.ipfixFail(fmt.Errorf("flowset at byte %d: the packet would be longer than 65,536 bytes", length), false)
		}
		if n, err := io.ReadFull(r.br, s.buf[length:length+sl]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return r.ipfixFail(fmt.Errorf("the file ends inside the flowset at byte %d: %d of its %d bytes", length, n, sl), true)
			}
			return r.ipfixFail(err, false)
		}
		length += sl
	}
	msg := s.buf[:length]
	uptime := uint64(binary.BigEndian.Uint32(hdr[4:]))
	unix := uint64(binary.BigEndian.Uint32(hdr[8:]))
	source := binary.BigEndian.Uint32(hdr[16:])
	// FIRST_SWITCHED and LAST_SWITCHED count milliseconds of the
	// exporter's uptime: it booted uptime before the export time.
	if boot := unix * 1000; boot >= uptime {
		s.initTime[source] = boot - uptime
	}
	// Each flowset on its own: goflow2's packet loop stops after the
	// header's count of flowsets, which exporters fill with records.
	buf := bytes.NewBuffer(msg[v9HeaderLen:])
	var sets []any
	for buf.Len() > 0 {
		fs, err := netflow.DecodeMessageCommonFlowSet(buf, s.tmpl, source, 9)
		if err != nil && !errors.Is(err, netflow.ErrorTemplateNotFound) {
			return r.ipfixFail(fmt.Errorf("goflow2: %w", err), false)
		}
		sets = append(sets, fs)
	}
	r.takeSets(sets, source, int64(unix)*1e9)
	s.off += int64(length)
	return nil
}

// ipfixEnd is the end of the file: io.EOF when every data record was
// read, else an *Error that says what was not.
func (r *Reader) ipfixEnd() error {
	s := &r.ix
	var parts []string
	if s.noTemplateSets > 0 {
		parts = append(parts, fmt.Sprintf("records without template: %d data sets (%d bytes) whose template never came before them were not read", s.noTemplateSets, s.noTemplateBytes))
	}
	if r.nf.unusable > 0 {
		parts = append(parts, fmt.Sprintf("%d data records are no connection (the first: %s)", r.nf.unusable, r.nf.why))
	}
	if len(parts) == 0 {
		r.err = io.EOF
		return io.EOF
	}
	r.err = &Error{Path: r.path, Err: errors.New(strings.Join(parts, "; ")), AtEnd: true}
	return r.err
}

// ipfixUnusable counts a data record that cannot be a connection.
func (r *Reader) ipfixUnusable(setID uint16, why string) {
	r.nf.skip(fmt.Sprintf("message %d at offset %d, data set %d: %s", r.ix.msg, r.ix.off, setID, why))
}

// beUint reads an unsigned integer of 1 to 8 bytes (RFC 7011's
// reduced-size encoding).
func beUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 8 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, true
}

// ntpNanos is an NTP timestamp (dateTimeMicroseconds,
// dateTimeNanoseconds) as nanoseconds since 1970.
func ntpNanos(v uint64) int64 {
	const ntpEpoch = 2208988800 // 1900 to 1970
	sec := int64(v>>32) - ntpEpoch
	frac := (v&0xffffffff*1e9 + 1<<31) >> 32
	return sec*1e9 + int64(frac)
}

// Time elements, in the order of preference: the most precise absolute
// time first, then the ones relative to the exporter's boot or the
// message's export time.
const (
	tNanos = iota
	tMicros
	tMillis
	tSeconds
	tSysUp
	tDelta
	tKinds
)

// ipfixRecord takes one data record in: its addresses, ports, protocol,
// counts, TCP flags and times, and RFC 5103's reverse counts and flags.
func (r *Reader) ipfixRecord(values []netflow.DataField, domain uint32, export int64, setID uint16) {
	var (
		src, dst              netip.Addr
		sp, dp                uint16
		proto                 uint8
		haveProto, havePkts   bool
		pkts, octs            [2]uint64 // delta, total
		have                  [2][2]bool
		rpkts, rocts          uint64
		flags, rflags         uint16
		haveICMP              bool
		icmpTC                uint16
		icmpT, icmpC          int = -1, -1
		start, end            [tKinds]int64
		haveStart, haveEnd    [tKinds]bool
		sysStart, sysEnd      uint64
		durMillis, durMicros  uint64
		haveDurMs, haveDurUs  bool
		initTime              uint64
		haveInit              bool
		biflowDir             uint64
		initPkts, respPkts    uint64
		initOcts, respOcts    uint64
		haveInitCnt, haveResp bool
	)
	for _, v := range values {
		b, _ := v.Value.([]byte)
		if v.PenProvided {
			if v.Pen != penReverse {
				continue
			}
			u, ok := beUint(b)
			if !ok {
				continue
			}
			switch v.Type {
			case 1, 85:
				rocts = max(rocts, u)
			case 2, 86:
				rpkts = max(rpkts, u)
			case 6:
				rflags = uint16(u)
			}
			continue
		}
		switch v.Type {
		case 8, 12: // source/destinationIPv4Address
			if len(b) == 4 {
				a := netip.AddrFrom4([4]byte(b))
				if v.Type == 8 {
					src = a
				} else {
					dst = a
				}
			}
			continue
		case 27, 28: // source/destinationIPv6Address
			if len(b) == 16 {
				a := netip.AddrFrom16([16]byte(b))
				if v.Type == 27 {
					src = a
				} else {
					dst = a
				}
			}
			continue
		}
		u, ok := beUint(b)
		if !ok {
			continue
		}
		switch v.Type {
		case 7:
			sp = uint16(u)
		case 11:
			dp = uint16(u)
		case 4:
			proto, haveProto = uint8(u), true
		case 6:
			flags = uint16(u)
		case 2, 86: // packetDeltaCount, packetTotalCount
			i := 0
			if v.Type == 86 {
				i = 1
			}
			pkts[i], have[0][i] = u, true
		case 1, 85: // octetDeltaCount, octetTotalCount
			i := 0
			if v.Type == 85 {
				i = 1
			}
			octs[i], have[1][i] = u, true
		case 298, 299: // initiatorPackets, responderPackets
			if v.Type == 298 {
				initPkts, haveInitCnt = u, true
			} else {
				respPkts, haveResp = u, true
			}
		case 231, 232: // initiatorOctets, responderOctets
			if v.Type == 231 {
				initOcts, haveInitCnt = u, true
			} else {
				respOcts, haveResp = u, true
			}
		case 32, 139: // icmpTypeCodeIPv4, icmpTypeCodeIPv6
			icmpTC, haveICMP = uint16(u), true
		case 176, 178: // icmpTypeIPv4, icmpTypeIPv6
			icmpT = int(uint8(u))
		case 177, 179: // icmpCodeIPv4, icmpCodeIPv6
			icmpC = int(uint8(u))
		case 150, 151: // flowStart/EndSeconds
			r.setTime(&start, &end, &haveStart, &haveEnd, v.Type == 150, tSeconds, int64(u)*1e9)
		case 152, 153: // flowStart/EndMilliseconds
			r.setTime(&start, &end, &haveStart, &haveEnd, v.Type == 152, tMillis, int64(u)*1e6)
		case 154, 155: // flowStart/EndMicroseconds (NTP format)
			r.setTime(&start, &end, &haveStart, &haveEnd, v.Type == 154, tMicros, ntpNanos(u))
		case 156, 157: // flowStart/EndNanoseconds (NTP format)
			r.setTime(&start, &end, &haveStart, &haveEnd, v.Type == 156, tNanos, ntpNanos(u))
		case 158, 159: // flowStart/EndDeltaMicroseconds: before the export time
			r.setTime(&start, &end, &haveStart, &haveEnd, v.Type == 158, tDelta, export-int64(u)*1e3)
		case 22:
			sysStart, haveStart[tSysUp] = u, true
		case 21:
			sysEnd, haveEnd[tSysUp] = u, true
		case 160:
			initTime, haveInit = u, true
		case 161:
			durMillis, haveDurMs = u, true
		case 162:
			durMicros, haveDurUs = u, true
		case 239:
			biflowDir = u
		}
	}
	if haveStart[tSysUp] || haveEnd[tSysUp] {
		if !haveInit {
			initTime, haveInit = r.ix.initTime[domain]
		} else {
			r.ix.initTime[domain] = initTime
		}
		if haveInit {
			start[tSysUp] = int64(initTime+sysStart) * 1e6
			end[tSysUp] = int64(initTime+sysEnd) * 1e6
		} else {
			haveStart[tSysUp], haveEnd[tSysUp] = false, false
		}
	} else if haveInit {
		r.ix.initTime[domain] = initTime
	}
	rec := &nfRecord{src: src, dst: dst, sp: sp, dp: dp, proto: proto}
	switch {
	case !src.IsValid() || !dst.IsValid():
		r.ipfixUnusable(setID, "no source and destination address (sourceIPv4Address, destinationIPv6Address, …)")
		return
	case !haveProto:
		r.ipfixUnusable(setID, "no protocolIdentifier")
		return
	}
	switch {
	case have[0][0]:
		rec.pkts, havePkts = pkts[0], true
	case have[0][1]:
		rec.pkts, havePkts = pkts[1], true
	case haveInitCnt:
		rec.pkts, havePkts = initPkts, true
	}
	switch {
	case have[1][0]:
		rec.ipb = octs[0]
	case have[1][1]:
		rec.ipb = octs[1]
	case haveInitCnt:
		rec.ipb = initOcts
	}
	rec.noBytes = !have[1][0] && !have[1][1] && !haveInitCnt
	if !havePkts {
		r.ipfixUnusable(setID, "no packet count (packetDeltaCount, packetTotalCount, initiatorPackets)")
		return
	}
	rec.opkts, rec.ob = rpkts, rocts
	if haveResp {
		rec.opkts, rec.ob = respPkts, respOcts
	}
	rec.flags, rec.revFlags = tcpFlagString(flags), tcpFlagString(rflags)
	if proto == decode.ProtoICMP || proto == decode.ProtoICMPv6 {
		rec.sp = 0
		switch {
		case haveICMP:
			rec.dp = icmpTC
		case icmpT >= 0:
			rec.dp = uint16(icmpT)<<8 | uint16(max(icmpC, 0))
		}
	}
	// The times: the most precise kind present; without any, the
	// message's export time.
	rec.start, rec.end = export, export
	found := false
	for k := range tKinds {
		if haveStart[k] {
			rec.start, found = start[k], true
			break
		}
	}
	endFound := false
	for k := range tKinds {
		if haveEnd[k] {
			rec.end, endFound = end[k], true
			break
		}
	}
	rec.noEnd = !found || !endFound && !haveDurUs && !haveDurMs
	switch {
	case !endFound && found && haveDurUs:
		rec.end = rec.start + int64(durMicros)*1e3
	case !endFound && found && haveDurMs:
		rec.end = rec.start + int64(durMillis)*1e6
	case !endFound && found:
		rec.end = rec.start
	case endFound && !found:
		rec.start = rec.end
	}
	if rec.end < rec.start {
		r.ipfixUnusable(setID, "the flow ends before it starts")
		return
	}
	if biflowDir == 2 { // reverseInitiator: the destination opened it
		rec.src, rec.dst, rec.sp, rec.dp = rec.dst, rec.src, rec.dp, rec.sp
		rec.pkts, rec.opkts, rec.ipb, rec.ob = rec.opkts, rec.pkts, rec.ob, rec.ipb
		rec.flags, rec.revFlags = rec.revFlags, rec.flags
	}
	r.nfAdd(rec)
}

func (r *Reader) setTime(start, end *[tKinds]int64, haveStart, haveEnd *[tKinds]bool, isStart bool, kind int, t int64) {
	if isStart {
		start[kind], haveStart[kind] = t, true
	} else {
		end[kind], haveEnd[kind] = t, true
	}
}

// tcpFlags are nfdump's flag strings ("...AP.SF": CWR, ECE, URG, ACK,
// PSH, RST, SYN, FIN), one per value of the low 8 bits, so a record's
// flags read as an nfdump record's without allocating.
var tcpFlags = func() (t [256]string) {
	const letters = "CEUAPRSF"
	for v := range t {
		b := []byte("........")
		for i := range 8 {
			if v&(0x80>>i) != 0 {
				b[i] = letters[i]
			}
		}
		t[v] = string(b)
	}
	return t
}()

func tcpFlagString(f uint16) string { return tcpFlags[f&0xff] }
