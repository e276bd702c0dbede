package infer

import (
	"net/netip"
	"slices"
	"sort"

	"github.com/flowaudit/flowaudit/analyzer/audit"
)

// Product decision thresholds: a product is shown by a capture when its
// distinctive services (single ports only its roles name) were seen at
// least minDistinctive times (distinct protocol and port); when no
// product reaches that, one distinctive service is enough.
const minDistinctive = 2

// minDistinctiveRules is how many rules, not optional, must name a single
// port for it to be distinctive of the product whose roles alone name it.
const minDistinctiveRules = 2

// ProductEvidence is why a product's roles are proposed or not.
type ProductEvidence struct {
	Product string
	// Services are the product's distinctive services seen, "4172/udp",
	// in protocol and port order.
	Services []string
	// Present: the product's roles are candidates.
	Present bool
	// Reason says how the decision was made: "distinctive services",
	// "given" (NewModel's products), "all products" (Options.AllProducts)
	// or "nothing distinctive" (every product is a candidate).
	Reason string
}

// Decide says which products the hosts' traffic shows, from the
// distinctive services any host answered or called. Shared infrastructure
// is not a product here: its roles are always candidates.
func (m *Model) Decide(hosts []*Host, opts Options) []ProductEvidence {
	type svc struct {
		proto uint8
		port  uint16
	}
	seen := map[string]map[svc]bool{}
	for _, h := range hosts {
		for _, o := range h.Observations {
			for _, i := range m.match(o.Dir, o.Proto, o.Port) {
				if p := m.distinctive[i]; p != "" {
					if seen[p] == nil {
						seen[p] = map[svc]bool{}
					}
					seen[p][svc{o.Proto, o.Port}] = true
				}
			}
		}
	}
	products := map[string]bool{}
	for k := range m.cands {
		if p := m.cands[k].role.Product; p != SharedProduct && m.cands[k].scoped {
			products[p] = true
		}
	}
	names := make([]string, 0, len(products))
	for p := range products {
		names = append(names, p)
	}
	sort.Strings(names)
	best := 0
	for _, p := range names {
		best = max(best, len(seen[p]))
	}
	need := minDistinctive
	if best < need {
		need = max(best, 1)
	}
	var out []ProductEvidence
	for _, p := range names {
		e := ProductEvidence{Product: p, Services: []string{}}
		var ss []svc
		for s := range seen[p] {
			ss = append(ss, s)
		}
		sort.Slice(ss, func(i, j int) bool {
			if ss[i].proto != ss[j].proto {
				return ss[i].proto < ss[j].proto
			}
			return ss[i].port < ss[j].port
		})
		for _, s := range ss {
			e.Services = append(e.Services, audit.ServiceName(s.proto, s.port))
		}
		switch {
		case m.fixed:
			e.Present, e.Reason = true, "given"
		case opts.AllProducts:
			e.Present, e.Reason = true, "all products"
		case best == 0:
			e.Present, e.Reason = true, "nothing distinctive"
		default:
			e.Present, e.Reason = len(ss) >= need, "distinctive services"
		}
		out = append(out, e)
	}
	return out
}

// maxRounds bounds the host-by-host improvement.
const maxRounds = 6

// assign proposes roles for every host: first on its own evidence, then
// round by round with what its peers were given in the round before,
// until no host's roles change. It returns the number of rounds after
// the first.
func (m *Model) assign(hosts []*Host, scope map[string]bool, opts Options) int {
	x := &context{scope: scope}
	for _, h := range hosts {
		m.propose(h, opts, x)
	}
	rounds := 0
	for rounds < maxRounds {
		// Role sets are interned: peers playing the same roles are
		// scored once per observation.
		x = &context{scope: scope, roles: map[netip.Addr]int{}, sets: [][]roleRef{nil}}
		ids := map[string]int{}
		before := make([][]roleRef, len(hosts))
		for k, h := range hosts {
			refs := refsOf(h)
			before[k] = refs
			if opts.Known != nil {
				for _, a := range h.AllAddrs() { // the first address known decides
					if known := opts.Known(a); len(known) > 0 {
						refs = refs[:0:0]
						for _, kr := range known {
							refs = append(refs, roleRef{kr.Role, kr.Mode})
						}
						break
					}
				}
			}
			if len(refs) == 0 {
				continue
			}
			key := ""
			for _, r := range refs {
				key += r.role.ID + "\x00" + r.mode + "\x00"
			}
			id, ok := ids[key]
			if !ok {
				id = len(x.sets)
				ids[key] = id
				x.sets = append(x.sets, refs)
			}
			x.roles[h.Addr] = id
		}
		changed := false
		for k, h := range hosts {
			m.propose(h, opts, x)
			if !slices.Equal(refsOf(h), before[k]) {
				changed = true
			}
		}
		rounds++
		if !changed {
			break
		}
	}
	return rounds
}

// refsOf is the roles a host may play for its peers: the proposed ones,
// or, when it is ambiguous, every tied role.
func refsOf(h *Host) []roleRef {
	cs := h.Roles
	if len(cs) == 0 {
		cs = h.Tied
	}
	var out []roleRef
	for _, c := range cs {
		out = append(out, roleRef{c.Role, c.Mode})
		for _, r := range c.Equivalent {
			out = append(out, roleRef{r, ""})
		}
	}
	return out
}
