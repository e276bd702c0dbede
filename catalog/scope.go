package catalog

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Products every scope holds: infrastructure every product talks to, and
// the rules and roles a team declares in its own catalog files.
const (
	SharedProduct = "shared"
	SiteProduct   = "site"
)

// vendorProducts are the names engineers type for a product: the vendor's.
var vendorProducts = map[string]string{
	"vmware":    "horizon",
	"parallels": "ras",
	"skype":     "lync",
	"microsoft": "lync",
}

// Scope is the set of products an analysis is about. It decides which
// product a name shared by several products means (LookupRoleIn), where
// product aliases such as "API" are names at all, and which rules hints,
// searches and role inference consider. Shared infrastructure and site
// rules (from --catalog files) are always in scope. The zero Scope holds
// every product.
type Scope struct {
	products []string // sorted, canonical; nil: every product
}

// NewScope is the scope of the given products (canonical names, as
// ParseProducts returns them). No products: every product.
func NewScope(products ...string) Scope {
	var s Scope
	for _, p := range products {
		p = strings.ToLower(strings.TrimSpace(p))
		if p != "" && !slices.Contains(s.products, p) {
			s.products = append(s.products, p)
		}
	}
	sort.Strings(s.products)
	return s
}

// All says whether the scope holds every product.
func (s Scope) All() bool { return len(s.products) == 0 }

// Products are the products named, sorted; nil for every product.
func (s Scope) Products() []string { return append([]string(nil), s.products...) }

// Has says whether product p is in scope.
func (s Scope) Has(p string) bool {
	return s.All() || p == SharedProduct || p == SiteProduct || slices.Contains(s.products, p)
}

// HasRule says whether rule r is in scope: its product is, or the team
// declared it (site rules are always in scope).
func (s Scope) HasRule(r *Rule) bool { return r.Site || s.Has(r.Product) }

// HasRole says whether role r's product is in scope.
func (s Scope) HasRole(r *Role) bool { return s.Has(r.Product) }

// Union is the scope of both: every product when either holds every one.
func (s Scope) Union(o Scope) Scope {
	if s.All() || o.All() {
		return Scope{}
	}
	return NewScope(append(s.Products(), o.products...)...)
}

// names says whether the product aliases of product p are names in this
// scope: only where p is named explicitly.
func (s Scope) names(p string) bool { return p != "" && slices.Contains(s.products, p) }

func (s Scope) String() string {
	if s.All() {
		return "every product"
	}
	return strings.Join(s.products, ", ")
}

// ParseProducts reads --product values: each may be a comma-separated
// list; names are case-insensitive and the vendors' names stand for their
// product (vmware: horizon, parallels: ras, skype and microsoft: lync). The
// answer is sorted and without repeats; an unknown name is an error that
// lists the known ones, and so are values that name no product at all
// (`--product ""`, `--product "$UNSET"`), which would otherwise mean every
// product.
func (c *Catalog) ParseProducts(values []string) ([]string, error) {
	known := c.roleProducts()
	var out []string
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			p = strings.ToLower(strings.TrimSpace(p))
			if p == "" {
				continue
			}
			if alias, ok := vendorProducts[p]; ok {
				p = alias
			}
			if !slices.Contains(known, p) {
				vendor := c.vendorProducts()
				return nil, fmt.Errorf("unknown product %q%s: want %s (or a vendor: vmware, parallels, skype, microsoft)",
					p, DidYouMean(p, append(vendor, "vmware", "parallels", "skype", "microsoft")), strings.Join(vendor, ", "))
			}
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	if len(values) > 0 && len(out) == 0 {
		return nil, fmt.Errorf("no product in %q: want %s (or a vendor: vmware, parallels, skype, microsoft)", strings.Join(values, ","), strings.Join(c.vendorProducts(), ", "))
	}
	sort.Strings(out)
	return out, nil
}

// vendorProducts are the products of the vendors' documents (not shared
// infrastructure or site rules), sorted.
func (c *Catalog) vendorProducts() []string {
	var vendor []string
	for _, k := range c.roleProducts() {
		if k != SharedProduct && k != SiteProduct {
			vendor = append(vendor, k)
		}
	}
	return vendor
}
