package infer

import (
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/catalog"
)

// Inside-address ties (see the package comment, "Inside addresses").
const (
	// InsideWindow is how soon after a client's connection to a front
	// address began (and while it was open) a connection of the inside
	// address must start to count as passed on.
	InsideWindow = time.Second
	// insideMinFollowing is the fewest connections that must follow.
	insideMinFollowing = 2
	// insideMaxChance is the highest probability, for connections
	// starting at random times, that as many of them follow by chance.
	insideMaxChance = 1e-3
)

// insideTie is an inside address found for a front: how many of its
// connections to the servers behind the front followed a client's
// connection to the front, and how likely that is by chance.
type insideTie struct {
	front, inside *Host
	n, m          int
	lag           time.Duration // the longest delay of the n
	// followed of the windows (the clients' connections to the front it
	// could pass on) hold the start of one of its connections.
	followed, windows int
	chance            float64
	servers           []string // the roles it called behind the front
}

func (t insideTie) text() string {
	return fmt.Sprintf("%s is the inside address of %s, tied by forwarding: %d of %d of its connections to the servers behind it (%s) "+
		"started within %d ms after a client's connection to %s began, while that was open (by chance: p %s); "+
		"%d of the %d clients' connections it could pass on were followed",
		strings.Join(addrStrings(t.inside.AllAddrs()), ", "), t.front.Addr, t.n, t.m, strings.Join(t.servers, ", "),
		t.lag.Milliseconds(), t.front.Addr, chanceText(t.chance), t.followed, t.windows)
}

func addrStrings(as []netip.Addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

// chanceText is "< 0.0001" or "= 0.0005".
func chanceText(p float64) string {
	if p < 1e-4 {
		return "< 0.0001"
	}
	return "= " + strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", p), "0"), ".")
}

// tieInside finds the inside addresses of the hosts proposed as a front
// (a gateway or load balancer role that fronts servers) from the
// connections' spans in flows, and makes each the front's address:
// the inside host is merged into the front's and leaves hosts.
func (m *Model) tieInside(hosts []*Host, flows []flow.Service, scope map[string]bool) []*Host {
	if len(flows) == 0 {
		return hosts
	}
	hostOf := map[netip.Addr]*Host{}
	for _, h := range hosts {
		for _, a := range h.AllAddrs() {
			hostOf[a.Unmap()] = h
		}
	}
	// The services each host called and answered, as indices into flows.
	byClient, byServer := map[*Host][]int{}, map[*Host][]int{}
	var first, last time.Time
	for i := range flows {
		s := &flows[i]
		if first.IsZero() || s.First.Before(first) {
			first = s.First
		}
		if s.Last.After(last) {
			last = s.Last
		}
		if h := hostOf[s.Client.Unmap()]; h != nil {
			byClient[h] = append(byClient[h], i)
		}
		if h := hostOf[s.Server.Unmap()]; h != nil {
			byServer[h] = append(byServer[h], i)
		}
	}
	span := last.Sub(first)
	if span <= 0 {
		return hosts
	}
	// The addresses that may be inside ones: they called something and
	// answered nothing a role of the products in scope documents.
	x := &context{scope: scope}
	docItem := make([]bool, len(m.items))
	for k := range m.cands {
		if c := &m.cands[k]; x.allowed(c) {
			for _, i := range c.items {
				docItem[i] = true
			}
		}
	}
	var insides []*Host
	for _, b := range hosts {
		calls, documented := false, false
		for _, o := range b.Observations {
			if o.Dir == Called {
				calls = true
				continue
			}
			for _, i := range m.match(o.Dir, o.Proto, o.Port) {
				documented = documented || docItem[i]
			}
		}
		if calls && !documented {
			insides = append(insides, b)
		}
	}
	var ties []insideTie
	for _, a := range hosts {
		fc := m.frontOf(a, hostOf)
		if fc == nil {
			continue
		}
		windows := m.clientWindows(a, fc, flows, byServer[a], hostOf)
		if len(windows) == 0 {
			continue
		}
		f := min(1, float64(coverage(windows))/float64(span))
		// The endpoints that call the front, by the documents.
		callers := map[string]bool{}
		for _, sd := range fc.answers {
			callers[sd.other.String()] = true
		}
		for _, b := range insides {
			if b == a {
				continue
			}
			backends, roles := m.insideCalls(a, b, hostOf, fc, callers)
			if len(backends) == 0 {
				continue
			}
			t := insideTie{front: a, inside: b, servers: roles, windows: len(windows)}
			var starts []time.Time
			for _, i := range byClient[b] {
				s := &flows[i]
				if !backends[backendKey{hostOf[s.Server.Unmap()], s.Proto, servicePort(s.Proto, s.Port)}] {
					continue
				}
				for _, sp := range s.Spans {
					t.m++
					starts = append(starts, sp.StartTime())
					if lag, ok := follows(windows, sp.StartTime()); ok {
						t.n++
						t.lag = max(t.lag, lag)
					}
				}
			}
			t.followed = followed(windows, starts)
			if t.n < insideMinFollowing || 2*t.followed <= t.windows {
				continue
			}
			t.chance = binomialTail(t.m, t.n, f)
			if t.chance <= insideMaxChance {
				ties = append(ties, t)
			}
		}
	}
	// Only a unique pairing ties: one inside address per front, one front
	// per inside address.
	perFront, perInside := map[*Host]int{}, map[*Host]int{}
	for _, t := range ties {
		perFront[t.front]++
		perInside[t.inside]++
	}
	gone := map[*Host]bool{}
	for _, t := range ties {
		if perFront[t.front] != 1 || perInside[t.inside] != 1 || gone[t.front] || gone[t.inside] {
			continue
		}
		mergeInside(t)
		gone[t.inside] = true
	}
	if len(gone) == 0 {
		return hosts
	}
	return slices.DeleteFunc(hosts, func(h *Host) bool { return gone[h] })
}

// frontOf is the candidate of h's best role when it fronts servers and
// h makes no calls but neutral ones (see neutral); else nil.
func (m *Model) frontOf(h *Host, hostOf map[netip.Addr]*Host) *candidate {
	if len(h.Roles) == 0 {
		return nil
	}
	c := m.candidate(h.Roles[0].Role, h.Roles[0].Mode)
	if c == nil || len(c.fronts) == 0 {
		return nil
	}
	for oi, o := range h.Observations {
		if o.Dir != Called {
			continue
		}
		for _, p := range h.peers[oi] {
			if !m.neutral(o, hostOf[p]) {
				return nil
			}
		}
	}
	return c
}

// neutral says whether a call tells nothing about a gateway's forwarding:
// a call no role documents, or a call to what shared infrastructure
// answers (directory, name, time, web) at a peer with no role or only
// shared infrastructure roles.
func (m *Model) neutral(o Observation, peer *Host) bool {
	items := m.match(o.Dir, o.Proto, o.Port)
	if len(items) == 0 {
		return true
	}
	for _, i := range items {
		if !m.infra[i] {
			return false
		}
	}
	if peer == nil {
		return true
	}
	for _, r := range peer.Roles {
		if r.Role.Product != SharedProduct {
			return false
		}
	}
	return true
}

// window is when a client's connection to a front could be passed on:
// from its start until InsideWindow later or its end, whichever is first.
type window struct{ from, to time.Time }

// clientWindows are the windows of the connections a's clients made to
// the services its front role fc answers and a answered (served: the
// services a was the server of, as indices into flows).
func (m *Model) clientWindows(a *Host, fc *candidate, flows []flow.Service, served []int, hostOf map[netip.Addr]*Host) []window {
	var out []window
	for _, i := range served {
		s := &flows[i]
		if hostOf[s.Client.Unmap()] == a || !m.answers(fc, s.Proto, s.Port) {
			continue
		}
		for _, sp := range s.Spans {
			if sp.Outcome != flow.Established && sp.Outcome != flow.Partial || sp.End < sp.Start {
				continue
			}
			from, to := sp.StartTime(), sp.EndTime()
			if d := from.Add(InsideWindow); d.Before(to) {
				to = d
			}
			out = append(out, window{from, to})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].from.Equal(out[j].from) {
			return out[i].from.Before(out[j].from)
		}
		return out[i].to.Before(out[j].to)
	})
	return out
}

// coverage is the time the windows (sorted by start) cover together.
func coverage(ws []window) time.Duration {
	var total time.Duration
	var cur window
	for i, w := range ws {
		if i == 0 || w.from.After(cur.to) {
			if i > 0 {
				total += cur.to.Sub(cur.from)
			}
			cur = w
			continue
		}
		if w.to.After(cur.to) {
			cur.to = w.to
		}
	}
	if len(ws) > 0 {
		total += cur.to.Sub(cur.from)
	}
	return total
}

// follows says whether t falls in a window (sorted by start), and how
// long after the latest such window's start.
func follows(ws []window, t time.Time) (time.Duration, bool) {
	n := sort.Search(len(ws), func(i int) bool { return ws[i].from.After(t) })
	for i := n - 1; i >= 0; i-- {
		if !t.After(ws[i].to) {
			return t.Sub(ws[i].from), true
		}
		if t.Sub(ws[i].from) > InsideWindow {
			break // earlier windows began longer ago still
		}
	}
	return 0, false
}

// followed is how many windows (sorted by start) hold one of starts.
func followed(ws []window, starts []time.Time) int {
	slices.SortFunc(starts, time.Time.Compare)
	n := 0
	for _, w := range ws {
		i := sort.Search(len(starts), func(i int) bool { return !starts[i].Before(w.from) })
		if i < len(starts) && !starts[i].After(w.to) {
			n++
		}
	}
	return n
}

type backendKey struct {
	server *Host
	proto  uint8
	port   uint16
}

// servicePort is a service's port as an observation holds it: none for
// port-less protocols other than ICMP.
func servicePort(proto uint8, port uint16) uint16 {
	if !catalog.HasPorts(proto) && proto != 1 && proto != 58 {
		return 0
	}
	return port
}

// insideCalls returns b's calls to the servers behind front a (role fc,
// called by the endpoints callers): to a peer given a role of fc's
// product that the documents have the front's callers reach directly on
// that service (see behind). It returns nothing when b called a or was
// called by it, or made any other call that is not neutral; roles are the
// roles it called behind a. b answered nothing documented (tieInside
// checks).
func (m *Model) insideCalls(a, b *Host, hostOf map[netip.Addr]*Host, fc *candidate, callers map[string]bool) (map[backendKey]bool, []string) {
	for oi := range b.Observations {
		if slices.Contains(b.peers[oi], a.Addr) {
			return nil, nil
		}
	}
	out := map[backendKey]bool{}
	roles := map[string]bool{}
	for oi, o := range b.Observations {
		if o.Dir != Called {
			continue
		}
		for _, p := range b.peers[oi] {
			peer := hostOf[p]
			if role := m.behind(fc, o, peer, callers); role != "" {
				out[backendKey{peer, o.Proto, o.Port}] = true
				roles[role] = true
				continue
			}
			if !m.neutral(o, peer) {
				return nil, nil
			}
		}
	}
	return out, slices.Sorted(maps.Keys(roles))
}

// behind is the name of the role peer plays behind front fc when the
// documents have the front's callers reach that role directly on o's
// service: a role of the front's product, other than the front's own
// and those documented alike, answering by a rule of its own a caller of
// the front (a Horizon Client reaches the Connection Server on 443 and
// the Horizon Agent on 22443, as it reaches the UAG). "" otherwise.
func (m *Model) behind(fc *candidate, o Observation, peer *Host, callers map[string]bool) string {
	if peer == nil {
		return ""
	}
	for _, pc := range peer.Roles {
		if pc.Role == fc.role || pc.Role.Product != fc.role.Product || slices.Contains(fc.equiv, pc.Role) {
			continue
		}
		s := m.candidate(pc.Role, "")
		if s == nil {
			continue
		}
		for _, sd := range s.answers {
			r := sd.rule
			if callers[sd.other.String()] && r.HasProto(o.Proto) && (!catalog.HasPorts(o.Proto) || catalog.PortsContain(r.Ports, o.Port)) {
				return s.role.Name
			}
		}
	}
	return ""
}

// binomialTail is the probability of at least k successes in n trials
// of probability p.
func binomialTail(n, k int, p float64) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n || p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	var sum float64
	lgN, _ := math.Lgamma(float64(n + 1))
	for i := k; i <= n; i++ {
		lgI, _ := math.Lgamma(float64(i + 1))
		lgR, _ := math.Lgamma(float64(n - i + 1))
		sum += math.Exp(lgN - lgI - lgR + float64(i)*math.Log(p) + float64(n-i)*math.Log1p(-p))
	}
	return min(1, sum)
}

// mergeInside makes t's inside host part of its front host: its addresses
// follow the front's, its observations join the front's (the roles keep
// explaining what they explained), and the tie's evidence is TiedBy.
func mergeInside(t insideTie) {
	a, b := t.front, t.inside
	how := []string{}
	if a.TiedBy != "" {
		how = append(how, a.TiedBy)
	}
	how = append(how, t.text())
	if b.TiedBy != "" {
		how = append(how, "its inside address: "+b.TiedBy)
	}
	var notes []string
	for _, n := range []string{a.Note, b.Note} {
		if n != "" {
			notes = append(notes, n)
		}
	}
	a.Addrs = append(slices.Clone(a.AllAddrs()), b.AllAddrs()...)
	a.TiedBy = strings.Join(how, "; ")
	a.Note = strings.Join(notes, "; ")
	type key struct {
		dir   Direction
		proto uint8
		port  uint16
	}
	keyOf := func(o Observation) key { return key{o.Dir, o.Proto, o.Port} }
	var keys []key
	obs := map[key]Observation{}
	peers := map[key][]netip.Addr{}
	for _, h := range []*Host{a, b} {
		for oi, o := range h.Observations {
			k := keyOf(o)
			if prev, ok := obs[k]; ok {
				prev.Connections += o.Connections
				obs[k] = prev
			} else {
				keys = append(keys, k)
				obs[k] = o
			}
			for _, p := range h.peers[oi] {
				if !slices.Contains(peers[k], p) {
					peers[k] = append(peers[k], p)
				}
			}
		}
	}
	slices.SortFunc(keys, func(x, y key) int {
		if x.dir != y.dir {
			return int(x.dir) - int(y.dir)
		}
		if x.proto != y.proto {
			return int(x.proto) - int(y.proto)
		}
		return int(x.port) - int(y.port)
	})
	index := map[key]int{}
	merged := make([]Observation, len(keys))
	mergedPeers := make([][]netip.Addr, len(keys))
	for i, k := range keys {
		o := obs[k]
		ps := peers[k]
		slices.SortFunc(ps, netip.Addr.Compare)
		o.Peers = len(ps)
		merged[i], mergedPeers[i], index[k] = o, ps, i
	}
	remap := func(cs []Candidate) {
		for ci := range cs {
			ex := make([]int, len(cs[ci].Explains))
			for j, oi := range cs[ci].Explains {
				ex[j] = index[keyOf(a.Observations[oi])]
			}
			sort.Ints(ex)
			cs[ci].Explains = ex
		}
	}
	remap(a.Roles)
	remap(a.Tied)
	remap(a.RunnersUp)
	a.Observations, a.peers = merged, mergedPeers
	a.Forwarding = forwarding(a)
}
