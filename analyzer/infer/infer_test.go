package infer

import (
	"flag"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/catalog"
)

// update is accepted so that `go test ./... -update`, which refreshes the
// golden files of other packages, runs here too; this package has none.
var _ = flag.Bool("update", false, "rewrite golden files (none in this package)")

// A catalog small enough to weigh by hand. Eight plain roles document
// something (T All is a group, so its rules count for its members): N = 8.
// T Directory is shared infrastructure: calls to what it answers are not
// held against a role that does not document them.
const testCatalog = `
roles:
  - {id: t-client, name: T Client, product: custom}
  - {id: t-broker, name: T Broker, product: custom}
  - {id: t-agent, name: T Agent, product: custom}
  - {id: t-db, name: T Database, product: custom}
  - {id: t-web, name: T Web, product: custom}
  - {id: t-portal, name: T Portal, product: custom}
  - id: t-gw
    name: T Gateway
    product: custom
    modes:
      - {id: normal, name: Normal mode}
      - {id: forwarding, name: Forwarding mode}
  - {id: t-all, name: T All, product: custom, members: [t-broker, t-agent]}
  - {id: t-dir, name: T Directory, product: shared}
rules:
  - {id: c-login, from: T Client, to: T Broker, protocols: [tcp], ports: 443}
  - {id: c-display, from: T Client, to: T Agent, protocols: [tcp, udp], ports: 4172}
  - {id: b-agent, from: T Broker, to: T Agent, protocols: [tcp], ports: 80, bidirectional: true}
  - {id: b-db, from: T Broker, to: T Database, protocols: [tcp], ports: 1433}
  - {id: c-web, from: T Client, to: [T Web, T Portal], protocols: [tcp], ports: 8443}
  - {id: gw-fwd, from: T Client, to: T Gateway (Forwarding mode), protocols: [tcp], ports: 20009}
  - {id: gw-norm, from: T Client, to: T Gateway (Normal mode), protocols: [tcp], ports: 20002}
  - {id: gw-plain, from: T Client, to: T Gateway, protocols: [tcp], ports: 3389}
  - {id: any-dns, from: Any, to: T Broker, protocols: [udp], ports: 53}
  - {id: all-icmp, from: T Client, to: T All, protocols: [icmp], ports: none}
  - {id: dyn, from: T Client, to: T Agent, protocols: [tcp], ports: 1024-65535, dynamic: true}
  - {id: b-dir, from: T Broker, to: T Directory, protocols: [tcp], ports: 389}
`

func testCat(t *testing.T) *catalog.Catalog {
	t.Helper()
	p := filepath.Join(t.TempDir(), "test-catalog.yaml")
	if err := os.WriteFile(p, []byte(testCatalog), 0o644); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// testModel is built from the test catalog's rules alone (the built-in
// rules are left out), every role a candidate.
func testModel(t *testing.T) *Model {
	t.Helper()
	cat := testCat(t)
	var rules []*catalog.Rule
	for _, r := range cat.Rules() {
		if r.Site {
			rules = append(rules, r)
		}
	}
	return newModel(cat.Roles(), rules, func(*catalog.Role) bool { return true })
}

func builtinModel(t testing.TB, products ...string) *Model {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return NewModel(cat, products)
}

// Weights of the test catalog, by hand. df counts the roles naming a
// protocol and range on either side of a rule:
//
//	tcp/443 client+broker, tcp/4172 and udp/4172 client+agent, tcp/80
//	broker+agent, tcp/1433 broker+database, tcp/20009, 20002, 3389
//	client+gateway, tcp/389 broker+directory, tcp/1024-65535
//	client+agent: 2 roles, ln(8/2)
//	tcp/8443 client+web+portal, icmp client+broker+agent: 3 roles, ln(8/3)
//	udp/53 broker only (Any is no role): ln 8
var (
	l1   = math.Log(8)
	l2   = math.Log(8.0 / 2)
	l3   = math.Log(8.0 / 3)
	sDyn = 1 - math.Log2(64512)/16 // specificity of 1024-65535
	// kappa is the mean weight of the 25 items some role documents: 18
	// of weight l2 (443, 4172 tcp and udp, 80, 1433, 20009, 20002, 3389,
	// 389, each answered and called), 4 of l3 (8443, icmp, both
	// directions), answered udp/53, and the dynamic range both ways.
	kappa = (18*l2 + 4*l3 + l1 + 2*sDyn*l2) / 25
	// Masses (Σ w²) of the candidates the tests score.
	massAgent  = 4*l2*l2 + l3*l3 + sDyn*sDyn*l2*l2 // answered 4172 tcp+udp, 80, icmp, dyn; called 80
	massBroker = 5*l2*l2 + l1*l1 + l3*l3           // answered 443, 80, 53, icmp; called 80, 1433, 389
)

// score is the package's formula: precision^(2/3) × recall^(1/3), where
// precision is dot over the host's mass plus kappa² and recall dot over
// the role's mass.
func score(dot, host, role float64) float64 {
	return math.Pow(dot/(host+kappa*kappa), 2.0/3) * math.Pow(dot/role, 1.0/3)
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestWeights(t *testing.T) {
	m := testModel(t)
	if m.Roles() != 8 {
		t.Fatalf("N = %d, want 8", m.Roles())
	}
	if !near(m.kappa, kappa) {
		t.Errorf("kappa = %v, want %v", m.kappa, kappa)
	}
	tests := []struct {
		name  string
		dir   Direction
		proto uint8
		port  uint16
		want  float64
	}{
		{"display port answered", Answered, 6, 4172, l2},
		{"display port called, other transport", Called, 17, 4172, l2},
		{"three roles name 8443", Answered, 6, 8443, l3},
		{"bidirectional rule: answered", Answered, 6, 80, l2},
		{"bidirectional rule: called", Called, 6, 80, l2},
		{"icmp to a group counts for its members", Answered, 1, 8, l3},
		{"from Any: only the broker names udp/53", Answered, 17, 53, l1},
		{"from Any: no role calls udp/53", Called, 17, 53, 0},
		{"a mode's port is the role's", Answered, 6, 20002, l2},
		{"dynamic range: 64512 ports pin down little", Answered, 6, 50000, l2 * sDyn},
		{"single port inside the range: the most specific item", Answered, 6, 1433, l2},
		{"a call to shared infrastructure weighs as any", Called, 6, 389, l2},
		{"undocumented port", Answered, 6, 22, 0},
		{"undocumented protocol", Answered, 47, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.Weight(tt.dir, tt.proto, tt.port); !near(got, tt.want) {
				t.Errorf("Weight(%v, %d, %d) = %v, want %v", tt.dir, tt.proto, tt.port, got, tt.want)
			}
		})
	}
}

type ev struct {
	dir   Direction
	proto uint8
	port  uint16
}

func hostOf(m *Model, evs ...ev) *Host {
	h := &Host{Addr: netip.MustParseAddr("192.0.2.99")}
	for _, e := range evs {
		h.Observations = append(h.Observations, Observation{Dir: e.dir, Proto: e.proto, Port: e.port, Weight: m.Weight(e.dir, e.proto, e.port)})
	}
	return h
}

type want struct {
	name  string
	score float64
}

func names(cs []Candidate) []want {
	out := []want{}
	for _, c := range cs {
		out = append(out, want{c.Name(), c.Score})
	}
	return out
}

func sameWants(a, b []want) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].name != b[i].name || !near(a[i].score, b[i].score) {
			return false
		}
	}
	return true
}

func TestProposeByHand(t *testing.T) {
	m := testModel(t)
	// Answering tcp/4172 also lands in the agent's dynamic range, so the
	// agent host has three items: 4172 tcp and udp (l2) and the range.
	agentDot := (2 + sDyn*sDyn) * l2 * l2
	agentScore := score(agentDot, agentDot, massAgent)
	tests := []struct {
		name     string
		opts     Options
		evs      []ev
		roles    []want
		tied     []want
		runners  []want
		explains [][]int
	}{
		{
			name:     "agent: display ports",
			evs:      []ev{{Answered, 6, 4172}, {Answered, 17, 4172}},
			roles:    []want{{"T Agent", agentScore}},
			runners:  []want{},
			explains: [][]int{{0, 1}},
		},
		{
			// The forwarding mode documents 20009 and the plain 3389; the
			// plain role adds 20002, so the mode fits better. 20009 is in
			// the agent's dynamic range too.
			name:     "a mode wins when only its ports were seen",
			evs:      []ev{{Answered, 6, 20009}},
			roles:    []want{{"T Gateway (Forwarding mode)", score(l2*l2, (1+sDyn*sDyn)*l2*l2, 2*l2*l2)}},
			runners:  []want{},
			explains: [][]int{{0}},
		},
		{
			name:  "web and portal document the same items: tied, no role",
			evs:   []ev{{Answered, 6, 8443}},
			roles: []want{},
			tied: []want{
				{"T Portal", score(l3*l3, l3*l3+sDyn*sDyn*l2*l2, l3*l3)},
				{"T Web", score(l3*l3, l3*l3+sDyn*sDyn*l2*l2, l3*l3)},
			},
			runners: []want{},
		},
		{
			// The agent explains twice the database's weight at less than
			// half its recall; the database then explains the 1433 left
			// (the agent's dynamic range holds 1433, at almost no weight).
			name: "two roles: agent, then the database for what it leaves",
			evs:  []ev{{Answered, 6, 1433}, {Answered, 6, 4172}, {Answered, 17, 4172}},
			roles: []want{
				{"T Agent", score(agentDot, agentDot+l2*l2, massAgent)},
				{"T Database", score(l2*l2, l2*l2, l2*l2)},
			},
			runners:  []want{},
			explains: [][]int{{0, 1, 2}, {0}},
		},
		{
			// The broker documents calling the directory; a call to
			// shared infrastructure is not held against the agent, and
			// it alone makes the broker no candidate.
			name:     "calls to infrastructure are free and make no role",
			evs:      []ev{{Answered, 6, 4172}, {Answered, 17, 4172}, {Called, 6, 389}},
			roles:    []want{{"T Agent", agentScore}},
			runners:  []want{},
			explains: [][]int{{0, 1}},
		},
		{
			// Answering 443 is the broker's alone; the call to
			// the directory then counts for the broker, in precision too.
			name:     "an explained call to infrastructure counts",
			evs:      []ev{{Answered, 6, 443}, {Called, 6, 389}},
			roles:    []want{{"T Broker", score(2*l2*l2, 2*l2*l2, massBroker)}},
			runners:  []want{},
			explains: [][]int{{0, 1}},
		},
		{
			// Calling 1433 is the broker's; it also lands in the client's
			// dynamic range. Both count against the agent.
			name:     "other calls count against a role that does not explain them",
			evs:      []ev{{Answered, 6, 4172}, {Answered, 17, 4172}, {Called, 6, 1433}},
			roles:    []want{{"T Agent", score(agentDot, agentDot+(1+sDyn*sDyn)*l2*l2, massAgent)}},
			runners:  []want{{"T Broker", score(l2*l2, agentDot+(1+sDyn*sDyn)*l2*l2, massBroker)}},
			explains: [][]int{{0, 1}},
		},
		{
			name:    "below min-score: no role, the candidate as runner-up",
			opts:    Options{MinScore: 0.6},
			evs:     []ev{{Answered, 17, 53}},
			roles:   []want{},
			runners: []want{{"T Broker", score(l1*l1, l1*l1, massBroker)}},
		},
		{
			name:     "at min-score: the role",
			opts:     Options{MinScore: 0.5},
			evs:      []ev{{Answered, 17, 53}},
			roles:    []want{{"T Broker", score(l1*l1, l1*l1, massBroker)}},
			runners:  []want{},
			explains: [][]int{{0}},
		},
		{
			name:    "nothing documented: nothing proposed",
			evs:     []ev{{Answered, 6, 22}, {Called, 17, 53}},
			roles:   []want{},
			runners: []want{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hostOf(m, tt.evs...)
			m.Propose(h, tt.opts)
			if got := names(h.Roles); !sameWants(got, tt.roles) {
				t.Errorf("roles = %v, want %v", got, tt.roles)
			}
			if tt.tied == nil {
				tt.tied = []want{}
			}
			if got := names(h.Tied); !sameWants(got, tt.tied) {
				t.Errorf("tied = %v, want %v", got, tt.tied)
			}
			if got := names(h.RunnersUp); !sameWants(got, tt.runners) {
				t.Errorf("runners-up = %v, want %v", got, tt.runners)
			}
			for i, ex := range tt.explains {
				if !slices.Equal(h.Roles[i].Explains, ex) {
					t.Errorf("role %d explains %v, want %v", i, h.Roles[i].Explains, ex)
				}
			}
		})
	}
}

var t0 = audit.Frame{File: "a.pcap", Frame: 1}

func svc(client, server string, proto uint8, port uint16, conns, established int) audit.Service {
	return audit.Service{Client: netip.MustParseAddr(client), Server: netip.MustParseAddr(server), Proto: proto, Port: port,
		Connections: conns, Established: established, Unanswered: conns - established, FirstFrame: t0}
}

func TestInferEvidence(t *testing.T) {
	m := testModel(t)
	services := []audit.Service{
		svc("192.0.2.1", "192.0.2.20", 6, 4172, 2, 2),
		svc("192.0.2.2", "::ffff:192.0.2.20", 6, 4172, 1, 1), // mapped: the same host
		svc("192.0.2.1", "192.0.2.20", 17, 4172, 1, 0),       // never answered: the client called, the server showed nothing
		svc("192.0.2.1", "239.1.1.1", 17, 4172, 3, 1),        // multicast: informs the sender only
		svc("192.0.2.3", "255.255.255.255", 17, 53, 1, 0),    // limited broadcast
		svc("0.0.0.0", "255.255.255.255", 17, 67, 1, 0),      // unspecified sender
		svc("fe80::1", "fe80::2", 6, 4172, 1, 1),             // link-local: no roles
		svc("169.254.1.1", "192.0.2.20", 6, 4172, 1, 1),      // link-local client still shows the server answering
		svc("127.0.0.1", "127.0.0.1", 6, 80, 1, 1),           // loopback
		svc("2001:db8::5", "ff02::1:ff00:1", 58, 135, 1, 0),  // ICMPv6 to a multicast group: the sender's
		svc("2001:db8::5", "2001:db8::20", 6, 4172, 1, 1),    // IPv6 unicast
	}
	hosts := Infer(services, m, Options{})
	type obs struct {
		addr string
		o    Observation
	}
	var got []obs
	for _, h := range hosts {
		for _, o := range h.Observations {
			o.Weight = math.Round(o.Weight*1e9) / 1e9
			got = append(got, obs{h.Addr.String(), o})
		}
	}
	w := func(d Direction, p uint8, port uint16) float64 { return math.Round(m.Weight(d, p, port)*1e9) / 1e9 }
	ob := func(d Direction, p uint8, port uint16, peers, conns int, weight float64) Observation {
		return Observation{Dir: d, Proto: p, Port: port, Peers: peers, Connections: conns, Weight: weight}
	}
	wantObs := []obs{
		{"192.0.2.1", ob(Called, 6, 4172, 1, 2, w(Called, 6, 4172))},
		{"192.0.2.1", ob(Called, 17, 4172, 2, 4, w(Called, 17, 4172))},
		{"192.0.2.2", ob(Called, 6, 4172, 1, 1, w(Called, 6, 4172))},
		{"192.0.2.3", ob(Called, 17, 53, 1, 1, 0)},
		{"192.0.2.20", ob(Answered, 6, 4172, 3, 4, w(Answered, 6, 4172))},
		{"2001:db8::5", ob(Called, 6, 4172, 1, 1, w(Called, 6, 4172))},
		{"2001:db8::5", ob(Called, 58, 135, 1, 1, 0)},
		{"2001:db8::20", ob(Answered, 6, 4172, 1, 1, w(Answered, 6, 4172))},
	}
	if !reflect.DeepEqual(got, wantObs) {
		t.Errorf("observations:\n got %v\nwant %v", got, wantObs)
	}
	roles := map[string][]string{}
	for _, h := range hosts {
		for _, c := range h.Roles {
			roles[h.Addr.String()] = append(roles[h.Addr.String()], c.Name())
		}
	}
	wantRoles := map[string][]string{
		"192.0.2.1":    {"T Client"},
		"192.0.2.2":    {"T Client"},
		"192.0.2.20":   {"T Agent"},
		"2001:db8::5":  {"T Client"},
		"2001:db8::20": {"T Agent"},
	}
	if !reflect.DeepEqual(roles, wantRoles) {
		t.Errorf("roles = %v, want %v", roles, wantRoles)
	}
}

func TestEligible(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"192.0.2.1", true},
		{"10.1.2.3", true},
		{"2001:db8::1", true},
		{"::ffff:192.0.2.1", true},
		{"192.0.2.255", true}, // a directed broadcast cannot be told without the mask; it never answers
		{"255.255.255.255", false},
		{"224.0.0.251", false},
		{"ff02::1", false},
		{"169.254.10.1", false},
		{"fe80::1", false},
		{"127.0.0.1", false},
		{"::1", false},
		{"0.0.0.0", false},
		{"::", false},
	}
	for _, tt := range tests {
		if got := Eligible(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Eligible(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	if Eligible(netip.Addr{}) {
		t.Error("the zero Addr is eligible")
	}
}

func TestInferDeterministic(t *testing.T) {
	m := builtinModel(t)
	var services []audit.Service
	for i := 1; i <= 40; i++ {
		client := netip.AddrFrom4([4]byte{10, 0, 1, byte(i)}).String()
		services = append(services,
			svc(client, "10.0.0.10", 6, 1494, 2, 2),
			svc(client, "10.0.0.10", 6, 2598, 1, 1),
			svc(client, "10.0.0.11", 6, 443, 1, 1),
			svc(client, "10.0.0.12", 17, 4172, 1, 1),
			svc(client, "10.0.0.12", 6, 22443, 1, 1),
		)
	}
	want := Infer(services, m, Options{})
	if len(want) != 43 {
		t.Fatalf("%d hosts, want 43", len(want))
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for range 5 {
		rng.Shuffle(len(services), func(i, j int) { services[i], services[j] = services[j], services[i] })
		if got := Infer(services, m, Options{}); !reflect.DeepEqual(got, want) {
			t.Fatal("result depends on the order of services")
		}
	}
	for i := 1; i < len(want); i++ {
		if want[i-1].Addr.Compare(want[i].Addr) >= 0 {
			t.Fatalf("hosts not sorted: %s before %s", want[i-1].Addr, want[i].Addr)
		}
	}
}

// The examples, against the built-in catalog.
func TestBuiltinWeights(t *testing.T) {
	m := builtinModel(t)
	distinctive := []ev{
		{Answered, 6, 22443}, {Answered, 17, 4172}, {Answered, 6, 1494}, {Answered, 6, 2598},
		{Answered, 6, 20002}, {Answered, 6, 30004}, {Answered, 6, 5061},
	}
	// DNS is mostly udp/53; tcp/53 is named by six roles, as many as
	// tcp/20002 and tcp/30004, and weighs the same.
	common := []ev{{Answered, 6, 443}, {Answered, 6, 80}, {Called, 6, 443}, {Called, 6, 80}, {Called, 17, 53}}
	for _, d := range distinctive {
		for _, c := range common {
			wd, wc := m.Weight(d.dir, d.proto, d.port), m.Weight(c.dir, c.proto, c.port)
			if wd <= wc {
				t.Errorf("%s %s weighs %.3f, not above %s %s (%.3f)", d.dir, audit.ServiceName(d.proto, d.port), wd,
					c.dir, audit.ServiceName(c.proto, c.port), wc)
			}
		}
	}
}

func TestBuiltinExamples(t *testing.T) {
	m := builtinModel(t)
	tests := []struct {
		name  string
		evs   []ev
		roles []string
		tied  []string // some of the tied roles; nil: no tie
	}{
		{"1494 and 2598: a Virtual Delivery Agent", []ev{{Answered, 6, 1494}, {Answered, 6, 2598}}, []string{"Virtual Delivery Agent"}, nil},
		{"only 443: many things", []ev{{Answered, 6, 443}}, nil, []string{"vCenter Server", "VMware JMP Server"}},
		{"Blast and PCoIP: a Horizon Agent", []ev{{Answered, 6, 22443}, {Answered, 17, 22443}, {Answered, 6, 4172}, {Answered, 17, 4172}},
			[]string{"Horizon Agent"}, nil},
		{"a Horizon Client calls", []ev{{Called, 6, 443}, {Called, 6, 22443}, {Called, 17, 4172}}, []string{"Horizon Client"}, nil},
		{"DNS", []ev{{Answered, 6, 53}, {Answered, 17, 53}}, []string{"DNS Server"}, nil},
		{"SQL", []ev{{Answered, 6, 1433}}, []string{"SQL Server"}, nil},
		// A broker answers the console (20001), gateways (20002, 20009)
		// and agents (20003), calls the agents (30004, 135, 445) and the
		// domain controller.
		{"RAS broker", []ev{{Answered, 6, 20001}, {Answered, 6, 20002}, {Answered, 6, 20003}, {Answered, 6, 20009},
			{Called, 6, 30004}, {Called, 17, 30004}, {Called, 6, 135}, {Called, 6, 445}, {Called, 6, 389}, {Called, 6, 88}},
			[]string{"RAS Connection Broker"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hostOf(m, tt.evs...)
			m.Propose(h, Options{})
			var got []string
			for _, c := range h.Roles {
				got = append(got, c.Name())
			}
			if !slices.Equal(got, tt.roles) {
				t.Errorf("roles = %v, want %v (runners-up %v)", got, tt.roles, names(h.RunnersUp))
			}
			var tied []string
			for _, c := range h.Tied {
				tied = append(tied, c.Name())
				if c.Score >= 0.1 {
					t.Errorf("tied %s scores %.3f on weak evidence", c.Name(), c.Score)
				}
			}
			for _, n := range tt.tied {
				if !slices.Contains(tied, n) {
					t.Errorf("tied = %v, want it to hold %s", tied, n)
				}
			}
			if tt.tied == nil && len(tied) > 0 {
				t.Errorf("tied = %v, want none", tied)
			}
		})
	}
}

// Every candidate role, shown doing everything it documents, is recovered
// (with its mode), unless another role documents exactly the same items:
// those are the catalog's indistinguishable roles, listed by the test.
func TestCatalogSelfRecovery(t *testing.T) {
	m := builtinModel(t)
	recovered, tied, infraOnly, equiv, fronts := 0, 0, 0, 0, 0
	for k := range m.cands {
		c := &m.cands[k]
		h := &Host{Addr: netip.MustParseAddr("192.0.2.1")}
		for _, i := range c.items {
			it := m.items[i]
			h.Observations = append(h.Observations, Observation{Dir: it.dir, Proto: it.proto, Port: it.r.Lo})
		}
		m.Propose(h, Options{})
		switch {
		case len(h.Roles) > 0 && h.Roles[0].Role == c.role && h.Roles[0].Mode == c.mode:
			recovered++
		case len(h.Roles) > 0 && slices.Contains(h.Roles[0].Equivalent, c.role):
			// Equivalent roles: the first in the catalog is proposed,
			// the others named with it.
			equiv++
			t.Logf("equivalent: %s proposed as %s", c.role.DisplayName(c.mode), h.Roles[0].Name())
		case len(c.fronts) > 0:
			// A load balancer seen only answering is taken for the
			// server behind it (not seen forwarding).
			fronts++
			t.Logf("front: %s proposed as %v, tied %v", c.role.DisplayName(c.mode), names(h.Roles), names(h.Tied))
		case len(h.Tied) > 0:
			var others []string
			found := false
			for _, x := range h.Tied {
				if x.Role == c.role {
					found = true
					continue
				}
				others = append(others, x.Name())
				if o := m.candidate(x.Role, x.Mode); !slices.Equal(o.items, c.items) {
					t.Errorf("%s tied with %s, which documents other items", c.role.DisplayName(c.mode), x.Name())
				}
			}
			if !found {
				t.Errorf("%s: tied roles %v do not hold it", c.role.DisplayName(c.mode), others)
			}
			tied++
			t.Logf("indistinguishable: %s = %v", c.role.DisplayName(c.mode), others)
		case len(h.Roles) == 0 && onlyInfraCalls(m, c):
			// Calls to infrastructure alone make no role.
			infraOnly++
			t.Logf("not inferable: %s only calls shared infrastructure", c.role.DisplayName(c.mode))
		default:
			t.Errorf("%s: proposed %v, runners-up %v", c.role.DisplayName(c.mode), names(h.Roles), names(h.RunnersUp))
		}
	}
	t.Logf("%d of %d candidates recovered, %d as an equivalent role, %d fronts taken for their servers, %d indistinguishable from another role, %d only call infrastructure",
		recovered, len(m.cands), equiv, fronts, tied, infraOnly)
	if recovered+equiv+fronts+tied+infraOnly != len(m.cands) {
		t.Errorf("%d recovered + %d equivalent + %d fronts + %d tied + %d infrastructure callers != %d candidates", recovered, equiv, fronts, tied, infraOnly, len(m.cands))
	}
}

func onlyInfraCalls(m *Model, c *candidate) bool {
	for _, i := range c.items {
		if !m.infra[i] {
			return false
		}
	}
	return true
}

func TestProducts(t *testing.T) {
	all, hz := builtinModel(t), builtinModel(t, "horizon")
	if all.Roles() != hz.Roles() {
		t.Errorf("N = %d with --product horizon, %d without: weights must not depend on it", hz.Roles(), all.Roles())
	}
	if a, b := all.Weight(Answered, 6, 1494), hz.Weight(Answered, 6, 1494); a != b || a == 0 {
		t.Errorf("1494 weighs %v with --product horizon, %v without", b, a)
	}
	for _, c := range hz.cands {
		if c.scoped && c.role.Product != "horizon" && c.role.Product != SharedProduct {
			t.Errorf("candidate %s of product %s in a horizon model", c.role.Name, c.role.Product)
		}
	}
	tests := []struct {
		evs   []ev
		roles []string
	}{
		{[]ev{{Answered, 6, 22443}, {Answered, 6, 4172}}, []string{"Horizon Agent"}},
		{[]ev{{Answered, 6, 1494}, {Answered, 6, 2598}}, nil}, // a VDA, but Citrix is out
		{[]ev{{Answered, 6, 88}, {Answered, 17, 88}, {Answered, 6, 389}, {Answered, 6, 3268}}, []string{"Domain Controller"}},
	}
	for _, tt := range tests {
		h := hostOf(hz, tt.evs...)
		hz.Propose(h, Options{})
		var got []string
		for _, c := range h.Roles {
			got = append(got, c.Name())
		}
		if !slices.Equal(got, tt.roles) {
			t.Errorf("%v: roles = %v, want %v", tt.evs, got, tt.roles)
		}
	}
}

func decided(ps []ProductEvidence) (present []string) {
	for _, p := range ps {
		if p.Present {
			present = append(present, p.Product)
		}
	}
	return present
}

func TestDecideProducts(t *testing.T) {
	m := builtinModel(t)
	horizon := []audit.Service{
		svc("10.0.2.51", "10.0.3.21", 17, 4172, 1, 1),
		svc("10.0.2.51", "10.0.3.21", 6, 22443, 1, 1),
		svc("10.0.2.60", "10.0.9.10", 6, 22, 1, 1), // an admin's SSH: one port no Horizon role names
	}
	tests := []struct {
		name     string
		services []audit.Service
		opts     Options
		want     []string
		reason   string
	}{
		{"two distinctive services", horizon, Options{}, []string{"horizon"}, "distinctive services"},
		{"all products", horizon, Options{AllProducts: true}, []string{"citrix", "horizon", "lync", "ras"}, "all products"},
		{"one is enough when no product has two", []audit.Service{svc("10.0.2.51", "10.0.3.21", 6, 1494, 1, 1)}, Options{},
			[]string{"citrix"}, "distinctive services"},
		{"nothing distinctive: every product", []audit.Service{svc("10.0.2.51", "10.0.3.21", 6, 443, 1, 1)}, Options{},
			[]string{"citrix", "horizon", "lync", "ras"}, "nothing distinctive"},
		// Ports only one product's table names, but in one rule each: the
		// agents' JMS to the Connection Server on 4001 (a Citrix ADC's
		// lights-out port), a web console on 8000 and IPMI on 623.
		{"generic ports one rule names are not distinctive", slices.Concat(horizon, []audit.Service{
			svc("10.0.3.21", "10.0.1.10", 6, 4001, 1, 1),
			svc("10.0.1.10", "10.0.0.60", 6, 8000, 1, 1),
			svc("10.0.2.60", "10.0.0.61", 6, 623, 1, 1),
		}), Options{}, []string{"horizon"}, "distinctive services"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := InferAll(tt.services, m, tt.opts)
			if got := decided(res.Products); !slices.Equal(got, tt.want) {
				t.Errorf("present = %v, want %v (%+v)", got, tt.want, res.Products)
			}
			for _, p := range res.Products {
				if p.Present && p.Reason != tt.reason {
					t.Errorf("%s: reason %q, want %q", p.Product, p.Reason, tt.reason)
				}
			}
		})
	}
	res := InferAll(horizon, m, Options{})
	for _, p := range res.Products {
		if p.Product == "horizon" && !slices.Equal(p.Services, []string{"22443/tcp", "4172/udp"}) {
			t.Errorf("horizon services = %v", p.Services)
		}
	}
	// Given products are kept, whatever the capture shows.
	if got := decided(InferAll(horizon, builtinModel(t, "ras"), Options{}).Products); !slices.Equal(got, []string{"ras"}) {
		t.Errorf("given ras: present = %v", got)
	}
}

// A small Horizon pilot: the vCenter only answered 443 to the Connection
// Server, which alone says little; knowing its peer's role it is a vCenter.
func TestJointAssignment(t *testing.T) {
	m := builtinModel(t)
	services := []audit.Service{
		svc("10.0.2.51", "10.0.1.10", 6, 443, 3, 3), // client → connection server
		svc("10.0.2.51", "10.0.3.21", 6, 22443, 2, 2),
		svc("10.0.2.51", "10.0.3.21", 17, 22443, 2, 2),
		svc("10.0.2.51", "10.0.3.21", 17, 4172, 1, 1),
		svc("10.0.1.10", "10.0.3.21", 6, 22443, 1, 1), // connection server → agent
		svc("10.0.1.10", "10.0.0.20", 6, 443, 4, 4),   // connection server → vCenter
	}
	alone := Infer(services, m, Options{})
	res := InferAll(services, m, Options{})
	want := map[string]string{
		"10.0.0.20": "vCenter Server",
		"10.0.1.10": "Horizon Connection Server",
		"10.0.2.51": "Horizon Client",
		"10.0.3.21": "Horizon Agent",
	}
	for _, h := range res.Hosts {
		if len(h.Roles) == 0 {
			t.Errorf("%s: no role (tied %v, runners-up %v)", h.Addr, names(h.Tied), names(h.RunnersUp))
			continue
		}
		if got := h.Roles[0].Name(); got != want[h.Addr.String()] {
			t.Errorf("%s: %s, want %s (runners-up %v)", h.Addr, got, want[h.Addr.String()], names(h.RunnersUp))
		}
		if h.Product != h.Roles[0].Role.Product {
			t.Errorf("%s: product %q", h.Addr, h.Product)
		}
	}
	if !reflect.DeepEqual(names(alone[0].Roles), names(res.Hosts[0].Roles)) {
		t.Error("Infer and InferAll disagree")
	}
	vc := res.Hosts[0]
	if len(vc.Roles) > 0 && (vc.Roles[0].Alone >= DefaultMinScore || vc.Roles[0].Score < DefaultMinScore) {
		t.Errorf("vCenter alone %.3f, joint %.3f: want the peer to make the difference", vc.Roles[0].Alone, vc.Roles[0].Score)
	}
	if res.Score <= 0 || res.Rounds < 1 {
		t.Errorf("score %v after %d rounds", res.Score, res.Rounds)
	}
}

// A Lync Director answering SIP and HTTPS documents what its pool's load
// balancer documents: the server is proposed, unless the host is seen
// passing the connections on to a Director.
func TestPreferServerToLoadBalancer(t *testing.T) {
	m := builtinModel(t, "lync")
	base := []audit.Service{
		svc("10.3.2.51", "10.3.1.20", 6, 5061, 2, 2),
		svc("10.3.2.51", "10.3.1.20", 6, 443, 2, 2),
		svc("10.3.2.51", "10.3.1.20", 6, 444, 1, 1),
		svc("10.3.2.51", "10.3.1.10", 6, 5061, 2, 2), // the client's Front End
		svc("10.3.2.51", "10.3.1.10", 6, 443, 2, 2),
		svc("10.3.2.51", "10.3.1.10", 6, 8057, 1, 1),
	}
	host := func(services []audit.Service, addr string) *Host {
		for _, h := range Infer(services, m, Options{Runners: 10, MinScore: -1}) {
			if h.Addr.String() == addr {
				return h
			}
		}
		t.Fatalf("no host %s", addr)
		return nil
	}
	has := func(cs []Candidate, name string) bool {
		return slices.ContainsFunc(cs, func(c Candidate) bool { return c.Name() == name })
	}
	const lb = "Lync Director Pool Load Balancer"
	h := host(base, "10.3.1.20")
	if h.Forwarding || len(h.Roles) == 0 || h.Roles[0].Name() != "Lync Director" || has(h.Roles, lb) || has(h.RunnersUp, lb) {
		t.Errorf("not forwarding: roles %v, runners-up %v, want Lync Director and no load balancer", names(h.Roles), names(h.RunnersUp))
	}
	// Forwarding: it calls the pool's Directors on the ports it answered.
	fwd := append(slices.Clone(base),
		svc("10.3.1.20", "10.3.1.21", 6, 5061, 2, 2), svc("10.3.1.20", "10.3.1.21", 6, 443, 2, 2), svc("10.3.1.20", "10.3.1.21", 6, 444, 2, 2),
		svc("10.3.1.20", "10.3.1.22", 6, 5061, 2, 2), svc("10.3.1.20", "10.3.1.22", 6, 443, 2, 2), svc("10.3.1.20", "10.3.1.22", 6, 444, 2, 2),
		svc("10.3.2.52", "10.3.1.21", 6, 5061, 2, 2), svc("10.3.2.52", "10.3.1.21", 6, 443, 2, 2), svc("10.3.2.52", "10.3.1.21", 6, 444, 2, 2),
		svc("10.3.2.52", "10.3.1.22", 6, 5061, 2, 2), svc("10.3.2.52", "10.3.1.22", 6, 443, 2, 2), svc("10.3.2.52", "10.3.1.22", 6, 444, 2, 2))
	h = host(fwd, "10.3.1.20")
	if !h.Forwarding || len(h.Roles) == 0 || h.Roles[0].Name() != lb {
		t.Errorf("forwarding to Directors: roles %v, runners-up %v, want the load balancer first", names(h.Roles), names(h.RunnersUp))
	}
	for _, member := range []string{"10.3.1.21", "10.3.1.22"} {
		if h := host(fwd, member); len(h.Roles) == 0 || h.Roles[0].Name() != "Lync Director" {
			t.Errorf("pool member %s: roles %v, want Lync Director", member, names(h.Roles))
		}
	}
}

// Known roles (an inventory's) are what the peers see: a host answering
// 443 to a known Connection Server is its vCenter.
func TestKnownPeers(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	m := NewModel(cat, []string{"horizon"})
	cs, _, err := cat.LookupRole("Horizon Connection Server")
	if err != nil {
		t.Fatal(err)
	}
	services := []audit.Service{svc("10.0.1.10", "10.0.0.20", 6, 443, 4, 4)}
	role := func(opts Options) string {
		for _, h := range Infer(services, m, opts) {
			if h.Addr.String() == "10.0.0.20" && len(h.Roles) > 0 {
				return h.Roles[0].Name()
			}
		}
		return ""
	}
	if got := role(Options{}); got == "vCenter Server" {
		t.Errorf("without known roles: %q; want no vCenter from one 443 answer", got)
	}
	known := func(a netip.Addr) []Known {
		if a == netip.MustParseAddr("10.0.1.10") {
			return []Known{{Role: cs}}
		}
		return nil
	}
	if got := role(Options{Known: known}); got != "vCenter Server" {
		t.Errorf("called by a known Connection Server: %q, want vCenter Server", got)
	}
}
