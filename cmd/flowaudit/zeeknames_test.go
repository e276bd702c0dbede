package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/zeeklog"
)

// writeZeekLogs writes capture's connections as Zeek would log them: a
// conn.log, an ssl.log (TSV) with the SNI of each connection that sent
// one and an http.log (JSON, gzip-compressed and rotated when gz) with
// each Host header, the uids tying them together. It returns the paths.
func writeZeekLogs(t *testing.T, capture, dir string, gz bool) (conn, ssl, http string) {
	t.Helper()
	var conns []flow.Connection
	if _, err := analyzer.Run([]string{capture}, analyzer.Options{NoHash: true,
		OnConnection: func(c *flow.Connection) { conns = append(conns, *c) }}); err != nil {
		t.Fatal(err)
	}
	var cb, sb, hb bytes.Buffer
	w := zeeklog.NewTSV(&cb)
	sb.WriteString("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tssl\n" +
		"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tcipher\tcurve\tserver_name\tresumed\testablished\n" +
		"#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tstring\tbool\tbool\n")
	last := time.Time{}
	for i := range conns {
		c := &conns[i]
		if err := w.Write(c); err != nil {
			t.Fatal(err)
		}
		last = c.End
		uid := zeeklog.UID(c)
		ts := zeeklog.AppendSeconds(nil, time.Duration(c.Start.UnixNano()))
		switch c.NameSource {
		case flow.NameSNI:
			fmt.Fprintf(&sb, "%s\t%s\t%s\t%d\t%s\t%d\tTLSv13\t-\t-\t%s\tF\tT\n", ts, uid, c.Orig, c.OrigPort, c.Resp, c.RespPort, strings.ToUpper(c.ServerName))
		case flow.NameHTTPHost:
			line, _ := json.Marshal(map[string]any{"ts": json.Number(ts), "uid": uid, "id.orig_h": c.Orig.String(), "id.orig_p": c.OrigPort,
				"id.resp_h": c.Resp.String(), "id.resp_p": c.RespPort, "trans_depth": 1, "method": "GET", "host": c.ServerName + ":" + fmt.Sprint(c.RespPort), "uri": "/"})
			hb.Write(append(line, '\n'))
		}
	}
	if err := w.Close(last); err != nil {
		t.Fatal(err)
	}
	sb.WriteString("#close\t2026-11-29-10-00-00\n")
	conn, ssl, http = filepath.Join(dir, "conn.log"), filepath.Join(dir, "ssl.log"), filepath.Join(dir, "http.log")
	hdata := hb.Bytes()
	if gz {
		http = filepath.Join(dir, "http.10:00:00-11:00:00.log.gz")
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(hdata)
		zw.Close()
		hdata = z.Bytes()
	}
	for p, data := range map[string][]byte{conn: cb.Bytes(), ssl: sb.Bytes(), http: hdata} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if sb.Len() < 400 || hb.Len() == 0 {
		t.Fatalf("the capture gave no SNI (%d bytes) or Host (%d bytes)", sb.Len(), hb.Len())
	}
	return conn, ssl, http
}

// TestZeekNameLogs: the Cloud Connector pilot written as Zeek's conn.log,
// ssl.log and http.log gives the capture's host-name findings for every
// service named by SNI or Host header (DNS is not in these logs): the
// same status, rules and name evidence, whether the ssl.log and http.log
// lie beside the conn.log (http.log rotated and compressed) or are given
// as inputs. Without them the host-pattern rules cannot document those
// services.
func TestZeekNameLogs(t *testing.T) {
	t.Chdir(sampleRoot)
	const capture = "testdata/names/cloud-connector.pcapng"
	args := func(inputs ...string) []string {
		return append([]string{"analyze", "-i", "testdata/names/inventory.yaml", "--product", "citrix", "--reproducible", "-f", "json"}, inputs...)
	}
	type flowRep struct {
		Status, Client, Server, Proto string
		Port                          int
		Rules                         []struct{ ID string }
		Names                         []struct{ Name, Evidence string }
		NameMatches                   []struct{ Rule, Name, Evidence string } `json:"name_matches"`
	}
	report := func(args []string) map[string]flowRep {
		t.Helper()
		code, out, errs := analyzeCmd(t, args...)
		var r struct{ Flows []flowRep }
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("exit %d: %v: %s", code, err, errs)
		}
		m := map[string]flowRep{}
		for _, f := range r.Flows {
			m[fmt.Sprint(f.Client, " ", f.Server, " ", f.Proto, "/", f.Port)] = f
		}
		return m
	}
	authoritative := func(f flowRep) bool {
		if len(f.Names) == 0 {
			return false
		}
		for _, n := range f.Names {
			if n.Evidence != "sni" && n.Evidence != "http-host" {
				return false
			}
		}
		return true
	}
	capFlows := report(args(capture))

	beside := t.TempDir()
	conn, _, _ := writeZeekLogs(t, capture, beside, true)
	other := t.TempDir()
	conn2, ssl2, http2 := writeZeekLogs(t, capture, other, false)
	alone := filepath.Join(t.TempDir(), "conn.log")
	data, _ := os.ReadFile(conn2)
	os.WriteFile(alone, data, 0o644)

	for _, tc := range []struct {
		name   string
		inputs []string
	}{
		{"beside the conn.log", []string{conn}},
		{"given as files", []string{alone, ssl2, http2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logFlows := report(args(tc.inputs...))
			// The report names the logs the names came from.
			_, out, _ := analyzeCmd(t, args(tc.inputs...)...)
			var note struct {
				FrameNote string `json:"frame_note"`
			}
			json.Unmarshal([]byte(out), &note)
			if !strings.Contains(note.FrameNote, "host names (sni, http-host) by uid from ") || !strings.Contains(note.FrameNote, "ssl.log") {
				t.Errorf("frame_note %q does not name the ssl.log and http.log", note.FrameNote)
			}
			compared := 0
			for k, cf := range capFlows {
				if !authoritative(cf) {
					continue
				}
				lf, ok := logFlows[k]
				if !ok {
					t.Errorf("%s: not in the logs' report", k)
					continue
				}
				compared++
				if !slices.Equal(cf.Rules, lf.Rules) || cf.Status != lf.Status || !slices.Equal(cf.NameMatches, lf.NameMatches) || !slices.Equal(cf.Names, lf.Names) {
					t.Errorf("%s:\n capture %+v\n logs    %+v", k, cf, lf)
				}
			}
			t.Logf("%s: %d services compared", tc.name, compared)
			if compared < 3 {
				t.Errorf("%d services named by SNI or Host compared, want the pilot's 3 or more", compared)
			}
		})
	}
	// Without the ssl.log and http.log: no names, so not documented by
	// the host-pattern rules.
	noNames := report(args(alone))
	for k, cf := range capFlows {
		if authoritative(cf) && len(cf.NameMatches) > 0 {
			if lf := noNames[k]; len(lf.NameMatches) != 0 || len(lf.Names) != 0 {
				t.Errorf("%s: names without ssl.log or http.log: %+v", k, lf)
			}
		}
	}
}

// TestZeekNameLogAlone: an ssl.log without a conn.log is a usage of the
// wrong file, said so, not an empty report that looks fine.
func TestZeekNameLogAlone(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ssl.log")
	if err := os.WriteFile(p, []byte("#separator \\x09\n#path\tssl\n#fields\tuid\tserver_name\nC1\ta.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCmd(t, nil, "flows", p)
	if code == exitOK || !strings.Contains(errs, "names the connections of a Zeek conn.log, and none is given") {
		t.Errorf("exit %d: %s", code, errs)
	}
}

// TestZeekNameLogWithCaptures: an ssl.log or dns.log given with captures
// and no flow records names nothing (a capture's connections are named
// from its packets): said so, exit 1, not read, hashed and cited in the
// report as an input that named connections.
func TestZeekNameLogWithCaptures(t *testing.T) {
	tmp := t.TempDir()
	ssl := filepath.Join(tmp, "ssl.log")
	dns := filepath.Join(tmp, "dns.log")
	os.WriteFile(ssl, []byte("#separator \\x09\n#path\tssl\n#fields\tuid\tserver_name\nC1\ta.example\n"), 0o644)
	os.WriteFile(dns, []byte("#separator \\x09\n#path\tdns\n#fields\tts\tid.orig_h\tid.resp_p\tquery\tanswers\n1746522000.5\t192.0.2.61\t53\ta.example\t203.0.113.80\n"), 0o644)
	capture := "../../testdata/names/cloud-connector.pcapng"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"flows", dns, capture}, "dns.log: a dns.log names the connections of flow records"},
		{[]string{"flows", capture, ssl}, "ssl.log: an ssl.log names the connections of flow records"},
		{[]string{"analyze", "-i", "../../testdata/names/inventory.yaml", "-f", "json", capture, dns}, "and the other inputs are captures"},
	} {
		code, out, errs := runCmd(t, nil, tc.args...)
		if code != exitError || !strings.Contains(errs, tc.want) || strings.Contains(out, "name_logs") {
			t.Errorf("%v: exit %d, stderr %q, want exit 1 and %q", tc.args, code, errs, tc.want)
		}
	}
	// With a conn.log among the inputs the dns.log names its connections.
	_, log, _ := runCmd(t, nil, "flows", "--format", "zeek", capture)
	conn := filepath.Join(tmp, "conn.log")
	os.WriteFile(conn, []byte(log), 0o644)
	code, out, errs := runCmd(t, nil, "analyze", "-i", "../../testdata/names/inventory.yaml", "-f", "json", capture, dns, conn)
	if code == exitError || !strings.Contains(out, `"kind": "dns"`) {
		t.Errorf("capture, dns.log and conn.log: exit %d, %s", code, errs)
	}
}

// TestZeekNameLogUnnamable: a name log given that could name none of the
// other inputs' connections is an error (exit 1) before anything is
// read, whatever the inputs are: an ssl.log or http.log names only a Zeek
// conn.log's connections (by uid; nfdump and IPFIX records have none), a
// dns.log any flow record's (by address), neither a capture's. Standard
// input and a named pipe are looked at to tell; what was looked at is
// still read whole when the log can name them.
func TestZeekNameLogUnnamable(t *testing.T) {
	tmp := t.TempDir()
	ssl := filepath.Join(tmp, "ssl.log")
	httpLog := filepath.Join(tmp, "http.log")
	dns := filepath.Join(tmp, "dns.log")
	os.WriteFile(ssl, []byte("#separator \\x09\n#path\tssl\n#fields\tuid\tserver_name\nC1\ta.example\n"), 0o644)
	os.WriteFile(httpLog, []byte(`{"ts":1,"uid":"C2","method":"GET","host":"b.example"}`+"\n"), 0o644)
	// 192.0.2.1 asked for svc.example and got 192.0.2.10 just before it
	// connected to 192.0.2.10:443 (the first records of nfdump.csv).
	os.WriteFile(dns, []byte("#separator \\x09\n#path\tdns\n#fields\tts\tid.orig_h\tid.resp_p\tquery\tanswers\n1795946399.5\t192.0.2.1\t53\tsvc.example\t192.0.2.10\n"), 0o644)
	capture := "../../testdata/names/cloud-connector.pcapng"
	nfdump := "../../analyzer/testdata/nfdump.csv"
	capBytes, err := os.ReadFile(capture)
	if err != nil {
		t.Fatal(err)
	}
	nfBytes, err := os.ReadFile(nfdump)
	if err != nil {
		t.Fatal(err)
	}
	_, connLog, _ := runCmd(t, nil, "flows", "--format", "zeek", capture)
	conn := filepath.Join(t.TempDir(), "conn.log") // no name log beside it
	os.WriteFile(conn, []byte(connLog), 0o644)
	_, nfFlows, _ := runCmd(t, nil, "flows", "--format", "jsonl", nfdump)

	const noUID = "names the connections of a Zeek conn.log by their uid, and the flow records given (nfdump, IPFIX) have none"
	const captures = "and the other inputs are captures"
	for _, tc := range []struct {
		name  string
		stdin []byte
		fifo  []byte // written to a named pipe given as the input "fifo"
		args  []string
		want  string // "": read, exit 0
		named bool   // svc.example names the nfdump records
	}{
		{"ssl.log with nfdump", nil, nil, []string{"flows", ssl, nfdump}, "ssl.log: an ssl.log " + noUID, false},
		{"http.log with nfdump", nil, nil, []string{"flows", nfdump, httpLog}, "http.log: an http.log " + noUID, false},
		{"dns.log then ssl.log with nfdump", nil, nil, []string{"flows", dns, ssl, nfdump}, "ssl.log: an ssl.log " + noUID, false},
		{"dns.log with nfdump", nil, nil, []string{"flows", "--format", "jsonl", dns, nfdump}, "", true},
		{"ssl.log with nfdump and a conn.log", nil, nil, []string{"flows", ssl, nfdump, conn}, "", false},
		{"ssl.log with nfdump on stdin", nfBytes, nil, []string{"flows", ssl, "-"}, "ssl.log: an ssl.log " + noUID, false},
		{"dns.log with nfdump on stdin", nfBytes, nil, []string{"flows", "--format", "jsonl", dns, "-"}, "", true},
		{"dns.log with a capture on stdin", capBytes, nil, []string{"flows", dns, "-"}, "dns.log: a dns.log names the connections of flow records", false},
		{"dns.log with a capture and a capture on stdin", capBytes, nil, []string{"flows", capture, dns, "-"}, captures, false},
		{"analyze: dns.log with a capture on stdin", capBytes, nil, []string{"analyze", "-i", "../../testdata/names/inventory.yaml", "-f", "json", "-", dns}, captures, false},
		{"ssl.log with a conn.log on stdin", []byte(connLog), nil, []string{"flows", ssl, "-"}, "", false},
		{"dns.log with a capture in a pipe", nil, capBytes, []string{"flows", dns, "fifo"}, captures, false},
		{"dns.log with nfdump in a pipe", nil, nfBytes, []string{"flows", "--format", "jsonl", dns, "fifo"}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := slices.Clone(tc.args)
			if tc.fifo != nil {
				fifo := filepath.Join(t.TempDir(), "fifo")
				if err := syscall.Mkfifo(fifo, 0o600); err != nil {
					t.Skipf("mkfifo: %v", err)
				}
				args[slices.Index(args, "fifo")] = fifo
				done := make(chan struct{})
				go func() {
					defer close(done)
					if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil { // once a reader opens it
						w.Write(tc.fifo) // the reader may leave early: an error then
						w.Close()
					}
				}()
				defer func() {
					// A writer the command left waiting is given a reader.
					for {
						if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
							io.Copy(io.Discard, r)
							r.Close()
						}
						select {
						case <-done:
							return
						case <-time.After(10 * time.Millisecond):
						}
					}
				}()
			}
			code, out, errs := runCmd(t, tc.stdin, args...)
			if tc.want != "" {
				if code != exitError || !strings.Contains(errs, tc.want) || out != "" {
					t.Errorf("exit %d, stdout %d bytes, stderr %q; want exit 1, nothing written and %q", code, len(out), errs, tc.want)
				}
				return
			}
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if named := strings.Contains(out, `"server_name":"svc.example"`) || strings.Contains(out, `"server_name": "svc.example"`); named != tc.named {
				t.Errorf("svc.example named: %v, want %v", named, tc.named)
			}
			if tc.named && strings.Count(out, "\n") != strings.Count(nfFlows, "\n") {
				t.Errorf("%d connections, %d without the dns.log: what was looked at was not read", strings.Count(out, "\n"), strings.Count(nfFlows, "\n"))
			}
			if tc.stdin != nil && !tc.named {
				// The conn.log on standard input, read whole.
				_, alone, _ := runCmd(t, tc.stdin, "flows", "-")
				if out != alone {
					t.Errorf("with the ssl.log:\n%s\nwithout:\n%s", out, alone)
				}
			}
		})
	}
}
