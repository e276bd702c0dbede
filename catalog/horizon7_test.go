package catalog

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Helpers shared by the per-document transcription tests (horizon7_test.go,
// lync2013_test.go). Names carry a "seed" prefix to stay clear of other
// test files in the package.

const horizonDoc = "000_6a36e64b00a984df.txt"

// seedRows is, for one document, the set of body rows the catalog's rules
// cite, by source section.
func seedRows(c *Catalog, doc string) map[string]map[int]bool {
	out := map[string]map[int]bool{}
	for _, r := range c.Rules() {
		for _, s := range r.Sources {
			if s.Doc != doc {
				continue
			}
			if out[s.Section] == nil {
				out[s.Section] = map[int]bool{}
			}
			out[s.Section][s.Row] = true
		}
	}
	return out
}

// roleLookup is a name a document uses and the role and mode it must
// resolve to.
type roleLookup struct{ name, id, mode string }

// checkLookups resolves every name and checks its role and mode.
func checkLookups(t *testing.T, c *Catalog, tests []roleLookup) {
	t.Helper()
	checkLookupsIn(t, c, Scope{}, tests)
}

// checkLookupsIn is checkLookups within a product scope: the names a
// document uses resolve within its product.
func checkLookupsIn(t *testing.T, c *Catalog, scope Scope, tests []roleLookup) {
	t.Helper()
	for _, tt := range tests {
		r, mode, err := c.LookupRoleIn(tt.name, scope)
		if err != nil {
			t.Errorf("LookupRole(%q): %v", tt.name, err)
			continue
		}
		if r.ID != tt.id || mode != tt.mode {
			t.Errorf("LookupRole(%q) = %s/%q, want %s/%q", tt.name, r.ID, mode, tt.id, tt.mode)
		}
	}
}

// seedRulesAt is every rule citing (doc, section, row).
func seedRulesAt(c *Catalog, doc, section string, row int) []*Rule {
	var out []*Rule
	for _, r := range c.Rules() {
		for _, s := range r.Sources {
			if s.Doc == doc && s.Section == section && s.Row == row {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// seedText reads a seed document from ../shared/seeds next to the repository
// root, or skips the test when the shared materials are absent.
func seedText(t *testing.T, name string) string {
	t.Helper()
	root, err := filepath.Abs("..") // the package is catalog/, the root is one up
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root %s has no go.mod: %v", root, err)
	}
	path := filepath.Join(root, "..", "shared", "seeds", name)
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("%s absent; skipping the check against the source document", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// seedEndpointIs says whether endpoint e is exactly the role (and mode) the
// document's name resolves to.
func seedEndpointIs(e Endpoint, role *Role, mode string) bool {
	return e.Role != nil && role != nil && e.Role.ID == role.ID && e.Mode == mode
}

// seedSpot is one expected rule.
type seedSpot struct {
	id                                           string
	from, to                                     string // Endpoint.String()
	protos                                       []uint8
	apps                                         []string
	ports                                        []PortRange
	optional, bidirectional, configurable, dynam bool
}

func seedCheckSpots(t *testing.T, c *Catalog, spots []seedSpot) {
	t.Helper()
	for _, tt := range spots {
		t.Run(tt.id, func(t *testing.T) {
			r := c.Rule(tt.id)
			if r == nil {
				t.Fatalf("rule %q missing", tt.id)
			}
			if got := r.From.String(); got != tt.from {
				t.Errorf("from = %q, want %q", got, tt.from)
			}
			if got := r.To.String(); got != tt.to {
				t.Errorf("to = %q, want %q", got, tt.to)
			}
			gotP := append([]uint8(nil), r.Protocols...)
			sort.Slice(gotP, func(i, j int) bool { return gotP[i] < gotP[j] })
			if !reflect.DeepEqual(gotP, tt.protos) {
				t.Errorf("protocols = %v, want %v", gotP, tt.protos)
			}
			if !reflect.DeepEqual(r.Apps, tt.apps) {
				t.Errorf("apps = %q, want %q", r.Apps, tt.apps)
			}
			if !reflect.DeepEqual(r.Ports, tt.ports) {
				t.Errorf("ports = %v, want %v", r.Ports, tt.ports)
			}
			flags := [4][2]bool{
				{r.Optional, tt.optional}, {r.Bidirectional, tt.bidirectional},
				{r.Configurable, tt.configurable}, {r.Dynamic, tt.dynam},
			}
			for i, name := range []string{"optional", "bidirectional", "configurable", "dynamic"} {
				if flags[i][0] != flags[i][1] {
					t.Errorf("%s = %v, want %v", name, flags[i][0], flags[i][1])
				}
			}
		})
	}
}

// horizonRows is the number of body rows of each table of the Horizon 7
// document, read off the document by hand.
var horizonRows = map[string]int{
	"Conexión interna":          7,
	"Conexión externa":          7,
	"Horizon Connection Server": 11,
}

func TestHorizon7RowsPerSection(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	got := seedRows(c, horizonDoc)
	if len(got) != len(horizonRows) {
		t.Errorf("rules cite %d sections of %s, want %d: %v", len(got), horizonDoc, len(horizonRows), got)
	}
	for section, want := range horizonRows {
		rows := got[section]
		if len(rows) != want {
			t.Errorf("%s: rules cite %d distinct rows, want %d", section, len(rows), want)
		}
		for row := range rows {
			if row < 1 || row > want {
				t.Errorf("%s: row %d outside 1..%d", section, row, want)
			}
		}
	}
}

// horizonTable is one markdown table of the Horizon document: its heading
// and its body rows split into trimmed cells.
type horizonTable struct {
	section string
	rows    [][]string
}

var mdSeparator = regexp.MustCompile(`^\|[\s:|-]+\|?$`)

// horizonTables reads the markdown tables: a "# heading" line starts a
// section, the first "|" line of a table is its header, the second its
// separator, the rest its body.
func horizonTables(t *testing.T, text string) []horizonTable {
	t.Helper()
	var out []horizonTable
	section, inTable := "", false
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "#"):
			section = strings.TrimSpace(strings.TrimLeft(trimmed, "#"))
			inTable = false
		case strings.HasPrefix(trimmed, "|"):
			if !inTable {
				inTable = true
				out = append(out, horizonTable{section: section})
				continue // header
			}
			tb := &out[len(out)-1]
			if tb.rows == nil && mdSeparator.MatchString(trimmed) {
				tb.rows = [][]string{}
				continue
			}
			if tb.rows == nil {
				t.Fatalf("%s:%d: table without a separator line", horizonDoc, i+1)
			}
			cells := strings.Split(strings.Trim(trimmed, "|"), "|")
			for j := range cells {
				cells[j] = strings.Join(strings.Fields(cells[j]), " ")
			}
			tb.rows = append(tb.rows, cells)
		default:
			if trimmed != "" {
				inTable = false
			}
		}
	}
	return out
}

// TestHorizon7AgainstDocument counts the body rows in the document itself
// and checks every row against the rules citing it: the source and
// destination names resolve to the rules' roles and the ports agree.
func TestHorizon7AgainstDocument(t *testing.T) {
	text := seedText(t, horizonDoc)
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	tables := horizonTables(t, text)
	counted := map[string]int{}
	for _, tb := range tables {
		counted[tb.section] += len(tb.rows)
	}
	if !reflect.DeepEqual(counted, horizonRows) {
		t.Errorf("document rows per section = %v, expected table says %v", counted, horizonRows)
	}
	for _, tb := range tables {
		for i, cells := range tb.rows {
			row := i + 1
			if len(cells) != 5 {
				t.Errorf("%s row %d: %d cells, want 5 (origin, destination, port, protocol, description)", tb.section, row, len(cells))
				continue
			}
			from, fromMode, err := c.LookupRole(cells[0])
			if err != nil {
				t.Errorf("%s row %d: source %q: %v", tb.section, row, cells[0], err)
			}
			to, toMode, err := c.LookupRole(cells[1])
			if err != nil {
				t.Errorf("%s row %d: destination %q: %v", tb.section, row, cells[1], err)
			}
			wantPorts, err := ParsePorts(cells[2])
			if err != nil {
				t.Errorf("%s row %d: %v", tb.section, row, err)
			}
			wantProtos := []uint8{6}
			if strings.EqualFold(cells[3], "TCP y UDP") {
				wantProtos = []uint8{6, 17}
			}
			rules := seedRulesAt(c, horizonDoc, tb.section, row)
			if len(rules) == 0 {
				t.Errorf("%s row %d (%s): no rule", tb.section, row, strings.Join(cells, " | "))
				continue
			}
			for _, r := range rules {
				// The event database row names the role; the rule picks the
				// engine's mode, so only the role is compared there.
				if r.From.Role == nil || from == nil || r.From.Role.ID != from.ID || (fromMode != "" && r.From.Mode != fromMode) {
					t.Errorf("%s: from %s, document says %q", r.ID, r.From, cells[0])
				}
				if r.To.Role == nil || to == nil || r.To.Role.ID != to.ID || (toMode != "" && r.To.Mode != toMode) {
					t.Errorf("%s: to %s, document says %q", r.ID, r.To, cells[1])
				}
				if !reflect.DeepEqual(r.Ports, wantPorts) || r.PortsText != cells[2] {
					t.Errorf("%s: ports %q %v, document says %q", r.ID, r.PortsText, r.Ports, cells[2])
				}
				got := append([]uint8(nil), r.Protocols...)
				sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
				if !reflect.DeepEqual(got, wantProtos) {
					t.Errorf("%s: protocols %v, document says %q", r.ID, got, cells[3])
				}
			}
		}
	}
}

func TestHorizon7Rules(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	tcp, tcpudp := []uint8{6}, []uint8{6, 17}
	p := func(lo, hi uint16) []PortRange { return []PortRange{{lo, hi}} }
	seedCheckSpots(t, c, []seedSpot{
		{id: "hz-int-client-cs-443", from: "Horizon Client", to: "Horizon Connection Server", protos: tcp, ports: p(443, 443)},
		{id: "hz-int-client-agent-22443", from: "Horizon Client", to: "Horizon Agent", protos: tcpudp, ports: p(22443, 22443)},
		{id: "hz-int-client-agent-4172", from: "Horizon Client", to: "Horizon Agent", protos: tcpudp, ports: p(4172, 4172)},
		{id: "hz-int-client-agent-3211", from: "Horizon Client", to: "Horizon Agent", protos: tcp, ports: p(3211, 3211)},
		{id: "hz-int-browser-agent-8443", from: "Web Browser", to: "Horizon Agent", protos: tcp, ports: p(8443, 8443)},
		{id: "hz-ext-client-edge-443", from: "Horizon Client", to: "Horizon Edge Gateway", protos: tcp, ports: p(443, 443)},
		{id: "hz-ext-client-edge-8443", from: "Horizon Client", to: "Horizon Edge Gateway", protos: tcpudp, ports: p(8443, 8443)},
		{id: "hz-ext-client-edge-4172", from: "Horizon Client", to: "Horizon Edge Gateway", protos: tcpudp, ports: p(4172, 4172)},
		{id: "hz-ext-client-agent-9427", from: "Horizon Client", to: "Horizon Agent", protos: tcp, ports: p(9427, 9427)},
		{id: "hz-ext-browser-agent-8443", from: "Web Browser", to: "Horizon Agent", protos: tcp, ports: p(8443, 8443)},
		{id: "hz-cs-agent-22443", from: "Horizon Connection Server", to: "Horizon Agent", protos: tcpudp, ports: p(22443, 22443)},
		{id: "hz-cs-agent-3389", from: "Horizon Connection Server", to: "Horizon Agent", protos: tcp, ports: p(3389, 3389)},
		{id: "hz-cs-vcenter-443", from: "Horizon Connection Server", to: "vCenter Server", protos: tcp, ports: p(443, 443)},
		{id: "hz-cs-eventdb-1443", from: "Horizon Connection Server", to: "Horizon Event Database (Microsoft SQL Server)", protos: tcp, ports: p(1443, 1443)},
		{id: "hz-cs-eventdb-1521", from: "Horizon Connection Server", to: "Horizon Event Database (Oracle)", protos: tcp, ports: p(1521, 1521)},
		{id: "hz-cs-jmp-443", from: "Horizon Connection Server", to: "VMware JMP Server", protos: tcp, ports: p(443, 443)},
		{id: "hz-cs-composer-18443", from: "Horizon Connection Server", to: "Horizon View Composer", protos: tcp, ports: p(18443, 18443)},
	})
}

// TestHorizon7Roles checks that every name the document uses resolves to
// the intended role and mode, and the group's members.
func TestHorizon7Roles(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	tests := []roleLookup{
		{"Horizon Client", "horizon-client", ""},
		{"Horizon Agent", "horizon-agent", ""},
		{"Horizon Connection Server", "horizon-connection-server", ""},
		{"Navegador Web", "web-browser", ""},
		{"UAG o Security server", "horizon-edge-gateway", ""},
		{"UAG", "horizon-uag", ""},
		{"Security server", "horizon-security-server", ""},
		{"vCenter Server", "vcenter-server", ""},
		{"BBDD (eventos)", "horizon-event-database", ""},
		{"Horizon Event Database (Microsoft SQL Server)", "horizon-event-database", "mssql"},
		{"Horizon Event Database (Oracle)", "horizon-event-database", "oracle"},
		{"JMP server", "horizon-jmp-server", ""},
		{"View Composer", "horizon-view-composer", ""},
	}
	checkLookups(t, c, tests)
	edge := c.RoleByID("horizon-edge-gateway")
	if edge == nil || !reflect.DeepEqual(edge.Members, []string{"horizon-security-server", "horizon-uag"}) {
		t.Errorf("horizon-edge-gateway members = %v", edge)
	}
	// A host labelled with either gateway matches the external rules.
	r := c.Rule("hz-ext-client-edge-443")
	for _, id := range []string{"horizon-uag", "horizon-security-server", "horizon-edge-gateway"} {
		if r == nil || !r.To.Role.Covers(r.To.Mode, id, "") {
			t.Errorf("hz-ext-client-edge-443 does not cover a host playing %s", id)
		}
	}
}
