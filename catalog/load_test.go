package catalog

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestParsePorts(t *testing.T) {
	tests := []struct {
		in   string
		want []PortRange
		err  string
	}{
		{"443", []PortRange{{443, 443}}, ""},
		{"80, 443", []PortRange{{80, 80}, {443, 443}}, ""},
		{"80,443", []PortRange{{80, 80}, {443, 443}}, ""},
		{"16500..16509", []PortRange{{16500, 16509}}, ""},
		{"49152-65535", []PortRange{{49152, 65535}}, ""},
		{"49152–65535", []PortRange{{49152, 65535}}, ""},
		{"6891 -6901", []PortRange{{6891, 6901}}, ""},
		{"1024-65535*", []PortRange{{1024, 65535}}, ""},
		{"4001, 5900, 623", []PortRange{{623, 623}, {4001, 4001}, {5900, 5900}}, ""},
		{"3008, 3009", []PortRange{{3008, 3008}, {3009, 3009}}, ""},
		{"67/68", []PortRange{{67, 67}, {68, 68}}, ""},
		{"1-10, 5-20", []PortRange{{1, 20}}, ""},
		{"none", nil, ""},
		{"N/A", nil, ""},
		{"", nil, ""},
		{"any", []PortRange{{0, 65535}}, ""},
		{"70000", nil, "outside 0-65535"},
		{"20-10", nil, "runs backwards"},
		{"http", nil, "not a port number"},
	}
	for _, tt := range tests {
		got, err := ParsePorts(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParsePorts(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParsePorts(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseProtocols(t *testing.T) {
	tests := []struct {
		in     []string
		protos []uint8
		apps   []string
		err    bool
	}{
		{[]string{"tcp"}, []uint8{6}, nil, false},
		{[]string{"TCP", "UDP"}, []uint8{6, 17}, nil, false},
		{[]string{"TCP, UDP"}, []uint8{6, 17}, nil, false},
		{[]string{"TCP y UDP"}, []uint8{6, 17}, nil, false},
		{[]string{"UDP/TCP"}, []uint8{6, 17}, nil, false},
		{[]string{"HTTPS"}, []uint8{6}, []string{"HTTPS"}, false},
		{[]string{"SNMP"}, []uint8{17}, []string{"SNMP"}, false},
		{[]string{"RADIUS"}, []uint8{17}, []string{"RADIUS"}, false},
		{[]string{"TACACS"}, []uint8{6}, []string{"TACACS"}, false},
		{[]string{"DHCP"}, []uint8{17}, []string{"DHCP"}, false},
		{[]string{"DCOM/RPC"}, []uint8{6}, []string{"DCOM/RPC"}, false},
		{[]string{"TCP (TLS)"}, []uint8{6}, []string{"TLS"}, false},
		{[]string{"TCP (MTLS)"}, []uint8{6}, []string{"MTLS"}, false},
		{[]string{"UDP (STUN/MSTURN)"}, []uint8{17}, []string{"STUN/MSTURN"}, false},
		{[]string{"TCP (PSOM/TLS)"}, []uint8{6}, []string{"PSOM/TLS"}, false},
		{[]string{"vrrp"}, []uint8{112}, nil, false},
		{[]string{"ICMP"}, []uint8{1}, nil, false},
		{[]string{"ip/99"}, []uint8{99}, nil, false},
		{[]string{"carrier pigeon"}, nil, nil, true},
	}
	for _, tt := range tests {
		protos, apps, err := parseProtocols(tt.in)
		if tt.err != (err != nil) {
			t.Errorf("parseProtocols(%q) error = %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(protos, tt.protos) || !reflect.DeepEqual(apps, tt.apps) {
			t.Errorf("parseProtocols(%q) = %v %v; want %v %v", tt.in, protos, apps, tt.protos, tt.apps)
		}
	}
}

func writeTemp(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadErrors checks that each kind of mistake is reported on its line.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string // "line: substring"
	}{
		{"unknown field", "rules:\n  - id: a\n    frm: Any\n", []string{"3: unknown field \"frm\" (did you mean \"from\"?)"}},
		{"unknown top field", "rulez: []\n", []string{"1: unknown field \"rulez\""}},
		{"unknown role", "rules:\n  - id: a\n    from: DNS Sever\n    to: Any\n    protocols: [udp]\n    ports: 53\n",
			[]string{"3: unknown role \"DNS Sever\" (did you mean \"DNS Server\"?)"}},
		{"bad port", "rules:\n  - id: a\n    from: Any\n    to: Any\n    protocols: [tcp]\n    ports: 65536\n", []string{"6: bad ports \"65536\": port 65536 is outside 0-65535"}},
		{"ports on vrrp", "rules:\n  - id: a\n    from: Any\n    to: Any\n    protocols: [vrrp]\n    ports: 112\n", []string{"6: rule \"a\": vrrp has no ports"}},
		{"tcp without ports", "rules:\n  - id: a\n    from: Any\n    to: Any\n    protocols: [tcp]\n", []string{"2: rule \"a\": tcp needs ports"}},
		{"duplicate rule", "rules:\n  - {id: a, from: Any, to: Any, protocols: [icmp]}\n  - {id: a, from: Any, to: Any, protocols: [icmp]}\n", []string{"3: duplicate rule id \"a\""}},
		{"rule without id", "rules:\n  - {from: Any, to: Any, protocols: [icmp]}\n", []string{"2: rule has no id"}},
		{"role without id", "roles:\n  - {name: My App}\n", []string{"2: role has no id"}},
		{"duplicate role id", "roles:\n  - {id: dns-server, name: X, product: p}\n", []string{"2: duplicate role id \"dns-server\""}},
		{"alias taken", "roles:\n  - {id: x, name: X, product: p, aliases: [NTP Server]}\n", []string{"2: name \"NTP Server\" already names NTP Server"}},
		{"bad direction", "rules:\n  - {id: a, from: Any, to: Any, protocols: [icmp], direction: sideways}\n", []string{"2: direction \"sideways\""}},
		{"wrong type", "rules:\n  - id: a\n    optional: maybe\n", []string{"3: cannot unmarshal"}},
		{"not a list", "rules: 5\n", []string{"1: rules: expected a list"}},
		{"syntax", "rules:\n  - id: [\n", []string{"did not find expected node content"}},
		{"empty", "\n", []string{"empty file"}},
		{"same_as nothing", "roles:\n  - {id: a1, name: A1, product: p}\nrules:\n  - {id: s, from: A1, to: A1, same_as: {from: A1, to: A1}}\n", []string{"4: same_as: no rules from A1 to A1"}},
		{"bad address", "rules:\n  - {id: a, from: Any, to_address: [300.1.1.1], protocols: [icmp]}\n", []string{"2: bad address \"300.1.1.1\""}},
		{"unknown member", "roles:\n  - {id: g, name: G, product: p, members: [Nobody]}\n", []string{"2: role \"g\": unknown member role \"Nobody\""}},
		{"display name taken by an alias", "roles:\n  - {id: x, name: Director, product: p}\n", []string{"2: name \"Director\" already names"}},
		{"alias twice in one product", "roles:\n  - {id: x, name: X, product: lync, aliases: [Director]}\n", []string{"2: name \"Director\" already names Lync Director", "of the same product lync"}},
		{"ambiguous in a site file", "rules:\n  - {id: a, from: Director, to: Any, protocols: [icmp], ports: none}\n",
			[]string{"2: role \"Director\" is ambiguous: Citrix Director (citrix), Lync Director (lync); write the full name or set products"}},
		{"product alias outside its product", "rules:\n  - {id: a, from: Agent host, to: Any, protocols: [icmp], ports: none}\n", []string{"2: unknown role \"Agent host\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeTemp(t, "user.yaml", tt.body)
			_, err := Load(p)
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Load error = %v, want an ErrorList", err)
			}
			msgs := err.Error()
			for _, w := range tt.want {
				line, sub, hasLine := strings.Cut(w, ": ")
				if !hasLine || strings.ContainsAny(line, " \"") {
					sub, line = w, ""
				}
				found := false
				for _, pe := range list {
					if pe.File != p {
						t.Errorf("error names file %q, want %q", pe.File, p)
					}
					if strings.Contains(pe.Err.Error(), sub) && (line == "" || line == strconv.Itoa(pe.Line)) {
						found = true
					}
				}
				if !found {
					t.Errorf("want %q among errors:\n%s", w, msgs)
				}
			}
		})
	}
}

const semantics = `
roles:
  - id: gw
    name: Gateway
    product: demo
    aliases: [The Gateway]
    modes:
      - {id: normal, name: Normal mode, aliases: [Gateway in Normal mode]}
      - {id: forwarding, name: Forwarding mode, aliases: [Gateway in Forwarding mode]}
  - {id: broker, name: Broker, product: demo}
  - {id: agent, name: Agent, product: demo}
  - {id: all-demo, name: All Demo, product: demo, members_product: demo}
  - {id: infra, name: Infra, product: demo, members: [all-demo, DNS Server]}
aliases:
  - {role: dns-server, names: [Name Server]}
rules:
  - id: d-plain
    from: Broker
    to: The Gateway
    protocols: [tcp]
    ports: "80, 443"
  - id: d-normal
    from: [Broker, Agent]
    to: Gateway in Normal mode
    protocols: [TCP, UDP]
    ports: 20009
    bidirectional: true
  - id: d-dns
    from: All Demo
    to: Name Server
    protocols: [DNS]
    ports: 53
  - id: d-copy
    from: Agent
    to: Agent
    same_as: {from: broker, to: gw}
    optional: true
  - id: d-host
    from: Agent
    to_host: "*.example.com"
    protocols: [HTTPS]
    ports: 443
  - id: d-vrrp
    from: Gateway
    to_address: [224.0.0.18]
    protocols: [vrrp]
    ports: none
`

func TestLoadSemantics(t *testing.T) {
	c, err := Load(writeTemp(t, "demo.yaml", semantics))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range c.Rules() {
		if r.Product == "site" {
			ids[r.ID] = true
		}
	}
	wantIDs := []string{"d-plain", "d-normal.broker", "d-normal.agent", "d-dns", "d-copy.d-plain", "d-copy.d-normal.broker", "d-host", "d-vrrp"}
	if len(ids) != len(wantIDs) {
		t.Errorf("rules %v, want %v", ids, wantIDs)
	}
	for _, id := range wantIDs {
		if !ids[id] {
			t.Errorf("missing rule %q; have %v", id, ids)
		}
	}

	rule := func(id string) *Rule {
		r := c.Rule(id)
		if r == nil {
			t.Fatalf("no rule %q", id)
		}
		return r
	}
	if r := rule("d-normal.agent"); r.From.Role.ID != "agent" || r.To.Role.ID != "gw" || r.To.Mode != "normal" || !r.Bidirectional ||
		!reflect.DeepEqual(r.Protocols, []uint8{6, 17}) || r.To.String() != "Gateway (Normal mode)" {
		t.Errorf("d-normal.agent = %+v", r)
	}
	if r := rule("d-copy.d-plain"); r.From.Role.ID != "agent" || r.To.Role.ID != "agent" || !r.Optional || FormatPorts(r.Ports) != "80, 443" {
		t.Errorf("same_as copy = from %v to %v optional %v ports %v", r.From, r.To, r.Optional, r.Ports)
	}
	if r := rule("d-host"); r.To.Host != "*.example.com" || r.To.String() != "*.example.com" || !reflect.DeepEqual(r.Apps, []string{"HTTPS"}) {
		t.Errorf("d-host = %+v", r.To)
	}
	if r := rule("d-vrrp"); len(r.Ports) != 0 || !r.CoversPort(112, 0) || r.To.String() != "224.0.0.18" {
		t.Errorf("d-vrrp = %+v", r)
	}

	// Groups: members_product is every plain demo role; nested groups flatten.
	if got := c.RoleByID("all-demo").Members; !reflect.DeepEqual(got, []string{"agent", "broker", "gw"}) {
		t.Errorf("all-demo members = %v", got)
	}
	if got := c.RoleByID("infra").Members; !reflect.DeepEqual(got, []string{"agent", "broker", "dns-server", "gw"}) {
		t.Errorf("infra members = %v", got)
	}

	// Modes: a plain host matches every mode's rules; a moded host matches its own and plain ones.
	gw := c.RoleByID("gw")
	for _, tt := range []struct {
		rmode, hostMode string
		want            bool
	}{{"normal", "", true}, {"normal", "normal", true}, {"normal", "forwarding", false}, {"", "forwarding", true}, {"", "", true}} {
		if got := gw.Covers(tt.rmode, "gw", tt.hostMode); got != tt.want {
			t.Errorf("gw(%q).Covers(gw, %q) = %v, want %v", tt.rmode, tt.hostMode, got, tt.want)
		}
	}
	if !c.RoleByID("all-demo").Covers("", "broker", "") || c.RoleByID("all-demo").Covers("", "dns-server", "") {
		t.Error("group membership wrong")
	}

	// Lookups by every kind of name.
	for _, tt := range []struct{ name, id, mode string }{
		{"gw", "gw", ""}, {"GATEWAY", "gw", ""}, {"the  gateway", "gw", ""}, {"Gateway (Normal mode)", "gw", "normal"},
		{"gateway in forwarding mode", "gw", "forwarding"}, {"gw/normal", "gw", "normal"}, {"Name Server", "dns-server", ""},
	} {
		r, m, err := c.LookupRole(tt.name)
		if err != nil || r.ID != tt.id || m != tt.mode {
			t.Errorf("LookupRole(%q) = %v %q %v; want %s %q", tt.name, r, m, err, tt.id, tt.mode)
		}
	}
	if _, _, err := c.LookupRole("Gatewya"); err == nil || !errors.Is(err, ErrUnknownRole) || !strings.Contains(err.Error(), `did you mean "Gateway"`) {
		t.Errorf("LookupRole(Gatewya) error = %v", err)
	}

	// Server ports: every documented destination port, per transport.
	for _, tt := range []struct {
		proto uint8
		port  uint16
		want  bool
	}{{6, 443, true}, {17, 20009, true}, {6, 20009, true}, {17, 53, true}, {6, 7, false}, {17, 19, false}} {
		if got := c.ServerPort(tt.proto, tt.port); got != tt.want {
			t.Errorf("ServerPort(%d, %d) = %v, want %v", tt.proto, tt.port, got, tt.want)
		}
	}
}

func TestDefaultLoads(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatalf("built-in catalog: %v", err)
	}
	if c.RoleByID("domain-controller") == nil {
		t.Error("shared roles missing")
	}
}

func TestClosest(t *testing.T) {
	names := []string{"StoreFront Server", "Storage Node", "Delivery Controller"}
	tests := []struct {
		in   string
		want []string
	}{
		{"Storefront Sever", []string{"StoreFront Server"}},
		{"Delivery Controler", []string{"Delivery Controller"}},
		{"zzz", nil},
	}
	for _, tt := range tests {
		if got := Closest(tt.in, names, 1); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Closest(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestProtoName: every protocol number has a name, "ip/N" for those
// without one, and ParseProto reads each name back to its number.
func TestProtoName(t *testing.T) {
	for _, tc := range []struct {
		p    uint8
		name string
	}{{1, "icmp"}, {6, "tcp"}, {17, "udp"}, {58, "icmpv6"}, {112, "vrrp"}, {132, "sctp"}, {0, "ip/0"}, {99, "ip/99"}, {255, "ip/255"}} {
		if got := ProtoName(tc.p); got != tc.name {
			t.Errorf("ProtoName(%d) = %q, want %q", tc.p, got, tc.name)
		}
	}
	for p := range 256 {
		name := ProtoName(uint8(p))
		if back, err := ParseProto(name); err != nil || back != uint8(p) {
			t.Errorf("ParseProto(ProtoName(%d) = %q) = %d, %v", p, name, back, err)
		}
	}
}

// A catalog file that cannot be opened is named once, as every other
// catalog error is: "x.yaml: open: no such file or directory".
func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.yaml")
	_, err := Load(path)
	if err == nil {
		t.Fatal("no error")
	}
	if got, want := err.Error(), path+": open: no such file or directory"; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v is not fs.ErrNotExist", err)
	}
}

// TestReplacedBuiltin: a --catalog file named like a built-in one replaces
// it. Catalog.Replaced says so when the catalog loads; when the roles the
// built-in file defined are then unknown, the first error says why.
func TestReplacedBuiltin(t *testing.T) {
	dir := t.TempDir()
	site := filepath.Join(dir, "site-rules.yaml")
	named := filepath.Join(dir, "shared.yaml") // a team's shared rules, named like the built-in file
	body := "rules:\n  - {id: site-x, from: Any, to: DNS Server, protocols: [udp], ports: \"53\", description: x}\n"
	for _, p := range []string{site, named} {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Load(site)
	if err != nil || len(c.Replaced()) != 0 {
		t.Fatalf("a site file of its own name: %v, replaced %q", err, c.Replaced())
	}
	_, err = Load(named)
	var list ErrorList
	if !errors.As(err, &list) || len(list) < 2 {
		t.Fatalf("shared.yaml: err %v, want the errors its missing roles cause", err)
	}
	want := named + ": replaces the built-in catalog/data/shared.yaml (same file name): the built-in file's roles and rules are not loaded"
	if !strings.HasPrefix(list[0].Error(), want) {
		t.Errorf("first error %q, want %q", list[0], want)
	}
	// An edited copy of a built-in file loads, and says what it replaced.
	data, err := os.ReadFile("data/ras.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ras := filepath.Join(dir, "ras.yaml")
	if err := os.WriteFile(ras, data, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err = Load(ras)
	if err != nil || len(c.Replaced()) != 1 || !strings.HasPrefix(c.Replaced()[0], ras+": replaces the built-in catalog/data/ras.yaml") {
		t.Errorf("edited ras.yaml: %v, replaced %q", err, c.Replaced())
	}
}
