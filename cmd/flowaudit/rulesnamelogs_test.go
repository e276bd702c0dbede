package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRulesNameLogInputs: the Zeek dns.log (or ssl.log, http.log) whose
// names documented flows of a conn.log is evidence of the change request
// as the conn.log is: rules lists it among its inputs with its SHA-256,
// from the logs and from analyze's report of them. It listed the conn.log
// alone.
func TestRulesNameLogInputs(t *testing.T) {
	const capture, inv = "../../testdata/names/cloud-connector.pcapng", "../../testdata/names/inventory.yaml"
	_, log, _ := runCmd(t, nil, "flows", "--format", "zeek", capture)
	dir := t.TempDir()
	conn, dns := filepath.Join(dir, "conn.log"), filepath.Join(dir, "dns.log")
	dnsLog := "#separator \\x09\n#path\tdns\n#fields\tts\tid.orig_h\tid.resp_p\tquery\tanswers\n" +
		"1746522000.5\t192.0.2.61\t53\tdl.cacerts.digicert.com\t203.0.113.80\n"
	os.WriteFile(conn, []byte(log), 0o644)
	os.WriteFile(dns, []byte(dnsLog), 0o644)
	sum := sha256.Sum256([]byte(dnsLog))

	code, out, errs := runCmd(t, nil, "rules", "-i", inv, "--capture", conn, "-f", "json")
	if code != 0 {
		t.Fatalf("rules: exit %d: %s", code, errs)
	}
	var req struct{ Inputs []string }
	if err := json.Unmarshal([]byte(out), &req); err != nil {
		t.Fatal(err)
	}
	want := dns + " (Zeek dns.log host names, SHA-256 " + hex.EncodeToString(sum[:]) + ")"
	if len(req.Inputs) != 2 || !strings.HasPrefix(req.Inputs[0], conn+" (") || req.Inputs[1] != want {
		t.Errorf("inputs %q, want the conn.log and %q", req.Inputs, want)
	}
	// Its names documented a flow: without the dns.log the request differs.
	if !strings.Contains(out, "ctx-cc-cc-digicert-80") {
		t.Errorf("the dns.log's name documented no flow: %s", out)
	}

	rep := filepath.Join(dir, "report.json")
	if code, _, errs := runCmd(t, nil, "analyze", "-i", inv, "-o", rep, conn); code == exitError {
		t.Fatalf("analyze: %s", errs)
	}
	code, out, errs = runCmd(t, nil, "rules", "-i", inv, "--from-report", rep, "-f", "json")
	if code != 0 {
		t.Fatalf("rules --from-report: exit %d: %s", code, errs)
	}
	req.Inputs = nil
	if err := json.Unmarshal([]byte(out), &req); err != nil {
		t.Fatal(err)
	}
	if want := rep + " (of " + conn + ", " + dns + ")"; len(req.Inputs) != 1 || req.Inputs[0] != want {
		t.Errorf("--from-report inputs %q, want %q", req.Inputs, want)
	}
}
