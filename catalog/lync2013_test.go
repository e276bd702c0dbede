package catalog

import (
	"html"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const lyncDoc = "004_dabd261b734b1851.txt"

// The four table headings of the Lync document.
const (
	lyncServers = "Puertos de servidor obligatorios (por rol de servidor)"
	lyncHLBOnly = "Puertos del equilibrador de carga de hardware si solo usa equilibrio de carga de hardware"
	lyncHLBDNS  = "Puertos del equilibrador de carga de hardware si usa equilibrio de carga de DNS"
	lyncClients = "Puertos de cliente necesarios"
)

// lyncRows is, per table, the number of <tr> body rows read off the
// document by hand and which of them are entirely empty (no rule).
var lyncRows = map[string]struct {
	rows  int
	empty []int
}{
	lyncServers: {52, nil},
	lyncHLBOnly: {20, nil},
	lyncHLBDNS:  {7, []int{6}},
	lyncClients: {12, nil},
}

func TestLync2013RowsPerSection(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	got := seedRows(c, lyncDoc)
	if len(got) != len(lyncRows) {
		t.Errorf("rules cite %d sections of %s, want %d", len(got), lyncDoc, len(lyncRows))
	}
	for section, want := range lyncRows {
		rows := got[section]
		if n := want.rows - len(want.empty); len(rows) != n {
			t.Errorf("%s: rules cite %d distinct rows, want %d", section, len(rows), n)
		}
		for row := range rows {
			if row < 1 || row > want.rows {
				t.Errorf("%s: row %d outside 1..%d", section, row, want.rows)
			}
		}
		for _, e := range want.empty {
			if rows[e] {
				t.Errorf("%s: row %d is empty in the document but a rule cites it", section, e)
			}
		}
	}
}

// lyncTable is one HTML table of the Lync document: the "### heading"
// before it and its body rows, each a list of cells, each cell a list of
// its non-empty paragraph texts.
type lyncTable struct {
	section string
	rows    [][][]string
}

var (
	lyncHeading = regexp.MustCompile(`(?m)^###\s+(.+?)\s*$`)
	lyncTBody   = regexp.MustCompile(`(?s)<tbody>(.*?)</tbody>`)
	lyncTR      = regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`)
	lyncTD      = regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`)
	lyncP       = regexp.MustCompile(`(?s)<p>(.*?)</p>`)
	lyncTag     = regexp.MustCompile(`<[^>]+>`)
)

func lyncTables(text string) []lyncTable {
	var out []lyncTable
	heads := lyncHeading.FindAllStringSubmatchIndex(text, -1)
	for _, m := range lyncTBody.FindAllStringSubmatchIndex(text, -1) {
		tb := lyncTable{}
		for _, h := range heads { // the last heading before the table
			if h[0] < m[0] {
				tb.section = text[h[2]:h[3]]
			}
		}
		for _, tr := range lyncTR.FindAllStringSubmatch(text[m[2]:m[3]], -1) {
			var cells [][]string
			for _, td := range lyncTD.FindAllStringSubmatch(tr[1], -1) {
				paras := lyncP.FindAllStringSubmatch(td[1], -1)
				if len(paras) == 0 {
					paras = [][]string{{"", td[1]}}
				}
				var texts []string
				for _, p := range paras {
					s := strings.Join(strings.Fields(html.UnescapeString(lyncTag.ReplaceAllString(p[1], " "))), " ")
					if s != "" {
						texts = append(texts, s)
					}
				}
				cells = append(cells, texts)
			}
			tb.rows = append(tb.rows, cells)
		}
		out = append(out, tb)
	}
	return out
}

// TestLync2013AgainstDocument counts the <tr> rows inside each <tbody> of
// the document, and checks each row against the rules citing it: the
// role or load balancer (or client component) cell resolves to a role the
// rules use, and the ports agree.
// narrowedRows are the rules written to some members of the group their
// role cell names, because the row's notes say which.
var narrowedRows = map[string]bool{
	"lync-srv-audio-49152-57500.lync-front-end": true,
	"lync-srv-audio-49152-57500.lync-mediation": true,
}

func TestLync2013AgainstDocument(t *testing.T) {
	text := seedText(t, lyncDoc)
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	tables := lyncTables(text)
	if len(tables) != len(lyncRows) {
		t.Fatalf("document has %d tables, expected table has %d", len(tables), len(lyncRows))
	}
	for _, tb := range tables {
		want, ok := lyncRows[tb.section]
		if !ok {
			t.Errorf("document table %q is not in the expected table", tb.section)
			continue
		}
		var empty []int
		for i, cells := range tb.rows {
			blank := true
			for _, cell := range cells {
				blank = blank && len(cell) == 0
			}
			if blank {
				empty = append(empty, i+1)
			}
		}
		if len(tb.rows) != want.rows || !reflect.DeepEqual(empty, want.empty) {
			t.Errorf("%s: document has %d rows (empty %v), expected table says %d (empty %v)",
				tb.section, len(tb.rows), empty, want.rows, want.empty)
		}
		portCol := 2 // role, service, port, protocol, notes
		if tb.section != lyncServers {
			portCol = 1 // load balancer or component, port, protocol[, notes]
		}
		for i, cells := range tb.rows {
			row := i + 1
			if len(cells) <= portCol || len(cells[0]) == 0 {
				continue // the empty row
			}
			rules := seedRulesAt(c, lyncDoc, tb.section, row)
			if len(rules) == 0 {
				t.Errorf("%s row %d (%v): no rule", tb.section, row, cells[0])
				continue
			}
			// The document writes "67/68" for DHCP; the catalog writes "67, 68".
			wantPorts, err := ParsePorts(strings.ReplaceAll(strings.Join(cells[portCol], " "), "/", ", "))
			if err != nil {
				t.Errorf("%s row %d: %v", tb.section, row, err)
			}
			for _, name := range cells[0] { // the phone row names eight devices
				role, mode, err := c.LookupRole(name)
				if err != nil {
					t.Errorf("%s row %d: %v", tb.section, row, err)
					continue
				}
				for _, r := range rules {
					// Role and load balancer tables name the destination; the
					// client table names the client, at either end.
					ok := seedEndpointIs(r.To, role, mode)
					if tb.section == lyncClients {
						ok = ok || seedEndpointIs(r.From, role, mode)
					}
					// A row whose notes narrow its role cell to some of the
					// group's members (the audio media range: the servers
					// that terminate audio) goes to those members.
					if narrowedRows[r.ID] && role.IsGroup() && r.To.Role != nil && slices.Contains(role.Members, r.To.Role.ID) {
						ok = true
					}
					if !ok {
						t.Errorf("%s: %s -> %s, document row names %q", r.ID, r.From, r.To, name)
					}
				}
			}
			for _, r := range rules {
				if !reflect.DeepEqual(r.Ports, wantPorts) {
					t.Errorf("%s: ports %v, document says %v", r.ID, r.Ports, cells[portCol])
				}
			}
		}
	}
}

func TestLync2013Rules(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	tcp, udp, tcpudp := []uint8{6}, []uint8{17}, []uint8{6, 17}
	p := func(lo, hi uint16) []PortRange { return []PortRange{{lo, hi}} }
	const (
		fe   = "Lync Front End Server"
		fehl = "Lync Front End Pool Load Balancer"
		cli  = "Lync Client"
	)
	seedCheckSpots(t, c, []seedSpot{
		// per-role table: listening ports, any source
		{id: "lync-srv-all-1434", from: "Any", to: "All Lync Servers", protos: udp, ports: p(1434, 1434)},
		{id: "lync-srv-fe-5060", from: "Any", to: fe, protos: tcp, ports: p(5060, 5060), optional: true},
		{id: "lync-srv-fe-5061", from: "Any", to: fe, protos: tcp, apps: []string{"TLS"}, ports: p(5061, 5061)},
		{id: "lync-srv-fe-444-https", from: "Any", to: fe, protos: tcp, apps: []string{"HTTPS"}, ports: p(444, 444)},
		{id: "lync-srv-fe-444-tcp", from: "Any", to: fe, protos: tcp, ports: p(444, 444)},
		{id: "lync-srv-fe-135", from: "Any", to: fe, protos: tcp, apps: []string{"DCOM/RPC"}, ports: p(135, 135)},
		{id: "lync-srv-fe-57501-65535", from: "Any", to: fe, protos: tcpudp, ports: p(57501, 65535), dynam: true},
		{id: "lync-srv-fe-8080", from: "Any", to: fe, protos: tcp, apps: []string{"HTTP"}, ports: p(8080, 8080)},
		{id: "lync-srv-fe-49152-65535", from: "Any", to: fe, protos: tcp, ports: p(49152, 65535), dynam: true},
		{id: "lync-srv-fe-med-5081", from: "Any", to: fe + " (Collocated Mediation Server)", protos: tcp, ports: p(5081, 5081)},
		{id: "lync-srv-fe-cms-445", from: "Any", to: fe + " (Central Management Store)", protos: tcp, ports: p(445, 445)},
		// "Todos los usuarios internos", but the notes name the servers that terminate audio.
		{id: "lync-srv-audio-49152-57500.lync-front-end", from: "Any", to: fe, protos: tcpudp, ports: p(49152, 57500), dynam: true},
		{id: "lync-srv-audio-49152-57500.lync-mediation", from: "Any", to: "Lync Mediation Server", protos: tcpudp, ports: p(49152, 57500), dynam: true},
		{id: "lync-srv-owa-443", from: "Any", to: "Office Web Apps Server", protos: tcp, ports: p(443, 443)},
		{id: "lync-srv-dir-5060", from: "Any", to: "Lync Director", protos: tcp, ports: p(5060, 5060), optional: true},
		{id: "lync-srv-dir-444", from: "Any", to: "Lync Director", protos: tcp, apps: []string{"HTTPS"}, ports: p(444, 444)},
		{id: "lync-srv-med-5070-mtls", from: "Any", to: "Lync Mediation Server", protos: tcp, apps: []string{"MTLS"}, ports: p(5070, 5070)},
		{id: "lync-srv-pchat-881", from: "Any", to: "Lync Persistent Chat Front End Server", protos: tcp, apps: []string{"TLS", "MTLS"}, ports: p(881, 881)},
		// hardware load balancer tables
		{id: "lync-hlb-fe-135", from: "Any", to: fehl, protos: tcp, apps: []string{"DCOM/RPC"}, ports: p(135, 135)},
		{id: "lync-hlb-fe-4443", from: "Lync Reverse Proxy", to: fehl, protos: tcp, apps: []string{"HTTPS"}, ports: p(4443, 4443)},
		{id: "lync-hlb-med-5070", from: "Any", to: "Lync Mediation Pool Load Balancer", protos: tcp, ports: p(5070, 5070)},
		{id: "lync-hlb-fe-med-5070", from: "Any", to: fehl + " (Pool with collocated Mediation Server)", protos: tcp, ports: p(5070, 5070)},
		{id: "lync-hlb-dir-5061", from: "Any", to: "Lync Director Pool Load Balancer", protos: tcp, ports: p(5061, 5061)},
		{id: "lync-hlbdns-fe-8080", from: "Any", to: fehl, protos: tcp, ports: p(8080, 8080)},
		{id: "lync-hlbdns-dir-4443", from: "Lync Reverse Proxy", to: "Lync Director Pool Load Balancer", protos: tcp, apps: []string{"HTTPS"}, ports: p(4443, 4443)},
		// client table
		{id: "lync-cli-dhcp", from: cli, to: "DHCP Server", protos: udp, apps: []string{"DHCP"}, ports: []PortRange{{67, 67}, {68, 68}}},
		{id: "lync-cli-443-sip", from: cli, to: "Any", protos: tcp, apps: []string{"TLS"}, ports: p(443, 443)},
		{id: "lync-cli-3478", from: cli, to: "Any", protos: udp, apps: []string{"STUN/MSTURN"}, ports: p(3478, 3478)},
		{id: "lync-cli-5061", from: cli, to: "Any", protos: tcp, apps: []string{"MTLS"}, ports: p(5061, 5061)},
		{id: "lync-cli-6891-6901", from: "Legacy Communicator Client", to: cli, protos: tcp, ports: p(6891, 6901), bidirectional: true},
		{id: "lync-cli-audio", from: "All Internal Lync Users", to: cli, protos: tcpudp, ports: p(1024, 65535), configurable: true, dynam: true},
		{id: "lync-cli-p2p-file", from: cli, to: cli, protos: tcp, ports: p(1024, 65535), configurable: true, dynam: true},
		{id: "lync-cli-phone-dhcp", from: "Lync Phone Edition Device", to: "DHCP Server", protos: udp, apps: []string{"DHCP"}, ports: []PortRange{{67, 67}, {68, 68}}},
	})
}

// TestLync2013Roles checks the document's role names and the groups.
func TestLync2013Roles(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	tests := []roleLookup{
		{"Todos los servidores", "lync-all-servers", ""},
		{"Servidores front-end", "lync-front-end", ""},
		{"Servidores front-end que también ejecutan un servidor de mediación combinado", "lync-front-end", "collocated-mediation"},
		{"Los servidores front-end donde reside Almacén de administración central", "lync-front-end", "cms"},
		{"Todos los usuarios internos", "lync-all-internal", ""},
		{"Servidores de Office Web Apps", "lync-office-web-apps", ""},
		{"Directores", "lync-director", ""},
		{"Servidores de mediación", "lync-mediation", ""},
		{"Servidor front-end de chat persistente", "lync-persistent-chat", ""},
		{"Equilibrador de carga del servidor front-end", "lync-fe-hlb", ""},
		{"Equilibrador de carga del servidor front-end (si el grupo también ejecuta el servidor de mediación)", "lync-fe-hlb", "collocated-mediation"},
		{"Equilibrador de carga del servidor de mediación", "lync-mediation-hlb", ""},
		{"Equilibrador de carga del Director", "lync-director-hlb", ""},
		{"proxy inverso", "lync-reverse-proxy", ""},
		{"Clientes", "lync-client", ""},
		{"clientes anteriores", "lync-legacy-client", ""},
		{"Teléfono de conferencia Polycom CX3000 IP", "lync-phone", ""},
		{"HP 4110 IP Phone (teléfono de área común)", "lync-phone", ""},
	}
	checkLookups(t, c, tests)
	servers := []string{"lync-director", "lync-front-end", "lync-mediation", "lync-persistent-chat"}
	groups := []struct {
		id      string
		members []string
	}{
		{"lync-all-servers", servers},
		{"lync-all-internal", []string{"lync-client", "lync-director", "lync-front-end", "lync-mediation", "lync-persistent-chat", "lync-phone"}},
	}
	for _, g := range groups {
		r := c.RoleByID(g.id)
		if r == nil {
			t.Errorf("group %s missing", g.id)
			continue
		}
		if !reflect.DeepEqual(r.Members, g.members) {
			t.Errorf("%s members = %v, want %v", g.id, r.Members, g.members)
		}
	}
	// Every plain Lync server role defined by the document is in "all servers".
	all := c.RoleByID("lync-all-servers")
	for _, id := range servers {
		if all == nil || !all.Covers("", id, "") {
			t.Errorf("All Lync Servers does not cover %s", id)
		}
	}
}
