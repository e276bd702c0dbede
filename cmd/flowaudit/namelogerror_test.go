package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNameLogErrorIncomplete: a Zeek name log that stops at a bad line
// leaves the names after it unread, so the report is incomplete, as for
// a conn.log or capture damaged part-way: every format says so at its
// top (JSON complete false, the error in incomplete and name_log_errors),
// analyze exits 1, and so do diff and rules of the saved report, and
// rules from the logs with an INCOMPLETE warning. The report said
// "complete": true while stderr gave the error.
func TestNameLogErrorIncomplete(t *testing.T) {
	const capture, inv = "../../testdata/names/cloud-connector.pcapng", "../../testdata/names/inventory.yaml"
	_, log, _ := runCmd(t, nil, "flows", "--format", "zeek", capture)
	dir := t.TempDir()
	conn := filepath.Join(dir, "conn.log")
	os.WriteFile(conn, []byte(log), 0o644)
	os.WriteFile(filepath.Join(dir, "dns.log"), []byte("#separator \\x09\n#path\tdns\n#fields\tts\tid.orig_h\tid.resp_p\tquery\tanswers\n"+
		"1746522000.5\t192.0.2.61\t53\tdl.cacerts.digicert.com\t203.0.113.80\n"+
		"1746522000.6\t192.0.2\t53\tocsp.digicert.com\t203.0.113.81\n"), 0o644)
	const want = `dns.log:5: id.orig_h "192.0.2": not an address`

	code, out, errs := runCmd(t, nil, "analyze", "-i", inv, "-f", "json", conn)
	var rep struct {
		Complete      bool
		Incomplete    []string
		NameLogErrors []string `json:"name_log_errors"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, errs)
	}
	if code != exitError || rep.Complete || len(rep.Incomplete) != 1 || !strings.Contains(rep.Incomplete[0], want) ||
		len(rep.NameLogErrors) != 1 || !strings.HasSuffix(rep.NameLogErrors[0], want) {
		t.Errorf("exit %d, complete %v, incomplete %q, name_log_errors %q: want exit 1 and the report incomplete by %q", code, rep.Complete, rep.Incomplete, rep.NameLogErrors, want)
	}
	for _, format := range []string{"table", "markdown", "csv", "html", "dot"} {
		_, out, _ := runCmd(t, nil, "analyze", "-i", inv, "-f", format, conn)
		if !strings.Contains(strings.ToUpper(out), "INCOMPLETE REPORT") || !strings.Contains(out, "not an address") {
			t.Errorf("%s: no INCOMPLETE REPORT naming the dns.log's error", format)
		}
	}

	saved := filepath.Join(dir, "report.json")
	runCmd(t, nil, "analyze", "-i", inv, "-o", saved, conn)
	if code, _, errs := runCmd(t, nil, "diff", saved, saved); code != exitError || !strings.Contains(errs, want) {
		t.Errorf("diff of the saved report: exit %d: %s", code, errs)
	}
	if code, _, errs := runCmd(t, nil, "rules", "-i", inv, "--from-report", saved); code != exitError || !strings.Contains(errs, "incomplete") {
		t.Errorf("rules --from-report: exit %d: %s", code, errs)
	}
	code, out, errs = runCmd(t, nil, "rules", "-i", inv, "--capture", conn, "-f", "markdown")
	if code != exitError || !strings.Contains(out, "INCOMPLETE analysis") || !strings.Contains(out, "not an address") {
		t.Errorf("rules --capture: exit %d, %s", code, errs)
	}
}
