package report

import (
	"strings"
	"testing"
)

// TestRolesHeaderMACs: the header says whether the captures showed MACs,
// and how many were not kept.
func TestRolesHeaderMACs(t *testing.T) {
	for _, c := range []struct {
		rr   RoleProposals
		want string
		not  string
	}{
		{RoleProposals{}, "The captures show no source MACs: a dual-stack or multi-homed machine appears", "same source MAC"},
		{RoleProposals{MACs: true}, "Addresses that sent from the same source MAC, and only from it, are proposed as", "not kept"},
		{RoleProposals{MACs: true, MACsNotKept: 7}, "The source MACs of 7 connection sides were not kept (over 65536 addresses sent):\ntheir senders are tied to nothing.", "show no source MACs"},
	} {
		h := strings.Join(c.rr.header(), "\n")
		if !strings.Contains(h, c.want) || strings.Contains(h, c.not) {
			t.Errorf("header:\n%s\nwant %q, not %q", h, c.want, c.not)
		}
	}
}

// With no host, each format still writes a whole document: an empty
// inventory, empty JSON lists, a table that says 0 hosts.
func TestRoleProposalsEmpty(t *testing.T) {
	rr := &RoleProposals{MinScore: 0.25}
	tests := []struct {
		format string
		write  func(*strings.Builder) error
		want   []string
	}{
		{"yaml", func(b *strings.Builder) error { return rr.YAML(b) }, []string{"# A role is proposed from --min-score 0.25", "\nhosts: []\n"}},
		{"json", func(b *strings.Builder) error { return rr.JSON(b) }, []string{`"captures": []`, `"hosts": []`, `"min_score": 0.25`}},
		{"table", func(b *strings.Builder) error { return rr.Table(b, false) }, []string{"ADDRESS", "0 HOSTS, 0 WITH ROLES"}},
	}
	for _, tt := range tests {
		var b strings.Builder
		if err := tt.write(&b); err != nil {
			t.Fatalf("%s: %v", tt.format, err)
		}
		for _, w := range tt.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s lacks %q:\n%s", tt.format, w, b.String())
			}
		}
	}
}
