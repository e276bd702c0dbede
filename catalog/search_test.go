package catalog

import (
	"errors"
	"testing"
)

// TestSearchPortOrder: port matches come exact port first, then narrow
// ranges, then wide or dynamic ones, and the ranks never go down.
func TestSearchPortOrder(t *testing.T) {
	cat, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"tcp/5061", "5061/tcp", "5061"} {
		rules, _, err := cat.Search(q, NewScope())
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if len(rules) == 0 {
			t.Fatalf("%s: no rule", q)
		}
		prev := 0
		for _, r := range rules {
			if got := portRank(r, 5061, true); got < prev {
				t.Errorf("%s: %s (rank %d) after a rule of rank %d", q, r.ID, got, prev)
			} else {
				prev = got
			}
		}
		if prev != 2 {
			t.Errorf("%s: no wide range matched (last rank %d)", q, prev)
		}
	}
}

func TestSearchQueries(t *testing.T) {
	cat, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q       string
		notPort bool
		want    string // a rule id the answer holds
	}{
		{q: "udp/4172", want: "hz-int-client-agent-4172"},
		{q: "4172/udp", want: "hz-int-client-agent-4172"},
		{q: " 4172 ", want: "hz-int-client-agent-4172"},
		{q: "PCoIP", want: "hz-int-client-agent-4172"},
		{q: "99999", notPort: true},
		{q: "udp/abc", notPort: true},
		{q: "VPN/CVAD"}, // a slash, no protocol: words
	} {
		rules, _, err := cat.Search(tc.q, NewScope())
		if tc.notPort {
			if !errors.Is(err, ErrNotPort) {
				t.Errorf("%q: error %v, want ErrNotPort", tc.q, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.q, err)
			continue
		}
		if tc.want == "" {
			continue
		}
		found := false
		for _, r := range rules {
			found = found || r.ID == tc.want
		}
		if !found {
			t.Errorf("%q: %s not among %d rules", tc.q, tc.want, len(rules))
		}
	}
}

// TestSearchProtoPortWords: "tcp 443" (two arguments) is the port query
// tcp/443, not the words tcp and 443 in descriptions, which found 12 of
// the 117 rules.
func TestSearchProtoPortWords(t *testing.T) {
	cat, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := cat.Search("tcp/443", NewScope())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"tcp 443", "443 tcp", " TCP  443 "} {
		got, _, err := cat.Search(q, NewScope())
		if err != nil || len(got) != len(want) {
			t.Errorf("%q: %d rules, %v; want the %d of tcp/443", q, len(got), err, len(want))
		}
	}
	if _, _, err := cat.Search("udp 99999", NewScope()); !errors.Is(err, ErrNotPort) {
		t.Errorf("udp 99999: %v, want ErrNotPort", err)
	}
	if got, _, _ := cat.Search("Connection Server", NewScope()); len(got) == 0 {
		t.Error("two words that are no port are still a role or words")
	}
}
