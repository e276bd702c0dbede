package infer

import (
	"math"
	"net/netip"

	"slices"
	"sort"

	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/catalog"
)

// Defaults of Options.
const (
	DefaultMinScore = 0.2
	DefaultRunners  = 3
	DefaultMaxRoles = 3
	// extraShare is the share of a host's squared weight a second or
	// third role must explain, beyond the roles before it, to be proposed.
	extraShare = 0.15
	// recallWeight is the exponent of recall in the score, precision's
	// being 1 - recallWeight: a capture shows part of what a role
	// documents, but everything the host did.
	recallWeight = 1.0 / 3
)

// Options steer Infer.
type Options struct {
	// MinScore is the score from which a role is proposed. Zero means
	// DefaultMinScore; a negative value proposes the best role however
	// weak.
	MinScore float64
	Runners  int // runner-up roles kept per host; 0 means DefaultRunners, negative none
	MaxRoles int // roles proposed per host; 0 means DefaultMaxRoles
	// Known gives the roles an address is known to play (an inventory's
	// host); from the second round on, its peers see it with these roles
	// whatever its own evidence says. Nil: nothing is known.
	Known func(netip.Addr) []Known
	// AllProducts proposes roles of every product, instead of only those
	// of the products the capture shows (see Decide). A model built for
	// given products keeps to them either way.
	AllProducts bool
	// MACs is the source MAC of each address's Ethernet frames
	// (analyzer.Result.AddrMACs): addresses TieAddresses ties are one
	// host. Nil: every address is a host of its own.
	MACs []flow.AddrMAC
	// Flows are the services with their connections' spans
	// (analyzer.Result.Services): a front's inside address is tied to
	// it when its connections follow the front's clients' (see the
	// package comment, "Inside addresses"). Nil: nothing is tied so.
	Flows []flow.Service
}

func (o Options) minScore() float64 {
	switch {
	case o.MinScore < 0:
		return 0
	case o.MinScore == 0:
		return DefaultMinScore
	}
	return o.MinScore
}

// Known is a role an address is known to play.
type Known struct {
	Role *catalog.Role
	Mode string
}

// Observation is one service a host answered (as the server, established)
// or called (as the client, whatever the outcome).
type Observation struct {
	Dir         Direction
	Proto       uint8
	Port        uint16 // server port; for ICMP the client's message type
	Peers       int    // distinct addresses at the other end
	Connections int
	Weight      float64 // weight of the most specific documented item it matches; 0 if none
}

// Service is "443/tcp", as the audit names services.
func (o Observation) Service() string { return audit.ServiceName(o.Proto, o.Port) }

// Candidate is a role proposed for a host, with its score and the
// observations it explains.
type Candidate struct {
	Role *catalog.Role
	Mode string // "" for the plain role
	// Score is 0..1 (see the package comment). For a second or third
	// role it is the score on the answered evidence the roles before it
	// leave unexplained.
	Score    float64
	Explains []int // indices into Host.Observations
	// Alone is the score on the host's own evidence, before what its
	// peers are was taken into account; Score is the score in the joint
	// assignment.
	Alone float64
	// Equivalent are the other roles that take part in exactly the same
	// rules: the documents cannot tell them from this one, which is
	// proposed because it comes first in the catalog.
	Equivalent []*catalog.Role
	// NamedBy is how many products' rules name the role: between two
	// roles equal on the evidence and the peers, the one more products
	// name is proposed.
	NamedBy int
}

// Name is the role's display name, with its mode.
func (c Candidate) Name() string { return c.Role.DisplayName(c.Mode) }

// Host is one address seen in the captures, what it did, and the roles
// proposed for it.
type Host struct {
	Addr netip.Addr // its first address: the IPv4 one of a dual-stack host
	// Addrs are all its addresses, Addr first, when the capture ties
	// several into one machine (see TieAddresses), and TiedBy says how;
	// otherwise Addrs is just Addr and TiedBy empty.
	Addrs  []netip.Addr
	TiedBy string
	// Note says why an address that shares its MAC, or sent from several,
	// was not tied to others ("" when there is nothing to say).
	Note         string
	Observations []Observation // answered first, then called; by protocol and port
	Roles        []Candidate   // proposed roles, best first; empty if nothing fits
	// Tied are the roles that fit best and equally well when the
	// evidence cannot tell them apart, whatever their score; Roles is
	// then empty.
	Tied []Candidate
	// RunnersUp are the other roles that fit best, one entry per role,
	// scoring at least half of MinScore.
	RunnersUp []Candidate
	// Product is the product of the best proposed role ("" when none).
	Product string
	// Forwarding: the host called a service it also answered, as a load
	// balancer or gateway passing connections on does.
	Forwarding bool

	peers [][]netip.Addr // per observation, the addresses at the other end
}

// AllAddrs are the host's addresses: Addrs, or Addr when Addrs is empty.
func (h *Host) AllAddrs() []netip.Addr {
	if len(h.Addrs) == 0 && h.Addr.IsValid() {
		return []netip.Addr{h.Addr}
	}
	return h.Addrs
}

// Unexplained are the observations no proposed role explains.
func (h *Host) Unexplained() []int {
	seen := make([]bool, len(h.Observations))
	for _, c := range h.Roles {
		for _, i := range c.Explains {
			seen[i] = true
		}
	}
	var out []int
	for i := range h.Observations {
		if !seen[i] {
			out = append(out, i)
		}
	}
	return out
}

// Eligible says whether an address can be given a role: a unicast address
// that is not loopback, link-local, unspecified or the limited broadcast.
func Eligible(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && !a.IsUnspecified() && !a.IsLoopback() && !a.IsMulticast() &&
		!a.IsLinkLocalUnicast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

type obsKey struct {
	addr  netip.Addr
	dir   Direction
	proto uint8
	port  uint16
}

type obsAcc struct {
	peers map[netip.Addr]bool
	conns int
}

// Infer proposes roles for every eligible address in services. The
// result is sorted by address and does not depend on the order of
// services.
func Infer(services []audit.Service, m *Model, opts Options) []*Host {
	return InferAll(services, m, opts).Hosts
}

// Result is what InferAll found: the products the capture shows and the
// hosts with their roles.
type Result struct {
	Products []ProductEvidence
	Hosts    []*Host
	// Score is the joint assignment's score: the mean of the best score
	// of every host given a role.
	Score float64
	// Rounds is how many rounds of host-by-host improvement ran.
	Rounds int
}

// InferAll decides the products, then assigns roles to all hosts
// together (see the package comment).
func InferAll(services []audit.Service, m *Model, opts Options) *Result {
	hosts := collect(services, m, opts.MACs)
	res := &Result{Hosts: hosts}
	res.Products = m.Decide(hosts, opts)
	var scope map[string]bool
	if !opts.AllProducts || m.fixed {
		for _, p := range res.Products {
			if p.Present {
				if scope == nil {
					scope = map[string]bool{}
				}
				scope[p.Product] = true
			}
		}
	}
	res.Rounds = m.assign(hosts, scope, opts)
	hosts = m.tieInside(hosts, opts.Flows, scope)
	res.Hosts = hosts
	n := 0
	for _, h := range hosts {
		if len(h.Roles) > 0 {
			res.Score += h.Roles[0].Score
			n++
		}
	}
	if n > 0 {
		res.Score /= float64(n)
	}
	return res
}

// collect gathers each eligible address's observations, those of tied
// addresses as one host's, under its first address.
func collect(services []audit.Service, m *Model, macs []flow.AddrMAC) []*Host {
	ties, notes := TieAddresses(macs)
	// An address without a MAC, when the captures show MACs, is listed
	// with a note: nothing could tie it.
	hasMAC := make(map[netip.Addr]bool, len(macs))
	for _, m := range macs {
		hasMAC[m.Addr.Unmap()] = true
	}
	first := map[netip.Addr]int{} // tied address → its tie
	for i, t := range ties {
		for _, a := range t.Addrs {
			first[a] = i
		}
	}
	host := func(a netip.Addr) netip.Addr {
		a = a.Unmap()
		if i, ok := first[a]; ok {
			return ties[i].Addrs[0]
		}
		return a
	}
	acc := map[obsKey]*obsAcc{}
	note := func(addr netip.Addr, dir Direction, s *audit.Service, peer netip.Addr) {
		addr, peer = host(addr), host(peer)
		if addr == peer {
			return // between two addresses of one host
		}
		k := obsKey{addr, dir, s.Proto, s.Port}
		if !catalog.HasPorts(s.Proto) && s.Proto != 1 && s.Proto != 58 {
			k.port = 0
		}
		a := acc[k]
		if a == nil {
			a = &obsAcc{peers: map[netip.Addr]bool{}}
			acc[k] = a
		}
		a.peers[peer.Unmap()] = true
		a.conns += s.Connections
	}
	for i := range services {
		s := &services[i]
		if Eligible(s.Server) && s.Established > 0 {
			note(s.Server, Answered, s, s.Client)
		}
		if Eligible(s.Client) {
			note(s.Client, Called, s, s.Server)
		}
	}
	keys := make([]obsKey, 0, len(acc))
	for k := range acc {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if c := a.addr.Compare(b.addr); c != 0 {
			return c < 0
		}
		if a.dir != b.dir {
			return a.dir < b.dir
		}
		if a.proto != b.proto {
			return a.proto < b.proto
		}
		return a.port < b.port
	})
	var hosts []*Host
	for _, k := range keys {
		if len(hosts) == 0 || hosts[len(hosts)-1].Addr != k.addr {
			h := &Host{Addr: k.addr, Addrs: []netip.Addr{k.addr}, Note: notes[k.addr]}
			if len(macs) > 0 && !hasMAC[k.addr] {
				h.Note = NoMACNote
			}
			if i, ok := first[k.addr]; ok {
				h.Addrs, h.TiedBy = ties[i].Addrs, ties[i].How
			}
			hosts = append(hosts, h)
		}
		h := hosts[len(hosts)-1]
		a := acc[k]
		h.Observations = append(h.Observations, Observation{Dir: k.dir, Proto: k.proto, Port: k.port,
			Peers: len(a.peers), Connections: a.conns, Weight: m.Weight(k.dir, k.proto, k.port)})
		peers := make([]netip.Addr, 0, len(a.peers))
		for p := range a.peers {
			peers = append(peers, p)
		}
		sort.Slice(peers, func(i, j int) bool { return peers[i].Less(peers[j]) })
		h.peers = append(h.peers, peers)
	}
	for _, h := range hosts {
		h.Forwarding = forwarding(h)
	}
	return hosts
}

// forwarding says whether h called a service it answered.
func forwarding(h *Host) bool {
	type svc struct {
		proto uint8
		port  uint16
	}
	in := map[svc]bool{}
	for _, o := range h.Observations {
		if o.Dir == Answered && catalog.HasPorts(o.Proto) {
			in[svc{o.Proto, o.Port}] = true
		}
	}
	for _, o := range h.Observations {
		if o.Dir == Called && in[svc{o.Proto, o.Port}] {
			return true
		}
	}
	return false
}

// Propose fills h.Roles, h.Tied and h.RunnersUp from h.Observations
// alone, as the first round of the joint assignment does.
func (m *Model) Propose(h *Host, opts Options) { m.propose(h, opts, nil) }

// roleRef is a role a peer was given.
type roleRef struct {
	role *catalog.Role
	mode string
}

// context is what a host's proposal depends on beyond its own evidence.
type context struct {
	scope map[string]bool // products; nil: every scoped candidate
	// roles are the peers' roles from the round before, as an index
	// into sets (0: none); nil in the first round.
	roles map[netip.Addr]int
	sets  [][]roleRef
}

func (x *context) allowed(c *candidate) bool {
	if !c.scoped {
		return false
	}
	if x == nil || x.scope == nil {
		return true
	}
	if c.role.Product != SharedProduct {
		return x.scope[c.role.Product]
	}
	// Infrastructure only one product's rules name is that product's.
	rp := c.ruleProducts
	return len(rp) != 1 || rp[0] == SharedProduct || x.scope[rp[0]]
}

// peerCredit is how well the documents name the flows of observation oi
// between candidate c and the host's peers, by their roles: 1 for a rule
// between c and a peer's role, 1/2 for a rule between c and Any, 0 for
// none, averaged over the peers that have a role.
func (m *Model) peerCredit(h *Host, oi int, c *candidate, x *context, groups [][]peerGroup) float64 {
	if x == nil || x.roles == nil || oi >= len(groups) {
		return 0
	}
	o := h.Observations[oi]
	sides := c.answers
	if o.Dir == Called {
		sides = c.calls
	}
	var sum float64
	n := 0
	for _, g := range groups[oi] {
		refs := x.sets[g.set]
		n += g.n
		best := 0.0
		for _, sd := range sides {
			r := sd.rule
			if !r.HasProto(o.Proto) || catalog.HasPorts(o.Proto) && !catalog.PortsContain(r.Ports, o.Port) {
				continue
			}
			if sd.other.IsAny() {
				best = max(best, anyCredit)
				continue
			}
			if sd.other.Role == nil {
				continue
			}
			for _, ref := range refs {
				if sd.other.Role.Covers(sd.other.Mode, ref.role.ID, ref.mode) {
					best = 1
					break
				}
			}
			if best == 1 {
				break
			}
		}
		sum += best * float64(g.n)
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// peerGroup is how many of an observation's peers play one set of roles.
type peerGroup struct {
	set int // index into context.sets
	n   int
}

// groupPeers groups each observation's peers that have roles by their
// role set, so a server's thousand clients are scored as one group.
func groupPeers(h *Host, x *context) [][]peerGroup {
	if x == nil || x.roles == nil {
		return nil
	}
	out := make([][]peerGroup, len(h.Observations))
	for oi := range h.Observations {
		if oi >= len(h.peers) {
			break
		}
		for _, p := range h.peers[oi] {
			set := x.roles[p]
			if set == 0 {
				continue
			}
			k := slices.IndexFunc(out[oi], func(g peerGroup) bool { return g.set == set })
			if k < 0 {
				out[oi] = append(out[oi], peerGroup{set: set})
				k = len(out[oi]) - 1
			}
			out[oi][k].n++
		}
	}
	return out
}

// peerBoost is how much more an item weighs when the flows that show it
// are documented between the candidate and the peers' roles: its weight
// w becomes w + peerBoost × credit × κ.
const peerBoost = 1.0

// anyCredit is the credit of a rule from or to Any.
const anyCredit = 1.0

func (m *Model) propose(h *Host, opts Options, x *context) {
	h.Roles, h.Tied, h.RunnersUp, h.Product = nil, nil, nil, ""
	minScore := opts.minScore()
	runners := opts.Runners
	if runners == 0 {
		runners = DefaultRunners
	}
	maxRoles := opts.MaxRoles
	if maxRoles <= 0 {
		maxRoles = DefaultMaxRoles
	}
	// The host's items, and which observations activate each.
	var hostItems []int
	obsOf := map[int][]int{}
	for oi, o := range h.Observations {
		for _, i := range m.match(o.Dir, o.Proto, o.Port) {
			if obsOf[i] == nil {
				hostItems = append(hostItems, i)
			}
			obsOf[i] = append(obsOf[i], oi)
		}
	}
	sort.Ints(hostItems)
	if len(hostItems) == 0 {
		return
	}
	var total float64
	for _, i := range hostItems {
		total += m.weight[i] * m.weight[i]
	}
	explains := func(c *candidate) []int {
		seen := map[int]bool{}
		var out []int
		for _, i := range c.items {
			if obsOf[i] == nil {
				continue
			}
			for _, oi := range obsOf[i] {
				if !seen[oi] {
					seen[oi] = true
					out = append(out, oi)
				}
			}
		}
		sort.Ints(out)
		return out
	}
	// The peers' credit per candidate and observation, computed once.
	groups := groupPeers(h, x)
	credits := map[*candidate][]float64{}
	credit := func(c *candidate, oi int) float64 {
		if x == nil || x.roles == nil {
			return 0
		}
		cr, ok := credits[c]
		if !ok {
			cr = make([]float64, len(h.Observations))
			for oi := range h.Observations {
				cr[oi] = m.peerCredit(h, oi, c, x, groups)
			}
			credits[c] = cr
		}
		return cr[oi]
	}
	// An item's weight grows by the kappa (the mean item weight) times
	// the best credit of the observations that show it.
	boost := func(c *candidate, i int) float64 {
		best := 0.0
		for _, oi := range obsOf[i] {
			best = max(best, credit(c, oi))
		}
		if best == 0 || m.weight[i] == 0 {
			return 1
		}
		return 1 + peerBoost*best*m.kappa/m.weight[i]
	}
	aloneOf := map[*candidate]float64{}
	for _, a := range m.rank(hostItems, nil, nil, x) {
		aloneOf[a.c] = a.s
	}
	toCand := func(y scored) Candidate {
		return Candidate{Role: y.c.role, Mode: y.c.mode, Score: y.s, Explains: explains(y.c), Alone: aloneOf[y.c], NamedBy: y.c.products}
	}
	// core is what a candidate explains beyond calls to infrastructure,
	// which every host makes: what tells a front from its server.
	infraObs := make([]bool, len(h.Observations))
	for oi, o := range h.Observations {
		if o.Dir != Called {
			continue
		}
		infraObs[oi] = true
		for _, i := range m.match(o.Dir, o.Proto, o.Port) {
			if !m.infra[i] {
				infraObs[oi] = false
			}
		}
	}
	core := func(c *candidate) []int {
		var out []int
		for _, oi := range explains(c) {
			if !infraObs[oi] {
				out = append(out, oi)
			}
		}
		return out
	}
	all := m.prefer(h, x, m.rank(hostItems, nil, boost, x), core, credit)
	// Greedy cover: the best role, then roles that explain enough of what
	// the roles before them leave.
	residual := hostItems
	chosen := map[string]bool{}
	for len(h.Roles) < maxRoles && len(residual) > 0 {
		rs := all
		if len(h.Roles) > 0 {
			rs = m.prefer(h, x, m.rank(residual, chosen, boost, x), core, credit)
		}
		if len(rs) == 0 || len(h.Roles) > 0 && rs[0].s < minScore {
			break
		}
		best := rs[0]
		var tied []scored
		var equiv []*catalog.Role
		for _, y := range rs[1:] {
			if y.c.role == best.c.role || !sameScore(y.s, best.s) || y.prior != best.prior {
				continue
			}
			if slices.Contains(best.c.equiv, y.c.role) && y.c.mode == "" && best.c.mode == "" {
				if !slices.Contains(equiv, y.c.role) {
					equiv = append(equiv, y.c.role)
				}
				continue
			}
			tied = append(tied, y)
		}
		if len(h.Roles) == 0 && len(tied) > 0 {
			h.Tied = append(h.Tied, toCand(best))
			chosen[best.c.role.ID] = true
			for _, y := range tied {
				if !chosen[y.c.role.ID] {
					h.Tied = append(h.Tied, toCand(y))
					chosen[y.c.role.ID] = true
				}
			}
			break
		}
		if best.s < minScore || len(h.Roles) > 0 && (len(tied) > 0 || best.dot < extraShare*total) {
			break
		}
		// Of equivalent roles, the one first in the catalog is proposed.
		if len(equiv) > 0 {
			for _, r := range equiv {
				if r != best.c.role && m.roleOrder(r) < best.c.order {
					if c := m.candidate(r, ""); c != nil {
						best = scored{c: c, s: best.s, dot: best.dot, prior: best.prior}
					}
				}
			}
			equiv = append(equiv[:0], best.c.equiv...)
		}
		cand := toCand(best)
		if len(equiv) > 0 {
			cand.Equivalent = equiv
		}
		h.Roles = append(h.Roles, cand)
		chosen[best.c.role.ID] = true
		for _, r := range equiv {
			chosen[r.ID] = true
		}
		// What is left for another role: the answered items no role
		// chosen so far explains. Calls alone never add a role.
		var next []int
		for _, i := range residual {
			if m.items[i].dir == Answered && !containsInt(best.c.items, i) {
				next = append(next, i)
			}
		}
		residual = next
	}
	if len(h.Roles) > 0 {
		h.Product = h.Roles[0].Role.Product
	}
	for _, y := range all {
		if runners < 0 || len(h.RunnersUp) >= runners {
			break
		}
		if chosen[y.c.role.ID] || y.s < minScore/2 {
			continue
		}
		h.RunnersUp = append(h.RunnersUp, toCand(y))
		chosen[y.c.role.ID] = true // one entry per role: its best mode
	}
}

// roleOrder is the catalog order of role's plain candidate.
func (m *Model) roleOrder(r *catalog.Role) int {
	if c := m.candidate(r, ""); c != nil {
		return c.order
	}
	return len(m.cands)
}

// prefer drops, for a host not seen forwarding, every role that fronts a
// server role (a load balancer, a gateway) when the server explains all
// the front explains (calls to infrastructure aside), as well documented
// with the peers: the server is
// preferred when the evidence is the same. A host seen forwarding to a
// host given the server's role keeps the front and drops the server, when
// the front explains all the server explains.
func (m *Model) prefer(h *Host, x *context, rs []scored, explains func(*candidate) []int, credit func(*candidate, int) float64) []scored {
	// The ranked candidates of each role, its modes included.
	ranked := map[*catalog.Role][]*candidate{}
	for _, y := range rs {
		ranked[y.c.role] = append(ranked[y.c.role], y.c)
	}
	// A front seen forwarding to its server's role is preferred to
	// that server when the evidence is the same.
	forwarded := map[*candidate]bool{}
	if x != nil && x.roles != nil {
		for _, y := range rs {
			for _, s := range y.c.fronts {
				for _, sc := range ranked[m.cands[s].role] {
					if subset(explains(sc), explains(y.c)) && m.forwards(h, x, y.c, sc) {
						forwarded[sc] = true
					}
				}
			}
		}
	}
	out := rs[:0:0]
	for _, y := range rs {
		if forwarded[y.c] || m.shadowed(h, x, y.c, ranked, explains, credit) {
			continue
		}
		out = append(out, y)
	}
	return out
}

// shadowed says whether front f is dropped for a server it fronts: the
// host was not seen forwarding to the server's role, and some candidate
// of that role explains everything f explains, each observation at least
// as well documented with the peers.
func (m *Model) shadowed(h *Host, x *context, f *candidate, ranked map[*catalog.Role][]*candidate,
	explains func(*candidate) []int, credit func(*candidate, int) float64) bool {
	for _, s := range f.fronts {
		if m.forwards(h, x, f, &m.cands[s]) {
			return false
		}
	}
	for _, s := range f.fronts {
		for _, sc := range ranked[m.cands[s].role] {
			if !subset(explains(f), explains(sc)) {
				continue
			}
			covered := true
			for _, oi := range explains(f) {
				if credit(sc, oi) < credit(f, oi) {
					covered = false
				}
			}
			if covered {
				return true
			}
		}
	}
	return false
}

// forwards says whether h was seen passing connections on to hosts that
// play server s: it called, on a service the front answers, a peer given
// s's role. Without the peers' roles, calling a service it answered is
// enough.
func (m *Model) forwards(h *Host, x *context, front, s *candidate) bool {
	if x == nil || x.roles == nil {
		return h.Forwarding
	}
	for oi, o := range h.Observations {
		if o.Dir != Called || oi >= len(h.peers) || !m.answers(front, o.Proto, o.Port) {
			continue
		}
		for _, p := range h.peers[oi] {
			for _, ref := range x.sets[x.roles[p]] {
				if ref.role == s.role {
					return true
				}
			}
		}
	}
	return false
}

// answers says whether candidate c documents answering proto/port.
func (m *Model) answers(c *candidate, proto uint8, port uint16) bool {
	for _, i := range c.items {
		if m.items[i].contains(Answered, proto, port) {
			return true
		}
	}
	return false
}

type scored struct {
	c     *candidate
	s     float64 // score
	dot   float64 // squared weight explained
	prior int     // products naming the role, when its peers' roles name it; else 0
}

// rank scores every allowed candidate whose role is not in skip against
// the host items, best first; candidates explaining nothing are left out.
// boost, when given, multiplies an item's weight for a candidate by what
// the peers' roles document.
func (m *Model) rank(items []int, skip map[string]bool, boost func(*candidate, int) float64, x *context) []scored {
	// An item weighs, in the host's mass, as much as the most any
	// candidate documents it with the peers' roles: a flow the documents
	// name between the host and its peer must be explained.
	most := make(map[int]float64, len(items))
	if boost != nil {
		for k := range m.cands {
			c := &m.cands[k]
			if !x.allowed(c) || c.mass == 0 {
				continue
			}
			ci := 0
			for _, i := range items {
				for ci < len(c.items) && c.items[ci] < i {
					ci++
				}
				if ci < len(c.items) && c.items[ci] == i {
					most[i] = max(most[i], boost(c, i))
				}
			}
		}
	}
	// The host's mass counts every answered item and every call except
	// unexplained calls to what shared infrastructure answers.
	var base float64
	for _, i := range items {
		if m.items[i].dir == Answered || !m.infra[i] {
			f := max(most[i], 1)
			base += m.weight[i] * m.weight[i] * f * f
		}
	}
	var out []scored
	for k := range m.cands {
		c := &m.cands[k]
		if !x.allowed(c) || skip[c.role.ID] || c.mass == 0 || c.own != nil && !intersects(c.own, items) {
			continue
		}
		var dot, plain, infraCalls, boostAll float64
		boosted := false
		ci := 0
		for _, i := range items {
			for ci < len(c.items) && c.items[ci] < i {
				ci++
			}
			if ci < len(c.items) && c.items[ci] == i {
				w2 := m.weight[i] * m.weight[i]
				f := 1.0
				if boost != nil {
					f = boost(c, i)
				}
				if f > 1 {
					boosted = true
				}
				plain += w2
				boostAll += w2 * (f*f - 1)
				dot += w2 * f * f
				if m.infra[i] {
					infraCalls += w2 * f * f
				}
			}
		}
		// Calls to infrastructure alone make no role: every domain
		// member calls its domain controller.
		if dot > infraCalls {
			precision := dot / (base + infraCalls + m.kappa*m.kappa)
			// The boosted weights count in recall too: what the
			// candidate documents with its peers' roles and was seen
			// weighs more of its table.
			recall := (plain + boostAll) / (c.mass + boostAll)
			y := scored{c: c, s: math.Pow(precision, 1-recallWeight) * math.Pow(recall, recallWeight), dot: plain}
			if boosted {
				y.prior = c.products
			}
			out = append(out, y)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !sameScore(a.s, b.s) {
			return a.s > b.s
		}
		if a.prior != b.prior {
			return a.prior > b.prior
		}
		if !sameScore(a.dot, b.dot) {
			return a.dot > b.dot
		}
		if a.c.role.Name != b.c.role.Name {
			return a.c.role.Name < b.c.role.Name
		}
		return a.c.mode < b.c.mode
	})
	return out
}

// sameScore compares scores up to rounding: equal item sets must tie
// whatever order their sums were taken in.
func sameScore(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(a, b)) }

func containsInt(sorted []int, v int) bool {
	i := sort.SearchInts(sorted, v)
	return i < len(sorted) && sorted[i] == v
}

// intersects says whether two ascending lists share an element.
func intersects(a, b []int) bool {
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			return true
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return false
}
