package infer

import (
	"math"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// pilotConn is one connection of a made-up pilot: at seconds after the
// start, for dur seconds.
type pilotConn struct {
	client, server string
	proto          uint8
	port           uint16
	at, dur        float64
	outcome        flow.Outcome
}

// pilotServices folds connections into services as the tracker does:
// the audit's services (what Infer scores) and the flow services with
// their spans (Options.Flows).
func pilotServices(conns []pilotConn) ([]audit.Service, []flow.Service) {
	base := time.Date(2025, 3, 11, 8, 30, 0, 0, time.UTC)
	sec := func(s float64) time.Time { return base.Add(time.Duration(s * float64(time.Second))) }
	var fs []flow.Service
	for _, c := range conns {
		k := flow.ServiceKey{Client: netip.MustParseAddr(c.client), Server: netip.MustParseAddr(c.server), Proto: c.proto, Port: c.port}
		i := slices.IndexFunc(fs, func(s flow.Service) bool { return s.ServiceKey == k })
		if i < 0 {
			fs = append(fs, flow.Service{ServiceKey: k, First: sec(c.at), Last: sec(c.at + c.dur)})
			i = len(fs) - 1
		}
		s := &fs[i]
		s.Connections++
		if c.outcome == flow.Established {
			s.Established++
		} else {
			s.Unanswered++
		}
		if sec(c.at).Before(s.First) {
			s.First = sec(c.at)
		}
		if sec(c.at + c.dur).After(s.Last) {
			s.Last = sec(c.at + c.dur)
		}
		s.Spans = append(s.Spans, flow.Span{Start: sec(c.at).UnixNano(), End: sec(c.at + c.dur).UnixNano(), Outcome: c.outcome})
	}
	as := make([]audit.Service, len(fs))
	for i, s := range fs {
		as[i] = audit.Service{Client: s.Client, Server: s.Server, Proto: s.Proto, Port: s.Port, Connections: int(s.Connections),
			Established: int(s.Established), Unanswered: int(s.Unanswered), FirstSeen: s.First, LastSeen: s.Last, FirstFrame: t0}
	}
	return as, fs
}

// horizonDMZ is a small Horizon pilot with a UAG: the front address
// 203.0.113.10 answers two remote users; the inside address 10.0.9.20
// logs in to the Connection Server 0.3 s after a user's login to the
// UAG, and opens Blast to an agent 0.4 s after the user's Blast to the
// UAG. An internal client uses the Connection Server and agents directly.
var horizonDMZ = []pilotConn{
	{"10.0.0.9", "10.0.0.5", 17, 53, 0, 0.01, flow.Established},    // the capture starts
	{"10.0.3.21", "10.0.1.10", 6, 4002, 1, 2, flow.Established},    // agents' JMS
	{"10.0.3.22", "10.0.1.10", 6, 4002, 2, 2, flow.Established},    //
	{"10.0.2.51", "10.0.1.10", 6, 443, 10, 0.5, flow.Established},  // internal client
	{"10.0.2.51", "10.0.3.21", 6, 22443, 12, 5, flow.Established},  //
	{"10.0.2.51", "10.0.3.21", 17, 4172, 18, 5, flow.Established},  //
	{"10.0.1.10", "10.0.0.30", 6, 443, 20, 1, flow.Established},    // vCenter
	{"10.0.1.10", "10.0.0.5", 6, 389, 21, 1, flow.Established},     // directory
	{"10.0.1.10", "10.0.0.5", 6, 88, 22, 1, flow.Established},      //
	{"10.0.1.10", "10.0.0.40", 6, 1433, 23, 1, flow.Established},   // event database
	{"10.0.1.10", "10.0.0.5", 17, 123, 24, 0.01, flow.Established}, // time
	{"10.0.1.10", "10.0.3.21", 6, 22443, 25, 1, flow.Established},  // tunnelled Blast
	{"10.0.2.52", "10.0.1.10", 6, 443, 30, 0.5, flow.Established},  // another internal client
	{"10.0.2.52", "10.0.3.22", 6, 4172, 31, 5, flow.Established},   //
	{"203.0.113.140", "203.0.113.10", 6, 443, 60, 0.5, flow.Established},
	{"10.0.9.20", "10.0.1.10", 6, 443, 60.3, 0.7, flow.Established}, // inside: login
	{"203.0.113.140", "203.0.113.10", 6, 8443, 62, 2, flow.Established},
	{"10.0.9.20", "10.0.3.22", 6, 22443, 62.4, 2, flow.Established}, // inside: Blast
	{"203.0.113.171", "203.0.113.10", 6, 443, 80, 0.2, flow.Established},
	{"203.0.113.171", "203.0.113.10", 6, 4172, 82, 3, flow.Unanswered},
	{"10.0.9.20", "10.0.0.5", 17, 123, 100, 0.01, flow.Established}, // inside: time
	{"10.0.0.9", "10.0.0.5", 17, 53, 300, 0.01, flow.Established},   // the capture ends
}

// with returns base with conns added and the connections matching drop
// removed.
func with(base []pilotConn, drop func(pilotConn) bool, conns ...pilotConn) []pilotConn {
	out := slices.Clone(base)
	if drop != nil {
		out = slices.DeleteFunc(out, drop)
	}
	return append(out, conns...)
}

func TestInsideAddress(t *testing.T) {
	m := builtinModel(t)
	inside := func(c pilotConn) bool { return c.client == "10.0.9.20" }
	// A busy front: a remote user's connection starting every 0.8 s for
	// the whole capture, so anything follows one.
	var busy []pilotConn
	for s := 0.5; s < 300; s += 0.8 {
		busy = append(busy, pilotConn{"203.0.113.200", "203.0.113.10", 6, 8443, s, 1, flow.Established})
	}
	for _, c := range []struct {
		name  string
		conns []pilotConn
		tied  []string // the front's addresses, or nil: 203.0.113.10 alone
		how   string   // TiedBy holds it
	}{
		{name: "inside address follows the users", conns: horizonDMZ, tied: []string{"203.0.113.10", "10.0.9.20"},
			how: "10.0.9.20 is the inside address of 203.0.113.10, tied by forwarding: 2 of 2 of its connections to the servers behind it " +
				"(Horizon Agent, Horizon Connection Server) started within 400 ms after a client's connection to 203.0.113.10 began, " +
				"while that was open (by chance: p < 0.0001); 2 of the 3 clients' connections it could pass on were followed"},
		{name: "a third connection that follows nothing",
			conns: with(horizonDMZ, nil, pilotConn{"10.0.9.20", "10.0.1.10", 6, 443, 200, 0.5, flow.Established}),
			tied:  []string{"203.0.113.10", "10.0.9.20"}, how: "2 of 3 of its connections"},
		{name: "one connection follows",
			conns: with(horizonDMZ, func(c pilotConn) bool { return inside(c) && c.port == 22443 })},
		{name: "the client's connection had closed",
			conns: with(horizonDMZ, func(c pilotConn) bool { return c.client == "203.0.113.140" },
				pilotConn{"203.0.113.140", "203.0.113.10", 6, 443, 60, 0.1, flow.Established},
				pilotConn{"203.0.113.140", "203.0.113.10", 6, 8443, 62, 0.2, flow.Established})},
		{name: "more than a second later",
			conns: with(horizonDMZ, inside,
				pilotConn{"10.0.9.20", "10.0.1.10", 6, 443, 61.2, 0.7, flow.Established},
				pilotConn{"10.0.9.20", "10.0.3.22", 6, 22443, 63.1, 2, flow.Established})},
		{name: "unanswered client connections are not passed on",
			conns: with(horizonDMZ, func(c pilotConn) bool { return inside(c) && c.port == 22443 },
				pilotConn{"10.0.9.20", "10.0.3.22", 6, 22443, 82.4, 2, flow.Established})},
		{name: "busy front: as likely by chance", conns: with(horizonDMZ, nil, busy...)},
		{name: "follows few of the clients",
			conns: with(horizonDMZ, nil,
				pilotConn{"203.0.113.172", "203.0.113.10", 6, 443, 150, 0.5, flow.Established},
				pilotConn{"203.0.113.173", "203.0.113.10", 6, 443, 160, 0.5, flow.Established},
				pilotConn{"203.0.113.174", "203.0.113.10", 6, 443, 170, 0.5, flow.Established})},
		{name: "two addresses follow: not unique",
			conns: with(horizonDMZ, nil,
				pilotConn{"10.0.9.21", "10.0.1.10", 6, 443, 60.35, 0.7, flow.Established},
				pilotConn{"10.0.9.21", "10.0.3.21", 6, 22443, 62.45, 2, flow.Established})},
		{name: "the address answers a documented service",
			conns: with(horizonDMZ, nil, pilotConn{"10.0.2.51", "10.0.9.20", 6, 4172, 150, 1, flow.Established})},
		{name: "the address calls the front",
			conns: with(horizonDMZ, nil, pilotConn{"10.0.9.20", "203.0.113.10", 6, 443, 150, 1, flow.Established})},
		{name: "the address calls what no front's caller does",
			conns: with(horizonDMZ, nil, pilotConn{"10.0.9.20", "10.0.1.10", 6, 4002, 150, 1, flow.Established})},
		{name: "the front calls the servers itself",
			conns: with(horizonDMZ, nil, pilotConn{"203.0.113.10", "10.0.1.10", 6, 443, 150, 1, flow.Established})},
		// A limit, kept so a change shows: an internal Horizon Client that
		// logs in and opens Blast each within a second after a remote
		// user did, with no inside address in the capture, is taken for
		// the UAG's inside address.
		{name: "limit: an internal client twice right after a remote user",
			conns: with(horizonDMZ, inside,
				pilotConn{"10.0.2.52", "10.0.1.10", 6, 443, 60.3, 0.7, flow.Established},
				pilotConn{"10.0.2.52", "10.0.3.22", 6, 22443, 62.4, 2, flow.Established}),
			tied: []string{"203.0.113.10", "10.0.2.52"}, how: "10.0.2.52 is the inside address of 203.0.113.10"},
	} {
		t.Run(c.name, func(t *testing.T) {
			services, flows := pilotServices(c.conns)
			hosts := InferAll(services, m, Options{Flows: flows}).Hosts
			var front *Host
			for _, h := range hosts {
				if h.Addr == netip.MustParseAddr("203.0.113.10") {
					front = h
				}
			}
			if front == nil || len(front.Roles) == 0 || front.Roles[0].Role.ID != "horizon-uag" {
				t.Fatalf("203.0.113.10 is not proposed as the UAG: %+v", front)
			}
			want := c.tied
			if want == nil {
				want = []string{"203.0.113.10"}
			}
			if got := addrStrings(front.AllAddrs()); !slices.Equal(got, want) {
				t.Errorf("front addresses %v, want %v (%s)", got, want, front.TiedBy)
			}
			if !strings.Contains(front.TiedBy, c.how) {
				t.Errorf("tied by %q, want %q in it", front.TiedBy, c.how)
			}
			for _, h := range hosts {
				if h != front && slices.ContainsFunc(h.AllAddrs(), func(a netip.Addr) bool { return slices.Contains(front.AllAddrs(), a) }) {
					t.Errorf("%s is still a host of its own", h.Addr)
				}
			}
			if len(c.tied) > 0 {
				if !front.Forwarding {
					t.Error("a front with its inside address is not seen forwarding")
				}
				// The roles still explain what they explained: the front's
				// answered services, not the inside address's calls.
				for _, oi := range front.Roles[0].Explains {
					if o := front.Observations[oi]; o.Dir != Answered {
						t.Errorf("the UAG explains %s %s", o.Dir, o.Service())
					}
				}
				if len(front.Unexplained()) == 0 {
					t.Error("the inside address's calls are not listed as unexplained")
				}
			}
		})
	}
}

// TestInsideAddressNeedsFlows: without the connections' spans nothing is
// tied by forwarding.
func TestInsideAddressNeedsFlows(t *testing.T) {
	services, _ := pilotServices(horizonDMZ)
	for _, h := range InferAll(services, builtinModel(t), Options{}).Hosts {
		if len(h.AllAddrs()) > 1 {
			t.Errorf("%v tied without spans: %s", h.AllAddrs(), h.TiedBy)
		}
	}
}

func TestBinomialTail(t *testing.T) {
	for _, c := range []struct {
		n, k int
		p    float64
		want float64
	}{
		{3, 0, 0.5, 1},
		{3, 4, 0.5, 0},
		{3, 3, 0.5, 0.125},
		{3, 2, 0.5, 0.5},
		{3, 2, 0.1, 3*0.01*0.9 + 0.001},
		{10, 1, 0, 0},
		{10, 1, 1, 1},
		{1000, 500, 0.5, 0.5 + 0.5*0.025225018178360804}, // half of P(X=500) on top of the symmetric half
	} {
		if got := binomialTail(c.n, c.k, c.p); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("P(X >= %d | n=%d, p=%v) = %v, want %v", c.k, c.n, c.p, got, c.want)
		}
	}
}

func TestCoverageAndFollows(t *testing.T) {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return base.Add(time.Duration(s * float64(time.Second))) }
	ws := []window{{at(0), at(1)}, {at(0.5), at(1.2)}, {at(3), at(3.1)}, {at(10), at(11)}}
	if got := coverage(ws); got != 2300*time.Millisecond {
		t.Errorf("coverage %v, want 2.3s", got)
	}
	for _, c := range []struct {
		at  float64
		lag time.Duration
		ok  bool
	}{
		{0, 0, true}, {0.7, 200 * time.Millisecond, true}, {1.1, 600 * time.Millisecond, true},
		{1.3, 0, false}, {3.05, 50 * time.Millisecond, true}, {3.2, 0, false}, {-1, 0, false}, {12, 0, false},
	} {
		lag, ok := follows(ws, at(c.at))
		if ok != c.ok || ok && (lag-c.lag).Abs() > time.Microsecond {
			t.Errorf("follows(%v) = %v, %v; want %v, %v", c.at, lag, ok, c.lag, c.ok)
		}
	}
}
