package firewall

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/firewall/firewalltest"
	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/catalog"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type fixture struct {
	cat     *catalog.Catalog
	inv     *inventory.Inventory
	waivers *audit.Waivers
	obs     []Observation
}

func svc(client, server string, proto uint8, port uint16, est, rej, unans int, frame uint64) audit.Service {
	c, s := netip.MustParseAddr(client), netip.MustParseAddr(server)
	return audit.Service{Client: c, Server: s, Proto: proto, Port: port, Connections: est + rej + unans, Established: est, Rejected: rej,
		Unanswered: unans, Packets: 10, Bytes: 1000, FirstSeen: t0.Add(time.Duration(frame) * time.Second), LastSeen: t0.Add(time.Hour),
		FirstFrame: audit.Frame{File: "captures/pilot.pcapng", Frame: frame}}
}

// load reads the test catalog, inventory and waivers, and audits a small
// pilot: every kind of evidence a request has to carry.
func load(t testing.TB) fixture {
	t.Helper()
	cat, err := catalog.Load("testdata/catalog.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load("testdata/inventory.yaml", cat)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := audit.LoadWaivers("testdata/waivers.yaml", inv, cat)
	if err != nil {
		t.Fatal(err)
	}
	services := []audit.Service{
		svc("198.51.100.7", "192.0.2.10", 6, 443, 2, 0, 0, 11),        // observed
		svc("2001:db8:1::5", "2001:db8::10", 6, 443, 1, 0, 0, 9),      // observed over IPv6, earlier
		svc("198.51.100.8", "192.0.2.11", 17, 3389, 0, 0, 3, 20),      // blocked
		svc("203.0.113.99", "192.0.2.10", 17, 53, 1, 0, 0, 30),        // Any source
		svc("192.0.2.10", "192.0.2.20", 6, 8080, 1, 0, 0, 40),         // reverse of a bidirectional rule
		svc("192.0.2.20", "224.0.0.18", 112, 0, 0, 0, 5, 50),          // VRRP to its group
		svc("198.51.100.9", "192.0.2.20", 6, 9000, 0, 1, 0, 60),       // blocked, waived by rule
		svc("198.51.100.9", "192.0.2.10", 6, 22, 1, 0, 0, 70),         // undocumented: never in a request
		svc("192.0.2.11", "169.254.169.254", 6, 80, 1, 0, 0, 80),      // metadata address
		svc("198.51.100.7", "192.0.2.10", 6, 1030, 1, 0, 0, 90),       // observed, one port of many
		svc("198.51.100.66", "192.0.2.11", 6, 1030, 0, 1, 0, 91),      // blocked on the other server
		svc("198.51.100.66", "192.0.2.11", 6, 8443, 0, 0, 2, 95),      // blocked, the block waived
		svc("198.51.100.21", "198.51.100.22", 17, 50042, 1, 0, 0, 99), // within one address block
		svc("203.0.113.5", "198.18.0.10", 6, 443, 1, 0, 0, 100),       // a cloud service, documented by its TLS name
	}
	// The UDP 3389 attempts were refused by a firewall in the path.
	services[2].ICMPErrors, services[2].ICMPFrom = 3, netip.MustParseAddr("192.0.2.1")
	services[2].ICMPType, services[2].ICMPCode, services[2].ICMPName = 3, 13, "communication administratively prohibited"
	services[len(services)-1].Names = []audit.Name{{Name: "api.example.com", Evidence: audit.EvidenceSNI, Connections: 1}}
	// srv02 refused port 1030 itself.
	services[10].RSTs, services[10].RSTTTL, services[10].ServerTTLMin, services[10].ServerTTLMax = 1, 128, 128, 128
	res := audit.Audit(services, inv, cat, audit.Options{Products: []string{"fwtest"}, Now: t0, Waivers: ws})
	return fixture{cat, inv, ws, Observations(res)}
}

func (f fixture) build(t testing.TB, opts Options) *Request {
	t.Helper()
	opts.Products = []string{"fwtest"}
	opts.Waivers = f.waivers
	opts.Now = t0
	if opts.Evidence {
		opts.Observations = f.obs
	}
	req, err := Build(f.cat, f.inv, opts)
	if err != nil {
		t.Fatal(err)
	}
	req.Version, req.Inventory = "test", "testdata/inventory.yaml"
	if opts.Evidence {
		req.Inputs = []string{"captures/pilot.pcapng"}
	}
	return req
}

// statuses maps "rule id (reverse)" to its status over every line.
func statuses(req *Request) map[string]Status {
	out := map[string]Status{}
	for _, l := range req.Lines {
		for _, j := range l.Why {
			k := j.Rule.ID
			if j.Reverse {
				k += " (reverse)"
			}
			if l.Dst.Kind == KindAddresses && j.Rule.To.Role != nil {
				k += " → " + l.Dst.Label
			}
			if s, ok := out[k]; !ok || statusRank[j.Status] < statusRank[s] {
				out[k] = j.Status
			}
		}
	}
	return out
}

func TestBuildStatuses(t *testing.T) {
	f := load(t)
	got := statuses(f.build(t, Options{Evidence: true, Only: OnlyAll}))
	want := map[string]Status{
		"fw-client-server-443":           Observed,
		"fw-client-server-444":           Missing,
		"fw-client-server-3389":          Blocked,
		"fw-client-server-many":          Observed,
		"fw-client-server-icmp":          Missing,
		"fw-any-server-53":               Observed,
		"fw-peer-server-8080":            Missing,
		"fw-peer-server-8080 (reverse)":  Observed,
		"fw-peer-peer-vrrp → 224.0.0.18": Observed,
		"fw-edge-cloud-443":              Observed,
		"fw-edge-update-443":             Missing,
		"fw-server-metadata-80":          Observed,
		"fw-client-client-p2p":           Observed,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: status %q, want %q", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected rule in the request: %s (%s)", k, got[k])
		}
	}
}

func TestBuildOnly(t *testing.T) {
	f := load(t)
	for _, tc := range []struct {
		only Only
		keep []Status
	}{
		{OnlyNeeded, []Status{Observed, Blocked}},
		{OnlyObserved, []Status{Observed}},
		{OnlyBlocked, []Status{Blocked}},
		{OnlyMissing, []Status{Missing}},
		{OnlyAll, []Status{Observed, Blocked, Missing}},
	} {
		t.Run(string(tc.only), func(t *testing.T) {
			req := f.build(t, Options{Evidence: true, Only: tc.only})
			seen := map[Status]bool{}
			for _, l := range req.Lines {
				for _, j := range l.Why {
					seen[j.Status] = true
					if !slices.Contains(tc.keep, j.Status) {
						t.Errorf("line %d keeps %s (%s)", l.N, j.Rule.ID, j.Status)
					}
				}
			}
			for _, s := range tc.keep {
				if !seen[s] {
					t.Errorf("no %s rule kept", s)
				}
			}
		})
	}
	// The default with evidence is needed; without, all (unchecked).
	if req := f.build(t, Options{Evidence: true}); req.Only != OnlyNeeded {
		t.Errorf("default with evidence: %s", req.Only)
	}
	req := f.build(t, Options{})
	if req.Only != OnlyAll {
		t.Errorf("default without evidence: %s", req.Only)
	}
	for _, l := range req.Lines {
		if len(l.Status) != 1 || l.Status[0] != Unchecked {
			t.Errorf("line %d without evidence: %v", l.N, l.Status)
		}
	}
	if _, err := Build(f.cat, f.inv, Options{Only: OnlyMissing}); err == nil {
		t.Error("--only missing without evidence: no error")
	}
	if _, err := Build(f.cat, f.inv, Options{GroupBy: "zone"}); err == nil {
		t.Error("--group-by zone: no error")
	}
}

func TestBuildAggregation(t *testing.T) {
	f := load(t)
	req := f.build(t, Options{Evidence: true, Only: OnlyAll})
	find := func(src, dst string, proto uint8) *Line {
		for _, l := range req.Lines {
			if l.Src.Name == src && l.Dst.Name == dst && l.Proto == proto {
				return l
			}
		}
		t.Fatalf("no line %s → %s proto %d", src, dst, proto)
		return nil
	}
	l := find("flowaudit_fw_client", "flowaudit_fw_server", 6)
	if got := l.PortsText(); got != "443-445, 1000, 1002, 1004, 1006, 1008, 1010, 1012, 1014, 1016, 1018, 1020, 1022, 1024, 1026, 1028, 1030-1031, 1040" {
		t.Errorf("client → server tcp ports %s", got)
	}
	if got := strings.Join(l.RuleIDs(), " "); got != "fw-client-server-443 fw-client-server-444 fw-client-server-many" {
		t.Errorf("rules %s", got)
	}
	if got := l.StatusText(); got != "observed+missing" {
		t.Errorf("status %s", got)
	}
	// Evidence: the earliest first frame, connections summed, who blocked.
	if e := l.Why[0].Evidence; e.Connections != 3 || e.FirstFrame != 9 || e.Services != 2 {
		t.Errorf("443 evidence %+v", e)
	}
	if e := find("flowaudit_fw_client", "flowaudit_fw_server", 17).Why[0]; e.Status != Blocked || len(e.Evidence.BlockedBy) != 1 ||
		!strings.HasPrefix(e.Evidence.BlockedBy[0], "ICMP 3/13 communication administratively prohibited from 192.0.2.1") {
		t.Errorf("3389 %s %+v", e.Status, e.Evidence)
	}
	if got := find("flowaudit_fw_client", "flowaudit_fw_server", 6).Src.AddressStrings(); strings.Join(got, " ") != "198.51.100.0/24 2001:db8:1::/64" {
		t.Errorf("client object %v", got)
	}
	find("any", "flowaudit_fw_server", 17)
	find("flowaudit_fw_peer", "flowaudit_net_224_0_0_18", 112)
	find("flowaudit_fw_edge", "flowaudit_fqdn_star_example_com", 6)
	find("flowaudit_fw_server", "flowaudit_net_169_254_169_254", 6)
	for _, l := range req.Lines {
		for _, id := range l.RuleIDs() {
			if id == "fw-server-loopback-8005" || id == "fw-client-nobody-1" || id == "fw-client-peer-9000" {
				t.Errorf("line %d has %s", l.N, id)
			}
		}
	}
	var waived []string
	for _, w := range req.Waived {
		waived = append(waived, w.Text())
	}
	wantWaived := []string{
		"fw-client-peer-9000 (ticket CHG-9000: not in the pilot's scope; blocked)",
		"fw-client-server-8443 (ticket CHG-8443: blocked, and a waiver accepts it: the admin port stays closed to users; blocked)",
	}
	if !slices.Equal(waived, wantWaived) {
		t.Errorf("waived\n got %q\nwant %q", waived, wantWaived)
	}
	// Per host: one object per host, a rule between two servers' roles
	// becomes a line per pair.
	hreq := f.build(t, Options{Evidence: true, Only: OnlyAll, GroupBy: GroupHost})
	var names []string
	for _, o := range hreq.Objects {
		names = append(names, o.Name)
	}
	want := "any flowaudit_fqdn_star_example_com flowaudit_fqdn_update_example_net flowaudit_host_clients flowaudit_host_edge01 flowaudit_host_peer01 flowaudit_host_peer02 flowaudit_host_srv01 flowaudit_host_srv02 flowaudit_net_169_254_169_254 flowaudit_net_224_0_0_18"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("per-host objects\n got %s\nwant %s", got, want)
	}
	selfLine := false
	for _, l := range hreq.Lines {
		if l.Src.Name == "flowaudit_host_clients" && l.Dst.Name == "flowaudit_host_clients" && l.StatusText() == "observed" {
			selfLine = true // the block "clients" is many machines
		}
		for _, id := range l.RuleIDs() {
			if id == "fw-edge-edge-7000" {
				t.Errorf("line %d: a rule between hosts of one role with one single-address host", l.N)
			}
		}
		if l.Src.Name == "flowaudit_host_clients" && l.Dst.Name == "flowaudit_host_srv02" && l.Proto == 6 {
			if got := l.StatusText(); got != "blocked+missing" {
				t.Errorf("clients → srv02 tcp: %s", got)
			}
		}
	}
	if !selfLine {
		t.Error("no line from the clients block to itself")
	}
}

func TestMergeRanges(t *testing.T) {
	type pr = catalog.PortRange
	r := func(lo, hi uint16) pr { return pr{Lo: lo, Hi: hi} }
	for _, tc := range []struct {
		in   []pr
		want string
	}{
		{[]pr{r(443, 443)}, "443"},
		{[]pr{r(443, 443), r(444, 445), r(80, 80)}, "80, 443-445"},
		{[]pr{r(1, 10), r(5, 20), r(22, 22)}, "1-20, 22"},
		{[]pr{r(5, 20), r(1, 10), r(21, 21)}, "1-21"},
		{[]pr{r(65535, 65535), r(0, 65534)}, "0-65535"},
		{[]pr{r(100, 200), r(150, 160)}, "100-200"},
		{nil, ""},
	} {
		in := append([]pr(nil), tc.in...)
		if got := catalog.FormatPorts(mergeRanges(tc.in)); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("mergeRanges changed its input: %v", tc.in)
		}
	}
}

func TestShorten(t *testing.T) {
	long := "flowaudit_" + slug("Lync Front End Server (Central Management Store) in the second pool of the site")
	a, b := shorten(long), shorten(long+"_2")
	if len(a) > MaxName-3 || len(b) > MaxName-3 || a == b || !strings.HasPrefix(a, "flowaudit_lync_front_end") {
		t.Errorf("shorten: %q (%d), %q (%d)", a, len(a), b, len(b))
	}
	if shorten(long) != a || shorten("flowaudit_x") != "flowaudit_x" {
		t.Error("shorten is not stable")
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Horizon Connection Server":        "horizon_connection_server",
		"RAS Secure Gateway (Normal mode)": "ras_secure_gateway_normal_mode",
		"  --  ":                           "x",
		"ユーザーデバイス":                         "x",
		"224.0.0.18":                       "224_0_0_18",
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}

// goldens are every syntax of the fixture's request with evidence, and
// a few variants.
func goldens(t *testing.T) map[string][]byte {
	f := load(t)
	out := map[string][]byte{}
	all := f.build(t, Options{Evidence: true, Only: OnlyAll})
	for _, format := range Formats {
		if format == "iptables" {
			var v4, v6 bytes.Buffer
			if err := all.IPTables(&v4, &v6); err != nil {
				t.Fatal(err)
			}
			out["request.v4"], out["request.v6"] = v4.Bytes(), v6.Bytes()
			continue
		}
		var b bytes.Buffer
		if err := all.Write(format, &b); err != nil {
			t.Fatal(err)
		}
		ext := format
		switch format {
		case "markdown":
			ext = "md"
		case "windows":
			ext = "ps1"
		}
		out["request."+ext] = b.Bytes()
	}
	var b bytes.Buffer
	if err := f.build(t, Options{Evidence: true, GroupBy: GroupHost}).NFT(&b); err != nil {
		t.Fatal(err)
	}
	out["needed-by-host.nft"] = b.Bytes()
	b = bytes.Buffer{}
	if err := f.build(t, Options{}).Markdown(&b); err != nil {
		t.Fatal(err)
	}
	out["unchecked.md"] = b.Bytes()
	return out
}

func TestGolden(t *testing.T) {
	a, b := goldens(t), goldens(t)
	for name, got := range a {
		t.Run(name, func(t *testing.T) {
			if !bytes.Equal(got, b[name]) {
				t.Fatal("two renderings differ: output is not deterministic")
			}
			golden := filepath.Join("testdata", name)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./analyzer/firewall -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file (go test ./analyzer/firewall -update after an intended change)\n%s", name, got)
			}
		})
	}
}

func TestRealToolsAcceptGoldens(t *testing.T) {
	for _, tc := range []struct{ file, tool string }{
		{"request.nft", "nft"},
		{"needed-by-host.nft", "nft"},
		{"request.v4", "iptables-restore"},
		{"request.v6", "ip6tables-restore"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			file := filepath.Join("testdata", tc.file)
			if tc.tool == "nft" {
				firewalltest.Check(t, "", "nft", "-c", "-f", file)
				return
			}
			// iptables-restore reads standard input; --test parses and
			// checks without committing.
			firewalltest.Check(t, file, tc.tool, "--test")
		})
	}
}

// TestFirstEvidence: the first service of a line's evidence is the one
// seen earliest whatever order the services come in: a known first_seen
// before none; at one time (or none) a service with its first_file before
// one without (a report of an older version), then by file, frame and
// uid. A first without a file still says its time.
func TestFirstEvidence(t *testing.T) {
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	type first struct {
		file  string
		frame uint64
		uid   string
		seen  time.Time
	}
	obs := func(f first) Observation {
		return Observation{Connections: 1, Established: 1, FirstFile: f.file, FirstFrame: f.frame, FirstUID: f.uid, FirstSeen: f.seen}
	}
	for _, tc := range []struct {
		name string
		obs  []first
		want first
		text string
	}{
		{"an older report's service seen first", []first{{seen: at(10)}, {file: "a.pcap", frame: 5, seen: at(20)}}, first{seen: at(10)}, ", first seen 2026-03-02T09:00:10.000000Z"},
		{"an older report's service seen later", []first{{seen: at(30)}, {file: "a.pcap", frame: 5, seen: at(20)}}, first{file: "a.pcap", frame: 5, seen: at(20)}, ", first frame a.pcap#5"},
		{"one time: the one with a file", []first{{seen: at(10)}, {file: "a.pcap", frame: 7, seen: at(10)}}, first{file: "a.pcap", frame: 7, seen: at(10)}, ", first frame a.pcap#7"},
		{"a time before none", []first{{file: "a.pcap", frame: 1}, {seen: at(50)}}, first{seen: at(50)}, ", first seen 2026-03-02T09:00:50.000000Z"},
		{"no times: by file and frame", []first{{}, {file: "b.pcap", frame: 3}, {file: "a.pcap", frame: 9}, {file: "a.pcap", frame: 12}}, first{file: "a.pcap", frame: 9}, ", first frame a.pcap#9"},
		{"one time: by file then uid", []first{{file: "b.log", uid: "C2", seen: at(1)}, {file: "a.log", uid: "C9", seen: at(1)}, {file: "a.log", uid: "C1", seen: at(1)}},
			first{file: "a.log", uid: "C1", seen: at(1)}, ", first seen 2026-03-02T09:00:01.000000Z in a.log (uid C1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Every order of the services gives the same first.
			var orders [][]first
			var permute func(done, rest []first)
			permute = func(done, rest []first) {
				if len(rest) == 0 {
					orders = append(orders, slices.Clone(done))
					return
				}
				for i := range rest {
					permute(append(done, rest[i]), slices.Concat(rest[:i], rest[i+1:]))
				}
			}
			permute(nil, tc.obs)
			for _, order := range orders {
				var e entry
				for _, f := range order {
					o := obs(f)
					e.add(&o)
				}
				got := first{e.ev.FirstFile, e.ev.FirstFrame, e.ev.FirstUID, e.ev.FirstSeen}
				if got != tc.want {
					t.Errorf("order %v: first %+v, want %+v", order, got, tc.want)
					continue
				}
				j := Justification{Status: Observed, Evidence: e.ev}
				if text := j.EvidenceText(); !strings.HasSuffix(text, tc.text) {
					t.Errorf("order %v: %q, want it to end %q", order, text, tc.text)
				}
			}
		})
	}
}
