package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rasDiffArgs is the README's example: the RAS pilot before and after its
// firewall change, analysed from the captures.
func rasDiffArgs(extra ...string) []string {
	args := []string{"diff", "-i", "testdata/samples/ras/inventory.yaml", "--waivers", "testdata/samples/ras/waivers.yaml", "--reproducible"}
	args = append(args, extra...)
	return append(args, "testdata/samples/ras/pilot.pcapng", "testdata/samples/ras/after.pcapng")
}

// TestDiffSample: the RAS pilot's change fixes its four blocked flows and
// the backup proxy, and breaks LDAP from ras-cb02 (exit 3); the Markdown
// is the golden testdata/samples/ras/diff.md the README shows.
func TestDiffSample(t *testing.T) {
	t.Chdir(sampleRoot)
	code, md, errs := analyzeCmd(t, rasDiffArgs("-f", "markdown")...)
	if code != exitFindings {
		t.Fatalf("exit %d, want %d: %s", code, exitFindings, errs)
	}
	if errs != "" {
		t.Errorf("stderr: %s", errs)
	}
	if _, again, _ := analyzeCmd(t, rasDiffArgs("-f", "markdown")...); again != md {
		t.Error("two runs differ")
	}
	golden := "testdata/samples/ras/diff.md"
	if *update {
		if err := os.WriteFile(golden, []byte(md), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/flowaudit -update)", err)
	}
	if string(want) != md {
		t.Errorf("%s differs from the diff (run go test ./cmd/flowaudit -update if intended)", golden)
	}

	_, js, _ := analyzeCmd(t, rasDiffArgs("-f", "json")...)
	var d struct {
		Summary map[string]any `json:"summary"`
		Changes []struct {
			Category, Kind, Client, Server, Proto, Reason string
			Port                                          *uint16
		} `json:"changes"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(js), &d); err != nil {
		t.Fatal(err)
	}
	if d.Summary["regressed"] != 1.0 || d.Summary["fixed"] != 5.0 || d.Summary["changed"] != 0.0 || len(d.Warnings) != 0 {
		t.Errorf("summary %v, warnings %q; want 1 regressed, 5 fixed, 0 changed, no warnings", d.Summary, d.Warnings)
	}
	got := map[string]string{}
	for _, c := range d.Changes {
		if c.Kind == "service" && c.Category != "unresolved" {
			got[c.Client+" "+c.Server+" "+c.Proto+" "+itoaPort(c.Port)] = c.Category + ": " + c.Reason
		}
	}
	want2 := map[string]string{
		"ras-cb02 (192.0.2.42) dc01 (192.0.2.5) tcp 389":            "regressed: established before, blocked after",
		"ras-halb01 (203.0.113.31) ras-sg01 (192.0.2.45) tcp 20009": "fixed: blocked before, established after",
		"user-lan (198.51.100.57) rdsh01 (192.0.2.51) tcp 3389":     "fixed: blocked before, established after",
		"rdsh02 (192.0.2.52) ras-cb01 (192.0.2.41) udp 20003":       "fixed: blocked before, established after",
		"ras-sg01 (192.0.2.45) rdsh02 (192.0.2.52) udp 3389":        "fixed: blocked before, established after",
		"192.0.2.90 rdsh02 (192.0.2.52) tcp 6160":                   "fixed: undocumented before, gone after",
	}
	for k, v := range want2 {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want2) {
		t.Errorf("%d changes besides the unresolved ones, want %d: %v", len(got), len(want2), got)
	}
}

func itoaPort(p *uint16) string {
	if p == nil {
		return "-"
	}
	b, _ := json.Marshal(*p)
	return string(b)
}

// The diff of two JSON reports is the diff of their captures, and a
// report may be diffed against a capture.
func TestDiffReportsEqualCaptures(t *testing.T) {
	t.Chdir(sampleRoot)
	tmp := t.TempDir()
	for _, name := range []string{"pilot", "after"} {
		code, js, errs := analyzeCmd(t, "analyze", "-i", "testdata/samples/ras/inventory.yaml", "--waivers", "testdata/samples/ras/waivers.yaml",
			"--reproducible", "-f", "json", "-o", filepath.Join(tmp, name+".json"), "testdata/samples/ras/"+name+".pcapng")
		if code != exitFindings || js != "" {
			t.Fatalf("analyze %s: exit %d: %s", name, code, errs)
		}
	}
	changes := func(args ...string) string {
		t.Helper()
		code, js, errs := analyzeCmd(t, args...)
		if code != exitFindings {
			t.Fatalf("%v: exit %d, want %d: %s", args, code, exitFindings, errs)
		}
		var d struct {
			Changes json.RawMessage `json:"changes"`
		}
		if err := json.Unmarshal([]byte(js), &d); err != nil {
			t.Fatal(err)
		}
		return string(d.Changes)
	}
	fromCaptures := changes(rasDiffArgs("-f", "json")...)
	if got := changes("diff", "-f", "json", filepath.Join(tmp, "pilot.json"), filepath.Join(tmp, "after.json")); got != fromCaptures {
		t.Errorf("reports and captures give different changes:\n%s\n---\n%s", got, fromCaptures)
	}
	mixed := changes("diff", "-f", "json", "-i", "testdata/samples/ras/inventory.yaml", "--waivers", "testdata/samples/ras/waivers.yaml",
		"--reproducible", filepath.Join(tmp, "pilot.json"), "testdata/samples/ras/after.pcapng")
	if mixed != fromCaptures {
		t.Errorf("a report against a capture differs from two captures")
	}
	// A report from standard input.
	f, err := os.ReadFile(filepath.Join(tmp, "pilot.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out, errb strings.Builder
	if code := run([]string{"diff", "-f", "json", "-", filepath.Join(tmp, "after.json")}, strings.NewReader(string(f)), &out, &errb); code != exitFindings {
		t.Errorf("report on stdin: exit %d: %s", code, errb.String())
	}
	// -o writes the format its extension names.
	if code, _, errs := analyzeCmd(t, "diff", "-o", filepath.Join(tmp, "d.html"), filepath.Join(tmp, "pilot.json"), filepath.Join(tmp, "after.json")); code != exitFindings {
		t.Fatalf("-o: exit %d: %s", code, errs)
	}
	if b, _ := os.ReadFile(filepath.Join(tmp, "d.html")); !strings.HasPrefix(string(b), "<!DOCTYPE html>") || !strings.Contains(string(b), "Regressed (1)") {
		t.Errorf("d.html is not the HTML diff: %.200s", b)
	}
}

func TestDiffExitCodes(t *testing.T) {
	t.Chdir(sampleRoot)
	tmp := t.TempDir()
	notReport := filepath.Join(tmp, "catalog.json")
	if err := os.WriteFile(notReport, []byte(`{"rules": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// A diff's own JSON says "tool": "flowaudit" too: read as a
	// report, it was an analysis that saw nothing, and every service of
	// the other side was regressed.
	diffJSON := filepath.Join(tmp, "diff.json")
	if code, _, errs := analyzeCmd(t, "diff", "-f", "json", "-o", diffJSON, "testdata/samples/ras/report.json", "testdata/samples/ras/report.json"); code != exitOK {
		t.Fatalf("diff -o diff.json: exit %d: %s", code, errs)
	}
	ras := "testdata/samples/ras/report.json"
	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"fail-on none", rasDiffArgs("--fail-on", "none"), exitOK, ""},
		// An unset variable must not turn a regression into exit 0.
		{"fail-on empty", rasDiffArgs("--fail-on", ""), exitUsage, `diff --fail-on: empty category in ""`},
		{"fail-on empty item", rasDiffArgs("--fail-on", "regressed,"), exitUsage, `diff --fail-on: empty category in "regressed,"`},
		{"fail-on none beside a category", rasDiffArgs("--fail-on", "none,regressed"), exitUsage, `diff --fail-on: none in "none,regressed": none stands alone`},
		{"fail-on unresolved", rasDiffArgs("--fail-on", "unresolved"), exitFindings, ""},
		{"fail-on changed, none changed", rasDiffArgs("--fail-on", "changed"), exitOK, ""},
		{"same report, nothing regressed", []string{"diff", ras, ras}, exitOK, "both analyses read the same capture"},
		{"other pilot: inventories differ", []string{"diff", "--fail-on", "mismatch", ras, "testdata/samples/lync/report.json"}, exitFindings, "warning: the inventories differ"},
		{"one input", []string{"diff", ras}, exitUsage, "diff needs two inputs, BEFORE and AFTER, got 1"},
		{"three inputs", []string{"diff", ras, ras, ras}, exitUsage, "got 3"},
		{"unknown category", []string{"diff", "--fail-on", "regresed", ras, ras}, exitUsage, `unknown category "regresed" (did you mean "regressed"?)`},
		{"unknown format", []string{"diff", "-f", "csv", ras, ras}, exitUsage, `diff: unknown format "csv"`},
		{"both stdin", []string{"diff", "-", "-"}, exitUsage, "standard input can be only one"},
		{"missing file", []string{"diff", ras, filepath.Join(tmp, "none.json")}, exitError, "none.json"},
		{"not a report", []string{"diff", ras, notReport}, exitError, "not a flowaudit analyze JSON report"},
		{"a diff report", []string{"diff", diffJSON, ras}, exitError, "diff.json: not a flowaudit analyze JSON report (it is a flowaudit diff report"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := analyzeCmd(t, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.err) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errs, tc.code, tc.err)
			}
		})
	}
}

func TestDiffHelp(t *testing.T) {
	code, out, _ := analyzeCmd(t, "diff", "--help")
	if code != exitOK || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--fail-on") || !strings.Contains(out, "--inventory") {
		t.Errorf("exit %d, help:\n%s", code, out)
	}
}

// A capture cut short is diffed as analyze reports it (a last record cut
// short is a warning there, not an error), with a warning that its
// analysis is incomplete; --fail-on mismatch fails on that alone.
func TestDiffCutCapture(t *testing.T) {
	t.Chdir(sampleRoot)
	data, err := os.ReadFile("testdata/samples/ras/after.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "after-cut.pcapng")
	if err := os.WriteFile(cut, data[:len(data)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := analyzeCmd(t, "diff", "-f", "json", "-i", "testdata/samples/ras/inventory.yaml", "--reproducible",
		"testdata/samples/ras/pilot.pcapng", cut)
	if code != exitFindings {
		t.Errorf("exit %d, want %d: %s", code, exitFindings, errs)
	}
	if !strings.Contains(errs, "warning: the after analysis is incomplete") || !strings.Contains(out, `"the after analysis is incomplete`) {
		t.Errorf("no incomplete warning: stderr %q", errs)
	}
	if !strings.Contains(out, `"changes": [`) {
		t.Errorf("no diff written: %.300s", out)
	}
	if code, _, _ := analyzeCmd(t, "diff", "--fail-on", "mismatch", "-i", "testdata/samples/ras/inventory.yaml", "--reproducible",
		"testdata/samples/ras/after.pcapng", cut); code != exitFindings {
		t.Errorf("--fail-on mismatch: exit %d, want %d", code, exitFindings)
	}
}

// A report saved with a UTF-8 byte order mark is a report, not a capture
// that does not read.
func TestDiffReportWithByteOrderMark(t *testing.T) {
	t.Chdir(sampleRoot)
	data, err := os.ReadFile("testdata/samples/ras/report.json")
	if err != nil {
		t.Fatal(err)
	}
	bom := filepath.Join(t.TempDir(), "before.json")
	if err := os.WriteFile(bom, append([]byte("\ufeff"), data...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := analyzeCmd(t, "diff", bom, "testdata/samples/ras/report.json")
	if code != exitOK || strings.Contains(errs, "not a pcap") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

// TestDiffNamedPipes: a side given as a named pipe (bash's <(...), or
// mkfifo) is read once: a capture through it gives the diff of the same
// capture given as a file, and a saved report through it reads as one.
// diff looked at the pipe's first bytes, closed it and opened it again,
// losing them ("not a pcap", or waiting forever for a writer).
func TestDiffNamedPipes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no named pipes")
	}
	t.Chdir(sampleRoot)
	dir := t.TempDir()
	feed := func(name, from string) string {
		fifo := filepath.Join(dir, name)
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
				f.Write(data)
				f.Close()
			}
		}()
		return fifo
	}
	args := []string{"diff", "-f", "json", "-i", "testdata/samples/ras/inventory.yaml", "--reproducible"}
	wantCode, want, wantErr := analyzeCmd(t, append(args, "testdata/samples/ras/report.json", "testdata/samples/ras/after.pcapng")...)
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		before := feed("before.json", "testdata/samples/ras/report.json")
		after := feed("after.pcapng", "testdata/samples/ras/after.pcapng")
		code, out, errs := analyzeCmd(t, append(args, before, after)...)
		done <- result{code, out, errs}
	}()
	select {
	case r := <-done:
		// The sides are named by their paths: the pipes' differ.
		norm := strings.NewReplacer(filepath.Join(dir, "before.json"), "testdata/samples/ras/report.json",
			filepath.Join(dir, "after.pcapng"), "testdata/samples/ras/after.pcapng")
		if r.code != wantCode || norm.Replace(r.out) != want || norm.Replace(r.err) != wantErr {
			t.Errorf("through pipes: exit %d (files: %d), stderr:\n%s\nwant:\n%s\nstdout equal: %v", r.code, wantCode, r.err, wantErr, norm.Replace(r.out) == want)
		}
	case <-time.After(time.Minute):
		t.Fatal("diff of named pipes did not end")
	}
}
