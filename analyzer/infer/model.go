package infer

import (
	"math"
	"math/bits"
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

// candidate is a role a host may be given: a plain role, or one of its
// modes when the mode documents less than the plain role.
type candidate struct {
	role  *catalog.Role
	mode  string
	items []int   // indices into Model.items, ascending
	mass  float64 // Σ w² over items
}

// Model is a catalog made ready for inference: every documented item with
// its weight, and every candidate role with the items it documents. It is
// read-only once built and safe for concurrent use.
type Model struct {
	items  []item
	weight []float64 // per item
	df     []int     // per item: plain roles documenting it
	roles  int       // N: plain roles documenting anything
	kappa  float64   // the host vector's pseudo-item: the mean item weight
	cands  []candidate
	byKey  map[dirProto][]int // items per direction and protocol
	// roleOf[i] are the plain roles documenting item i, for explanations.
	roleOf [][]*catalog.Role
}

type dirProto struct {
	dir   Direction
	proto uint8
}

// NewModel builds the inference model from the rules of cat, restricted to
// products (all products when empty).
func NewModel(cat *catalog.Catalog, products []string) *Model {
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
	var rules []*catalog.Rule
	for _, r := range cat.Rules() {
		if len(products) == 0 || containsString(products, r.Product) {
			rules = append(rules, r)
		}
	}
	// ruleItems[k] are the items rule k gives its To side (listen) and its
	// From side (call); bidirectional rules give each side both.
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
	// itemsOf collects what a host playing role in mode would show.
	itemsOf := func(role *catalog.Role, mode string) []int {
		set := map[int]bool{}
		covers := func(ep catalog.Endpoint) bool {
			return ep.Role != nil && ep.Role.Covers(ep.Mode, role.ID, mode)
		}
		for k, r := range rules {
			if covers(r.To) {
				for _, i := range ruleItems[k].listen {
					set[i] = true
				}
				if r.Bidirectional {
					for _, i := range ruleItems[k].call {
						set[i] = true
					}
				}
			}
			if covers(r.From) {
				for _, i := range ruleItems[k].call {
					set[i] = true
				}
				if r.Bidirectional {
					for _, i := range ruleItems[k].listen {
						set[i] = true
					}
				}
			}
		}
		out := make([]int, 0, len(set))
		for i := range set {
			out = append(out, i)
		}
		sort.Ints(out)
		return out
	}
	m.df = make([]int, len(m.items))
	m.roleOf = make([][]*catalog.Role, len(m.items))
	for _, role := range cat.Roles() {
		if role.IsGroup() {
			continue
		}
		plain := itemsOf(role, "")
		if len(plain) == 0 {
			continue
		}
		m.roles++
		for _, i := range plain {
			m.df[i]++
			m.roleOf[i] = append(m.roleOf[i], role)
		}
		m.cands = append(m.cands, candidate{role: role, items: plain})
		for _, md := range role.Modes {
			its := itemsOf(role, md.ID)
			if len(its) > 0 && len(its) < len(plain) {
				m.cands = append(m.cands, candidate{role: role, mode: md.ID, items: its})
			}
		}
	}
	// A port's weight does not depend on the direction: df counts the
	// roles documenting the protocol and range on either side, so tcp/53,
	// which most roles call, is common even though few roles answer it.
	type protoRange struct {
		proto uint8
		r     catalog.PortRange
	}
	portRoles := map[protoRange]map[*catalog.Role]bool{}
	for i, it := range m.items {
		k := protoRange{it.proto, it.r}
		if portRoles[k] == nil {
			portRoles[k] = map[*catalog.Role]bool{}
		}
		for _, r := range m.roleOf[i] {
			portRoles[k][r] = true
		}
	}
	m.weight = make([]float64, len(m.items))
	for i, it := range m.items {
		if m.df[i] == 0 {
			continue // documented only for Any, host patterns or addresses
		}
		df := len(portRoles[protoRange{it.proto, it.r}])
		m.weight[i] = math.Log(float64(m.roles)/float64(df)) * it.specificity()
	}
	var sum float64
	n := 0
	for _, w := range m.weight {
		if w > 0 {
			sum += w
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
	return m
}

// match lists the items an observation activates.
func (m *Model) match(dir Direction, proto uint8, port uint16) []int {
	var out []int
	for _, i := range m.byKey[dirProto{dir, proto}] {
		if m.items[i].contains(dir, proto, port) && m.df[i] > 0 {
			out = append(out, i)
		}
	}
	return out
}

// Roles is the number of plain roles the model scores (N in the weights).
func (m *Model) Roles() int { return m.roles }

// Weight is the weight of the most specific item a service activates on
// either side of dir, or 0 when no role documents it.
func (m *Model) Weight(dir Direction, proto uint8, port uint16) float64 {
	var w float64
	for _, i := range m.match(dir, proto, port) {
		w = max(w, m.weight[i])
	}
	return w
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// bitset is a small set of item indices.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
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
