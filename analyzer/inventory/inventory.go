// Package inventory maps addresses to the hosts of a pilot and the catalog
// roles they play, read from a YAML (or JSON) inventory file:
//
//	hosts:
//	  - name: cs01
//	    addresses: [192.0.2.20, "2001:db8::20", 192.0.2.64/28]
//	    roles: [Horizon Connection Server, JMP Server]
//
// Roles are given by display name, id or any alias, case-insensitively.
// Addresses may be CIDR blocks; the most specific block wins.
//
// A name several products share ("Director": Citrix's and Lync's) resolves
// within the pilot's products: the inventory's optional top-level
// `products: [lync]`, the products the caller gives (--product) and the
// products of the roles whose names are unambiguous. Otherwise it is an
// error; the inventory never guesses.
package inventory

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/flowaudit/flowaudit/catalog"
	"github.com/flowaudit/flowaudit/catalog/yamlfile"
	"go.yaml.in/yaml/v3"
)

// Assignment is one role a host plays, in a mode or in any mode.
type Assignment struct {
	Role     *catalog.Role
	Mode     string // "" for every mode of the role
	Inferred bool   // proposed by role inference, not written in the inventory
}

// Name is the assignment's display name, "Role" or "Role (Mode)".
func (a Assignment) Name() string { return a.Role.DisplayName(a.Mode) }

// Host is one machine of the pilot.
type Host struct {
	Name        string
	Addresses   []netip.Prefix
	Roles       []Assignment // in inventory order
	Description string
	Inferred    bool // the whole host was added by inference
	File        string
	Line        int
}

// RoleNames are the display names of the host's roles, in order.
func (h *Host) RoleNames() []string {
	out := make([]string, len(h.Roles))
	for i, a := range h.Roles {
		out[i] = a.Name()
	}
	return out
}

// Plays says whether the host has a role the rule side ep (a role in a
// mode, possibly a group) is written for.
func (h *Host) Plays(ep catalog.Endpoint) bool {
	if ep.Role == nil || h == nil {
		return false
	}
	for _, a := range h.Roles {
		if ep.Role.Covers(ep.Mode, a.Role.ID, a.Mode) {
			return true
		}
	}
	return false
}

// PlaysMode says whether the host was given the exact mode of a moded
// rule side (or a group holding the role with that mode).
func (h *Host) PlaysMode(ep catalog.Endpoint) bool {
	if ep.Role == nil || h == nil {
		return false
	}
	for _, a := range h.Roles {
		if a.Mode == ep.Mode && ep.Role.Covers(ep.Mode, a.Role.ID, a.Mode) {
			return true
		}
	}
	return false
}

// AddressStrings are the host's addresses in plain text, single addresses
// without a /32 or /128.
func (h *Host) AddressStrings() []string {
	out := make([]string, len(h.Addresses))
	for i, p := range h.Addresses {
		if p.IsSingleIP() {
			out[i] = p.Addr().String()
		} else {
			out[i] = p.String()
		}
	}
	return out
}

// Inventory is every host, with an address index.
type Inventory struct {
	Hosts []*Host
	File  string
	// Products are the products the pilot is about, sorted: the
	// inventory's products: list, the caller's, and those of its hosts'
	// roles (shared infrastructure and site roles left out).
	Products []string
	// Declared are the products the inventory's products: list names.
	Declared []string

	byAddr  map[netip.Addr]*Host
	byBlock map[netip.Prefix]*Host // CIDR blocks (masked)
	lengths []int                  // the prefix lengths of byBlock, longest (most specific) first
	byName  map[string]*Host       // by nameKey
}

// New is an empty inventory, to which hosts are added.
func New() *Inventory {
	return &Inventory{byAddr: map[netip.Addr]*Host{}, byBlock: map[netip.Prefix]*Host{}, byName: map[string]*Host{}}
}

// nameKey is a host name's index key: names are case-insensitive.
func nameKey(name string) string { return strings.ToLower(name) }

// Scope is the product scope of the pilot: its Products, or every product
// when it has none (an empty inventory).
func (inv *Inventory) Scope() catalog.Scope {
	if inv == nil {
		return catalog.Scope{}
	}
	return catalog.NewScope(inv.Products...)
}

// addProduct records the product of a role a host plays.
func (inv *Inventory) addProduct(p string) {
	if p == catalog.SharedProduct || p == catalog.SiteProduct || slices.Contains(inv.Products, p) {
		return
	}
	inv.Products = append(inv.Products, p)
	sort.Strings(inv.Products)
}

// Lookup is the host an address belongs to, or nil.
func (inv *Inventory) Lookup(a netip.Addr) *Host {
	if inv == nil {
		return nil
	}
	a = a.Unmap()
	if h, ok := inv.byAddr[a]; ok {
		return h
	}
	// Two blocks of one length cannot both hold a: the longest block
	// that does is the most specific.
	for _, bits := range inv.lengths {
		if bits > a.BitLen() {
			continue // an IPv6 block's length: a.Prefix would make an error to say so
		}
		if p, err := a.Prefix(bits); err == nil {
			if h, ok := inv.byBlock[p]; ok {
				return h
			}
		}
	}
	return nil
}

// Host is the host with the given name, or nil.
func (inv *Inventory) Host(name string) *Host {
	return inv.byName[nameKey(name)]
}

// Add puts a host into the inventory. It fails if the name or one of the
// addresses is taken.
func (inv *Inventory) Add(h *Host) error {
	if inv.Host(h.Name) != nil {
		return fmt.Errorf("duplicate host name %q", h.Name)
	}
	for _, p := range h.Addresses {
		if p.IsSingleIP() {
			if old, ok := inv.byAddr[p.Addr()]; ok {
				return fmt.Errorf("address %s is already host %q's", p.Addr(), old.Name)
			}
			continue
		}
		if old, ok := inv.byBlock[p.Masked()]; ok {
			return fmt.Errorf("address block %s is already host %q's", p, old.Name)
		}
	}
	for _, p := range h.Addresses {
		if p.IsSingleIP() {
			inv.byAddr[p.Addr()] = h
			continue
		}
		if _, ok := inv.byBlock[p.Masked()]; !ok {
			inv.byBlock[p.Masked()] = h
		}
		if !slices.Contains(inv.lengths, p.Bits()) {
			inv.lengths = append(inv.lengths, p.Bits())
			slices.SortFunc(inv.lengths, func(a, b int) int { return b - a })
		}
	}
	inv.byName[nameKey(h.Name)] = h
	inv.Hosts = append(inv.Hosts, h)
	for _, a := range h.Roles {
		inv.addProduct(a.Role.Product)
	}
	return nil
}

type yInventory struct {
	Products yaml.Node `yaml:"products"`
	Hosts    yaml.Node `yaml:"hosts"`
}

type yHost struct {
	Name        string           `yaml:"name"`
	Addresses   yamlfile.StrList `yaml:"addresses"`
	Roles       yamlfile.StrList `yaml:"roles"`
	Description string           `yaml:"description"`
	line        int
	lines       map[string]int
}

func (h *yHost) UnmarshalYAML(n *yaml.Node) (err error) {
	type plain yHost
	if h.lines, err = yamlfile.Strict(n, plain{}); err != nil {
		return err
	}
	h.line = n.Line
	return n.Decode((*plain)(h))
}

// Load reads an inventory file; roles are looked up in cat.
func Load(path string, cat *catalog.Catalog) (*Inventory, error) {
	return LoadIn(path, cat, nil)
}

// LoadIn is Load for the products the caller names (--product, canonical
// names as catalog.ParseProducts gives them): they count as the
// inventory's own products: list.
func LoadIn(path string, cat *catalog.Catalog, products []string) (*Inventory, error) {
	data, err := yamlfile.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseIn(path, data, cat, products)
}

// Parse reads an inventory from data; name is used in errors. Every
// problem is reported, as a yamlfile.ErrorList of file:line errors.
func Parse(name string, data []byte, cat *catalog.Catalog) (*Inventory, error) {
	return ParseIn(name, data, cat, nil)
}

// ParseIn is Parse with the caller's products (see LoadIn).
func ParseIn(name string, data []byte, cat *catalog.Catalog, products []string) (*Inventory, error) {
	var y yInventory
	if errs := yamlfile.Parse(name, data, &y); errs != nil {
		return nil, errs
	}
	var errs yamlfile.ErrorList
	errf := func(line int, format string, a ...any) {
		errs = append(errs, &yamlfile.ParseError{File: name, Line: line, Err: fmt.Errorf(format, a...)})
	}
	hosts := yamlfile.DecodeList[yHost](name, "hosts", &y.Hosts, &errs)
	if y.Hosts.Kind == 0 {
		errf(0, "no hosts: the inventory needs a hosts: list")
	}
	inv := New()
	inv.File = name
	if y.Products.Kind != 0 {
		var list yamlfile.StrList
		if err := y.Products.Decode(&list); err != nil {
			errf(y.Products.Line, "products: %v", err)
		} else if ps, err := cat.ParseProducts(list); err != nil {
			errf(y.Products.Line, "products: %v", err)
		} else {
			inv.Declared = ps
		}
	}
	scope := catalog.NewScope(append(append([]string{}, inv.Declared...), products...)...)
	if len(products) == 0 {
		// The products of the roles whose names are unambiguous count
		// too: "Lync Front End Server" makes "Director" Lync's. The
		// caller's products narrow instead.
		implied := scope.Products()
		for _, yh := range hosts {
			for _, rn := range yh.Roles {
				if role, _, err := cat.LookupRoleIn(rn, scope); err == nil && role.Product != catalog.SharedProduct && role.Product != catalog.SiteProduct {
					implied = append(implied, role.Product)
				}
			}
		}
		scope = catalog.NewScope(implied...)
	}
	for _, p := range scope.Products() {
		inv.addProduct(p)
	}
	for _, yh := range hosts {
		at := func(k string) int { return yamlfile.LineOf(yh.lines, k, yh.line) }
		h := &Host{Name: strings.TrimSpace(yh.Name), Description: yh.Description, File: name, Line: yh.line}
		ok := true
		if h.Name == "" {
			errf(yh.line, "host has no name")
			ok = false
		}
		if len(yh.Addresses) == 0 {
			errf(at("addresses"), "host %q has no addresses", h.Name)
			ok = false
		}
		for _, a := range yh.Addresses {
			p, err := parseAddress(a)
			if err != nil {
				errf(at("addresses"), "host %q: %v", h.Name, err)
				ok = false
				continue
			}
			h.Addresses = append(h.Addresses, p)
		}
		if len(yh.Roles) == 0 {
			errf(at("roles"), "host %q has no roles (hosts that play no role can be left out)", h.Name)
			ok = false
		}
		for _, rn := range yh.Roles {
			role, mode, err := cat.LookupRoleIn(rn, scope)
			if err != nil {
				errf(at("roles"), "host %q: %v", h.Name, err)
				ok = false
				continue
			}
			if role.IsGroup() {
				errf(at("roles"), "host %q: %q is a group of roles; give the roles the host plays", h.Name, rn)
				ok = false
				continue
			}
			h.Roles = append(h.Roles, Assignment{Role: role, Mode: mode})
		}
		if !ok {
			continue
		}
		if err := inv.Add(h); err != nil {
			errf(yh.line, "host %q: %v", h.Name, err)
		}
	}
	if len(errs) > 0 {
		return inv, errs
	}
	return inv, nil
}

// UnmapPrefix is an IPv4-mapped IPv6 block (::ffff:192.0.2.0/120) as the
// IPv4 block it names (192.0.2.0/24): addresses are looked up unmapped,
// as single addresses are, so the mapped block would hold none of them.
// p has no host bits set, so a mapped one is /96 or longer.
func UnmapPrefix(p netip.Prefix) netip.Prefix {
	if !p.Addr().Is4In6() || p.Bits() < 96 {
		return p
	}
	return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
}

func parseAddress(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("bad address block %q", s)
		}
		if p.Masked() != p {
			return p, fmt.Errorf("address block %q has host bits set (did you mean %s?)", s, p.Masked())
		}
		return UnmapPrefix(p), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad address %q", s)
	}
	if a.Zone() != "" {
		return netip.Prefix{}, errors.New("addresses with a zone are not supported: " + s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
