package main

import (
	"encoding/json"
	"os"
	"path/filepath"
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
		{"unknown product", []string{"catalog", "list", "--product", "vmware"}, 2, nil, []string{`unknown product "vmware"`}},
		{"unknown format", []string{"catalog", "list", "--format", "xml"}, 2, nil, []string{`unknown format "xml"`}},
		{"unknown flag", []string{"catalog", "list", "--bogus"}, 2, nil, []string{"unknown flag: --bogus"}},
		{"unknown subcommand", []string{"catalog", "lsit"}, 2, nil, []string{`"list"?)`}},
		{"lint good", []string{"catalog", "lint", good}, 0, []string{"ok: 1 files, 1 rules, 1 roles"}, nil},
		{"lint bad", []string{"catalog", "lint", bad}, 1, nil, []string{bad + `:3: unknown role "Storefront Sever" (did you mean "StoreFront Server"`, bad + ":6: bad ports"}},
		{"lint missing", []string{"catalog", "lint", filepath.Join(dir, "nope.yaml")}, 1, nil, []string{"no such file"}},
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
