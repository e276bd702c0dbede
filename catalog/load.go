package catalog

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/flowaudit/flowaudit/catalog/yamlfile"
)

// maxFileSize bounds a catalog file read into memory.
const maxFileSize = 16 << 20

type sameAs struct {
	from, to *Role
	line     int
}

// parsedFile is one catalog file, decoded but not yet resolved.
type parsedFile struct {
	name    string
	user    bool // a --catalog file that adds to the built-in catalog
	doc     yDocument
	roles   []yRole
	aliases []yAlias
	rules   []yRule
}

// Load reads the built-in catalog and then the given user catalog files,
// which add roles and rules. A user file whose base name equals a built-in
// file's replaces it, so an edited copy of a built-in document can be
// checked. Every problem found is returned, as an ErrorList.
func Load(userFiles ...string) (*Catalog, error) {
	replaced := map[string]bool{}
	for _, f := range userFiles {
		replaced[filepath.Base(f)] = true
	}
	names, err := fs.Glob(builtin, "data/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	builtinName := map[string]bool{}
	for _, n := range names {
		builtinName[path.Base(n)] = true
	}
	var files []parsedFile
	var errs ErrorList
	for _, n := range names {
		if replaced[path.Base(n)] {
			continue
		}
		data, err := builtin.ReadFile(n)
		if err != nil {
			return nil, err
		}
		pf, perrs := parse("catalog/"+n, data)
		errs = append(errs, perrs...)
		files = append(files, pf)
	}
	for _, f := range userFiles {
		data, err := readFile(f)
		if err != nil {
			errs = append(errs, &ParseError{File: f, Err: err})
			continue
		}
		pf, perrs := parse(f, data)
		pf.user = !builtinName[filepath.Base(f)]
		errs = append(errs, perrs...)
		files = append(files, pf)
	}
	// A user file named like a built-in one replaces it (see above).
	var replacedBy []*ParseError
	for _, f := range userFiles {
		if builtinName[filepath.Base(f)] {
			replacedBy = append(replacedBy, &ParseError{File: f, Err: fmt.Errorf(
				"replaces the built-in catalog/data/%s (same file name): the built-in file's roles and rules are not loaded (to add rules to them, give the file another name)", filepath.Base(f))})
		}
	}
	c, berrs := build(files)
	errs = append(errs, berrs...)
	if c != nil {
		for _, r := range replacedBy {
			c.replaced = append(c.replaced, r.Error())
		}
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool {
			if errs[i].File != errs[j].File {
				return fileOrder(files, errs[i].File) < fileOrder(files, errs[j].File)
			}
			return errs[i].Line < errs[j].Line
		})
		// Roles the replaced file defined are unknown now: say why
		// first, before the errors it causes elsewhere.
		return c, append(ErrorList(replacedBy), errs...)
	}
	return c, nil
}

func fileOrder(files []parsedFile, name string) int {
	for i, f := range files {
		if f.name == name {
			return i
		}
	}
	return len(files)
}

// readFile reads a catalog file; its errors leave the file's name to the
// ParseError that holds them ("x.yaml: open: no such file or directory").
func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: %w", pe.Op, pe.Err)
		}
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, errors.New("is a directory, not a file")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("larger than %d MiB", maxFileSize>>20)
	}
	return data, nil
}

// parse decodes one file strictly. A file that does not decode yields no
// roles or rules but its errors.
func parse(name string, data []byte) (parsedFile, ErrorList) {
	pf := parsedFile{name: name}
	var y yFile
	if errs := yamlfile.Parse(name, data, &y); errs != nil {
		return pf, errs
	}
	if y.Document != nil {
		pf.doc = *y.Document
	}
	var errs ErrorList
	pf.roles = yamlfile.DecodeList[yRole](name, "roles", &y.Roles, &errs)
	pf.aliases = yamlfile.DecodeList[yAlias](name, "aliases", &y.Aliases, &errs)
	pf.rules = yamlfile.DecodeList[yRule](name, "rules", &y.Rules, &errs)
	return pf, errs
}

var (
	idPattern      = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	productPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
)

// builder resolves parsed files into a Catalog, collecting errors.
type builder struct {
	c    *Catalog
	errs ErrorList
	// where each name key was defined, for duplicate messages
	keyAt map[string]string
	// primary marks the keys that are ids and display names: unique
	// across the catalog, never shared with another role's alias.
	primary map[string]bool
	// citations are the documents the files describe, by file name.
	citations map[string]string
}

// product is the default product of a file's roles and rules: its
// document's, or site for a user file that names none.
func (f parsedFile) product() string {
	if f.doc.Product == "" && f.user {
		return SiteProduct
	}
	return f.doc.Product
}

// scope is the product scope names in the file resolve in: its own
// product.
func (f parsedFile) scope() Scope {
	if p := f.product(); p != "" && p != SharedProduct {
		return NewScope(p)
	}
	return Scope{}
}

func (b *builder) errf(file string, line int, format string, a ...any) {
	b.errs = append(b.errs, &ParseError{File: file, Line: line, Err: fmt.Errorf(format, a...)})
}

func build(files []parsedFile) (*Catalog, ErrorList) {
	b := &builder{
		c: &Catalog{
			roleByK: map[string][]roleRef{},
			roleID:  map[string]*Role{},
			ruleID:  map[string]*Rule{},
		},
		keyAt:     map[string]string{},
		primary:   map[string]bool{},
		citations: map[string]string{},
	}
	for _, f := range files {
		b.c.files = append(b.c.files, f.name)
		if f.doc.File != "" {
			b.citations[f.doc.File] = f.doc.citation()
		}
	}
	// Roles first, from every file, so any file may name any role.
	for _, f := range files {
		for i := range f.roles {
			b.addRole(f, &f.roles[i])
		}
	}
	for _, f := range files {
		for i := range f.aliases {
			b.addAliases(f, &f.aliases[i])
		}
	}
	b.resolveGroups(files)
	for _, f := range files {
		for i := range f.rules {
			b.addRule(f, &f.rules[i])
		}
	}
	b.expandSameAs()
	b.indexPorts()
	sort.SliceStable(b.c.roles, func(i, j int) bool {
		ri, rj := b.c.roles[i], b.c.roles[j]
		if ri.Product != rj.Product {
			return ri.Product < rj.Product
		}
		return strings.ToLower(ri.Name) < strings.ToLower(rj.Name)
	})
	return b.c, b.errs
}

// key registers a name for a role (and mode). An id or display name
// (primary) is unique across the catalog; an alias may name roles of
// several products (LookupRoleIn decides by scope), but only one role per
// product.
func (b *builder) key(file string, line int, name string, ref roleRef, primary bool) {
	k := normName(name)
	if k == "" {
		b.errf(file, line, "empty role name")
		return
	}
	if k == "any" {
		b.errf(file, line, "%q is reserved for rules that accept any host", name)
		return
	}
	for _, old := range b.c.roleByK[k] {
		if old.role == ref.role && old.mode == ref.mode {
			if old.local == "" || ref.local != "" {
				return
			}
			continue // a product alias made a name catalog-wide
		}
		at := b.keyAt[k+"\x00"+old.role.ID+"/"+old.mode]
		switch {
		case primary || b.primary[k]:
			b.errf(file, line, "name %q already names %s (%s)", name, old.role.DisplayName(old.mode), at)
			return
		case old.role.Product == ref.role.Product:
			b.errf(file, line, "name %q already names %s (%s), of the same product %s", name, old.role.DisplayName(old.mode), at, ref.role.Product)
			return
		}
	}
	if primary {
		b.primary[k] = true
	}
	b.c.roleByK[k] = append(b.c.roleByK[k], ref)
	b.keyAt[k+"\x00"+ref.role.ID+"/"+ref.mode] = fmt.Sprintf("%s:%d", file, line)
}

func (b *builder) addRole(f parsedFile, y *yRole) {
	switch {
	case y.ID == "":
		b.errf(f.name, y.line, "role has no id")
		return
	case !idPattern.MatchString(y.ID):
		b.errf(f.name, yamlfile.LineOf(y.lines, "id", y.line), "role id %q must be lower-case letters, digits, '-', '.' or '_'", y.ID)
		return
	case strings.TrimSpace(y.Name) == "":
		b.errf(f.name, y.line, "role %q has no name", y.ID)
		return
	}
	if old, ok := b.c.roleID[y.ID]; ok {
		b.errf(f.name, yamlfile.LineOf(y.lines, "id", y.line), "duplicate role id %q (first defined at %s:%d)", y.ID, old.File, old.Line)
		return
	}
	product := y.Product
	if product == "" {
		product = f.product()
	}
	if !productPattern.MatchString(product) {
		b.errf(f.name, y.line, "role %q: product %q must be a lower-case word (set it on the role or in document.product)", y.ID, product)
		return
	}
	r := &Role{
		ID: y.ID, Name: strings.TrimSpace(y.Name), Product: product, Description: y.Description,
		File: f.name, Line: y.line, membersProduct: y.MembersProduct, memberRefs: y.Members,
		scope: f.scope(), site: f.user,
	}
	b.c.roleID[r.ID] = r
	b.c.roles = append(b.c.roles, r)
	b.key(f.name, yamlfile.LineOf(y.lines, "id", y.line), r.ID, roleRef{role: r}, true)
	b.key(f.name, yamlfile.LineOf(y.lines, "name", y.line), r.Name, roleRef{role: r}, true)
	for _, a := range y.Aliases {
		b.addAlias(f.name, yamlfile.LineOf(y.lines, "aliases", y.line), r, a)
	}
	local := f.doc.Product
	if local == "" || local == SharedProduct {
		local = product
	}
	if len(y.ProductAliases) > 0 {
		r.AliasProduct = local
	}
	for _, a := range y.ProductAliases {
		b.key(f.name, yamlfile.LineOf(y.lines, "product_aliases", y.line), a, roleRef{role: r, local: local}, false)
		r.ProductAliases = append(r.ProductAliases, a)
	}
	seenMode := map[string]bool{}
	for _, m := range y.Modes {
		if !idPattern.MatchString(m.ID) || m.Name == "" {
			b.errf(f.name, m.line, "role %q: a mode needs an id (lower case) and a name", r.ID)
			continue
		}
		if seenMode[m.ID] {
			b.errf(f.name, m.line, "role %q: duplicate mode %q", r.ID, m.ID)
			continue
		}
		seenMode[m.ID] = true
		md := Mode{ID: m.ID, Name: m.Name}
		ref := roleRef{role: r, mode: m.ID}
		b.key(f.name, m.line, r.ID+"/"+m.ID, ref, true)
		b.key(f.name, m.line, r.Name+" ("+m.Name+")", ref, true)
		for _, a := range m.Aliases {
			if normName(a) == normName(r.Name+" ("+m.Name+")") {
				continue
			}
			md.Aliases = append(md.Aliases, a)
			b.key(f.name, yamlfile.LineOf(m.lines, "aliases", m.line), a, ref, false)
		}
		for _, a := range m.ProductAliases {
			r.AliasProduct = local
			md.ProductAliases = append(md.ProductAliases, a)
			b.key(f.name, yamlfile.LineOf(m.lines, "product_aliases", m.line), a, roleRef{role: r, mode: m.ID, local: local}, false)
		}
		r.Modes = append(r.Modes, md)
	}
	if y.MembersProduct != "" && len(y.Members) > 0 {
		b.errf(f.name, y.line, "role %q: give members or members_product, not both", r.ID)
	}
}

func (b *builder) addAlias(file string, line int, r *Role, a string) {
	k := normName(a)
	if k == normName(r.Name) || k == r.ID {
		return
	}
	for _, old := range b.c.roleByK[k] {
		if old.role == r && old.mode == "" && old.local == "" {
			return // the same name from another document
		}
	}
	n := len(b.c.roleByK[k])
	b.key(file, line, a, roleRef{role: r}, false)
	if len(b.c.roleByK[k]) > n {
		r.Aliases = append(r.Aliases, a)
	}
}

// lookup resolves a name in a catalog file, within the file's scope; a
// built-in file's names resolve among built-in roles only.
func (b *builder) lookup(name string, scope Scope, site bool) (roleRef, error) {
	role, mode, err := b.c.lookupIn(name, scope, site)
	if err != nil {
		return roleRef{}, err
	}
	return roleRef{role: role, mode: mode}, nil
}

func (b *builder) addAliases(f parsedFile, y *yAlias) {
	ref, err := b.lookup(y.Role, f.scope(), f.user)
	if err != nil {
		b.errf(f.name, yamlfile.LineOf(y.lines, "role", y.line), "%v", err)
		return
	}
	for _, n := range y.Names {
		if ref.mode != "" {
			b.key(f.name, yamlfile.LineOf(y.lines, "names", y.line), n, ref, false)
			continue
		}
		b.addAlias(f.name, yamlfile.LineOf(y.lines, "names", y.line), ref.role, n)
	}
}

// resolveGroups turns members and members_product into flat lists of
// plain role ids.
func (b *builder) resolveGroups(files []parsedFile) {
	direct := map[string][]string{}
	for _, r := range b.c.roles {
		switch {
		case r.membersProduct != "":
			direct[r.ID] = nil
			for _, m := range b.c.roles {
				if m != r && m.Product == r.membersProduct && m.membersProduct == "" && len(m.memberRefs) == 0 {
					direct[r.ID] = append(direct[r.ID], m.ID)
				}
			}
			if len(direct[r.ID]) == 0 {
				b.errf(r.File, r.Line, "role %q: no roles of product %q to be members", r.ID, r.membersProduct)
			}
		case len(r.memberRefs) > 0:
			for _, name := range r.memberRefs {
				ref, err := b.lookup(name, r.scope, r.site)
				if errors.Is(err, ErrUnknownRole) {
					b.errf(r.File, r.Line, "role %q: unknown member role %q%s", r.ID, name, DidYouMean(name, b.c.RoleNamesIn(r.scope)))
					continue
				} else if err != nil {
					b.errf(r.File, r.Line, "role %q: member %v", r.ID, err)
					continue
				}
				direct[r.ID] = append(direct[r.ID], ref.role.ID)
			}
		}
	}
	var flatten func(id string, seen map[string]bool) []string
	flatten = func(id string, seen map[string]bool) []string {
		var out []string
		for _, m := range direct[id] {
			if seen[m] {
				continue
			}
			seen[m] = true
			if _, isGroup := direct[m]; isGroup {
				out = append(out, flatten(m, seen)...)
			} else {
				out = append(out, m)
			}
		}
		return out
	}
	for id := range direct {
		r := b.c.roleID[id]
		members := flatten(id, map[string]bool{id: true})
		sort.Strings(members)
		r.Members = append([]string{}, members...)
	}
}

var directions = map[string]bool{"": true, "outbound-only": true, "inbound-only": true}

func (b *builder) endpoint(f parsedFile, line int, name string) (Endpoint, bool) {
	if normName(name) == "any" {
		return Endpoint{}, true
	}
	ref, err := b.lookup(name, f.scope(), f.user)
	if err != nil {
		b.errf(f.name, line, "%v", err)
		return Endpoint{}, false
	}
	return Endpoint{Role: ref.role, Mode: ref.mode}, true
}

func (b *builder) addRule(f parsedFile, y *yRule) {
	file, at := f.name, func(k string) int { return yamlfile.LineOf(y.lines, k, y.line) }
	if y.ID == "" {
		b.errf(file, y.line, "rule has no id")
		return
	}
	if !idPattern.MatchString(y.ID) {
		b.errf(file, at("id"), "rule id %q must be lower-case letters, digits, '-', '.' or '_'", y.ID)
		return
	}
	product := f.product()
	if product == "" || product == SharedProduct {
		product = SiteProduct
	}
	base := Rule{
		ID: y.ID, Product: product, Section: y.Section, Site: f.user,
		Description: strings.TrimSpace(y.Description), Original: strings.TrimSpace(y.Original), Note: strings.TrimSpace(y.Note),
		Optional: y.Optional, Bidirectional: y.Bidirectional, Configurable: y.Configurable, Dynamic: y.Dynamic,
		Direction: y.Direction, PortsText: string(y.Ports), File: file, Line: y.line,
	}
	ok := true
	if !directions[y.Direction] {
		b.errf(file, at("direction"), "direction %q: want outbound-only or inbound-only", y.Direction)
		ok = false
	}
	var err error
	if base.Protocols, base.Apps, err = parseProtocols(y.Protocols); err != nil {
		b.errf(file, at("protocols"), "%v", err)
		ok = false
	}
	if base.Ports, err = ParsePorts(string(y.Ports)); err != nil {
		b.errf(file, at("ports"), "%v", err)
		ok = false
	}
	if ok {
		ok = b.checkProtoPorts(file, at, y, &base)
	}
	for _, s := range y.Source {
		doc := s.Doc
		if doc == "" {
			doc = f.doc.File
		}
		if doc == "" || s.Section == "" || s.Row < 1 {
			b.errf(file, s.line, "source needs doc (or document.file), section and a row from 1")
			ok = false
			continue
		}
		base.Sources = append(base.Sources, Source{Doc: doc, Title: b.citations[doc], Section: s.Section, Row: s.Row})
	}
	if f.doc.File != "" && len(base.Sources) == 0 {
		b.errf(file, y.line, "rule %q has no source", y.ID)
		ok = false
	}
	froms := []string(y.From)
	if len(froms) == 0 {
		b.errf(file, y.line, "rule %q has no from (write Any for any source)", y.ID)
		ok = false
	}
	var toHost Endpoint
	if y.ToHost != "" || len(y.ToAddress) > 0 {
		toHost.Host = strings.ToLower(strings.TrimSpace(y.ToHost))
		for _, a := range y.ToAddress {
			p, err := parsePrefix(a)
			if err != nil {
				b.errf(file, at("to_address"), "%v", err)
				ok = false
				continue
			}
			toHost.Addrs = append(toHost.Addrs, p)
		}
		if len(y.To) > 0 {
			b.errf(file, at("to"), "rule %q: give to, or to_host/to_address, not both", y.ID)
			ok = false
		}
	}
	tos := []string(y.To)
	if len(tos) == 0 && toHost.Host == "" && len(toHost.Addrs) == 0 {
		b.errf(file, y.line, "rule %q has no to (write Any for any destination)", y.ID)
		ok = false
	}
	var fromEPs, toEPs []Endpoint
	for _, n := range froms {
		ep, good := b.endpoint(f, at("from"), n)
		ok = ok && good
		fromEPs = append(fromEPs, ep)
	}
	for _, n := range tos {
		ep, good := b.endpoint(f, at("to"), n)
		ok = ok && good
		toEPs = append(toEPs, ep)
	}
	if len(tos) == 0 {
		toEPs = []Endpoint{toHost}
	}
	if y.SameAs != nil {
		sf, ok1 := b.endpoint(f, yamlfile.LineOf(y.SameAs.lines, "from", y.SameAs.line), y.SameAs.From)
		st, ok2 := b.endpoint(f, yamlfile.LineOf(y.SameAs.lines, "to", y.SameAs.line), y.SameAs.To)
		if ok1 && ok2 && (sf.Role == nil || st.Role == nil) {
			b.errf(file, y.SameAs.line, "same_as needs two roles, not Any")
			ok1 = false
		}
		if ok1 && ok2 {
			base.sameAs = &sameAs{from: sf.Role, to: st.Role, line: y.SameAs.line}
		}
		ok = ok && ok1 && ok2
	}
	if !ok {
		return
	}
	for _, from := range fromEPs {
		for _, to := range toEPs {
			r := base
			r.From, r.To = from, to
			if len(fromEPs) > 1 {
				r.ID += "." + epID(from)
			}
			if len(toEPs) > 1 {
				r.ID += "." + epID(to)
			}
			b.addRuleID(&r)
		}
	}
}

func epID(e Endpoint) string {
	if e.Role == nil {
		return "any"
	}
	if e.Mode != "" {
		return e.Role.ID + "-" + e.Mode
	}
	return e.Role.ID
}

func (b *builder) addRuleID(r *Rule) {
	if old, dup := b.c.ruleID[r.ID]; dup {
		b.errf(r.File, r.Line, "duplicate rule id %q (first at %s:%d)", r.ID, old.File, old.Line)
		return
	}
	rc := *r
	b.c.ruleID[r.ID] = &rc
	b.c.rules = append(b.c.rules, &rc)
}

// checkProtoPorts checks that ports go with protocols that have them.
func (b *builder) checkProtoPorts(file string, at func(string) int, y *yRule, r *Rule) bool {
	if y.SameAs != nil {
		if len(r.Protocols) > 0 || len(r.Ports) > 0 {
			b.errf(file, at("same_as"), "rule %q: same_as copies protocols and ports; give neither", y.ID)
			return false
		}
		return true
	}
	if len(r.Protocols) == 0 {
		b.errf(file, y.line, "rule %q has no protocols", y.ID)
		return false
	}
	withPorts := false
	for _, p := range r.Protocols {
		withPorts = withPorts || HasPorts(p)
	}
	switch {
	case withPorts && len(r.Ports) == 0:
		b.errf(file, at("ports"), "rule %q: %s needs ports", y.ID, strings.Join(r.ProtocolNames(), "/"))
		return false
	case !withPorts && len(r.Ports) > 0:
		b.errf(file, at("ports"), "rule %q: %s has no ports; write ports: none", y.ID, strings.Join(r.ProtocolNames(), "/"))
		return false
	}
	return true
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("bad address block %q: %w", s, err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad address %q: %w", s, err)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// expandSameAs replaces each same_as rule by copies of the rules it points
// to, carrying its own sides, source and flags.
func (b *builder) expandSameAs() {
	var out []*Rule
	for _, r := range b.c.rules {
		if r.sameAs == nil {
			out = append(out, r)
			continue
		}
		delete(b.c.ruleID, r.ID)
		n := 0
		for _, src := range b.c.rules {
			if src.sameAs != nil || src.From.Role != r.sameAs.from || src.To.Role != r.sameAs.to {
				continue
			}
			cp := *src
			cp.ID = r.ID + "." + src.ID
			cp.Product, cp.Section = r.Product, r.Section
			cp.From, cp.To = r.From, r.To
			cp.Description = strings.TrimSpace(r.Description + " Same as " + src.ID + ": " + src.Description)
			cp.Original, cp.Note = r.Original, r.Note
			cp.Optional = r.Optional || src.Optional
			cp.Sources, cp.File, cp.Line = r.Sources, r.File, r.Line
			cp.sameAs = nil
			if _, dup := b.c.ruleID[cp.ID]; dup {
				b.errf(r.File, r.Line, "duplicate rule id %q from same_as", cp.ID)
				continue
			}
			b.c.ruleID[cp.ID] = &cp
			out = append(out, &cp)
			n++
		}
		if n == 0 {
			b.errf(r.File, r.sameAs.line, "same_as: no rules from %s to %s", r.sameAs.from.Name, r.sameAs.to.Name)
		}
	}
	b.c.rules = out
}

// maxServerRange is the widest port range the server-port index takes: a
// range wider than this ("any", 1024-65535) says a port is picked at
// random, not that the port identifies a server.
const maxServerRange = 20000

// indexPorts marks the ports rules document as destinations, for the
// client decision of connections seen mid-stream. Rules with dynamic ports
// and very wide ranges are left out: they would make every port a server
// port.
func (b *builder) indexPorts() {
	for _, r := range b.c.rules {
		if r.Dynamic {
			continue
		}
		for _, p := range r.Protocols {
			i := PortProtoIndex(p)
			if i < 0 {
				continue
			}
			if b.c.ports.bits[i] == nil {
				b.c.ports.bits[i] = new([65536 / 64]uint64)
			}
			for _, pr := range r.Ports {
				if int(pr.Hi)-int(pr.Lo) > maxServerRange {
					continue
				}
				for port := int(pr.Lo); port <= int(pr.Hi); port++ {
					b.c.ports.bits[i][port/64] |= 1 << (port % 64)
				}
			}
		}
	}
}
