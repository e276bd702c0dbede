package connout

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/connlog/ipfixgen"
	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/zeeklog"
)

// unknownConnLog is a Zeek conn.log with every column: the first line has
// them all set, the second leaves unset all that Zeek may.
const unknownConnLog = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t2026-11-29-10-00-00\n" +
	"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto\tcommunity_id\n" +
	"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tcount\tstring\n" +
	"1764410400.123456\tCabc\t192.0.2.1\t51000\t192.0.2.10\t443\ttcp\tssl\t1.500000\t500\t4000\tSF\tT\tF\t7\tShADadFf\t10\t1020\t8\t4420\t-\t6\t1:abc=\n" +
	"1764410401.000000\tCdef\t192.0.2.1\t51001\t192.0.2.11\t3389\ttcp\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t6\t-\n" +
	"#close\t2026-11-29-11-00-00\n"

// unknownConnJSON is the same two connections in Zeek's JSON format, the
// second with its unset fields left out.
const unknownConnJSON = `{"ts":1764410400.123456,"uid":"Cabc","id.orig_h":"192.0.2.1","id.orig_p":51000,"id.resp_h":"192.0.2.10","id.resp_p":443,"proto":"tcp","service":"ssl","duration":1.5,"orig_bytes":500,"resp_bytes":4000,"conn_state":"SF","local_orig":true,"local_resp":false,"missed_bytes":7,"history":"ShADadFf","orig_pkts":10,"orig_ip_bytes":1020,"resp_pkts":8,"resp_ip_bytes":4420,"ip_proto":6,"community_id":"1:abc="}
{"ts":1764410401.0,"uid":"Cdef","id.orig_h":"192.0.2.1","id.orig_p":51001,"id.resp_h":"192.0.2.11","id.resp_p":3389,"proto":"tcp","ip_proto":6}
`

// unknownNfdumpJSON is a connection and its reverse as nfdump -o json
// prints them.
const unknownNfdumpJSON = `[
{"type":"FLOW","first":"2026-11-29T10:00:00.100","last":"2026-11-29T10:00:05.200","in_packets":12,"in_bytes":1800,"proto":6,"tcp_flags":"...AP.SF","src_port":51000,"dst_port":443,"src4_addr":"192.0.2.1","dst4_addr":"192.0.2.10"},
{"type":"FLOW","first":"2026-11-29T10:00:00.101","last":"2026-11-29T10:00:05.100","in_packets":10,"in_bytes":9000,"proto":6,"tcp_flags":"...AP.SF","src_port":443,"dst_port":51000,"src4_addr":"192.0.2.10","dst4_addr":"192.0.2.1"}
]
`

// row is one printed connection: its fields by conn.log name, the absent
// ones (left out, unset, empty, blank) not in it.
type row map[string]string

// tableKeys are the table's columns by the conn.log field they show.
var tableKeys = map[string]string{"STATE": "conn_state", "HISTORY": "history", "PKTS C/S": "orig_pkts",
	"BYTES C/S": "orig_bytes", "DURATION": "duration", "FRAMES": "first_frame"}

// parseRows reads the connections a Writer printed in format.
func parseRows(t *testing.T, format string, out []byte) []row {
	t.Helper()
	var rows []row
	switch format {
	case "jsonl", "zeek-json":
		for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			r := row{}
			for k, v := range m {
				if string(v) == "null" || string(v) == `""` {
					t.Errorf("%s: %q is %s: absent values are left out", line, k, v)
				}
				r[k] = strings.Trim(string(v), `"`)
			}
			rows = append(rows, r)
		}
	case "csv":
		recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs[1:] {
			r := row{}
			for i, v := range rec {
				if v != "" {
					r[recs[0][i]] = v
				}
			}
			rows = append(rows, r)
		}
	case "zeek":
		var fields []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if f, ok := strings.CutPrefix(line, "#fields\t"); ok {
				fields = strings.Split(f, "\t")
			}
			if strings.HasPrefix(line, "#") {
				continue
			}
			r := row{}
			for i, v := range strings.Split(line, "\t") {
				if v != zeeklog.UnsetField {
					r[fields[i]] = v
				}
			}
			rows = append(rows, r)
		}
	case "table":
		var header []string
		for _, line := range strings.Split(string(out), "\n") {
			if !strings.HasPrefix(line, "│") {
				continue
			}
			cells := strings.Split(strings.Trim(line, "│"), "│")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			if header == nil {
				header = cells
				continue
			}
			r := row{}
			for i, v := range cells {
				if k, ok := tableKeys[header[i]]; ok && v != "" {
					if u, isUID := strings.CutPrefix(v, "uid "); isUID && k == "first_frame" {
						k, v = "uid", u // a record's Zeek uid where the frames would be
					}
					r[k] = v
				}
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// TestUnknownIsAbsent: what a connection's source could not give is absent
// from every format flows writes — left out of JSON, `-` in Zeek's TSV,
// empty in CSV, blank in the table — never 0 or "": a NetFlow/IPFIX
// record's payload bytes, missed_bytes, conn_state, history and frames, a
// conn.log's unset fields; and what the source gave is there (a conn.log's
// values exactly as it wrote them).
func TestUnknownIsAbsent(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	genConns := []flow.Connection{
		{Orig: netip.MustParseAddr("192.0.2.1"), OrigPort: 51000, Resp: netip.MustParseAddr("192.0.2.10"), RespPort: 443, Proto: 6,
			Start: t0, End: t0.Add(5 * time.Second), OrigPkts: 12, OrigIPBytes: 1800, RespPkts: 10, RespIPBytes: 9000, History: "ShADadFf"},
		{Orig: netip.MustParseAddr("192.0.2.1"), OrigPort: 51001, Resp: netip.MustParseAddr("192.0.2.11"), RespPort: 3389, Proto: 6,
			Start: t0.Add(time.Second), End: t0.Add(time.Second), OrigPkts: 1, OrigIPBytes: 60, History: "S"},
	}
	var ipfix, biflow, v9 bytes.Buffer
	if err := ipfixgen.Write(&ipfix, genConns, ipfixgen.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := ipfixgen.Write(&biflow, genConns, ipfixgen.Options{Biflow: true}); err != nil {
		t.Fatal(err)
	}
	if err := ipfixgen.Write(&v9, genConns, ipfixgen.Options{V9: true}); err != nil {
		t.Fatal(err)
	}
	nfcsv, err := os.ReadFile("../../testdata/nfdump.csv")
	if err != nil {
		t.Fatal(err)
	}
	// What a flow record never has, and what it does.
	recordAbsent := []string{"orig_bytes", "resp_bytes", "missed_bytes", "conn_state", "history", "first_frame", "last_frame"}
	recordPresent := []string{"orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes"}
	unset := []string{"duration", "orig_bytes", "resp_bytes", "conn_state", "missed_bytes", "history", "orig_pkts",
		"orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "first_frame", "last_frame"}
	all := []string{"duration", "orig_bytes", "resp_bytes", "conn_state", "missed_bytes", "orig_pkts", "orig_ip_bytes",
		"resp_pkts", "resp_ip_bytes", "community_id"}
	// zeekGave are the values of the conn.log's first line.
	zeekGave := row{"duration": "1.500000", "orig_bytes": "500", "resp_bytes": "4000", "conn_state": "SF", "missed_bytes": "7",
		"history": "ShADadFf", "orig_pkts": "10", "orig_ip_bytes": "1020", "resp_pkts": "8", "resp_ip_bytes": "4420",
		"community_id": "1:abc=", "service": "ssl", "local_orig": "T", "local_resp": "F"}
	inputs := []struct {
		name    string
		path    string
		absent  [][]string // per connection (the last repeats)
		present [][]string
		values  []row // per connection, where checked
	}{
		{"capture", "../../../testdata/samples/horizon/pilot.pcapng", [][]string{nil}, [][]string{append(all, "first_frame")}, nil},
		{"zeek tsv", write("conn.log", []byte(unknownConnLog)), [][]string{{"first_frame"}, unset},
			[][]string{slices.Collect(maps.Keys(zeekGave)), nil}, []row{zeekGave, {}}},
		{"zeek json", write("conn.json", []byte(unknownConnJSON)), [][]string{{"first_frame"}, unset},
			[][]string{slices.Collect(maps.Keys(zeekGave)), nil}, []row{zeekGave, {}}},
		{"nfdump csv", write("flows.csv", nfcsv), [][]string{recordAbsent}, [][]string{append(recordPresent, "duration")}, nil},
		{"nfdump json", write("flows.json", []byte(unknownNfdumpJSON)), [][]string{recordAbsent},
			[][]string{append(recordPresent, "duration")}, []row{{"orig_ip_bytes": "1800", "resp_ip_bytes": "9000", "duration": "5.100000"}}},
		{"ipfix", write("flows.ipfix", ipfix.Bytes()), [][]string{recordAbsent}, [][]string{append(recordPresent, "duration")},
			[]row{{"orig_ip_bytes": "1800", "resp_ip_bytes": "9000", "orig_pkts": "12", "resp_pkts": "10", "duration": "5.000000"}}},
		{"ipfix biflow", write("biflow.ipfix", biflow.Bytes()), [][]string{recordAbsent}, [][]string{append(recordPresent, "duration")},
			[]row{{"orig_ip_bytes": "1800", "resp_ip_bytes": "9000", "orig_pkts": "12", "resp_pkts": "10", "duration": "5.000000"}}},
		{"netflow v9", write("flows.v9", v9.Bytes()), [][]string{recordAbsent}, [][]string{append(recordPresent, "duration")},
			[]row{{"orig_ip_bytes": "1800", "resp_ip_bytes": "9000", "orig_pkts": "12", "resp_pkts": "10", "duration": "5.000000"}}},
	}
	// inFormat: whether a format has the field at all, and by what name.
	inFormat := func(format, key string) (string, bool) {
		switch format {
		case "table":
			for _, k := range tableKeys {
				if k == key {
					return k, true
				}
			}
			return "", false
		case "zeek", "zeek-json":
			if key == "first_frame" || key == "last_frame" {
				return "", false
			}
		}
		return key, true
	}
	for _, in := range inputs {
		var conns []flow.Connection
		_, err := analyzer.Run([]string{in.path}, analyzer.Options{NoHash: true, NoServices: true,
			OnConnection: func(c *flow.Connection) { conns = append(conns, *c) }})
		if err != nil {
			t.Fatalf("%s: %v", in.name, err)
		}
		if len(conns) == 0 {
			t.Fatalf("%s: no connections", in.name)
		}
		for _, format := range Formats {
			t.Run(in.name+"/"+format, func(t *testing.T) {
				var out bytes.Buffer
				w, err := NewWriter(&out, format, []string{in.path}, Options{})
				if err != nil {
					t.Fatal(err)
				}
				for i := range conns {
					w.Add(&conns[i])
				}
				if err := w.Close(t0); err != nil {
					t.Fatal(err)
				}
				rows := parseRows(t, format, out.Bytes())
				if len(rows) != len(conns) {
					t.Fatalf("%d rows for %d connections:\n%s", len(rows), len(conns), out.Bytes())
				}
				pick := func(l [][]string, i int) []string { return l[min(i, len(l)-1)] }
				for i, r := range rows {
					for _, key := range pick(in.absent, i) {
						if k, ok := inFormat(format, key); ok {
							if v, there := r[k]; there {
								t.Errorf("row %d: %s is %q, want it absent", i, k, v)
							}
						}
					}
					for _, key := range pick(in.present, i) {
						k, ok := inFormat(format, key)
						zeroUnset := key == "duration" || key == "orig_bytes" || key == "resp_bytes"
						if !ok || zeroUnset && strings.HasPrefix(format, "zeek") && conns[i].Duration() == 0 {
							continue // Zeek leaves these unset for a connection of zero duration
						}
						if _, there := r[k]; !there {
							t.Errorf("row %d: %s absent, want it there:\n%s", i, k, out.Bytes())
						}
					}
					if format == "table" || i >= len(in.values) {
						continue
					}
					for key, want := range in.values[i] {
						k, ok := inFormat(format, key)
						if !ok {
							continue
						}
						got := r[k]
						if (format == "zeek-json" || format == "jsonl") && (key == "local_orig" || key == "local_resp") {
							want = map[string]string{"T": "true", "F": "false"}[want]
						}
						if format == "zeek-json" || format == "jsonl" {
							if key == "duration" {
								want = strings.TrimRight(strings.TrimRight(want, "0"), ".") // JSON numbers: 1.5
								got = strings.TrimRight(strings.TrimRight(got, "0"), ".")
							}
						}
						if got != want {
							t.Errorf("row %d: %s = %q, want %q (as the source gave it)", i, k, got, want)
						}
					}
				}
			})
		}
	}
}

// TestZeekUIDKept: a conn.log's uids are written back as Zeek gave them in
// every format (the table's where the frames would be), so rows still match Zeek's other logs; a capture's
// connections get none in jsonl and the table.
func TestZeekUIDKept(t *testing.T) {
	dir := t.TempDir()
	for _, in := range []struct{ name, text string }{{"conn.log", unknownConnLog}, {"conn.json", unknownConnJSON}} {
		path := filepath.Join(dir, in.name)
		if err := os.WriteFile(path, []byte(in.text), 0o644); err != nil {
			t.Fatal(err)
		}
		var conns []flow.Connection
		if _, err := analyzer.Run([]string{path}, analyzer.Options{NoHash: true, NoServices: true,
			OnConnection: func(c *flow.Connection) { conns = append(conns, *c) }}); err != nil {
			t.Fatal(err)
		}
		for _, format := range Formats {
			t.Run(in.name+"/"+format, func(t *testing.T) {
				var out bytes.Buffer
				w, err := NewWriter(&out, format, []string{path}, Options{})
				if err != nil {
					t.Fatal(err)
				}
				for i := range conns {
					w.Add(&conns[i])
				}
				if err := w.Close(time.Time{}); err != nil {
					t.Fatal(err)
				}
				rows := parseRows(t, format, out.Bytes())
				if len(rows) != 2 {
					t.Fatalf("%d rows, want 2:\n%s", len(rows), out.Bytes())
				}
				for i, want := range []string{"Cabc", "Cdef"} {
					if got := strings.Trim(rows[i]["uid"], `"`); got != want {
						t.Errorf("row %d: uid %q, want Zeek's %q", i, got, want)
					}
				}
			})
		}
	}
	var conns []flow.Connection
	if _, err := analyzer.Run([]string{"../../../testdata/samples/horizon/pilot.pcapng"}, analyzer.Options{NoHash: true, NoServices: true,
		OnConnection: func(c *flow.Connection) { conns = append(conns, *c) }}); err != nil {
		t.Fatal(err)
	}
	for i := range conns {
		if !conns[i].UID.IsZero() {
			t.Fatalf("capture connection %d has uid %s", i, conns[i].UID)
		}
	}
	if b := appendConnJSON(nil, &conns[0], quotePaths([]string{"x"})); bytes.Contains(b, []byte(`"uid"`)) {
		t.Errorf("a capture's jsonl has a uid: %s", b)
	}
}
