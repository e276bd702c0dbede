package infer

import (
	"math"
	"slices"
	"sort"

	"github.com/flowaudit/flowaudit/catalog"
)

// Direction says which side of a service a host was on.
type Direction uint8

// Directions.
const (
	Answered Direction = iota // the host was the server and answered
	Called                    // the host was the client
)

func (d Direction) String() string {
	if d == Answered {
		return "answered"
	}
	return "called"
}

// item is one documented (direction, protocol, port range): the unit the
// score counts. Port-less protocols have the range {0, 0} and ports false.
type item struct {
	dir   Direction
	proto uint8
	ports bool
	r     catalog.PortRange
}

func (it item) contains(dir Direction, proto uint8, port uint16) bool {
	return it.dir == dir && it.proto == proto && (!it.ports || it.r.Contains(port))
}

// specificity is the share of a port number's 16 bits that the item's
// range pins down: 1 for a single port (or a port-less protocol), 0 for
// every port. A range of width W carries 1 - log2(W)/16.
func (it item) specificity() float64 {
	if !it.ports {
		return 1
	}
	w := uint32(it.r.Hi) - uint32(it.r.Lo) + 1
	return 1 - math.Log2(float64(w))/16
}

type protoRange struct {
	proto uint8
	r     catalog.PortRange
}

// candidate is a role a host may be given: a plain role, or one of its
// modes.
type candidate struct {
	role  *catalog.Role
	mode  string
	items []int   // indices into Model.items, ascending
	mass  float64 // Σ w² over items
	// own are a mode's items the role's mode-less rules do not give:
	// a mode is only a candidate when some of them were seen, so it
	// never wins over its plain role by what was not seen.
	own []int
	// answers and calls are the rule sides the candidate takes part in,
	// with the endpoint at the other end: what its peers must be for an
	// observation to be documented between the two.
	answers, calls []ruleSide
	// products is the number of products whose rules name the role: a
	// role several vendors' tables name is the likelier of two that fit
	// the same flows equally.
	products int
	// ruleProducts are the products of the rules naming the role: a
	// shared infrastructure role is only a candidate where one of them
	// is (a report server only RAS documents is not one in Horizon).
	ruleProducts []string
	order        int // the role's place in the catalog
	// fronts are the candidates (of the same product, not shared) whose
	// answered items include all of this one's, when this one calls only
	// what it answers: a load balancer or gateway in front of servers.
	fronts []int
	// equiv are the other plain roles that take part in exactly the same
	// rules on the same sides: no capture can tell them apart.
	equiv []*catalog.Role
	// scoped: a candidate under NewModel's products (all when none).
	scoped bool
}

// ruleSide is a rule a candidate takes part in and the endpoint at its
// other end.
type ruleSide struct {
	rule  *catalog.Rule
	other catalog.Endpoint
}

// Model is a catalog made ready for inference: every documented item with
// its weight, and every candidate role with the items it documents. It is
// read-only once built and safe for concurrent use.
type Model struct {
	items  []item
	weight []float64 // per item
	roles  int       // N: plain roles documenting anything
	kappa  float64   // the host's pseudo-item: the mean item weight
	// infra[i]: item i is a call to a service shared infrastructure
	// answers (directory, name, time, database, web, cloud).
	infra []bool
	cands []candidate
	byKey map[dirProto][]int // items per direction and protocol
	// fixed says the candidates were narrowed to products by NewModel:
	// Infer then does not decide the products itself.
	fixed bool
	// distinctive[i] is the product whose roles alone name item i's
	// single port (tcp/1494 citrix, udp/4172 horizon …), or "".
	distinctive []string
}

type dirProto struct {
	dir   Direction
	proto uint8
}

// SharedProduct is the product of the infrastructure roles every product
// talks to (catalog/data/shared.yaml).
const SharedProduct = "shared"

// NewModel builds the inference model from every rule of cat. Weights are
// a property of the whole catalog; products, when given, only limits the
// candidate roles to those products and shared infrastructure.
func NewModel(cat *catalog.Catalog, products []string) *Model {
	m := newModel(cat.Roles(), cat.Rules(), func(r *catalog.Role) bool {
		return len(products) == 0 || r.Product == SharedProduct || slices.Contains(products, r.Product)
	})
	m.fixed = len(products) > 0
	return m
}

// itemSet is what a host playing a role shows.
type itemSet map[int]bool

func (s itemSet) sorted() []int {
	out := make([]int, 0, len(s))
	for i := range s {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

func newModel(roles []*catalog.Role, rules []*catalog.Rule, isCandidate func(*catalog.Role) bool) *Model {
	m := &Model{byKey: map[dirProto][]int{}}
	index := map[item]int{}
	add := func(it item) int {
		if i, ok := index[it]; ok {
			return i
		}
		i := len(m.items)
		index[it] = i
		m.items = append(m.items, it)
		m.byKey[dirProto{it.dir, it.proto}] = append(m.byKey[dirProto{it.dir, it.proto}], i)
		return i
	}
	// ruleItems[k] are the items rule k gives its To side (listen) and its
	// From side (call).
	type sides struct{ listen, call []int }
	ruleItems := make([]sides, len(rules))
	for k, r := range rules {
		for _, p := range r.Protocols {
			if !catalog.HasPorts(p) {
				ruleItems[k].listen = append(ruleItems[k].listen, add(item{dir: Answered, proto: p}))
				ruleItems[k].call = append(ruleItems[k].call, add(item{dir: Called, proto: p}))
				continue
			}
			for _, pr := range r.Ports {
				ruleItems[k].listen = append(ruleItems[k].listen, add(item{dir: Answered, proto: p, ports: true, r: pr}))
				ruleItems[k].call = append(ruleItems[k].call, add(item{dir: Called, proto: p, ports: true, r: pr}))
			}
		}
	}
	// itemsOf collects what a host playing role in mode would show; a
	// bidirectional rule gives each side both items.
	itemsOf := func(role *catalog.Role, mode string) itemSet {
		out := itemSet{}
		covers := func(ep catalog.Endpoint) bool {
			return ep.Role != nil && ep.Role.Covers(ep.Mode, role.ID, mode)
		}
		for k, r := range rules {
			if covers(r.To) {
				for _, i := range ruleItems[k].listen {
					out[i] = true
				}
				if r.Bidirectional {
					for _, i := range ruleItems[k].call {
						out[i] = true
					}
				}
			}
			if covers(r.From) {
				for _, i := range ruleItems[k].call {
					out[i] = true
				}
				if r.Bidirectional {
					for _, i := range ruleItems[k].listen {
						out[i] = true
					}
				}
			}
		}
		return out
	}
	// A port's weight does not depend on the direction: n counts the
	// roles naming the protocol and range on either side, so udp/53,
	// which most roles call, is common even though few roles answer it.
	portRoles := map[protoRange]map[*catalog.Role]bool{}
	documented := make([]bool, len(m.items))
	// shared[k]: a shared infrastructure role answers protocol and range k.
	shared := map[protoRange]bool{}
	for _, role := range roles {
		if role.IsGroup() {
			continue
		}
		plainSet := itemsOf(role, "")
		if len(plainSet) == 0 {
			continue
		}
		m.roles++
		for i := range plainSet {
			it := m.items[i]
			k := protoRange{it.proto, it.r}
			if portRoles[k] == nil {
				portRoles[k] = map[*catalog.Role]bool{}
			}
			portRoles[k][role] = true
			documented[i] = true
			if it.dir == Answered && role.Product == SharedProduct {
				shared[k] = true
			}
		}
		plain := plainSet.sorted()
		m.cands = append(m.cands, candidate{role: role, items: plain, scoped: isCandidate(role)})
		// Items of the rules written for the role in no particular mode.
		common := itemsOf(role, "\x00")
		for _, md := range role.Modes {
			its := itemsOf(role, md.ID).sorted()
			if len(its) == 0 || len(its) == len(plain) {
				continue
			}
			var own []int
			for _, i := range its {
				if !common[i] {
					own = append(own, i)
				}
			}
			if len(own) > 0 {
				m.cands = append(m.cands, candidate{role: role, mode: md.ID, items: its, own: own, scoped: isCandidate(role)})
			}
		}
	}
	m.weight = make([]float64, len(m.items))
	m.infra = make([]bool, len(m.items))
	var sum float64
	n := 0
	for i, it := range m.items {
		if !documented[i] {
			continue // named only by Any, host patterns or addresses
		}
		k := protoRange{it.proto, it.r}
		m.weight[i] = math.Log(float64(m.roles)/float64(len(portRoles[k]))) * it.specificity()
		m.infra[i] = it.dir == Called && shared[k]
		if m.weight[i] > 0 {
			sum += m.weight[i]
			n++
		}
	}
	if n > 0 {
		m.kappa = sum / float64(n)
	}
	for k := range m.cands {
		c := &m.cands[k]
		for _, i := range c.items {
			c.mass += m.weight[i] * m.weight[i]
		}
	}
	m.relate(roles, rules, portRoles)
	return m
}

// match lists the documented items an observation activates.
func (m *Model) match(dir Direction, proto uint8, port uint16) []int {
	var out []int
	for _, i := range m.byKey[dirProto{dir, proto}] {
		if m.items[i].contains(dir, proto, port) && m.weight[i] > 0 {
			out = append(out, i)
		}
	}
	return out
}

// Roles is the number of plain roles documenting anything: N in the
// weights.
func (m *Model) Roles() int { return m.roles }

// Weight is the weight of the most specific documented item a service
// activates in direction dir, or 0 when no role documents it.
func (m *Model) Weight(dir Direction, proto uint8, port uint16) float64 {
	var w float64
	for _, i := range m.match(dir, proto, port) {
		w = max(w, m.weight[i])
	}
	return w
}

// candidate is the candidate for role in mode, or nil.
func (m *Model) candidate(role *catalog.Role, mode string) *candidate {
	for k := range m.cands {
		if m.cands[k].role == role && m.cands[k].mode == mode {
			return &m.cands[k]
		}
	}
	return nil
}
