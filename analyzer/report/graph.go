package report

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/analyzer/report/graphcache"
	"github.com/goccy/go-graphviz"
)

// The layout library initialised (its Graphviz compiled, or its compiled
// code loaded, in graphcache.Dir): TMPDIR back as it was.
func init() { graphcache.Restore() }

// The role-to-role graph of a pilot: a node per role (the hosts that play
// it listed under it; hosts without a role together as "no role"), an
// edge per role pair and label carrying its services. The same Graph is
// written as Graphviz DOT (analyze -f dot), laid out by Graphviz into the
// HTML report's inline SVG, and written as a Mermaid flowchart in the
// Markdown report.

// graphIntro explains the graph in the HTML and Markdown reports.
const graphIntro = "Roles as boxes (the hosts that play each listed under it; hosts without a role together), services as arrows from client to server with protocol/port and connections. " +
	"Green: documented and established; red, bold: undocumented; orange, bold, ending in a bar: blocked; purple, dashed: documented but never seen; teal, dotted: waived. " +
	"Over 60 arrows, one arrow per role pair counts its services by label."

// Edge labels, in the order of their severity.
const (
	EdgeUndocumented = "undocumented"
	EdgeBlocked      = "blocked"
	EdgeMissing      = "never seen"
	EdgeWaived       = "waived"
	EdgeDocumented   = "documented"
)

var edgeOrder = map[string]int{EdgeUndocumented: 0, EdgeBlocked: 1, EdgeMissing: 2, EdgeWaived: 3, EdgeDocumented: 4}

// edgeStyle is how each label looks, in DOT and Mermaid alike.
var edgeStyle = map[string]struct {
	color, dot string // colour; DOT attributes besides the colour
	width      int    // stroke width in px (Mermaid)
	dashed     bool   // Mermaid: dotted link
}{
	EdgeDocumented:   {"#2e7d32", `style=solid`, 1, false},
	EdgeUndocumented: {"#c62828", `style=bold, penwidth=2`, 3, false},
	EdgeBlocked:      {"#ef6c00", `style=bold, penwidth=2, arrowhead=tee`, 3, false},
	EdgeMissing:      {"#8e24aa", `style=dashed`, 1, true},
	EdgeWaived:       {"#00838f", `style=dotted, penwidth=1.5`, 2, true},
}

// MaxGraphEdges is the edge count above which the graph draws one edge
// per role pair instead of one per role pair and label.
const MaxGraphEdges = 60

// maxLabelLines is how many services an edge label lists before "+N more".
const maxLabelLines = 6

// maxNodeHosts is how many hosts a node lists before "+N more".
const maxNodeHosts = 8

// Graph is the role-to-role picture of a report.
type Graph struct {
	Nodes   []GraphNode
	Edges   []GraphEdge
	Grouped bool // one edge per role pair: the graph had more than MaxGraphEdges edges
	// Note is the report's FrameNote (inputs that were flow records),
	// written by DOT as a comment: the graph's only text outside it.
	Note string
	// Incomplete is why the report is incomplete (Report.Incomplete):
	// DOT says so in the graph's label, at its top, as the other formats
	// do at theirs.
	Incomplete []string
}

// GraphNode is a role (or "no role", "broadcast/multicast", a rule's
// "Any") and the hosts under it.
type GraphNode struct {
	ID    string // n1, n2, … in the order of Nodes
	Role  string
	Hosts []string
}

// GraphEdge is the services of one label from one role to another.
type GraphEdge struct {
	From, To    string // node ids
	Label       string // EdgeDocumented, …; the most severe one when grouped
	Services    []GraphService
	Connections int
	Counts      map[string]int // services per label, when grouped
}

// GraphService is one protocol/port on an edge.
type GraphService struct {
	Name        string // "443/tcp", "tcp/636,3269" for a rule never seen
	Connections int
	Label       string
	Rule        bool // a rule never seen (possibly waived), not traffic
}

// Lines are the edge's label lines: a service and its connection count
// each, or when grouped the count of services per label.
func (e *GraphEdge) Lines() []string {
	if e.Counts != nil {
		var parts []string
		for _, l := range []string{EdgeUndocumented, EdgeBlocked, EdgeMissing, EdgeWaived, EdgeDocumented} {
			if n := e.Counts[l]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, l))
			}
		}
		return []string{fmt.Sprintf("%d services, %s", len(e.Services), connText(e.Connections)), strings.Join(parts, ", ")}
	}
	var out []string
	for i, s := range e.Services {
		if i == maxLabelLines && len(e.Services) > maxLabelLines+1 {
			out = append(out, fmt.Sprintf("+%d more", len(e.Services)-i))
			break
		}
		if s.Rule {
			out = append(out, s.Name)
		} else {
			out = append(out, s.Name+" "+connText(s.Connections))
		}
	}
	return out
}

func connText(n int) string {
	if n == 1 {
		return "1 conn"
	}
	return strconv.Itoa(n) + " conns"
}

// roleKey is the node a host belongs to: its roles, or "no role".
func roleKey(h *inventory.Host) string {
	if h == nil || len(h.Roles) == 0 {
		return "no role"
	}
	return strings.Join(Roles(h), ", ")
}

// Graph builds the role-to-role graph of the report.
func (r *Report) Graph() *Graph {
	type edgeKey struct{ from, to, label string }
	hosts := map[string]map[string]bool{} // node role → host names
	addHost := func(role, host string) {
		if hosts[role] == nil {
			hosts[role] = map[string]bool{}
		}
		if host != "" {
			hosts[role][host] = true
		}
	}
	for _, h := range r.Hosts {
		addHost(roleKey(h), h.Name)
	}
	node := func(h *inventory.Host, addr string) string {
		k := roleKey(h)
		name := addr
		if h != nil {
			name = h.Name
		}
		addHost(k, name)
		return k
	}
	edges := map[edgeKey]*GraphEdge{}
	add := func(from, to, label, service string, conns int, rule bool) {
		k := edgeKey{from, to, label}
		e := edges[k]
		if e == nil {
			e = &GraphEdge{From: from, To: to, Label: label}
			edges[k] = e
		}
		for i := range e.Services {
			if e.Services[i].Name == service {
				e.Services[i].Connections += conns
				e.Connections += conns
				return
			}
		}
		e.Services = append(e.Services, GraphService{Name: service, Connections: conns, Label: label, Rule: rule})
		e.Connections += conns
	}
	s := r.Split()
	flows := func(fs []*audit.Flow, label string) {
		for _, f := range fs {
			from := node(f.ClientHost, f.Client.Unmap().String())
			var to string
			if f.ServerHost == nil && f.Multicast {
				to = "broadcast/multicast"
				addHost(to, f.Server.Unmap().String())
			} else {
				to = node(f.ServerHost, f.Server.Unmap().String())
			}
			add(from, to, label, Service(f), f.Connections, false)
		}
	}
	flows(s.Undocumented, EdgeUndocumented)
	flows(s.Blocked, EdgeBlocked)
	flows(s.Documented, EdgeDocumented)
	flows(s.Waived, EdgeWaived)
	missing := func(ms []*audit.Missing, label string) {
		for _, m := range ms {
			side := func(hs []*inventory.Host, any string) []string {
				if len(hs) == 0 {
					addHost(any, "")
					return []string{any}
				}
				seen := map[string]bool{}
				var out []string
				for _, h := range hs {
					k := node(h, "")
					if !seen[k] {
						seen[k] = true
						out = append(out, k)
					}
				}
				return out
			}
			for _, from := range side(m.Clients, m.Rule.From.String()) {
				for _, to := range side(m.Servers, m.Rule.To.String()) {
					add(from, to, label, MissingProto(m), 0, true)
				}
			}
		}
	}
	missing(s.Missing, EdgeMissing)
	missing(s.WaivedMissing, EdgeWaived)

	g := &Graph{Note: r.FrameNote(), Incomplete: r.Incomplete()}
	roles := make([]string, 0, len(hosts))
	for k := range hosts {
		roles = append(roles, k)
	}
	sort.Slice(roles, func(i, j int) bool { return nodeLess(roles[i], roles[j]) })
	ids := map[string]string{}
	for i, k := range roles {
		n := GraphNode{ID: "n" + strconv.Itoa(i+1), Role: k}
		for h := range hosts[k] {
			n.Hosts = append(n.Hosts, h)
		}
		sort.Strings(n.Hosts)
		ids[k] = n.ID
		g.Nodes = append(g.Nodes, n)
	}
	list := make([]*GraphEdge, 0, len(edges))
	for _, e := range edges {
		e.From, e.To = ids[e.From], ids[e.To]
		sort.Slice(e.Services, func(i, j int) bool { return serviceLess(e.Services[i].Name, e.Services[j].Name) })
		list = append(list, e)
	}
	if len(list) > MaxGraphEdges {
		g.Grouped = true
		list = groupEdges(list)
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.From != b.From {
			return nodeNum(a.From) < nodeNum(b.From)
		}
		if a.To != b.To {
			return nodeNum(a.To) < nodeNum(b.To)
		}
		return edgeOrder[a.Label] < edgeOrder[b.Label]
	})
	for _, e := range list {
		g.Edges = append(g.Edges, *e)
	}
	return g
}

// groupEdges merges the edges of each role pair into one, styled by its
// most severe label and counting its services by label.
func groupEdges(list []*GraphEdge) []*GraphEdge {
	pairs := map[[2]string]*GraphEdge{}
	var out []*GraphEdge
	for _, e := range list {
		k := [2]string{e.From, e.To}
		p := pairs[k]
		if p == nil {
			p = &GraphEdge{From: e.From, To: e.To, Label: e.Label, Counts: map[string]int{}}
			pairs[k] = p
			out = append(out, p)
		}
		if edgeOrder[e.Label] < edgeOrder[p.Label] {
			p.Label = e.Label
		}
		p.Services = append(p.Services, e.Services...)
		p.Connections += e.Connections
		p.Counts[e.Label] += len(e.Services)
	}
	return out
}

// nodeLess sorts roles by name, the groups without a role last.
func nodeLess(a, b string) bool {
	rank := func(s string) int {
		switch s {
		case "no role":
			return 2
		case "broadcast/multicast":
			return 3
		}
		return 1
	}
	if rank(a) != rank(b) {
		return rank(a) < rank(b)
	}
	return a < b
}

func nodeNum(id string) int { n, _ := strconv.Atoi(strings.TrimPrefix(id, "n")); return n }

// serviceLess sorts "443/tcp" before "3389/tcp" (ports as numbers).
func serviceLess(a, b string) bool {
	pa, pb := leadingNumber(a), leadingNumber(b)
	if pa != pb {
		return pa < pb
	}
	return a < b
}

func leadingNumber(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, _ := strconv.Atoi(s[:i])
	return n
}

func (n *GraphNode) lines() []string {
	out := []string{n.Role}
	hs := n.Hosts
	if len(hs) > maxNodeHosts {
		hs = append(hs[:maxNodeHosts:maxNodeHosts], fmt.Sprintf("+%d more", len(n.Hosts)-maxNodeHosts))
	}
	// Two hosts a line keeps nodes compact.
	for i := 0; i < len(hs); i += 2 {
		out = append(out, strings.Join(hs[i:min(i+2, len(hs))], ", "))
	}
	return out
}

// incompleteHead is what a report that is incomplete says at its top.
const incompleteHead = "INCOMPLETE REPORT: not every frame of the captures was analysed"

// dotLeft quotes lines for a DOT label, each left-justified (\l).
func dotLeft(lines []string) string {
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", " ")
	var b strings.Builder
	b.WriteByte('"')
	for _, l := range lines {
		b.WriteString(esc.Replace(l))
		b.WriteString(`\l`)
	}
	b.WriteByte('"')
	return b.String()
}

// dotString quotes s for DOT.
func dotString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// DOT writes the graph in Graphviz's DOT language.
func (g *Graph) DOT(w io.Writer) error {
	var b strings.Builder
	b.WriteString("// flowaudit role-to-role graph. Edges: documented (green), undocumented (red, bold),\n")
	b.WriteString("// blocked (orange, bold, tee), never seen (purple, dashed), waived (teal, dotted).\n")
	if g.Note != "" {
		b.WriteString("// Note: " + strings.ReplaceAll(g.Note, "\n", "\n// ") + ".\n")
	}
	if len(g.Incomplete) > 0 {
		b.WriteString("// " + incompleteHead + ":\n")
		for _, why := range g.Incomplete {
			b.WriteString("//   - " + strings.ReplaceAll(why, "\n", " ") + "\n")
		}
	}
	b.WriteString("digraph flowaudit {\n")
	b.WriteString("  graph [rankdir=TB, fontname=\"Verdana\", fontsize=11, nodesep=0.35, ranksep=0.7, pad=0.2];\n")
	if len(g.Incomplete) > 0 {
		// The graph's label, at its top, in red: the picture alone
		// (rendered, pasted into a ticket) still says it is partial.
		lines := []string{incompleteHead}
		for _, why := range g.Incomplete {
			lines = append(lines, wrapWords("- "+why, "  ", 100)...)
		}
		fmt.Fprintf(&b, "  graph [label=%s, labelloc=t, labeljust=l, fontcolor=\"#c62828\", fontsize=13];\n", dotLeft(lines))
	}
	b.WriteString("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f5f5f5\", color=\"#757575\", fontname=\"Verdana\", fontsize=12];\n")
	b.WriteString("  edge [fontname=\"Verdana\", fontsize=10, arrowsize=0.7];\n")
	for _, n := range g.Nodes {
		fill := ""
		if n.Role == "no role" || n.Role == "broadcast/multicast" {
			fill = `, fillcolor="#ffffff", style="rounded,dashed"`
		}
		fmt.Fprintf(&b, "  %s [label=%s%s];\n", n.ID, dotString(strings.Join(n.lines(), "\n")), fill)
	}
	for _, e := range g.Edges {
		st := edgeStyle[e.Label]
		fmt.Fprintf(&b, "  %s -> %s [label=%s, color=%q, fontcolor=%q, %s, tooltip=%s];\n", e.From, e.To,
			dotString(strings.Join(e.Lines(), "\n")), st.color, st.color, st.dot, dotString(e.Label))
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// SVG lays the graph out with Graphviz (compiled to WebAssembly, run by
// go-graphviz in the process) and returns the <svg> element alone, for
// inline use.
func (g *Graph) SVG(ctx context.Context) ([]byte, error) {
	var dot bytes.Buffer
	if err := g.DOT(&dot); err != nil {
		return nil, err
	}
	gv, err := graphviz.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("graph layout: %w", err)
	}
	defer gv.Close()
	parsed, err := graphviz.ParseBytes(dot.Bytes())
	if err != nil {
		return nil, fmt.Errorf("graph layout: %w", err)
	}
	defer parsed.Close()
	var out bytes.Buffer
	if err := gv.Render(ctx, parsed, graphviz.SVG, &out); err != nil {
		return nil, fmt.Errorf("graph layout: %w", err)
	}
	svg := out.Bytes()
	i := bytes.Index(svg, []byte("<svg"))
	if i < 0 {
		return nil, fmt.Errorf("graph layout: Graphviz wrote no <svg> element")
	}
	// Graphviz measured the labels with Verdana's widths; DejaVu Sans
	// (most Linux desktops) is as wide, so labels fit their boxes where
	// Verdana is missing too.
	svg = bytes.ReplaceAll(svg[i:], []byte(`font-family="Verdana"`), []byte(`font-family="Verdana,DejaVu Sans,Bitstream Vera Sans,sans-serif"`))
	return bytes.TrimSpace(svg), nil
}

// mermaidText escapes a Mermaid label: quotes, HTML and Markdown markup
// (GitHub reads Markdown in node text) as Mermaid's entity codes.
func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "#", "#35;", "|", "#124;",
		"*", "#42;", "_", "#95;", "`", "#96;").Replace(s)
}

// Mermaid writes the graph as a Mermaid flowchart (without the code
// fence).
func (g *Graph) Mermaid(w io.Writer) error {
	var b strings.Builder
	b.WriteString("flowchart TB\n")
	for _, n := range g.Nodes {
		lines := n.lines()
		for i := range lines {
			lines[i] = mermaidText(lines[i])
		}
		lines[0] = "<b>" + lines[0] + "</b>"
		open, close := "[\"", "\"]"
		if n.Role == "no role" || n.Role == "broadcast/multicast" {
			open, close = "([\"", "\"])"
		}
		fmt.Fprintf(&b, "  %s%s%s%s\n", n.ID, open, strings.Join(lines, "<br/>"), close)
	}
	for _, e := range g.Edges {
		lines := e.Lines()
		for i := range lines {
			lines[i] = mermaidText(lines[i])
		}
		arrow := "-->"
		switch st := edgeStyle[e.Label]; {
		case st.dashed:
			arrow = "-.->"
		case st.width > 1:
			arrow = "==>"
		}
		fmt.Fprintf(&b, "  %s %s|\"%s\"| %s\n", e.From, arrow, strings.Join(lines, "<br/>"), e.To)
	}
	for i, e := range g.Edges {
		st := edgeStyle[e.Label]
		fmt.Fprintf(&b, "  linkStyle %d stroke:%s,stroke-width:%dpx\n", i, st.color, st.width)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
