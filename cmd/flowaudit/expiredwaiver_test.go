package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestExpiredRuleWaiverCited: with several expired waivers of one rule
// and none in force, analyze (the missing rule's waiver) and rules (its
// expired_waivers) cite the same one, the last in the file; rules cited
// the first.
func TestExpiredRuleWaiverCited(t *testing.T) {
	const dir = "../../testdata/samples/ras/"
	w := filepath.Join(t.TempDir(), "waivers.yaml")
	os.WriteFile(w, []byte(`waivers:
  - rule: ras-client-client-sgn-3389
    reason: first
    ticket: T-FIRST
    expires: 2020-01-01
  - rule: ras-client-client-sgn-3389
    reason: second
    ticket: T-SECOND
    expires: 2021-01-01
`), 0o644)
	_, out, errs := runCmd(t, nil, "analyze", "-i", dir+"inventory.yaml", "--waivers", w, "-f", "json", dir+"pilot.pcapng")
	var rep struct {
		Missing []struct {
			Rule   string
			Waiver *struct{ Ticket string }
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, errs)
	}
	var analyzed []string
	for _, m := range rep.Missing {
		if m.Rule == "ras-client-client-sgn-3389" && m.Waiver != nil {
			analyzed = append(analyzed, m.Waiver.Ticket)
		}
	}
	code, out, errs := runCmd(t, nil, "rules", "-i", dir+"inventory.yaml", "--waivers", w, "--capture", dir+"pilot.pcapng", "-f", "json")
	if code != 0 {
		t.Fatalf("rules: exit %d: %s", code, errs)
	}
	var req struct {
		ExpiredWaivers []struct{ Rule, Ticket string } `json:"expired_waivers"`
	}
	if err := json.Unmarshal([]byte(out), &req); err != nil {
		t.Fatal(err)
	}
	if len(analyzed) == 0 || len(req.ExpiredWaivers) != 1 {
		t.Fatalf("analyze cites %v, rules %+v: want the missing rule's expired waiver in both", analyzed, req.ExpiredWaivers)
	}
	for _, a := range analyzed {
		if a != "T-SECOND" || req.ExpiredWaivers[0].Ticket != a {
			t.Errorf("analyze cites %s, rules %s: want T-SECOND in both", a, req.ExpiredWaivers[0].Ticket)
		}
	}
}
