package report

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/infer"
	"github.com/flowaudit/flowaudit/catalog"
	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
	"go.yaml.in/yaml/v3"
)

// ProposedHostName is the name a proposed host gets: "host-" and its address,
// dots and colons made dashes.
func ProposedHostName(a netip.Addr) string {
	return "host-" + strings.NewReplacer(".", "-", ":", "-").Replace(a.String())
}

// RoleProposals is what 'flowaudit roles' proposes from the captures: the
// roles inferred for each host, with the evidence, ready to write as an
// inventory (YAML), a table or JSON.
type RoleProposals struct {
	Captures []Capture
	Hosts    []*infer.Host
	Decision []infer.ProductEvidence
	Score    float64 // the joint assignment's score
	MinScore float64
	Products []string // the products given (--product); nil: decided from the captures
	MACs     bool     // the captures showed source MACs (Ethernet)
	// MACsNotKept: connection sides whose sender's MAC was not recorded
	// (flow.MaxAddrMACs addresses already were).
	MACsNotKept uint64
	// Unaggregated connections were counted, not kept, past MaxServices
	// services: the proposals rest on partial services.
	Unaggregated uint64
	MaxServices  int
}

// Incomplete says why the proposals rest on partial services; empty when
// they do not.
func (rr *RoleProposals) Incomplete() []string {
	if rr.Unaggregated == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%d connections were not analysed: more than --max-services=%d services (a scan?): roles rest on partial services; raise --max-services",
		rr.Unaggregated, rr.MaxServices)}
}

func fmtScore(s float64) string { return strconv.FormatFloat(s, 'f', 2, 64) }

// CandidateList is "Role 0.62, Other Role 0.31".
func CandidateList(cs []infer.Candidate) string {
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
			out = append(out, fmt.Sprintf("%s (%s, %s)", o.Service(), CountOf(o.Peers, peer), CountOf(o.Connections, "connection")))
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

// CountOf is "1 word" or "n words".
func CountOf(n int, word string) string {
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
func (rr *RoleProposals) why(h *infer.Host) (reason string, suggest *infer.Candidate) {
	switch {
	case len(h.Tied) > 0:
		return fmt.Sprintf("ambiguous: %d roles fit equally (score %s): %s", len(h.Tied), fmtScore(h.Tied[0].Score),
			strings.Join(candidateNames(h.Tied), ", ")), &h.Tied[0]
	case len(h.RunnersUp) > 0:
		return fmt.Sprintf("best role %s scores %s, under --min-score %s", h.RunnersUp[0].Name(), fmtScore(h.RunnersUp[0].Score),
			fmtScore(rr.MinScore)), &h.RunnersUp[0]
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
func (rr *RoleProposals) evidence(h *infer.Host) []string {
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
		lines = append(lines, wrapList("  runners-up:", strings.Split(CandidateList(h.RunnersUp), ", "), "    ", width)...)
	}
	if len(h.Roles) > 0 {
		if un := h.Unexplained(); len(un) > 0 {
			lines = append(lines, wrapList("  unexplained:", observationNames(h, un), "    ", width)...)
		}
	}
	return lines
}

func (rr *RoleProposals) header() []string {
	lines := []string{"Inventory proposed by 'flowaudit roles' from the traffic in:"}
	for _, why := range rr.Incomplete() {
		lines = append([]string{"INCOMPLETE: " + why}, lines...)
	}
	for _, c := range rr.Captures {
		l := "  " + c.Path
		if c.SHA256 != "" {
			l += " (sha256 " + c.SHA256 + ")"
		}
		lines = append(lines, l)
		if !c.Complete() || c.NothingAnalysed != "" || c.NotDecoded != "" {
			lines = append(lines, "    "+c.StatusText())
		}
	}
	if len(rr.Products) > 0 {
		lines = append(lines, "Products: "+strings.Join(rr.Products, ", "))
	} else {
		lines = append(lines, "Products: "+decisionText(rr.Decision))
	}
	if rr.MACs {
		lines = append(lines, "Addresses that sent from the same source MAC, and only from it, are proposed as",
			"one host (up to one IPv4 and three IPv6 addresses per MAC; a router's MAC ties",
			"nothing), and a VRRP virtual address with its master; a multi-homed machine",
			"appears once per interface (merge by hand), unless it is a gateway seen passing",
			"its clients' connections on from its inside address.")
		if rr.MACsNotKept > 0 {
			lines = append(lines, fmt.Sprintf("The source MACs of %d connection sides were not kept (over %d addresses sent):",
				rr.MACsNotKept, flow.MaxAddrMACs), "their senders are tied to nothing.")
		}
	} else {
		lines = append(lines, "The captures show no source MACs: a dual-stack or multi-homed machine appears",
			"once per address (merge them into one host by hand), unless it is a gateway",
			"seen passing its clients' connections on from its inside address.")
	}
	return append(lines,
		"A role is proposed from --min-score "+fmtScore(rr.MinScore)+" (scores run from 0 to 1; see",
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
		yamlScalar("name"), yamlScalar(ProposedHostName(h.Addr)),
		yamlScalar("addresses"), yamlFlowSeq(addrStrings(h)...),
		yamlScalar("roles"), yamlFlowSeq(roles...),
	}}
}

// YAML writes the inventory: proposed hosts as entries, the others as
// comments after them.
func (rr *RoleProposals) YAML(w io.Writer) error {
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	var rest []*infer.Host
	for _, h := range rr.Hosts {
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

// Table writes a table of the hosts, their proposed roles and evidence;
// color makes the header bold.
func (rr *RoleProposals) Table(w io.Writer, color bool) error {
	for _, why := range rr.Incomplete() {
		if _, err := fmt.Fprintln(w, "INCOMPLETE: "+why); err != nil {
			return err
		}
	}
	t := newTable(w, color, "Address", "Proposed roles", "Answered", "Called", "Runners-up")
	t.SetColumnConfigs([]table.ColumnConfig{
		{Number: 2, WidthMax: 40, WidthMaxEnforcer: text.WrapSoft},
		{Number: 3, WidthMax: 40, WidthMaxEnforcer: text.WrapSoft},
		{Number: 4, WidthMax: 40, WidthMaxEnforcer: text.WrapSoft},
		{Number: 5, WidthMax: 40, WidthMaxEnforcer: text.WrapSoft},
	})
	proposed := 0
	for _, h := range rr.Hosts {
		roles := CandidateList(h.Roles)
		if len(h.Roles) > 0 {
			proposed++
		} else {
			roles, _ = rr.why(h)
			roles = "none: " + roles
		}
		t.AppendRow(table.Row{strings.Join(addrStrings(h), "\n"), roles, serviceList(h, infer.Answered), serviceList(h, infer.Called), CandidateList(h.RunnersUp)})
	}
	t.AppendFooter(table.Row{fmt.Sprintf("%d hosts, %d with roles", len(rr.Hosts), proposed)})
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

// RolesDocument is the document 'flowaudit roles -f json' writes.
type RolesDocument struct {
	Captures []RolesCapture `json:"captures"`
	// Incomplete: why the proposals rest on partial services (connections
	// past --max-services); absent when they do not.
	Incomplete      []string       `json:"incomplete,omitempty"`
	Products        []string       `json:"products"`
	ProductDecision []RolesProduct `json:"product_decision"`
	AssignmentScore float64        `json:"assignment_score"`
	MinScore        float64        `json:"min_score"`
	Hosts           []RolesHost    `json:"hosts"`
}

// RolesProduct is a product the captures did or did not show.
type RolesProduct struct {
	Product  string   `json:"product"`
	Present  bool     `json:"present"`
	Reason   string   `json:"reason"`
	Services []string `json:"services"`
}

// RolesCapture is a capture read.
type RolesCapture struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// RolesHost is a host with its proposed roles and evidence.
type RolesHost struct {
	Address         string           `json:"address"`
	Addresses       []string         `json:"addresses"`
	TiedBy          string           `json:"tied_by"`
	Note            string           `json:"note"`
	Name            string           `json:"name"`
	Product         string           `json:"product"`
	AssignmentScore float64          `json:"assignment_score"`
	Forwarding      bool             `json:"forwarding"`
	Roles           []RolesCandidate `json:"roles"`
	Tied            []RolesCandidate `json:"tied"`
	RunnersUp       []RolesCandidate `json:"runners_up"`
	Answered        []RolesService   `json:"answered"`
	Called          []RolesService   `json:"called"`
	Unexplained     []string         `json:"unexplained"`
}

// RolesCandidate is a role scored for a host.
type RolesCandidate struct {
	Role       string   `json:"role"`
	RoleID     string   `json:"role_id"`
	Mode       string   `json:"mode,omitempty"`
	Score      float64  `json:"score"`
	Alone      float64  `json:"alone"`
	NamedBy    int      `json:"named_by"`
	Equivalent []string `json:"equivalent"`
	Explains   []string `json:"explains"`
}

// RolesService is a service a host answered or called.
type RolesService struct {
	Service     string  `json:"service"`
	Proto       string  `json:"proto"`
	Port        uint16  `json:"port"`
	Peers       int     `json:"peers"`
	Connections int     `json:"connections"`
	Weight      float64 `json:"weight"`
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// JSON writes the proposals as 'flowaudit roles -f json' prints them.
func (rr *RoleProposals) JSON(w io.Writer) error {
	out := RolesDocument{Captures: []RolesCapture{}, Products: append([]string{}, rr.Products...), ProductDecision: []RolesProduct{},
		AssignmentScore: round3(rr.Score), MinScore: rr.MinScore, Hosts: []RolesHost{}, Incomplete: rr.Incomplete()}
	for _, p := range rr.Decision {
		out.ProductDecision = append(out.ProductDecision, RolesProduct{p.Product, p.Present, p.Reason, append([]string{}, p.Services...)})
	}
	for _, c := range rr.Captures {
		out.Captures = append(out.Captures, RolesCapture{c.Path, c.SHA256})
	}
	for _, h := range rr.Hosts {
		cands := func(cs []infer.Candidate) []RolesCandidate {
			r := []RolesCandidate{}
			for _, c := range cs {
				r = append(r, RolesCandidate{Role: c.Name(), RoleID: c.Role.ID, Mode: c.Mode, Score: round3(c.Score),
					Alone: round3(c.Alone), NamedBy: c.NamedBy, Equivalent: append([]string{}, roleNames(c.Equivalent)...),
					Explains: append([]string{}, observationNames(h, c.Explains)...)})
			}
			return r
		}
		j := RolesHost{Address: h.Addr.String(), Addresses: addrStrings(h), TiedBy: h.TiedBy, Note: h.Note, Name: ProposedHostName(h.Addr), Product: h.Product, Forwarding: h.Forwarding,
			Roles: cands(h.Roles), Tied: cands(h.Tied),
			RunnersUp: cands(h.RunnersUp), Answered: []RolesService{}, Called: []RolesService{}, Unexplained: []string{}}
		for _, o := range h.Observations {
			s := RolesService{Service: o.Service(), Proto: catalog.ProtoName(o.Proto), Port: o.Port, Peers: o.Peers,
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
	return writePlainJSON(w, out)
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
