package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNfdumpJSONUnclosed: an nfdump -o json file whose only defect is
// the array's missing closing bracket (nfdump stopped, or the file was
// copied while written) is cut short, as a file that ends inside a record
// is: a warning with the file and record, every record analysed (the same
// flows as the whole file), status cut-short, the exit code the findings'.
func TestNfdumpJSONUnclosed(t *testing.T) {
	t.Chdir(sampleRoot)
	p := samplePilots[0]
	dir := t.TempDir()
	whole := nfdumpJSON(sampleConnections(t, p.capture()))
	if !strings.HasSuffix(whole, "]\n") {
		t.Fatalf("the nfdump JSON does not end with its closing bracket: %q", whole[max(0, len(whole)-20):])
	}
	type rep struct {
		Flows    []map[string]any
		Captures []struct{ Status, Error string }
		Complete bool
	}
	run := func(name, data string) (int, rep, string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		args := p.args("json")
		args[len(args)-1] = path
		code, out, errs := analyzeCmd(t, args...)
		var r rep
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%s: exit %d: %v: %s", name, code, err, errs)
		}
		return code, r, errs
	}
	wholeCode, wholeRep, _ := run("whole.json", whole)
	if len(wholeRep.Captures) != 1 || wholeRep.Captures[0].Status != "complete" || len(wholeRep.Flows) == 0 {
		t.Fatalf("the whole file: %+v", wholeRep.Captures)
	}
	for _, tc := range []struct{ name, data string }{
		{"no closing bracket", strings.TrimSuffix(whole, "]\n") + "\n"},
		{"no closing bracket, no last newline", strings.TrimSuffix(whole, "]\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, r, errs := run("cut.json", tc.data)
			if code != wholeCode {
				t.Errorf("exit %d, the whole file's %d", code, wholeCode)
			}
			if !strings.Contains(errs, "flowaudit: warning: ") || !strings.Contains(errs, "before the array's closing bracket: cut short") {
				t.Errorf("stderr does not warn of the cut: %q", errs)
			}
			if len(r.Captures) != 1 || r.Captures[0].Status != "cut-short" || r.Complete {
				t.Errorf("captures %+v, complete %v: want cut-short", r.Captures, r.Complete)
			}
			for _, f := range append(r.Flows, wholeRep.Flows...) {
				delete(f, "first_file") // the files' paths
			}
			a, _ := json.Marshal(r.Flows)
			b, _ := json.Marshal(wholeRep.Flows)
			if len(r.Flows) != len(wholeRep.Flows) || string(a) != string(b) {
				t.Errorf("the flows differ from the whole file's:\n%s\n%s", a, b)
			}
		})
	}
}
