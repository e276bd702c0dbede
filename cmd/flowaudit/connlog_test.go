package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/capturetest"
	"github.com/flowaudit/flowaudit/analyzer/report"
	"github.com/flowaudit/flowaudit/analyzer/report/connout"
)

// TestSampleConnLogs: each sample pilot written as a Zeek conn.log by
// `flows --format zeek` (and zeek-json, and gzip-compressed) and analysed
// gives the capture's findings. What a conn.log cannot carry differs, and
// exactly that: no first frame, Wireshark filter or evidence; who blocked
// a flow only as its conn_state tells it (no TTLs, no ICMP errors), so a
// connection an ICMP unreachable rejected is unanswered, its ICMP errors
// not among its packets; ARP (never a connection) is not in the noise.
func TestSampleConnLogs(t *testing.T) {
	t.Chdir(sampleRoot)
	tmp := t.TempDir()
	for _, p := range samplePilots {
		for _, format := range []string{"zeek", "zeek-json", "zeek-gzip"} {
			t.Run(p.family+"/"+format, func(t *testing.T) {
				flowsFormat := strings.TrimSuffix(format, "-gzip")
				code, log, errs := analyzeCmd(t, "flows", "--format", flowsFormat, p.capture())
				if code != 0 {
					t.Fatalf("flows: exit %d: %s", code, errs)
				}
				data := []byte(log)
				if format == "zeek-gzip" {
					var b bytes.Buffer
					zw := gzip.NewWriter(&b)
					zw.Write(data)
					zw.Close()
					data = b.Bytes()
				}
				// A name that says nothing: the content decides.
				path := filepath.Join(tmp, p.family+"-"+format+".dat")
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				args := p.args("json")
				_, capJSON, _ := analyzeCmd(t, args...)
				args[len(args)-1] = path
				_, logJSON, errs := analyzeCmd(t, args...)
				var capRep, logRep map[string]any
				if err := json.Unmarshal([]byte(capJSON), &capRep); err != nil {
					t.Fatalf("capture report: %v", err)
				}
				if err := json.Unmarshal([]byte(logJSON), &logRep); err != nil {
					t.Fatalf("conn.log report: %v: %s\n%.400s", err, errs, logJSON)
				}
				compareLogReport(t, capRep, logRep, path, "zeek conn.log", time.Microsecond)
				checkFirstUIDs(t, logRep, log)
			})
		}
	}
}

// checkFirstUIDs: every finding of a conn.log's report (no frame) names
// the uid of its earliest connection, one the log holds, so that Zeek's
// logs can be searched for it; its table says the same.
func checkFirstUIDs(t *testing.T, rep map[string]any, log string) {
	t.Helper()
	for _, kind := range []string{"flows", "sweeps"} {
		list, _ := rep[kind].([]any)
		for _, f := range list {
			m := f.(map[string]any)
			uid, _ := m["first_uid"].(string)
			if m["first_frame"] != nil || uid == "" || !strings.Contains(log, "\t"+uid+"\t") && !strings.Contains(log, `"uid":"`+uid+`"`) {
				t.Errorf("%s %v %v: first_frame %v, first_uid %q: want a uid of the log", kind, m["client"], m["server"], m["first_frame"], uid)
			}
		}
	}
}

// compareLogReport holds a conn.log's (or other flow records') report to
// its capture's; format is how the captures table names the log, tol
// how much earlier than the capture's its times may be (Zeek writes
// microseconds, nfdump milliseconds).
func compareLogReport(t *testing.T, capRep, logRep map[string]any, path, format string, tol time.Duration) {
	t.Helper()
	if logRep["complete"] != true {
		t.Errorf("conn.log report incomplete: %v", logRep["incomplete"])
	}
	note, _ := logRep["frame_note"].(string)
	if !strings.Contains(note, path) || !strings.Contains(note, "no first frame, Wireshark filter or evidence pcap") {
		t.Errorf("frame_note = %q", note)
	}
	if _, ok := capRep["frame_note"]; ok { // omitted when every input is a capture
		t.Errorf("capture report has a frame_note")
	}
	caps := logRep["captures"].([]any)
	if len(caps) != 1 || caps[0].(map[string]any)["records"].(float64) == 0 ||
		!strings.HasPrefix(caps[0].(map[string]any)["format"].(string), format) {
		t.Errorf("captures = %v", caps)
	}

	byKey := func(rep map[string]any) map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, f := range rep["flows"].([]any) {
			m := f.(map[string]any)
			out[fmt.Sprint(m["client"], " ", m["server"], " ", m["proto"], "/", m["port"])] = m
		}
		return out
	}
	capFlows, logFlows := byKey(capRep), byKey(logRep)
	if len(capFlows) != len(logFlows) {
		t.Errorf("%d flows from the conn.log, %d from the capture", len(logFlows), len(capFlows))
	}
	icmpRejected := 0
	for k, cf := range capFlows {
		lf, ok := logFlows[k]
		if !ok {
			t.Errorf("%s: missing from the conn.log's report", k)
			continue
		}
		if lf["first_frame"] != nil || lf["filter"] != nil { // null: no frame to name
			t.Errorf("%s: conn.log flow has frame %v, filter %q", k, lf["first_frame"], lf["filter"])
		}
		if cf["first_frame"] == nil || cf["first_frame"].(float64) == 0 || cf["filter"] == nil || cf["filter"] == "" {
			t.Errorf("%s: capture flow has no frame or filter", k)
		}
		want := copyMap(cf)
		if icmp := want["icmp_errors"].(float64); icmp > 0 {
			// The capture saw ICMP errors quoting the connections; a
			// conn.log has no place for them.
			if rej := want["rejected"].(float64); rej > 0 {
				icmpRejected++
				want["rejected"] = 0.0
				want["unanswered"] = want["unanswered"].(float64) + rej
				if want["established"].(float64) == 0 {
					want["outcome"] = "unanswered"
				}
			}
			want["packets"] = want["packets"].(float64) - icmp
			want["icmp_errors"] = 0.0
		}
		got := copyMap(lf)
		// Zeek writes times to the microsecond, start and duration
		// each cut: the end may be a microsecond early.
		for _, k := range []string{"first_seen", "last_seen"} {
			w, _ := time.Parse(time.RFC3339Nano, want[k].(string))
			g, _ := time.Parse(time.RFC3339Nano, got[k].(string))
			if d := w.Sub(g); d < 0 || d > tol {
				t.Errorf("%s: %s %s, capture %s", k, k, got[k], want[k])
			}
			delete(want, k)
			delete(got, k)
		}
		for _, m := range []map[string]any{want, got} {
			for _, k := range []string{"first_frame", "first_uid", "filter", "first_file", "blocked_by"} {
				delete(m, k)
			}
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s:\n capture %v\n connlog %v", k, want, got)
		}
		// Who blocked it: the same answer where the conn.log tells it
		// (no answer); a reset or ICMP error is known only as far as
		// conn_state says.
		cb, _ := cf["blocked_by"].(map[string]any)
		lb, _ := lf["blocked_by"].(map[string]any)
		if (cb == nil) != (lb == nil) {
			t.Errorf("%s: blocked_by %v, capture %v", k, lb, cb)
		} else if cb != nil && cb["kind"] == "no-answer" && !reflect.DeepEqual(cb, lb) {
			t.Errorf("%s: blocked_by %v, capture %v", k, lb, cb)
		}
	}
	for _, key := range []string{"missing", "unverifiable", "unused_waivers", "hosts"} {
		if !reflect.DeepEqual(capRep[key], logRep[key]) {
			t.Errorf("%s differ:\n capture %v\n connlog %v", key, capRep[key], logRep[key])
		}
	}
	strip := func(v any) any {
		var out []any
		for _, s := range v.([]any) {
			m := copyMap(s.(map[string]any))
			delete(m, "first_frame")
			delete(m, "filter")
			delete(m, "first_file")
			out = append(out, m)
		}
		return out
	}
	if !reflect.DeepEqual(strip(capRep["sweeps"]), strip(logRep["sweeps"])) {
		t.Errorf("sweeps differ:\n capture %v\n connlog %v", capRep["sweeps"], logRep["sweeps"])
	}
	var capNoise []any
	for _, n := range capRep["noise"].([]any) {
		if n.(map[string]any)["kind"] != "arp" {
			capNoise = append(capNoise, n)
		}
	}
	if !reflect.DeepEqual(capNoise, logRep["noise"]) && !(len(capNoise) == 0 && len(logRep["noise"].([]any)) == 0) {
		t.Errorf("noise differs:\n capture %v\n connlog %v", capNoise, logRep["noise"])
	}
	cs, ls := copyMap(capRep["summary"].(map[string]any)), copyMap(logRep["summary"].(map[string]any))
	if icmpRejected == 0 && !reflect.DeepEqual(cs, ls) {
		t.Errorf("summary:\n capture %v\n connlog %v", cs, ls)
	}
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestConnLogDirectoryAndErrors: a sample's conn.log split in two rotated
// gzip parts in a directory gives the report of the whole log; a bad line
// is exit 1 naming the file and line, the report still written of what
// was read; a header-only log exits 1 as an empty capture does.
func TestConnLogDirectoryAndErrors(t *testing.T) {
	t.Chdir(sampleRoot)
	p := samplePilots[2] // ras
	code, log, errs := analyzeCmd(t, "flows", "--format", "zeek", p.capture())
	if code != 0 {
		t.Fatalf("flows: %d %s", code, errs)
	}
	tmp := t.TempDir()
	whole := filepath.Join(tmp, "conn.log")
	os.WriteFile(whole, []byte(log), 0o644)
	lines := strings.SplitAfter(log, "\n")
	var header, body []string
	for _, l := range lines {
		if strings.HasPrefix(l, "#") {
			if !strings.HasPrefix(l, "#close") {
				header = append(header, l)
			}
		} else if l != "" {
			body = append(body, l)
		}
	}
	half := len(body) / 2
	dir := filepath.Join(tmp, "logs", "2025-05-20")
	os.MkdirAll(dir, 0o755)
	for i, part := range [][]string{body[:half], body[half:]} {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(strings.Join(header, "") + strings.Join(part, "")))
		zw.Close()
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("conn.%02d:00:00-%02d:00:00.log.gz", 10+i, 11+i)), b.Bytes(), 0o644)
	}
	args := p.args("json")
	args[len(args)-1] = whole
	_, wholeJSON, _ := analyzeCmd(t, args...)
	args[len(args)-1] = filepath.Join(tmp, "logs")
	_, dirJSON, errs := analyzeCmd(t, args...)
	var w, d map[string]any
	if err := json.Unmarshal([]byte(wholeJSON), &w); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(dirJSON), &d); err != nil {
		t.Fatalf("%v: %s", err, errs)
	}
	if caps := d["captures"].([]any); len(caps) != 2 {
		t.Errorf("captures %v", caps)
	}
	for _, k := range []string{"flows", "missing", "sweeps", "summary", "noise"} {
		if !reflect.DeepEqual(w[k], stripFirstFile(d[k])) && !reflect.DeepEqual(stripFirstFile(w[k]), stripFirstFile(d[k])) {
			t.Errorf("%s differ between the log and its rotated parts", k)
		}
	}

	bad := filepath.Join(tmp, "bad.log")
	os.WriteFile(bad, []byte(strings.Join(header, "")+body[0]+"1747735201.0\tCx\t192.0.2.41\t1\t192.0.2.999\t2\ttcp\n"+body[1]), 0o644)
	args[len(args)-1] = bad
	code, out, errs := analyzeCmd(t, args...)
	wantLine := fmt.Sprintf("bad.log:%d: ", len(header)+2)
	if code != exitError || !strings.Contains(errs, wantLine) || !strings.Contains(out, `"status": "damaged"`) {
		t.Errorf("bad line: exit %d, stderr %q, want %q and a report of the damaged log", code, errs, wantLine)
	}

	// A log whose last line is cut short is a warning that counts the
	// records read before it, not frames (a log has none).
	cut := filepath.Join(tmp, "cut.log")
	os.WriteFile(cut, []byte(strings.Join(header, "")+body[0]+body[1]+body[2][:20]), 0o644)
	args[len(args)-1] = cut
	code, _, errs = analyzeCmd(t, args...)
	wantCut := fmt.Sprintf("cut.log:%d: 2 columns, the #fields header names 23 (its last line is incomplete; the 2 connection records before it were read)", len(header)+3)
	if code == exitError || !strings.Contains(errs, wantCut) {
		t.Errorf("cut log: exit %d, stderr %q, want %q", code, errs, wantCut)
	}

	empty := filepath.Join(tmp, "empty.log")
	os.WriteFile(empty, []byte(strings.Join(header, "")), 0o644)
	args[len(args)-1] = empty
	code, _, errs = analyzeCmd(t, args...)
	if code != exitError || !strings.Contains(errs, "no connection records") {
		t.Errorf("header-only log: exit %d, %q", code, errs)
	}
}

// stripFirstFile drops first_file from a report's list of objects (the
// parts have their own names).
func stripFirstFile(v any) any {
	l, ok := v.([]any)
	if !ok {
		return v
	}
	out := make([]any, len(l))
	for i, e := range l {
		if m, ok := e.(map[string]any); ok {
			m = copyMap(m)
			delete(m, "first_file")
			out[i] = m
		} else {
			out[i] = e
		}
	}
	return out
}

// TestFrameNoteEveryFormat: a report of flow records says once, in every
// format (the DOT graph as a comment), that its findings have no frame,
// filter or evidence pcap; a report of captures alone says nothing of it.
func TestFrameNoteEveryFormat(t *testing.T) {
	t.Chdir(sampleRoot)
	p := samplePilots[0]
	code, log, errs := analyzeCmd(t, "flows", "--format", "zeek", p.capture())
	if code != 0 {
		t.Fatalf("flows: exit %d: %s", code, errs)
	}
	path := filepath.Join(t.TempDir(), "conn.log")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	const note = "hold no packets: what they gave has no first frame, Wireshark filter or evidence pcap"
	// Where a frame would be, each finding names its first connection's
	// Zeek uid, in every format.
	jargs := p.args("json")
	jargs[len(jargs)-1] = path
	_, jsonOut, _ := analyzeCmd(t, jargs...)
	var jrep struct{ Flows, Sweeps []map[string]any }
	if err := json.Unmarshal([]byte(jsonOut), &jrep); err != nil || len(jrep.Flows) == 0 {
		t.Fatalf("json: %v, %d flows", err, len(jrep.Flows))
	}
	var uids []string // of the findings the text formats list with a frame column
	for i, f := range slices.Concat(jrep.Flows, jrep.Sweeps) {
		u, _ := f["first_uid"].(string)
		if u == "" || !strings.Contains(log, "\t"+u+"\t") {
			t.Errorf("json: first_uid %q not a uid of the log: %v", u, f)
		}
		if i >= len(jrep.Flows) || f["status"] == "undocumented" || f["blocked"] == true {
			uids = append(uids, u)
		}
	}
	for _, format := range report.Formats {
		args := p.args(format)
		_, capOut, _ := analyzeCmd(t, args...)
		args[len(args)-1] = path
		_, logOut, errs := analyzeCmd(t, args...)
		if n := strings.Count(logOut, note); n != 1 {
			t.Errorf("%s: the note %d times in the conn.log's report (%s)", format, n, errs)
		}
		if strings.Contains(capOut, note) {
			t.Errorf("%s: the note in the capture's report", format)
		}
		for _, u := range uids {
			if format != "dot" && !strings.Contains(logOut, u) { // the graph shows no frames
				t.Errorf("%s: first uid %s not in the conn.log's report", format, u)
			}
		}
		if strings.Contains(capOut, `"first_uid"`) || strings.Contains(capOut, "uid C") {
			t.Errorf("%s: a uid in the capture's report", format)
		}
		// No frame is absent, not frame 0: null in JSON (the schema
		// has the key always), empty in CSV.
		switch format {
		case "json":
			var rep struct{ Flows, Sweeps []map[string]any }
			if err := json.Unmarshal([]byte(logOut), &rep); err != nil || len(rep.Flows) == 0 {
				t.Fatalf("json: %v, %d flows", err, len(rep.Flows))
			}
			for _, f := range slices.Concat(rep.Flows, rep.Sweeps) {
				for _, k := range []string{"first_frame", "filter"} {
					if v, ok := f[k]; !ok || v != nil {
						t.Errorf("json: %s is %v (present %v), want null: %v", k, v, ok, f)
					}
				}
			}
		case "csv":
			cr := csv.NewReader(strings.NewReader(logOut))
			cr.FieldsPerRecord = -1 // the note line
			recs, err := cr.ReadAll()
			if err != nil {
				t.Fatalf("csv: %v", err)
			}
			var col int
			rows := 0
			for _, r := range recs {
				if len(r) > 0 && strings.HasPrefix(r[0], "#") {
					continue // the note
				}
				if i := slices.Index(r, "first_frame"); i >= 0 {
					col = i
					continue
				}
				rows++
				if r[col] != "" {
					t.Errorf("csv: first_frame %q, want empty: %v", r[col], r)
				}
			}
			if col == 0 || rows == 0 {
				t.Errorf("csv: no first_frame column (%d) or rows (%d)", col, rows)
			}
		}
	}
}

// TestFlowsKeepZeekFields: flows keeps a conn.log's service, local_orig
// and local_resp in every format (left out, or empty, where the log has
// them unset), and a capture's lines have none of them.
func TestFlowsKeepZeekFields(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "conn.log")
	data := "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n" +
		"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\n" +
		"1764410400.000000\tC1\t10.0.0.1\t50000\t10.0.0.2\t443\ttcp\tssl,http\t1.5\t100\t200\tSF\tT\tF\t0\tShADadFf\t5\t400\t4\t500\n" +
		"1764410401.000000\tC2\t10.0.0.1\t50001\t10.0.0.3\t53\tudp\t-\t-\t-\t-\tS0\t-\t-\t0\tD\t1\t60\t0\t0\n"
	if err := os.WriteFile(log, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, nil, "flows", "--format", "jsonl", log)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := jsonLines(t, out)
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	if lines[0]["service"] != "ssl,http" || lines[0]["local_orig"] != true || lines[0]["local_resp"] != false {
		t.Errorf("first line %v", lines[0])
	}
	for _, k := range []string{"service", "local_orig", "local_resp", "first_frame", "last_frame"} {
		if _, ok := lines[1][k]; ok {
			t.Errorf("second line has %s (unset in the log, or no frames): %v", k, lines[1])
		}
	}
	if lines[0]["uid"] != "C1" || lines[1]["uid"] != "C2" {
		t.Errorf("jsonl uids %v, %v: want the log's C1, C2", lines[0]["uid"], lines[1]["uid"])
	}
	for _, format := range []string{"zeek", "zeek-json", "table"} {
		_, out, _ := runCmd(t, nil, "flows", "--format", format, log)
		if !strings.Contains(out, "C1") || !strings.Contains(out, "C2") {
			t.Errorf("flows --format %s lost the log's uids:\n%s", format, out)
		}
	}
	code, out, errs = runCmd(t, nil, "flows", "--format", "csv", log)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != exitOK || err != nil || len(recs) != 3 {
		t.Fatalf("csv: exit %d, %v, %d records: %s", code, err, len(recs), errs)
	}
	col := func(name string) int { return slices.Index(connout.Columns, name) }
	if r := recs[1]; r[col("service")] != "ssl,http" || r[col("local_orig")] != "T" || r[col("local_resp")] != "F" {
		t.Errorf("csv row %v", r)
	}
	if r := recs[2]; r[col("service")] != "" || r[col("local_orig")] != "" || r[col("local_resp")] != "" {
		t.Errorf("csv row %v", r)
	}
	if recs[1][col("uid")] != "C1" || recs[2][col("uid")] != "C2" {
		t.Errorf("csv uids %q, %q: want the log's C1, C2", recs[1][col("uid")], recs[2][col("uid")])
	}
	_, out, _ = runCmd(t, nil, "flows", "--format", "jsonl", filepath.Join(capturetest.Dir(t), "sip.pcap"))
	for _, m := range jsonLines(t, out) {
		for _, k := range []string{"service", "local_orig", "local_resp"} {
			if _, ok := m[k]; ok {
				t.Errorf("a capture's line has %s: %v", k, m)
			}
		}
	}
}

// TestMixedLogAndCapture: a conn.log given before a capture of the same
// traffic does not hide the capture's frames: every finding keeps its
// first frame, filter and evidence pcap from the capture, as when the
// capture comes first.
func TestMixedLogAndCapture(t *testing.T) {
	t.Chdir(sampleRoot)
	p := samplePilots[0]
	code, log, errs := analyzeCmd(t, "flows", "--format", "zeek", p.capture())
	if code != 0 {
		t.Fatalf("flows: exit %d: %s", code, errs)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "conn.log")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	frames := func(args ...string) map[string]string {
		t.Helper()
		_, out, errs := analyzeCmd(t, args...)
		var rep struct {
			Flows []struct {
				Client, Server, Proto string
				Port                  *int
				FirstFile             string `json:"first_file"`
				FirstFrame            uint64 `json:"first_frame"`
				Filter                string
			}
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Flows) == 0 {
			t.Fatalf("%v: %d flows: %s", err, len(rep.Flows), errs)
		}
		m := map[string]string{}
		for _, f := range rep.Flows {
			port := -1
			if f.Port != nil {
				port = *f.Port
			}
			m[fmt.Sprint(f.Client, " ", f.Server, " ", f.Proto, "/", port)] = fmt.Sprint(f.FirstFile, "#", f.FirstFrame, " ", f.Filter)
			if f.FirstFrame == 0 || f.Filter == "" || f.FirstFile != p.capture() {
				t.Errorf("%s %s %s: first frame %s#%d, filter %q", f.Client, f.Server, f.Proto, f.FirstFile, f.FirstFrame, f.Filter)
			}
		}
		return m
	}
	args := []string{"analyze", "-i", p.dir() + "/inventory.yaml", "--reproducible", "-f", "json"}
	logFirst := frames(append(args, path, p.capture())...)
	capFirst := frames(append(args, p.capture(), path)...)
	if !reflect.DeepEqual(logFirst, capFirst) {
		t.Errorf("first frames differ with the log first:\n%v\n%v", logFirst, capFirst)
	}
	ev := filepath.Join(dir, "evidence")
	if code, _, errs := analyzeCmd(t, append(args, "--evidence", ev, path, p.capture())...); code != exitFindings {
		t.Fatalf("--evidence: exit %d: %s", code, errs)
	}
	if pcaps, _ := filepath.Glob(filepath.Join(ev, "findings", "*.pcapng")); len(pcaps) == 0 {
		t.Errorf("--evidence with the log first: no finding pcap")
	}
}

// TestUncountedRecords: records that gave no packet or byte count (a
// conn.log without those columns, or with them unset) are counted as 0,
// and every report format says how many, once, in its note of flow
// records; a log that gave every count says nothing of it.
func TestUncountedRecords(t *testing.T) {
	dir := t.TempDir()
	const head = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
	subset := filepath.Join(dir, "subset.log")
	data := head + "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\torig_pkts\tresp_pkts\n" +
		"1764410400.000000\t10.0.0.1\t50000\t10.0.0.2\t443\ttcp\tSF\t5\t4\n" +
		"1764410401.000000\t10.0.0.1\t50001\t10.0.0.3\t53\tudp\tS0\t-\t-\n"
	if err := os.WriteFile(subset, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	full := filepath.Join(dir, "full.log")
	data = head + "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\n" +
		"1764410400.000000\t10.0.0.1\t50000\t10.0.0.2\t443\ttcp\tSF\t5\t400\t4\t500\n"
	if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	const note = "2 of the records gave no packet or byte count, taken as 0 in the packets and bytes"
	for _, format := range report.Formats {
		_, out, errs := analyzeCmd(t, "analyze", "--fail-on", "none", "-f", format, subset)
		if n := strings.Count(out, note); n != 1 {
			t.Errorf("%s: the note %d times (%s):\n%.2000s", format, n, errs, out)
		}
		_, out, _ = analyzeCmd(t, "analyze", "--fail-on", "none", "-f", format, full)
		if strings.Contains(out, "gave no packet or byte count") {
			t.Errorf("%s: a log with every count says some had none", format)
		}
	}
	_, out, _ := analyzeCmd(t, "analyze", "--fail-on", "none", "-f", "json", subset)
	var rep struct {
		Captures []struct {
			Records   uint64 `json:"records"`
			Uncounted uint64 `json:"uncounted_records"`
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Captures) != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	if c := rep.Captures[0]; c.Records != 2 || c.Uncounted != 2 {
		t.Errorf("records %d, uncounted_records %d; want 2, 2", c.Records, c.Uncounted)
	}
	// Per service: a count no record gave is null (not 0), one some gave
	// is their sum; no answer to an unknown number of datagrams.
	var flows struct {
		Flows []struct {
			Port           int
			Packets, Bytes *uint64
			BlockedBy      map[string]any `json:"blocked_by"`
		}
	}
	if err := json.Unmarshal([]byte(out), &flows); err != nil || len(flows.Flows) != 2 {
		t.Fatalf("%v: %d flows", err, len(flows.Flows))
	}
	for _, f := range flows.Flows {
		switch f.Port {
		case 443:
			if f.Packets == nil || *f.Packets != 9 || f.Bytes != nil {
				t.Errorf("443: packets %v, bytes %v; want 9, null", f.Packets, f.Bytes)
			}
		case 53:
			if f.Packets != nil || f.Bytes != nil {
				t.Errorf("53: packets %v, bytes %v; want null, null", f.Packets, f.Bytes)
			}
			if _, ok := f.BlockedBy["attempts"]; ok || f.BlockedBy["kind"] != "no-answer" ||
				!strings.Contains(fmt.Sprint(f.BlockedBy["text"]), "give no packet count") {
				t.Errorf("53: blocked_by %v", f.BlockedBy)
			}
		default:
			t.Errorf("flow to port %d", f.Port)
		}
	}
	for _, format := range []string{"table", "markdown", "csv", "html"} {
		_, out, _ := analyzeCmd(t, "analyze", "--fail-on", "none", "-f", format, subset)
		if strings.Contains(out, "no answer to 0") || strings.Contains(out, "no answer: 0") {
			t.Errorf("%s: no answer to 0 packets, where the records gave no count:\n%s", format, out)
		}
	}
	_, out, _ = analyzeCmd(t, "analyze", "--fail-on", "none", "-f", "csv", subset)
	cr := csv.NewReader(strings.NewReader(out))
	cr.Comment, cr.FieldsPerRecord = '#', -1
	recs, err := cr.ReadAll()
	if err != nil || len(recs) < 3 {
		t.Fatalf("csv: %v, %d records", err, len(recs))
	}
	col := func(name string) int { return slices.Index(recs[0], name) }
	for _, r := range recs[1:] {
		if r[col("port")] == "53" && (r[col("packets")] != "" || r[col("bytes")] != "") {
			t.Errorf("csv: 53: packets %q, bytes %q; want empty", r[col("packets")], r[col("bytes")])
		}
		if r[col("port")] == "443" && (r[col("packets")] != "9" || r[col("bytes")] != "") {
			t.Errorf("csv: 443: packets %q, bytes %q; want 9, empty", r[col("packets")], r[col("bytes")])
		}
	}
}

// TestUncountedSweep: a sweep of flow records that gave no packet or byte
// count has them null in JSON and empty in CSV, not 0.
func TestUncountedSweep(t *testing.T) {
	var b strings.Builder
	b.WriteString("#separator \\x09\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\n")
	for i := range 12 {
		fmt.Fprintf(&b, "1764410400.%06d\t10.0.0.1\t%d\t10.0.1.%d\t22\ttcp\tS0\n", i, 40000+i, i+1)
	}
	path := filepath.Join(t.TempDir(), "sweep.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, errs := analyzeCmd(t, "analyze", "--fail-on", "none", "--sweep-threshold", "10", "-f", "json", path)
	var rep struct {
		Sweeps []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Sweeps) != 1 {
		t.Fatalf("%v: %d sweeps: %s", err, len(rep.Sweeps), errs)
	}
	for _, k := range []string{"packets", "bytes"} {
		if v, ok := rep.Sweeps[0][k]; !ok || v != nil {
			t.Errorf("sweep %s = %v (present %v), want null", k, v, ok)
		}
	}
	_, out, _ = analyzeCmd(t, "analyze", "--fail-on", "none", "--sweep-threshold", "10", "-f", "csv", path)
	cr := csv.NewReader(strings.NewReader(out))
	cr.Comment, cr.FieldsPerRecord = '#', -1
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, r := range recs[1:] {
		if r[0] == report.CSVSweep {
			rows++
			if p, by := r[slices.Index(recs[0], "packets")], r[slices.Index(recs[0], "bytes")]; p != "" || by != "" {
				t.Errorf("csv sweep: packets %q, bytes %q; want empty", p, by)
			}
		}
	}
	if rows != 1 {
		t.Errorf("%d sweep rows in the csv", rows)
	}
}

// TestOneWayNetFlow: NetFlow records none of which saw packets both ways
// (an exporter that may see one direction only) make every report format
// say once that "unanswered" there does not mean no reply came; a file
// with answered connections says nothing of it.
func TestOneWayNetFlow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ingress.csv")
	data := "ts,te,sa,da,sp,dp,pr,ipkt,ibyt\n" +
		"2026-11-29 10:00:00.100,2026-11-29 10:00:01.100,192.0.2.1,192.0.2.10,51000,443,TCP,3,180\n" +
		"2026-11-29 10:00:02.100,2026-11-29 10:00:03.100,192.0.2.1,192.0.2.11,51001,443,TCP,3,180\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	const note = "had packets both ways: if its exporter sees only one direction, the replies were not exported and unanswered does not mean that no reply came"
	for _, format := range report.Formats {
		_, out, errs := analyzeCmd(t, "analyze", "--fail-on", "none", "-f", format, path)
		if n := strings.Count(out, note); n != 1 {
			t.Errorf("%s: the note %d times (%s)", format, n, errs)
		}
		_, out, _ = analyzeCmd(t, "analyze", "--fail-on", "none", "-f", format, "../../analyzer/testdata/nfdump.csv")
		if strings.Contains(out, note) {
			t.Errorf("%s: a NetFlow file with answered connections says none was", format)
		}
	}
	_, out, _ := analyzeCmd(t, "analyze", "--fail-on", "none", "-f", "json", path)
	var rep struct {
		Captures []struct {
			OneWay bool `json:"one_way"`
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Captures) != 1 || !rep.Captures[0].OneWay {
		t.Errorf("%v: captures %+v, want one_way", err, rep.Captures)
	}
}
