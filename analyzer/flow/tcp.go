package flow

import "github.com/flowaudit/flowaudit/analyzer/decode"

// tcpState is the state of one TCP endpoint, as in Zeek's TCP analyzer.
type tcpState uint8

const (
	tcpInactive    tcpState = iota // nothing seen from this endpoint
	tcpSynSent                     // sent a SYN
	tcpSynAckSent                  // sent a SYN-ACK as the originator
	tcpPartial                     // active, but no SYN seen (mid-stream)
	tcpEstablished                 // handshake done
	tcpClosed                      // sent a FIN
	tcpReset                       // sent a RST
)

// tooLargeSeqDelta bounds sequence jumps the tracker trusts on SYN and RST
// packets (Zeek's TOO_LARGE_SEQ_DELTA).
const tooLargeSeqDelta = 1 << 20

// History letter bits, one per letter and direction (orig in the low half).
const (
	histSYN uint32 = 1 << iota
	histSYNACK
	histACK
	histData
	histFIN
	histRST
	histFINRST
	histMulti
)

// endpoint is one side of a connection.
type endpoint struct {
	pkts, ipBytes, payload uint64

	// TCP only.
	state, prev tcpState
	nooo        uint8 // blocks in ooo, below
	gapsOff     bool  // gap accounting given up for this side (see checkBuffered)
	finCnt      uint32
	start       uint32 // initial sequence number (minus one for mid-stream starts)
	lastRel     uint64 // highest sequence end sent, relative to start
	ackRel      uint64 // highest sequence acknowledged by the peer, relative to start
	lastSYN     uint32 // sequence numbers of the last SYN, FIN and RST (history repeats)
	lastFIN     uint32
	lastRST     uint32
	rxmtCnt     uint32 // retransmissions and zero windows, with their next
	rxmtNext    uint32 // history threshold (1, 10, 100, ...)
	zwinCnt     uint32
	zwinNext    uint32
	sentSynAck  bool
	sentData    bool
	didClose    bool // sent a FIN or RST (Zeek's did_close)

	// Content gaps, as Zeek's reassembler finds them: reasm is the next
	// byte expected in order (relative; Zeek's last_reassem_seq), trim
	// the highest acknowledgement processed (trim_seq), finRel the
	// sequence number after the FIN. The nooo blocks of data seen beyond
	// holes are kept apart, in the connection's holes (see holeSet).
	reasm, trim     uint64
	finRel          uint64
	gapCnt, gapNext uint32
	missed          uint64 // bytes acknowledged by the peer but never seen
}

// holeSet holds the blocks of data one side sent beyond holes in its
// stream, as offsets from base: sorted, disjoint, not touching, each
// beginning above the endpoint's reasm; endpoint.nooo says how many are in
// use. A connection gets its two sets on its first hole (holeSet, once per
// connection, never per packet, and kept when the tracker reuses the
// connection's memory), so the connections without holes — nearly all —
// stay as small as they were.
type holeSet struct {
	base uint64
	b    [maxHoles][2]uint32
}

// maxHoles bounds the blocks of out-of-order data an endpoint remembers
// beyond holes, and so the holes it accounts for exactly: an
// acknowledgement passing over any number of them counts each hole's bytes
// in missed_bytes and each hole as one gap in the history, as Zeek's
// Reassembler::Undelivered does. A fifth disjoint block merges the two
// neighbouring blocks with the smallest hole between them, so that hole is
// then taken as seen: missed_bytes can only undercount, by at most the
// bytes of the holes so merged, and only on a side that had more than
// maxHoles holes open at once (not yet filled or acknowledged).
const maxHoles = 4

// maxAhead bounds how far beyond the in-order point data is kept for the
// gap bookkeeping (the offsets are 32-bit); beyond it flowaudit stops
// reporting gaps on that side rather than guess. Zeek gives up long before
// (checkBuffered), so this is only a guard.
const maxAhead = 1<<32 - 1

func (e *endpoint) setState(s tcpState) {
	if s != e.state {
		e.prev = e.state
		e.state = s
	}
}

func (e *endpoint) lastSeq() uint32 { return e.start + uint32(e.lastRel) }
func (e *endpoint) ackSeq() uint32  { return e.start + uint32(e.ackRel) }

// resetSeq starts the sequence space at a SYN.
func (e *endpoint) resetSeq(seq, seqEnd uint32) {
	e.start = seq
	e.ackRel = 0
	e.lastRel = uint64(seqEnd - seq)
	e.reasm, e.trim, e.nooo = 0, 0, 0
}

// size is the payload the endpoint sent, from sequence numbers, as Zeek's
// orig_bytes/resp_bytes: the higher of the last sequence sent and the last
// acknowledged, minus the SYN and FIN octets.
func (e *endpoint) size(peer *endpoint) uint64 {
	if e.prev == tcpSynSent && e.state == tcpReset && peer.state == tcpInactive && e.ackRel > 1 {
		// A half-open connection discovered and aborted: its sequence
		// numbers say nothing about data.
		return 0
	}
	n := max(e.lastRel, e.ackRel)
	if n != 0 {
		n-- // SYN octet
	}
	if e.finCnt > 0 && n != 0 {
		n-- // FIN octet
	}
	return n
}

// tcpPacket runs one TCP segment sent by side dir (0 originator, 1
// responder) through the Zeek-style endpoint state machine and history.
func (c *conn) tcpPacket(p *decode.Packet, dir int) {
	e, peer := &c.ep[dir], &c.ep[1-dir]
	f := p.TCPFlags
	syn, fin, rst, ack := f&decode.FlagSYN != 0, f&decode.FlagFIN != 0, f&decode.FlagRST != 0, f&decode.FlagACK != 0
	n := p.PayloadLen
	if n < 0 {
		n = 0
	}
	seg := n
	if syn {
		seg++
	}
	if fin {
		seg++
	}
	if rst {
		seg -= n // data on a RST is not part of the stream
	}
	seq := p.Seq
	seqEnd := seq + uint32(seg)

	// Initialise or re-initialise the sequence space.
	switch e.state {
	case tcpInactive:
		if syn {
			e.resetSeq(seq, seqEnd)
		} else {
			e.start = seq - 1
			e.ackRel = 0
			e.lastRel = 1 // the first segment must not count as a retransmission
		}
	case tcpSynSent, tcpSynAckSent:
		if syn && seq != e.start {
			e.resetSeq(seq, seqEnd)
		}
	case tcpEstablished, tcpPartial:
		if syn {
			e.resetSeq(seq, seqEnd)
		}
	case tcpReset:
		if syn && e.prev == tcpInactive {
			e.resetSeq(seq, seqEnd)
		}
	}

	// The segment's sequence number relative to the endpoint's start, as
	// Zeek's rel_seq (before the last sequence number moves on).
	relSeq := uint64(int64(e.lastRel) + int64(int32(seq-e.lastSeq())))

	c.tcpHistory(dir, syn, fin, rst, ack, seq, n)

	if p.Window == 0 && !rst && peer.state != tcpClosed && e.state != tcpReset {
		c.scaledHistory(dir, 'W', &e.zwinCnt, &e.zwinNext)
	}
	if fin {
		e.finCnt++
		e.finRel = relSeq + uint64(seg)
	}
	var relAck uint64 // what this segment acknowledges of the peer's stream
	if ack {
		if peer.state == tcpInactive {
			// Start the peer's sequence space as though its SYN was seen.
			peer.start = p.Ack - 1
			peer.ackRel = 0
			peer.lastRel = 0
			relAck = 1
		} else if d := int32(p.Ack - peer.ackSeq()); rst {
			// A RST's acknowledgement is not trusted for the byte
			// counts, but it still passes over holes.
			if d > 0 && d <= tooLargeSeqDelta {
				relAck = peer.ackRel + uint64(d)
			}
		} else {
			if !(p.Ack == 0 && d > tooLargeSeqDelta) && d > 0 {
				peer.ackRel += uint64(d)
			}
			relAck = peer.ackRel
		}
	}

	// Advance the last sequence number, spotting retransmissions.
	d := int32(seqEnd - e.lastSeq())
	switch {
	case (syn || rst) && (d > tooLargeSeqDelta || d < -tooLargeSeqDelta):
		// Do not trust far jumps on SYN or RST.
	case fin && e.lastRel == 1:
		// Only the SYN and now the FIN: take the FIN's sequence even if
		// it is behind (a connection of more than 2 GB).
		e.lastRel = uint64(seqEnd - e.start)
	case e.state == tcpReset:
		// Nothing after a RST is trusted.
	case d > 0:
		e.lastRel += uint64(d)
	case n > 0:
		c.scaledHistory(dir, 'T', &e.rxmtCnt, &e.rxmtNext)
	}

	c.tcpStateMachine(dir, syn, fin, rst, ack, seq, n)
	if e.state == tcpClosed || e.state == tcpReset {
		e.didClose = true
	}

	// After the state machine, as in Zeek: a gap the acknowledgement
	// reveals in a FIN or RST that ends the connection is not trusted.
	if ack {
		c.ackReceived(1-dir, relAck)
	}
	if n > 0 && !rst {
		start := relSeq
		if syn {
			start++
		}
		c.dataSent(dir, start, uint64(n))
	}

	if n > 0 && !rst {
		e.sentData = true
	}
	if syn && ack && dir == 1 {
		e.sentSynAck = true
	}
	if dir == 0 && ack && !syn && c.ep[1].sentSynAck {
		c.handshake = true
	}
}

// dataSent records the payload [seq, seq+n) of an endpoint for the content
// gap bookkeeping: data in order moves reasm on (over any blocks it now
// reaches); data beyond a hole is kept as a block of its own, up to
// maxHoles blocks (see there).
func (c *conn) dataSent(dir int, seq, n uint64) {
	e := &c.ep[dir]
	if e.reasm == 0 {
		e.reasm, e.trim = 1, 1
	}
	end := seq + n
	switch {
	case end <= e.reasm:
	case seq <= e.reasm:
		e.reasm = end
		if e.nooo > 0 {
			e.deliverBlocks(&c.holes[dir])
		}
		if e.ackRel <= 1 && e.lastRel > zeekMaxInitialWindow+1 {
			// Zeek's BlockInserted: none of the data acknowledged yet,
			// so what was delivered is not kept (tcp_max_initial_window).
			e.trim = e.reasm
		}
	case !e.gapsOff:
		e.addBlock(c.holeSet(dir), seq, end)
	}
	if !e.gapsOff && end > e.ackRel && (e.nooo > 0 || e.reasm-e.trim > zeekExcessiveData) {
		e.checkBuffered(c.holes, dir) // without blocks beyond holes, only held data counts
	}
}

// Zeek's defaults for what its TCP reassembler buffers (init-bare.zeek).
const (
	zeekMaxInitialWindow       = 16384            // tcp_max_initial_window
	zeekMaxAboveHoleWithoutAck = 16384            // tcp_max_above_hole_without_any_acks
	zeekExcessiveData          = 10 * 1024 * 1024 // tcp_excessive_data_without_further_acks
)

// checkBuffered is the end of Zeek's TCP_Reassembler::DataSent: past either
// limit Zeek drops what it buffered for this side and stops delivering it,
// so no gap is reported on this side again. The limits: more than 16 KiB
// beyond a hole before any of the side's data was acknowledged, and more
// than 10 MiB held (seen but not acknowledged, and data beyond holes).
func (e *endpoint) checkBuffered(hs *[2]holeSet, dir int) {
	var above, held uint64
	if e.nooo > 0 {
		h := &hs[dir]
		_, hi := h.block(int(e.nooo) - 1)
		above = hi - e.reasm
		for i := range int(e.nooo) {
			lo, hi := h.block(i)
			held += hi - lo
		}
	}
	held += e.reasm - e.trim
	if (e.ackRel <= 1 && above > zeekMaxAboveHoleWithoutAck) || held > zeekExcessiveData {
		e.gapsOff, e.nooo = true, 0
	}
}

// addBlock records data [lo, hi) beyond a hole (lo > reasm), merging it with
// the blocks it overlaps or touches.
func (e *endpoint) addBlock(h *holeSet, lo, hi uint64) {
	if e.nooo == 0 {
		h.base = e.reasm
	}
	if hi-h.base > maxAhead {
		e.gapsOff, e.nooo = true, 0
		return
	}
	l, u := uint32(lo-h.base), uint32(hi-h.base)
	var out [maxHoles + 1][2]uint32
	n, placed := 0, false
	for _, b := range h.b[:e.nooo] {
		switch {
		case b[1] < l: // wholly before the new data
			out[n] = b
			n++
		case u < b[0]: // wholly after
			if !placed {
				out[n] = [2]uint32{l, u}
				n, placed = n+1, true
			}
			out[n] = b
			n++
		default: // overlapping or touching: one block
			l, u = min(l, b[0]), max(u, b[1])
		}
	}
	if !placed {
		out[n] = [2]uint32{l, u}
		n++
	}
	if n > maxHoles {
		// Too many holes: fill the smallest one between two blocks (the
		// first, lowest, of equals).
		m := 1
		for i := 2; i < n; i++ {
			if out[i][0]-out[i-1][1] < out[m][0]-out[m-1][1] {
				m = i
			}
		}
		out[m-1][1] = out[m][1]
		copy(out[m:n], out[m+1:n])
		n--
	}
	copy(h.b[:], out[:n])
	e.nooo = uint8(n)
}

// holeSet returns side dir's blocks beyond holes, allocating the
// connection's sets on its first hole.
func (c *conn) holeSet(dir int) *holeSet {
	if c.holes == nil {
		c.holes = new([2]holeSet)
	}
	return &c.holes[dir]
}

// block returns the i-th block beyond a hole in relative sequence numbers.
func (h *holeSet) block(i int) (lo, hi uint64) {
	return h.base + uint64(h.b[i][0]), h.base + uint64(h.b[i][1])
}

// popBlock drops the first block beyond a hole.
func (e *endpoint) popBlock(h *holeSet) {
	copy(h.b[:], h.b[1:e.nooo])
	e.nooo--
}

// deliverBlocks moves reasm over the blocks it has reached, as Zeek's
// BlockInserted delivers data once a leading hole is filled.
func (e *endpoint) deliverBlocks(h *holeSet) {
	for e.nooo > 0 {
		lo, hi := h.block(0)
		if lo > e.reasm {
			return
		}
		e.reasm = max(e.reasm, hi)
		e.popBlock(h)
	}
}

// ackReceived is Zeek's TCP_Reassembler::AckReceived for the stream of side
// dir: the peer acknowledged everything below ack, so bytes below it never
// seen were lost to the capture. As Zeek's Reassembler::Undelivered, each
// hole the acknowledgement passes over (before each block of data seen
// beyond reasm, and the last one up to ack) is one content gap: 'G'/'g' in
// the history, its bytes counted in missed_bytes, reported only while both
// endpoints are established or closing cleanly.
func (c *conn) ackReceived(dir int, ack uint64) {
	e, peer := &c.ep[dir], &c.ep[1-dir]
	if e.reasm == 0 {
		e.reasm, e.trim = 1, 1
	}
	if e.finCnt > 0 && ack >= e.finRel {
		ack = e.finRel - 1 // the FIN's own sequence number is not data
	}
	if ack <= e.trim {
		return
	}
	e.trim = ack
	if ack <= e.reasm {
		return
	}
	report := !e.gapsOff && e.clean() && peer.clean()
	var h *holeSet
	if c.holes != nil {
		h = &c.holes[dir]
	}
	for e.nooo > 0 {
		lo, hi := h.block(0)
		if lo >= ack {
			break
		}
		c.gap(dir, lo-e.reasm, report)
		e.reasm = hi
		e.popBlock(h)
	}
	if ack > e.reasm {
		c.gap(dir, ack-e.reasm, report)
		e.reasm = ack
		e.deliverBlocks(h) // a block beginning right at ack
	}
}

// gap records one content gap of n bytes on side dir, when report says so.
func (c *conn) gap(dir int, n uint64, report bool) {
	if report {
		e := &c.ep[dir]
		e.missed += n
		c.scaledHistory(dir, 'G', &e.gapCnt, &e.gapNext)
	}
}

// clean is Zeek's is_clean: established, or closed after being
// established.
func (e *endpoint) clean() bool {
	return e.state == tcpEstablished || (e.state == tcpClosed && e.prev == tcpEstablished)
}

// tcpHistory appends the history letters of one segment, following Zeek's
// rules: 'a', 'd', 'i' and 'q' at most once per direction; 's', 'h', 'f' and
// 'r' again only when the sequence number differs from the previous one of
// the same kind.
func (c *conn) tcpHistory(dir int, syn, fin, rst, ack bool, seq uint32, n int) {
	e := &c.ep[dir]
	bits := 0
	for _, b := range [3]bool{syn, fin, rst} {
		if b {
			bits++
		}
	}
	switch {
	case bits > 1:
		if fin && rst {
			c.once(dir, histFINRST, 'I')
		} else {
			c.once(dir, histMulti, 'Q')
		}
	case syn:
		letter, bit := byte('S'), histSYN
		if ack {
			letter, bit = 'H', histSYNACK
		}
		if c.once(dir, bit, letter) && seq != e.lastSYN {
			c.addHistory(dir, letter)
		}
		e.lastSYN = seq
	case fin:
		end := seq + uint32(n)
		if c.once(dir, histFIN, 'F') && end != e.lastFIN {
			c.addHistory(dir, 'F')
		}
		e.lastFIN = end
	case rst:
		if c.once(dir, histRST, 'R') && seq != e.lastRST {
			c.addHistory(dir, 'R')
		}
		e.lastRST = seq
	case n > 0:
		c.once(dir, histData, 'D')
	case ack:
		c.once(dir, histACK, 'A')
	}
}

// tcpStateMachine updates the endpoint states as Zeek's
// UpdateStateMachine does, without its weird-event reporting.
func (c *conn) tcpStateMachine(dir int, syn, fin, rst, ack bool, seq uint32, n int) {
	e, peer := &c.ep[dir], &c.ep[1-dir]
	orig := dir == 0
	switch e.state {
	case tcpInactive:
		if syn {
			if orig {
				if ack {
					e.setState(tcpSynAckSent)
				} else {
					e.setState(tcpSynSent)
				}
			} else {
				if peer.state == tcpSynSent {
					peer.setState(tcpEstablished)
				}
				e.setState(tcpEstablished)
			}
		}
		if fin {
			e.setState(tcpClosed)
		}
		if rst {
			e.setState(tcpReset)
		}
		if e.state == tcpInactive {
			switch {
			case !orig && n == 0 && c.ep[0].state == tcpSynSent:
				// An ACK of the SYN before the SYN-ACK: not yet partial.
			case ack && peer.state == tcpEstablished:
				// The SYN was missed but the SYN-ACK was seen.
				e.setState(tcpEstablished)
			default:
				e.setState(tcpPartial)
			}
		}
	case tcpSynSent, tcpSynAckSent:
		if fin {
			e.setState(tcpClosed)
		}
		if rst {
			e.setState(tcpReset)
		}
	case tcpEstablished, tcpPartial:
		if syn && e.state == tcpPartial && peer.state == tcpInactive && !ack {
			e.setState(tcpSynSent)
		}
		if fin && !rst {
			e.setState(tcpClosed)
			if peer.state == tcpReset && peer.prev == tcpClosed {
				// The peer sent FIN then RST: a normal close after all.
				peer.setState(tcpClosed)
			}
		}
		if rst {
			e.setState(tcpReset)
		}
	case tcpClosed:
		if rst && peer.state != tcpClosed {
			e.setState(tcpReset)
		}
	case tcpReset:
	}
}

// tcpConnState is Zeek's conn_state for a TCP connection.
func (c *conn) tcpConnState() string {
	o, r := &c.ep[0], &c.ep[1]
	os, rs := o.state, r.state
	oInactive := os == tcpInactive || os == tcpPartial
	rInactive := rs == tcpInactive || rs == tcpPartial
	switch {
	case rs == tcpReset:
		if os == tcpSynSent || os == tcpSynAckSent ||
			(os == tcpReset && o.size(r) == 0 && r.size(o) == 0) {
			return "REJ"
		}
		if oInactive {
			return "RSTRH"
		}
		return "RSTR"
	case os == tcpReset:
		if rInactive {
			if c.historyMatchesRSTOS0() {
				return "RSTOS0"
			}
			return "OTH"
		}
		return "RSTO"
	case rs == tcpClosed && os == tcpClosed:
		return "SF"
	case os == tcpClosed:
		if rInactive {
			return "SH"
		}
		return "S2"
	case rs == tcpClosed:
		if oInactive {
			return "SHR"
		}
		return "S3"
	case os == tcpSynSent && rs == tcpInactive:
		return "S0"
	case os == tcpEstablished && rs == tcpEstablished:
		return "S1"
	}
	return "OTH"
}

// historyMatchesRSTOS0 is Zeek's /^\^?S[^HAFGIQ]*R.*/ test on the history:
// the originator's SYN, then no SYN-ACK, pure ACK, FIN, gap or odd flags from
// the originator before its RST.
func (c *conn) historyMatchesRSTOS0() bool {
	h := c.hist[:c.histLen]
	if len(h) > 0 && h[0] == '^' {
		h = h[1:]
	}
	if len(h) == 0 || h[0] != 'S' {
		return false
	}
	for _, b := range h[1:] {
		switch b {
		case 'H', 'A', 'F', 'G', 'I', 'Q':
			return false
		case 'R':
			return true
		}
	}
	return false
}

// tcpClosedOut says whether the connection is over: both sides sent a FIN,
// or either sent a RST.
func (c *conn) tcpClosedOut() bool {
	o, r := c.ep[0].state, c.ep[1].state
	return o == tcpReset || r == tcpReset || (o == tcpClosed && r == tcpClosed)
}
