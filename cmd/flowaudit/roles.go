package main

import (
	"errors"
	"io"
	"math"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/analysis"
	"github.com/flowaudit/flowaudit/analyzer/infer"
	"github.com/flowaudit/flowaudit/analyzer/report"
)

const rolesHelp = `Usage:
  flowaudit roles [flags] CAPTURE...

Proposes which host plays which catalog role from what each address did in
the captures: the services it answered (as the server, established) and the
services it called (as the client, whatever the outcome). The default
output is an inventory in analyze's own format, to review, edit and pass
to 'flowaudit analyze -i'. Each host carries its evidence as YAML comments:
the ports it answered and called (with peers and connections), the score of
each proposed role, the runner-up roles, and the traffic no role explains.
Hosts no role fits clearly are listed at the end, commented out.

Scores run from 0 to 1. A documented (protocol, port) weighs ln(N/n), N the
number of roles and n those naming it, so 1494/tcp (only Citrix Virtual
Delivery Agents answer it) counts far more than 443/tcp. A role's score
combines the share of the host's evidence it explains (precision, weighted
2/3) and the share of the role's documented ports that were seen (recall,
1/3). Calls to shared infrastructure (directory, DNS, time, SQL, web) are
not held against a role that does not document them, and alone make no
role: every host makes them. Only unicast addresses get roles; broadcast
and multicast traffic counts for its sender.

Products first: the distinctive ports the capture shows (4172 and 22443
Horizon, 1494 and 2598 Citrix, 20002, 20009 and 30004 RAS, 5061, 5067 and
444 Lync) decide which products' roles are proposed, with shared
infrastructure; --product names them instead, --all-products keeps every
product. Then all hosts are scored together, round by round: a flow the
documents name between a host's role and its peer's role counts at least
as much as an average port, so a host the Connection Server calls on 443 is
a vCenter. A load balancer is only proposed over the server behind it when
the host was seen forwarding. A gateway's inside address (a UAG's second
NIC, which calls the Connection Server and agents as a Horizon Client does)
is listed with its front address when at least two of its connections
start within a second after a client's connection to the front, while that
is open, unlikely by chance (p <= 0.001), it follows most of the clients'
connections, and no other address does so; the evidence is the host's
"one host:" line. Roles that take part in the same
rules (UAG and Horizon Security Server) are proposed as the first in the
catalog with the others named; other ties are reported as ambiguous. The
method is described in full in package analyzer/infer.

Examples:
  flowaudit roles pilot.pcapng > inventory.yaml
  flowaudit roles --product citrix --min-score 0.3 day1.pcap day2.pcap.gz
  flowaudit roles -f table pilot.pcapng
  flowaudit roles --all-products -f table pilot.pcapng
  flowaudit roles -f json pilot.pcapng | jq '.product_decision[] | select(.present)'
  flowaudit roles -f json pilot.pcapng | jq '.hosts[] | select(.roles == [])'
  flowaudit analyze --infer-roles -i partial-inventory.yaml pilot.pcapng

Exit codes:
  0  success
  1  error (a damaged or unreadable capture still gets the roles of what
     was read; no frame of any capture analysed; connections past
     --max-services, whose services were not analysed: the proposals are
     written, marked INCOMPLETE; host names of Zeek's logs past their
     bound are no error here: the inference uses no host names)
  2  usage error
`

func runRoles(e *env, args []string) int {
	fs := newFlagSet("roles", rolesHelp)
	var catalogs []string
	var pf productFlags
	pf.register(fs, "", "only propose roles of product `P` (horizon, citrix, ras, lync, or the vendor: vmware, parallels, skype, microsoft; comma lists and repeats, any case) and shared infrastructure",
		"propose roles of every product, not only of those the capture's distinctive ports show")
	minScore := fs.Float64("min-score", infer.DefaultMinScore, "propose a role only from this score (0..1)")
	format := fs.StringP("format", "f", "", "output format: yaml (an inventory), table or json (default: from -o's extension, else yaml)")
	output := fs.StringP("output", "o", "", "write to `FILE` instead of standard output")
	fs.StringArrayVar(&catalogs, "catalog", nil, "add rules and roles from this catalog `FILE`; repeatable")
	var cf captureFlags
	cf.register(fs)
	cf.registerParallel(fs)
	if done, err := e.parseFlags(fs, rolesHelp, args); done {
		if err != nil {
			return e.fail(err)
		}
		return exitOK
	}
	paths := fs.Args()
	if len(paths) == 0 {
		return e.fail(usagef("roles needs at least one CAPTURE (see 'flowaudit roles --help')"))
	}
	outFormat, err := pickFormat("roles", *format, *output, "yaml", "yaml", "table", "json")
	if err != nil {
		return e.fail(err)
	}
	if err := fileFlags("roles", map[string][]string{"--catalog": catalogs}); err != nil {
		return e.fail(err)
	}
	if err := checkOutputs("roles", []string{*output}, append(append([]string{}, catalogs...), paths...)...); err != nil {
		return e.fail(err)
	}
	if math.IsNaN(*minScore) || *minScore < 0 || *minScore > 1 {
		return e.fail(usagef("roles: --min-score must be between 0 and 1, got %v", *minScore))
	}
	if err := cf.validate("roles"); err != nil {
		return e.fail(err)
	}
	stopProfile, err := cf.profile("roles")
	if err != nil {
		return e.fail(err)
	}
	defer stopProfile()
	cat, err := e.loadCatalog(catalogs)
	if err != nil {
		return e.fail(err)
	}
	products, err := pf.parse("roles", cat)
	if err != nil {
		return e.fail(err)
	}
	cf.addrMACs = true // addresses are tied to hosts by their MACs
	res, readErr := e.readCaptures(paths, cat, cf, nil)
	if res == nil {
		return e.fail(readErr)
	}
	opts := infer.Options{MinScore: *minScore, AllProducts: pf.all, MACs: res.AddrMACs, Flows: res.Services}
	if *minScore == 0 {
		opts.MinScore = -1 // every best role, however weak
	}
	ir := infer.InferAll(analyzer.AuditServices(res.Services, res.Paths()), infer.NewModel(cat, products), opts)
	captures := make([]report.Capture, len(res.Captures))
	for i, c := range res.Captures {
		captures[i] = analysis.Capture(c)
	}
	rr := &report.RoleProposals{Captures: captures, Hosts: ir.Hosts, Decision: ir.Products, Score: ir.Score, MinScore: *minScore, Products: products,
		MACs: len(res.AddrMACs) > 0, MACsNotKept: res.Stats.AddrMACsNotKept,
		Unaggregated: res.Stats.Unaggregated, MaxServices: cf.maxServices}
	// Roles inferred from part of the services: written, then exit 1, as
	// for a damaged capture. Host names are no input of the inference, so
	// names of Zeek's logs past their bound leave it whole.
	readErr = errors.Join(readErr, incompleteness{unaggregated: res.Stats.Unaggregated, maxServices: cf.maxServices}.err())
	err = e.writeOutput(*output, func(w io.Writer) error {
		switch outFormat {
		case "json":
			return rr.JSON(w)
		case "table":
			// no colours in a file
			return rr.Table(w, e.color && (*output == "" || *output == "-"))
		}
		return rr.YAML(w)
	})
	if err != nil {
		return e.fail(err)
	}
	if readErr != nil {
		return e.fail(readErr)
	}
	return exitOK
}
