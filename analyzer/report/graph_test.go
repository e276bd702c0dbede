package report

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// The test report's graph: a node per role with its hosts, "no role" for
// the host outside the inventory, an edge per role pair and label.
func TestGraphModel(t *testing.T) {
	g := testReport(t).Graph()
	var nodes, edges []string
	for _, n := range g.Nodes {
		nodes = append(nodes, n.ID+" "+n.Role+": "+strings.Join(n.Hosts, ","))
	}
	for _, e := range g.Edges {
		edges = append(edges, fmt.Sprintf("%s->%s %s [%s] %d", e.From, e.To, e.Label, strings.Join(e.Lines(), "; "), e.Connections))
	}
	wantNodes := []string{"n1 T Agent: agent1", "n2 T Broker: broker1", "n3 T Client: client1", "n4 no role: 198.51.100.9"}
	wantEdges := []string{
		"n3->n1 blocked [4172/tcp 1 conn; 4172/udp 2 conns] 3",
		"n3->n2 undocumented [8443/tcp 1 conn] 1",
		"n3->n2 blocked [443/tcp 1 conn] 1",
		"n3->n2 documented [443/tcp 3 conns] 3",
		"n4->n1 undocumented [22/tcp 1 conn] 1",
	}
	if strings.Join(nodes, "\n") != strings.Join(wantNodes, "\n") {
		t.Errorf("nodes:\n%s\nwant:\n%s", strings.Join(nodes, "\n"), strings.Join(wantNodes, "\n"))
	}
	if strings.Join(edges, "\n") != strings.Join(wantEdges, "\n") {
		t.Errorf("edges:\n%s\nwant:\n%s", strings.Join(edges, "\n"), strings.Join(wantEdges, "\n"))
	}
	if g.Grouped {
		t.Error("4 edges grouped")
	}
}

// Over MaxGraphEdges edges, each role pair gets one edge styled by its
// most severe label, counting services by label.
func TestGroupEdges(t *testing.T) {
	var list []*GraphEdge
	for i := 0; i < 70; i++ {
		label := []string{EdgeDocumented, EdgeUndocumented, EdgeMissing, EdgeBlocked, EdgeWaived}[i%5]
		list = append(list, &GraphEdge{From: fmt.Sprintf("n%d", i%7), To: "n9", Label: label, Connections: 2,
			Services: []GraphService{{Name: fmt.Sprintf("%d/tcp", 1000+i), Connections: 2, Label: label}}})
	}
	out := groupEdges(list)
	if len(out) != 7 {
		t.Fatalf("%d edges, want 7 (one per role pair)", len(out))
	}
	e := out[0] // n0: i = 0, 7, 14, …, 63: labels cycle through all five
	if e.Label != EdgeUndocumented || len(e.Services) != 10 || e.Connections != 20 {
		t.Errorf("n0 edge: %s, %d services, %d conns", e.Label, len(e.Services), e.Connections)
	}
	if got := strings.Join(e.Lines(), "; "); got != "10 services, 20 conns; 2 undocumented, 2 blocked, 2 never seen, 2 waived, 2 documented" {
		t.Errorf("grouped label %q", got)
	}
}

func TestGraphLabelLimits(t *testing.T) {
	e := GraphEdge{Label: EdgeDocumented}
	for i := 0; i < 9; i++ {
		e.Services = append(e.Services, GraphService{Name: fmt.Sprintf("%d/tcp", 100+i), Connections: 1})
	}
	if got := e.Lines(); len(got) != maxLabelLines+1 || got[maxLabelLines] != "+3 more" {
		t.Errorf("lines %q", got)
	}
	n := GraphNode{Role: "no role"}
	for i := 0; i < 11; i++ {
		n.Hosts = append(n.Hosts, fmt.Sprintf("h%02d", i))
	}
	if got := n.lines(); len(got) != 6 || got[5] != "+3 more" {
		t.Errorf("node lines %q", got)
	}
}

func TestGraphEscaping(t *testing.T) {
	for _, tc := range []struct{ in, dot, mermaid string }{
		{`plain`, `"plain"`, `plain`},
		{`a "b"`, `"a \"b\""`, `a #quot;b#quot;`},
		{`back\slash`, `"back\\slash"`, `back\slash`},
		{"two\nlines", `"two\nlines"`, "two\nlines"},
		{`<script>|#`, `"<script>|#"`, `#lt;script#gt;#124;#35;`},
		{"web_01 *x* `y`", "\"web_01 *x* `y`\"", "web#95;01 #42;x#42; #96;y#96;"},
	} {
		if got := dotString(tc.in); got != tc.dot {
			t.Errorf("dotString(%q) = %s, want %s", tc.in, got, tc.dot)
		}
		if got := mermaidText(tc.in); got != tc.mermaid {
			t.Errorf("mermaidText(%q) = %s, want %s", tc.in, got, tc.mermaid)
		}
	}
}

func TestGraphDOTGolden(t *testing.T) {
	g := testReport(t).Graph()
	checkGolden(t, []goldenFormat{{"report.dot", func(b *bytes.Buffer) error { return g.DOT(b) }}})
}

var svgSize = regexp.MustCompile(`^<svg width="(\d+)pt" height="(\d+)pt"`)

// The SVG is one self-contained element: sized, nothing fetched, no
// script, every node and edge drawn, and its labels do not overlap.
func TestGraphSVG(t *testing.T) {
	g := testReport(t).Graph()
	svg, err := g.SVG(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s := string(svg)
	m := svgSize.FindStringSubmatch(s)
	if m == nil || m[1] == "0" || m[2] == "0" {
		t.Fatalf("no sized <svg> at the start: %.200s", s)
	}
	for _, bad := range []string{"<script", "href=", "<?xml", "<!DOCTYPE", "@import", "url("} {
		if strings.Contains(s, bad) {
			t.Errorf("SVG contains %q", bad)
		}
	}
	if n := strings.Count(s, `class="node"`); n != len(g.Nodes) {
		t.Errorf("%d nodes drawn, want %d", n, len(g.Nodes))
	}
	if n := strings.Count(s, `class="edge"`); n != len(g.Edges) {
		t.Errorf("%d edges drawn, want %d", n, len(g.Edges))
	}
	if err := LabelOverlaps(svg); err != nil {
		t.Error(err)
	}
	again, _ := g.SVG(context.Background())
	if !bytes.Equal(svg, again) {
		t.Error("two layouts differ")
	}
}

func TestLabelOverlaps(t *testing.T) {
	doc := func(a, b string) []byte {
		return []byte(`<svg><g id="graph0" class="graph"><g id="node1" class="node"><text text-anchor="middle" x="100" y="50" font-size="12.00">RAS Broker</text>` +
			`<text text-anchor="middle" x="100" y="64" font-size="12.00">cb01</text></g>` +
			`<g id="edge1" class="edge"><text text-anchor="` + a + `" x="` + b + `" y="54" font-size="10.00">443/tcp 3 conns</text></g></g></svg>`)
	}
	for _, tc := range []struct {
		anchor, x string
		overlap   bool
	}{
		{"middle", "100", true},  // on top of the node's label
		{"start", "135", true},   // starts inside "RAS Broker" (about 65 pt wide around 100)
		{"start", "140", false},  // just right of it
		{"end", "80", true},      // ends inside it
		{"end", "30", false},     // well left of it
		{"middle", "300", false}, // far away
	} {
		err := LabelOverlaps(doc(tc.anchor, tc.x))
		if (err != nil) != tc.overlap {
			t.Errorf("%s at x=%s: %v, want overlap %v", tc.anchor, tc.x, err, tc.overlap)
		}
	}
	// Lines of one label never count against each other.
	if err := LabelOverlaps(doc("middle", "300")); err != nil {
		t.Error(err)
	}
	if err := LabelOverlaps([]byte("<svg><g>")); err == nil {
		t.Error("truncated SVG accepted")
	}
}

// largestGraph is the most a graph draws before grouping: 30 roles and
// MaxGraphEdges arrows of four services each.
func largestGraph() *Graph {
	g := &Graph{}
	for i := 1; i <= 30; i++ {
		g.Nodes = append(g.Nodes, GraphNode{ID: fmt.Sprintf("n%d", i), Role: fmt.Sprintf("Role number %d", i),
			Hosts: []string{fmt.Sprintf("host%da", i), fmt.Sprintf("host%db", i), fmt.Sprintf("host%dc", i)}})
	}
	labels := []string{EdgeDocumented, EdgeUndocumented, EdgeBlocked, EdgeMissing, EdgeWaived}
	for i := 0; i < MaxGraphEdges; i++ {
		e := GraphEdge{From: fmt.Sprintf("n%d", i%30+1), To: fmt.Sprintf("n%d", (i*7+3)%30+1), Label: labels[i%5]}
		for j := 0; j < 4; j++ {
			e.Services = append(e.Services, GraphService{Name: fmt.Sprintf("%d/tcp", 1000+10*i+j), Connections: j + 1})
		}
		g.Edges = append(g.Edges, e)
	}
	return g
}

// The largest ungrouped graph still lays out without overlapping labels.
func TestLargestGraph(t *testing.T) {
	svg, err := largestGraph().SVG(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := LabelOverlaps(svg); err != nil {
		t.Error(err)
	}
}

// BenchmarkGraphSVG lays out the largest ungrouped graph (what an HTML
// report costs at most for its picture).
func BenchmarkGraphSVG(b *testing.B) {
	g := largestGraph()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.SVG(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGraphSVGSmall lays out a graph the size of a sample pilot's:
// 10 roles and the arrows between them.
func BenchmarkGraphSVGSmall(b *testing.B) {
	lg := largestGraph()
	g := &Graph{Nodes: lg.Nodes[:10]}
	for _, e := range lg.Edges {
		if nodeNum(e.From) <= 10 && nodeNum(e.To) <= 10 {
			g.Edges = append(g.Edges, e)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.SVG(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGraphIncomplete: the graph of an incomplete report says so at its
// top, in its label (why, wrapped), and in a comment, as every other
// format does at its top; Graphviz lays it out with the label drawn and
// no two labels over each other. A complete report's graph has no label.
func TestGraphIncomplete(t *testing.T) {
	r := testReport(t)
	var complete bytes.Buffer
	if err := r.Graph().DOT(&complete); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(complete.String(), "INCOMPLETE") || strings.Contains(complete.String(), "labelloc") {
		t.Errorf("a complete report's graph says INCOMPLETE:\n%s", complete.String())
	}
	r.Limits.MaxServices, r.Limits.UnaggregatedServices, r.Limits.UnaggregatedConnections = 3, 5, 7
	r.Limits.NameLogOverflow, r.Limits.NameLogMax = 2, 1
	why := r.Incomplete()
	if len(why) != 2 {
		t.Fatalf("incomplete %q", why)
	}
	g := r.Graph()
	var b bytes.Buffer
	if err := g.DOT(&b); err != nil {
		t.Fatal(err)
	}
	dot := b.String()
	want := "// INCOMPLETE REPORT: not every frame of the captures was analysed:\n//   - " + why[0] + "\n//   - " + why[1] + "\n"
	if !strings.Contains(dot, want) {
		t.Errorf("the DOT has no comment\n%s\n%s", want, dot)
	}
	label := regexp.MustCompile(`(?m)^  graph \[label="(.*)", labelloc=t, labeljust=l, fontcolor="#c62828", fontsize=13\];$`).FindStringSubmatch(dot)
	if label == nil {
		t.Fatalf("the DOT has no graph label:\n%s", dot)
	}
	lines := strings.Split(strings.TrimSuffix(label[1], `\l`), `\l`)
	if lines[0] != "INCOMPLETE REPORT: not every frame of the captures was analysed" ||
		lines[1] != "- 7 connections of 5 services were not analysed: more than --max-services=3 services (a scan?)" ||
		!strings.HasPrefix(lines[2], "- 2 host names of the ssl.log and http.log were not kept") || len(lines) < 4 {
		t.Errorf("label lines %q", lines)
	}
	for _, l := range lines[1:] {
		if len(l) > 100 || !strings.HasPrefix(l, "- ") && !strings.HasPrefix(l, "  ") {
			t.Errorf("label line %q: over 100 bytes, or neither a reason nor its continuation", l)
		}
	}
	if got := strings.Join(strings.Fields(strings.ReplaceAll(strings.Join(lines[2:], " "), "- ", "")), " "); got != why[1] {
		t.Errorf("the wrapped reason %q is not %q", got, why[1])
	}
	if i, j := strings.Index(dot, "labelloc"), strings.Index(dot, " -> "); i < 0 || i > j {
		t.Error("the label is not set before the edges")
	}
	svg, err := g.SVG(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(svg, []byte(">INCOMPLETE REPORT: not every frame of the captures was analysed</text>")) {
		t.Errorf("the laid-out graph does not draw the label:\n%.3000s", svg)
	}
	if err := LabelOverlaps(svg); err != nil {
		t.Error(err)
	}
}
