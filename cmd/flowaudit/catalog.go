package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/flowaudit/flowaudit/catalog"
	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

const catalogHelp = `Usage:
  flowaudit catalog list   [--product P]... [--format table|json|csv] [--catalog FILE]...
  flowaudit catalog roles  [--format table|json|csv] [--catalog FILE]...
  flowaudit catalog search [--format table|json|csv] [--catalog FILE]... QUERY
  flowaudit catalog lint   FILE...

The catalog is every row of the vendors' port tables (VMware Horizon 7,
Citrix, Parallels RAS, Microsoft Lync Server 2013), built into the binary.
--catalog adds your own rules and roles from a YAML file of the same format
(see catalog/data/README.md).

  list     every rule: id, product, from role, to role, protocols, ports
  roles    every role with its aliases (the names an inventory may use)
  search   rules by port ("4172", "udp/4172", "tcp/8443"), by role name or
           alias ("StoreFront"), or by a word in the id or description
  lint     check catalog files; prints file:line errors, exit 0 or 1

Examples:
  flowaudit catalog list --product horizon
  flowaudit catalog list --format json | jq '.rules[] | select(.ports == [[4172,4172]])'
  flowaudit catalog roles --format csv
  flowaudit catalog search udp/4172
  flowaudit catalog search "Delivery Controller"
  flowaudit catalog lint my-rules.yaml
`

func runCatalog(e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, catalogHelp)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(e.stdout, catalogHelp)
		return exitOK
	case "list", "roles", "search":
		return e.catalogQuery(args[0], args[1:])
	case "lint":
		return e.catalogLint(args[1:])
	}
	return e.fail(usagef("catalog: unknown subcommand %q%s (want list, roles, search or lint)", args[0],
		catalog.DidYouMean(args[0], []string{"list", "roles", "search", "lint"})))
}

func (e *env) catalogQuery(sub string, args []string) int {
	fs := newFlagSet("catalog "+sub, catalogHelp)
	format := fs.StringP("format", "f", "table", "output format: table, json or csv")
	var products, extra []string
	if sub == "list" {
		fs.StringSliceVarP(&products, "product", "p", nil, "only rules of this product (horizon, citrix, ras, lync); repeatable")
	}
	fs.StringArrayVar(&extra, "catalog", nil, "add rules and roles from this catalog `FILE`; repeatable")
	if done, err := e.parseFlags(fs, catalogHelp, args); done {
		if err != nil {
			return e.fail(err)
		}
		return exitOK
	}
	if err := checkFormat("catalog "+sub, *format, "table", "json", "csv"); err != nil {
		return e.fail(err)
	}
	cat, err := catalog.Load(extra...)
	if err != nil {
		return e.fail(err)
	}
	switch sub {
	case "roles":
		if fs.NArg() > 0 {
			return e.fail(usagef("catalog roles takes no arguments"))
		}
		return e.done(e.printRoles(cat.Roles(), *format))
	case "list":
		if fs.NArg() > 0 {
			return e.fail(usagef("catalog list takes no arguments (did you mean 'catalog search %s'?)", strings.Join(fs.Args(), " ")))
		}
		rules := cat.Rules()
		if len(products) > 0 {
			known := cat.Products()
			for _, p := range products {
				if !contains(known, p) {
					return e.fail(usagef("catalog list: unknown product %q: want %s", p, strings.Join(known, ", ")))
				}
			}
			rules = filterRules(rules, func(r *catalog.Rule) bool { return contains(products, r.Product) })
		}
		return e.done(e.printRules(rules, *format))
	}
	if fs.NArg() == 0 {
		return e.fail(usagef("catalog search needs a QUERY: a port, proto/port, role name or word"))
	}
	rules, err := searchRules(cat, strings.Join(fs.Args(), " "))
	if err != nil {
		return e.fail(err)
	}
	return e.done(e.printRules(rules, *format))
}

// done maps an output error to an exit code.
func (e *env) done(err error) int {
	if err != nil {
		return e.fail(err)
	}
	return exitOK
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func filterRules(rules []*catalog.Rule, keep func(*catalog.Rule) bool) []*catalog.Rule {
	var out []*catalog.Rule
	for _, r := range rules {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// searchRules finds rules by port ("4172", "udp/4172"), by role (any
// name of it, matching either side, groups included), or by a word.
func searchRules(cat *catalog.Catalog, q string) ([]*catalog.Rule, error) {
	q = strings.TrimSpace(q)
	if proto, port, ok := parsePortQuery(q); ok {
		return filterRules(cat.Rules(), func(r *catalog.Rule) bool {
			if proto != 0 {
				return r.CoversPort(proto, port)
			}
			return (r.HasProto(6) || r.HasProto(17) || r.HasProto(132)) && catalog.PortsContain(r.Ports, port)
		}), nil
	}
	if role, mode, err := cat.LookupRole(q); err == nil {
		return filterRules(cat.Rules(), func(r *catalog.Rule) bool {
			return sideCovers(r.From, role, mode) || sideCovers(r.To, role, mode)
		}), nil
	}
	if a, err := netip.ParseAddr(q); err == nil {
		return filterRules(cat.Rules(), func(r *catalog.Rule) bool { return r.To.MatchesAddr(a) }), nil
	}
	lq := strings.ToLower(q)
	return filterRules(cat.Rules(), func(r *catalog.Rule) bool {
		for _, s := range []string{r.ID, r.Description, r.Original, r.Section, r.Note, strings.Join(r.Apps, " "), r.To.Host} {
			if strings.Contains(strings.ToLower(s), lq) {
				return true
			}
		}
		return false
	}), nil
}

// sideCovers says whether a rule side is written for role (or a group
// holding it), in a compatible mode. Any does not count: searching for a
// role lists the rules that name it.
func sideCovers(ep catalog.Endpoint, role *catalog.Role, mode string) bool {
	if ep.Role == nil {
		return false
	}
	if role.IsGroup() {
		return ep.Role == role
	}
	return ep.Role.Covers(ep.Mode, role.ID, mode)
}

func parsePortQuery(q string) (proto uint8, port uint16, ok bool) {
	p, num, slash := strings.Cut(q, "/")
	if !slash {
		num = p
	}
	v, err := strconv.ParseUint(num, 10, 16)
	if err != nil {
		return 0, 0, false
	}
	if slash {
		pr, err := catalog.ParseProto(p)
		if err != nil {
			return 0, 0, false
		}
		proto = pr
	}
	return proto, uint16(v), true
}

// ruleJSON is a rule as `catalog list --format json` prints it. The first
// fields are the names the issue fixed; the rest are extra.
type ruleJSON struct {
	ID            string       `json:"id"`
	Product       string       `json:"product"`
	Section       string       `json:"section"`
	FromRole      string       `json:"from_role"`
	ToRole        string       `json:"to_role"`
	Protocols     []string     `json:"protocols"`
	Ports         [][2]uint16  `json:"ports"`
	Description   string       `json:"description"`
	Source        string       `json:"source"`
	Optional      bool         `json:"optional"`
	Bidirectional bool         `json:"bidirectional"`
	Applications  []string     `json:"applications"`
	PortsText     string       `json:"ports_text"`
	Direction     string       `json:"direction,omitempty"`
	Configurable  bool         `json:"configurable"`
	Dynamic       bool         `json:"dynamic"`
	FromRoleID    string       `json:"from_role_id,omitempty"`
	FromMode      string       `json:"from_mode,omitempty"`
	ToRoleID      string       `json:"to_role_id,omitempty"`
	ToMode        string       `json:"to_mode,omitempty"`
	ToHost        string       `json:"to_host,omitempty"`
	ToAddresses   []string     `json:"to_addresses,omitempty"`
	Original      string       `json:"original,omitempty"`
	Note          string       `json:"note,omitempty"`
	Sources       []sourceJSON `json:"sources"`
	File          string       `json:"file"`
	Line          int          `json:"line"`
}

type sourceJSON struct {
	Doc     string `json:"doc"`
	Section string `json:"section"`
	Row     int    `json:"row"`
}

func toRuleJSON(r *catalog.Rule) ruleJSON {
	j := ruleJSON{
		ID: r.ID, Product: r.Product, Section: r.Section,
		FromRole: r.From.String(), ToRole: r.To.String(),
		Protocols: r.ProtocolNames(), Ports: [][2]uint16{},
		Description: r.Description, Source: r.SourceText(),
		Optional: r.Optional, Bidirectional: r.Bidirectional,
		Applications: append([]string{}, r.Apps...), PortsText: r.PortsText,
		Direction: r.Direction, Configurable: r.Configurable, Dynamic: r.Dynamic,
		FromMode: r.From.Mode, ToMode: r.To.Mode, ToHost: r.To.Host,
		Original: r.Original, Note: r.Note, Sources: []sourceJSON{}, File: r.File, Line: r.Line,
	}
	if r.From.Role != nil {
		j.FromRoleID = r.From.Role.ID
	}
	if r.To.Role != nil {
		j.ToRoleID = r.To.Role.ID
	}
	for _, p := range r.Ports {
		j.Ports = append(j.Ports, [2]uint16{p.Lo, p.Hi})
	}
	for _, a := range r.To.Addrs {
		j.ToAddresses = append(j.ToAddresses, a.String())
	}
	for _, s := range r.Sources {
		j.Sources = append(j.Sources, sourceJSON{s.Doc, s.Section, s.Row})
	}
	return j
}

func protoPorts(r *catalog.Rule) string {
	ports := catalog.FormatPorts(r.Ports)
	if ports == "" {
		return strings.Join(r.ProtocolNames(), "+")
	}
	return strings.Join(r.ProtocolNames(), "+") + "/" + ports
}

func (e *env) printRules(rules []*catalog.Rule, format string) error {
	switch format {
	case "json":
		out := struct {
			Rules []ruleJSON `json:"rules"`
		}{Rules: []ruleJSON{}}
		for _, r := range rules {
			out.Rules = append(out.Rules, toRuleJSON(r))
		}
		return writeJSON(e.stdout, out)
	case "csv":
		rows := make([][]string, 0, len(rules))
		for _, r := range rules {
			rows = append(rows, []string{r.ID, r.Product, r.Section, r.From.String(), r.To.String(),
				strings.Join(r.ProtocolNames(), " "), catalog.FormatPorts(r.Ports), r.Description,
				strings.Join(r.Apps, " "), strings.Join(r.Flags(), ","), r.SourceText()})
		}
		return writeCSV(e.stdout, []string{"id", "product", "section", "from_role", "to_role", "protocols", "ports", "description", "applications", "flags", "source"}, rows)
	}
	t := e.newTable("ID", "From", "To", "Proto/Ports", "Description", "Flags")
	t.SetColumnConfigs([]table.ColumnConfig{{Number: 5, WidthMax: 60, WidthMaxEnforcer: text.WrapSoft}, {Number: 1, WidthMax: 48, WidthMaxEnforcer: text.WrapSoft}})
	for _, r := range rules {
		t.AppendRow(table.Row{r.ID, r.From.String(), r.To.String(), protoPorts(r), r.Description, strings.Join(r.Flags(), ",")})
	}
	t.AppendFooter(table.Row{fmt.Sprintf("%d rules", len(rules))})
	t.Render()
	return nil
}

type roleJSON struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Product     string     `json:"product"`
	Aliases     []string   `json:"aliases"`
	Description string     `json:"description,omitempty"`
	Members     []string   `json:"members,omitempty"`
	Modes       []modeJSON `json:"modes,omitempty"`
}

type modeJSON struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Aliases []string `json:"aliases"`
}

func (e *env) printRoles(roles []*catalog.Role, format string) error {
	switch format {
	case "json":
		out := struct {
			Roles []roleJSON `json:"roles"`
		}{Roles: []roleJSON{}}
		for _, r := range roles {
			j := roleJSON{ID: r.ID, Name: r.Name, Product: r.Product, Aliases: append([]string{}, r.Aliases...), Description: r.Description, Members: r.Members}
			for _, m := range r.Modes {
				j.Modes = append(j.Modes, modeJSON{m.ID, m.Name, append([]string{}, m.Aliases...)})
			}
			out.Roles = append(out.Roles, j)
		}
		return writeJSON(e.stdout, out)
	case "csv":
		rows := make([][]string, 0, len(roles))
		for _, r := range roles {
			rows = append(rows, []string{r.ID, r.Name, r.Product, strings.Join(r.Aliases, "; "), modeNames(r), strings.Join(r.Members, " ")})
		}
		return writeCSV(e.stdout, []string{"id", "name", "product", "aliases", "modes", "members"}, rows)
	}
	t := e.newTable("ID", "Name", "Product", "Aliases", "Modes / members")
	t.SetColumnConfigs([]table.ColumnConfig{{Number: 4, WidthMax: 60, WidthMaxEnforcer: text.WrapSoft}, {Number: 5, WidthMax: 40, WidthMaxEnforcer: text.WrapSoft}})
	for _, r := range roles {
		extra := modeNames(r)
		if r.IsGroup() {
			extra = fmt.Sprintf("group of %d roles", len(r.Members))
		}
		t.AppendRow(table.Row{r.ID, r.Name, r.Product, strings.Join(r.Aliases, "; "), extra})
	}
	t.AppendFooter(table.Row{fmt.Sprintf("%d roles", len(roles))})
	t.Render()
	return nil
}

func modeNames(r *catalog.Role) string {
	var out []string
	for _, m := range r.Modes {
		out = append(out, m.Name)
	}
	return strings.Join(out, "; ")
}

func (e *env) catalogLint(args []string) int {
	fs := newFlagSet("catalog lint", catalogHelp)
	if done, err := e.parseFlags(fs, catalogHelp, args); done {
		if err != nil {
			return e.fail(err)
		}
		return exitOK
	}
	if fs.NArg() == 0 {
		return e.fail(usagef("catalog lint needs at least one FILE"))
	}
	cat, err := catalog.Load(fs.Args()...)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return exitError
	}
	rules, roles := 0, 0
	for _, r := range cat.Rules() {
		if contains(fs.Args(), r.File) {
			rules++
		}
	}
	for _, r := range cat.Roles() {
		if contains(fs.Args(), r.File) {
			roles++
		}
	}
	fmt.Fprintf(e.stdout, "ok: %d files, %d rules, %d roles\n", fs.NArg(), rules, roles)
	return exitOK
}
