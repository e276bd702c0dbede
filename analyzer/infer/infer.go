package infer

import (
	"math"
	"net/netip"

	"sort"

	"github.com/flowaudit/flowaudit/analyzer/audit"
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
}

// Name is the role's display name, with its mode.
func (c Candidate) Name() string { return c.Role.DisplayName(c.Mode) }

// Host is one address seen in the captures, what it did, and the roles
// proposed for it.
type Host struct {
	Addr         netip.Addr
	Observations []Observation // answered first, then called; by protocol and port
	Roles        []Candidate   // proposed roles, best first; empty if nothing fits
	// Tied are the roles that fit best and equally well when the
	// evidence cannot tell them apart, whatever their score; Roles is
	// then empty.
	Tied []Candidate
	// RunnersUp are the other roles that fit best, one entry per role,
	// scoring at least half of MinScore.
	RunnersUp []Candidate
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
	hosts := collect(services, m)
	for _, h := range hosts {
		m.Propose(h, opts)
	}
	return hosts
}

// collect gathers each eligible address's observations.
func collect(services []audit.Service, m *Model) []*Host {
	acc := map[obsKey]*obsAcc{}
	note := func(addr netip.Addr, dir Direction, s *audit.Service, peer netip.Addr) {
		k := obsKey{addr.Unmap(), dir, s.Proto, s.Port}
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
			hosts = append(hosts, &Host{Addr: k.addr})
		}
		h := hosts[len(hosts)-1]
		a := acc[k]
		h.Observations = append(h.Observations, Observation{Dir: k.dir, Proto: k.proto, Port: k.port,
			Peers: len(a.peers), Connections: a.conns, Weight: m.Weight(k.dir, k.proto, k.port)})
	}
	return hosts
}

// Propose fills h.Roles, h.Tied and h.RunnersUp from h.Observations.
func (m *Model) Propose(h *Host, opts Options) {
	h.Roles, h.Tied, h.RunnersUp = nil, nil, nil
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
	toCand := func(x scored) Candidate {
		return Candidate{Role: x.c.role, Mode: x.c.mode, Score: x.s, Explains: explains(x.c)}
	}
	all := m.rank(hostItems, nil)
	// Greedy cover: the best role, then roles that explain enough of what
	// the roles before them leave.
	residual := hostItems
	chosen := map[string]bool{}
	for len(h.Roles) < maxRoles && len(residual) > 0 {
		rs := m.rank(residual, chosen)
		if len(rs) == 0 || len(h.Roles) > 0 && rs[0].s < minScore {
			break
		}
		best := rs[0]
		var tied []scored
		for _, x := range rs[1:] {
			if x.c.role != best.c.role && sameScore(x.s, best.s) {
				tied = append(tied, x)
			}
		}
		if len(h.Roles) == 0 && len(tied) > 0 {
			h.Tied = append(h.Tied, toCand(best))
			chosen[best.c.role.ID] = true
			for _, x := range tied {
				if !chosen[x.c.role.ID] {
					h.Tied = append(h.Tied, toCand(x))
					chosen[x.c.role.ID] = true
				}
			}
			break
		}
		if best.s < minScore || len(h.Roles) > 0 && (len(tied) > 0 || best.dot < extraShare*total) {
			break
		}
		h.Roles = append(h.Roles, toCand(best))
		chosen[best.c.role.ID] = true
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
	for _, x := range all {
		if runners < 0 || len(h.RunnersUp) >= runners {
			break
		}
		if chosen[x.c.role.ID] || x.s < minScore/2 {
			continue
		}
		h.RunnersUp = append(h.RunnersUp, toCand(x))
		chosen[x.c.role.ID] = true // one entry per role: its best mode
	}
}

type scored struct {
	c   *candidate
	s   float64 // score
	dot float64 // squared weight explained
}

// rank scores every candidate whose role is not in skip against the host
// items, best first; candidates explaining nothing are left out.
func (m *Model) rank(items []int, skip map[string]bool) []scored {
	// The host's mass counts every answered item and every call except
	// unexplained calls to what shared infrastructure answers.
	var base float64
	for _, i := range items {
		if m.items[i].dir == Answered || !m.infra[i] {
			base += m.weight[i] * m.weight[i]
		}
	}
	var out []scored
	for k := range m.cands {
		c := &m.cands[k]
		if skip[c.role.ID] || c.mass == 0 || c.own != nil && !intersects(c.own, items) {
			continue
		}
		var dot, infraCalls float64
		ci := 0
		for _, i := range items {
			for ci < len(c.items) && c.items[ci] < i {
				ci++
			}
			if ci < len(c.items) && c.items[ci] == i {
				w2 := m.weight[i] * m.weight[i]
				dot += w2
				if m.infra[i] {
					infraCalls += w2
				}
			}
		}
		// Calls to infrastructure alone make no role: every domain
		// member calls its domain controller.
		if dot > infraCalls {
			precision := dot / (base + infraCalls + m.kappa*m.kappa)
			recall := dot / c.mass
			out = append(out, scored{c, math.Pow(precision, 1-recallWeight) * math.Pow(recall, recallWeight), dot})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !sameScore(a.s, b.s) {
			return a.s > b.s
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
