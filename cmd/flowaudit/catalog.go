package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/flowaudit/flowaudit/catalog"
	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

const catalogHelp = `Usage:
  flowaudit catalog list   [--product P]... [--format table|json|csv] [--catalog FILE]...
  flowaudit catalog roles  [--format table|json|csv] [--catalog FILE]...
  flowaudit catalog search [--product P]... [--all-products] [--format table|json|csv] [--catalog FILE]... QUERY
  flowaudit catalog lint   FILE...

The catalog is every row of the vendors' port tables (VMware Horizon 7,
Citrix, Parallels RAS, Microsoft Lync Server 2013), built into the binary.
--catalog adds your own rules and roles from a YAML file of the same format
(see catalog/data/README.md).

  list     every rule: id, product, from role, to role, protocols, ports
  roles    every role with its aliases (the names an inventory may use)
  search   rules by port ("4172", "udp/4172", "4172/udp"), by role name or
           alias ("StoreFront"), by address, or by whole words of the id,
           description, section or notes ("ICA" does not match
           "application"). Port matches list the rules of that exact port
           first and wide ranges (1024-65535, 0-65535) last. With
           --product, only that product's rules (and site rules);
           --all-products lists the others after them. A query that
           looks like a port but is not one (udp/abc, 99999) is a usage
           error.
  lint     check catalog files; prints file:line errors (exit 1) and
           warnings for rules that allow Any → Any or open a range wider
           than 1024 ports (exit 0)

--product takes horizon, citrix, ras, lync or the vendor's name (vmware,
parallels, skype, microsoft), in any case, as a comma list or repeated.
Rules from --catalog files are site rules: always listed, whatever
--product says.

Examples:
  flowaudit catalog list --product horizon
  flowaudit catalog list --format json | jq '.rules[] | select(.ports == [[4172,4172]])'
  flowaudit catalog roles --format csv
  flowaudit catalog search udp/4172
  flowaudit catalog search --product vmware 443
  flowaudit catalog search "Delivery Controller"
  flowaudit catalog lint my-rules.yaml

Exit codes:
  0  success; lint: no errors (warnings are printed, and exit 0)
  1  error: a catalog file could not be read or parsed (lint prints each
     error as file:line), or the output could not be written
  2  usage error, or a search query that looks like a port and is none
     (udp/abc, 99999)
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
	var extra []string
	var pf productFlags
	switch sub {
	case "list":
		pf.register(fs, "p", "", "")
	case "search":
		pf.register(fs, "p", "", "with --product, list the other products' rules too, after the product's")
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
	products, err := pf.parse("catalog "+sub, cat)
	if err != nil {
		return e.fail(err)
	}
	scope := catalog.NewScope(products...)
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
		rules := catalog.Filter(cat.Rules(), scope.HasRule)
		return e.done(e.printRules(rules, *format))
	}
	if fs.NArg() == 0 {
		return e.fail(usagef("catalog search needs a QUERY: a port, proto/port, role name or word"))
	}
	rules, note, err := cat.Search(strings.Join(fs.Args(), " "), scope)
	if errors.Is(err, catalog.ErrNotPort) {
		err = usagef("catalog search: %w", err)
	}
	if err != nil {
		return e.fail(err)
	}
	if !pf.all {
		rules = catalog.Filter(rules, scope.HasRule)
	}
	if note != "" {
		fmt.Fprintln(e.stderr, "flowaudit: "+note)
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
	Title   string `json:"title"` // the document as cited, with its edition
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
		j.Sources = append(j.Sources, sourceJSON{s.Doc, s.Section, s.Row, s.Title})
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
	// ProductAliases name the role only where AliasProduct is in scope.
	ProductAliases []string `json:"product_aliases,omitempty"`
	AliasProduct   string   `json:"alias_product,omitempty"`
}

type modeJSON struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Aliases        []string `json:"aliases"`
	ProductAliases []string `json:"product_aliases,omitempty"`
}

func (e *env) printRoles(roles []*catalog.Role, format string) error {
	switch format {
	case "json":
		out := struct {
			Roles []roleJSON `json:"roles"`
		}{Roles: []roleJSON{}}
		for _, r := range roles {
			j := roleJSON{ID: r.ID, Name: r.Name, Product: r.Product, Aliases: append([]string{}, r.Aliases...), Description: r.Description, Members: r.Members,
				ProductAliases: r.ProductAliases}
			if len(r.ProductAliases) > 0 {
				j.AliasProduct = r.AliasProduct
			}
			for _, m := range r.Modes {
				j.Modes = append(j.Modes, modeJSON{m.ID, m.Name, append([]string{}, m.Aliases...), m.ProductAliases})
			}
			out.Roles = append(out.Roles, j)
		}
		return writeJSON(e.stdout, out)
	case "csv":
		rows := make([][]string, 0, len(roles))
		for _, r := range roles {
			rows = append(rows, []string{r.ID, r.Name, r.Product, strings.Join(r.Aliases, "; "), modeNames(r), strings.Join(r.Members, " "), productAliases(r)})
		}
		return writeCSV(e.stdout, []string{"id", "name", "product", "aliases", "modes", "members", "product_aliases"}, rows)
	}
	t := e.newTable("ID", "Name", "Product", "Aliases", "Modes / members")
	t.SetColumnConfigs([]table.ColumnConfig{{Number: 4, WidthMax: 60, WidthMaxEnforcer: text.WrapSoft}, {Number: 5, WidthMax: 40, WidthMaxEnforcer: text.WrapSoft}})
	for _, r := range roles {
		extra := modeNames(r)
		if r.IsGroup() {
			extra = fmt.Sprintf("group of %d roles", len(r.Members))
		}
		aliases := strings.Join(r.Aliases, "; ")
		if pa := productAliases(r); pa != "" {
			aliases = strings.TrimPrefix(aliases+"; "+pa, "; ")
		}
		t.AppendRow(table.Row{r.ID, r.Name, r.Product, aliases, extra})
	}
	t.AppendFooter(table.Row{fmt.Sprintf("%d roles", len(roles))})
	t.Render()
	return nil
}

// productAliases lists the names a role (or its modes) has only where
// their product is in scope: "API [citrix only]; Clustering (Clustered
// pool member) [citrix only]".
func productAliases(r *catalog.Role) string {
	var out []string
	for _, a := range r.ProductAliases {
		out = append(out, fmt.Sprintf("%s [%s only]", a, r.AliasProduct))
	}
	for _, m := range r.Modes {
		for _, a := range m.ProductAliases {
			out = append(out, fmt.Sprintf("%s (%s) [%s only]", a, m.Name, r.AliasProduct))
		}
	}
	return strings.Join(out, "; ")
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
		if slices.Contains(fs.Args(), r.File) {
			rules++
		}
	}
	for _, r := range cat.Roles() {
		if slices.Contains(fs.Args(), r.File) {
			roles++
		}
	}
	warnings := cat.Lint(fs.Args()...)
	for _, w := range warnings {
		fmt.Fprintln(e.stderr, w)
	}
	fmt.Fprintf(e.stdout, "ok: %d files, %d rules, %d roles, %d warnings\n", fs.NArg(), rules, roles, len(warnings))
	return exitOK
}
