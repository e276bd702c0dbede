package connlog

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// nfdump 1.6's -o csv header (the 1.7 formats name columns differently;
// both are read by name).
const nfHeader16 = "ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr\n"

// nfLine16 is a record line of that header.
func nfLine16(ts, te, sa, da string, sp int, dp, pr, flg string, pkts, bytes, opkts, obytes int) string {
	return fmt.Sprintf("%s,%s,0.000,%s,%s,%d,%s,%s,%s,0,0,%d,%d,%d,%d,1,2,0,0,24,24,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0.000,0.000,0.000,192.0.2.254,0/0,1,1970-01-01 00:00:00.000\n",
		ts, te, sa, da, sp, dp, pr, flg, pkts, bytes, opkts, obytes)
}

type nfWant struct {
	conn               string // "orig:port > resp:port proto"
	origPkts, respPkts uint64
	outcome            flow.Outcome
}

func nfRead(t *testing.T, data string) ([]nfWant, []flow.Connection, error) {
	t.Helper()
	r, err := NewReader("flows.csv", strings.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	var got []nfWant
	var conns []flow.Connection
	for {
		var c flow.Connection
		err := r.Next(&c)
		if errors.Is(err, io.EOF) {
			return got, conns, nil
		}
		if err != nil {
			return got, conns, err
		}
		conns = append(conns, c)
		got = append(got, nfWant{fmt.Sprintf("%s:%d > %s:%d %d", c.Orig, c.OrigPort, c.Resp, c.RespPort, c.Proto), c.OrigPkts, c.RespPkts, c.Outcome})
	}
}

func TestNfdumpCSV(t *testing.T) {
	const t0, t1 = "2026-11-29 10:00:00.100", "2026-11-29 10:00:05.200"
	tests := []struct {
		name string
		log  string
		want []nfWant
	}{
		{"both directions paired, the first seen is the client",
			nfHeader16 + nfLine16(t0, t1, "192.0.2.1", "192.0.2.10", 51000, "443", "TCP", "...AP.SF", 12, 1800, 0, 0) +
				nfLine16("2026-11-29 10:00:00.101", t1, "192.0.2.10", "192.0.2.1", 443, "51000", "TCP", "...AP.SF", 10, 9000, 0, 0),
			[]nfWant{{"192.0.2.1:51000 > 192.0.2.10:443 6", 12, 10, flow.Established}}},
		{"the reverse first in the file, same time: the SYN-only side is the client",
			nfHeader16 + nfLine16(t0, t0, "192.0.2.11", "192.0.2.1", 3389, "51001", "TCP", "...A.R..", 1, 40, 0, 0) +
				nfLine16(t0, t0, "192.0.2.1", "192.0.2.11", 51001, "3389", "TCP", "......S.", 1, 60, 0, 0),
			[]nfWant{{"192.0.2.1:51001 > 192.0.2.11:3389 6", 1, 1, flow.Rejected}}},
		{"no reverse: unanswered",
			nfHeader16 + nfLine16(t0, t1, "192.0.2.1", "192.0.2.12", 51002, "8443", "TCP", "......S.", 3, 180, 0, 0),
			[]nfWant{{"192.0.2.1:51002 > 192.0.2.12:8443 6", 3, 0, flow.Unanswered}}},
		{"only the server's direction: partial, the server by its port",
			nfHeader16 + nfLine16(t0, t0, "192.0.2.10", "192.0.2.1", 53, "40000", "UDP", "........", 1, 120, 0, 0),
			[]nfWant{{"192.0.2.1:40000 > 192.0.2.10:53 17", 0, 1, flow.Partial}}},
		{"icmp echo and reply",
			nfHeader16 + nfLine16(t0, t0, "192.0.2.1", "192.0.2.10", 0, "8.0", "ICMP", "........", 1, 84, 0, 0) +
				nfLine16(t0, t0, "192.0.2.10", "192.0.2.1", 0, "0.0", "ICMP", "........", 1, 84, 0, 0),
			[]nfWant{{"192.0.2.1:8 > 192.0.2.10:0 1", 1, 1, flow.Established}}},
		{"a bidirectional record (opkt, obyt)",
			nfHeader16 + nfLine16(t0, t1, "2001:db8::1", "2001:db8::10", 51000, "443", "TCP", "...AP.SF", 5, 500, 4, 4000),
			[]nfWant{{"2001:db8::1:51000 > 2001:db8::10:443 6", 5, 4, flow.Established}}},
		{"reverse past the pairing window: two one-way records",
			nfHeader16 + nfLine16(t0, t0, "192.0.2.1", "192.0.2.20", 5000, "5001", "UDP", "", 1, 100, 0, 0) +
				nfLine16("2026-11-29 10:10:00.000", "2026-11-29 10:10:00.000", "192.0.2.20", "192.0.2.1", 5001, "5000", "UDP", "", 1, 100, 0, 0),
			[]nfWant{{"192.0.2.1:5000 > 192.0.2.20:5001 17", 1, 0, flow.Unanswered}, {"192.0.2.20:5001 > 192.0.2.1:5000 17", 1, 0, flow.Unanswered}}},
		{"nfdump 1.7 names, epoch times, columns in another order, Summary ignored",
			"proto,srcAddr,dstAddr,srcPort,dstPort,firstSeen,lastSeen,inPackets,inBytes,flags\n" +
				"UDP,192.0.2.1,192.0.2.30,40000,4172,1764410400.5,1764410401.5,10,1000,\n" +
				"17,192.0.2.30,192.0.2.1,4172,40000,1764410400.6,1764410401.5,8,800,\nSummary\nflows,bytes,packets\n2,1800,18\n",
			[]nfWant{{"192.0.2.1:40000 > 192.0.2.30:4172 17", 10, 8, flow.Established}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := nfRead(t, tt.log)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
	// Times and bytes of a pair.
	_, conns, _ := nfRead(t, tests[0].log)
	c := conns[0]
	if c.Start != time.Date(2026, 11, 29, 10, 0, 0, 100e6, time.UTC) || c.End != time.Date(2026, 11, 29, 10, 0, 5, 200e6, time.UTC) ||
		c.OrigIPBytes != 1800 || c.RespIPBytes != 9000 || c.State != "" || c.ClientBy != flow.ByRecord || c.Orig != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("connection %+v", c)
	}
}

func TestNfdumpErrors(t *testing.T) {
	const t0 = "2026-11-29 10:00:00.100"
	good := nfLine16(t0, t0, "192.0.2.1", "192.0.2.10", 1, "443", "TCP", "S", 1, 60, 0, 0)
	tests := []struct{ name, log, want string }{
		{"bad address", nfHeader16 + good + nfLine16(t0, t0, "192.0.2.1", "bogus", 1, "443", "TCP", "S", 1, 60, 0, 0), `flows.csv:3: destination: address "bogus"`},
		{"bad time", nfHeader16 + nfLine16("yesterday", t0, "192.0.2.1", "192.0.2.2", 1, "443", "TCP", "S", 1, 60, 0, 0), `flows.csv:2: first seen "yesterday"`},
		{"end before start", nfHeader16 + nfLine16(t0, "2026-11-29 09:00:00", "192.0.2.1", "192.0.2.2", 1, "443", "TCP", "S", 1, 60, 0, 0), `flows.csv:2: last seen 2026-11-29 09:00:00 before`},
		{"bad protocol", nfHeader16 + nfLine16(t0, t0, "192.0.2.1", "192.0.2.2", 1, "443", "XTP", "S", 1, 60, 0, 0), `flows.csv:2: protocol "XTP"`},
		{"bad count", nfHeader16 + strings.Replace(good, ",1,60,", ",1.2 M,60,", 1), `flows.csv:2: "1.2 M": not a count`},
		{"short line", nfHeader16 + "2026-11-29 10:00:00,x\n", `flows.csv:2: 2 columns`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := nfRead(t, tt.log)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// FuzzNfdump: any nfdump csv either reads or stops at an *Error naming
// a line; every connection it gives has valid addresses, an outcome, and
// ends no earlier than it starts.
func FuzzNfdump(f *testing.F) {
	f.Add([]byte(nfHeader16 + nfLine16("2026-11-29 10:00:00.100", "2026-11-29 10:00:01.100", "192.0.2.1", "192.0.2.10", 51000, "443", "TCP", "...AP.SF", 12, 1800, 0, 0) +
		nfLine16("2026-11-29 10:00:00.101", "2026-11-29 10:00:01.100", "192.0.2.10", "192.0.2.1", 443, "51000", "TCP", "...AP.SF", 10, 9000, 0, 0)))
	f.Add([]byte("proto,srcAddr,dstAddr,srcPort,dstPort,firstSeen,inPackets\nICMP,192.0.2.1,192.0.2.2,0,8.0,1.5,1\nICMP,192.0.2.2,192.0.2.1,0,0.0,1.6,1\nSummary\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader("fuzz.csv", strings.NewReader(string(data)))
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

// A line that does not read stops reading, but never loses what was read
// before it: records still waiting for their reverse are handed out as
// one-way connections first, then the error.
func TestNfdumpErrorKeepsWaitingRecords(t *testing.T) {
	const t0, t1 = "2026-11-29 10:00:00.100", "2026-11-29 10:00:01.000"
	log := nfHeader16 +
		nfLine16(t0, t0, "192.0.2.1", "192.0.2.10", 51000, "443", "TCP", "S", 1, 60, 0, 0) + // waits for its reverse
		nfLine16(t0, t0, "192.0.2.1", "192.0.2.11", 51001, "53", "UDP", "", 1, 70, 0, 0) + // so does this one
		nfLine16(t1, t1, "192.0.2.1", "bogus", 1, "443", "TCP", "S", 1, 60, 0, 0)
	got, _, err := nfRead(t, log)
	if err == nil || !strings.Contains(err.Error(), `flows.csv:4: destination: address "bogus"`) {
		t.Fatalf("err = %v", err)
	}
	want := []nfWant{
		{"192.0.2.1:51000 > 192.0.2.10:443 6", 1, 0, flow.Unanswered},
		{"192.0.2.1:51001 > 192.0.2.11:53 17", 1, 0, flow.Unanswered},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("connections before the error:\n got %v\nwant %v", got, want)
	}
	// The error stays: reading does not resume past the bad line.
	r, _ := NewReader("flows.csv", strings.NewReader(log))
	var c flow.Connection
	for range 2 {
		if err := r.Next(&c); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := r.Next(&c); err == nil || !strings.Contains(err.Error(), "flows.csv:4:") {
			t.Fatalf("after the waiting records: %v", err)
		}
	}
}

// TestNfdumpUnknown: what a NetFlow record cannot give is marked unknown,
// never left as a zero that outputs would print: always the payload bytes
// and missed_bytes (its octets are IP bytes), and the duration and IP
// bytes when the columns are missing.
func TestNfdumpUnknown(t *testing.T) {
	tests := []struct {
		name string
		log  string
		want flow.Fields
	}{
		{"nfdump's columns", nfHeader16 + nfLine16("2026-11-29 10:00:00.100", "2026-11-29 10:00:05.200", "192.0.2.1", "192.0.2.10", 51000, "443", "TCP", "...AP.SF", 12, 1800, 0, 0) +
			nfLine16("2026-11-29 10:00:00.101", "2026-11-29 10:00:05.100", "192.0.2.10", "192.0.2.1", 443, "51000", "TCP", "...AP.SF", 10, 9000, 0, 0),
			flow.FlowRecordUnknown},
		{"no end, no bytes", "ts,sa,da,sp,dp,pr,ipkt\n2026-11-29 10:00:00.100,192.0.2.1,192.0.2.10,51000,443,TCP,3\n",
			flow.FlowRecordUnknown | flow.FieldDuration | flow.FieldOrigIPBytes},
		{"no bytes, answered", "ts,te,sa,da,sp,dp,pr,ipkt\n2026-11-29 10:00:00.100,2026-11-29 10:00:01.100,192.0.2.1,192.0.2.10,51000,443,TCP,3\n" +
			"2026-11-29 10:00:00.200,2026-11-29 10:00:01.000,192.0.2.10,192.0.2.1,443,51000,TCP,2\n",
			flow.FlowRecordUnknown | flow.FieldOrigIPBytes | flow.FieldRespIPBytes},
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
			if got[0].Unknown != tt.want {
				t.Errorf("unknown %08b, want %08b", got[0].Unknown, tt.want)
			}
		})
	}
}

// TestNfdumpLastLineWithoutNewline: nfdump ends every line with a
// newline. A last record line without one is cut short (a warning, not
// taken) even when it reads, since it may be cut in its last column ("60"
// bytes cut to "6"), as a Zeek TSV line is; the records before it are
// handed out, those waiting for their reverse as one-way. Summary lines
// after the records are not records: without a newline they are whole.
func TestNfdumpLastLineWithoutNewline(t *testing.T) {
	const t0 = "2026-11-29 10:00:00.100"
	first := nfLine16(t0, t0, "192.0.2.1", "192.0.2.10", 51000, "443", "TCP", "S", 1, 60, 0, 0)
	last := nfLine16(t0, t0, "192.0.2.1", "192.0.2.11", 51001, "53", "UDP", "", 1, 70, 0, 0)
	firstOnly := []nfWant{{"192.0.2.1:51000 > 192.0.2.10:443 6", 1, 0, flow.Unanswered}}
	both := append(firstOnly, nfWant{"192.0.2.1:51001 > 192.0.2.11:53 17", 1, 0, flow.Unanswered})
	summary := "Summary\nflows,bytes,packets,avg_bps,avg_pps,avg_bpp\n2,130,2,0,0,65"
	tests := []struct {
		name, log, err string // err "": no error
		want           []nfWant
	}{
		{"a last record that reads", nfHeader16 + first + strings.TrimSuffix(last, "\n"), "flows.csv:3: the last line has no newline: cut short", firstOnly},
		{"a last record that does not read", nfHeader16 + first + last[:30], "flows.csv:3: 2 columns", firstOnly},
		{"with its newline", nfHeader16 + first + last, "", both},
		{"a summary line without newline", nfHeader16 + first + last + summary, "", both},
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
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("connections:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}
