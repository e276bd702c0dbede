package connlog

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// zeekHeader is the header Zeek 7.1's ASCII writer gives conn.log.
const zeekHeader = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t2026-11-29-10-00-00\n" +
	"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto\n" +
	"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tcount\n"

// unsetAll are the fields of a conn.log line that has none of them (no
// column, or unset).
const unsetAll = flow.FieldDuration | flow.FieldOrigBytes | flow.FieldRespBytes | flow.FieldMissedBytes | flow.FieldOrigPkts | flow.FieldRespPkts | flow.FieldOrigIPBytes | flow.FieldRespIPBytes

func readAll(t *testing.T, data string) ([]flow.Connection, error) {
	t.Helper()
	r, err := NewReader("conn.log", strings.NewReader(data))
	if err != nil {
		return nil, err
	}
	r.Full = true
	var out []flow.Connection
	for {
		var c flow.Connection
		err := r.Next(&c)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
}

func TestZeekTSV(t *testing.T) {
	t0 := time.Unix(1764410400, 123456000).UTC()
	tests := []struct {
		name string
		log  string
		want flow.Connection
	}{
		{"zeek's own columns",
			zeekHeader + "1764410400.123456\tCabc\t192.0.2.1\t51000\t192.0.2.10\t443\ttcp\tssl\t1.500000\t500\t4000\tSF\tT\tF\t0\tShADadFf\t10\t1020\t8\t4420\t-\t6\n",
			flow.Connection{Orig: netip.MustParseAddr("192.0.2.1"), Resp: netip.MustParseAddr("192.0.2.10"), OrigPort: 51000, RespPort: 443,
				Proto: 6, Start: t0, End: t0.Add(1500 * time.Millisecond), OrigPkts: 10, RespPkts: 8, OrigBytes: 500, RespBytes: 4000,
				OrigIPBytes: 1020, RespIPBytes: 4420, State: "SF", History: "ShADadFf", Outcome: flow.Established, ClientBy: flow.ByRecord,
				Service: "ssl", LocalOrig: "T", LocalResp: "F", UID: uid("Cabc")}},
		{"columns in another order, a subset, unset duration",
			"#fields\tproto\tid.resp_p\tid.resp_h\tid.orig_p\tid.orig_h\tts\tconn_state\tduration\n" +
				"udp\t53\t2001:db8::53\t40000\t2001:db8::1\t1764410400.123456\tS0\t-\n",
			flow.Connection{Orig: netip.MustParseAddr("2001:db8::1"), Resp: netip.MustParseAddr("2001:db8::53"), OrigPort: 40000, RespPort: 53,
				Proto: 17, Start: t0, End: t0, State: "S0", Outcome: flow.Unanswered, ClientBy: flow.ByRecord, Unknown: unsetAll}},
		{"a separator of its own, escaped markers, (empty) service",
			"#separator \\x7c\n#unset_field|NONE\n#empty_field|EMPTY\n#fields|ts|id.orig_h|id.orig_p|id.resp_h|id.resp_p|proto|service|conn_state|history\n" +
				"1764410400.123456|192.0.2.1|1|192.0.2.2|2|tcp|EMPTY|REJ|S\\x7cr\n",
			flow.Connection{Orig: netip.MustParseAddr("192.0.2.1"), Resp: netip.MustParseAddr("192.0.2.2"), OrigPort: 1, RespPort: 2,
				Proto: 6, Start: t0, End: t0, State: "REJ", History: "S|r", Outcome: flow.Rejected, ClientBy: flow.ByRecord, Unknown: unsetAll}},
		{"icmpv6 from the address family",
			"#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\torig_pkts\tresp_pkts\tconn_state\n" +
				"1764410400.123456\t2001:db8::1\t128\t2001:db8::2\t129\ticmp\t1\t1\tOTH\n",
			flow.Connection{Orig: netip.MustParseAddr("2001:db8::1"), Resp: netip.MustParseAddr("2001:db8::2"), OrigPort: 128, RespPort: 129,
				Proto: 58, Start: t0, End: t0, OrigPkts: 1, RespPkts: 1, State: "OTH", Outcome: flow.Established, ClientBy: flow.ByRecord,
				Unknown: unsetAll &^ (flow.FieldOrigPkts | flow.FieldRespPkts)}},
		{"unknown_transport with ip_proto",
			"#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tip_proto\tconn_state\n" +
				"1764410400.123456\t192.0.2.30\t0\t224.0.0.18\t0\tunknown_transport\t112\tOTH\n",
			flow.Connection{Orig: netip.MustParseAddr("192.0.2.30"), Resp: netip.MustParseAddr("224.0.0.18"),
				Proto: 112, Start: t0, End: t0, State: "OTH", Outcome: flow.Unanswered, ClientBy: flow.ByRecord, Unknown: unsetAll}},
		{"CRLF line ends, blank lines and #close",
			"#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\r\n\r\n1764410400.123456\t192.0.2.1\t1\t192.0.2.2\t2\tudp\r\n#close\t2026-11-29-11-00-00\r\n",
			flow.Connection{Orig: netip.MustParseAddr("192.0.2.1"), Resp: netip.MustParseAddr("192.0.2.2"), OrigPort: 1, RespPort: 2,
				Proto: 17, Start: t0, End: t0, Outcome: flow.Unanswered, ClientBy: flow.ByRecord, Unknown: unsetAll}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, tt.log)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%d connections, want 1", len(got))
			}
			if got[0] != tt.want {
				t.Errorf("got  %+v\nwant %+v", got[0], tt.want)
			}
		})
	}
}

func TestOutcome(t *testing.T) {
	tests := []struct {
		state      string
		orig, resp uint64
		want       flow.Outcome
	}{
		{"SF", 3, 3, flow.Established}, {"S1", 2, 1, flow.Established}, {"S2", 3, 1, flow.Established},
		{"S3", 3, 2, flow.Established}, {"RSTO", 3, 2, flow.Established}, {"RSTR", 3, 3, flow.Established},
		{"REJ", 1, 1, flow.Rejected}, {"RSTOS0", 2, 0, flow.Rejected}, {"RSTRH", 0, 2, flow.Rejected},
		{"S0", 3, 0, flow.Unanswered}, {"SH", 2, 0, flow.Unanswered}, {"SHR", 0, 2, flow.Unanswered},
		{"OTH", 5, 5, flow.Established}, {"OTH", 5, 0, flow.Unanswered}, {"OTH", 0, 5, flow.Unanswered},
	}
	for _, tt := range tests {
		if got, ok := Outcome(tt.state, tt.orig, tt.resp); !ok || got != tt.want {
			t.Errorf("Outcome(%s, %d, %d) = %v, %v; want %v", tt.state, tt.orig, tt.resp, got, ok, tt.want)
		}
	}
	if _, ok := Outcome("XYZ", 1, 1); ok {
		t.Error("XYZ is a state")
	}
}

func TestZeekJSON(t *testing.T) {
	t0 := time.Unix(1764410400, 123456000).UTC()
	base := flow.Connection{Orig: netip.MustParseAddr("192.0.2.1"), Resp: netip.MustParseAddr("192.0.2.10"), OrigPort: 51000, RespPort: 443,
		Proto: 6, Start: t0, End: t0.Add(1500 * time.Millisecond), OrigPkts: 10, RespPkts: 8, OrigBytes: 500, RespBytes: 4000,
		OrigIPBytes: 1020, RespIPBytes: 4420, State: "SF", History: "ShADadFf", Outcome: flow.Established, ClientBy: flow.ByRecord,
		Service: "ssl", LocalOrig: "T", LocalResp: "F", CommunityID: "1:abc=", UID: uid("C1")}
	line := `{"ts":%s,"uid":"C1","id.orig_h":"192.0.2.1","id.orig_p":51000,"id.resp_h":"192.0.2.10","id.resp_p":443,"proto":"tcp","service":"ssl",` +
		`"duration":1.5,"orig_bytes":500,"resp_bytes":4000,"conn_state":"SF","local_orig":true,"local_resp":false,"missed_bytes":0,"history":"ShADadFf",` +
		`"orig_pkts":10,"orig_ip_bytes":1020,"resp_pkts":8,"resp_ip_bytes":4420,"ip_proto":6,"community_id":"1:abc=","tunnel_parents":[]}` + "\n"
	for _, ts := range []string{"1764410400.123456", `"2025-11-29T10:00:00.123456Z"`} {
		got, err := readAll(t, strings.ReplaceAll(line, "%s", ts))
		if err != nil {
			t.Fatal(err)
		}
		want := base
		if ts[0] == '"' {
			want.Start = time.Date(2025, 11, 29, 10, 0, 0, 123456000, time.UTC)
			want.End = want.Start.Add(1500 * time.Millisecond)
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("ts %s:\ngot  %+v\nwant %+v", ts, got, want)
		}
	}
	// Left out or null: unset, so unknown (not 0).
	got, err := readAll(t, `{"ts":1764410400.123456,"id.orig_h":"192.0.2.1","id.orig_p":51000,"id.resp_h":"192.0.2.10","id.resp_p":443,"proto":"tcp",`+
		`"orig_pkts":3,"resp_pkts":null,"orig_ip_bytes":0}`+"\n")
	if err != nil || len(got) != 1 {
		t.Fatalf("%v, %d connections", err, len(got))
	}
	if want := unsetAll &^ (flow.FieldOrigPkts | flow.FieldOrigIPBytes); got[0].Unknown != want || got[0].OrigPkts != 3 {
		t.Errorf("unknown %08b, want %08b; orig_pkts %d", got[0].Unknown, want, got[0].OrigPkts)
	}
}

func TestErrors(t *testing.T) {
	const fields = "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\n"
	const good = "1764410400.1\t192.0.2.1\t1\t192.0.2.2\t2\ttcp\tSF\n"
	tests := []struct {
		name, log, want string
		read            int  // connections read before the error
		cut             bool // the error is a last line cut short
	}{
		{"not a conn.log", "hello\n", "conn.log: not a zeek conn.log", 0, false},
		{"no #fields before data", "#separator \\x09\n" + good, "conn.log:2: a data line before any #fields header", 0, false},
		{"a required column missing", "#fields\tts\tid.orig_h\tproto\n", "conn.log:1: #fields: no id.orig_p, id.resp_h, id.resp_p column", 0, false},
		{"another log", "#separator \\x09\n#path\tdns\n", "conn.log:2: #path dns: a dns log, not a conn.log", 0, false},
		{"bad address", fields + good + "1764410400.1\t192.0.2.999\t1\t192.0.2.2\t2\ttcp\tSF\n", `conn.log:3: id.orig_h: address "192.0.2.999": not an IP address`, 1, false},
		{"bad port", fields + "1764410400.1\t192.0.2.1\t70000\t192.0.2.2\t2\ttcp\tSF\n", `conn.log:2: id.orig_p: "70000": not a port`, 0, false},
		{"bad state", fields + "1764410400.1\t192.0.2.1\t1\t192.0.2.2\t2\ttcp\tXX\n", `conn.log:2: conn_state "XX": not a state zeek writes`, 0, false},
		{"bad proto", fields + "1764410400.1\t192.0.2.1\t1\t192.0.2.2\t2\tsctp\tSF\n", `conn.log:2: proto "sctp"`, 0, false},
		{"too few columns", fields + "1764410400.1\t192.0.2.1\t1\n", "conn.log:2: 3 columns, the #fields header names 7", 0, false},
		{"too many columns", fields + "1764410400.1\t192.0.2.1\t1\t192.0.2.2\t2\ttcp\tSF\tx\n", "conn.log:2: more columns than the 7", 0, false},
		{"bad time", fields + "yesterday\t192.0.2.1\t1\t192.0.2.2\t2\ttcp\tSF\n", `conn.log:2: ts "yesterday"`, 0, false},
		{"unset ts", fields + "-\t192.0.2.1\t1\t192.0.2.2\t2\ttcp\tSF\n", "conn.log:2: ts unset", 0, false},
		{"a last line cut short", fields + good + "1764410400.1\t192.0.2.1\t1\t192.0", "conn.log:3: 4 columns, the #fields header names 7", 1, true},
		// Cut in its last column, the line still reads ("SF" cut to
		// "S" would be another state): without its newline it is not taken.
		{"a last line without newline", fields + good + strings.TrimSuffix(good, "\n"), "conn.log:3: the last line has no newline: cut short", 1, true},
		{"bad escape", "#separator \\xZZ\n", `conn.log:1: #separator: escape`, 0, false},
		{"json without a key", `{"id.orig_h":"192.0.2.1","ts":1}` + "\n", "conn.log:1: no id.orig_p", 0, false},
		{"json count not a count", `{"ts":1,"id.orig_h":"192.0.2.1","id.orig_p":1,"id.resp_h":"192.0.2.2","id.resp_p":2,"proto":"tcp","orig_bytes":-1}` + "\n",
			"conn.log:1: not a JSON conn.log object: count -1: not a count", 0, false},
		{"json count too large", `{"ts":1,"id.orig_h":"192.0.2.1","id.orig_p":1,"id.resp_h":"192.0.2.2","id.resp_p":2,"proto":"tcp","resp_pkts":18446744073709551616}` + "\n",
			"conn.log:1: not a JSON conn.log object: count 18446744073709551616: not a count", 0, false},
		{"bad uid", "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\n" + "1764410400.1\tC-1\t192.0.2.1\t1\t192.0.2.2\t2\ttcp\n",
			`conn.log:2: uid "C-1": not a zeek uid`, 0, false},
		{"json uid too long", `{"ts":1,"uid":"C123456789012345678901234","id.orig_h":"192.0.2.1","id.orig_p":1,"id.resp_h":"192.0.2.2","id.resp_p":2,"proto":"tcp"}` + "\n",
			`conn.log:1: uid "C123456789012345678901234": not a zeek uid`, 0, false},
		{"json not an object", `{"id.orig_h":"192.0.2.1"}` + "\n[1]\n", "conn.log:1: no ts", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, tt.log)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if len(got) != tt.read {
				t.Errorf("%d connections read before the error, want %d", len(got), tt.read)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%T is no *Error", err)
			}
			if e.CutShort != tt.cut {
				t.Errorf("CutShort = %v", e.CutShort)
			}
		})
	}
}

func TestGzipAndSniff(t *testing.T) {
	log := zeekHeader + "1764410400.123456\tCabc\t192.0.2.1\t51000\t192.0.2.10\t443\ttcp\t-\t-\t-\t-\tS0\t-\t-\t0\tS\t1\t60\t0\t0\t-\t6\n"
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(log))
	zw.Close()
	for _, tt := range []struct {
		name string
		data []byte
		want Format
	}{
		{"tsv", []byte(log), ZeekTSV}, {"gzip", b.Bytes(), ZeekTSV}, {"gzip head only", b.Bytes()[:len(b.Bytes())/2], ZeekTSV},
		{"json", []byte(`{"ts":1,"id.orig_h":"192.0.2.1"}`), ZeekJSON},
		{"pcap", []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0}, None}, {"other json", []byte(`{"a":1}`), None}, {"empty", nil, None},
	} {
		if got := Sniff(tt.data); got != tt.want {
			t.Errorf("%s: Sniff = %v, want %v", tt.name, got, tt.want)
		}
	}
	r, err := NewReader("conn.log.gz", bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if r.Format() != "zeek conn.log (TSV), gzip" {
		t.Errorf("Format = %q", r.Format())
	}
	var c flow.Connection
	if err := r.Next(&c); err != nil || c.State != "S0" || c.Outcome != flow.Unanswered {
		t.Errorf("Next = %v, %+v", err, c)
	}
	if err := r.Next(&c); !errors.Is(err, io.EOF) {
		t.Errorf("Next at the end = %v", err)
	}
	// A damaged gzip stream is an error, not the end.
	bad := append([]byte(nil), b.Bytes()[:len(b.Bytes())-6]...)
	r, err = NewReader("conn.log.gz", bytes.NewReader(bad))
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		err = r.Next(&c)
	}
	if errors.Is(err, io.EOF) {
		t.Error("a gzip stream cut short read as complete")
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("2026-11-29/conn.10:00:00-11:00:00.log.gz", "x")
	write("2026-11-29/conn.09:00:00-10:00:00.log.gz", "x")
	write("2026-11-29/dns.09:00:00-10:00:00.log.gz", "x")
	write("2026-11-28/conn.23:00:00-00:00:00.log", "x")
	write("sensor-a.json", `{"ts":1,"id.orig_h":"192.0.2.1"}`)
	write("notes.txt", "hello")
	// Zeek's other logs under other names, recognised by content, are no conn.log.
	write("resolver.json", `{"ts":1,"uid":"C1","id.orig_h":"192.0.2.1","id.orig_p":5,"id.resp_h":"192.0.2.53","id.resp_p":53,"proto":"udp","trans_id":1,"query":"a.example"}`+"\n")
	write("tls-2026-11-29.log", "#separator \\x09\n#path\tssl\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tserver_name\n")
	write("exporter/2026112910.dat", string(ixMsg(ixExport, 0, ixSet(2, ixTemplate(300, ixField{8, 4, 0})))))
	write("flows.json", "[\n{\n\t\"type\" : \"FLOW\",\n\t\"sampled\" : 0,\n\t\"export_sysid\" : 1,\n")
	got, err := Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2026-11-28/conn.23:00:00-00:00:00.log", "2026-11-29/conn.09:00:00-10:00:00.log.gz",
		"2026-11-29/conn.10:00:00-11:00:00.log.gz", "exporter/2026112910.dat", "flows.json", "sensor-a.json"}
	for i := range want {
		want[i] = filepath.Join(dir, want[i])
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Files =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := Files(t.TempDir()); err == nil || !strings.Contains(err.Error(), "without conn.log files") || strings.Contains(err.Error(), "other files") {
		t.Errorf("empty directory: %v", err)
	}
	// A directory of captures says they are not read from a directory.
	caps := t.TempDir()
	for _, name := range []string{"a.pcap", "b.pcapng"} {
		if err := os.WriteFile(filepath.Join(caps, name), []byte("\xd4\xc3\xb2\xa1"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Files(caps); err == nil || !strings.HasSuffix(err.Error(), "without conn.log files (conn.log, conn.*.log, conn.*.log.gz); its 2 other files are not read: give captures as files, not their directory") {
		t.Errorf("directory of captures: %v", err)
	}
}

func TestReadAllocs(t *testing.T) {
	var b strings.Builder
	b.WriteString(zeekHeader)
	for range 100 {
		b.WriteString("1764410400.123456\tCabc\t192.0.2.1\t51000\t192.0.2.10\t443\ttcp\t-\t1.5\t500\t4000\tSF\t-\t-\t0\tShADadFf\t10\t1020\t8\t4420\t-\t6\n")
	}
	data := b.String()
	r, err := NewReader("conn.log", strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var c flow.Connection
	r.Next(&c) // the first line fills the caches
	allocs := testing.AllocsPerRun(50, func() {
		if err := r.Next(&c); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per line, want 0", allocs)
	}
}

func TestParseIPv4(t *testing.T) {
	for _, s := range []string{"0.0.0.0", "192.0.2.1", "255.255.255.255", "10.0.0.10", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4",
		"1..2.3", ".1.2.3", "1.2.3.", "::1", "::ffff:1.2.3.4", "", "1.2.3.4%eth0", "1.2.3.-4"} {
		want, werr := netip.ParseAddr(s)
		got, ok := parseIPv4([]byte(s))
		if ok && (werr != nil || got != want) {
			t.Errorf("parseIPv4(%q) = %v, netip %v %v", s, got, want, werr)
		}
		if !ok && werr == nil && want.Is4() {
			t.Errorf("parseIPv4(%q) failed, netip reads %v", s, want)
		}
	}
}

// TestOutcomeWithoutPacketColumns: a log whose filter dropped the packet
// columns (or conn_state) still tells an OTH connection that carried
// traffic both ways from one that did not, by its bytes or its history;
// the states that decide alone are untouched.
func TestOutcomeWithoutPacketColumns(t *testing.T) {
	const hdr = "#separator \\x09\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\torig_bytes\tresp_bytes\thistory\n"
	tests := []struct {
		line string
		want flow.Outcome
	}{
		{"OTH\t100\t200\t-", flow.Established},
		{"OTH\t100\t0\t-", flow.Unanswered},
		{"OTH\t-\t-\tDd", flow.Established},
		{"OTH\t-\t-\t^dd", flow.Unanswered},
		{"OTH\t-\t-\t-", flow.Unanswered},
		{"-\t5\t5\t-", flow.Established}, // no conn_state: as OTH
		{"S0\t0\t0\tS", flow.Unanswered},
		{"REJ\t0\t0\tSr", flow.Rejected},
		{"SF\t-\t-\t-", flow.Established},
	}
	for _, tt := range tests {
		conns, err := readAll(t, hdr+"1764410400.0\t10.0.0.1\t50000\t10.0.0.2\t443\ttcp\t"+tt.line+"\n")
		if err != nil || len(conns) != 1 {
			t.Fatalf("%q: %v, %d connections", tt.line, err, len(conns))
		}
		if conns[0].Outcome != tt.want {
			t.Errorf("%q: %v, want %v", tt.line, conns[0].Outcome, tt.want)
		}
	}
}

// uid is s as a flow.UID, for wants.
func uid(s string) flow.UID {
	u, ok := flow.ParseUID([]byte(s))
	if !ok {
		panic("bad uid " + s)
	}
	return u
}
