package zeeklog_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/capturetest"
	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/zeeklog"
)

// baselines pairs each shared Zeek trace that has a conn.log in Zeek's test
// suite with that conn.log (testdata/zeek-baselines, whose README gives the
// Zeek test, path and commit of each).
var baselines = []struct{ trace, baseline string }{
	{"gre-sample.pcap", "core.tunnels.gre.conn.log"},
	{"vxlan.pcap", "core.tunnels.vxlan.conn.log"},
	{"simpleauth.pcap", "scripts.base.protocols.ldap.basic.conn.log"},
	{"rdpeudp2-handshake-success.pcap", "scripts.base.protocols.rdp.rdpeudp2-handshake-success.conn.log"},
	{"tcp-syslog.pcap", "scripts.base.protocols.syslog.tcp-framing.conn.log"},
	{"mixed-vlan-mpls.pcap", "core.vlan-mpls.conn.log"},
}

// compared are the conn.log columns compared with Zeek's, where the
// baseline has them. Not compared: uid (an identifier, random in Zeek,
// derived in flowaudit), service (Zeek's protocol analyzers, which flowaudit
// does not run), local_orig and local_resp (Zeek's Site::local_nets, which
// flowaudit does not know), tunnel_parents (the outer connection's uid: a
// tunnel is analysed by its inner flow, the outer one is not logged),
// community_id (in no baseline). The id.* columns are the key.
var compared = []string{"ts", "proto", "duration", "orig_bytes", "resp_bytes", "conn_state",
	"missed_bytes", "history", "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "ip_proto"}

var idColumns = []string{"id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto"}

// allowed lists the only differences from Zeek's conn.logs that pass, each
// one of the deliberate differences README's flows section names, keyed by
// trace, connection ("proto orig_h:orig_p > resp_h:resp_p", as Zeek logs
// it) and column ("" for a connection Zeek logs and flowaudit does not).
// An entry that no longer matches a difference fails the test too, so the
// list cannot go stale.
var allowed = []struct{ trace, conn, column, reason string }{
	// ICMP errors are attached to the connection they quote: the port
	// unreachable quoting the DNS query (udp 66.59.111.190:37675 >
	// 172.28.2.3:53) is counted in that connection's icmp_errors, not
	// logged as an ICMP connection of its own.
	{"gre-sample.pcap", "icmp 172.28.2.3:3 > 66.59.111.190:3", "", "ICMP error attached to the connection it quotes"},
	// Tunnels are analysed by their inner flow: the VXLAN (UDP 4789)
	// carriers of the inner ICMP echo are not logged.
	{"vxlan.pcap", "udp 192.168.56.12:38071 > 192.168.56.11:4789", "", "tunnel analysed by its inner flow"},
	{"vxlan.pcap", "udp 192.168.56.12:40908 > 192.168.56.11:4789", "", "tunnel analysed by its inner flow"},
	{"vxlan.pcap", "udp 192.168.56.11:39924 > 192.168.56.12:4789", "", "tunnel analysed by its inner flow"},
	{"vxlan.pcap", "udp 192.168.56.11:48134 > 192.168.56.12:4789", "", "tunnel analysed by its inner flow"},
}

// zeekRow is one conn.log line by column name; a column the log does not
// have is absent.
type zeekRow map[string]string

// key names a connection as Zeek logs it, or "" when the log was cut to
// columns without the connection's endpoints.
func (r zeekRow) key() string {
	for _, c := range idColumns {
		if _, ok := r[c]; !ok {
			return ""
		}
	}
	return fmt.Sprintf("%s %s:%s > %s:%s", r["proto"], r["id.orig_h"], r["id.orig_p"], r["id.resp_h"], r["id.resp_p"])
}

// masked: BTest's canonifier replaced the value (newer baselines mask ts).
func masked(v string) bool { return v != "" && strings.Trim(v, "X.") == "" }

// readBaseline reads a Zeek conn.log as btest-diff stores it: Zeek's TSV
// with its #fields header, or the output of zeek-cut -m (a first line of
// column names), after BTest's "###" comment.
func readBaseline(t *testing.T, path string) []zeekRow {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	var rows []zeekRow
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#fields\t"):
			fields = strings.Split(line, "\t")[1:]
		case strings.HasPrefix(line, "#"):
		case fields == nil:
			fields = strings.Split(line, "\t") // zeek-cut -m
		default:
			vals := strings.Split(line, "\t")
			if len(vals) != len(fields) {
				t.Fatalf("%s:%d: %d values for %d fields", path, n, len(vals), len(fields))
			}
			r := zeekRow{}
			for i, f := range fields {
				r[f] = vals[i]
			}
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		t.Fatalf("%s: no connections", path)
	}
	return rows
}

// flowauditRows runs the code path of flows --format zeek (analyzer.Run
// with flows' options, each finished connection written by zeeklog) over a
// capture and reads the lines back by column.
func flowauditRows(t *testing.T, path string) []zeekRow {
	t.Helper()
	var lines [][]byte
	_, err := analyzer.Run([]string{path}, analyzer.Options{
		NoHash: true, NoServices: true, SweepThreshold: -1,
		OnConnection: func(c *flow.Connection) {
			lines = append(lines, zeeklog.AppendTSV(nil, c))
		},
	})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	rows := make([]zeekRow, len(lines))
	for i, l := range lines {
		vals := strings.Split(string(l), "\t")
		if len(vals) != len(zeeklog.Fields) {
			t.Fatalf("%s: connection %d: %d values for %d fields", path, i, len(vals), len(zeeklog.Fields))
		}
		rows[i] = zeekRow{}
		for j, f := range zeeklog.Fields {
			rows[i][f] = vals[j]
		}
	}
	return rows
}

// TestZeekBaselines: for every shared Zeek trace with a conn.log in Zeek's
// own test suite, flows --format zeek logs the same connections, matched
// by 5-tuple and start time (ts), with the same values in every compared
// column (duration to the microsecond, as Zeek writes it); the only
// differences allowed are the deliberate ones listed in allowed.
func TestZeekBaselines(t *testing.T) {
	capturetest.Dir(t)
	used := make([]bool, len(allowed))
	var conns, agree, traces int
	for _, tc := range baselines {
		t.Run(tc.trace, func(t *testing.T) {
			traces++
			want := readBaseline(t, filepath.Join("..", "..", "testdata", "zeek-baselines", tc.baseline))
			got := flowauditRows(t, capturetest.Path(t, tc.trace))
			allow := func(conn, column string) bool {
				for i, a := range allowed {
					if a.trace == tc.trace && a.conn == conn && a.column == column {
						used[i] = true
						t.Logf("%s %q: allowed difference: %s", conn, column, a.reason)
						return true
					}
				}
				return false
			}
			taken := make([]bool, len(got))
			for _, w := range want {
				conns++
				k := w.key()
				match := -1
				for i, g := range got {
					if taken[i] {
						continue
					}
					if k != "" && g.key() != k {
						continue
					}
					if ts := w["ts"]; ts != "" && !masked(ts) && g["ts"] != ts {
						continue
					}
					if k == "" && len(want) != 1 {
						t.Fatalf("%s: a baseline cut to columns without id.* can only be matched with one connection", tc.baseline)
					}
					match = i
					break
				}
				if match < 0 {
					if !allow(k, "") {
						t.Errorf("%s: Zeek logs %s (ts %s), flowaudit does not", tc.trace, k, w["ts"])
					}
					continue
				}
				taken[match] = true
				g, same := got[match], true
				for _, c := range compared {
					wv, ok := w[c]
					if !ok || masked(wv) {
						continue
					}
					if g[c] != wv && !allow(k, c) {
						t.Errorf("%s: %s: %s is %q, Zeek's %q", tc.trace, k, c, g[c], wv)
						same = false
					}
				}
				if same {
					agree++
				}
			}
			for i, g := range got {
				if !taken[i] && !allow(g.key(), "") {
					t.Errorf("%s: flowaudit logs %s (ts %s), Zeek does not", tc.trace, g.key(), g["ts"])
				}
			}
		})
	}
	for i, a := range allowed {
		if !used[i] {
			t.Errorf("allowed difference not found (remove it from the list): %s %s %q (%s)", a.trace, a.conn, a.column, a.reason)
		}
	}
	t.Logf("%d of %d connections Zeek logs in %d traces agree in every compared column", agree, conns, traces)
}

// TestZeekBaselineReader: the baseline reader takes both forms btest-diff
// stores (Zeek's TSV with #fields, zeek-cut -m's column-name line) and
// tells masked values.
func TestZeekBaselineReader(t *testing.T) {
	dir := t.TempDir()
	tsv := "### BTest baseline data\n#separator \\x09\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\n" +
		"#types\ttime\taddr\tport\taddr\tport\tenum\tinterval\nXXXXXXXXXX.XXXXXX\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\t0.5\n#close\tXXXX\n"
	cut := "### BTest baseline data\nuid\thistory\nCx\tShADFf\n"
	for _, tc := range []struct {
		in      string
		key     string
		col, v  string
		maskedT bool
	}{
		{tsv, "tcp 10.0.0.1:1 > 10.0.0.2:2", "duration", "0.5", true},
		{cut, "", "history", "ShADFf", false},
	} {
		p := filepath.Join(dir, "conn.log")
		if err := os.WriteFile(p, []byte(tc.in), 0o644); err != nil {
			t.Fatal(err)
		}
		rows := readBaseline(t, p)
		if len(rows) != 1 || rows[0].key() != tc.key || rows[0][tc.col] != tc.v || masked(rows[0]["ts"]) != tc.maskedT {
			t.Errorf("read %q as %v", tc.in, rows)
		}
	}
	if masked("") || masked("1055289978.756932") || !masked("XXXXXXXXXX.XXXXXX") {
		t.Error("masked")
	}
}
