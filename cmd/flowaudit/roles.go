package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/infer"
	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/catalog"
	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
	"go.yaml.in/yaml/v3"
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
the host was seen forwarding. Roles that take part in the same rules (UAG
and Horizon Security Server) are proposed as the first in the catalog with
the others named; other ties are reported as ambiguous. The method is
described in full in package analyzer/infer.

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
     was read; no frame of any capture analysed)
  2  usage error
`

func runRoles(e *env, args []string) int {
	fs := newFlagSet("roles", rolesHelp)
	var catalogs []string
	var pf productFlags
	pf.register(fs, "", "only propose roles of product `P` (horizon, citrix, ras, lync, or the vendor: vmware, parallels, skype, microsoft; comma lists and repeats, any case) and shared infrastructure", "")
	allProducts := fs.Bool("all-products", false, "propose roles of every product, not only of those the capture's distinctive ports show")
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
	cat, err := catalog.Load(catalogs...)
	if err != nil {
		return e.fail(err)
	}
	products, err := pf.parse("roles", cat)
	if err != nil {
		return e.fail(err)
	}
	res, readErr := e.readCaptures(paths, cat, cf, nil)
	if res == nil {
		return e.fail(readErr)
	}
	opts := infer.Options{MinScore: *minScore, AllProducts: *allProducts, MACs: res.AddrMACs}
	if *minScore == 0 {
		opts.MinScore = -1 // every best role, however weak
	}
	ir := infer.InferAll(analyzer.AuditServices(res.Services, capturePaths(res)), infer.NewModel(cat, products), opts)
	rr := &rolesReport{captures: res.Captures, hosts: ir.Hosts, decision: ir.Products, score: ir.Score, minScore: *minScore, products: products,
		macs: len(res.AddrMACs) > 0, macsNotKept: res.Stats.AddrMACsNotKept}
	err = e.writeOutput(*output, func(w io.Writer) error {
		switch outFormat {
		case "json":
			return rr.json(w)
		case "table":
			if *output != "" && *output != "-" {
				plain := *e // no colours in a file
				plain.color = false
				return rr.table(&plain, w)
			}
			return rr.table(e, w)
		}
		return rr.yaml(w)
	})
	if err != nil {
		return e.fail(err)
	}
	if readErr != nil {
		return e.fail(readErr)
	}
	return exitOK
}

// inferMissingHosts gives the addresses seen in res that inv does not
// know the roles inference proposes for them (analyze --infer-roles). The
// hosts it adds are marked inferred, and so is each of their roles. An
// inventory entry always wins: an address inside any inventory host or
// block is left alone, and ambiguous or weak hosts get nothing. The
// inventory's roles are what the other hosts see of their peers in the
// joint assignment. products
// are the products in scope (nil: decided from the capture, or every
// product with all).
func inferMissingHosts(res *analyzer.Result, inv *inventory.Inventory, cat *catalog.Catalog, products []string, all bool) {
	// The inventory's hosts are their peers' known roles.
	known := func(a netip.Addr) []infer.Known {
		ih := inv.Lookup(a)
		if ih == nil {
			return nil
		}
		out := make([]infer.Known, 0, len(ih.Roles))
		for _, r := range ih.Roles {
			out = append(out, infer.Known{Role: r.Role, Mode: r.Mode})
		}
		return out
	}
	hosts := infer.Infer(analyzer.AuditServices(res.Services, capturePaths(res)), infer.NewModel(cat, products),
		infer.Options{AllProducts: all, Known: known, MACs: res.AddrMACs})
	for _, h := range hosts {
		if len(h.Roles) == 0 || inv.Lookup(h.Addr) != nil {
			continue
		}
		ih := &inventory.Host{
			Name:        uniqueHostName(inv, h.Addr),
			Inferred:    true,
			Description: "roles inferred from traffic: " + candidateList(h.Roles),
		}
		for _, a := range h.AllAddrs() { // a tied address the inventory names stays its
			if inv.Lookup(a) == nil {
				ih.Addresses = append(ih.Addresses, netip.PrefixFrom(a, a.BitLen()))
			}
		}
		for _, c := range h.Roles {
			ih.Roles = append(ih.Roles, inventory.Assignment{Role: c.Role, Mode: c.Mode, Inferred: true})
		}
		// Lookup said the address is free and the name is unique, so Add
		// cannot fail; if it does, the host is left out rather than
		// overriding the inventory.
		_ = inv.Add(ih)
	}
}

// hostName is the name a proposed host gets: "host-" and its address,
// dots and colons made dashes.
func hostName(a netip.Addr) string {
	return "host-" + strings.NewReplacer(".", "-", ":", "-").Replace(a.String())
}

func uniqueHostName(inv *inventory.Inventory, a netip.Addr) string {
	base := hostName(a)
	name := base
	for i := 2; inv.Host(name) != nil; i++ {
		name = base + "-" + strconv.Itoa(i)
	}
	return name
}

type rolesReport struct {
	captures []analyzer.Capture
	hosts    []*infer.Host
	decision []infer.ProductEvidence
	score    float64 // the joint assignment's score
	minScore float64
	products []string
	macs     bool // the captures showed source MACs (Ethernet)
	// macsNotKept: connection sides whose sender's MAC was not recorded
	// (flow.MaxAddrMACs addresses already were).
	macsNotKept uint64
}

func fmtScore(s float64) string { return strconv.FormatFloat(s, 'f', 2, 64) }

// candidateList is "Role 0.62, Other Role 0.31".
func candidateList(cs []infer.Candidate) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.Name() + " " + fmtScore(c.Score)
	}
	return strings.Join(parts, ", ")
}

// services lists a host's observations in one direction: "1494/tcp (3
// clients, 12 connections)".
func observedServices(h *infer.Host, dir infer.Direction) []string {
	peer := "client"
	if dir == infer.Called {
		peer = "server"
	}
	var out []string
	for _, o := range h.Observations {
		if o.Dir == dir {
			out = append(out, fmt.Sprintf("%s (%s, %s)", o.Service(), countOf(o.Peers, peer), countOf(o.Connections, "connection")))
		}
	}
	return out
}

// namedBy is "3 products' tables name" or "1 product's table names".
func namedBy(n int) string {
	if n == 1 {
		return "1 product's table names"
	}
	return strconv.Itoa(n) + " products' tables name"
}

func countOf(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func observationNames(h *infer.Host, idx []int) []string {
	out := make([]string, len(idx))
	for i, oi := range idx {
		o := h.Observations[oi]
		out[i] = o.Dir.String() + " " + o.Service()
	}
	return out
}

// why says why a host got no role.
func (rr *rolesReport) why(h *infer.Host) (reason string, suggest *infer.Candidate) {
	switch {
	case len(h.Tied) > 0:
		return fmt.Sprintf("ambiguous: %d roles fit equally (score %s): %s", len(h.Tied), fmtScore(h.Tied[0].Score),
			strings.Join(candidateNames(h.Tied), ", ")), &h.Tied[0]
	case len(h.RunnersUp) > 0:
		return fmt.Sprintf("best role %s scores %s, under --min-score %s", h.RunnersUp[0].Name(), fmtScore(h.RunnersUp[0].Score),
			fmtScore(rr.minScore)), &h.RunnersUp[0]
	}
	for _, o := range h.Observations {
		if o.Weight > 0 {
			return "no role scores half of --min-score", nil
		}
	}
	return "no catalog role documents its traffic", nil
}

func candidateNames(cs []infer.Candidate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name()
	}
	return out
}

// wrap joins items after a label, breaking lines before width.
func wrapList(label string, items []string, indent string, width int) []string {
	var lines []string
	line := label
	for i, it := range items {
		sep := ", "
		if i == 0 {
			sep = " "
		}
		if i > 0 && len(line)+len(sep)+len(it) > width {
			lines = append(lines, line+",")
			line = indent + it
			continue
		}
		line += sep + it
	}
	return append(lines, line)
}

// evidence is a host's comment lines: what it answered and called, each
// role proposed with what it explains, runners-up and the unexplained.
func (rr *rolesReport) evidence(h *infer.Host) []string {
	const width = 96
	var lines []string
	if h.TiedBy != "" {
		lines = append(lines, wrapWords("  one host: "+h.TiedBy, "    ", width)...)
	}
	if h.Note != "" {
		lines = append(lines, wrapWords("  note: "+h.Note, "    ", width)...)
	}
	if a := observedServices(h, infer.Answered); len(a) > 0 {
		lines = append(lines, wrapList("  answered:", a, "    ", width)...)
	}
	if c := observedServices(h, infer.Called); len(c) > 0 {
		lines = append(lines, wrapList("  called:", c, "    ", width)...)
	}
	for _, c := range h.Roles {
		lines = append(lines, wrapList(fmt.Sprintf("  %s: score %s (alone %s), explains", c.Name(), fmtScore(c.Score), fmtScore(c.Alone)), observationNames(h, c.Explains), "    ", width)...)
		if len(c.Equivalent) > 0 {
			lines = append(lines, wrapList("    or, documented alike:", roleNames(c.Equivalent), "      ", width)...)
		}
	}
	if len(h.Roles) > 0 && len(h.RunnersUp) > 0 && h.RunnersUp[0].Score == h.Roles[0].Score {
		lines = append(lines, fmt.Sprintf("  tie broken: %s %s, %s", namedBy(h.Roles[0].NamedBy), h.Roles[0].Name(),
			namedBy(h.RunnersUp[0].NamedBy)+" "+h.RunnersUp[0].Name()))
	}
	if len(h.RunnersUp) > 0 {
		lines = append(lines, wrapList("  runners-up:", strings.Split(candidateList(h.RunnersUp), ", "), "    ", width)...)
	}
	if len(h.Roles) > 0 {
		if un := h.Unexplained(); len(un) > 0 {
			lines = append(lines, wrapList("  unexplained:", observationNames(h, un), "    ", width)...)
		}
	}
	return lines
}

func (rr *rolesReport) header() []string {
	lines := []string{"Inventory proposed by 'flowaudit roles' from the traffic in:"}
	for _, c := range rr.captures {
		l := "  " + c.Path
		if c.SHA256 != "" {
			l += " (sha256 " + c.SHA256 + ")"
		}
		lines = append(lines, l)
		if rc := reportCapture(c); !rc.Complete() || rc.NothingAnalysed != "" || rc.NotDecoded != "" {
			lines = append(lines, "    "+rc.StatusText())
		}
	}
	if len(rr.products) > 0 {
		lines = append(lines, "Products: "+strings.Join(rr.products, ", "))
	} else {
		lines = append(lines, "Products: "+decisionText(rr.decision))
	}
	if rr.macs {
		lines = append(lines, "Addresses that sent from the same source MAC, and only from it, are proposed as",
			"one host (up to one IPv4 and three IPv6 addresses per MAC; a router's MAC ties",
			"nothing), and a VRRP virtual address with its master; a multi-homed machine",
			"appears once per interface: merge by hand.")
		if rr.macsNotKept > 0 {
			lines = append(lines, fmt.Sprintf("The source MACs of %d connection sides were not kept (over %d addresses sent):",
				rr.macsNotKept, flow.MaxAddrMACs), "their senders are tied to nothing.")
		}
	} else {
		lines = append(lines, "The captures show no source MACs: a dual-stack or multi-homed machine appears",
			"once per address; merge them into one host by hand.")
	}
	return append(lines,
		"A role is proposed from --min-score "+fmtScore(rr.minScore)+" (scores run from 0 to 1; see",
		"'flowaudit roles --help'). Review every host before passing this file to",
		"'flowaudit analyze -i': inference proposes, the inventory decides.")
}

func yamlComment(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(strings.TrimRight("# "+l, " "))
		b.WriteByte('\n')
	}
	return b.String()
}

func yamlScalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

func yamlFlowSeq(items ...string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, it := range items {
		n.Content = append(n.Content, yamlScalar(it))
	}
	return n
}

// hostNode is one inventory entry; its comment is the evidence.
func inventoryNode(h *infer.Host, roles []string, head []string) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, HeadComment: strings.Join(head, "\n"), Content: []*yaml.Node{
		yamlScalar("name"), yamlScalar(hostName(h.Addr)),
		yamlScalar("addresses"), yamlFlowSeq(addrStrings(h)...),
		yamlScalar("roles"), yamlFlowSeq(roles...),
	}}
}

// yaml writes the inventory: proposed hosts as entries, the others as
// comments after them.
func (rr *rolesReport) yaml(w io.Writer) error {
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	var rest []*infer.Host
	for _, h := range rr.hosts {
		if len(h.Roles) == 0 {
			rest = append(rest, h)
			continue
		}
		head := append([]string{strings.Join(addrStrings(h), ", ")}, rr.evidence(h)...)
		seq.Content = append(seq.Content, inventoryNode(h, candidateNames(h.Roles), head))
	}
	if len(seq.Content) == 0 {
		seq.Style = yaml.FlowStyle // "hosts: []": an empty list, not null
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{yamlScalar("hosts"), seq}}
	var body bytes.Buffer
	enc := yaml.NewEncoder(&body)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(yamlComment(rr.header()))
	b.Write(body.Bytes())
	if len(rest) > 0 {
		lines := []string{"", "Hosts without a proposed role; add the ones that matter by hand."}
		for _, h := range rest {
			reason, suggest := rr.why(h)
			lines = append(lines, "", strings.Join(addrStrings(h), ", ")+": "+reason)
			lines = append(lines, rr.evidence(h)...)
			if suggest != nil {
				entry, err := yamlLines(inventoryNode(h, []string{suggest.Name()}, nil))
				if err != nil {
					return err
				}
				for i, l := range entry {
					if i == 0 {
						l = "- " + l
					} else {
						l = "  " + l
					}
					lines = append(lines, "  "+l)
				}
			}
		}
		b.WriteString(yamlComment(lines))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// yamlLines encodes a node on its own, as lines.
func yamlLines(n *yaml.Node) ([]string, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimRight(buf.String(), "\n"), "\n"), nil
}

// decisionText is "horizon (4172/tcp, 22443/udp); not citrix, lync, ras".
func decisionText(d []infer.ProductEvidence) string {
	var in, out []string
	for _, p := range d {
		switch {
		case p.Present && len(p.Services) > 0:
			in = append(in, p.Product+" ("+strings.Join(p.Services, ", ")+")")
		case p.Present:
			in = append(in, p.Product)
		default:
			out = append(out, p.Product)
		}
	}
	text := strings.Join(in, ", ")
	if len(in) == 0 {
		text = "none"
	}
	if len(out) > 0 {
		text += "; not " + strings.Join(out, ", ") + " (use --all-products)"
	}
	return text
}

func roleNames(rs []*catalog.Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

func (rr *rolesReport) table(e *env, w io.Writer) error {
	t := e.newTable("Address", "Proposed roles", "Answered", "Called", "Runners-up")
	t.SetOutputMirror(w)
	t.SetColumnConfigs([]table.ColumnConfig{
		{Number: 2, WidthMax: 40, WidthMaxEnforcer: text.WrapSoft},
		{Number: 3, WidthMax: 40, WidthMaxEnforcer: text.WrapSoft},
		{Number: 4, WidthMax: 40, WidthMaxEnforcer: text.WrapSoft},
		{Number: 5, WidthMax: 40, WidthMaxEnforcer: text.WrapSoft},
	})
	proposed := 0
	for _, h := range rr.hosts {
		roles := candidateList(h.Roles)
		if len(h.Roles) > 0 {
			proposed++
		} else {
			roles, _ = rr.why(h)
			roles = "none: " + roles
		}
		t.AppendRow(table.Row{strings.Join(addrStrings(h), "\n"), roles, serviceList(h, infer.Answered), serviceList(h, infer.Called), candidateList(h.RunnersUp)})
	}
	t.AppendFooter(table.Row{fmt.Sprintf("%d hosts, %d with roles", len(rr.hosts), proposed)})
	t.Render()
	return nil
}

func serviceList(h *infer.Host, dir infer.Direction) string {
	var out []string
	for _, o := range h.Observations {
		if o.Dir == dir {
			out = append(out, o.Service())
		}
	}
	return strings.Join(out, ", ")
}

type rolesJSON struct {
	Captures        []rolesCaptureJSON `json:"captures"`
	Products        []string           `json:"products"`
	ProductDecision []rolesProductJSON `json:"product_decision"`
	AssignmentScore float64            `json:"assignment_score"`
	MinScore        float64            `json:"min_score"`
	Hosts           []rolesHostJSON    `json:"hosts"`
}

type rolesProductJSON struct {
	Product  string   `json:"product"`
	Present  bool     `json:"present"`
	Reason   string   `json:"reason"`
	Services []string `json:"services"`
}

type rolesCaptureJSON struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

type rolesHostJSON struct {
	Address         string               `json:"address"`
	Addresses       []string             `json:"addresses"`
	TiedBy          string               `json:"tied_by"`
	Note            string               `json:"note"`
	Name            string               `json:"name"`
	Product         string               `json:"product"`
	AssignmentScore float64              `json:"assignment_score"`
	Forwarding      bool                 `json:"forwarding"`
	Roles           []rolesCandidateJSON `json:"roles"`
	Tied            []rolesCandidateJSON `json:"tied"`
	RunnersUp       []rolesCandidateJSON `json:"runners_up"`
	Answered        []rolesServiceJSON   `json:"answered"`
	Called          []rolesServiceJSON   `json:"called"`
	Unexplained     []string             `json:"unexplained"`
}

type rolesCandidateJSON struct {
	Role       string   `json:"role"`
	RoleID     string   `json:"role_id"`
	Mode       string   `json:"mode,omitempty"`
	Score      float64  `json:"score"`
	Alone      float64  `json:"alone"`
	NamedBy    int      `json:"named_by"`
	Equivalent []string `json:"equivalent"`
	Explains   []string `json:"explains"`
}

type rolesServiceJSON struct {
	Service     string  `json:"service"`
	Proto       string  `json:"proto"`
	Port        uint16  `json:"port"`
	Peers       int     `json:"peers"`
	Connections int     `json:"connections"`
	Weight      float64 `json:"weight"`
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

func (rr *rolesReport) json(w io.Writer) error {
	out := rolesJSON{Captures: []rolesCaptureJSON{}, Products: append([]string{}, rr.products...), ProductDecision: []rolesProductJSON{},
		AssignmentScore: round3(rr.score), MinScore: rr.minScore, Hosts: []rolesHostJSON{}}
	for _, p := range rr.decision {
		out.ProductDecision = append(out.ProductDecision, rolesProductJSON{p.Product, p.Present, p.Reason, append([]string{}, p.Services...)})
	}
	for _, c := range rr.captures {
		out.Captures = append(out.Captures, rolesCaptureJSON{c.Path, c.SHA256})
	}
	for _, h := range rr.hosts {
		cands := func(cs []infer.Candidate) []rolesCandidateJSON {
			r := []rolesCandidateJSON{}
			for _, c := range cs {
				r = append(r, rolesCandidateJSON{Role: c.Name(), RoleID: c.Role.ID, Mode: c.Mode, Score: round3(c.Score),
					Alone: round3(c.Alone), NamedBy: c.NamedBy, Equivalent: append([]string{}, roleNames(c.Equivalent)...),
					Explains: append([]string{}, observationNames(h, c.Explains)...)})
			}
			return r
		}
		j := rolesHostJSON{Address: h.Addr.String(), Addresses: addrStrings(h), TiedBy: h.TiedBy, Note: h.Note, Name: hostName(h.Addr), Product: h.Product, Forwarding: h.Forwarding,
			Roles: cands(h.Roles), Tied: cands(h.Tied),
			RunnersUp: cands(h.RunnersUp), Answered: []rolesServiceJSON{}, Called: []rolesServiceJSON{}, Unexplained: []string{}}
		for _, o := range h.Observations {
			s := rolesServiceJSON{Service: o.Service(), Proto: catalog.ProtoName(o.Proto), Port: o.Port, Peers: o.Peers,
				Connections: o.Connections, Weight: round3(o.Weight)}
			if o.Dir == infer.Answered {
				j.Answered = append(j.Answered, s)
			} else {
				j.Called = append(j.Called, s)
			}
		}
		if len(h.Roles) > 0 {
			j.Unexplained = append(j.Unexplained, observationNames(h, h.Unexplained())...)
			j.AssignmentScore = round3(h.Roles[0].Score)
		}
		out.Hosts = append(out.Hosts, j)
	}
	return writeJSON(w, out)
}

// addrStrings are a host's addresses, its first address first.
func addrStrings(h *infer.Host) []string {
	var out []string
	for _, a := range h.AllAddrs() {
		out = append(out, a.String())
	}
	return out
}

// wrapWords wraps text at spaces to width, keeping its leading spaces;
// continuation lines start with indent.
func wrapWords(text, indent string, width int) []string {
	lead := text[:len(text)-len(strings.TrimLeft(text, " "))]
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		switch {
		case line == "":
			line = lead + w
		case len(line)+1+len(w) > width:
			lines = append(lines, line)
			line = indent + w
		default:
			line += " " + w
		}
	}
	return append(lines, line)
}
