package flow

import (
	"testing"
)

// step is one scripted TCP segment: from the client or the server.
type step struct {
	client bool
	flags  string
	n      int
}

func C(flags string, n int) step { return step{true, flags, n} }
func S(flags string, n int) step { return step{false, flags, n} }

var handshake = []step{C("S", 0), S("SA", 0), C("A", 0)}

func with(parts ...[]step) []step {
	var out []step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestTCPStates(t *testing.T) {
	tests := []struct {
		name       string
		steps      []step
		state      string
		history    string
		outcome    Outcome
		origBytes  uint64
		respBytes  uint64
		origPkts   uint64
		respPkts   uint64
		clientBy   ClientBy
		clientPort uint16 // expected Orig port (0: the session's client port 50000)
	}{
		{name: "SF normal close",
			steps: with(handshake, []step{C("PA", 10), S("A", 0), S("PA", 20), C("A", 0), C("FA", 0), S("FA", 0), C("A", 0)}),
			state: "SF", history: "ShADadFf", outcome: Established, origBytes: 10, respBytes: 20, origPkts: 6, respPkts: 4},
		{name: "S0 unanswered SYN",
			steps: []step{C("S", 0)}, state: "S0", history: "S", outcome: Unanswered, origPkts: 1},
		{name: "S0 retransmitted SYN keeps one letter",
			steps: []step{C("S", 0), {client: true, flags: "resend-S"}}, state: "S0", history: "S", outcome: Unanswered, origPkts: 2},
		{name: "REJ SYN answered by RST",
			steps: []step{C("S", 0), S("RA", 0)}, state: "REJ", history: "Sr", outcome: Rejected, origPkts: 1, respPkts: 1},
		{name: "S1 established not closed",
			steps: with(handshake, []step{C("PA", 5), S("PA", 7)}),
			state: "S1", history: "ShADd", outcome: Established, origBytes: 5, respBytes: 7, origPkts: 3, respPkts: 2},
		{name: "S2 originator close only",
			steps: with(handshake, []step{C("FA", 0)}), state: "S2", history: "ShAF", outcome: Established, origPkts: 3, respPkts: 1},
		{name: "S3 responder close only",
			steps: with(handshake, []step{S("FA", 0)}), state: "S3", history: "ShAf", outcome: Established, origPkts: 2, respPkts: 2},
		{name: "RSTO originator aborts",
			steps: with(handshake, []step{C("PA", 3), C("RA", 0)}), state: "RSTO", history: "ShADR", outcome: Established, origBytes: 3, origPkts: 4, respPkts: 1},
		{name: "RSTR responder aborts",
			steps: with(handshake, []step{C("PA", 3), S("RA", 0)}), state: "RSTR", history: "ShADr", outcome: Established, origBytes: 3, origPkts: 3, respPkts: 2},
		{name: "RSTOS0 SYN then own RST",
			steps: []step{C("S", 0), C("R", 0)}, state: "RSTOS0", history: "SR", outcome: Unanswered, origPkts: 2},
		{name: "RSTRH SYN-ACK then RST, no SYN seen",
			steps: []step{S("SA", 0), S("R", 0)}, state: "RSTRH", history: "^hr", outcome: Partial, respPkts: 2, clientBy: BySYNACK},
		{name: "SH SYN then FIN",
			steps: []step{C("S", 0), C("F", 0)}, state: "SH", history: "SF", outcome: Unanswered, origPkts: 2},
		{name: "SHR SYN-ACK then FIN",
			steps: []step{S("SA", 0), S("FA", 0)}, state: "SHR", history: "^hf", outcome: Partial, respPkts: 2, clientBy: BySYNACK},
		{name: "OTH mid-stream both ways",
			steps: []step{C("PA", 10), S("PA", 20), C("A", 0)}, state: "OTH", history: "DdA", outcome: Established,
			origBytes: 10, respBytes: 20, origPkts: 2, respPkts: 1, clientBy: ByWellKnown},
		{name: "mid-stream starting at the server is flipped",
			steps: []step{S("PA", 20), C("A", 0)}, state: "OTH", history: "^dA", outcome: Partial,
			respBytes: 20, origPkts: 1, respPkts: 1, clientBy: ByWellKnown},
		{name: "SYN scan of an open port",
			steps: []step{C("S", 0), S("SA", 0), C("R", 0)}, state: "RSTO", history: "ShR", outcome: Partial, origPkts: 2, respPkts: 1},
		{name: "retransmitted data",
			steps: with(handshake, []step{C("PA", 10), {client: true, flags: "resend-PA", n: 10}, S("A", 0)}),
			state: "S1", history: "ShADTa", outcome: Established, origBytes: 10, origPkts: 4, respPkts: 2},
		{name: "FIN+RST is inconsistent, SYN+FIN multi-flag",
			steps: []step{C("S", 0), S("SA", 0), C("A", 0), C("FRA", 0), S("SFA", 0)},
			state: "RSTO", history: "ShAIq", outcome: Established, origPkts: 3, respPkts: 2},
		{name: "handshake completed by a data segment",
			steps: []step{C("S", 0), S("SA", 0), C("PA", 4), S("PA", 4)}, state: "S1", history: "ShDd", outcome: Established,
			origBytes: 4, respBytes: 4, origPkts: 2, respPkts: 2},
		{name: "FIN then RST, then the peer's FIN, is a normal close",
			steps: with(handshake, []step{C("FA", 0), C("R", 0), S("FA", 0)}), state: "SF", history: "ShAFRf", outcome: Established,
			origPkts: 4, respPkts: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(t, Config{})
			for _, st := range tc.steps {
				switch st.flags {
				case "resend-S", "resend-PA":
					p := s.lastPkt
					p.PayloadLen = st.n
					s.feed(p)
				default:
					s.tcp(st.client, st.flags, st.n)
				}
			}
			c := s.one()
			if c.State != tc.state || c.History != tc.history || c.Outcome != tc.outcome {
				t.Errorf("state %s history %q outcome %s, want %s %q %s", c.State, c.History, c.Outcome, tc.state, tc.history, tc.outcome)
			}
			if c.OrigBytes != tc.origBytes || c.RespBytes != tc.respBytes {
				t.Errorf("bytes %d/%d, want %d/%d", c.OrigBytes, c.RespBytes, tc.origBytes, tc.respBytes)
			}
			if c.OrigPkts != tc.origPkts || c.RespPkts != tc.respPkts {
				t.Errorf("packets %d/%d, want %d/%d", c.OrigPkts, c.RespPkts, tc.origPkts, tc.respPkts)
			}
			if c.ClientBy != tc.clientBy {
				t.Errorf("client_by %s, want %s", c.ClientBy, tc.clientBy)
			}
			if c.Orig != hostC || c.OrigPort != 50000 || c.Resp != hostS || c.RespPort != 443 {
				t.Errorf("orientation %s:%d -> %s:%d, want client %s:50000", c.Orig, c.OrigPort, c.Resp, c.RespPort, hostC)
			}
			wantIP := c.OrigPkts*40 + c.OrigBytes
			if tc.name == "retransmitted data" {
				wantIP += 10
			}
			if c.OrigIPBytes != wantIP {
				t.Errorf("orig_ip_bytes %d, want %d", c.OrigIPBytes, wantIP)
			}
		})
	}
}

// TestTCPBytesAcrossWrap checks the sequence-number byte count when the
// sequence space wraps around 2^32.
func TestTCPBytesAcrossWrap(t *testing.T) {
	s := newSession(t, Config{})
	s.next = [2]uint32{1<<32 - 100, 7}
	for _, st := range handshake {
		s.tcp(st.client, st.flags, st.n)
	}
	for range 5 {
		s.c("PA", 1000)
		s.s("A", 0)
	}
	s.c("FA", 0)
	s.s("FA", 0)
	c := s.one()
	if c.OrigBytes != 5000 || c.State != "SF" {
		t.Fatalf("orig_bytes %d state %s, want 5000 SF", c.OrigBytes, c.State)
	}
}

func TestZeroWindowHistory(t *testing.T) {
	s := newSession(t, Config{})
	for _, st := range handshake {
		s.tcp(st.client, st.flags, st.n)
	}
	s.window = 0
	for range 12 {
		s.s("A", 0)
	}
	c := s.one()
	// The responder's first pure ACK "a", then its 1st and 10th zero window.
	if c.History != "ShAaww" {
		t.Fatalf("history %q, want ShAaww", c.History)
	}
}
