package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/flowaudit/flowaudit/catalog"
	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

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

// CatalogRules writes rules as 'flowaudit catalog list' and 'catalog
// search' print them: format json, csv or table (the house-style table,
// bold header when color is set).
func CatalogRules(w io.Writer, rules []*catalog.Rule, format string, color bool) error {
	switch format {
	case "json":
		out := struct {
			Rules []ruleJSON `json:"rules"`
		}{Rules: []ruleJSON{}}
		for _, r := range rules {
			out.Rules = append(out.Rules, toRuleJSON(r))
		}
		return writePlainJSON(w, out)
	case "csv":
		rows := make([][]string, 0, len(rules))
		for _, r := range rules {
			rows = append(rows, []string{r.ID, r.Product, r.Section, r.From.String(), r.To.String(),
				strings.Join(r.ProtocolNames(), " "), catalog.FormatPorts(r.Ports), r.Description,
				strings.Join(r.Apps, " "), strings.Join(r.Flags(), ","), r.SourceText()})
		}
		return writeCSV(w, []string{"id", "product", "section", "from_role", "to_role", "protocols", "ports", "description", "applications", "flags", "source"}, rows)
	}
	t := newTable(w, color, "ID", "From", "To", "Proto/Ports", "Description", "Flags")
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

// CatalogRoles writes roles as 'flowaudit catalog roles' prints them:
// format json, csv or table (bold header when color is set).
func CatalogRoles(w io.Writer, roles []*catalog.Role, format string, color bool) error {
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
		return writePlainJSON(w, out)
	case "csv":
		rows := make([][]string, 0, len(roles))
		for _, r := range roles {
			rows = append(rows, []string{r.ID, r.Name, r.Product, strings.Join(r.Aliases, "; "), modeNames(r), strings.Join(r.Members, " "), productAliases(r)})
		}
		return writeCSV(w, []string{"id", "name", "product", "aliases", "modes", "members", "product_aliases"}, rows)
	}
	t := newTable(w, color, "ID", "Name", "Product", "Aliases", "Modes / members")
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

// newTable is a go-pretty table in the house style, rendered to w: light
// lines, an upper-case header without colours, a bold one with them.
func newTable(w io.Writer, color bool, header ...any) table.Writer {
	t := table.NewWriter()
	t.SetOutputMirror(w)
	style := table.StyleLight
	if !color {
		style.Color = table.ColorOptions{}
		style.Format.Header = text.FormatUpper
	} else {
		style.Color.Header = text.Colors{text.Bold}
	}
	t.SetStyle(style)
	row := table.Row{}
	row = append(row, header...)
	t.AppendHeader(row)
	return t
}

// writePlainJSON writes v as indented JSON with a trailing newline, HTML
// characters as they are.
func writePlainJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeCSV writes a header and rows.
func writeCSV(w io.Writer, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}
