package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Reports cite a rule's document as a person knows it (title, edition,
// section, row), and keep its file name apart.
func TestCitations(t *testing.T) {
	dir := t.TempDir()
	site := filepath.Join(dir, "site.yaml")
	// A site catalog citing a seed document by file, and one of its own.
	if err := os.WriteFile(site, []byte(`rules:
  - {id: s-seed, from: Parallels Client, to: RAS HALB, protocols: [tcp], ports: 8443,
     source: [{doc: 002_4a96bc54d1e1cace.txt, section: Parallels Client, row: 1}]}
  - {id: s-other, from: Parallels Client, to: RAS HALB, protocols: [tcp], ports: 8444,
     source: [{doc: our-wiki.txt, section: Ports, row: 3}]}
  - {id: s-site, from: Parallels Client, to: RAS HALB, protocols: [tcp], ports: 8445}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cat, err := Load(site)
	if err != nil {
		t.Fatal(err)
	}
	firstOf := func(file string) *Rule {
		for _, r := range cat.Rules() {
			if len(r.Sources) > 0 && r.Sources[0].Doc == file {
				return r
			}
		}
		return nil
	}
	tests := []struct {
		name   string
		rule   *Rule
		prefix string // of SourceText
		files  string // SourceFiles starts with it
	}{
		{"ras", cat.Rule("ras-client-client-halb-20009"), "Parallels RAS — firewall requirements (KB 129097) § Parallels Client, row 1", "002_4a96bc54d1e1cace.txt"},
		{"horizon", firstOf("000_6a36e64b00a984df.txt"), "Puertos TCP y UDP utilizados por Horizon 7 (blog post, 2019-07-17) § ", "000_6a36e64b00a984df.txt"},
		{"citrix en", firstOf("001_78128bcbdf871e6b.txt"), "Citrix Tech Paper: Communication Ports Used by Citrix Technologies (English, older edition) § ", "001_78128bcbdf871e6b.txt"},
		{"citrix ja", firstOf("003_749f51a489efcfcc.txt"), "Citrix Tech Paper: Communication Ports Used by Citrix Technologies (Japanese, newer edition) § ", "003_749f51a489efcfcc.txt"},
		{"lync", firstOf("004_dabd261b734b1851.txt"), "Lync Server 2013 — Puertos y protocolos para servidores internos (TechNet, updated 2016-04-06) § ", "004_dabd261b734b1851.txt"},
		{"site rule citing a seed", cat.Rule("s-seed"), "site rule " + site + ":2", site},
		{"site rule citing its own document", cat.Rule("s-other"), "site rule " + site + ":4", site},
		{"site rule", cat.Rule("s-site"), "site rule " + site + ":6", site},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.rule == nil {
				t.Fatal("no such rule")
			}
			if got := tt.rule.SourceText(); !strings.HasPrefix(got, tt.prefix) {
				t.Errorf("SourceText = %q, want it to start %q", got, tt.prefix)
			}
			if strings.Contains(tt.rule.SourceText(), ".txt") && !tt.rule.Site {
				t.Errorf("SourceText %q names a seed file", tt.rule.SourceText())
			}
			if got := tt.rule.SourceFiles(); !strings.HasPrefix(got, tt.files) {
				t.Errorf("SourceFiles = %q, want %q", got, tt.files)
			}
		})
	}
	// The sources themselves: a seed cited by file gets its citation; a
	// document the catalog does not describe is cited by its file name.
	for _, tt := range []struct {
		rule, want string
	}{
		{"s-seed", "Parallels RAS — firewall requirements (KB 129097) § Parallels Client, row 1"},
		{"s-other", "our-wiki.txt § Ports, row 3"},
	} {
		if got := cat.Rule(tt.rule).Sources[0].String(); got != tt.want {
			t.Errorf("%s: source %q, want %q", tt.rule, got, tt.want)
		}
	}
}
