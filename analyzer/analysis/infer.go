package analysis

import (
	"net/netip"
	"strconv"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/infer"
	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/analyzer/report"
	"github.com/flowaudit/flowaudit/catalog"
)

// InferMissingHosts gives the addresses seen in res that inv does not
// know the roles inference proposes for them (analyze --infer-roles). The
// hosts it adds are marked inferred, and so is each of their roles. An
// inventory entry always wins: an address inside any inventory host or
// block is left alone, and ambiguous or weak hosts get nothing. The
// inventory's roles are what the other hosts see of their peers in the
// joint assignment. products are the products in scope (nil: decided from the capture, or every
// product with all).
func InferMissingHosts(res *analyzer.Result, inv *inventory.Inventory, cat *catalog.Catalog, products []string, all bool) {
	// The inventory's hosts are their peers' known roles.
	known := func(a netip.Addr) []infer.Known {
		ih := inv.Lookup(a)
		if ih == nil {
			return nil
		}
		out := make([]infer.Known, 0, len(ih.Roles))
		for _, r := range ih.Roles {
			out = append(out, infer.Known{Role: r.Role, Mode: r.Mode})
		}
		return out
	}
	hosts := infer.Infer(analyzer.AuditServices(res.Services, res.Paths()), infer.NewModel(cat, products),
		infer.Options{AllProducts: all, Known: known, MACs: res.AddrMACs, Flows: res.Services})
	for _, h := range hosts {
		if len(h.Roles) == 0 || inv.Lookup(h.Addr) != nil {
			continue
		}
		ih := &inventory.Host{
			Name:        uniqueHostName(inv, h.Addr),
			Inferred:    true,
			Description: "roles inferred from traffic: " + report.CandidateList(h.Roles),
		}
		for _, a := range h.AllAddrs() { // a tied address the inventory names stays its
			if inv.Lookup(a) == nil {
				ih.Addresses = append(ih.Addresses, netip.PrefixFrom(a, a.BitLen()))
			}
		}
		for _, c := range h.Roles {
			ih.Roles = append(ih.Roles, inventory.Assignment{Role: c.Role, Mode: c.Mode, Inferred: true})
		}
		// Lookup said the address is free and the name is unique, so Add
		// cannot fail; if it does, the host is left out rather than
		// overriding the inventory.
		_ = inv.Add(ih)
	}
}

func uniqueHostName(inv *inventory.Inventory, a netip.Addr) string {
	base := report.ProposedHostName(a)
	name := base
	for i := 2; inv.Host(name) != nil; i++ {
		name = base + "-" + strconv.Itoa(i)
	}
	return name
}
