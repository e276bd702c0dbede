package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestCatalogListJSON(t *testing.T) {
	code, out, errOut := runCmd(t, nil, "catalog", "list", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Rules []map[string]any `json:"rules"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Rules) < 400 {
		t.Fatalf("only %d rules", len(doc.Rules))
	}
	for _, r := range doc.Rules {
		for _, f := range []string{"id", "product", "section", "from_role", "to_role", "protocols", "ports", "description", "source", "optional", "bidirectional"} {
			if _, ok := r[f]; !ok {
				t.Fatalf("rule %v lacks %q", r["id"], f)
			}
		}
	}
	byID := map[string]map[string]any{}
	for _, r := range doc.Rules {
		byID[r["id"].(string)] = r
	}
	// One rule of each product, checked field by field.
	pcoip := byID["hz-int-client-agent-4172"]
	if pcoip["from_role"] != "Horizon Client" || pcoip["to_role"] != "Horizon Agent" ||
		!jsonEq(pcoip["protocols"], `["tcp","udp"]`) || !jsonEq(pcoip["ports"], `[[4172,4172]]`) {
		t.Errorf("hz-int-client-agent-4172 = %v", pcoip)
	}
}

func jsonEq(v any, want string) bool {
	b, _ := json.Marshal(v)
	return string(b) == want
}

func TestCatalogCommands(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("roles:\n  - {id: my-app, name: My App, product: custom}\nrules:\n  - {id: my-app-dns, from: My App, to: DNS Server, protocols: [udp], ports: 53}\n"), 0o644)
	os.WriteFile(bad, []byte("rules:\n  - id: x\n    from: Storefront Sever\n    to: Any\n    protocols: [tcp]\n    ports: 99999\n"), 0o644)
	wide := filepath.Join(dir, "wide.yaml")
	os.WriteFile(wide, []byte("rules:\n  - {id: open, from: Any, to: Any, protocols: [tcp], ports: 443}\n  - {id: range, from: Any, to: DNS Server, protocols: [udp], ports: 1024-65535}\n  - {id: narrow, from: Any, to: DNS Server, protocols: [udp], ports: 5000-6023}\n"), 0o644)
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{"search port", []string{"catalog", "search", "--format", "csv", "4172"}, 0, []string{"hz-int-client-agent-4172,"}, nil},
		{"search proto/port", []string{"catalog", "search", "--format", "csv", "udp/1494"}, 0, []string{"Virtual Delivery Agent"}, nil},
		{"search role alias", []string{"catalog", "search", "--format", "csv", "Navegador Web"}, 0, []string{"8443"}, nil},
		{"search word", []string{"catalog", "search", "--format", "csv", "PCoIP"}, 0, []string{"hz-cs-agent-4172"}, nil},
		{"list product", []string{"catalog", "list", "--product", "ras", "--format", "csv"}, 0, []string{"ras-"}, nil},
		{"roles json", []string{"catalog", "roles", "--format", "json"}, 0, []string{`"id": "domain-controller"`, `"aliases"`}, nil},
		{"roles product aliases", []string{"catalog", "roles", "--format", "json"}, 0, []string{`"product_aliases": [
        "API"
      ],
      "alias_product": "citrix"`}, nil},
		{"roles csv product aliases", []string{"catalog", "roles", "--format", "csv"}, 0, []string{"Clustering (Clustered pool member) [citrix only]", "All Components [ras only]"}, nil},
		{"unknown product", []string{"catalog", "list", "--product", "vmwre"}, 2, nil, []string{`unknown product "vmwre"`}},
		{"unknown format", []string{"catalog", "list", "--format", "xml"}, 2, nil, []string{`unknown format "xml"`}},
		{"unknown flag", []string{"catalog", "list", "--bogus"}, 2, nil, []string{"unknown flag: --bogus"}},
		{"unknown subcommand", []string{"catalog", "lsit"}, 2, nil, []string{`"list"?)`}},
		{"lint good", []string{"catalog", "lint", good}, 0, []string{"ok: 1 files, 1 rules, 1 roles"}, nil},
		{"lint bad", []string{"catalog", "lint", bad}, 1, nil, []string{bad + `:3: unknown role "Storefront Sever" (did you mean "StoreFront Server"`, bad + ":6: bad ports"}},
		{"lint warnings", []string{"catalog", "lint", wide}, 0, []string{"ok: 1 files, 3 rules, 0 roles, 2 warnings"},
			[]string{wide + `:2: warning: rule "open": allows Any → Any`, wide + `:3: warning: rule "range": port range 1024-65535 is 64512 ports, wider than 1024`}},
		{"search vendor product", []string{"catalog", "search", "-f", "csv", "--product", "VMware", "4172"}, 0, []string{"hz-int-client-agent-4172,horizon"}, nil},
		{"search site rules in scope", []string{"catalog", "search", "-f", "csv", "--catalog", good, "--product", "lync", "udp/53"}, 0, []string{"my-app-dns,site"}, nil},
		{"search not a port", []string{"catalog", "search", "udp/abc"}, 2, nil, []string{`catalog search: "udp/abc" is not a port`}},
		{"search port too big", []string{"catalog", "search", "99999"}, 2, nil, []string{`"99999" is not a port: want 0-65535`}},
		// `catalog search "$UNSET"` is no query, not an empty answer.
		{"search empty query", []string{"catalog", "search", ""}, 2, nil, []string{"catalog search needs a QUERY"}},
		{"search blank query", []string{"catalog", "search", " ", "\t"}, 2, nil, []string{"catalog search needs a QUERY"}},
		{"search slash in a role name", []string{"catalog", "search", "-f", "csv", "VPN/CVAD"}, 0, []string{"VPN/CVAD"}, nil},
		{"search ambiguous role", []string{"catalog", "search", "-f", "csv", "Director"}, 0, nil, []string{`role "Director" is ambiguous`}},
		{"search ambiguous role in scope", []string{"catalog", "search", "-f", "csv", "--product", "lync", "Director"}, 0, []string{"lync-srv-dir-444"}, nil},
		{"lint missing", []string{"catalog", "lint", filepath.Join(dir, "nope.yaml")}, 1, nil, []string{"no such file"}},
		{"lint a directory", []string{"catalog", "lint", dir}, 1, nil, []string{dir + ": is a directory, not a file\n"}},
		{"list with user catalog", []string{"catalog", "list", "--catalog", good, "--format", "csv"}, 0, []string{"my-app-dns,site"}, nil},
		{"help", []string{"catalog", "--help"}, 0, []string{"Examples:"}, nil},
		{"unknown command", []string{"analyse"}, 2, nil, []string{`did you mean "analyze"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, nil, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %.500s\nstderr: %s", code, tt.code, out, errOut)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%.1000s", s, out)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
		})
	}
}

// csvIDs are the ids of a catalog CSV listing, in order.
func csvIDs(out string) []string {
	var ids []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		id, _, _ := strings.Cut(l, ",")
		ids = append(ids, id)
	}
	return ids
}

// TestCatalogSearchOrder: port matches list the rules of exactly that
// port first and wide ranges last; --product keeps its products' rules
// (and site rules), --all-products lists the others after them; words
// match whole words.
func TestCatalogSearchOrder(t *testing.T) {
	code, out, errOut := runCmd(t, nil, "catalog", "search", "-f", "csv", "tcp/5061")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	ids := csvIDs(out)
	rank := func(id string) int {
		for i, x := range ids {
			if x == id {
				return i
			}
		}
		t.Fatalf("%s not found in %v", id, ids)
		return -1
	}
	if exact, wide := rank("lync-srv-fe-5061"), rank("lync-cli-audio"); exact > wide {
		t.Errorf("exact port rule at %d after the 1024-65535 rule at %d", exact, wide)
	}
	// The ranks of the whole list: catalog.TestSearchPortOrder.
	// Scope: only Horizon's rules, then with --all-products the others after.
	_, out, _ = runCmd(t, nil, "catalog", "search", "-f", "csv", "--product", "horizon", "443")
	for _, id := range csvIDs(out) {
		if !strings.HasPrefix(id, "hz-") {
			t.Errorf("--product horizon lists %s", id)
		}
	}
	_, out, _ = runCmd(t, nil, "catalog", "search", "-f", "csv", "--product", "horizon", "--all-products", "443")
	ids = csvIDs(out)
	seenOther := false
	for _, id := range ids {
		if !strings.HasPrefix(id, "hz-") {
			seenOther = true
		} else if seenOther {
			t.Errorf("horizon rule %s after another product's", id)
		}
	}
	if !seenOther {
		t.Error("--all-products lists no other product")
	}
	// Words, not substrings: "ICA" is a word of the ICA rules, not of "application".
	_, out, _ = runCmd(t, nil, "catalog", "search", "-f", "csv", "ICA")
	ids = csvIDs(out)
	if len(ids) == 0 {
		t.Fatal("ICA finds nothing")
	}
	for _, l := range strings.Split(out, "\n")[1:] {
		if l != "" && !regexp.MustCompile(`(?i)(^|[^a-z0-9])ica([^a-z0-9]|$)`).MatchString(l) {
			t.Errorf("ICA matches a row without the word: %.200s", l)
		}
	}
}
