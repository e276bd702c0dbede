package analyzer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/flow"
)

const testConnFields = "#separator \\x09\n#path\tconn\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\tduration\n"

// testConnLine is a record of client 192.0.2.1 to server 192.0.2.10.
func testConnLine(sec int, port uint16, state string) string {
	return strings.Join([]string{"17644104" + strings.Repeat("0", 2-len(itoa(sec))) + itoa(sec) + ".5", "192.0.2.1", "50000",
		"192.0.2.10", itoa(int(port)), "tcp", state, "3", "180", "2", "120", "1.000000"}, "\t") + "\n"
}

func itoa(n int) string {
	var b []byte
	if n == 0 {
		return "0"
	}
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestConnLogInputs: connection logs among the inputs, recognised by
// content whatever their names, a directory of rotated logs read in
// order, standard input, and logs cut short or damaged, each with the
// status a capture would have.
func TestConnLogInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	write("rotated/conn.2026-11-29-10-00-00.log.gz", gz(testConnFields+testConnLine(10, 443, "SF")))
	write("rotated/conn.2026-11-29-11-00-00.log.gz", gz(testConnFields+testConnLine(11, 443, "REJ")+testConnLine(12, 8443, "S0")))
	misnamed := write("capture.pcap", []byte(testConnFields+testConnLine(13, 443, "SF")))
	cut := write("cut.log", []byte(testConnFields+testConnLine(14, 443, "SF")+"17644104"))
	damaged := write("damaged.log", []byte(testConnFields+testConnLine(15, 443, "SF")+"x\ty\n"+testConnLine(16, 443, "SF")))
	pcap := filepath.Join("..", "testdata", "captures", "pcap-le-usec.pcap")

	var conns []flow.Connection
	res, err := Run([]string{filepath.Join(dir, "rotated"), misnamed, cut, damaged, pcap, "-"},
		Options{Stdin: strings.NewReader(testConnFields + testConnLine(17, 443, "SF")), OnConnection: func(c *flow.Connection) { conns = append(conns, *c) }})
	if err == nil || !strings.Contains(err.Error(), "damaged.log:5: ") {
		t.Errorf("err = %v, want the damaged log's line 5", err)
	}
	type want struct {
		name, format, status string
		records              uint64
	}
	wants := []want{
		{"conn.2026-11-29-10-00-00.log.gz", "zeek conn.log (TSV), gzip", "complete", 1},
		{"conn.2026-11-29-11-00-00.log.gz", "zeek conn.log (TSV), gzip", "complete", 2},
		{"capture.pcap", "zeek conn.log (TSV)", "complete", 1},
		{"cut.log", "zeek conn.log (TSV)", "cut-short", 1},
		{"damaged.log", "zeek conn.log (TSV)", "damaged", 1},
		{"pcap-le-usec.pcap", "pcap", "complete", 0},
		{"-", "zeek conn.log (TSV)", "complete", 1},
	}
	if len(res.Captures) != len(wants) {
		t.Fatalf("%d captures, want %d", len(res.Captures), len(wants))
	}
	for i, w := range wants {
		c := res.Captures[i]
		if filepath.Base(c.Path) != w.name || !strings.HasPrefix(c.Format, w.format) || string(c.Status) != w.status || c.Records != w.records {
			t.Errorf("capture %d = %s %q %s %d records, want %+v", i, c.Path, c.Format, c.Status, c.Records, w)
		}
		if w.records > 0 && (c.Packets != 5*w.records || c.Bytes != 300*w.records || c.SHA256 == "" || c.NothingAnalysed() != "") {
			t.Errorf("capture %d: %d packets, %d bytes, sha256 %q, %q", i, c.Packets, c.Bytes, c.SHA256, c.NothingAnalysed())
		}
	}
	if res.Records != 7 {
		t.Errorf("Records = %d, want 7", res.Records)
	}
	// The records, in order, each a finished connection of its file,
	// with no frame.
	var got []string
	for _, c := range conns {
		if c.ClientBy == flow.ByRecord {
			got = append(got, itoa(c.FirstPos.File)+":"+c.State+"/"+c.Outcome.String()+"/"+itoa(int(c.FirstPos.Frame)))
		}
	}
	if s := strings.Join(got, " "); s != "0:SF/established/0 1:REJ/rejected/0 1:S0/unanswered/0 2:SF/established/0 3:SF/established/0 4:SF/established/0 6:SF/established/0" {
		t.Errorf("records = %s", s)
	}
	// The services: 443 of the six records (the 8443 one apart), plus the capture's.
	var s443 *flow.Service
	for i := range res.Services {
		if s := &res.Services[i]; s.Client.String() == "192.0.2.1" && s.Port == 443 {
			s443 = s
		}
	}
	if s443 == nil || s443.Connections != 6 || s443.Established != 5 || s443.Rejected != 1 || s443.FirstPos.File != 0 || s443.FirstPos.Frame != 0 {
		t.Errorf("service 443 = %+v", s443)
	}
}

// TestConnLogNoData: a conn.log with a header and no record analyses
// nothing, and says so.
func TestConnLogNoData(t *testing.T) {
	p := filepath.Join(t.TempDir(), "conn.log")
	os.WriteFile(p, []byte(testConnFields), 0o644)
	res, err := Run([]string{p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if nd := res.NoData(); nd == nil || !strings.Contains(nd.Error(), "conn.log: no connection records") {
		t.Errorf("NoData = %v", nd)
	}
}

// writeBenchConnLog writes a Zeek conn.log of n lines in Zeek's own
// columns: 5,000 clients, 40 servers, 8 ports, the states of a pilot.
func writeBenchConnLog(tb testing.TB, path string, n int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t2026-11-29-10-00-00\n" +
		"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto\n" +
		"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tcount\n")
	ports := []string{"443", "80", "4172", "8443", "3389", "22", "2598", "1494"}
	states := []string{"SF", "SF", "SF", "S0", "REJ", "RSTO", "SF", "OTH"}
	hist := []string{"ShADadFf", "ShADadFf", "ShADadFf", "S", "Sr", "ShADadR", "ShADadFf", "Dd"}
	var b []byte
	for i := range n {
		b = b[:0]
		b = strconv.AppendInt(b, 1764410400+int64(i/1000), 10)
		b = append(b, '.')
		b = strconv.AppendInt(b, 100000+int64(i%900000), 10)
		b = append(b, "\tCabcdefghijklmnopq\t10.0."...)
		c := i % 5000
		b = strconv.AppendInt(b, int64(c/250), 10)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(c%250), 10)
		b = append(b, '\t')
		b = strconv.AppendInt(b, int64(32768+i%28000), 10)
		b = append(b, "\t10.1.0."...)
		b = strconv.AppendInt(b, int64(i%40+1), 10)
		k := i % 8
		b = append(b, '\t')
		b = append(b, ports[(i/8)%8]...)
		b = append(b, "\ttcp\t-\t1.250000\t1200\t48000\t"...)
		b = append(b, states[k]...)
		b = append(b, "\tT\tT\t0\t"...)
		b = append(b, hist[k]...)
		b = append(b, "\t12\t1824\t40\t50080\t-\t6\n"...)
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkRunConnLog measures analyze's reading of a generated 2M-line
// Zeek conn.log: parse, fold into services, SHA-256 of the file; ns/op is
// per line, and lines/s the rate (run with -cpu 1 for one core).
func BenchmarkRunConnLog(b *testing.B) {
	const lines = 2_000_000
	path := filepath.Join(b.TempDir(), "conn.log")
	writeBenchConnLog(b, path, lines)
	b.ReportAllocs()
	b.ResetTimer()
	runs := 0
	for range max(b.N/lines, 1) {
		res, err := Run([]string{path}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if res.Records != lines || len(res.Services) == 0 {
			b.Fatalf("%d records, %d services", res.Records, len(res.Services))
		}
		runs++
	}
	b.ReportMetric(float64(runs*lines)/b.Elapsed().Seconds(), "lines/s")
}

// TestNfdumpInput: nfdump -o csv output is read by content, its records
// paired into connections and folded into services.
func TestNfdumpInput(t *testing.T) {
	res, err := Run([]string{filepath.Join("testdata", "nfdump.csv")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Captures[0]
	if c.Format != "nfdump csv" || !c.FlowLog || c.Records != 5 || c.Packets != 30 || c.Status != StatusComplete {
		t.Errorf("capture = %+v", c)
	}
	var got []string
	for _, s := range res.Services {
		got = append(got, fmt.Sprintf("%s>%s %d/%d e%d r%d u%d", s.Client, s.Server, s.Proto, s.Port, s.Established+s.Partial, s.Rejected, s.Unanswered))
	}
	want := "192.0.2.1>192.0.2.10 1/8 e1 r0 u0 192.0.2.1>192.0.2.10 6/443 e1 r0 u0 192.0.2.1>192.0.2.10 17/53 e1 r0 u0 " +
		"192.0.2.1>192.0.2.11 6/3389 e0 r1 u0 192.0.2.1>192.0.2.12 6/8443 e0 r0 u1"
	if strings.Join(got, " ") != want {
		t.Errorf("services:\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
}
