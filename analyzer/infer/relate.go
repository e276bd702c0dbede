package infer

import (
	"slices"
	"sort"

	"github.com/flowaudit/flowaudit/catalog"
)

// relate fills what the joint assignment needs beyond items and weights:
// each candidate's rule sides and peers, how many products name it, its
// catalog order, its equivalent roles and the servers it fronts, and the
// items that single out one product.
func (m *Model) relate(roles []*catalog.Role, rules []*catalog.Rule, portRoles map[protoRange]map[*catalog.Role]bool) {
	// Catalog order: file, then line.
	byPlace := append([]*catalog.Role{}, roles...)
	sort.SliceStable(byPlace, func(i, j int) bool {
		if byPlace[i].File != byPlace[j].File {
			return byPlace[i].File < byPlace[j].File
		}
		return byPlace[i].Line < byPlace[j].Line
	})
	order := map[*catalog.Role]int{}
	for i, r := range byPlace {
		order[r] = i
	}
	covers := func(ep catalog.Endpoint, c *candidate) bool {
		return ep.Role != nil && ep.Role.Covers(ep.Mode, c.role.ID, c.mode)
	}
	// sig[k] is the rule sides plain candidate k takes part in: 2×rule
	// for To, 2×rule+1 for From.
	sig := make([][]int, len(m.cands))
	for k := range m.cands {
		c := &m.cands[k]
		c.order = order[c.role]
		products := map[string]bool{}
		for ri, r := range rules {
			to, from := covers(r.To, c), covers(r.From, c)
			if to {
				c.answers = append(c.answers, ruleSide{r, r.From})
				if r.Bidirectional {
					c.calls = append(c.calls, ruleSide{r, r.From})
				}
				sig[k] = append(sig[k], 2*ri)
			}
			if from {
				c.calls = append(c.calls, ruleSide{r, r.To})
				if r.Bidirectional {
					c.answers = append(c.answers, ruleSide{r, r.To})
				}
				sig[k] = append(sig[k], 2*ri+1)
			}
			if to || from {
				products[r.Product] = true
			}
		}
		c.products = len(products)
		for p := range products {
			c.ruleProducts = append(c.ruleProducts, p)
		}
		sort.Strings(c.ruleProducts)
	}
	for k := range m.cands {
		c := &m.cands[k]
		if c.mode != "" || len(sig[k]) == 0 {
			continue
		}
		for j := range m.cands {
			o := &m.cands[j]
			if j != k && o.mode == "" && slices.Equal(sig[k], sig[j]) {
				c.equiv = append(c.equiv, o.role)
			}
		}
	}
	// Fronts: a plain role of a product that calls nothing it does not
	// also answer, of whose answered services another plain role of its
	// product answers some from the same callers by rules of its own,
	// and more.
	type callerItem struct {
		caller string
		proto  uint8
		r      catalog.PortRange
	}
	type ruleSet map[*catalog.Rule]bool
	answered := func(c *candidate) map[callerItem]ruleSet {
		out := map[callerItem]ruleSet{}
		add := func(k callerItem, r *catalog.Rule) {
			if out[k] == nil {
				out[k] = ruleSet{}
			}
			out[k][r] = true
		}
		for _, sd := range c.answers {
			for _, p := range sd.rule.Protocols {
				if !catalog.HasPorts(p) {
					add(callerItem{sd.other.String(), p, catalog.PortRange{}}, sd.rule)
					continue
				}
				for _, pr := range sd.rule.Ports {
					add(callerItem{sd.other.String(), p, pr}, sd.rule)
				}
			}
		}
		return out
	}
	// mostly: b answers, by rules of its own (not a group rule naming
	// both), some of what a answers from the same callers, and more
	// besides.
	mostly := func(a, b map[callerItem]ruleSet) bool {
		n := 0
		for k, ra := range a {
			for r := range b[k] {
				if !ra[r] {
					n++
					break
				}
			}
		}
		return n > 0 && len(b) > len(a)
	}
	for k := range m.cands {
		l := &m.cands[k]
		if l.mode != "" || l.role.Product == SharedProduct {
			continue
		}
		la := answered(l)
		if len(la) == 0 || !m.relays(l) {
			continue
		}
		for j := range m.cands {
			s := &m.cands[j]
			if j == k || s.mode != "" || s.role.Product != l.role.Product {
				continue
			}
			if mostly(la, answered(s)) {
				l.fronts = append(l.fronts, j)
			}
		}
	}
	// A single port is only distinctive of a product when the tables
	// rely on it: at least minDistinctiveRules rules not marked optional
	// name it. A port one rule names (514/udp from a Citrix ADC to its
	// ADM, 4001/tcp to its lights-out board) is a generic service some
	// table happens to mention, and other products' hosts use it too.
	named := map[protoRange]int{}
	for _, r := range rules {
		if r.Optional {
			continue
		}
		for _, p := range r.Protocols {
			if !catalog.HasPorts(p) {
				continue
			}
			for _, pr := range r.Ports {
				if pr.Lo == pr.Hi {
					named[protoRange{p, pr}]++
				}
			}
		}
	}
	m.distinctive = make([]string, len(m.items))
	for i, it := range m.items {
		if !it.ports || it.r.Lo != it.r.Hi || m.weight[i] == 0 || named[protoRange{it.proto, it.r}] < minDistinctiveRules {
			continue
		}
		product := ""
		for r := range portRoles[protoRange{it.proto, it.r}] {
			switch {
			case r.Product == SharedProduct || product != "" && r.Product != product:
				product = "\x00"
			case product == "":
				product = r.Product
			}
		}
		if product != "\x00" {
			m.distinctive[i] = product
		}
	}
}

// relays says whether every service candidate c calls is one it answers:
// it passes on what it receives, as a load balancer or a gateway does.
func (m *Model) relays(c *candidate) bool {
	in := map[protoRange]bool{}
	for _, i := range c.items {
		if it := m.items[i]; it.dir == Answered {
			in[protoRange{it.proto, it.r}] = true
		}
	}
	for _, i := range c.items {
		if it := m.items[i]; it.dir == Called && !in[protoRange{it.proto, it.r}] {
			return false
		}
	}
	return true
}

// subset says whether ascending list a is inside ascending list b.
func subset(a, b []int) bool {
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j == len(b) || b[j] != x {
			return false
		}
	}
	return true
}
