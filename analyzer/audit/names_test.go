package audit

import (
	"slices"
	"strings"
	"testing"
)

func TestHostMatches(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"*.digicert.com", "ocsp.digicert.com", true},
		{"*.digicert.com", "a.b.digicert.com", true},
		{"*.digicert.com", "OCSP.DigiCert.com.", true},
		{"*.digicert.com", "digicert.com", false},
		{"*.digicert.com", "digicert.com.evil.example", false},
		{"*.digicert.com", "evildigicert.com", false},
		{"dl.cacerts.digicert.com", "dl.cacerts.digicert.com", true},
		{"dl.cacerts.digicert.com", "x.dl.cacerts.digicert.com", false},
		{"*xt.blob.core.windows.net", "accountxt.blob.core.windows.net", true},
		{"*xt.blob.core.windows.net", "xt.blob.core.windows.net", false},
		{"ras-?.example", "ras-1.example", true},
	}
	for _, c := range cases {
		if got := hostMatches(c.pattern, c.name); got != c.want {
			t.Errorf("hostMatches(%q, %q) = %v", c.pattern, c.name, got)
		}
	}
}

// named is a service of broker1 (T Broker) to an internet address on
// 443/tcp with the names given.
func named(names ...Name) Service {
	s := svc("192.0.2.10", "203.0.113.5", 6, 443, Established)
	s.Names = names
	return s
}

func TestLabelByName(t *testing.T) {
	cat, inv := fixture(t)
	tests := []struct {
		name     string
		s        Service
		dns      []string
		status   Status
		rules    []string
		evidence string
		hint     string
	}{
		{"sni", named(Name{"api.cloud.example", EvidenceSNI, 1}), nil, Documented, []string{"cloud"}, "sni", ""},
		{"http host", named(Name{"a.b.cloud.example", EvidenceHTTPHost, 2}), nil, Documented, []string{"cloud"}, "http-host", ""},
		{"dns", named(Name{"api.cloud.example", EvidenceDNS, 1}), nil, Documented, []string{"cloud"}, "dns", ""},
		{"dns to another client", named(Name{"api.cloud.example", EvidenceDNSOther, 1}), nil, Documented, []string{"cloud"}, "dns (other client)", ""},
		{"sni over dns", named(Name{"api.cloud.example", EvidenceDNS, 1}, Name{"evil.example", EvidenceSNI, 1}), nil, Undocumented, nil, "",
			"host name evil.example (sni) matches no host rule of 443/tcp for this client"},
		{"sni contradicts dns", named(Name{"evil.example", EvidenceSNI, 1}), []string{"api.cloud.example"}, Undocumented, nil, "",
			"sni evil.example contradicts DNS, which called 203.0.113.5 api.cloud.example: cloud (*.cloud.example) is not applied"},
		{"one of two snis off", named(Name{"api.cloud.example", EvidenceSNI, 1}, Name{"cloud.example.evil.example", EvidenceSNI, 1}), nil, Undocumented, nil, "",
			"host name cloud.example.evil.example (sni) matches no host rule of 443/tcp for this client"},
		{"suffix is not a subdomain", named(Name{"cloud.example", EvidenceSNI, 1}), nil, Undocumented, nil, "", "host name cloud.example (sni)"},
		{"wrong client role", func() Service {
			s := named(Name{"api.cloud.example", EvidenceSNI, 1})
			s.Client = inv.Hosts[0].Addresses[0].Addr() // client1, T Client
			return s
		}(), nil, Undocumented, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.s.DNSNames = tt.dns
			res := Audit([]Service{tt.s}, inv, cat, Options{Products: []string{"custom"}})
			f := res.Flows[0]
			var ids []string
			for _, r := range f.Rules {
				ids = append(ids, r.ID)
			}
			if f.Status != tt.status || !slices.Equal(ids, tt.rules) {
				t.Fatalf("status %s rules %v, want %s %v (hints %q)", f.Status, ids, tt.status, tt.rules, f.Hints)
			}
			if tt.evidence != "" && (len(f.NameMatches) != 1 || f.NameMatches[0].Evidence != tt.evidence || f.NameMatches[0].Rule != "cloud") {
				t.Errorf("name matches %+v", f.NameMatches)
			}
			if tt.hint != "" && (len(f.Hints) == 0 || !strings.HasPrefix(f.Hints[0], tt.hint)) {
				t.Errorf("hints %q, want first %q", f.Hints, tt.hint)
			}
		})
	}
}

// TestHostRuleCheckedByName: a host-pattern rule is unverifiable only while
// the capture held no name for its clients' traffic; with names it is
// expected, and seen once a name matched it.
func TestHostRuleCheckedByName(t *testing.T) {
	cat, inv := fixture(t)
	state := func(ss ...Service) string {
		res := Audit(ss, inv, cat, Options{Products: []string{"custom"}})
		for _, u := range res.Unverifiable {
			if u.Rule.ID == "cloud" {
				return "unverifiable"
			}
		}
		for _, m := range res.Missing {
			if m.Rule.ID == "cloud" {
				return "missing"
			}
		}
		return "seen"
	}
	plain := svc("192.0.2.10", "203.0.113.5", 6, 443, Established)
	other := named(Name{"www.example.org", EvidenceSNI, 1})
	seen := named(Name{"api.cloud.example", EvidenceDNS, 1})
	byClient := svc("192.0.2.1", "203.0.113.9", 6, 443, Established)
	byClient.Names = []Name{{"www.example.org", EvidenceSNI, 1}}
	for _, c := range []struct {
		name string
		ss   []Service
		want string
	}{
		{"no names", []Service{plain}, "unverifiable"},
		{"names of another role's traffic only", []Service{plain, byClient}, "unverifiable"},
		{"names, none matching", []Service{other}, "missing"},
		{"a matching name", []Service{plain, seen}, "seen"},
	} {
		if got := state(c.ss...); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
