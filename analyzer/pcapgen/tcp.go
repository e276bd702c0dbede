package pcapgen

import (
	"net/netip"
	"time"
)

// TCP flag bits.
const (
	flagFIN uint8 = 0x01
	flagSYN uint8 = 0x02
	flagRST uint8 = 0x04
	flagPSH uint8 = 0x08
	flagACK uint8 = 0x10
)

// Open says how a TCP session starts, as seen by the capture.
type Open uint8

// TCP opening variants.
const (
	OpenNormal     Open = iota // SYN, SYN-ACK, ACK
	OpenRefused                // SYN answered by RST-ACK (REJ)
	OpenUnanswered             // SYN and its retransmissions, no answer (S0)
	OpenProhibited             // each SYN answered by ICMP administratively prohibited (TCPOpts.From)
	OpenSynAckOnly             // the SYN is not captured: SYN-ACK first (asymmetric routing)
	OpenMidStream              // the capture starts after the handshake
)

// Close says how a TCP session ends.
type Close uint8

// TCP closing variants.
const (
	CloseFIN      Close = iota // originator FIN, responder FIN-ACK, final ACK
	CloseFINResp               // responder FIN first, then the originator's FIN
	CloseRST                   // the originator aborts with RST
	CloseRSTResp               // the responder aborts with RST
	CloseNone                  // still open when the capture ends
	CloseHalfOrig              // originator FIN, the responder only acknowledges it
	CloseHalfResp              // responder FIN, the originator only acknowledges it
)

// TCPOpts describes a TCP session. The zero value is one 300-byte request
// and a 1200-byte response, opened and closed normally.
type TCPOpts struct {
	Open  Open
	Close Close

	Exchanges         int // request/response pairs; 0 means 1
	Request, Response int // bytes per request and per response; 0 means 300 / 1200, negative means none

	// ServerFirst, with OpenMidStream, starts the capture inside a response,
	// so the first captured packet is data from the responder.
	ServerFirst bool

	RTT     time.Duration // round trip; 0 draws 1-40 ms
	Think   time.Duration // gap between exchanges; 0 draws 5-500 ms
	Retries int           // SYN retransmissions for OpenUnanswered/OpenProhibited; 0 means 2
	From    netip.Addr    // source of the ICMP error for OpenProhibited; zero means the responder

	// Data, when set, is the client's first request (Request is then its
	// length) and ReplyData the server's first response; Segment, when
	// set, is the largest segment the request is sent in (to split a TLS
	// ClientHello over several segments).
	Data, ReplyData []byte
	Segment         int

	Path Path
	Note string // free text carried into the capture description
}

// TCP adds a TCP session from client to server whose first packet is at
// offset at. Use Client for a realistic ephemeral client port.
func (s *Scenario) TCP(at time.Duration, client, server netip.AddrPort, o TCPOpts) {
	s.add(s.tcpFlow(at, client, server, o))
}

func (g *gen) rtt() time.Duration {
	// mostly LAN/WAN-like 1-40 ms, log-uniform-ish
	ms := 1 + g.rng.ExpFloat64()*8
	if ms > 40 {
		ms = 40
	}
	return time.Duration(ms*1e6) + time.Duration(g.rng.IntN(1000))
}

// gap is a short, jittered delay between back-to-back segments.
func (g *gen) gap(base time.Duration) time.Duration {
	return base + time.Duration(g.rng.IntN(int(base)+1))
}

func (g *gen) tcpFlow(at time.Duration, c, srv netip.AddrPort, o TCPOpts) *flow {
	f := g.newFlow(6, c, srv, o.Path, false)
	if f == nil {
		return nil
	}
	f.note = o.Note
	f.errFrom = o.From
	rtt := o.RTT
	if rtt <= 0 {
		rtt = g.rtt()
	}
	mss := f.mss()
	isnC, isnS := g.rng.Uint32(), g.rng.Uint32()
	const winC, winS = 1026, 2053
	add := func(t time.Duration, rev bool, flags uint8, seq, ack uint32, n int, win uint16) {
		f.steps = append(f.steps, step{at: t, kind: sTCP, rev: rev, flags: flags, seq: seq, ack: ack, n: uint32(n), win: win})
	}
	t := at
	retries := o.Retries
	if retries <= 0 {
		retries = 2
	}
	cseq, sseq := isnC+1, isnS+1
	switch o.Open {
	case OpenRefused:
		add(t, false, flagSYN, isnC, 0, 0, 64240)
		add(t+rtt, true, flagRST|flagACK, 0, isnC+1, 0, 0)
		f.state = "REJ"
		return f
	case OpenUnanswered, OpenProhibited:
		back := time.Second
		for i := 0; i <= retries; i++ {
			if i > 0 {
				t += back
				back *= 2
			}
			add(t, false, flagSYN, isnC, 0, 0, 64240)
			if o.Open == OpenProhibited {
				f.steps = append(f.steps, step{at: t + rtt/2, kind: sICMPError, rev: true, code: icmpProhibited, x: uint32(len(f.steps) - 1)})
			}
		}
		f.state = "S0"
		if o.Open == OpenProhibited {
			return f
		}
		switch o.Close {
		case CloseRST:
			add(t+g.gap(time.Second), false, flagRST, cseq, 0, 0, 0)
			f.state = "RSTOS0"
		case CloseHalfOrig:
			add(t+g.gap(time.Second), false, flagFIN, cseq, 0, 0, 64240)
			f.state = "SH"
		}
		return f
	case OpenSynAckOnly:
		add(t, true, flagSYN|flagACK, isnS, isnC+1, 0, 65535)
		f.state = "OTH"
		switch o.Close {
		case CloseRSTResp:
			add(t+g.gap(200*time.Millisecond), true, flagRST, sseq, 0, 0, 0)
			f.state = "RSTRH"
		case CloseHalfResp:
			add(t+g.gap(200*time.Millisecond), true, flagFIN|flagACK, sseq, isnC+1, 0, winS)
			f.state = "SHR"
		}
		return f
	case OpenMidStream:
		// sequence numbers somewhere inside an established session
	default:
		add(t, false, flagSYN, isnC, 0, 0, 64240)
		add(t+rtt, true, flagSYN|flagACK, isnS, isnC+1, 0, 65535)
		t += rtt + g.gap(40*time.Microsecond)
		add(t, false, flagACK, cseq, sseq, 0, winC)
	}

	ex := o.Exchanges
	if ex <= 0 {
		ex = 1
	}
	req, resp := o.Request, o.Response
	if req == 0 {
		req = 300
	}
	if resp == 0 {
		resp = 1200
	}
	if o.Data != nil {
		req, f.reqData, f.reqSeq0 = len(o.Data), o.Data, cseq
	}
	if o.ReplyData != nil {
		resp, f.respData, f.respSeq0 = len(o.ReplyData), o.ReplyData, sseq
	}
	firstData := len(f.steps)
	for i := 0; i < ex; i++ {
		if i > 0 || o.Open != OpenMidStream {
			t += g.gap(100 * time.Microsecond)
		}
		// request, client to server, back to back
		for left := req; left > 0; {
			n := min(left, mss)
			if o.Segment > 0 {
				n = min(n, o.Segment)
			}
			left -= n
			fl := flagACK
			if left == 0 {
				fl |= flagPSH
			}
			add(t, false, fl, cseq, sseq, n, winC)
			cseq += uint32(n)
			if left > 0 {
				t += g.gap(15 * time.Microsecond)
			}
		}
		proc := time.Duration(200+g.rng.IntN(8000)) * time.Microsecond
		tr := t + rtt + proc
		if req > 0 && (resp <= 0 || proc > 2*time.Millisecond) {
			add(t+rtt, true, flagACK, sseq, cseq, 0, winS)
		}
		// response, server to client, arriving spaced by the bottleneck
		segs := 0
		for left := resp; left > 0; {
			n := min(left, mss)
			left -= n
			fl := flagACK
			if left == 0 {
				fl |= flagPSH
			}
			add(tr, true, fl, sseq, cseq, n, winS)
			sseq += uint32(n)
			segs++
			if segs%2 == 0 || left == 0 {
				add(tr+g.gap(30*time.Microsecond), false, flagACK, cseq, sseq, 0, winC)
			}
			if left > 0 {
				tr += g.gap(12 * time.Microsecond)
			}
		}
		if resp > 0 {
			t = tr + 40*time.Microsecond
		} else {
			t += rtt
		}
		if i < ex-1 {
			think := o.Think
			if think <= 0 {
				think = time.Duration(5+g.rng.IntN(495)) * time.Millisecond
			}
			t += think
		}
	}
	if o.Open == OpenMidStream && o.ServerFirst {
		f.finish()
		i := firstData
		for i < len(f.steps) && !(f.steps[i].rev && f.steps[i].n > 0) {
			i++
		}
		f.steps = append(f.steps[:firstData], f.steps[i:]...)
	}

	t += g.gap(time.Millisecond)
	d := g.gap(50 * time.Microsecond)
	switch o.Close {
	case CloseFIN:
		add(t, false, flagFIN|flagACK, cseq, sseq, 0, winC)
		add(t+rtt, true, flagFIN|flagACK, sseq, cseq+1, 0, winS)
		add(t+rtt+d, false, flagACK, cseq+1, sseq+1, 0, winC)
	case CloseFINResp:
		add(t, true, flagFIN|flagACK, sseq, cseq, 0, winS)
		add(t+d, false, flagFIN|flagACK, cseq, sseq+1, 0, winC)
		add(t+d+rtt, true, flagACK, sseq+1, cseq+1, 0, winS)
	case CloseRST:
		add(t, false, flagRST|flagACK, cseq, sseq, 0, 0)
	case CloseRSTResp:
		add(t, true, flagRST|flagACK, sseq, cseq, 0, 0)
	case CloseHalfOrig:
		add(t, false, flagFIN|flagACK, cseq, sseq, 0, winC)
		add(t+rtt, true, flagACK, sseq, cseq+1, 0, winS)
	case CloseHalfResp:
		add(t, true, flagFIN|flagACK, sseq, cseq, 0, winS)
		add(t+d, false, flagACK, cseq, sseq+1, 0, winC)
	}
	f.state = tcpState(o.Open == OpenMidStream, o.Close)
	return f
}

// tcpState is Zeek's conn_state for a session that was established (or
// joined mid-stream, whose endpoints Zeek counts as inactive) and then
// closed as c says.
func tcpState(mid bool, c Close) string {
	switch c {
	case CloseFIN, CloseFINResp:
		return "SF"
	case CloseRST:
		if mid {
			return "RSTOS0"
		}
		return "RSTO"
	case CloseRSTResp:
		if mid {
			return "RSTRH"
		}
		return "RSTR"
	case CloseHalfOrig:
		if mid {
			return "SH"
		}
		return "S2"
	case CloseHalfResp:
		if mid {
			return "SHR"
		}
		return "S3"
	}
	if mid {
		return "OTH"
	}
	return "S1"
}

// mss is the TCP maximum segment size that fits the path's MTU of 1500.
func (f *flow) mss() int {
	m := 1460
	if !f.orig.Addr().Is4() {
		m -= 20
	}
	p := &f.path
	if p.PPPoE != 0 {
		m -= 8
	}
	switch p.Tunnel.Kind {
	case TunnelVXLAN, TunnelGENEVE:
		m -= 50
	case TunnelGRE:
		m -= 24
	case TunnelERSPAN:
		m -= 50
	case TunnelIPinIP:
		m -= 20
	}
	if p.Tunnel.Kind != TunnelNone && !p.Tunnel.Src.Is4() {
		m -= 20
	}
	if p.IPv6Ext&ExtHopByHop != 0 {
		m -= 8
	}
	if p.IPv6Ext&ExtDestOpts != 0 {
		m -= 8
	}
	return m
}
