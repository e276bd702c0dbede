package inventory

import (
	"flag"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/catalog"
)

// update is accepted so that `go test ./... -update`, which refreshes the
// golden files of other packages, runs here too; this package has none.
var _ = flag.Bool("update", false, "rewrite golden files (none in this package)")

func defaultCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParse(t *testing.T) {
	const doc = `
hosts:
  - name: dc01
    addresses: [192.0.2.10, "2001:db8::10"]
    roles: [domain controller, DNS Server]
  - name: lab
    addresses: [192.0.2.64/26]
    roles: [NTP Server]
  - name: lab-special
    addresses: [192.0.2.96/28]
    roles: [ntp-server]
`
	inv, err := Parse("inv.yaml", []byte(doc), defaultCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr string
		host string
	}{
		{"192.0.2.10", "dc01"},
		{"2001:db8::10", "dc01"},
		{"::ffff:192.0.2.10", "dc01"},
		{"192.0.2.70", "lab"},
		{"192.0.2.100", "lab-special"}, // the most specific block wins
		{"192.0.2.11", ""},
	}
	for _, tt := range tests {
		h := inv.Lookup(netip.MustParseAddr(tt.addr))
		got := ""
		if h != nil {
			got = h.Name
		}
		if got != tt.host {
			t.Errorf("Lookup(%s) = %q, want %q", tt.addr, got, tt.host)
		}
	}
	dc := inv.Host("DC01")
	if dc == nil || !reflect.DeepEqual(dc.RoleNames(), []string{"Domain Controller", "DNS Server"}) || dc.Line != 3 {
		t.Errorf("dc01 = %+v", dc)
	}
	if got := dc.AddressStrings(); !reflect.DeepEqual(got, []string{"192.0.2.10", "2001:db8::10"}) {
		t.Errorf("addresses = %v", got)
	}
}

func TestParseJSON(t *testing.T) {
	inv, err := Parse("inv.json", []byte(`{"hosts":[{"name":"ns","addresses":["198.51.100.53"],"roles":["DNS Server"]}]}`), defaultCatalog(t))
	if err != nil || inv.Lookup(netip.MustParseAddr("198.51.100.53")).Name != "ns" {
		t.Fatalf("JSON inventory: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"unknown role", "hosts:\n  - name: a\n    addresses: [192.0.2.1]\n    roles: [Domain Controler]\n",
			[]string{`inv.yaml:4: host "a": unknown role "Domain Controler" (did you mean "Domain Controller"`}},
		{"unknown field", "hosts:\n  - name: a\n    address: [192.0.2.1]\n", []string{`inv.yaml:3: unknown field "address" (did you mean "addresses"?)`}},
		{"bad address", "hosts:\n  - name: a\n    addresses: [192.0.2.300]\n    roles: [DNS Server]\n", []string{`inv.yaml:3: host "a": bad address "192.0.2.300"`}},
		{"host bits", "hosts:\n  - name: a\n    addresses: [192.0.2.1/24]\n    roles: [DNS Server]\n", []string{`did you mean 192.0.2.0/24?`}},
		{"mapped block taken", "hosts:\n  - {name: a, addresses: [192.0.2.0/24], roles: [DNS Server]}\n  - {name: b, addresses: [\"::ffff:192.0.2.0/120\"], roles: [DNS Server]}\n",
			[]string{`inv.yaml:3: host "b": address block 192.0.2.0/24 is already host "a"'s`}},
		{"duplicate address", "hosts:\n  - {name: a, addresses: [192.0.2.1], roles: [DNS Server]}\n  - {name: b, addresses: [192.0.2.1], roles: [DNS Server]}\n",
			[]string{`inv.yaml:3: host "b": address 192.0.2.1 is already host "a"'s`}},
		{"duplicate name", "hosts:\n  - {name: a, addresses: [192.0.2.1], roles: [DNS Server]}\n  - {name: A, addresses: [192.0.2.2], roles: [DNS Server]}\n",
			[]string{`inv.yaml:3: host "A": duplicate host name "A"`}},
		{"no roles", "hosts:\n  - {name: a, addresses: [192.0.2.1]}\n", []string{`inv.yaml:2: host "a" has no roles`}},
		{"no hosts", "host: []\n", []string{`inv.yaml:1: unknown field "host" (did you mean "hosts"?)`}},
		{"empty", "", []string{"inv.yaml: empty file"}},
		{"not yaml", "hosts: [\n", []string{"inv.yaml:"}},
		{"ambiguous role", "hosts:\n  - {name: dc01, addresses: [192.0.2.1], roles: [DNS Server]}\n  - name: dir01\n    addresses: [192.0.2.2]\n    roles: [Director]\n",
			[]string{`inv.yaml:5: host "dir01": role "Director" is ambiguous: Citrix Director (citrix), Lync Director (lync); write the full name or set products`}},
		{"ambiguous among the products", "products: [citrix, lync]\nhosts:\n  - {name: dir01, addresses: [192.0.2.2], roles: [Director]}\n",
			[]string{`inv.yaml:3: host "dir01": role "Director" is ambiguous`}},
		{"users are not a mail server", "hosts:\n  - {name: u, addresses: [192.0.2.2], roles: [Users]}\n", []string{`inv.yaml:2: host "u": unknown role "Users"`}},
		{"generic word", "hosts:\n  - {name: a, addresses: [192.0.2.2], roles: [API]}\n", []string{`inv.yaml:2: host "a": unknown role "API"`}},
		{"unknown product", "products: [lynk]\nhosts:\n  - {name: a, addresses: [192.0.2.2], roles: [DNS Server]}\n",
			[]string{`inv.yaml:1: products: unknown product "lynk" (did you mean "lync"?)`}},
		{"two errors", "hosts:\n  - {name: a, addresses: [x], roles: [DNS Server]}\n  - {name: b, addresses: [192.0.2.2], roles: [Nope Nope]}\n",
			[]string{`inv.yaml:2: host "a": bad address "x"`, `inv.yaml:3: host "b": unknown role "Nope Nope"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("inv.yaml", []byte(tt.doc), defaultCatalog(t))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

// TestProducts checks how the pilot's products decide a name several
// products share: the products: list, the products of the unambiguous
// roles, and the caller's products, which narrow.
func TestProducts(t *testing.T) {
	cat := defaultCatalog(t)
	tests := []struct {
		name     string
		doc      string
		products []string // the caller's (--product)
		role     string   // the role of host "dir01"
		want     []string // inv.Products
	}{
		{"products list", "products: [lync]\nhosts:\n  - {name: dir01, addresses: [192.0.2.2], roles: [Director]}\n", nil, "lync-director", []string{"lync"}},
		{"vendor name", "products: [Microsoft]\nhosts:\n  - {name: dir01, addresses: [192.0.2.2], roles: [Director]}\n", nil, "lync-director", []string{"lync"}},
		{"implied by a Lync role", "hosts:\n  - {name: fe01, addresses: [192.0.2.1], roles: [Front End Server]}\n  - {name: dir01, addresses: [192.0.2.2], roles: [Director]}\n", nil, "lync-director", []string{"lync"}},
		{"implied by a Citrix role", "hosts:\n  - {name: ddc, addresses: [192.0.2.1], roles: [Delivery Controller]}\n  - {name: dir01, addresses: [192.0.2.2], roles: [Director]}\n", nil, "citrix-director", []string{"citrix"}},
		{"caller narrows", "hosts:\n  - {name: ddc, addresses: [192.0.2.1], roles: [Delivery Controller]}\n  - {name: fe01, addresses: [192.0.2.3], roles: [Front End Server]}\n  - {name: dir01, addresses: [192.0.2.2], roles: [Director]}\n", []string{"lync"}, "lync-director", []string{"citrix", "lync"}},
		{"product alias in scope", "products: [citrix]\nhosts:\n  - {name: dir01, addresses: [192.0.2.2], roles: [Agent host]}\n", nil, "wem-agent", []string{"citrix"}},
		{"shared only", "hosts:\n  - {name: dir01, addresses: [192.0.2.2], roles: [NTP]}\n", nil, "ntp-server", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := ParseIn("inv.yaml", []byte(tt.doc), cat, tt.products)
			if err != nil {
				t.Fatal(err)
			}
			if got := inv.Host("dir01").Roles[0].Role.ID; got != tt.role {
				t.Errorf("dir01 plays %s, want %s", got, tt.role)
			}
			if !reflect.DeepEqual(inv.Products, tt.want) {
				t.Errorf("Products = %q, want %q", inv.Products, tt.want)
			}
		})
	}
}

// TestEnglishLyncNames: a Lync pilot written with Microsoft's English role
// names gives the hosts the roles of the one written with display names.
func TestEnglishLyncNames(t *testing.T) {
	cat := defaultCatalog(t)
	english, err := Load("../../testdata/samples/lync/inventory-english.yaml", cat)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Load("../../testdata/samples/lync/inventory.yaml", cat)
	if err != nil {
		t.Fatal(err)
	}
	if len(english.Hosts) != len(plain.Hosts) {
		t.Fatalf("%d hosts, want %d", len(english.Hosts), len(plain.Hosts))
	}
	for i, h := range english.Hosts {
		if got, want := h.RoleNames(), plain.Hosts[i].RoleNames(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: roles %q, want %q", h.Name, got, want)
		}
	}
	if !reflect.DeepEqual(english.Products, []string{"lync"}) {
		t.Errorf("Products = %q", english.Products)
	}
}

// FuzzParse: any bytes give an inventory or an error, never a panic, and
// an inventory without error only holds complete hosts.
func FuzzParse(f *testing.F) {
	f.Add([]byte("hosts:\n  - name: a\n    addresses: [192.0.2.1, 10.0.0.0/8]\n    roles: [DNS Server]\n"))
	f.Add([]byte(`{"hosts":[{"name":"a","addresses":["::1"],"roles":["ntp-server"]}]}`))
	f.Add([]byte("hosts:\n  - &a {name: x}\n  - *a\n"))
	f.Add([]byte("products: [skype, Citrix]\nhosts:\n  - {name: d, addresses: [192.0.2.1], roles: [Director]}\n"))
	f.Add([]byte("products: lync\nhosts: []\n"))
	cat, err := catalog.Default()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Parse("fuzz.yaml", data, cat)
		if err != nil {
			return
		}
		for _, h := range inv.Hosts {
			if h.Name == "" || len(h.Addresses) == 0 || len(h.Roles) == 0 {
				t.Fatalf("incomplete host accepted: %+v", h)
			}
		}
	})
}

// TestLookupBlocks: the most specific block holding an address wins,
// whatever the order the blocks were written in, for IPv4 and IPv6 alike,
// and an address of one family never falls in a block of the other.
func TestLookupBlocks(t *testing.T) {
	const doc = `
hosts:
  - {name: wide, addresses: [10.0.0.0/8, "2001:db8::/32"], roles: [NTP Server]}
  - {name: narrow, addresses: [10.1.2.0/24, "2001:db8:1::/48"], roles: [NTP Server]}
  - {name: middle, addresses: [10.1.0.0/16], roles: [NTP Server]}
  - {name: one, addresses: [10.1.2.3], roles: [NTP Server]}
  - {name: all4, addresses: [0.0.0.0/0], roles: [NTP Server]}
  - {name: mapped, addresses: ["::ffff:172.16.5.0/120"], roles: [NTP Server]}
`
	inv, err := Parse("inv.yaml", []byte(doc), defaultCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ addr, host string }{
		{"10.1.2.3", "one"},
		{"10.1.2.4", "narrow"},
		{"10.1.3.4", "middle"},
		{"10.2.3.4", "wide"},
		{"192.0.2.1", "all4"},
		{"::ffff:10.1.2.4", "narrow"},
		{"2001:db8:1::5", "narrow"},
		{"2001:db8:2::5", "wide"},
		{"2001:db9::1", ""},             // 0.0.0.0/0 is IPv4's
		{"172.16.5.9", "mapped"},        // ::ffff:172.16.5.0/120 is 172.16.5.0/24
		{"::ffff:172.16.5.9", "mapped"}, // looked up unmapped
	} {
		got := ""
		if h := inv.Lookup(netip.MustParseAddr(tt.addr)); h != nil {
			got = h.Name
		}
		if got != tt.host {
			t.Errorf("Lookup(%s) = %q, want %q", tt.addr, got, tt.host)
		}
	}
	if inv.Host("NARROW") == nil || inv.Host("nowhere") != nil {
		t.Error("Host: names are case-insensitive, unknown ones nil")
	}
}

// BenchmarkParseManyBlocks: an inventory of 20,000 CIDR blocks loads in
// time linear in its hosts (each Add once sorted every block before).
func BenchmarkParseManyBlocks(b *testing.B) {
	var doc strings.Builder
	doc.WriteString("hosts:\n")
	for i := range 20000 {
		fmt.Fprintf(&doc, "  - {name: h%d, addresses: [10.%d.%d.0/24], roles: [NTP Server]}\n", i, i>>8, i&255)
	}
	cat, err := catalog.Default()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("inv.yaml", []byte(doc.String()), cat); err != nil {
			b.Fatal(err)
		}
	}
}
