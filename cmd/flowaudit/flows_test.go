package main

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/capture"
	"github.com/flowaudit/flowaudit/analyzer/capturetest"
	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/report/connout"
)

func runCmd(t *testing.T, stdin []byte, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, bytes.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l == "" {
			continue
		}
		m := map[string]any{}
		d := json.NewDecoder(strings.NewReader(l))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("bad JSON line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// captureTimes reads the first and last timestamps of a capture.
func captureTimes(t *testing.T, path string) (first, last string, frames int) {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var ts []int64
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		ts = append(ts, p.Timestamp.UnixMicro())
	}
	f := func(us int64) string { return fmt.Sprintf("%d.%06d", us/1e6, us%1e6) }
	return f(ts[0]), f(ts[len(ts)-1] - ts[0]), len(ts)
}

func TestFlowsJSONLines(t *testing.T) {
	dir := capturetest.Dir(t)
	path := filepath.Join(dir, "syn-then-rst.pcap")
	code, out, errs := runCmd(t, nil, "flows", path)
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	lines := jsonLines(t, out)
	if len(lines) != 1 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	m := lines[0]
	ts, dur, _ := captureTimes(t, path)
	cid := flow.CommunityID(0, netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("1.1.1.2"), 13131, 31313, 6)
	want := map[string]string{
		"ts": ts, "duration": dur,
		"id.orig_h": "1.1.1.1", "id.orig_p": "13131", "id.resp_h": "1.1.1.2", "id.resp_p": "31313",
		"proto": "tcp", "conn_state": "RSTOS0", "history": "SR",
		"orig_pkts": "2", "resp_pkts": "0", "orig_ip_bytes": "80", "resp_ip_bytes": "0",
		"orig_bytes": "0", "resp_bytes": "0", "community_id": cid,
		"outcome": "unanswered", "client_by": "syn", "file": path, "first_frame": "1", "last_frame": "2",
	}
	for k, v := range want {
		if got := fmt.Sprint(m[k]); got != v {
			t.Errorf("%s = %s, want %s", k, got, v)
		}
	}
	for k := range m {
		if !slices.Contains(connout.Columns, k) {
			t.Errorf("unexpected field %q", k)
		}
	}
}

// TestFlowsFields checks every capture's lines carry the conn.log fields
// and counts that add up.
func TestFlowsFields(t *testing.T) {
	dir := capturetest.Dir(t)
	for _, name := range []string{"sip-tcp.pcap", "dns_fragmented.pcap", "modify-request.pcapng", "gre-sample.pcap", "vrrp.pcap"} {
		t.Run(name, func(t *testing.T) {
			code, out, errs := runCmd(t, nil, "flows", "--format", "jsonl", filepath.Join(dir, name))
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			lines := jsonLines(t, out)
			if len(lines) == 0 {
				t.Fatal("no connections")
			}
			for _, m := range lines {
				for _, k := range []string{"ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "duration",
					"orig_bytes", "resp_bytes", "conn_state", "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes",
					"community_id", "outcome", "client_by", "file", "first_frame", "last_frame"} {
					if _, ok := m[k]; !ok {
						t.Errorf("line %v lacks %s", m, k)
					}
				}
				if !strings.HasPrefix(fmt.Sprint(m["community_id"]), "1:") {
					t.Errorf("community_id %v", m["community_id"])
				}
				first, last := fmt.Sprint(m["first_frame"]), fmt.Sprint(m["last_frame"])
				if len(first) > len(last) || (len(first) == len(last) && first > last) {
					t.Errorf("frames %s-%s", first, last)
				}
			}
		})
	}
}

func TestFlowsFormatsAndFilters(t *testing.T) {
	dir := capturetest.Dir(t)
	syn := filepath.Join(dir, "syn-then-rst.pcap")
	sip := filepath.Join(dir, "sip.pcap")
	tests := []struct {
		name  string
		args  []string
		lines int
	}{
		{"port matches either side", []string{"--port", "31313", syn}, 1},
		{"port list", []string{"--port", "80,13131", syn}, 1},
		{"other port", []string{"--port", "80", syn}, 0},
		{"proto", []string{"--proto", "udp", syn}, 0},
		{"proto tcp", []string{"--proto", "TCP", syn}, 1},
		{"host CIDR", []string{"--host", "1.1.1.0/30", syn}, 1},
		{"host IPv4-mapped CIDR", []string{"--host", "::ffff:1.1.1.0/126", syn}, 1},
		{"host address", []string{"--host", "1.1.1.2", syn}, 1},
		{"other host", []string{"--host", "9.9.9.9", syn}, 0},
		{"two files", []string{syn, sip}, 9},
		{"two files, one host", []string{"--host", "212.242.33.36", syn, sip}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCmd(t, nil, append([]string{"flows"}, tc.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if n := len(jsonLines(t, out)); n != tc.lines {
				t.Errorf("%d lines, want %d:\n%s", n, tc.lines, out)
			}
		})
	}

	t.Run("csv", func(t *testing.T) {
		code, out, _ := runCmd(t, nil, "flows", "--format", "csv", syn, sip)
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if code != exitOK || err != nil || len(recs) != 10 {
			t.Fatalf("exit %d, err %v, %d records", code, err, len(recs))
		}
		if !slices.Equal(recs[0], connout.Columns) {
			t.Errorf("header %v", recs[0])
		}
		col := func(name string) int { return slices.Index(connout.Columns, name) }
		if recs[1][1] != "1.1.1.1" || recs[1][col("conn_state")] != "RSTOS0" || recs[2][col("file")] != sip {
			t.Errorf("rows %v / %v", recs[1], recs[2])
		}
	})
	t.Run("table", func(t *testing.T) {
		code, out, _ := runCmd(t, nil, "flows", "-f", "table", syn, sip)
		if code != exitOK || !strings.Contains(out, "CLIENT") || !strings.Contains(out, "1.1.1.1:13131") ||
			!strings.Contains(out, "sip.pcap:") || strings.Count(out, "\n") != 9+4 {
			t.Errorf("exit %d, table:\n%s", code, out)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		raw, err := os.ReadFile(syn)
		if err != nil {
			t.Fatal(err)
		}
		code, out, _ := runCmd(t, raw, "flows", "-")
		lines := jsonLines(t, out)
		if code != exitOK || len(lines) != 1 || lines[0]["file"] != "-" {
			t.Errorf("exit %d: %s", code, out)
		}
	})
}

// TestFlowsReadError: flows read before a damaged record are printed, then
// the error with its position; exit 1. A file cut in its last record is a
// warning with the same position, and exit 0.
func TestFlowsReadError(t *testing.T) {
	dir := capturetest.Dir(t)
	raw, err := os.ReadFile(filepath.Join(dir, "sip-tcp.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	damaged := append([]byte(nil), raw...)
	binary.LittleEndian.PutUint32(damaged[1936+8:], 0x00ff0000) // record 11's captured length: over the snap length
	for _, c := range []struct {
		name, data string
		code       int
		msg        string
	}{
		{"cut.pcap", string(raw[:len(raw)-30]), exitOK, "flowaudit: warning: "},
		{"damaged.pcap", string(damaged), exitError, "flowaudit: flows: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), c.name)
			if err := os.WriteFile(path, []byte(c.data), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errs := runCmd(t, nil, "flows", path)
			if code != c.code {
				t.Fatalf("exit %d, want %d", code, c.code)
			}
			if n := len(jsonLines(t, out)); n != 1 {
				t.Errorf("%d lines before the error, want 1:\n%s", n, out)
			}
			if !strings.Contains(errs, c.msg+path+": offset 1936, frame 11") {
				t.Errorf("stderr %q lacks %q and the position", errs, c.msg)
			}
		})
	}
}

func TestFlowsUsage(t *testing.T) {
	dir := capturetest.Dir(t)
	syn := filepath.Join(dir, "syn-then-rst.pcap")
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"flows"}, exitUsage, "no capture file"},
		{[]string{"flows", "--format", "xml", syn}, exitUsage, "unknown format"},
		{[]string{"flows", "--host", "nowhere", syn}, exitUsage, "neither an address"},
		{[]string{"flows", "--host", "1.1.1.2/30", syn}, exitUsage, `--host "1.1.1.2/30" has host bits set (did you mean 1.1.1.0/30?)`},
		{[]string{"flows", "--port", "70000", syn}, exitUsage, "not a port"},
		{[]string{"flows", "--proto", "carrier-pigeon", syn}, exitUsage, "--proto"},
		{[]string{"flows", "--udp-timeout", "0s", syn}, exitUsage, "must be positive"},
		{[]string{"flows", "--bogus", syn}, exitUsage, "unknown flag"},
		{[]string{"flows", filepath.Join(dir, "does-not-exist.pcap")}, exitError, "no such file"},
	}
	for _, tc := range tests {
		code, _, errs := runCmd(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d %q, want %d %q", tc.args, code, errs, tc.code, tc.msg)
		}
	}
	code, out, _ := runCmd(t, nil, "flows", "--help")
	if code != exitOK || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--udp-timeout") {
		t.Errorf("help: exit %d\n%s", code, out)
	}
}

// TestFlowsTerminalStderr: with stderr on a terminal, a progress bar and
// the summary go to stderr.
func TestFlowsTerminalStderr(t *testing.T) {
	dir := capturetest.Dir(t)
	old := progressMinSize
	progressMinSize = 0
	defer func() { progressMinSize = old }()
	var out, errb bytes.Buffer
	e := &env{stdin: bytes.NewReader(nil), stdout: &out, stderr: &errb, stderrTTY: true, getenv: os.Getenv}
	code := runFlows(e, []string{filepath.Join(dir, "syslog.pcap")})
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := errb.String()
	for _, want := range []string{"syslog.pcap", "1 file, 94 packets", "22 connections"} {
		if !strings.Contains(s, want) {
			t.Errorf("stderr lacks %q:\n%s", want, s)
		}
	}
	if testing.Verbose() {
		t.Logf("stderr:\n%s", s)
	}
	if len(jsonLines(t, out.String())) != 22 {
		t.Errorf("stdout:\n%s", out.String())
	}
}

// TestCPUProfile: --cpuprofile (hidden, for make pgo) writes a pprof
// profile of the command, whose output is unchanged; a path that cannot be
// created is an error before anything is read.
func TestCPUProfile(t *testing.T) {
	dir := capturetest.Dir(t)
	syn := filepath.Join(dir, "syn-then-rst.pcap")
	_, want, _ := runCmd(t, nil, "flows", "-f", "jsonl", syn)
	for _, cmd := range [][]string{
		{"flows", "-f", "jsonl", syn},
		{"analyze", "--fail-on", "none", syn},
		{"roles", syn},
	} {
		prof := filepath.Join(t.TempDir(), "cpu.pprof")
		code, out, errs := runCmd(t, nil, append(cmd, "--cpuprofile", prof)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", cmd, code, errs)
		}
		if cmd[0] == "flows" && out != want {
			t.Errorf("flows output changed with --cpuprofile:\n%s\nwant\n%s", out, want)
		}
		b, err := os.ReadFile(prof)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b { // pprof writes gzipped protobuf
			t.Errorf("%v: %s is not a pprof profile (%d bytes)", cmd, prof, len(b))
		}
	}
	code, _, errs := runCmd(t, nil, "flows", "--cpuprofile", filepath.Join(dir, "no-such-dir", "cpu.pprof"), syn)
	if code != exitError || !strings.Contains(errs, "--cpuprofile") {
		t.Errorf("unwritable profile: exit %d %q", code, errs)
	}
	_, help, _ := runCmd(t, nil, "flows", "--help")
	if strings.Contains(help, "cpuprofile") {
		t.Error("--cpuprofile shows in the help; it is for performance work only")
	}
}

// TestFlowsSaysSkipped: frames in no connection are counted by reason on
// stderr whatever the format, terminal or not.
func TestFlowsSaysSkipped(t *testing.T) {
	dir := capturetest.Dir(t)
	for _, format := range []string{"jsonl", "csv", "table", "zeek", "zeek-json"} {
		t.Run(format, func(t *testing.T) {
			code, _, errOut := runCmd(t, nil, "flows", "-f", format, filepath.Join(dir, "mapi.pcap"))
			if code != exitOK || !strings.Contains(errOut, "skipped 5 frames (not IP 5)") {
				t.Errorf("exit %d, stderr %q", code, errOut)
			}
			code, _, errOut = runCmd(t, nil, "flows", "-f", format, filepath.Join(dir, "sip.pcap"))
			if code != exitOK || errOut != "" {
				t.Errorf("nothing skipped: exit %d, stderr %q", code, errOut)
			}
		})
	}
}

// TestFlowsZeekFormats: --format zeek writes a conn.log whose rows are the
// connections jsonl prints, with the header first and #close last, times
// from the capture; --format zeek-json the same rows as Zeek's JSON.
func TestFlowsZeekFormats(t *testing.T) {
	dir := capturetest.Dir(t)
	syn, sip := filepath.Join(dir, "syn-then-rst.pcap"), filepath.Join(dir, "sip.pcap")
	_, jl, _ := runCmd(t, nil, "flows", "-f", "jsonl", sip, syn)
	want := jsonLines(t, jl)

	code, out, errOut := runCmd(t, nil, "flows", "-f", "zeek", sip, syn)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 8+len(want)+1 || lines[0] != `#separator \x09` || lines[5] != "#open\t2005-07-04-09-32-52" ||
		lines[len(lines)-1] != "#close\t2020-09-11-23-00-59" {
		t.Fatalf("conn.log:\n%s", out)
	}
	fields := strings.Split(lines[6], "\t")[1:]
	for i, l := range lines[8 : len(lines)-1] {
		vals := strings.Split(l, "\t")
		if len(vals) != len(fields) {
			t.Fatalf("row %d: %d values for %d fields", i, len(vals), len(fields))
		}
		row := map[string]string{}
		for j, f := range fields {
			row[f] = vals[j]
		}
		for _, f := range []string{"ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "conn_state", "history", "orig_pkts", "resp_ip_bytes", "community_id", "missed_bytes"} {
			if w := fmt.Sprint(want[i][f]); row[f] != w {
				t.Errorf("row %d %s: %q, want %q", i, f, row[f], w)
			}
		}
	}

	code, out, _ = runCmd(t, nil, "flows", "-f", "zeek-json", sip, syn)
	got := jsonLines(t, out)
	if code != exitOK || len(got) != len(want) {
		t.Fatalf("exit %d, %d lines", code, len(got))
	}
	for i := range got {
		for _, f := range []string{"ts", "id.orig_h", "id.resp_p", "conn_state", "orig_ip_bytes"} {
			if fmt.Sprint(got[i][f]) != fmt.Sprint(want[i][f]) {
				t.Errorf("line %d %s: %v, want %v", i, f, got[i][f], want[i][f])
			}
		}
		if _, ok := got[i]["outcome"]; ok || got[i]["uid"] == nil {
			t.Errorf("line %d is not Zeek's: %v", i, got[i])
		}
	}
}

// zeekGREBaseline is Zeek's own conn.log of the inner connections of
// gre-sample.pcap (zeek/zeek testing/btest/Baseline/core.skip_analyzer,
// BSD-3-Clause), from id.orig_h to resp_ip_bytes, sorted. Zeek's eighth line,
// the ICMP unreachable that quotes the UDP/53 query, is left out: flowaudit
// attaches ICMP errors to the connection they quote (a deliberate
// difference).
var zeekGREBaseline = []string{
	"66.59.111.190	123	129.170.17.4	123	udp	-	0.072374	48	48	SF	-	-	0	Dd	1	76	1	76",
	"66.59.111.190	123	18.26.4.105	123	udp	-	0.074086	48	48	SF	-	-	0	Dd	1	76	1	76",
	"66.59.111.190	123	66.59.111.182	123	udp	-	0.056629	48	48	SF	-	-	0	Dd	1	76	1	76",
	"66.59.111.190	37675	172.28.2.3	53	udp	-	5.001141	66	0	S0	-	-	0	D	2	122	0	0",
	"66.59.111.190	40264	172.28.2.3	22	tcp	-	3.157831	952	1671	SF	-	-	0	ShAdDaFf	12	1584	10	2199",
	"66.59.111.190	8	172.28.2.3	0	icmp	-	3.061298	224	224	OTH	-	-	0	-	4	336	4	336",
}

// TestFlowsZeekBaseline: flows --format zeek agrees with the conn.log Zeek
// itself wrote for the same capture, column for column.
func TestFlowsZeekBaseline(t *testing.T) {
	code, out, errOut := runCmd(t, nil, "flows", "-f", "zeek", capturetest.Path(t, "gre-sample.pcap"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !strings.HasPrefix(l, "#") {
			got = append(got, strings.Join(strings.Split(l, "\t")[2:20], "\t"))
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, zeekGREBaseline) {
		t.Errorf("conn.log rows:\n%s\nZeek's:\n%s", strings.Join(got, "\n"), strings.Join(zeekGREBaseline, "\n"))
	}
}
