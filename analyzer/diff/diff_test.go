package diff

import (
	"strings"
	"testing"
)

func port(p uint16) *uint16 { return &p }

// svc is a service from client host c to server host s on tcp/p in a
// state: "est", "blk", "und", "waived", "expired" (undocumented, waiver
// expired).
func svc(c, s string, p uint16, state string, rules ...string) Service {
	out := Service{Client: "192.0.2." + c, Server: "192.0.2." + s, ClientHost: "h" + c, ServerHost: "h" + s, Proto: "tcp", Port: port(p),
		Status: "documented", Outcome: "established", Connections: 1, Rules: rules}
	switch state {
	case "blk":
		out.Blocked, out.Outcome = true, "unanswered"
	case "rej":
		out.Blocked, out.Outcome = true, "rejected"
	case "und":
		out.Status, out.Rules = "undocumented", nil
	case "waived":
		out.Status, out.Waiver = "waived", "CHG-1"
	case "expired":
		out.Status, out.Waiver, out.WaiverExpired = "undocumented", "CHG-2", true
	}
	return out
}

func TestCompareServices(t *testing.T) {
	tests := []struct {
		name           string
		before, after  []Service
		category       string // "" for unchanged
		reasonContains string
	}{
		{"blocked then established", []Service{svc("1", "2", 443, "blk", "r1")}, []Service{svc("1", "2", 443, "est", "r1")}, Fixed, "blocked before, established after"},
		{"undocumented then gone", []Service{svc("1", "2", 22, "und")}, nil, Fixed, "undocumented before, gone after"},
		{"established then blocked", []Service{svc("1", "2", 443, "est", "r1")}, []Service{svc("1", "2", 443, "rej", "r1")}, Regressed, "established before, blocked after"},
		{"new undocumented", nil, []Service{svc("1", "2", 22, "und")}, Regressed, "new undocumented service"},
		{"documented then undocumented", []Service{svc("1", "2", 443, "est", "r1")}, []Service{svc("1", "2", 443, "und")}, Regressed, "matching rules changed"},
		{"waiver expired", []Service{svc("1", "2", 22, "waived")}, []Service{svc("1", "2", 22, "expired")}, Regressed, "waiver CHG-2 expired"},
		{"still expired", []Service{svc("1", "2", 22, "expired")}, []Service{svc("1", "2", 22, "expired")}, Unresolved, "undocumented in both"},
		{"still blocked", []Service{svc("1", "2", 443, "blk", "r1")}, []Service{svc("1", "2", 443, "blk", "r1")}, Unresolved, "blocked in both"},
		{"blocked another way", []Service{svc("1", "2", 443, "blk", "r1")}, []Service{svc("1", "2", 443, "rej", "r1")}, Changed, "outcome unanswered before, rejected after"},
		{"other rules", []Service{svc("1", "2", 443, "est", "r1")}, []Service{svc("1", "2", 443, "est", "r2")}, Changed, "+r2 -r1"},
		{"only before", []Service{svc("1", "2", 443, "est", "r1")}, nil, Changed, "only before"},
		{"only after", nil, []Service{svc("1", "2", 443, "est", "r1")}, Changed, "only after"},
		{"undocumented then waived", []Service{svc("1", "2", 22, "und")}, []Service{svc("1", "2", 22, "waived")}, Changed, "(CHG-1)"},
		{"same", []Service{svc("1", "2", 443, "est", "r1")}, []Service{svc("1", "2", 443, "est", "r1")}, "", ""},
		{"other port is another service", []Service{svc("1", "2", 443, "est", "r1")}, []Service{svc("1", "2", 8443, "und")}, Regressed, "new undocumented"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Compare(&Report{Name: "b", Services: tc.before}, &Report{Name: "a", Services: tc.after})
			var got []Change
			for _, c := range r.Changes {
				if tc.name == "other port is another service" && c.Category == Changed {
					continue // the 443 service occurred only before
				}
				got = append(got, c)
			}
			if tc.category == "" {
				if len(got) != 0 || r.Unchanged != 1 {
					t.Fatalf("changes %+v, unchanged %d; want none and 1", got, r.Unchanged)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("%d changes %+v, want 1", len(got), got)
			}
			if got[0].Category != tc.category || !strings.Contains(got[0].Reason, tc.reasonContains) {
				t.Errorf("got %s %q, want %s containing %q", got[0].Category, got[0].Reason, tc.category, tc.reasonContains)
			}
		})
	}
}

func TestCompareMissing(t *testing.T) {
	miss := func(rule string, clients, servers []string) MissingRule {
		return MissingRule{Rule: rule, Proto: "tcp", Ports: "443", Clients: clients, Servers: servers}
	}
	tests := []struct {
		name          string
		before, after *Report
		want          []string // "category kind reason-substring"
		unchanged     int
	}{
		{"missing then established",
			&Report{Missing: []MissingRule{miss("r1", []string{"h1"}, []string{"h2"})}},
			&Report{Services: []Service{svc("1", "2", 443, "est", "r1")}},
			[]string{"fixed missing never seen before, established after: h1 (192.0.2.1) → h2 (192.0.2.2) 443/tcp"}, 0},
		{"missing for any client, then established",
			&Report{Missing: []MissingRule{miss("r1", nil, []string{"h2"})}},
			&Report{Services: []Service{svc("1", "2", 443, "est", "r1")}},
			[]string{"fixed missing never seen before"}, 0},
		{"missing then blocked",
			&Report{Missing: []MissingRule{miss("r1", []string{"h1"}, []string{"h2"})}},
			&Report{Services: []Service{svc("1", "2", 443, "blk", "r1")}},
			[]string{"changed missing never seen before, blocked after"}, 0},
		{"missing then seen between other hosts",
			&Report{Missing: []MissingRule{miss("r1", []string{"h1"}, []string{"h3"})}},
			&Report{Services: []Service{svc("1", "2", 443, "est", "r1")}},
			[]string{"changed service only after", "changed missing not expected after"}, 0},
		{"established then missing",
			&Report{Services: []Service{svc("1", "2", 443, "est", "r1")}},
			&Report{Missing: []MissingRule{miss("r1", []string{"h1"}, []string{"h2"})}},
			[]string{"regressed missing established before (h1 (192.0.2.1) → h2 (192.0.2.2) 443/tcp), never seen after"}, 0},
		{"optional: established then missing",
			&Report{Services: []Service{svc("1", "2", 443, "est", "r1")}},
			&Report{Missing: []MissingRule{{Rule: "r1", Proto: "tcp", Clients: []string{"h1"}, Servers: []string{"h2"}, Optional: true}}},
			[]string{"changed missing optional rule established before"}, 0},
		{"missing in both",
			&Report{Missing: []MissingRule{miss("r1", []string{"h1"}, []string{"h2"})}},
			&Report{Missing: []MissingRule{miss("r1", []string{"h1"}, []string{"h2"})}},
			[]string{"unresolved missing never seen in either"}, 0},
		{"optional missing in both is no finding",
			&Report{Missing: []MissingRule{{Rule: "r1", Proto: "tcp", Optional: true}}},
			&Report{Missing: []MissingRule{{Rule: "r1", Proto: "tcp", Optional: true}}},
			nil, 1},
		{"waiver expired",
			&Report{Missing: []MissingRule{{Rule: "r1", Proto: "tcp", Waived: true, Waiver: "CHG-3"}}},
			&Report{Missing: []MissingRule{{Rule: "r1", Proto: "tcp", WaiverExpired: true, Waiver: "CHG-3"}}},
			[]string{"regressed missing waiver CHG-3 expired"}, 0},
		{"host pair decides the match",
			&Report{Missing: []MissingRule{miss("r1", []string{"h1"}, []string{"h2"})}},
			&Report{Missing: []MissingRule{miss("r1", []string{"h1"}, []string{"h3"})}},
			[]string{"changed missing expected before, not expected after", "changed missing not expected before, missing after"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Compare(tc.before, tc.after)
			if len(r.Changes) != len(tc.want) || r.Unchanged != tc.unchanged {
				t.Fatalf("changes %+v, unchanged %d; want %d and %d", r.Changes, r.Unchanged, len(tc.want), tc.unchanged)
			}
			for i, w := range tc.want {
				c := r.Changes[i]
				parts := strings.SplitN(w, " ", 3)
				if c.Category != parts[0] || c.Kind != parts[1] || !strings.Contains(c.Reason, parts[2]) {
					t.Errorf("change %d: %s %s %q, want %q", i, c.Category, c.Kind, c.Reason, w)
				}
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	noisy := func(i Identity) Identity { i.IncludeNoise = true; return i }
	inferred := func(i Identity) Identity { i.InferRoles = true; return i }
	id := func(inv string, rules int, version string, capture string) Identity {
		i := Identity{Version: version, CatalogFiles: []string{"catalog/data/ras.yaml"}, Rules: rules,
			Captures: []File{{Path: capture, SHA256: capture + "sha"}}}
		if inv != "" {
			i.Inventory = &File{Path: "inventory.yaml", SHA256: inv}
		}
		return i
	}
	tests := []struct {
		name          string
		before, after Identity
		want          []string
	}{
		{"alike", id("aa", 10, "v1", "b"), id("aa", 10, "v1", "a"), nil},
		{"inventories", id("aa", 10, "v1", "b"), id("bb", 10, "v1", "a"), []string{"the inventories differ"}},
		{"one inventory", id("", 10, "v1", "b"), id("bb", 10, "v1", "a"), []string{"only one analysis used an inventory"}},
		{"catalogs", id("aa", 10, "v1", "b"), id("aa", 11, "v1", "a"), []string{"the catalogs differ (10 rules"}},
		{"versions", id("aa", 10, "v1", "b"), id("aa", 10, "v2", "a"), []string{"different flowaudit versions (v1, v2)"}},
		{"same capture", id("aa", 10, "v1", "x"), id("aa", 10, "v1", "x"), []string{"both analyses read the same capture"}},
		// Noise listed on one side only reads as fixed or new services.
		{"include-noise on one side", noisy(id("aa", 10, "v1", "b")), id("aa", 10, "v1", "a"), []string{"only one analysis listed link-local housekeeping as services (--include-noise)"}},
		{"include-noise on both", noisy(id("aa", 10, "v1", "b")), noisy(id("aa", 10, "v1", "a")), nil},
		{"infer-roles on one side", id("aa", 10, "v1", "b"), inferred(id("aa", 10, "v1", "a")), []string{"only one analysis inferred roles (--infer-roles)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Compare(&Report{Identity: tc.before}, &Report{Identity: tc.after}).Warnings
			if len(got) != len(tc.want) {
				t.Fatalf("warnings %q, want %d", got, len(tc.want))
			}
			for i := range got {
				if !strings.Contains(got[i], tc.want[i]) {
					t.Errorf("warning %q, want it to contain %q", got[i], tc.want[i])
				}
			}
		})
	}
}

// Changes come out in one order whatever the order of the inputs.
func TestCompareOrder(t *testing.T) {
	b := []Service{svc("1", "2", 443, "est", "r"), svc("1", "2", 80, "blk", "r"), svc("3", "2", 22, "und"), svc("1", "2", 8443, "est", "r")}
	a := []Service{svc("1", "2", 80, "est", "r"), svc("1", "2", 443, "blk", "r"), svc("4", "2", 22, "und")}
	first := Compare(&Report{Services: b}, &Report{Services: a})
	rev := func(s []Service) []Service {
		out := append([]Service(nil), s...)
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		return out
	}
	second := Compare(&Report{Services: rev(b)}, &Report{Services: rev(a)})
	var got, want []string
	for i := range first.Changes {
		want = append(want, first.Changes[i].Category+" "+first.Changes[i].ServiceName()+" "+first.Changes[i].Client)
		got = append(got, second.Changes[i].Category+" "+second.Changes[i].ServiceName()+" "+second.Changes[i].Client)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("order depends on the input:\n%s\n---\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
	// regressed first, then fixed, then changed; ports as numbers
	wantOrder := []string{"regressed 443/tcp h1 (192.0.2.1)", "regressed 22/tcp h4 (192.0.2.4)", "fixed 80/tcp h1 (192.0.2.1)",
		"fixed 22/tcp h3 (192.0.2.3)", "changed 8443/tcp h1 (192.0.2.1)"}
	if strings.Join(want, "\n") != strings.Join(wantOrder, "\n") {
		t.Errorf("order:\n%s\nwant:\n%s", strings.Join(want, "\n"), strings.Join(wantOrder, "\n"))
	}
}

func TestCompareSweeps(t *testing.T) {
	ports := func(client, server string) Sweep {
		return Sweep{Kind: "ports", Client: client, Server: server, Proto: "tcp", Ports: "1-1024", Servers: 1, Connections: 1024}
	}
	hosts := func(client, port string) Sweep {
		return Sweep{Kind: "hosts", Client: client, Proto: "tcp", Ports: port, Servers: 300, Connections: 300}
	}
	b := &Report{Sweeps: []Sweep{ports("192.0.2.9", "192.0.2.10"), hosts("192.0.2.9", "445"), hosts("192.0.2.8", "22")}}
	a := &Report{Sweeps: []Sweep{
		{Kind: "ports", Client: "192.0.2.9", Server: "192.0.2.10", Proto: "tcp", Ports: "1-65535", Servers: 1, Connections: 65535}, // the same scan, wider
		hosts("192.0.2.8", "22"), hosts("192.0.2.8", "3389")}}
	r := Compare(b, a)
	var got []string
	for _, c := range r.Changes {
		got = append(got, c.Category+" "+c.Kind+" "+c.Client+" "+c.Server+" "+c.ServiceName()+": "+c.Reason)
	}
	want := []string{
		"regressed sweep 192.0.2.8 300 servers tcp/3389: new sweep (hosts)",
		"fixed sweep 192.0.2.9 300 servers tcp/445: sweep before, gone after",
		"unresolved sweep 192.0.2.8 300 servers tcp/22: sweep in both",
		"unresolved sweep 192.0.2.9 192.0.2.10 tcp/1-65535: sweep in both",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestIncompleteWarning(t *testing.T) {
	r := Compare(&Report{}, &Report{Identity: Identity{Incomplete: []string{"after.pcap: cut short at offset 100, frame 2"}}})
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "the after analysis is incomplete (after.pcap: cut short at offset 100, frame 2)") {
		t.Errorf("warnings %q", r.Warnings)
	}
}

// TestCompareWaivedSweeps: a waived sweep is no finding: waived in both is
// unchanged, a sweep that became waived is a change, one whose waiver was
// removed or expired a regression, as for services.
func TestCompareWaivedSweeps(t *testing.T) {
	hosts := func(port string, waiver string, waived, expired bool) Sweep {
		return Sweep{Kind: "hosts", Client: "192.0.2.9", Proto: "tcp", Ports: port, Servers: 300, Connections: 300,
			Waiver: waiver, Waived: waived, WaiverExpired: expired}
	}
	b := &Report{Sweeps: []Sweep{
		hosts("22", "CHG-1", true, false),   // waived in both
		hosts("139", "", false, false),      // waived after
		hosts("445", "CHG-2", true, false),  // its waiver removed
		hosts("3389", "CHG-3", true, false), // its waiver expired
		hosts("5900", "CHG-4", true, false), // gone
	}}
	a := &Report{Sweeps: []Sweep{
		hosts("22", "CHG-1", true, false),
		hosts("139", "CHG-5", true, false),
		hosts("445", "", false, false),
		hosts("3389", "CHG-3", false, true),
		hosts("8080", "CHG-6", true, false), // new, waived
	}}
	r := Compare(b, a)
	var got []string
	for _, c := range r.Changes {
		got = append(got, c.Category+" "+c.ServiceName()+": "+c.Before.State+" → "+c.After.State+": "+c.Reason)
	}
	want := []string{
		"regressed tcp/3389: waived → sweep: waiver CHG-3 expired",
		"regressed tcp/445: waived → sweep: waived before, sweep after",
		"changed tcp/139: sweep → waived: sweep before, waived after (CHG-5)",
		"changed tcp/5900: waived → absent: only before: the waived sweep did not occur after",
		"changed tcp/8080: absent → waived: new sweep (hosts), waived (CHG-6)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r.Unchanged != 1 {
		t.Errorf("unchanged = %d, want 1 (tcp/22 waived in both)", r.Unchanged)
	}
}
