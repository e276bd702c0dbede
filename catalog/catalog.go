package catalog

import (
	"embed"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
)

//go:embed data/*.yaml
var builtin embed.FS

// Source is where a rule stands in a vendor document.
type Source struct {
	Doc     string // seed file name
	Section string // the document's own heading
	Row     int    // 1-based body row within the section's table
}

func (s Source) String() string {
	return fmt.Sprintf("%s § %s, row %d", s.Doc, s.Section, s.Row)
}

// Mode is one way a role can run, such as a RAS Secure Gateway in normal
// or forwarding mode.
type Mode struct {
	ID, Name string
	Aliases  []string
}

// Role is a component a host can play.
type Role struct {
	ID, Name, Product, Description string
	Aliases                        []string
	Modes                          []Mode
	// Members are the ids of the roles a group role stands for, resolved
	// through nested groups; nil for a plain role.
	Members []string
	File    string
	Line    int

	membersProduct string
	memberRefs     []string
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
	if r.ID != id && !containsString(r.Members, id) {
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
func (r *Rule) HasProto(p uint8) bool { return containsProto(r.Protocols, p) }

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

// SourceText is every source of the rule, "; "-separated.
func (r *Rule) SourceText() string {
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
	roleByK map[string]roleRef // normalised name -> role and mode
	roleID  map[string]*Role
	ruleID  map[string]*Rule
	files   []string
	// ports marks the ports some rule documents as a destination.
	ports PortSet
}

type roleRef struct {
	role *Role
	mode string
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

// RoleNames is every name a role can be given by: ids, display names,
// aliases and "Role (Mode)" forms, sorted. Used for suggestions.
func (c *Catalog) RoleNames() []string {
	var out []string
	for _, r := range c.roles {
		out = append(out, r.Name)
		out = append(out, r.Aliases...)
		for _, m := range r.Modes {
			out = append(out, r.DisplayName(m.ID))
		}
	}
	sort.Strings(out)
	return out
}

// ErrUnknownRole is wrapped by LookupRole's error.
var ErrUnknownRole = fmt.Errorf("unknown role")

// LookupRole finds a role by id, display name or alias, case-insensitively
// and ignoring spacing, and returns it with the mode id the name selects
// ("" for none). "Role (Mode)" and "role-id/mode-id" select a mode.
func (c *Catalog) LookupRole(name string) (*Role, string, error) {
	if ref, ok := c.roleByK[normName(name)]; ok {
		return ref.role, ref.mode, nil
	}
	return nil, "", fmt.Errorf("%w %q%s", ErrUnknownRole, name, DidYouMean(name, c.RoleNames()))
}

// ServerPort says whether some rule documents port on protocol proto
// (tcp, udp or sctp) as a destination port.
func (c *Catalog) ServerPort(proto uint8, port uint16) bool { return c.ports.ServerPort(proto, port) }

func portIndex(p uint8) int {
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
