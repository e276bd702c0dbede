package catalog

import (
	"bufio"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// rasDoc is the seed the Parallels RAS catalog file transcribes.
const rasDoc = "002_4a96bc54d1e1cace.txt"

// rasRowsPerSection is the number of table body rows in each section of
// the RAS document, counted by hand ("All Components" is the one-line
// remark above the tables; the Azure Virtual Desktop section has two
// tables, the second being the optional URLs).
var rasRowsPerSection = map[string]int{
	"All Components":        1,
	"Parallels Client":      7,
	"Web (external)":        3,
	"HALB":                  3,
	"RAS Secure Gateway":    6,
	"RAS Connection Broker": 14,
	"RAS Console":           17,
	"SSRS":                  1,
	"RAS Reporting":         2,
	"RAS Web Administration Service (REST/Management Portal)": 6,
	"RAS PowerShell":                        5,
	"RAS Provider Agent":                    10,
	"RAS Enrollment Server":                 3,
	"RAS RD Session Host Agent":             5,
	"RAS Guest Agent":                       5,
	"RAS Remote PC Agent":                   5,
	"Tenant Broker":                         1,
	"Azure Virtual Desktop":                 13,
	"Azure Virtual Desktop (optional URLs)": 9,
}

func rasCatalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	return c
}

// rasRows is the set of distinct (section, row) the catalog's rules cite
// in the RAS document, counted per section.
func rasRows(c *Catalog) map[string]int {
	seen := map[Source]bool{}
	for _, r := range c.Rules() {
		for _, s := range r.Sources {
			if s.Doc == rasDoc {
				seen[s] = true
			}
		}
	}
	out := map[string]int{}
	for s := range seen {
		out[s.Section]++
	}
	return out
}

func TestRASRowsPerSection(t *testing.T) {
	got := rasRows(rasCatalog(t))
	for sec, want := range rasRowsPerSection {
		if got[sec] != want {
			t.Errorf("section %q: %d rows transcribed, document has %d", sec, got[sec], want)
		}
	}
	for sec, n := range got {
		if _, ok := rasRowsPerSection[sec]; !ok {
			t.Errorf("rules cite section %q (%d rows) which the document does not have", sec, n)
		}
	}
}

// TestRASRowsContiguous checks that the rows cited in each section are
// exactly 1..n: a skipped row shows up as a gap.
func TestRASRowsContiguous(t *testing.T) {
	rows := map[string][]int{}
	seen := map[Source]bool{}
	for _, r := range rasCatalog(t).Rules() {
		for _, s := range r.Sources {
			if s.Doc == rasDoc && !seen[s] {
				seen[s] = true
				rows[s.Section] = append(rows[s.Section], s.Row)
			}
		}
	}
	for sec, rs := range rows {
		sort.Ints(rs)
		for i, r := range rs {
			if r != i+1 {
				t.Errorf("section %q: rows %v are not 1..%d", sec, rs, len(rs))
				break
			}
		}
	}
}

var (
	// A Protocols cell: "TCP |", "TCP, UDP TCP, UDP UDP |", "VRRP |".
	rasProtoCell = regexp.MustCompile(`^(?:(?:TCP|UDP|VRRP),? ?)+\|$`)
	// An Azure table's port cell: "443 |" (the address cells are host names
	// or dotted addresses, the purpose cells words).
	rasPortCell = regexp.MustCompile(`^\d+ \|$`)
)

// countRASRows counts the table body rows of the seed mechanically: every
// RAS table row has exactly one Protocols cell, every Azure table row
// exactly one port cell. A section starts at a line without a cell marker
// that is followed by the "Source |" header; the Azure tables start at
// their "Address |" header.
func countRASRows(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, strings.TrimSpace(sc.Text()))
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	counts := map[string]int{}
	section, azure := "", false
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "All Components:"):
			counts["All Components"]++
		case strings.HasPrefix(l, "Was this article helpful"):
			section = ""
		case l == "Address |":
			azure = true
			section = "Azure Virtual Desktop"
			if i > 0 && strings.Contains(lines[i-1], "optional URLs") {
				section = "Azure Virtual Desktop (optional URLs)"
			}
		case !strings.HasSuffix(l, "|") && i+1 < len(lines) && lines[i+1] == "Source |":
			section, azure = l, false
		case section == "":
		case azure && rasPortCell.MatchString(l):
			counts[section]++
		case !azure && rasProtoCell.MatchString(l):
			counts[section]++
		}
	}
	return counts
}

func TestRASRowsMatchSeed(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "..", "shared", "seeds", rasDoc)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("seed not available: %v", err)
	}
	counted := countRASRows(t, path)
	t.Logf("rows counted in the seed: %v", counted)
	got := rasRows(rasCatalog(t))
	if len(counted) != len(rasRowsPerSection) {
		t.Errorf("counted %d sections in the seed, expected %d: %v", len(counted), len(rasRowsPerSection), counted)
	}
	for sec, n := range counted {
		if want, ok := rasRowsPerSection[sec]; !ok || want != n {
			t.Errorf("section %q: %d rows in the seed, hand count says %d", sec, n, want)
		}
		if got[sec] != n {
			t.Errorf("section %q: %d rows in the seed, %d transcribed", sec, n, got[sec])
		}
	}
}

// rasEnd describes one side of a rule: a role (and mode), a host pattern,
// an address, or Any when all are empty.
type rasEnd struct {
	role, mode, host, addr string
}

func checkRASEnd(t *testing.T, id, side string, e Endpoint, want rasEnd) {
	t.Helper()
	var gotRole string
	if e.Role != nil {
		gotRole = e.Role.ID
	}
	if gotRole != want.role || e.Mode != want.mode || e.Host != want.host {
		t.Errorf("%s: %s = role %q mode %q host %q, want role %q mode %q host %q",
			id, side, gotRole, e.Mode, e.Host, want.role, want.mode, want.host)
	}
	if want.addr != "" && !e.MatchesAddr(netip.MustParseAddr(want.addr)) {
		t.Errorf("%s: %s = %v, does not hold %s", id, side, e, want.addr)
	}
	if want.addr == "" && len(e.Addrs) > 0 {
		t.Errorf("%s: %s has addresses %v, want none", id, side, e.Addrs)
	}
}

func TestRASSpotChecks(t *testing.T) {
	const (
		tcp, udp, vrrp = 6, 17, 112
	)
	tests := []struct {
		id                              string
		from, to                        rasEnd
		protos                          []uint8
		ports                           string // FormatPorts of the parsed ports
		optional, configurable, dynamic bool
		direction                       string
		section                         string
		row                             int
	}{
		// Multi-line cell: TCP TCP TCP,UDP UDP | 389,3268 636,3269 88,53 pair up line by line.
		{id: "ras-cb-cb-dc-389-3268", from: rasEnd{role: "ras-connection-broker"}, to: rasEnd{role: "domain-controller"},
			protos: []uint8{tcp}, ports: "389, 3268", section: "RAS Connection Broker", row: 1},
		{id: "ras-cb-cb-dc-636-3269", from: rasEnd{role: "ras-connection-broker"}, to: rasEnd{role: "domain-controller"},
			protos: []uint8{tcp}, ports: "636, 3269", section: "RAS Connection Broker", row: 1},
		{id: "ras-cb-cb-dc-88", from: rasEnd{role: "ras-connection-broker"}, to: rasEnd{role: "domain-controller"},
			protos: []uint8{tcp, udp}, ports: "88", section: "RAS Connection Broker", row: 1},
		{id: "ras-cb-cb-dc-53", from: rasEnd{role: "ras-connection-broker"}, to: rasEnd{role: "domain-controller"},
			protos: []uint8{udp}, ports: "53", section: "RAS Connection Broker", row: 1},
		{id: "ras-es-es-dc-53", from: rasEnd{role: "ras-enrollment-server"}, to: rasEnd{role: "domain-controller"},
			protos: []uint8{udp}, ports: "53", section: "RAS Enrollment Server", row: 1},
		// Port-less protocol: the Ports cell's 112 is VRRP's protocol number.
		{id: "ras-halb-halb-halb-vrrp", from: rasEnd{role: "ras-halb"}, to: rasEnd{role: "ras-halb"},
			protos: []uint8{vrrp}, ports: "", section: "HALB", row: 1},
		// "1234 (outbound only) 68 (inbound only)": request out, reply back in.
		{id: "ras-console-console-wyse-1234", from: rasEnd{role: "ras-console"}, to: rasEnd{role: "wyse-broker"},
			protos: []uint8{udp}, ports: "1234", direction: "outbound-only", section: "RAS Console", row: 16},
		{id: "ras-console-wyse-console-68", from: rasEnd{role: "wyse-broker"}, to: rasEnd{role: "ras-console"},
			protos: []uint8{udp}, ports: "68", direction: "inbound-only", section: "RAS Console", row: 16},
		// Azure addresses and hosts.
		{id: "ras-avd-avdhost-imds-80", from: rasEnd{role: "avd-session-host"}, to: rasEnd{addr: "169.254.169.254"},
			protos: []uint8{tcp}, ports: "80", section: "Azure Virtual Desktop", row: 12},
		{id: "ras-avd-avdhost-wireserver-80", from: rasEnd{role: "avd-session-host"}, to: rasEnd{addr: "168.63.129.16"},
			protos: []uint8{tcp}, ports: "80", section: "Azure Virtual Desktop", row: 13},
		{id: "ras-avd-avdhost-wvd-443", from: rasEnd{role: "avd-session-host"}, to: rasEnd{host: "*.wvd.microsoft.com"},
			protos: []uint8{tcp}, ports: "443", section: "Azure Virtual Desktop", row: 1},
		{id: "ras-avd-avdhost-kms-1688", from: rasEnd{role: "avd-session-host"}, to: rasEnd{host: "kms.core.windows.net"},
			protos: []uint8{tcp}, ports: "1688", section: "Azure Virtual Desktop", row: 9},
		{id: "ras-avdopt-avdhost-onedrive-443", from: rasEnd{role: "avd-session-host"}, to: rasEnd{host: "*.sfx.ms"},
			protos: []uint8{tcp}, ports: "443", optional: true, section: "Azure Virtual Desktop (optional URLs)", row: 6},
		// Localhost.
		{id: "ras-sg-sgn-localhost-20020", from: rasEnd{role: "ras-secure-gateway", mode: "normal"}, to: rasEnd{addr: "127.0.0.1"},
			protos: []uint8{tcp}, ports: "20020", section: "RAS Secure Gateway", row: 6},
		// Modes.
		{id: "ras-sg-sgf-sgn-3389", from: rasEnd{role: "ras-secure-gateway", mode: "forwarding"}, to: rasEnd{role: "ras-secure-gateway", mode: "normal"},
			protos: []uint8{tcp, udp}, ports: "3389", optional: true, section: "RAS Secure Gateway", row: 1},
		{id: "ras-client-client-sgn-20000", from: rasEnd{role: "ras-parallels-client"}, to: rasEnd{role: "ras-secure-gateway", mode: "normal"},
			protos: []uint8{udp}, ports: "20000", section: "Parallels Client", row: 3},
		{id: "ras-client-client-sgf-80-443", from: rasEnd{role: "ras-parallels-client"}, to: rasEnd{role: "ras-secure-gateway", mode: "forwarding"},
			protos: []uint8{tcp, udp}, ports: "80, 443", section: "Parallels Client", row: 2},
		{id: "ras-halb-halb-sgn-20009", from: rasEnd{role: "ras-halb"}, to: rasEnd{role: "ras-secure-gateway", mode: "normal"},
			protos: []uint8{tcp, udp}, ports: "20009", section: "HALB", row: 3},
		{id: "ras-tenant-tenant-tenantbroker-20003", from: rasEnd{role: "ras-connection-broker", mode: "tenant"},
			to: rasEnd{role: "ras-connection-broker", mode: "tenant-broker"}, protos: []uint8{tcp}, ports: "20003", section: "Tenant Broker", row: 1},
		// Group roles.
		{id: "ras-all-pushers-components-135-445.ras-connection-broker", from: rasEnd{role: "ras-connection-broker"}, to: rasEnd{role: "ras-all-components"},
			protos: []uint8{tcp}, ports: "135, 445", section: "All Components", row: 1},
		{id: "ras-all-pushers-components-135-445.ras-remote-installer-service", from: rasEnd{role: "ras-remote-installer-service"}, to: rasEnd{role: "ras-all-components"},
			protos: []uint8{tcp}, ports: "135, 445", section: "All Components", row: 1},
		{id: "ras-all-pushers-components-135-445.ras-web-admin-service", from: rasEnd{role: "ras-web-admin-service"}, to: rasEnd{role: "ras-all-components"},
			protos: []uint8{tcp}, ports: "135, 445", section: "All Components", row: 1},
		{id: "ras-client-client-sh-3389", from: rasEnd{role: "ras-parallels-client"}, to: rasEnd{role: "ras-session-host"},
			protos: []uint8{tcp, udp}, ports: "3389", section: "Parallels Client", row: 4},
		// Multi-role cells: one rule per listed agent.
		{id: "ras-cb-cb-agents-135-445-49179.ras-guest-agent", from: rasEnd{role: "ras-connection-broker"}, to: rasEnd{role: "ras-guest-agent"},
			protos: []uint8{tcp}, ports: "135, 445, 49179", section: "RAS Connection Broker", row: 12},
		{id: "ras-cb-cb-agents-135-445-49179.ras-enrollment-server", from: rasEnd{role: "ras-connection-broker"}, to: rasEnd{role: "ras-enrollment-server"},
			protos: []uint8{tcp}, ports: "135, 445, 49179", section: "RAS Connection Broker", row: 12},
		{id: "ras-webadmin-webadmin-agents-135-445.ras-secure-gateway", from: rasEnd{role: "ras-web-admin-service"}, to: rasEnd{role: "ras-secure-gateway"},
			protos: []uint8{tcp}, ports: "135, 445", section: "RAS Web Administration Service (REST/Management Portal)", row: 5},
		{id: "ras-web-external-webadmin-20443.lets-encrypt", from: rasEnd{role: "lets-encrypt"}, to: rasEnd{role: "ras-web-admin-service"},
			protos: []uint8{tcp}, ports: "20443", section: "Web (external)", row: 1},
		// Other line pairings and flags.
		{id: "ras-console-console-guest-30009", from: rasEnd{role: "ras-console"}, to: rasEnd{role: "ras-guest-agent"},
			protos: []uint8{udp}, ports: "30009", section: "RAS Console", row: 6},
		{id: "ras-pa-pa-guest-30010", from: rasEnd{role: "ras-provider-agent"}, to: rasEnd{role: "ras-guest-agent"},
			protos: []uint8{tcp}, ports: "30010", section: "RAS Provider Agent", row: 2},
		{id: "ras-es-es-ca-49152-65535", from: rasEnd{role: "ras-enrollment-server"}, to: rasEnd{role: "certificate-authority"},
			protos: []uint8{tcp}, ports: "49152-65535", dynamic: true, section: "RAS Enrollment Server", row: 3},
		{id: "ras-cb-cb-mfa-1812-1813", from: rasEnd{role: "ras-connection-broker"}, to: rasEnd{role: "mfa-server"},
			protos: []uint8{tcp, udp}, ports: "1812, 1813", section: "RAS Connection Broker", row: 8},
		{id: "ras-cb-cb-smtp-587", from: rasEnd{role: "ras-connection-broker"}, to: rasEnd{role: "smtp-server"},
			protos: []uint8{tcp}, ports: "587", configurable: true, section: "RAS Connection Broker", row: 13},
		{id: "ras-cb-cb-lic-443", from: rasEnd{role: "ras-connection-broker"}, to: rasEnd{host: "ras.parallels.com"},
			protos: []uint8{tcp}, ports: "443", optional: true, section: "RAS Connection Broker", row: 3},
		{id: "ras-reporting-reporting-sql-1433", from: rasEnd{role: "ras-reporting"}, to: rasEnd{role: "sql-server"},
			protos: []uint8{tcp}, ports: "1433", section: "RAS Reporting", row: 1},
	}
	c := rasCatalog(t)
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			r := c.Rule(tt.id)
			if r == nil {
				t.Fatalf("no rule %q", tt.id)
			}
			if r.Product != "ras" {
				t.Errorf("product = %q, want ras", r.Product)
			}
			checkRASEnd(t, tt.id, "from", r.From, tt.from)
			checkRASEnd(t, tt.id, "to", r.To, tt.to)
			if !slices.Equal(r.Protocols, tt.protos) {
				t.Errorf("protocols = %v, want %v", r.ProtocolNames(), tt.protos)
			}
			if got := FormatPorts(r.Ports); got != tt.ports {
				t.Errorf("ports = %q, want %q", got, tt.ports)
			}
			if r.Optional != tt.optional || r.Configurable != tt.configurable || r.Dynamic != tt.dynamic || r.Direction != tt.direction {
				t.Errorf("flags optional=%v configurable=%v dynamic=%v direction=%q, want %v %v %v %q",
					r.Optional, r.Configurable, r.Dynamic, r.Direction, tt.optional, tt.configurable, tt.dynamic, tt.direction)
			}
			want := []Source{{Doc: rasDoc, Title: "Parallels RAS — firewall requirements (KB 129097)", Section: tt.section, Row: tt.row}}
			if !slices.Equal(r.Sources, want) {
				t.Errorf("sources = %v, want %v", r.Sources, want)
			}
		})
	}
}

// TestRASCellExpansion checks that cells listing several roles became one
// rule per role, all from the same row.
func TestRASCellExpansion(t *testing.T) {
	agents := []string{"ras-rdsh-agent", "ras-guest-agent", "ras-remote-pc-agent",
		"ras-connection-broker", "ras-secure-gateway", "ras-enrollment-server"}
	tests := []struct {
		prefix string
		ids    []string
		ports  string
	}{
		{"ras-cb-cb-agents-135-445-49179.", agents, "135, 445, 49179"},
		{"ras-webadmin-webadmin-agents-135-445.", agents, "135, 445"},
	}
	c := rasCatalog(t)
	for _, tt := range tests {
		var got []string
		for _, r := range c.Rules() {
			if id, ok := strings.CutPrefix(r.ID, tt.prefix); ok {
				got = append(got, id)
				if r.To.Role == nil || r.To.Role.ID != id {
					t.Errorf("%s: to = %v, want role %s", r.ID, r.To, id)
				}
				if FormatPorts(r.Ports) != tt.ports {
					t.Errorf("%s: ports %s, want %s", r.ID, FormatPorts(r.Ports), tt.ports)
				}
			}
		}
		if !slices.Equal(got, tt.ids) {
			t.Errorf("%s*: rules for %v, want %v", tt.prefix, got, tt.ids)
		}
	}
}

// TestRASRoleNames checks that every spelling the document uses resolves
// to one role (and mode).
func TestRASRoleNames(t *testing.T) {
	tests := []roleLookup{
		{"RAS Secure Gateway Forwarding mode", "ras-secure-gateway", "forwarding"},
		{"RAS Secure Gateway in Forwarding Mode", "ras-secure-gateway", "forwarding"},
		{"RAS Secure Gateway in Forwarding mode", "ras-secure-gateway", "forwarding"},
		{"RAS Secure Gateway Normal mode", "ras-secure-gateway", "normal"},
		{"RAS Secure Gateway in Normal Mode", "ras-secure-gateway", "normal"},
		{"RAS Secure Gateway (Normal mode)", "ras-secure-gateway", "normal"},
		{"RAS Secure Gateway", "ras-secure-gateway", ""},
		{"Session host (VDI, RDS, RemotePC)", "ras-session-host", ""},
		{"Remote Desktop Services", "ras-session-host", ""},
		{"RAS Connection Broker", "ras-connection-broker", ""},
		{"Tenant - RAS Connection Broker", "ras-connection-broker", "tenant"},
		{"Tenant Broker - RAS Connection Broker", "ras-connection-broker", "tenant-broker"},
		{"AD DS controllers", "domain-controller", ""},
		{"All Components", "ras-all-components", ""},
		{"HALB", "ras-halb", ""},
		{"RAS Web Admin Service [RAS Management Portal]", "ras-web-admin-service", ""},
		{"RAS Web Administration Service", "ras-web-admin-service", ""},
		{"RAS Reporting Service", "ras-reporting", ""},
		{"RAS Guest Agent (used by Azure Virtual Desktop)", "ras-guest-agent", ""},
		{"Provider Agent", "ras-provider-agent", ""},
		{"Web browser (HTML5)", "web-browser", ""},
		{"Let's Encrypt service", "lets-encrypt", ""},
		{"2FA Server(s)", "mfa-server", ""},
		{"MFA Server(s)", "mfa-server", ""},
		{"SSRS", "ssrs", ""},
		{"MS SQL", "sql-server", ""},
		{"Microsoft SQL Server", "sql-server", ""},
		{"SMTP", "smtp-server", ""},
		{"Certificate Authority (CA)", "certificate-authority", ""},
		{"VMWare", "vcenter-server", ""},
		{"Hyper-V", "hyper-v-host", ""},
		{"Remote PC over VDI", "remote-pc-vdi-host", ""},
	}
	c := rasCatalog(t)
	checkLookupsIn(t, c, NewScope("ras"), tests)
}

// TestRASAllComponents checks that the "All Components" group holds every
// plain RAS server role, and not the end-user and administrators' tools or
// the HALB appliance; and that no push rule reaches a Parallels Client.
func TestRASAllComponents(t *testing.T) {
	c := rasCatalog(t)
	all, _, err := c.LookupRoleIn("All Components", NewScope("ras"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.LookupRole("All Components"); err == nil {
		t.Errorf(`"All Components" resolves outside the RAS scope`)
	}
	notPushed := []string{"ras-parallels-client", "ras-console", "ras-powershell", "ras-halb"}
	var want []string
	for _, r := range c.Roles() {
		if r.Product == "ras" && !r.IsGroup() && !slices.Contains(notPushed, r.ID) {
			want = append(want, r.ID)
		}
	}
	sort.Strings(want)
	if len(want) != 11 {
		t.Errorf("%d plain RAS server roles, want 11: %v", len(want), want)
	}
	if !slices.Equal(all.Members, want) {
		t.Errorf("All Components members = %v, want the RAS server roles %v", all.Members, want)
	}
	client := c.RoleByID("ras-parallels-client")
	for _, r := range c.Rules() {
		if r.Product != "ras" || !strings.Contains(strings.ToLower(r.Description), "push") {
			continue
		}
		if r.From.IsAny() {
			t.Errorf("%s: a push rule from Any", r.ID)
		}
		if r.To.Role != nil && r.To.Role.Covers("", client.ID, "") {
			t.Errorf("%s: a push rule documents %s to a Parallels Client", r.ID, pushPorts(r))
		}
	}
	sh, _, err := c.LookupRole("Session host (VDI, RDS, RemotePC)")
	if err != nil {
		t.Fatal(err)
	}
	if wantSH := []string{"ras-guest-agent", "ras-rdsh-agent", "ras-remote-pc-agent"}; !slices.Equal(sh.Members, wantSH) {
		t.Errorf("Session Host members = %v, want %v", sh.Members, wantSH)
	}
}

// TestRASRulesWellFormed checks every RAS rule: the id prefix, one source
// in this document, and a description.
func TestRASRulesWellFormed(t *testing.T) {
	n := 0
	for _, r := range rasCatalog(t).Rules() {
		if r.Product != "ras" {
			continue
		}
		n++
		if !strings.HasPrefix(r.ID, "ras-") {
			t.Errorf("%s: id lacks the ras- prefix", r.ID)
		}
		if len(r.Sources) != 1 || r.Sources[0].Doc != rasDoc {
			t.Errorf("%s: sources %v, want one in %s", r.ID, r.Sources, rasDoc)
		}
		if r.Description == "" {
			t.Errorf("%s: no description", r.ID)
		}
		if r.From.Host != "" || len(r.From.Addrs) > 0 {
			t.Errorf("%s: from is a host pattern or address", r.ID)
		}
	}
	if n < 116 {
		t.Errorf("%d RAS rules, fewer than the document's 116 rows", n)
	}
}

func pushPorts(r *Rule) string {
	return strings.Join(r.ProtocolNames(), "+") + "/" + FormatPorts(r.Ports)
}
