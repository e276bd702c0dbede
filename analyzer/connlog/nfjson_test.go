package connlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// nfJSONRec is a record as nfdump 1.7's -o json prints it
// (output_json.c: a tab before each key, " : " between key and value).
func nfJSONRec(first, last, src, dst string, sp, dp int, proto int, flags string, pkts, bytes int, extra string) string {
	v := "4"
	if strings.Contains(src, ":") {
		v = "6"
	}
	ports := fmt.Sprintf("\t\"tcp_flags\" : \"%s\",\n\t\"src_port\" : %d,\n\t\"dst_port\" : %d,\n\t\"fwd_status\" : 0,\n", flags, sp, dp)
	if proto == 1 || proto == 58 {
		ports = fmt.Sprintf("\t\"icmp_type\" : %d,\n\t\"icmp_code\" : %d,\n", dp>>8, dp&0xff)
	}
	return "{\n\t\"type\" : \"FLOW\",\n\t\"sampled\" : 0,\n\t\"export_sysid\" : 1,\n" +
		fmt.Sprintf("\t\"first\" : \"%s\",\n\t\"last\" : \"%s\",\n\t\"received\" : \"%s\",\n\t\"in_packets\" : %d,\n\t\"in_bytes\" : %d,\n\t\"proto\" : %d,\n", first, last, last, pkts, bytes, proto) +
		ports + "\t\"src_tos\" : 0,\n" +
		fmt.Sprintf("\t\"src%s_addr\" : \"%s\",\n\t\"dst%s_addr\" : \"%s\",\n\t\"src_geo\" : \"\",\n\t\"dst_geo\" : \"\",\n", v, src, v, dst) +
		extra + "\t\"label\" : \"<none>\"\n}"
}

func nfJSONArray(recs ...string) string { return "[\n" + strings.Join(recs, ",\n") + "]\n" }

func TestNfdumpJSON(t *testing.T) {
	const t0, t1 = "2026-11-29T10:00:00.100", "2026-11-29T10:00:05.200"
	tests := []struct {
		name string
		log  string
		want []nfWant
	}{
		{"-o json: both directions paired",
			nfJSONArray(nfJSONRec(t0, t1, "192.0.2.1", "192.0.2.10", 51000, 443, 6, "...AP.SF", 12, 1800, ""),
				nfJSONRec("2026-11-29T10:00:00.101", t1, "192.0.2.10", "192.0.2.1", 443, 51000, 6, "...AP.SF", 10, 9000, "")),
			[]nfWant{{"192.0.2.1:51000 > 192.0.2.10:443 6", 12, 10, flow.Established}}},
		{"a reset answers the SYN",
			nfJSONArray(nfJSONRec(t0, t0, "192.0.2.1", "192.0.2.11", 51001, 3389, 6, "......S.", 1, 60, ""),
				nfJSONRec(t0, t0, "192.0.2.11", "192.0.2.1", 3389, 51001, 6, "...A.R..", 1, 40, "")),
			[]nfWant{{"192.0.2.1:51001 > 192.0.2.11:3389 6", 1, 1, flow.Rejected}}},
		{"no reverse: unanswered; IPv6",
			nfJSONArray(nfJSONRec(t0, t1, "2001:db8::1", "2001:db8::12", 51002, 8443, 6, "......S.", 3, 180, "")),
			[]nfWant{{"2001:db8::1:51002 > 2001:db8::12:8443 6", 3, 0, flow.Unanswered}}},
		{"icmp echo and reply from icmp_type and icmp_code",
			nfJSONArray(nfJSONRec(t0, t0, "192.0.2.1", "192.0.2.10", 0, 8<<8, 1, "", 1, 84, ""),
				nfJSONRec(t0, t0, "192.0.2.10", "192.0.2.1", 0, 0, 1, "", 1, 84, "")),
			[]nfWant{{"192.0.2.1:8 > 192.0.2.10:0 1", 1, 1, flow.Established}}},
		{"a bidirectional record (out_packets, out_bytes)",
			nfJSONArray(nfJSONRec(t0, t1, "192.0.2.1", "192.0.2.13", 40000, 4172, 17, "........", 5, 500, "\t\"out_packets\" : 4,\n\t\"out_bytes\" : 400,\n\t\"aggr_flows\" : 1,\n")),
			[]nfWant{{"192.0.2.1:40000 > 192.0.2.13:4172 17", 5, 4, flow.Established}}},
		{"-o json-log: one record a line; t_first, t_last of older versions",
			`{"type":"FLOW","export_sysid":1,"t_first":"2026-11-29T10:00:00.100","t_last":"2026-11-29T10:00:01.000","in_packets":2,"in_bytes":120,"proto":17,"src_port":40001,"dst_port":53,"src4_addr":"192.0.2.1","dst4_addr":"192.0.2.14"}` + "\n" +
				`{"type":"FLOW","export_sysid":1,"t_first":"2026-11-29T10:00:00.110","t_last":"2026-11-29T10:00:01.000","in_packets":2,"in_bytes":300,"proto":17,"src_port":53,"dst_port":40001,"src4_addr":"192.0.2.14","dst4_addr":"192.0.2.1"}` + "\n",
			[]nfWant{{"192.0.2.1:40001 > 192.0.2.14:53 17", 2, 2, flow.Established}}},
		{"an empty array", "[\n]\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if f := Sniff([]byte(tt.log)); f != NfdumpJSON && tt.want != nil {
				t.Fatalf("Sniff = %v", f)
			}
			if tt.want == nil {
				return // an empty array has nothing to recognise it by
			}
			got, _, err := nfRead(t, tt.log)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
	_, conns, _ := nfRead(t, tests[0].log)
	if c := conns[0]; c.Start != time.Date(2026, 11, 29, 10, 0, 0, 100e6, time.UTC) || c.End != time.Date(2026, 11, 29, 10, 0, 5, 200e6, time.UTC) ||
		c.OrigIPBytes != 1800 || c.RespIPBytes != 9000 || c.ClientBy != flow.ByRecord {
		t.Errorf("connection %+v", c)
	}
}

// TestNfdumpJSONErrors: a record that does not read is an *Error naming
// the record and offset, after the records before it were handed out;
// records that are no flow (NSEL/NEL events) are counted and make the
// end an error.
func TestNfdumpJSONErrors(t *testing.T) {
	const t0 = "2026-11-29T10:00:00.100"
	good := nfJSONRec(t0, t0, "192.0.2.1", "192.0.2.10", 51000, 443, 6, "......S.", 1, 60, "")
	tests := []struct{ name, log, want string }{
		{"bad address", nfJSONArray(good, nfJSONRec(t0, t0, "192.0.2.1", "bogus", 1, 443, 6, "", 1, 60, "")), `flows.csv: record 2 (offset `},
		{"bad address says why", nfJSONArray(good, nfJSONRec(t0, t0, "192.0.2.1", "bogus", 1, 443, 6, "", 1, 60, "")), `): destination: address "bogus": not an IP address`},
		{"bad time", nfJSONArray(good, nfJSONRec("yesterday", t0, "192.0.2.1", "192.0.2.2", 1, 443, 6, "", 1, 60, "")), `record 2 (offset `},
		{"last before first", nfJSONArray(nfJSONRec(t0, "2026-11-29T09:00:00.000", "192.0.2.1", "192.0.2.2", 1, 443, 6, "", 1, 60, "")), `): last 2026-11-29T09:00:00.000 before first`},
		{"a port out of range", nfJSONArray(good, strings.Replace(good, `"dst_port" : 443`, `"dst_port" : 70000`, 1)), `record 2 (offset `},
		{"no proto", nfJSONArray(strings.Replace(good, "\t\"proto\" : 6,\n", "", 1)), `record 1 (offset `},
		{"the file ends inside a record", nfJSONArray(good, good)[:len(nfJSONArray(good, good))-40], `record 2 (offset `},
		{"something else than the closing bracket", "[\n" + good + "\n}", `the array is not closed`},
		{"garbage after the array", nfJSONArray(good) + "xx", `data after the array's closing bracket`},
		{"an event", nfJSONArray(good, strings.Replace(good, `"FLOW"`, `"EVENT"`, 1)), `flows.csv: 1 records are no connection (the first: record 2: type "EVENT", not a flow)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, conns, err := nfRead(t, tt.log)
			var e *Error
			if !errors.As(err, &e) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Count(tt.log, `"FLOW"`) > 1 && len(conns) != 1 {
				t.Errorf("%d connections before the error, want the first record's", len(conns))
			}
		})
	}
}

// FuzzNfdumpJSON: any nfdump JSON either reads or stops at an *Error;
// every connection it gives has valid addresses, an outcome, and ends no
// earlier than it starts.
func FuzzNfdumpJSON(f *testing.F) {
	const t0, t1 = "2026-11-29T10:00:00.100", "2026-11-29T10:00:05.200"
	f.Add([]byte(nfJSONArray(nfJSONRec(t0, t1, "192.0.2.1", "192.0.2.10", 51000, 443, 6, "...AP.SF", 12, 1800, ""),
		nfJSONRec(t0, t1, "192.0.2.10", "192.0.2.1", 443, 51000, 6, "...AP.SF", 10, 9000, ""),
		nfJSONRec(t0, t0, "2001:db8::1", "2001:db8::2", 0, 128<<8, 58, "", 1, 104, ""))))
	f.Add([]byte(`{"type":"FLOW","export_sysid":1,"t_first":"2026-11-29T10:00:00.100","in_packets":2,"proto":17,"src_port":1,"dst_port":53,"src4_addr":"192.0.2.1","dst4_addr":"192.0.2.14","out_packets":1}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader("fuzz.json", bytes.NewReader(data))
		if err != nil {
			return
		}
		for {
			var c flow.Connection
			err := r.Next(&c)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("%T %v", err, err)
				}
				return
			}
			if !c.Orig.IsValid() || !c.Resp.IsValid() || c.End.Before(c.Start) || c.Outcome > flow.Partial {
				t.Fatalf("connection %+v", c)
			}
		}
	})
}

// TestNfdumpJSONCutShort: a JSON record is whole by its closing brace, so
// a json-log file's last line without its newline is taken (as a Zeek
// JSON line is); a file that ends inside its last record (copied while
// nfdump wrote it) is cut short, a warning as for an IPFIX file that ends
// inside its last message: the record is not taken, those before it are;
// an array whose file ends before its closing bracket (after a record, or
// after the comma that announced another) is cut short too, every record
// taken.
func TestNfdumpJSONCutShort(t *testing.T) {
	const t0 = "2026-11-29T10:00:00.100"
	line := func(dst string, dp int) string {
		return strings.NewReplacer("\n", "", "\t", "").Replace(nfJSONRec(t0, t0, "192.0.2.1", dst, 51000, dp, 6, "......S.", 1, 60, "")) + "\n"
	}
	a, b := line("192.0.2.10", 443), line("192.0.2.11", 8443)
	first := []nfWant{{"192.0.2.1:51000 > 192.0.2.10:443 6", 1, 0, flow.Unanswered}}
	both := append(first, nfWant{"192.0.2.1:51000 > 192.0.2.11:8443 6", 1, 0, flow.Unanswered})
	tests := []struct {
		name, log, err string
		want           []nfWant
	}{
		{"json-log: a last line without newline", a + strings.TrimSuffix(b, "\n"), "", both},
		{"json-log: the file ends inside the last record", a + b[:len(b)/2], "flows.csv: record 2 (offset ", first},
		{"json: the file ends inside the last record", nfJSONArray(a, b)[:len(a)+len(b)/2], "the file ends inside the record: cut short", first},
		{"json: no closing bracket", strings.TrimSuffix(nfJSONArray(a, b), "]\n"), "flows.csv: record 2 (offset ", both},
		{"json: no closing bracket nor newline", strings.TrimSuffix(nfJSONArray(a, b), "\n]\n"), "record 2 (offset ", both},
		{"json: the file ends after a comma", "[\n" + a + ",\n", "record 1 (offset ", first},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := nfRead(t, tt.log)
			var e *Error
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("err = %v, want none", err)
			case tt.err != "" && (!errors.As(err, &e) || !e.CutShort || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("err = %v (%+v), want cut short: %q", err, e, tt.err)
			case strings.HasPrefix(tt.name, "json: ") && !strings.Contains(tt.name, "inside") &&
				!strings.HasSuffix(err.Error(), "the file ends after it, before the array's closing bracket: cut short (a file copied while written?)"):
				t.Errorf("err = %v, want the array's closing bracket missing", err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("connections:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}
