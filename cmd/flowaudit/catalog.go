package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/flowaudit/flowaudit/analyzer/report"
	"github.com/flowaudit/flowaudit/catalog"
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
	cat, err := e.loadCatalog(extra)
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
		return e.done(report.CatalogRoles(e.stdout, cat.Roles(), *format, e.color))
	case "list":
		if fs.NArg() > 0 {
			return e.fail(usagef("catalog list takes no arguments (did you mean 'catalog search %s'?)", strings.Join(fs.Args(), " ")))
		}
		rules := catalog.Filter(cat.Rules(), scope.HasRule)
		return e.done(report.CatalogRules(e.stdout, rules, *format, e.color))
	}
	// An empty or blank QUERY (`catalog search "$UNSET"`) is no query,
	// not a search that finds nothing.
	query := strings.TrimSpace(strings.Join(fs.Args(), " "))
	if query == "" {
		return e.fail(usagef("catalog search needs a QUERY: a port, proto/port, role name or word"))
	}
	rules, note, err := cat.Search(query, scope)
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
	return e.done(report.CatalogRules(e.stdout, rules, *format, e.color))
}

// done maps an output error to an exit code.
func (e *env) done(err error) int {
	if err != nil {
		return e.fail(err)
	}
	return exitOK
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
	cat, err := e.loadCatalog(fs.Args())
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
