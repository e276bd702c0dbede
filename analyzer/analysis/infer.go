package analysis

import (
	"net/netip"
	"slices"
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
// block is left alone, and ambiguous or weak hosts get nothing. An
// address the capture ties to an inventory host (its other address by
// MAC, a VRRP virtual address, a gateway's inside address; see
// infer.Host.TiedBy) gets that host's roles, marked inferred; tied to
// several, it gets nothing. The inventory's roles are what the other
// hosts see of their peers in the joint assignment. products are the products in scope (nil: decided from the capture, or every
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
		// The inventory hosts that name one of h's addresses, and the
		// addresses none names.
		var named []*inventory.Host
		var free []netip.Prefix
		for _, a := range h.AllAddrs() {
			if ih := inv.Lookup(a); ih == nil {
				free = append(free, netip.PrefixFrom(a, a.BitLen()))
			} else if !slices.Contains(named, ih) {
				named = append(named, ih)
			}
		}
		if len(free) == 0 {
			continue
		}
		var ih *inventory.Host
		switch {
		case len(named) == 1:
			// The capture ties the other addresses to an inventory host
			// (one MAC, a VRRP master, a gateway's inside address): they
			// are its, with its roles.
			ih = &inventory.Host{Name: uniqueHostName(inv, free[0].Addr()), Inferred: true, Addresses: free,
				Description: "tied to " + named[0].Name + " by the capture: " + h.TiedBy}
			for _, r := range named[0].Roles {
				r.Inferred = true
				ih.Roles = append(ih.Roles, r)
			}
		case len(named) > 1 || len(h.Roles) == 0:
			// Tied to several inventory hosts: the inventory and the
			// capture disagree, and nothing is guessed.
			continue
		default:
			ih = &inventory.Host{Name: uniqueHostName(inv, h.Addr), Inferred: true, Addresses: free,
				Description: "roles inferred from traffic: " + report.CandidateList(h.Roles)}
			for _, c := range h.Roles {
				ih.Roles = append(ih.Roles, inventory.Assignment{Role: c.Role, Mode: c.Mode, Inferred: true})
			}
		}
		// Lookup said the addresses are free and the name is unique, so
		// Add cannot fail; if it does, the host is left out rather than
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
