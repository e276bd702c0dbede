package audit

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/catalog"
)

// TestLabelDifferential labels random services against random catalogs
// and inventories and compares every flow with a naive labelling written
// here, service by service with nothing remembered between services: the
// candidates every rule covering the port, the rules those whose sides
// fit, hints from the hosts, the port's candidates and the rules between
// the two hosts' roles. Audit's labelling works these out once per run of
// ports, pair of hosts and address, remembers the last client, carves its
// slices from arenas and labels on every core (a case of 9,000 services
// takes that path); the missing rules are compared with those found from
// the flows themselves, as before labelling recorded them.
func TestLabelDifferential(t *testing.T) {
	cases := 60
	if testing.Short() {
		cases = 10
	}
	for seed := range uint64(cases) {
		n := 40 + int(seed%5)*60
		if seed == 7 {
			n = 9000 // two cores label it, each with its own caches
		}
		t.Run(fmt.Sprint(seed), func(t *testing.T) { differentialCase(t, seed, n) })
	}
}

// randomFixture is a random catalog of one product (roles, one with
// modes, a group; rules between roles, from any host, to addresses and
// to host patterns, on single ports, lists, ranges, wide ranges and no
// ports) and an inventory of it (hosts with several roles, addresses and
// blocks, IPv4 and IPv6), with the addresses services may use: the
// hosts', others outside the inventory, multicast and a block's
// broadcast.
func randomFixture(t *testing.T, r *rand.Rand) (*catalog.Catalog, *inventory.Inventory, []netip.Addr, []uint16) {
	t.Helper()
	var cat strings.Builder
	cat.WriteString("roles:\n")
	roles := []string{"D R0", "D R1", "D R2", "D R3", "D R4", "D Gw", "D Gw (Normal mode)", "D Gw (Forwarding mode)", "D Group"}
	for i := range 5 {
		fmt.Fprintf(&cat, "  - {id: d-r%d, name: D R%d, product: custom}\n", i, i)
	}
	cat.WriteString("  - {id: d-gw, name: D Gw, product: custom, modes: [{id: normal, name: Normal mode}, {id: forwarding, name: Forwarding mode}]}\n")
	cat.WriteString("  - {id: d-group, name: D Group, product: custom, members: [d-r1, d-r2]}\n")
	// Ports rules start and end at, so runs of ports are many and short.
	edges := []uint16{0, 1, 53, 80, 443, 444, 1024, 3389, 8443, 20000, 49152, 65535}
	port := func() uint16 {
		if r.IntN(3) == 0 {
			return uint16(r.IntN(65536))
		}
		return edges[r.IntN(len(edges))]
	}
	ports := func() string {
		switch r.IntN(6) {
		case 0:
			lo := port()
			return fmt.Sprintf("%d-%d", lo, min(65535, int(lo)+r.IntN(30)))
		case 1:
			return fmt.Sprintf("%d, %d", port(), port())
		case 2:
			return "1024-65535" // wide
		}
		return fmt.Sprint(port())
	}
	names := []string{"*.cloud.example", "api.cloud.example", "*.cdn.example", "login.example"}
	nrules := 8 + r.IntN(30)
	var rulePorts []uint16
	cat.WriteString("rules:\n")
	for i := range nrules {
		from := roles[r.IntN(len(roles))]
		if r.IntN(6) == 0 {
			from = "Any"
		}
		to := "to: " + roles[r.IntN(len(roles))]
		switch r.IntN(8) {
		case 0:
			to = fmt.Sprintf("to_address: [10.9.%d.0/24]", r.IntN(2))
		case 1:
			to = "to_address: [10.1.0.5, \"fd00::5\"]"
		case 2, 3:
			to = fmt.Sprintf("to_host: %q", names[r.IntN(len(names))])
		}
		if from == "Any" && !strings.HasPrefix(to, "to: ") {
			from = roles[r.IntN(5)]
		}
		protos, ps := "[tcp]", ports()
		switch r.IntN(7) {
		case 0:
			protos = "[udp]"
		case 1:
			protos = "[tcp, udp]"
		case 2:
			protos = "[sctp]"
		case 3:
			protos, ps = "[vrrp]", "none"
		case 4:
			protos, ps = "[icmp]", "none"
		}
		if p, err := catalog.ParsePorts(ps); err == nil {
			for _, pr := range p {
				rulePorts = append(rulePorts, pr.Lo, pr.Hi, pr.Lo-1, pr.Hi+1)
			}
		}
		fmt.Fprintf(&cat, "  - {id: d-%02d, from: %s, %s, protocols: %s, ports: %q, bidirectional: %v, optional: %v}\n",
			i, from, to, protos, ps, r.IntN(5) == 0, r.IntN(8) == 0)
	}
	p := filepath.Join(t.TempDir(), "differential.yaml")
	if err := os.WriteFile(p, []byte(cat.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Load(p)
	if err != nil {
		t.Fatalf("%v\n%s", err, cat.String())
	}

	var inv strings.Builder
	inv.WriteString("hosts:\n")
	var addrs []netip.Addr
	for i := range 4 + r.IntN(8) {
		a := netip.AddrFrom4([4]byte{10, 1, 0, byte(i + 1)})
		list := fmt.Sprintf("%q", a)
		addrs = append(addrs, a)
		if r.IntN(3) == 0 {
			v6 := netip.AddrFrom16([16]byte{0xfd, 14: 0, 15: byte(i + 1)})
			list += fmt.Sprintf(", %q", v6)
			addrs = append(addrs, v6)
		}
		if r.IntN(4) == 0 {
			list += fmt.Sprintf(", \"10.2.%d.0/28\"", i)
			addrs = append(addrs, netip.AddrFrom4([4]byte{10, 2, byte(i), 3}), netip.AddrFrom4([4]byte{10, 2, byte(i), 15}))
		}
		var rs []string
		for range 1 + r.IntN(2) {
			if role := roles[r.IntN(len(roles)-1)]; !slices.Contains(rs, role) && !(strings.HasPrefix(role, "D Gw") && slices.ContainsFunc(rs, func(s string) bool { return strings.HasPrefix(s, "D Gw") })) {
				rs = append(rs, role)
			}
		}
		name := fmt.Sprintf("h%d", i)
		if r.IntN(5) == 0 {
			name = "api.cloud.example"
			if strings.Contains(inv.String(), name) {
				name = fmt.Sprintf("n%d.cdn.example", i)
			}
		}
		fmt.Fprintf(&inv, "  - {name: %q, addresses: [%s], roles: [%s]}\n", name, list, strings.Join(rs, ", "))
	}
	in, err := inventory.Parse("inv.yaml", []byte(inv.String()), c)
	if err != nil {
		t.Fatalf("%v\n%s", err, inv.String())
	}
	addrs = append(addrs, netip.MustParseAddr("10.9.0.7"), netip.MustParseAddr("10.9.1.200"), netip.MustParseAddr("10.1.0.5"),
		netip.MustParseAddr("fd00::5"), netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("2001:db8::7"),
		netip.MustParseAddr("224.0.0.18"), netip.MustParseAddr("255.255.255.255"), netip.MustParseAddr("::ffff:10.1.0.1"))
	return c, in, addrs, rulePorts
}

func differentialCase(t *testing.T, seed uint64, n int) {
	r := rand.New(rand.NewPCG(seed, 17))
	cat, inv, addrs, rulePorts := randomFixture(t, r)
	evidence := []string{EvidenceSNI, EvidenceHTTPHost, EvidenceDNS, EvidenceDNSOther}
	hostNames := []string{"api.cloud.example", "x.cloud.example", "cloud.example", "a.b.cdn.example", "login.example", "evil.example"}
	type key struct {
		c, s  netip.Addr
		proto uint8
		port  uint16
	}
	seen := map[key]bool{}
	var services []Service
	for len(services) < n {
		s := Service{Client: addrs[r.IntN(len(addrs))], Server: addrs[r.IntN(len(addrs))], Connections: 1, Packets: 4, Bytes: 100,
			FirstSeen: t0, LastSeen: t0, FirstFrame: Frame{File: "d.pcap", Frame: uint64(len(services) + 1)}}
		if s.Client.IsMulticast() || s.Client == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			continue
		}
		switch k := r.IntN(10); {
		case k < 5:
			s.Proto = 6
		case k < 8:
			s.Proto = 17
		case k < 9:
			s.Proto = 132
		default:
			s.Proto = []uint8{1, 112, 58}[r.IntN(3)]
		}
		if catalog.HasPorts(s.Proto) {
			s.Port = rulePorts[r.IntN(len(rulePorts))]
			if r.IntN(4) == 0 {
				s.Port = uint16(r.IntN(65536))
			}
		}
		switch r.IntN(4) {
		case 0:
			s.Rejected, s.RSTs, s.RSTTTL = 1, 1, 64
		case 1:
			s.Unanswered, s.ClientPackets = 1, 2
		default:
			s.Established = 1
		}
		for range r.IntN(3) {
			s.Names = append(s.Names, Name{Name: hostNames[r.IntN(len(hostNames))], Evidence: evidence[r.IntN(len(evidence))], Connections: 1})
		}
		if len(s.Names) > 0 && r.IntN(2) == 0 {
			s.DNSNames = []string{hostNames[r.IntN(len(hostNames))]}
		}
		if k := (key{s.Client, s.Server, s.Proto, s.Port}); !seen[k] {
			seen[k] = true
			services = append(services, s)
		}
	}
	sortServices(services)
	opts := Options{Products: []string{"custom"}, IncludeNoise: r.IntN(2) == 0}
	res := Audit(services, inv, cat, opts)

	ref := newReference(inv, cat, opts)
	flows := map[*Service]*Flow{}
	for _, f := range res.Flows {
		flows[f.Service] = f
	}
	var refFlows []*Flow
	for i := range services {
		s := &services[i]
		f := flows[s]
		if f == nil {
			if noiseKind(s) == "" || opts.IncludeNoise {
				t.Fatalf("service %v %v %d/%d: no flow", s.Client, s.Server, s.Port, s.Proto)
			}
			continue
		}
		want := ref.label(s)
		refFlows = append(refFlows, want)
		if msg := flowDiff(f, want); msg != "" {
			t.Errorf("%s -> %s %s: %s", s.Client, s.Server, ServiceName(s.Proto, s.Port), msg)
		}
	}
	if len(refFlows) != len(res.Flows) {
		t.Errorf("%d flows, want %d", len(res.Flows), len(refFlows))
	}
	if got, want := missingKeys(res), ref.missing(refFlows); !reflect.DeepEqual(got, want) {
		t.Errorf("missing %v\nwant    %v", got, want)
	}
}

// flowDiff says how f differs from want: "" when it does not.
func flowDiff(f, want *Flow) string {
	ids := func(rs []*catalog.Rule) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	var d []string
	if f.ClientHost != want.ClientHost || f.ServerHost != want.ServerHost || f.Multicast != want.Multicast {
		d = append(d, fmt.Sprintf("hosts %v %v multicast %v, want %v %v %v", f.ClientHost, f.ServerHost, f.Multicast, want.ClientHost, want.ServerHost, want.Multicast))
	}
	if f.Status != want.Status || f.Blocked != want.Blocked || f.Outcome != want.Outcome {
		d = append(d, fmt.Sprintf("%s blocked %v %s, want %s blocked %v %s", f.Status, f.Blocked, f.Outcome, want.Status, want.Blocked, want.Outcome))
	}
	if !slices.Equal(ids(f.Rules), ids(want.Rules)) {
		d = append(d, fmt.Sprintf("rules %v, want %v", ids(f.Rules), ids(want.Rules)))
	}
	if !slices.Equal(f.NameMatches, want.NameMatches) {
		d = append(d, fmt.Sprintf("name matches %v, want %v", f.NameMatches, want.NameMatches))
	}
	if !slices.Equal(f.Hints, want.Hints) {
		d = append(d, fmt.Sprintf("hints %q, want %q", f.Hints, want.Hints))
	}
	if (f.BlockedBy == nil) != (want.BlockedBy == nil) || f.BlockedBy != nil && *f.BlockedBy != *want.BlockedBy {
		d = append(d, fmt.Sprintf("blocked by %+v, want %+v", f.BlockedBy, want.BlockedBy))
	}
	return strings.Join(d, "; ")
}

// reference labels a service the straightforward way: every rule of the
// products tried against it, and hints worked out for it alone.
type reference struct {
	a *auditor // for the primitives only: sideMatches, ruleMatches, hint texts
}

func newReference(inv *inventory.Inventory, cat *catalog.Catalog, opts Options) *reference {
	a := &auditor{cat: cat, inv: inv, opts: opts, bcast: map[netip.Addr]bool{}}
	products := catalog.NewScope(opts.Products...)
	for _, r := range cat.Rules() {
		if products.HasRule(r) {
			a.rules = append(a.rules, r)
		}
	}
	a.hintScope = opts.Scope
	if a.hintScope.All() {
		a.hintScope = products
	}
	for _, h := range inv.Hosts {
		for _, p := range h.Addresses {
			if !p.IsSingleIP() && p.Addr().Is4() && p.Bits() < 31 {
				a.bcast[lastAddr(p)] = true
			}
		}
	}
	return &reference{a: a}
}

func (ref *reference) label(s *Service) *Flow {
	a := ref.a
	a.c = newCaches() // nothing remembered from another service
	f := &Flow{Service: s, ClientHost: a.inv.Lookup(s.Client), ServerHost: a.inv.Lookup(s.Server), Outcome: s.Outcome(),
		Multicast: a.isBroadcast(s.Server)}
	var cands []*catalog.Rule
	for _, r := range a.rules {
		if r.CoversPort(s.Proto, s.Port) {
			cands = append(cands, r)
		}
	}
	for _, r := range cands {
		if a.ruleMatches(r, s, f.ClientHost, f.ServerHost, f.Multicast) {
			f.Rules = append(f.Rules, r)
		}
	}
	nameHints := a.byName(f, cands)
	if f.Outcome != Established && !f.Multicast {
		f.BlockedBy = &BlockEvidence{}
		readBlockEvidence(f.BlockedBy, s)
	}
	if len(f.Rules) > 0 {
		slices.SortFunc(f.Rules, byID)
		f.Status = Documented
		f.Blocked = f.Outcome != Established && !f.Multicast
		return f
	}
	f.Status = Undocumented
	f.Hints = nameHints
	if f.ClientHost == nil {
		f.Hints = append(f.Hints, "client "+s.Client.String()+" is not in the inventory, so it has no role")
	}
	if f.ServerHost == nil && !f.Multicast {
		f.Hints = append(f.Hints, "server "+s.Server.String()+" is not in the inventory, so it has no role")
	}
	f.Hints = append(f.Hints, ServiceName(s.Proto, s.Port)+a.portHintText(cands))
	if f.ServerHost != nil {
		if c := a.closestText(f); c != "" {
			f.Hints = append(f.Hints, c)
		}
	}
	return f
}

// missing are the missing rules found from the flows: a rule is attempted
// when a flow on one of its ports fits its sides, documented when it is
// among a flow's rules.
func (ref *reference) missing(flows []*Flow) []string {
	a := ref.a
	a.seen = newFlowRules()
	for _, f := range flows {
		for _, r := range a.rules {
			if !r.HasProto(f.Proto) {
				continue
			}
			k := ruleProto{r, f.Proto}
			if slices.Contains(f.Rules, r) {
				a.seen.documented[k] = true
			}
			if r.CoversPort(f.Proto, f.Port) && a.ruleMatches(r, f.Service, f.ClientHost, f.ServerHost, f.Multicast) {
				a.seen.attempted[k] = true
			}
		}
	}
	res := &Result{Flows: flows}
	a.missing(res)
	return missingKeys(res)
}
