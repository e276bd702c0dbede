package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/flowaudit/flowaudit/analyzer/capture"
	"github.com/flowaudit/flowaudit/analyzer/zeeklog"
)

// dnsLogLine is one line of Zeek's dns.log: a query and its response.
type dnsLogLine struct {
	ts, rtt                time.Duration // ts since the epoch
	orig, resp             netip.Addr
	origPort, respPort     uint16
	proto                  string
	transID                uint16
	query                  string
	qtype, qclass, rcode   uint16
	answers                []string // addresses (A, AAAA) and names (CNAME), as Zeek writes them
	ttls                   []uint32
	haveQuery, haveAnswers bool
}

// writeZeekDNSLog writes the DNS queries and responses of capture as
// Zeek's dns.log (TSV, or JSON lines, gzip-compressed when gz) at path:
// the messages are read with gopacket's DNS decoder, not flowaudit's,
// over UDP and over TCP (the segments of each direction put together);
// a response is paired with its query by connection and transaction id.
// It returns how many lines have answers.
func writeZeekDNSLog(t *testing.T, capturePath, path string, asJSON, gz bool) int {
	t.Helper()
	f, err := os.Open(capturePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := capture.NewReader(capturePath, f)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	type dir struct {
		src, dst         netip.Addr
		srcPort, dstPort uint16
	}
	var lines []*dnsLogLine
	pending := map[string]*dnsLogLine{}
	tcpBuf := map[dir][]byte{}
	message := func(d dir, proto string, msg []byte, ts time.Time) {
		var dns layers.DNS
		if err := dns.DecodeFromBytes(msg, gopacket.NilDecodeFeedback); err != nil {
			t.Fatalf("%s: a DNS message gopacket does not read: %v", capturePath, err)
		}
		client := d // the query's direction
		if dns.QR {
			client = dir{d.dst, d.src, d.dstPort, d.srcPort}
		}
		key := fmt.Sprint(client, proto, dns.ID)
		l := pending[key]
		if l == nil {
			l = &dnsLogLine{ts: time.Duration(ts.UnixNano()), orig: client.src, resp: client.dst, origPort: client.srcPort, respPort: client.dstPort,
				proto: proto, transID: dns.ID}
			pending[key] = l
			lines = append(lines, l)
		}
		if len(dns.Questions) > 0 && l.query == "" {
			q := dns.Questions[0]
			l.query, l.qtype, l.qclass, l.haveQuery = string(q.Name), uint16(q.Type), uint16(q.Class), true
		}
		if !dns.QR {
			return
		}
		delete(pending, key)
		l.rtt = time.Duration(ts.UnixNano()) - l.ts
		l.rcode, l.haveAnswers = uint16(dns.ResponseCode), true
		for _, a := range dns.Answers {
			switch a.Type {
			case layers.DNSTypeA, layers.DNSTypeAAAA:
				l.answers = append(l.answers, a.IP.String())
			case layers.DNSTypeCNAME:
				l.answers = append(l.answers, string(a.CNAME))
			default:
				continue
			}
			l.ttls = append(l.ttls, a.TTL)
		}
	}
	for {
		p, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pkt := gopacket.NewPacket(p.Data, layers.LinkType(p.LinkType), gopacket.Default)
		var d dir
		switch n := pkt.NetworkLayer().(type) {
		case *layers.IPv4:
			d.src, _ = netip.AddrFromSlice(n.SrcIP)
			d.dst, _ = netip.AddrFromSlice(n.DstIP)
		case *layers.IPv6:
			d.src, _ = netip.AddrFromSlice(n.SrcIP)
			d.dst, _ = netip.AddrFromSlice(n.DstIP)
		default:
			continue
		}
		switch tr := pkt.TransportLayer().(type) {
		case *layers.UDP:
			d.srcPort, d.dstPort = uint16(tr.SrcPort), uint16(tr.DstPort)
			if (d.srcPort == 53 || d.dstPort == 53) && len(tr.Payload) > 0 {
				message(d, "udp", tr.Payload, p.Timestamp)
			}
		case *layers.TCP:
			d.srcPort, d.dstPort = uint16(tr.SrcPort), uint16(tr.DstPort)
			if (d.srcPort != 53 && d.dstPort != 53) || len(tr.Payload) == 0 {
				continue
			}
			b := append(tcpBuf[d], tr.Payload...)
			for len(b) >= 2 && len(b) >= 2+int(b[0])<<8|int(b[1]) {
				n := int(b[0])<<8 | int(b[1])
				message(d, "tcp", b[2:2+n], p.Timestamp)
				b = b[2+n:]
			}
			tcpBuf[d] = b
		}
	}
	rcodes := map[uint16]string{0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
	var out bytes.Buffer
	if !asJSON {
		out.WriteString("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#open\t2024-03-04-09-00-00\n" +
			"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers\tTTLs\trejected\n" +
			"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tcount\tinterval\tstring\tcount\tstring\tcount\tstring\tcount\tstring\tbool\tbool\tbool\tbool\tcount\tvector[string]\tvector[interval]\tbool\n")
	}
	answered := 0
	for i, l := range lines {
		if len(l.answers) > 0 {
			answered++
		}
		uid := fmt.Sprintf("CDns%d", i+1)
		secs := func(d time.Duration) string { return string(zeeklog.AppendSeconds(nil, d)) }
		if asJSON {
			m := map[string]any{"ts": json.Number(secs(l.ts)), "uid": uid, "id.orig_h": l.orig.String(), "id.orig_p": l.origPort,
				"id.resp_h": l.resp.String(), "id.resp_p": l.respPort, "proto": l.proto, "trans_id": l.transID,
				"AA": false, "TC": false, "RD": true, "RA": l.haveAnswers, "Z": 0, "rejected": false}
			if l.haveQuery {
				m["query"], m["qclass"], m["qclass_name"], m["qtype"] = l.query, l.qclass, "C_INTERNET", l.qtype
			}
			if l.haveAnswers {
				m["rtt"], m["rcode"], m["rcode_name"] = json.Number(secs(l.rtt)), l.rcode, rcodes[l.rcode]
			}
			if len(l.answers) > 0 {
				var ttls []json.Number
				for _, ttl := range l.ttls {
					ttls = append(ttls, json.Number(secs(time.Duration(ttl)*time.Second)))
				}
				m["answers"], m["TTLs"] = l.answers, ttls
			}
			line, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			out.Write(append(line, '\n'))
			continue
		}
		unset := func(ok bool, v string) string {
			if !ok {
				return "-"
			}
			return v
		}
		var ttls []string
		for _, ttl := range l.ttls {
			ttls = append(ttls, secs(time.Duration(ttl)*time.Second))
		}
		fmt.Fprintf(&out, "%s\t%s\t%s\t%d\t%s\t%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\tF\tF\tT\t%s\t0\t%s\t%s\tF\n",
			secs(l.ts), uid, l.orig, l.origPort, l.resp, l.respPort, l.proto, l.transID, unset(l.haveAnswers, secs(l.rtt)),
			unset(l.haveQuery, l.query), unset(l.haveQuery, fmt.Sprint(l.qclass)), unset(l.haveQuery, "C_INTERNET"),
			unset(l.haveQuery, fmt.Sprint(l.qtype)), unset(l.haveQuery, layers.DNSType(l.qtype).String()),
			unset(l.haveAnswers, fmt.Sprint(l.rcode)), unset(l.haveAnswers, rcodes[l.rcode]), unset(l.haveAnswers, "T"),
			unset(len(l.answers) > 0, strings.Join(l.answers, ",")), unset(len(ttls) > 0, strings.Join(ttls, ",")))
	}
	if !asJSON {
		out.WriteString("#close\t2024-03-04-10-00-00\n")
	}
	data := out.Bytes()
	if gz {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(data)
		zw.Close()
		data = z.Bytes()
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return answered
}

// TestZeekDNSLog: the Cloud Connector pilot written as Zeek's conn.log
// and dns.log (no ssl.log or http.log) gives the capture's findings for
// every service the capture named from DNS (evidence dns or dns (other
// client), a CNAME chain, DNS over TCP, an answer to the other connector)
// and what DNS called an address named otherwise (dns_names): the same
// status, rules, names and name matches, whether the dns.log lies beside
// the conn.log (TSV, rotated and compressed) or is given as an input
// (JSON lines). The report cites it (name_logs with kind dns, frame_note)
// and the evidence bundle copies it. Without it those services are not
// documented by their host-name rules.
func TestZeekDNSLog(t *testing.T) {
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
		DNSNames                      []string                                `json:"dns_names"`
	}
	type doc struct {
		Flows     []flowRep
		FrameNote string                                `json:"frame_note"`
		NameLogs  []struct{ Path, SHA256, Kind string } `json:"name_logs"`
		Complete  bool
	}
	report := func(args []string) (map[string]flowRep, doc) {
		t.Helper()
		code, out, errs := analyzeCmd(t, args...)
		var r doc
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("exit %d: %v: %s", code, err, errs)
		}
		m := map[string]flowRep{}
		for _, f := range r.Flows {
			m[fmt.Sprint(f.Client, " ", f.Server, " ", f.Proto, "/", f.Port)] = f
		}
		return m, r
	}
	// Services the capture named from DNS only (a name of their own,
	// SNI or Host, needs the ssl.log or http.log).
	fromDNS := func(f flowRep) bool {
		for _, n := range f.Names {
			if !strings.HasPrefix(n.Evidence, "dns") {
				return false
			}
		}
		return len(f.Names) > 0
	}
	capFlows, _ := report(args(capture))
	var dnsFlows, dnsNames []string
	for k, f := range capFlows {
		if fromDNS(f) {
			dnsFlows = append(dnsFlows, k)
		}
		if len(f.DNSNames) > 0 {
			dnsNames = append(dnsNames, k)
		}
	}
	slices.Sort(dnsFlows)
	if len(dnsFlows) < 3 || len(dnsNames) < 1 {
		t.Fatalf("the capture named %q from DNS and %q otherwise than DNS, want 3 (own answer after a CNAME chain, over TCP, another client's) and 1 (an SNI that contradicts DNS)", dnsFlows, dnsNames)
	}

	// The conn.log, ssl.log and http.log, and a rotated, compressed TSV
	// dns.log beside them.
	all := t.TempDir()
	connAll, _, _ := writeZeekLogs(t, capture, all, false)
	dnsAll := filepath.Join(all, "dns.10:00:00-11:00:00.log.gz")
	if n := writeZeekDNSLog(t, capture, dnsAll, false, true); n < 3 {
		t.Fatalf("%d dns.log lines with answers, want 3 or more", n)
	}
	// The conn.log alone, and a dns.log of JSON lines given as a file.
	alone := filepath.Join(t.TempDir(), "conn.log")
	writeConnLog(t, capture, alone)
	given := filepath.Join(t.TempDir(), "resolver.json")
	writeZeekDNSLog(t, capture, given, true, false)

	for _, tc := range []struct {
		name    string
		inputs  []string
		log     string
		compare []string // the services whose findings are the capture's
		logs    int      // name_logs
	}{
		{"beside the conn.log, ssl.log and http.log", []string{connAll}, dnsAll, slices.Sorted(maps.Keys(capFlows)), 3},
		{"given as a file", []string{alone, given}, given, dnsFlows, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logFlows, d := report(args(tc.inputs...))
			if !d.Complete {
				t.Error("report incomplete")
			}
			var dnsLogs []string
			for _, l := range d.NameLogs {
				if len(l.SHA256) != 64 {
					t.Errorf("name log %+v without its SHA-256", l)
				}
				if l.Kind == "dns" {
					dnsLogs = append(dnsLogs, l.Path)
				}
			}
			if len(d.NameLogs) != tc.logs || !slices.Equal(dnsLogs, []string{tc.log}) {
				t.Errorf("name_logs %+v, want %d with %s (dns)", d.NameLogs, tc.logs, tc.log)
			}
			if want := "(dns) from the answers of " + tc.log + " by address"; !strings.Contains(d.FrameNote, want) {
				t.Errorf("frame_note %q does not say %q", d.FrameNote, want)
			}
			if len(logFlows) != len(capFlows) {
				t.Errorf("%d services, the capture has %d", len(logFlows), len(capFlows))
			}
			for _, k := range tc.compare {
				cf, lf := capFlows[k], logFlows[k]
				if !slices.Equal(cf.Rules, lf.Rules) || cf.Status != lf.Status || !slices.Equal(cf.NameMatches, lf.NameMatches) ||
					!slices.Equal(cf.Names, lf.Names) || !slices.Equal(cf.DNSNames, lf.DNSNames) {
					t.Errorf("%s:\n capture %+v\n logs    %+v", k, cf, lf)
				}
			}
		})
	}
	// Without the dns.log: the services named from DNS are not.
	noNames, _ := report(args(alone))
	for _, k := range dnsFlows {
		if lf := noNames[k]; len(lf.Names) != 0 || len(lf.NameMatches) != 0 {
			t.Errorf("%s: names without a dns.log: %+v", k, lf)
		}
	}
	// --evidence copies the dns.log.
	bundle := filepath.Join(t.TempDir(), "bundle")
	analyzeCmd(t, "analyze", "-i", "testdata/names/inventory.yaml", "--product", "citrix", "--reproducible", "--evidence", bundle, alone, given)
	data, err := os.ReadFile(filepath.Join(bundle, "inputs", "names-1-resolver.json"))
	orig, _ := os.ReadFile(given)
	if err != nil || !bytes.Equal(data, orig) {
		t.Errorf("the bundle's copy of the dns.log: %v", err)
	}
}

// writeConnLog writes capture's connections as Zeek's conn.log at path.
func writeConnLog(t *testing.T, capture, path string) {
	t.Helper()
	dir := t.TempDir()
	conn, _, _ := writeZeekLogs(t, capture, dir, false)
	data, err := os.ReadFile(conn)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestZeekDNSLogOverflow: dns.log answers past the bound are not kept, so
// a host-name rule may leave a service undocumented: the report says why
// (JSON dns_log_overflow and incomplete, the INCOMPLETE line), and
// analyze, rules and diff of the saved report exit 1.
func TestZeekDNSLogOverflow(t *testing.T) {
	t.Chdir(sampleRoot)
	const capture, inv = "testdata/names/cloud-connector.pcapng", "testdata/names/inventory.yaml"
	dir := t.TempDir()
	conn, dns := filepath.Join(dir, "conn.log"), filepath.Join(dir, "dns.log")
	writeConnLog(t, capture, conn)
	writeZeekDNSLog(t, capture, dns, false, false)
	base := []string{"analyze", "-i", inv, "--product", "citrix", "--reproducible", "--fail-on", "none"}
	if code, out, errs := analyzeCmd(t, append(base, "-f", "json", conn)...); code != exitOK || !strings.Contains(out, `"complete": true`) {
		t.Fatalf("within the bound: exit %d: %s", code, errs)
	}
	maxNames = 1
	t.Cleanup(func() { maxNames = 0 })
	const why = "DNS answers of the dns.log were not kept: more than 1 answers"
	code, out, errs := analyzeCmd(t, append(base, "-f", "json", conn)...)
	var doc struct {
		Complete   bool
		Incomplete []string
		Limits     struct {
			DNSLogOverflow uint64 `json:"dns_log_overflow"`
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if code != exitError || !strings.Contains(errs, why) || doc.Complete || len(doc.Incomplete) != 1 || !strings.Contains(doc.Incomplete[0], why) || doc.Limits.DNSLogOverflow == 0 {
		t.Errorf("exit %d (%s): complete %v, incomplete %q, dns_log_overflow %d", code, errs, doc.Complete, doc.Incomplete, doc.Limits.DNSLogOverflow)
	}
	saved := filepath.Join(t.TempDir(), "partial.json")
	os.WriteFile(saved, []byte(out), 0o644)
	for _, format := range []string{"table", "csv"} {
		if _, out, _ := analyzeCmd(t, append(base, "-f", format, conn)...); !strings.Contains(out, why) || !strings.Contains(strings.ToUpper(out), "INCOMPLETE REPORT") {
			t.Errorf("%s: no INCOMPLETE line with %q:\n%s", format, why, out)
		}
	}
	if code, out, errs := analyzeCmd(t, "rules", "-i", inv, "--product", "citrix", "--capture", conn, "--only", "all", "-f", "nft"); code != exitError || !strings.Contains(out, "INCOMPLETE analysis: ") || !strings.Contains(errs, why) {
		t.Errorf("rules: exit %d: %s", code, errs)
	}
	maxNames = 0
	if code, _, errs := analyzeCmd(t, "diff", saved, saved); code != exitError || !strings.Contains(errs, "DNS answers of the dns.log were not kept") {
		t.Errorf("diff: exit %d: %s", code, errs)
	}
}
