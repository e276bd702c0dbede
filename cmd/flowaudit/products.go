package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/catalog"
	"github.com/spf13/pflag"
)

// productFlags are --product and --all-products: which products a command
// is about.
type productFlags struct {
	values []string
	all    bool
}

const productUsage = "only product `P`: horizon, citrix, ras, lync, or the vendor (vmware, parallels, skype, microsoft); comma lists and repeats, any case"

// register adds --product (and --all-products when wide says what it
// widens).
func (p *productFlags) register(fs *pflag.FlagSet, shorthand, usage, wide string) {
	if usage == "" {
		usage = productUsage
	}
	fs.StringArrayVarP(&p.values, "product", shorthand, nil, usage)
	if wide != "" {
		fs.BoolVar(&p.all, "all-products", false, wide)
	}
}

// parse reads --product into canonical product names; an unknown one is a
// usage error.
func (p *productFlags) parse(cmd string, cat *catalog.Catalog) ([]string, error) {
	ps, err := cat.ParseProducts(p.values)
	if err != nil {
		return nil, usagef("%s: --product: %v", cmd, err)
	}
	return ps, nil
}

// scope is the products in scope: --product's; else every product with
// --all-products; else the inventory's (every product when it has none).
func (p *productFlags) scope(products []string, inv *inventory.Inventory) catalog.Scope {
	switch {
	case len(products) > 0:
		return catalog.NewScope(products...)
	case p.all:
		return catalog.Scope{}
	}
	return inv.Scope()
}

// loadCatalog loads the built-in catalog and the --catalog files, and
// warns (once) of a file that replaced a built-in one of the same name
// (a site file named ras.yaml drops RAS's table).
func (e *env) loadCatalog(files []string) (*catalog.Catalog, error) {
	cat, err := catalog.Load(files...)
	if cat != nil && err == nil {
		for _, r := range cat.Replaced() {
			e.warnOnce("flowaudit: warning: " + r)
		}
	}
	return cat, err
}

// warnOutOfScope says on stderr when --product names only products no
// inventory host plays a role of while the hosts play other products'
// roles (a RAS inventory with --product horizon): the report would call
// their traffic undocumented, and the request would have no line for it,
// because of the flag, not the network.
func (e *env) warnOutOfScope(products []string, inv *inventory.Inventory) {
	if len(products) == 0 || inv == nil {
		return
	}
	var others []string
	for _, h := range inv.Hosts {
		for _, a := range h.Roles {
			p := a.Role.Product
			if slices.Contains(products, p) {
				return
			}
			if p != catalog.SharedProduct && p != catalog.SiteProduct && !slices.Contains(others, p) {
				others = append(others, p)
			}
		}
	}
	if len(others) == 0 {
		return
	}
	sort.Strings(others)
	e.warnOnce(fmt.Sprintf("flowaudit: warning: --product %s: no inventory host plays a role of it (the hosts' roles are %s's): only shared infrastructure and site rules apply to them",
		strings.Join(products, ","), strings.Join(others, ", ")))
}
