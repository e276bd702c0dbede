package catalog

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestEngineerNames checks that the names engineers type resolve to the
// role they mean, within the product scope they work in, and that a name
// several products share is an error naming every role it could be.
func TestEngineerNames(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	all, lync, citrix, ras := Scope{}, NewScope("lync"), NewScope("citrix"), NewScope("ras")
	tests := []struct {
		name  string
		scope Scope
		id    string // "" for an error
		mode  string
		err   string // substring of the error
	}{
		// Microsoft's English names, "Ports and protocols for internal
		// servers in Lync Server 2013", singular and plural.
		{"Front End Server", all, "lync-front-end", "", ""},
		{"Front End Servers", all, "lync-front-end", "", ""},
		{"Standard Edition Server", all, "lync-front-end", "", ""},
		{"Standard Edition Servers", all, "lync-front-end", "", ""},
		{"Directors", all, "lync-director", "", ""},
		{"Director", lync, "lync-director", "", ""},
		{"Mediation Server", all, "lync-mediation", "", ""},
		{"Mediation Servers", all, "lync-mediation", "", ""},
		{"Persistent Chat Front End Server", all, "lync-persistent-chat", "", ""},
		{"Persistent Chat Front End Servers", all, "lync-persistent-chat", "", ""},
		{"Office Web Apps Server", all, "lync-office-web-apps", "", ""},
		{"Office Web Apps Servers", all, "lync-office-web-apps", "", ""},
		{"Reverse Proxy", all, "lync-reverse-proxy", "", ""},
		{"Clients", all, "lync-client", "", ""},
		{"Lync clients", all, "lync-client", "", ""},
		{"Legacy clients (Communicator)", all, "lync-legacy-client", "", ""},
		{"All internal users", all, "lync-all-internal", "", ""},
		{"All servers", all, "lync-all-servers", "", ""},
		{"All internal servers", all, "lync-all-servers", "", ""},
		{"Front End pool hardware load balancer", all, "lync-fe-hlb", "", ""},
		{"Director pool hardware load balancer", all, "lync-director-hlb", "", ""},
		{"Mediation pool hardware load balancer", all, "lync-mediation-hlb", "", ""},
		{"front end  SERVER", all, "lync-front-end", "", ""},
		{"Front End Servers where the Central Management store resides", all, "lync-front-end", "cms", ""},
		{"Front End Servers that also run a collocated Mediation Server", all, "lync-front-end", "collocated-mediation", ""},
		{"Legacy clients", all, "lync-legacy-client", "", ""},
		{"Director", NewScope("skype"), "", "", "ambiguous"}, // NewScope takes canonical names: ParseProducts maps vendors
		// Missing aliases.
		{"NTP", all, "ntp-server", "", ""},
		{"Azure virtual machines", all, "avd-session-host", "", ""},
		// "Director" is Citrix's and Lync's: an error unless the product is known.
		{"Director", all, "", "", `role "Director" is ambiguous: Citrix Director (citrix), Lync Director (lync); write the full name or set products`},
		{"Director", citrix, "citrix-director", "", ""},
		{"Director", NewScope("horizon"), "", "", "is ambiguous"},
		{"Director", NewScope("citrix", "lync"), "", "", "is ambiguous"},
		{"Citrix Director", lync, "citrix-director", "", ""},
		{"Lync Director", citrix, "lync-director", "", ""},
		// The mail recipients of a Citrix row are no host.
		{"Users", all, "", "", `unknown role "Users"`},
		{"", all, "", "", `unknown role "": the role name is empty`},
		{"  ", all, "", "", `unknown role "  ": the role name is empty`},
		{"ユーザー", citrix, "", "", `unknown role "ユーザー"`},
		// Generic words are names only within their product.
		{"API", all, "", "", `unknown role "API"`},
		{"API", citrix, "nitro-api-client", "", ""},
		{"API", ras, "", "", "unknown role"},
		{"Clustering", all, "", "", "unknown role"},
		{"Clustering", citrix, "citrix-hypervisor", "clustered", ""},
		{"Administration console", all, "", "", "unknown role"},
		{"Administration console", citrix, "wem-administration-console", "", ""},
		{"Agent host", all, "", "", "unknown role"},
		{"Agent host", citrix, "wem-agent", "", ""},
		{"Monitoring service", all, "", "", "unknown role"},
		{"Monitoring service", citrix, "wem-monitoring-service", "", ""},
		{"Scale", all, "", "", "unknown role"},
		{"Scale", ras, "scale-computing", "", ""},
		{"Scale Computing", all, "scale-computing", "", ""},
		{"Agent", all, "", "", "unknown role"},
		{"Agent", citrix, "", "", "unknown role"},
		{"All Components", all, "", "", "unknown role"},
		{"All Components", ras, "ras-all-components", "", ""},
		// did you mean: names holding the typed words.
		{"Persistent Chat Server", all, "", "", `"Lync Persistent Chat Front End Server"?)`},
		{"Lync Front End Serverz", all, "", "", `did you mean "Lync Front End Server"`},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.scope.String(), func(t *testing.T) {
			r, mode, err := c.LookupRoleIn(tt.name, tt.scope)
			if tt.id == "" {
				if err == nil {
					t.Fatalf("LookupRoleIn(%q, %s) = %s, want an error %q", tt.name, tt.scope, r.ID, tt.err)
				}
				if !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("LookupRoleIn(%q, %s) error %q, want %q", tt.name, tt.scope, err, tt.err)
				}
				if strings.Contains(tt.err, "ambiguous") != errors.Is(err, ErrAmbiguousRole) {
					t.Errorf("errors.Is(%v, ErrAmbiguousRole) = %v", err, errors.Is(err, ErrAmbiguousRole))
				}
				return
			}
			if err != nil {
				t.Fatalf("LookupRoleIn(%q, %s): %v", tt.name, tt.scope, err)
			}
			if r.ID != tt.id || mode != tt.mode {
				t.Errorf("LookupRoleIn(%q, %s) = %s/%q, want %s/%q", tt.name, tt.scope, r.ID, mode, tt.id, tt.mode)
			}
		})
	}
}

// TestDisplayNamesUnique checks that no display name names two roles, in
// any scope.
func TestDisplayNamesUnique(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range c.Roles() {
		got, _, err := c.LookupRole(r.Name)
		if err != nil || got != r {
			t.Errorf("LookupRole(%q) = %v, %v; want role %s", r.Name, got, err, r.ID)
		}
	}
}

func TestClosestHoldsWords(t *testing.T) {
	names := []string{"Lync Front End Server", "Lync Persistent Chat Front End Server", "Front End Pool", "DNS Server"}
	got := Closest("front end server", names, 2)
	if want := []string{"Lync Front End Server", "Lync Persistent Chat Front End Server"}; !slices.Equal(got, want) {
		t.Errorf("Closest = %q, want %q", got, want)
	}
}

func TestParseProducts(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   []string
		want []string
		err  string
	}{
		{nil, nil, ""},
		{[]string{"horizon"}, []string{"horizon"}, ""},
		{[]string{"Horizon,CITRIX"}, []string{"citrix", "horizon"}, ""},
		{[]string{"lync", " ras , "}, []string{"lync", "ras"}, ""},
		{[]string{"vmware"}, []string{"horizon"}, ""},
		{[]string{"Parallels"}, []string{"ras"}, ""},
		{[]string{"skype", "microsoft", "lync"}, []string{"lync"}, ""},
		{[]string{"citrx"}, nil, `unknown product "citrx" (did you mean "citrix"?): want citrix, horizon, lync, ras (or a vendor: vmware, parallels, skype, microsoft)`},
		// --product "$UNSET" names no product: an error, not every product.
		{[]string{""}, nil, `no product in "": want citrix, horizon, lync, ras (or a vendor: vmware, parallels, skype, microsoft)`},
		{[]string{" , ", ""}, nil, `no product in " , ,"`},
	}
	for _, tt := range tests {
		got, err := c.ParseProducts(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseProducts(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseProducts(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestScope(t *testing.T) {
	s := NewScope("lync", "Citrix", "lync")
	if got := s.Products(); !slices.Equal(got, []string{"citrix", "lync"}) {
		t.Errorf("Products = %q", got)
	}
	for p, want := range map[string]bool{"lync": true, "citrix": true, "shared": true, "site": true, "horizon": false, "ras": false} {
		if s.Has(p) != want {
			t.Errorf("Has(%q) = %v", p, !want)
		}
	}
	if !(Scope{}).Has("horizon") || !(Scope{}).All() || s.All() {
		t.Error("the zero scope holds every product; a named one does not")
	}
	if !s.HasRule(&Rule{Product: "horizon", Site: true}) || s.HasRule(&Rule{Product: "horizon"}) {
		t.Error("site rules are always in scope, others by product")
	}
	if got := s.Union(NewScope("ras")).Products(); !slices.Equal(got, []string{"citrix", "lync", "ras"}) {
		t.Errorf("Union = %q", got)
	}
	if !s.Union(Scope{}).All() {
		t.Error("union with every product is every product")
	}
}

// TestSiteNames checks that a --catalog file's names resolve within the
// file to its own roles, leave the built-in files' names alone, and are
// listed as product site where they are ambiguous.
func TestSiteNames(t *testing.T) {
	p := writeTemp(t, "site.yaml", `roles:
  - {id: x, name: Site Director, aliases: [Director]}
rules:
  - {id: site-dir-icmp, from: Director, to: Any, protocols: [icmp], ports: none}
`)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Rule("site-dir-icmp")
	if r == nil || r.From.Role == nil || r.From.Role.ID != "x" || r.Product != SiteProduct || !r.Site {
		t.Fatalf("site rule = %+v, want from the site role, product site", r)
	}
	if r.SourceText() != "site rule "+p+":4" {
		t.Errorf("SourceText = %q", r.SourceText())
	}
	if rr := c.Rule("ctx-cvad-ddc-director-80-443"); rr == nil || rr.To.Role.ID != "citrix-director" {
		t.Errorf("built-in rule now goes to %s", rr.To.Role.ID)
	}
	_, _, err = c.LookupRole("Director")
	if want := "Citrix Director (citrix), Lync Director (lync), Site Director (site)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("LookupRole(Director) error %v, want %q", err, want)
	}
	// Site roles are always in scope: with lync, still two.
	if _, _, err = c.LookupRoleIn("Director", NewScope("lync")); !errors.Is(err, ErrAmbiguousRole) {
		t.Errorf("LookupRoleIn(Director, lync) error %v, want ambiguous", err)
	}
}
