package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/report"
)

// TestZeekNameLogsAreInputs: the ssl.log and http.log that named the
// conn.log's connections change findings, so the report cites each with
// the SHA-256 of its bytes (compressed as stored) in the JSON name_logs and
// the Inputs table, in the order read, and --evidence copies them under
// inputs/ with SHA256SUMS; the same inputs give the same bytes.
func TestZeekNameLogsAreInputs(t *testing.T) {
	t.Chdir(sampleRoot)
	const capture = "testdata/names/cloud-connector.pcapng"
	conn, ssl, http := writeZeekLogs(t, capture, t.TempDir(), true)
	other := t.TempDir()
	_, ssl2, _ := writeZeekLogs(t, capture, other, false)
	// A second ssl.log given as an input comes first (given, then beside).
	sum := func(p string) string {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(data)
		return hex.EncodeToString(h[:])
	}
	want := []struct{ Path, SHA256 string }{{ssl2, sum(ssl2)}, {http, sum(http)}, {ssl, sum(ssl)}}
	if !strings.HasSuffix(http, ".log.gz") {
		t.Fatalf("http.log %s is not the rotated, compressed one", http)
	}
	args := []string{"analyze", "-i", "testdata/names/inventory.yaml", "--product", "citrix", "--reproducible", "-f", "json", conn, ssl2}
	_, out, errs := analyzeCmd(t, args...)
	var doc struct {
		Complete bool
		NameLogs []struct{ Path, SHA256 string } `json:"name_logs"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v: %s", err, errs)
	}
	if !doc.Complete {
		t.Errorf("report incomplete: %s", out)
	}
	if len(doc.NameLogs) != len(want) {
		t.Fatalf("name_logs %+v, want %+v", doc.NameLogs, want)
	}
	for i := range want {
		if doc.NameLogs[i] != want[i] {
			t.Errorf("name_logs[%d] = %+v, want %+v", i, doc.NameLogs[i], want[i])
		}
	}
	if _, again, _ := analyzeCmd(t, args...); again != out {
		t.Error("the same inputs gave another report")
	}

	// Without name logs the field is absent.
	_, out, _ = analyzeCmd(t, "analyze", "-i", "testdata/names/inventory.yaml", "--reproducible", "-f", "json", capture)
	if strings.Contains(out, "name_logs") {
		t.Errorf("a capture's report has name_logs")
	}

	// The Inputs table of the text formats.
	for _, format := range []string{"table", "markdown", "html"} {
		_, out, _ := analyzeCmd(t, "analyze", "-i", "testdata/names/inventory.yaml", "--product", "citrix", "--reproducible", "--wide", "-f", format, conn)
		for _, w := range want[1:] {
			if !strings.Contains(out, "Host names (Zeek log)") || !strings.Contains(out, w.SHA256) || !strings.Contains(out, filepath.Base(w.Path)) {
				t.Errorf("%s: the inputs do not list %s with its SHA-256 %s", format, w.Path, w.SHA256)
			}
		}
	}

	// --evidence copies them, numbered in the report's order.
	dir := filepath.Join(t.TempDir(), "bundle")
	analyzeCmd(t, "analyze", "-i", "testdata/names/inventory.yaml", "--product", "citrix", "--reproducible", "--evidence", dir, conn, ssl2)
	sums, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		name := "inputs/names-" + string(rune('1'+i)) + "-" + filepath.Base(w.Path)
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("bundle: %v", err)
			continue
		}
		orig, _ := os.ReadFile(w.Path)
		if !bytes.Equal(data, orig) {
			t.Errorf("%s is not a copy of %s", name, w.Path)
		}
		if !strings.Contains(string(sums), w.SHA256+"  "+name+"\n") {
			t.Errorf("SHA256SUMS has no line %q:\n%s", w.SHA256+"  "+name, sums)
		}
	}
}

// TestZeekNameOverflowIncomplete: host names past the uid bound are not
// kept, their connections unnamed, so a host-name rule may leave a service
// undocumented: every report format says why at its top (INCOMPLETE; the
// graph in its label), the JSON is not complete, and analyze exits 1 whatever --fail-on, after writing it.
func TestZeekNameOverflowIncomplete(t *testing.T) {
	t.Chdir(sampleRoot)
	const capture = "testdata/names/cloud-connector.pcapng"
	conn, _, _ := writeZeekLogs(t, capture, t.TempDir(), true)
	base := []string{"analyze", "-i", "testdata/names/inventory.yaml", "--product", "citrix", "--reproducible", "--fail-on", "none"}

	// Within the bound: complete, exit 0 with --fail-on none.
	code, out, errs := analyzeCmd(t, append(base, "-f", "json", conn)...)
	if code != exitOK || !strings.Contains(out, `"complete": true`) {
		t.Fatalf("within the bound: exit %d, %s\n%s", code, errs, out)
	}

	maxNames = 1
	t.Cleanup(func() { maxNames = 0 })
	const why = "host names of the ssl.log and http.log were not kept: more than 1 uids"
	for _, format := range report.Formats {
		code, out, errs := analyzeCmd(t, append(base, "-f", format, conn)...)
		if code != 1 {
			t.Errorf("%s: exit %d, want 1: %s", format, code, errs)
		}
		if !strings.Contains(errs, why) {
			t.Errorf("%s: stderr does not say why: %s", format, errs)
		}
		if format == "dot" {
			// The graph's label says it (the reason wrapped), and a comment.
			if !strings.Contains(out, "// INCOMPLETE REPORT: ") || !strings.Contains(out, "//   - ") || !strings.Contains(out, `graph [label="INCOMPLETE REPORT: `) {
				t.Errorf("dot: no INCOMPLETE label:\n%s", out)
			}
		}
		if !strings.Contains(strings.ReplaceAll(out, `\l  `, " "), why) {
			t.Errorf("%s: the report does not say why:\n%s", format, out)
		}
		switch format {
		case "json":
			var doc struct {
				Complete   bool
				Incomplete []string
				Limits     struct {
					NameLogOverflow uint64 `json:"name_log_overflow"`
				}
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Complete || len(doc.Incomplete) != 1 || doc.Limits.NameLogOverflow == 0 {
				t.Errorf("json: complete %v, incomplete %q, name_log_overflow %d", doc.Complete, doc.Incomplete, doc.Limits.NameLogOverflow)
			}
		case "csv":
			if !strings.HasPrefix(out, "# INCOMPLETE REPORT") {
				t.Errorf("csv starts %q", out[:min(len(out), 80)])
			}
		default:
			if !strings.Contains(strings.ToUpper(out), "INCOMPLETE REPORT") {
				t.Errorf("%s: no INCOMPLETE line", format)
			}
		}
	}
}

// TestZeekNameOverflowOtherCommands: rules from the conn.log, rules from
// the saved report and diff of the saved report exit 1 on names not kept,
// as analyze does, and rules says INCOMPLETE in its request.
func TestZeekNameOverflowOtherCommands(t *testing.T) {
	t.Chdir(sampleRoot)
	const inv = "testdata/names/inventory.yaml"
	conn, _, _ := writeZeekLogs(t, "testdata/names/cloud-connector.pcapng", t.TempDir(), true)
	dir := t.TempDir()
	save := func(name string) string {
		t.Helper()
		_, out, _ := analyzeCmd(t, "analyze", "-i", inv, "--product", "citrix", "--reproducible", "-f", "json", conn)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	full := save("full.json")
	if code, _, errs := analyzeCmd(t, "rules", "-i", inv, "--product", "citrix", "--capture", conn, "--only", "all", "-f", "nft"); code != exitOK {
		t.Errorf("rules within the bound: exit %d: %s", code, errs)
	}
	maxNames = 1
	t.Cleanup(func() { maxNames = 0 })
	partial := save("partial.json")
	const why = "host names of the ssl.log and http.log were not kept"
	code, out, errs := analyzeCmd(t, "rules", "-i", inv, "--product", "citrix", "--capture", conn, "--only", "all", "-f", "nft")
	if code != exitError || !strings.Contains(out, "INCOMPLETE analysis: ") || !strings.Contains(out, why) || !strings.Contains(errs, why) {
		t.Errorf("rules --capture: exit %d, want %d and INCOMPLETE:\n%.1500s\n%s", code, exitError, out, errs)
	}
	maxNames = 0
	if code, _, errs := analyzeCmd(t, "rules", "-i", inv, "--product", "citrix", "--from-report", partial, "--only", "all", "-f", "nft"); code != exitError || !strings.Contains(errs, why) {
		t.Errorf("rules --from-report: exit %d, want %d: %s", code, exitError, errs)
	}
	// diff cites both sides' name logs with their SHA-256.
	_, out, _ = analyzeCmd(t, "diff", "-f", "json", full, full)
	var d struct {
		Before struct {
			NameLogs []struct{ Path, SHA256 string } `json:"name_logs"`
		}
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || len(d.Before.NameLogs) != 2 || len(d.Before.NameLogs[0].SHA256) != 64 {
		t.Errorf("diff json: %v: name_logs %+v", err, d.Before.NameLogs)
	}
	if _, out, _ = analyzeCmd(t, "diff", full, full); !strings.Contains(out, "Host names (Zeek logs)") || !strings.Contains(out, "ssl.log (sha256 ") {
		t.Errorf("diff table does not cite the name logs:\n%s", out)
	}
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"complete reports", []string{full, full}, exitOK},
		{"partial report after", []string{full, partial}, exitError},
	} {
		if code, _, errs := analyzeCmd(t, append([]string{"diff"}, tc.args...)...); code != tc.want {
			t.Errorf("diff %s: exit %d, want %d: %s", tc.name, code, tc.want, errs)
		}
	}
}
