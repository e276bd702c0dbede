package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/analysis"
	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/firewall"
	"github.com/flowaudit/flowaudit/analyzer/inventory"
)

const rulesHelp = `Usage:
  flowaudit rules -i INVENTORY [--catalog FILE]... [--product P]... [--waivers FILE]
                  [--capture CAPTURE... | --from-report report.json]
                  [--only needed|observed|blocked|missing] [--group-by role|host]
                  [-f csv|markdown|json|nft|iptables|windows|asa|panos] [-o FILE]

Writes the firewall rules a change ticket asks for: every catalog rule whose
roles the inventory's hosts play, as one accept line per source, destination
and protocol, with one address object per role (or per host), contiguous
ports merged into ranges, and a comment naming every rule behind the line
(id, vendor document, section and row, description).

The output is a REQUEST TO REVIEW, not a policy to apply blindly: check each
line against the site's policy before opening it. A source the documents
write as Any is written as any (every client). Host-name destinations
(*.digicert.com) are FQDN objects where the syntax has them (asa, panos;
wildcards only as comments), a comment naming them unresolved in nft and
iptables, and always listed in csv, markdown and json.

With captures (or the JSON report of 'flowaudit analyze'), each line says
what the pilot did with it: observed (established), blocked (attempted,
never established; and who blocked, when the report says), or missing
(never seen). --only selects:
  needed    observed and blocked: what must be open for the pilot to work
            (the default with evidence)
  observed  the least-privilege set the pilot actually used
  blocked   attempted and never established
  missing   never seen: the rules to open before the next test
  all       every rule that applies (the default without evidence)
Rules a waiver accepts (rule waivers, and blocked services a waiver accepts)
are left out, with their ticket in a comment.

Formats: nft (a table inet flowaudit for nft -f), iptables (iptables-restore
input, then an ip6tables-restore section when IPv6 addresses are present;
with -o FILE the IPv6 part goes to FILE.v6, or to X.v6 for -o X.v4),
windows (PowerShell New-NetFirewallRule), asa (Cisco ASA), panos (PAN-OS
set commands), csv, markdown (the default) and json for the ticket.

Examples:
  flowaudit rules -i inventory.yaml -f markdown
  flowaudit rules -i testdata/samples/ras/inventory.yaml --capture testdata/samples/ras/pilot.pcapng -f nft
  flowaudit analyze -i inv.yaml -f json -o report.json pilot.pcapng; flowaudit rules -i inv.yaml --from-report report.json -f panos
  flowaudit rules -i inv.yaml --capture day1.pcap --capture day2.pcap --only missing -f csv -o next-test.csv
  flowaudit rules -i inv.yaml --capture pilot.pcapng --group-by host -f iptables -o rules.v4

Exit codes:
  0  the request was written
  1  error: a file could not be read or parsed (an unreadable capture still
     gets the request of what was read, and exit 1); the analysis is
     incomplete (a capture cut short or damaged, connections past
     --max-services, a --from-report that says so): the request is written,
     marked INCOMPLETE
  2  usage error
`

type rulesFlags struct {
	inventory  string
	catalogs   []string
	products   productFlags
	waivers    string
	captures   []string
	fromReport string
	only       string
	groupBy    string
	format     string
	output     string
	capture    captureFlags
}

func runRules(e *env, args []string) int {
	var f rulesFlags
	fs := newFlagSet("rules", rulesHelp)
	fs.StringVarP(&f.inventory, "inventory", "i", "", "inventory `FILE`: which host plays which role (required)")
	fs.StringArrayVar(&f.catalogs, "catalog", nil, "add rules and roles from this catalog `FILE`; repeatable")
	f.products.register(fs, "", "only rules of product `P` (horizon, citrix, ras, lync, or the vendor: vmware, parallels, skype, microsoft; comma lists and repeats, any case), and site rules", "")
	fs.StringVar(&f.waivers, "waivers", "", "waiver `FILE`: waived rules are left out, with their ticket in a comment")
	fs.StringArrayVar(&f.captures, "capture", nil, "evidence from this `CAPTURE` (pcap, pcapng, Zeek conn.log, gzip, - for stdin); repeatable, and further arguments are captures too")
	fs.StringVar(&f.fromReport, "from-report", "", "evidence from this analyze JSON `REPORT` (flowaudit analyze -f json)")
	fs.StringVar(&f.only, "only", "", "lines to keep: needed, observed, blocked, missing or all (default: needed with evidence, all without)")
	fs.StringVar(&f.groupBy, "group-by", firewall.GroupRole, "one address object per role or per host")
	fs.StringVarP(&f.format, "format", "f", "", "output syntax: "+strings.Join(firewall.Formats, ", ")+" (default: from -o's extension, else markdown)")
	fs.StringVarP(&f.output, "output", "o", "", "write the request to `FILE` instead of standard output")
	f.capture.register(fs)
	f.capture.registerParallel(fs)
	if done, err := e.parseFlags(fs, rulesHelp, args); done {
		if err != nil {
			return e.fail(err)
		}
		return exitOK
	}
	if err := f.capture.validate("rules"); err != nil {
		return e.fail(err)
	}
	f.captures = append(f.captures, fs.Args()...)
	if f.inventory == "" {
		return e.fail(usagef("rules needs an inventory (-i): the roles decide which rules apply (see 'flowaudit rules --help')"))
	}
	if len(f.captures) > 0 && f.fromReport != "" {
		return e.fail(usagef("rules: --capture and --from-report both give evidence: use one"))
	}
	format, err := rulesFormat(f.format, f.output)
	if err != nil {
		return e.fail(err)
	}
	outputs := []string{f.output}
	if format == "iptables" && f.output != "" && f.output != "-" {
		outputs = append(outputs, ip6Name(f.output))
	}
	if err := fileFlags("rules", map[string][]string{"-i": {f.inventory}, "--waivers": {f.waivers}, "--catalog": f.catalogs, "--from-report": {f.fromReport}}); err != nil {
		return e.fail(err)
	}
	if err := checkOutputs("rules", outputs, append(append([]string{f.inventory, f.waivers, f.fromReport}, f.catalogs...), f.captures...)...); err != nil {
		return e.fail(err)
	}
	if f.only != "" && !slices.Contains(firewall.OnlyValues, f.only) {
		return e.fail(usagef("rules: --only %q: want %s", f.only, strings.Join(firewall.OnlyValues, ", ")))
	}
	evidence := len(f.captures) > 0 || f.fromReport != ""
	if f.only != "" && f.only != string(firewall.OnlyAll) && !evidence {
		return e.fail(usagef("rules: --only %s needs evidence: --capture or --from-report", f.only))
	}
	if f.groupBy != firewall.GroupRole && f.groupBy != firewall.GroupHost {
		return e.fail(usagef("rules: --group-by %q: want role or host", f.groupBy))
	}
	cat, err := e.loadCatalog(f.catalogs)
	if err != nil {
		return e.fail(err)
	}
	products, err := f.products.parse("rules", cat)
	if err != nil {
		return e.fail(err)
	}
	inv, err := inventory.LoadIn(f.inventory, cat, products)
	if err != nil {
		return e.fail(err)
	}
	e.warnOutOfScope(products, inv)
	now, err := analysis.Generated(nil, e.getenv("SOURCE_DATE_EPOCH"), false, time.Now())
	if err != nil {
		return e.fail(usagef("%v", err))
	}
	var waivers *audit.Waivers
	if f.waivers != "" {
		if waivers, err = audit.LoadWaivers(f.waivers, inv, cat); err != nil {
			return e.fail(err)
		}
	}

	opts := firewall.Options{Products: products, GroupBy: f.groupBy, Only: firewall.Only(f.only), Waivers: waivers, Now: now, Evidence: evidence}
	var inputs, warnings []string
	var readErr error
	switch {
	case len(f.captures) > 0:
		var res *analyzer.Result
		res, readErr = e.readCaptures(f.captures, cat, f.capture, nil)
		if res == nil {
			return e.fail(readErr)
		}
		result := audit.Audit(analyzer.AuditServices(res.Services, res.Paths()), inv, cat,
			audit.Options{Products: products, Now: now, Waivers: waivers})
		opts.Observations = firewall.Observations(result)
		for _, c := range res.Captures {
			what := fmt.Sprintf("%d packets", c.Packets)
			if c.Records > 0 {
				what = fmt.Sprintf("%d %s records", c.Records, c.Format)
			}
			in := fmt.Sprintf("%s (%s, SHA-256 %s)", c.Path, what, c.SHA256)
			if !c.Complete {
				in = fmt.Sprintf("%s (%s read before an error: INCOMPLETE, the rest is not evidence)", c.Path, what)
				if readErr == nil {
					// A last record cut short is only a warning for
					// analyze; a change request built on it still fails.
					readErr = c.Err
				}
			}
			inputs = append(inputs, in)
		}
		// Zeek's ssl.log, http.log and dns.log named the connections, so
		// which rules were seen: they are evidence too, as in analyze's
		// report (name_logs).
		if zn := res.ZeekNames; zn != nil {
			for i, p := range zn.Files {
				inputs = append(inputs, fmt.Sprintf("%s (%s, SHA-256 %s)", p, nameLogWhat(zn.Kinds[i]), zn.SHA256[i]))
			}
			for _, e := range zn.Errors {
				if e != "" { // readErr has it: exit 1
					warnings = append(warnings, "INCOMPLETE analysis: "+e+": the host names after it were not read, so a rule they would have shown observed may be listed as missing")
				}
			}
		}
		// Services or names not kept: the request says so and, as for a
		// capture cut short, the exit code is 1.
		for _, r := range resultIncompleteness(res, f.capture.maxServices).reasons() {
			warnings = append(warnings, r.request)
			readErr = errors.Join(readErr, r.err)
		}
	case f.fromReport != "":
		r, err := os.Open(f.fromReport)
		if err != nil {
			return e.fail(err)
		}
		obs, info, err := firewall.ReadReport(f.fromReport, r)
		r.Close()
		if err != nil {
			return e.fail(err)
		}
		opts.Observations = obs
		inputs = []string{f.fromReport}
		if of := append(slices.Clip(info.Captures), info.NameLogs...); len(of) > 0 {
			inputs = []string{fmt.Sprintf("%s (of %s)", f.fromReport, strings.Join(of, ", "))}
		}
		if len(info.Incomplete) > 0 {
			inputs = []string{fmt.Sprintf("%s (INCOMPLETE analysis, the rest is not evidence: %s)", f.fromReport, strings.Join(info.Incomplete, "; "))}
			readErr = fmt.Errorf("%s: the analysis is incomplete: %s", f.fromReport, strings.Join(info.Incomplete, "; "))
		}
		sum, err := analyzer.FileSHA256(f.inventory)
		if err != nil {
			return e.fail(err)
		}
		if info.InventorySHA256 != sum {
			warnings = append(warnings, fmt.Sprintf("%s was analysed with another inventory than %s (SHA-256 %s, not %s): roles may differ", f.fromReport, f.inventory, orNone(info.InventorySHA256), sum))
		}
	default:
		fmt.Fprintln(e.stderr, "flowaudit: no capture or report: every rule that applies is listed, none checked against traffic")
	}
	req, err := firewall.Build(cat, inv, opts)
	if err != nil {
		return e.fail(usageError{err})
	}
	req.Version, req.Inventory, req.Inputs = version, f.inventory, inputs
	req.Warnings = append(warnings, req.Warnings...)
	for _, w := range req.Warnings {
		fmt.Fprintf(e.stderr, "flowaudit: warning: %s\n", w)
	}
	if err := e.writeRules(req, format, f.output); err != nil {
		return e.fail(err)
	}
	if readErr != nil {
		return e.fail(readErr)
	}
	return exitOK
}

// rulesExt are the extensions -o picks a firewall syntax by; the ticket
// formats' extensions are every command's (.md, .csv, .json).
var rulesExt = map[string]string{".nft": "nft", ".v4": "iptables", ".iptables": "iptables", ".ps1": "windows", ".asa": "asa", ".panos": "panos"}

// rulesFormat is -f, else the syntax -o's extension names, else markdown.
func rulesFormat(format, output string) (string, error) {
	if format == "" && output != "-" {
		if f, ok := rulesExt[strings.ToLower(filepath.Ext(output))]; ok {
			return f, nil
		}
	}
	return pickFormat("rules", format, output, "markdown", firewall.Formats...)
}

// ip6Name is where -o FILE's IPv6 section goes: X.v6 for X.v4, else
// FILE.v6.
func ip6Name(name string) string {
	if base, ok := strings.CutSuffix(name, ".v4"); ok {
		return base + ".v6"
	}
	return name + ".v6"
}

func (e *env) writeRules(req *firewall.Request, format, output string) error {
	if format == "iptables" && output != "" && output != "-" {
		if err := e.writeOutput(output, func(w io.Writer) error { return req.IPTables(w, io.Discard) }); err != nil {
			return err
		}
		if !req.HasIPv6() {
			return nil
		}
		if err := e.writeOutput(ip6Name(output), func(w io.Writer) error { return req.IPTables(io.Discard, w) }); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "flowaudit: ip6tables-restore input written to %s\n", ip6Name(output))
		return nil
	}
	return e.writeOutput(output, func(w io.Writer) error { return req.Write(format, w) })
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// nameLogWhat says what a Zeek name log of kind ("ssl", "http", "dns")
// gave: "Zeek dns.log host names".
func nameLogWhat(kind string) string {
	if kind == "" {
		return "Zeek log host names"
	}
	return "Zeek " + kind + ".log host names"
}
