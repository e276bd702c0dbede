package catalog

import (
	"embed"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
)

//go:embed data/*.yaml
var builtin embed.FS

// Source is where a rule stands in a vendor document.
type Source struct {
	Doc     string // seed file name
	Title   string // the document as cited, with its edition; "" when the catalog does not describe Doc
	Section string // the document's own heading
	Row     int    // 1-based body row within the section's table
}

// String is the citation a person can look up: "Parallels RAS — firewall
// requirements (KB 129097) § Parallels Client, row 1"; the file name
// stands in for a document the catalog does not describe.
func (s Source) String() string {
	doc := s.Title
	if doc == "" {
		doc = s.Doc
	}
	return fmt.Sprintf("%s § %s, row %d", doc, s.Section, s.Row)
}

// Mode is one way a role can run, such as a RAS Secure Gateway in normal
// or forwarding mode.
type Mode struct {
	ID, Name string
	Aliases  []string
	// ProductAliases name the mode only where the role's AliasProduct is
	// in scope, as Role.ProductAliases.
	ProductAliases []string
}

// Role is a component a host can play.
type Role struct {
	ID, Name, Product, Description string
	Aliases                        []string
	Modes                          []Mode
	// ProductAliases are generic words a document uses for the role
	// ("API", "Agent host"): they name it only where their product is in
	// scope (see Scope), never catalog-wide.
	ProductAliases []string
	// AliasProduct is the product ProductAliases belong to: the product of
	// the document that uses them.
	AliasProduct string
	// Members are the ids of the roles a group role stands for, resolved
	// through nested groups; nil for a plain role.
	Members []string
	File    string
	Line    int

	membersProduct string
	memberRefs     []string
	scope          Scope // the scope of the file that defines it
	site           bool  // defined in a --catalog file
}

// IsGroup says whether the role stands for other roles.
func (r *Role) IsGroup() bool { return r.Members != nil }

// ModeName is the display name of mode id m, or m itself.
func (r *Role) ModeName(m string) string {
	for _, md := range r.Modes {
		if md.ID == m {
			return md.Name
		}
	}
	return m
}

// DisplayName is "Role" or "Role (Mode)".
func (r *Role) DisplayName(mode string) string {
	if mode == "" {
		return r.Name
	}
	return r.Name + " (" + r.ModeName(mode) + ")"
}

// Covers says whether a host playing role id (in mode, "" for any mode)
// matches a rule side written for r in rmode.
func (r *Role) Covers(rmode, id, mode string) bool {
	if r.ID != id && !slices.Contains(r.Members, id) {
		return false
	}
	return rmode == "" || mode == "" || rmode == mode
}

// Endpoint is one side of a rule: a role, Any, or (for destinations) a
// host pattern or address list.
type Endpoint struct {
	Role  *Role          // nil: Any, or Host/Addrs below
	Mode  string         // "" or the id of one of Role.Modes
	Host  string         // destination host pattern, e.g. "*.digicert.com"
	Addrs []netip.Prefix // destination addresses or CIDRs
}

// IsAny says whether the endpoint matches every host.
func (e Endpoint) IsAny() bool { return e.Role == nil && e.Host == "" && len(e.Addrs) == 0 }

func (e Endpoint) String() string {
	switch {
	case e.Role != nil:
		return e.Role.DisplayName(e.Mode)
	case e.Host != "":
		return e.Host
	case len(e.Addrs) > 0:
		parts := make([]string, len(e.Addrs))
		for i, p := range e.Addrs {
			if p.IsSingleIP() {
				parts[i] = p.Addr().String()
			} else {
				parts[i] = p.String()
			}
		}
		return strings.Join(parts, ", ")
	}
	return "Any"
}

// MatchesAddr says whether addr is inside the endpoint's address list.
func (e Endpoint) MatchesAddr(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range e.Addrs {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Rule is one documented flow.
type Rule struct {
	ID, Product, Section string
	From, To             Endpoint
	Protocols            []uint8 // IP protocol numbers
	Apps                 []string
	Ports                []PortRange // empty for port-less protocols
	PortsText            string
	Description          string
	Original             string // the document's wording where it is not English
	Note                 string // how the row was read
	Direction            string // "", "outbound-only" or "inbound-only"
	Optional             bool
	Bidirectional        bool
	Configurable         bool
	Dynamic              bool
	Sources              []Source
	File                 string
	Line                 int
	// Site says the rule was declared by the team in a --catalog file,
	// not transcribed from a vendor document: reports cite File:Line.
	Site bool

	sameAs *sameAs
}

// Flags are the rule's flags in a fixed order: optional, bidirectional,
// configurable, dynamic, and its direction limit.
func (r *Rule) Flags() []string {
	var f []string
	for _, x := range []struct {
		on   bool
		name string
	}{{r.Optional, "optional"}, {r.Bidirectional, "bidirectional"}, {r.Configurable, "configurable"}, {r.Dynamic, "dynamic"}, {r.Direction != "", r.Direction}} {
		if x.on {
			f = append(f, x.name)
		}
	}
	return f
}

// HasProto says whether the rule names IP protocol p.
func (r *Rule) HasProto(p uint8) bool { return slices.Contains(r.Protocols, p) }

// CoversPort says whether the rule allows protocol p on destination port
// port (port is ignored for port-less protocols).
func (r *Rule) CoversPort(p uint8, port uint16) bool {
	if !r.HasProto(p) {
		return false
	}
	if !HasPorts(p) {
		return true
	}
	return PortsContain(r.Ports, port)
}

// ProtocolNames are the rule's protocols as names.
func (r *Rule) ProtocolNames() []string {
	out := make([]string, len(r.Protocols))
	for i, p := range r.Protocols {
		out[i] = ProtoName(p)
	}
	return out
}

// SourceFiles are the files the rule comes from, ", "-separated: the
// seed documents its sources name, or a site rule's catalog file.
func (r *Rule) SourceFiles() string {
	if r.Site || len(r.Sources) == 0 {
		return r.File
	}
	var out []string
	for _, s := range r.Sources {
		if !slices.Contains(out, s.Doc) {
			out = append(out, s.Doc)
		}
	}
	return strings.Join(out, ", ")
}

// SourceText is every source of the rule, "; "-separated. A site rule's
// source is its file and line.
func (r *Rule) SourceText() string {
	if r.Site {
		return fmt.Sprintf("site rule %s:%d", r.File, r.Line)
	}
	parts := make([]string, len(r.Sources))
	for i, s := range r.Sources {
		parts[i] = s.String()
	}
	return strings.Join(parts, "; ")
}

// Catalog is a loaded, validated set of roles and rules.
type Catalog struct {
	roles   []*Role
	rules   []*Rule
	roleByK map[string][]roleRef // normalised name -> roles (and modes) it names
	roleID  map[string]*Role
	ruleID  map[string]*Rule
	files   []string
	// ports marks the ports some rule documents as a destination.
	ports PortSet
	// replaced says which built-in files a --catalog file of the same
	// name replaced (see Load).
	replaced []string
}

// Replaced says, one sentence each, which built-in files --catalog files
// of the same name replaced: their roles and rules are not in the
// catalog. A site file named after a product (ras.yaml) drops the
// vendor's table; the commands warn.
func (c *Catalog) Replaced() []string { return c.replaced }

type roleRef struct {
	role *Role
	mode string
	// local is the product a product alias belongs to; "" for a name that
	// is valid catalog-wide.
	local string
}

var (
	defaultOnce sync.Once
	defaultCat  *Catalog
	defaultErr  error
)

// Default is the built-in catalog embedded in the binary.
func Default() (*Catalog, error) {
	defaultOnce.Do(func() { defaultCat, defaultErr = Load() })
	return defaultCat, defaultErr
}

// Rules is every rule in load order: file by file, in document order.
func (c *Catalog) Rules() []*Rule { return c.rules }

// Roles is every role, sorted by product then name.
func (c *Catalog) Roles() []*Role { return c.roles }

// Files is the catalog files loaded, built-in ones as "catalog/data/NAME".
func (c *Catalog) Files() []string { return c.files }

// Rule is the rule with the given id, or nil.
func (c *Catalog) Rule(id string) *Rule { return c.ruleID[id] }

// RoleByID is the role with the given id, or nil.
func (c *Catalog) RoleByID(id string) *Role { return c.roleID[id] }

// Products lists the products that have rules, sorted.
func (c *Catalog) Products() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range c.rules {
		if !seen[r.Product] {
			seen[r.Product] = true
			out = append(out, r.Product)
		}
	}
	sort.Strings(out)
	return out
}

// roleProducts lists the products of roles and rules, sorted.
func (c *Catalog) roleProducts() []string {
	seen := map[string]bool{}
	for _, p := range c.Products() {
		seen[p] = true
	}
	for _, r := range c.roles {
		seen[r.Product] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

// RoleNames is every name a role can be given by: ids, display names,
// aliases and "Role (Mode)" forms, sorted. Used for suggestions. Product
// aliases are left out: they are not names catalog-wide.
func (c *Catalog) RoleNames() []string { return c.RoleNamesIn(Scope{}) }

// RoleNamesIn is RoleNames with the product aliases of the products
// scope names explicitly.
func (c *Catalog) RoleNamesIn(scope Scope) []string {
	var out []string
	for _, r := range c.roles {
		out = append(out, r.Name)
		out = append(out, r.Aliases...)
		if scope.names(r.AliasProduct) {
			out = append(out, r.ProductAliases...)
		}
		for _, m := range r.Modes {
			out = append(out, r.DisplayName(m.ID))
		}
	}
	sort.Strings(out)
	return out
}

// ErrUnknownRole is wrapped by LookupRole's error for a name no role has.
var ErrUnknownRole = fmt.Errorf("unknown role")

// ErrAmbiguousRole is wrapped by LookupRole's error for a name roles of
// more than one product have, when the products in scope do not decide.
var ErrAmbiguousRole = fmt.Errorf("ambiguous role")

// AmbiguousRoleError names every role an ambiguous name could be.
type AmbiguousRoleError struct {
	Name  string
	Roles []string // "Citrix Director (citrix)", sorted
}

func (e *AmbiguousRoleError) Error() string {
	return fmt.Sprintf("role %q is ambiguous: %s; write the full name or set products", e.Name, strings.Join(e.Roles, ", "))
}

// Unwrap makes errors.Is(err, ErrAmbiguousRole) true.
func (e *AmbiguousRoleError) Unwrap() error { return ErrAmbiguousRole }

// LookupRole finds a role by id, display name or alias, case-insensitively
// and ignoring spacing, and returns it with the mode id the name selects
// ("" for none). "Role (Mode)" and "role-id/mode-id" select a mode. A name
// that roles of several products share is an error (ErrAmbiguousRole):
// LookupRoleIn resolves it with the products in scope.
func (c *Catalog) LookupRole(name string) (*Role, string, error) {
	return c.LookupRoleIn(name, Scope{})
}

// LookupRoleIn is LookupRole within a product scope: a name several
// products share resolves to the role of the one product in scope (shared
// infrastructure and site roles are always in scope), and product aliases
// ("API", "Agent host") resolve only when their product is named in scope.
// It never guesses: a name still shared by roles in scope is an error.
func (c *Catalog) LookupRoleIn(name string, scope Scope) (*Role, string, error) {
	return c.lookupIn(name, scope, true)
}

// lookupIn is LookupRoleIn; without site, roles from --catalog files are
// not candidates (names in the built-in files resolve among built-in
// roles, whatever a team adds).
func (c *Catalog) lookupIn(name string, scope Scope, site bool) (*Role, string, error) {
	var refs []roleRef
	for _, ref := range c.roleByK[normName(name)] {
		if ref.local != "" && !scope.names(ref.local) || ref.role.site && !site {
			continue
		}
		dup := false
		for _, o := range refs {
			dup = dup || o.role == ref.role && o.mode == ref.mode
		}
		if !dup {
			refs = append(refs, ref)
		}
	}
	if len(refs) > 1 && !scope.All() {
		var in []roleRef
		for _, ref := range refs {
			if scope.Has(ref.role.Product) {
				in = append(in, ref)
			}
		}
		if len(in) > 0 {
			refs = in
		}
	}
	switch len(refs) {
	case 0:
		if strings.TrimSpace(name) == "" {
			// Nothing is "closest" to no name ("did you mean CA?").
			return nil, "", fmt.Errorf("%w %q: the role name is empty", ErrUnknownRole, name)
		}
		return nil, "", fmt.Errorf("%w %q%s", ErrUnknownRole, name, DidYouMean(name, c.RoleNamesIn(scope)))
	case 1:
		return refs[0].role, refs[0].mode, nil
	}
	e := &AmbiguousRoleError{Name: name}
	for _, ref := range refs {
		e.Roles = append(e.Roles, fmt.Sprintf("%s (%s)", ref.role.DisplayName(ref.mode), ref.role.Product))
	}
	sort.Strings(e.Roles)
	return nil, "", e
}

// ServerPort says whether some rule documents port on protocol proto
// (tcp, udp or sctp) as a destination port.
func (c *Catalog) ServerPort(proto uint8, port uint16) bool { return c.ports.ServerPort(proto, port) }

// PortProtoIndex is the index of a port protocol among tcp, udp and sctp
// (0, 1, 2), -1 for the others: how tables of per-protocol port sets are
// laid out.
func PortProtoIndex(p uint8) int {
	switch p {
	case 6:
		return 0
	case 17:
		return 1
	case 132:
		return 2
	}
	return -1
}

// normName folds case and spacing so "RAS Secure Gateway  in normal Mode"
// and "ras secure gateway in Normal mode" are one key.
func normName(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}
