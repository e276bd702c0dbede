package audit

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/catalog"
)

// What labelling a service depends on, so that it is worked out once per
// run of ports, pair of hosts or address rather than once per service: a
// scan's tens of thousands of services on random ports, or a pilot's
// thousands between the same two roles, cost a few map look-ups each.

// portRuns splits each port protocol's ports into runs that the same
// rules cover: the ports where some rule's range starts or ends. Built
// once per audit and only read afterwards (by every core).
type portRuns struct {
	starts [3][]int32 // tcp, udp, sctp: the first port of each run, from 0
}

func newPortRuns(rules []*catalog.Rule) *portRuns {
	pr := &portRuns{}
	for i, proto := range []uint8{6, 17, 132} {
		starts := []int32{0}
		for _, r := range rules {
			if !r.HasProto(proto) {
				continue
			}
			for _, p := range r.Ports {
				starts = append(starts, int32(p.Lo))
				if p.Hi < 65535 {
					starts = append(starts, int32(p.Hi)+1)
				}
			}
		}
		slices.Sort(starts)
		pr.starts[i] = slices.Compact(starts)
	}
	return pr
}

// run is the index of the run holding port, and the run's first port.
func (pr *portRuns) run(pi int, port uint16) (int, uint16) {
	starts := pr.starts[pi]
	i, found := slices.BinarySearch(starts, int32(port))
	if !found {
		i--
	}
	return i, uint16(starts[i])
}

// candKey names a run of ports: a protocol and the run's first port (0
// for port-less protocols).
type candKey struct {
	proto uint8
	port  uint16
}

// candSet are the rules that cover a run of ports.
type candSet struct {
	key   candKey
	rules []*catalog.Rule
	// byAddr: some rule has an address side, so which rules match
	// depends on the service's addresses, not only on its hosts.
	byAddr bool
	// the hosts the rules matched last, and those that did
	last      ruleKey
	lastRules []*catalog.Rule
	lastOK    bool
}

// ruleKey is what the rules matching a service depend on when no
// candidate has an address side.
type ruleKey struct {
	client, server *inventory.Host
	cands          candKey
	multicast      bool
}

// hintKey is what the closest-rules hint depends on: the two hosts (nil
// for hosts not in the inventory) and the run of ports.
type hintKey struct {
	client, server *inventory.Host
	cands          candKey
}

// caches are one core's: labelAll gives each its own, so none is shared.
type caches struct {
	runs     [3][]*candSet // by protoIndex, then run
	portless map[uint8]*candSet
	rules    map[ruleKey][]*catalog.Rule
	// hint texts: by port, by run of ports, by hosts, by address
	portHint    map[protoPort]string
	portSuffix  map[candKey]string
	closestHint map[hintKey]string
	clientHint  map[netip.Addr]string
	serverHint  map[netip.Addr]string
	closeRules  map[[2]*inventory.Host][]closeRule
	// the last client looked up: services come sorted by client
	lastClient         netip.Addr
	lastClientHost     *inventory.Host
	lastClientHintAddr netip.Addr
	lastClientHint     string
	// slices handed out to flows, carved from larger ones
	strs     arena[string]
	ruleBuf  arena[*catalog.Rule]
	evidence arena[BlockEvidence]
	scratch  []string
	matched  []*catalog.Rule
	seen     flowRules // the rules the flows labelled showed
}

func newCaches() caches {
	return caches{portless: map[uint8]*candSet{}, rules: map[ruleKey][]*catalog.Rule{},
		portHint: map[protoPort]string{}, portSuffix: map[candKey]string{}, closestHint: map[hintKey]string{},
		clientHint: map[netip.Addr]string{}, serverHint: map[netip.Addr]string{}, closeRules: map[[2]*inventory.Host][]closeRule{},
		seen: newFlowRules()}
}

// arena hands out small slices of a larger one: a flow's hints and rules
// cost no allocation of their own. Each slice's capacity is its length,
// so appending to one copies it rather than overwriting the next.
type arena[T any] struct{ buf []T }

const arenaChunk = 4096

// copy is a slice holding xs; nil for none.
func (ar *arena[T]) copy(xs []T) []T {
	n := len(xs)
	if n == 0 {
		return nil
	}
	if len(ar.buf) < n {
		ar.buf = make([]T, max(n, arenaChunk))
	}
	s := ar.buf[:n:n]
	ar.buf = ar.buf[n:]
	copy(s, xs)
	return s
}

// new is a pointer to a zero T.
func (ar *arena[T]) new() *T {
	if len(ar.buf) == 0 {
		ar.buf = make([]T, arenaChunk/16)
	}
	p := &ar.buf[0]
	ar.buf = ar.buf[1:]
	return p
}

// candidates are the rules covering proto and port.
func (a *auditor) candidates(proto uint8, port uint16) *candSet {
	pi := catalog.PortProtoIndex(proto) // portRuns.starts is laid out so
	if pi < 0 {
		if cs, ok := a.c.portless[proto]; ok {
			return cs
		}
		cs := a.newCandSet(candKey{proto, 0}, 0)
		a.c.portless[proto] = cs
		return cs
	}
	runs := a.c.runs[pi]
	if runs == nil {
		runs = make([]*candSet, len(a.ports.starts[pi]))
		a.c.runs[pi] = runs
	}
	i, first := a.ports.run(pi, port)
	if cs := runs[i]; cs != nil {
		return cs
	}
	cs := a.newCandSet(candKey{proto, first}, first)
	runs[i] = cs
	return cs
}

func (a *auditor) newCandSet(k candKey, port uint16) *candSet {
	cs := &candSet{key: k}
	for _, r := range a.rules {
		if r.CoversPort(k.proto, port) {
			cs.rules = append(cs.rules, r)
			cs.byAddr = cs.byAddr || len(r.From.Addrs) > 0 || len(r.To.Addrs) > 0
		}
	}
	return cs
}

// matching are the candidates that document a service between hosts ch
// and sh, by id.
func (a *auditor) matching(cs *candSet, s *Service, ch, sh *inventory.Host, multicast bool) []*catalog.Rule {
	k := ruleKey{ch, sh, cs.key, multicast}
	if !cs.byAddr {
		if cs.lastOK && cs.last == k {
			return cs.lastRules
		}
		if rs, ok := a.c.rules[k]; ok {
			cs.last, cs.lastRules, cs.lastOK = k, rs, true
			return rs
		}
	}
	m := a.c.matched[:0]
	for _, r := range cs.rules {
		if a.ruleMatches(r, s, ch, sh, multicast) {
			m = append(m, r)
		}
	}
	slices.SortFunc(m, byID)
	a.c.matched = m
	for _, r := range m {
		k := ruleProto{r, cs.key.proto}
		a.c.seen.documented[k], a.c.seen.attempted[k] = true, true
	}
	if cs.byAddr {
		return a.c.ruleBuf.copy(m)
	}
	rs := slices.Clip(slices.Clone(m))
	if len(rs) == 0 {
		rs = nil
	}
	a.c.rules[k] = rs
	cs.last, cs.lastRules, cs.lastOK = k, rs, true
	return rs
}

func byID(x, y *catalog.Rule) int { return strings.Compare(x.ID, y.ID) }

// lookupClient is the client's inventory host, remembered from the last
// service's when it is the same client.
func (a *auditor) lookupClient(addr netip.Addr) *inventory.Host {
	if addr != a.c.lastClient {
		a.c.lastClient, a.c.lastClientHost = addr, a.inv.Lookup(addr)
	}
	return a.c.lastClientHost
}

// noRoleHint is "client 192.0.2.7 is not in the inventory, so it has no
// role", once per address.
func noRoleHint(cache map[netip.Addr]string, side string, addr netip.Addr) string {
	if h, ok := cache[addr]; ok {
		return h
	}
	h := side + " " + addr.String() + " is not in the inventory, so it has no role"
	cache[addr] = h
	return h
}
