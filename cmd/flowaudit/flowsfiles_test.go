package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlowsFileOfLogs: flows names each connection's file among those it
// read, not among the paths given: a directory of rotated conn.logs is
// its logs, and a Zeek name log given beside a conn.log is no file of
// connections. It named the directory (or nothing past the first index),
// and the dns.log for the conn.log's connections.
func TestFlowsFileOfLogs(t *testing.T) {
	code, log, errs := runCmd(t, nil, "flows", "--format", "zeek", "../../testdata/names/cloud-connector.pcapng")
	if code != 0 {
		t.Fatalf("flows: %d %s", code, errs)
	}
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "logs")
	os.MkdirAll(dir, 0o755)
	a, b := filepath.Join(dir, "conn.09:00:00-10:00:00.log"), filepath.Join(dir, "conn.log")
	os.WriteFile(a, []byte(log), 0o644)
	// The second part: the same connections an hour later, other uids.
	var later []string
	for _, l := range strings.SplitAfter(log, "\n") {
		if f := strings.Split(l, "\t"); !strings.HasPrefix(l, "#") && len(f) > 2 {
			f[0] = "1746525" + f[0][7:]
			f[1] = "D" + f[1][1:]
			l = strings.Join(f, "\t")
		}
		later = append(later, l)
	}
	os.WriteFile(b, []byte(strings.Join(later, "")), 0o644)
	dns := filepath.Join(tmp, "dns.log")
	os.WriteFile(dns, []byte("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"+
		"#fields\tts\tid.orig_h\tid.resp_p\tquery\tanswers\n#types\ttime\taddr\tport\tstring\tvector[string]\n"+
		"1746522000.5\t192.0.2.61\t53\tdl.cacerts.digicert.com\t203.0.113.80\n"), 0o644)

	for _, tc := range []struct {
		name string
		args []string
		want map[string]string // uid's first letter: file
	}{
		{"directory", []string{dir}, map[string]string{"C": a, "D": b}},
		{"dns.log first", []string{dns, a}, map[string]string{"C": a}},
		{"dns.log and a directory", []string{dns, dir}, map[string]string{"C": a, "D": b}},
	} {
		for _, format := range []string{"jsonl", "csv"} {
			code, out, errs := runCmd(t, nil, append([]string{"flows", "--format", format}, tc.args...)...)
			if code != 0 {
				t.Fatalf("%s %s: exit %d: %s", tc.name, format, code, errs)
			}
			n := 0
			for _, r := range fileOfRecords(t, format, out) {
				n++
				if want := tc.want[r.uid[:1]]; r.file != want {
					t.Errorf("%s %s: uid %s: file %q, want %q", tc.name, format, r.uid, r.file, want)
				}
			}
			if n == 0 {
				t.Errorf("%s %s: no connections", tc.name, format)
			}
		}
	}
}

type uidFile struct{ uid, file string }

// fileOfRecords are the uid and file of each connection flows printed
// as JSON lines or CSV.
func fileOfRecords(t *testing.T, format, out string) []uidFile {
	t.Helper()
	var recs []uidFile
	if format == "csv" {
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(rows) == 0 {
			t.Fatalf("csv: %v", err)
		}
		col := map[string]int{}
		for i, c := range rows[0] {
			col[c] = i
		}
		for _, r := range rows[1:] {
			recs = append(recs, uidFile{r[col["uid"]], r[col["file"]]})
		}
		return recs
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct{ UID, File string }
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		recs = append(recs, uidFile{r.UID, r.File})
	}
	return recs
}
