package audit

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/catalog"
)

// update is accepted so that `go test ./... -update`, which refreshes the
// golden files of other packages, runs here too; this package has none.
var _ = flag.Bool("update", false, "rewrite golden files (none in this package)")

// A small catalog of its own, so each labeling rule is tested against rules
// written for it. The built-in rules are filtered out with Products.
const testCatalog = `
roles:
  - {id: t-client, name: T Client, product: custom}
  - {id: t-broker, name: T Broker, product: custom}
  - {id: t-agent, name: T Agent, product: custom}
  - {id: t-halb, name: T HALB, product: custom}
  - {id: t-unused, name: T Unused, product: custom}
  - id: t-gw
    name: T Gateway
    product: custom
    modes:
      - {id: normal, name: Normal mode}
      - {id: forwarding, name: Forwarding mode}
  - {id: t-all, name: T All, product: custom, members: [t-broker, t-agent]}
rules:
  - {id: c-login, from: T Client, to: T Broker, protocols: [tcp], ports: 443}
  - {id: c-display, from: T Client, to: T Agent, protocols: [tcp, udp], ports: 4172}
  - {id: c-usb, from: T Client, to: T Agent, protocols: [tcp], ports: 32111, optional: true}
  - {id: b-agent, from: T Broker, to: T Agent, protocols: [tcp], ports: 80, bidirectional: true}
  - {id: any-dns, from: Any, to: T Broker, protocols: [udp], ports: 53}
  - {id: halb-vrrp, from: T HALB, to: T HALB, protocols: [vrrp], ports: none}
  - {id: gw-fwd, from: T Client, to: T Gateway (Forwarding mode), protocols: [tcp], ports: 20009}
  - {id: gw-plain, from: T Client, to: T Gateway, protocols: [tcp], ports: 3389}
  - {id: gw-n-443, from: T HALB, to: T Gateway (Normal mode), protocols: [tcp], ports: 443}
  - {id: gw-f-443, from: T HALB, to: T Gateway (Forwarding mode), protocols: [tcp], ports: 443}
  - {id: all-ntp, from: T All, to: T Client, protocols: [udp], ports: 123}
  - {id: meta, from: T Agent, to_address: [169.254.169.254], protocols: [tcp], ports: 80}
  - {id: local, from: T Agent, to_address: [127.0.0.0/8], protocols: [tcp], ports: 20020}
  - {id: cloud, from: T Broker, to_host: "*.cloud.example", protocols: [HTTPS], ports: 443}
  - {id: unused, from: T Unused, to: T Broker, protocols: [tcp], ports: 7000}
`

const testInventory = `
hosts:
  - {name: client1, addresses: [192.0.2.1], roles: [T Client]}
  - {name: broker1, addresses: [192.0.2.10], roles: [T Broker]}
  - {name: agent1, addresses: [192.0.2.20, "2001:db8::20"], roles: [T Agent]}
  - {name: halb1, addresses: [192.0.2.30], roles: [T HALB]}
  - {name: halb2, addresses: [192.0.2.31], roles: [T HALB]}
  - {name: gwn, addresses: [192.0.2.40], roles: [T Gateway (Normal mode)]}
  - {name: gw, addresses: [192.0.2.41], roles: [T Gateway]}
  - {name: gwf, addresses: [192.0.2.42], roles: [T Gateway (Forwarding mode)]}
`

func fixture(t testing.TB) (*catalog.Catalog, *inventory.Inventory) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "test-catalog.yaml")
	if err := os.WriteFile(p, []byte(testCatalog), 0o644); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Parse("inv.yaml", []byte(testInventory), cat)
	if err != nil {
		t.Fatal(err)
	}
	return cat, inv
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func svc(client, server string, proto uint8, port uint16, outcome Outcome) Service {
	s := Service{Client: netip.MustParseAddr(client), Server: netip.MustParseAddr(server), Proto: proto, Port: port,
		Connections: 1, Packets: 3, Bytes: 100, FirstSeen: t0, LastSeen: t0.Add(time.Second), FirstFrame: Frame{File: "a.pcap", Frame: 1}}
	switch outcome {
	case Established:
		s.Established = 1
	case Rejected:
		s.Rejected = 1
	default:
		s.Unanswered = 1
	}
	return s
}

func TestLabel(t *testing.T) {
	cat, inv := fixture(t)
	tests := []struct {
		name    string
		s       Service
		status  Status
		blocked bool
		rules   []string
		hints   []string
	}{
		{"documented", svc("192.0.2.1", "192.0.2.10", 6, 443, Established), Documented, false, []string{"c-login"}, nil},
		{"blocked by reset", svc("192.0.2.1", "192.0.2.10", 6, 443, Rejected), Documented, true, []string{"c-login"}, nil},
		{"blocked unanswered", svc("192.0.2.1", "192.0.2.20", 17, 4172, Unanswered), Documented, true, []string{"c-display"}, nil},
		{"ipv6 address of a host", svc("192.0.2.1", "2001:db8::20", 6, 4172, Established), Documented, false, []string{"c-display"}, nil},
		{"port for other roles", svc("192.0.2.20", "192.0.2.10", 6, 443, Established), Undocumented, false, nil,
			[]string{"443/tcp is documented for T Broker → *.cloud.example; T Client → T Broker"}},
		{"port for nobody", svc("192.0.2.1", "192.0.2.10", 6, 8443, Established), Undocumented, false, nil,
			[]string{"8443/tcp is not documented for any role", "closest rules between these roles: c-login (tcp/443)"}},
		{"no role", svc("198.51.100.7", "192.0.2.20", 17, 4172, Established), Undocumented, false, nil,
			[]string{"client 198.51.100.7 is not in the inventory, so it has no role", "4172/udp is documented for T Client → T Agent"}},
		{"any source", svc("198.51.100.7", "192.0.2.10", 17, 53, Established), Documented, false, []string{"any-dns"}, nil},
		{"multicast by sender role", svc("192.0.2.30", "224.0.0.18", 112, 0, Unanswered), Documented, false, []string{"halb-vrrp"}, nil},
		{"bidirectional reversed", svc("192.0.2.20", "192.0.2.10", 6, 80, Established), Documented, false, []string{"b-agent"}, nil},
		{"mode mismatch", svc("192.0.2.1", "192.0.2.40", 6, 20009, Established), Undocumented, false, nil, nil},
		{"plain rule, moded host", svc("192.0.2.1", "192.0.2.40", 6, 3389, Established), Documented, false, []string{"gw-plain"}, nil},
		{"plain host, moded rule", svc("192.0.2.1", "192.0.2.41", 6, 20009, Established), Documented, false, []string{"gw-fwd"}, nil},
		{"group source", svc("192.0.2.20", "192.0.2.1", 17, 123, Established), Documented, false, []string{"all-ntp"}, nil},
		{"destination address", svc("192.0.2.20", "169.254.169.254", 6, 80, Established), Documented, false, []string{"meta"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Audit([]Service{tt.s}, inv, cat, Options{Products: []string{"custom"}})
			if len(res.Flows) != 1 {
				t.Fatalf("flows = %d", len(res.Flows))
			}
			f := res.Flows[0]
			var ids []string
			for _, r := range f.Rules {
				ids = append(ids, r.ID)
			}
			if f.Status != tt.status || f.Blocked != tt.blocked || !reflect.DeepEqual(ids, tt.rules) {
				t.Errorf("status %s blocked %v rules %v; want %s %v %v (hints %q)", f.Status, f.Blocked, ids, tt.status, tt.blocked, tt.rules, f.Hints)
			}
			for _, h := range tt.hints {
				if !strings.Contains(strings.Join(f.Hints, "\n"), h) {
					t.Errorf("hints %q lack %q", f.Hints, h)
				}
			}
		})
	}
}

func TestOutcome(t *testing.T) {
	s := Service{Established: 1, Rejected: 3, Unanswered: 2}
	if s.Outcome() != Established {
		t.Error("established must win")
	}
	s.Established = 0
	if s.Outcome() != Rejected {
		t.Error("rejected beats unanswered")
	}
	s.Rejected = 0
	if s.Outcome() != Unanswered {
		t.Error("unanswered")
	}
}

func TestNoise(t *testing.T) {
	cat, inv := fixture(t)
	services := []Service{
		svc("fe80::1", "ff02::1", 58, 0, Unanswered),
		svc("fe80::1", "fe80::2", 58, 0, Established),
		svc("192.0.2.1", "224.0.0.252", 17, 5355, Unanswered),
		svc("192.0.2.1", "224.0.0.251", 17, 5353, Unanswered),
		svc("192.0.2.1", "192.0.2.10", 6, 443, Established),
	}
	res := Audit(services, inv, cat, Options{Products: []string{"custom"}})
	if len(res.Flows) != 1 {
		t.Errorf("flows = %d, want only the non-noise one", len(res.Flows))
	}
	want := []Noise{{"ipv6-neighbour-discovery", 2, 2, 6}, {"llmnr", 1, 1, 3}, {"mdns", 1, 1, 3}}
	if !reflect.DeepEqual(res.Noise, want) {
		t.Errorf("noise = %+v, want %+v", res.Noise, want)
	}
	res = Audit(services, inv, cat, Options{Products: []string{"custom"}, IncludeNoise: true})
	if len(res.Flows) != 5 || len(res.Noise) != 0 {
		t.Errorf("--include-noise: flows %d noise %d", len(res.Flows), len(res.Noise))
	}
}

func missingKeys(res *Result) []string {
	var out []string
	for _, m := range res.Missing {
		out = append(out, m.Rule.ID+"/"+catalog.ProtoName(m.Proto))
	}
	return out
}

func TestMissing(t *testing.T) {
	cat, inv := fixture(t)
	services := []Service{
		svc("192.0.2.1", "192.0.2.10", 6, 443, Established),  // c-login seen
		svc("192.0.2.1", "192.0.2.20", 6, 4172, Established), // c-display tcp seen, udp not
		svc("192.0.2.10", "192.0.2.20", 6, 80, Rejected),     // b-agent attempted: blocked, not missing
		svc("192.0.2.31", "224.0.0.18", 112, 0, Unanswered),  // VRRP from a HALB: attempted
	}
	res := Audit(services, inv, cat, Options{Products: []string{"custom"}})
	got := missingKeys(res)
	want := []string{"c-display/udp", "c-usb/tcp", "any-dns/udp", "gw-fwd/tcp", "gw-plain/tcp", "gw-n-443/tcp", "gw-f-443/tcp", "all-ntp/udp", "meta/tcp"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("missing = %v\nwant      %v", got, want)
	}
	for _, m := range res.Missing {
		if m.Rule.ID == "c-usb" && !m.Optional() {
			t.Error("c-usb is optional")
		}
		if m.Rule.ID == "gw-fwd" {
			var names []string
			for _, h := range m.Servers {
				names = append(names, h.Name)
			}
			// Only a gateway declared in forwarding mode is expected to
			// carry forwarding-mode flows; the plain one may, but need not.
			if !reflect.DeepEqual(names, []string{"gwf"}) {
				t.Errorf("gw-fwd servers = %v", names)
			}
		}
	}
	if res.Unobservable != 1 {
		t.Errorf("unobservable = %d, want 1 (the loopback rule)", res.Unobservable)
	}
	if len(res.Unverifiable) != 1 || res.Unverifiable[0].Rule.ID != "cloud" {
		t.Errorf("unverifiable = %+v", res.Unverifiable)
	}
	c := res.Counts()
	if c.Missing != 8 || c.MissingOptional != 1 || c.Blocked != 1 || c.Documented != 4 { // VRRP is documented, never blocked
		t.Errorf("counts = %+v", c)
	}
}

// TestModedExpectation checks that a host given a plain role is expected
// to carry a moded rule when every mode of the role documents the same
// flow (HALB to gateway 443 in Normal and in Forwarding mode), once, and
// not when only some modes do (20009 in Forwarding mode only).
func TestModedExpectation(t *testing.T) {
	cat, inv := fixture(t)
	servers := func(res *Result, id string) []string {
		for _, m := range res.Missing {
			if m.Rule.ID == id {
				var names []string
				for _, h := range m.Servers {
					names = append(names, h.Name)
				}
				return names
			}
		}
		return nil
	}
	tests := []struct {
		name     string
		services []Service
		id       string
		want     []string
	}{
		{"never seen: the first mode's rule expects the plain gateway", nil, "gw-n-443", []string{"gwn", "gw"}},
		{"never seen: the other mode's rule does not repeat it", nil, "gw-f-443", []string{"gwf"}},
		{"one mode only: plain gateway not expected", nil, "gw-fwd", []string{"gwf"}},
		{"seen to the plain gateway: attempted", []Service{svc("192.0.2.30", "192.0.2.41", 6, 443, Established)}, "gw-n-443", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Audit(tt.services, inv, cat, Options{Products: []string{"custom"}})
			if got := servers(res, tt.id); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s servers = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

// TestModedExpectationRAS: the case on the built-in catalog. A
// gateway given the plain role RAS Secure Gateway is expected to get HALB
// → gateway 80/443 (documented for Normal and Forwarding mode alike), not
// 20009 (Normal mode only).
func TestModedExpectationRAS(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Parse("inv.yaml", []byte(`hosts:
  - {name: halb01, addresses: [192.0.2.31], roles: [RAS HALB]}
  - {name: sg01, addresses: [192.0.2.45], roles: [RAS Secure Gateway]}
`), cat)
	if err != nil {
		t.Fatal(err)
	}
	res := Audit(nil, inv, cat, Options{Products: []string{"ras"}})
	got := map[string][]string{}
	for _, m := range res.Missing {
		for _, h := range m.Servers {
			if h.Name == "sg01" {
				got[m.Rule.ID] = append(got[m.Rule.ID], catalog.ProtoName(m.Proto))
			}
		}
	}
	if want := []string{"tcp", "udp"}; !reflect.DeepEqual(got["ras-halb-halb-sgn-80-443"], want) {
		t.Errorf("ras-halb-halb-sgn-80-443 for sg01: %v, want %v (all never seen: %v)", got["ras-halb-halb-sgn-80-443"], want, got)
	}
	for _, id := range []string{"ras-halb-halb-sgf-80-443", "ras-halb-halb-sgn-20009"} {
		if got[id] != nil {
			t.Errorf("%s expected of the plain gateway: %v", id, got[id])
		}
	}
}

func TestWaivers(t *testing.T) {
	cat, inv := fixture(t)
	const doc = `
waivers:
  - {client: client1, server: 192.0.2.10, proto: tcp, port: 8443, reason: admin portal, ticket: CHG-1}
  - {client: T Agent, port: 9000-9100, reason: agent callback, ticket: CHG-2, expires: 2026-11-01}
  - {rule: c-usb, reason: no USB in the pilot, ticket: CHG-3}
  - {server: 10.0.0.0/8, reason: never used, ticket: CHG-4}
`
	ws, err := ParseWaivers("waivers.yaml", []byte(doc), inv, cat)
	if err != nil {
		t.Fatal(err)
	}
	services := []Service{
		svc("192.0.2.1", "192.0.2.10", 6, 8443, Established),
		svc("192.0.2.20", "192.0.2.10", 6, 9050, Established),
	}
	res := Audit(services, inv, cat, Options{Products: []string{"custom"}, Waivers: ws, Now: t0})
	byPort := map[uint16]*Flow{}
	for _, f := range res.Flows {
		byPort[f.Port] = f
	}
	if f := byPort[8443]; f.Status != Waived || f.Waiver.Ticket != "CHG-1" {
		t.Errorf("8443: %s %+v", f.Status, f.Waiver)
	}
	if f := byPort[9050]; f.Status != Undocumented || !f.WaiverExpired || f.Waiver.Ticket != "CHG-2" {
		t.Errorf("9050 with an expired waiver: %s expired=%v", f.Status, f.WaiverExpired)
	}
	for _, m := range res.Missing {
		if m.Rule.ID == "c-usb" && (m.Waiver == nil || m.WaiverExpired) {
			t.Errorf("c-usb waiver not applied: %+v", m)
		}
	}
	if len(res.UnusedWaivers) != 1 || res.UnusedWaivers[0].Ticket != "CHG-4" {
		t.Errorf("unused waivers = %+v", res.UnusedWaivers)
	}
	c := res.Counts()
	if c.Waived != 2 || c.ExpiredWaivers != 1 || c.Undocumented != 1 {
		t.Errorf("counts = %+v", c)
	}
}

func TestWaiverErrors(t *testing.T) {
	cat, inv := fixture(t)
	tests := []struct{ doc, want string }{
		{"waivers:\n  - {client: client1, reason: r}\n", "w.yaml:2: a waiver needs a reason and a ticket"},
		{"waivers:\n  - {client: clinet1, reason: r, ticket: t}\n", `w.yaml:2: client: "clinet1" is not an address, an inventory host or a role (did you mean "client1"?)`},
		{"waivers:\n  - {rule: c-logn, reason: r, ticket: t}\n", `w.yaml:2: unknown rule "c-logn" (did you mean "c-login"?)`},
		{"waivers:\n  - {port: 80, reason: r, ticket: t, expires: tomorrow}\n", `w.yaml:2: expires "tomorrow"`},
		{"waivers:\n  - {reason: r, ticket: t}\n", "w.yaml:2: a waiver must name a rule"},
		{"waivers:\n  - {port: 80, reason: r, ticket: t, why: x}\n", `w.yaml:2: unknown field "why"`},
		{"waivers:\n  - {proto: tcpp, reason: r, ticket: t}\n", `w.yaml:2: unknown protocol "tcpp"`},
		// A port on a protocol without ports matches nothing: the
		// waiver would be listed unused, its finding standing.
		{"waivers:\n  - reason: r\n    ticket: t\n    proto: icmp\n    port: 8\n", `w.yaml:5: port 8: icmp has no ports; leave port out`},
		{"waivers:\n  - {proto: vrrp, port: 112, reason: r, ticket: t}\n", `w.yaml:2: port 112: vrrp has no ports`},
		{"waivers:\n  - reason: r\n    ticket: t\n    client: 192.0.2.1/24\n",
			`w.yaml:4: client: address block "192.0.2.1/24" has host bits set (did you mean 192.0.2.0/24?)`},
		{"waivers:\n  - {server: '2001:db8::1/64', reason: r, ticket: t}\n",
			`w.yaml:2: server: address block "2001:db8::1/64" has host bits set (did you mean 2001:db8::/64?)`},
		{"waivers:\n  - reason: r\n    ticket: t\n    port: [80,\n", "w.yaml:4: did not find expected node content at the end of the file"},
		{"waivers:\n  - {client: Director, reason: r, ticket: t}\n",
			`w.yaml:2: client: role "Director" is ambiguous: Citrix Director (citrix), Lync Director (lync); write the full name or set products`},
	}
	for _, tt := range tests {
		_, err := ParseWaivers("w.yaml", []byte(tt.doc), inv, cat)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseWaivers(%q) = %v, want %q", tt.doc, err, tt.want)
		}
	}
}

// TestWaiverScope: a role name in a waiver resolves within the pilot's
// products, as in the inventory.
func TestWaiverScope(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Parse("inv.yaml", []byte("hosts:\n  - {name: fe01, addresses: [192.0.2.1], roles: [Front End Server]}\n"), cat)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := ParseWaivers("w.yaml", []byte("waivers:\n  - {client: Director, port: 443, reason: r, ticket: t}\n"), inv, cat)
	if err != nil {
		t.Fatal(err)
	}
	if got := ws.List[0].client.role.Role.ID; got != "lync-director" {
		t.Errorf("waiver client role %s, want lync-director", got)
	}
}

// A waiver file is read whole or refused: one over the size limit is an
// error naming it, never cut short.
func TestLoadWaiversFiles(t *testing.T) {
	cat, inv := fixture(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	doc := "waivers:\n  - {port: 80, reason: r, ticket: t}\n"
	if err := os.WriteFile(good, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(doc+strings.Repeat("#", 16<<20)), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{good, ""},
		{big, big + ": larger than 16 MiB"},
		{filepath.Join(dir, "none.yaml"), "no such file or directory"},
	}
	for _, tt := range tests {
		ws, err := LoadWaivers(tt.path, inv, cat)
		switch {
		case tt.want == "" && (err != nil || len(ws.List) != 1):
			t.Errorf("LoadWaivers(%s) = %v, %v", tt.path, ws, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("LoadWaivers(%s) = %v, want %q", tt.path, err, tt.want)
		}
	}
}

// TestLabelAllCores: services labelled on every core (labelAll, past
// labelChunk) give the flows one core labelling them in turn gives: every
// kind of the TestLabel cases, repeated over many clients and ports,
// noise among them.
func TestLabelAllCores(t *testing.T) {
	cat, inv := fixture(t)
	servers := []string{"192.0.2.10", "192.0.2.20", "2001:db8::20", "192.0.2.40", "192.0.2.41", "224.0.0.18", "169.254.169.254", "198.51.100.99"}
	clients := []string{"192.0.2.1", "192.0.2.20", "192.0.2.30", "198.51.100.7"}
	ports := []uint16{443, 4172, 8443, 53, 80, 3389, 20009, 123, 0, 5353}
	var services []Service
	for i := 0; len(services) < 5*labelChunk; i++ {
		s := svc(clients[i%len(clients)], servers[i/3%len(servers)], []uint8{6, 17, 112}[i%3], ports[i/7%len(ports)], []Outcome{Established, Rejected, Unanswered}[i/11%3])
		s.Port += uint16(i / 2000) // more ports than the cases: the caches fill
		services = append(services, s)
	}
	opts := Options{Products: []string{"custom"}, Now: t0}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4)) // four runs of labels, whatever the machine
	all := Audit(services, inv, cat, opts)
	oneWorker := opts
	oneWorker.Workers = 1 // every core, one worker: as while a digest runs
	worker := Audit(services, inv, cat, oneWorker)
	runtime.GOMAXPROCS(1)
	one := Audit(services, inv, cat, opts)
	if !reflect.DeepEqual(worker, one) {
		t.Errorf("Workers 1 differs from one core")
	}
	if len(one.Flows) < 4*labelChunk || len(one.Noise) == 0 {
		t.Fatalf("%d flows, %d noise: the test needs more of both", len(one.Flows), len(one.Noise))
	}
	if !reflect.DeepEqual(all, one) {
		for i := range one.Flows {
			if i >= len(all.Flows) || !reflect.DeepEqual(all.Flows[i], one.Flows[i]) {
				t.Fatalf("flow %d on every core:\n%+v\non one:\n%+v", i, all.Flows[i], one.Flows[i])
			}
		}
		t.Fatalf("results differ:\n%+v\n%+v", all, one)
	}
}

// TestWaiverMappedBlock: an IPv4-mapped block in a waiver
// (::ffff:192.0.2.0/120) waives the IPv4 addresses it names, as the
// inventory reads it; it matched nothing before.
func TestWaiverMappedBlock(t *testing.T) {
	cat, inv := fixture(t)
	ws, err := ParseWaivers("w.yaml", []byte("waivers:\n  - {server: \"::ffff:192.0.2.0/120\", proto: tcp, port: 8443, reason: r, ticket: CHG-9}\n"), inv, cat)
	if err != nil {
		t.Fatal(err)
	}
	res := Audit([]Service{svc("192.0.2.1", "192.0.2.10", 6, 8443, Established)}, inv, cat, Options{Products: []string{"custom"}, Waivers: ws, Now: t0})
	if len(res.Flows) != 1 || res.Flows[0].Status != Waived {
		t.Errorf("flows %+v, want the service waived", res.Flows)
	}
}
