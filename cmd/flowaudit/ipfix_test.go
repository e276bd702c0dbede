package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/flowaudit/flowaudit/analyzer/connlog"
	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
	"io"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/connlog/ipfixgen"
	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// sampleConnections are the connections flows reads from a capture.
func sampleConnections(t *testing.T, path string) []flow.Connection {
	t.Helper()
	var conns []flow.Connection
	_, err := analyzer.Run([]string{path}, analyzer.Options{
		OnConnection: func(c *flow.Connection) { conns = append(conns, *c) },
		NoHash:       true, NoServices: true, SweepThreshold: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return conns
}

// TestSampleIPFIX: each sample pilot's connections written as an IPFIX
// file — one-way records paired back by the reader, or RFC 5103 biflow
// records — and analysed give the capture's findings, with the
// differences of a conn.log (no frames, filters, evidence, TTLs or ICMP
// errors).
func TestSampleIPFIX(t *testing.T) {
	t.Chdir(sampleRoot)
	tmp := t.TempDir()
	for _, p := range samplePilots {
		conns := sampleConnections(t, p.capture())
		for _, o := range []struct {
			name   string
			opts   ipfixgen.Options
			format string
			tol    time.Duration
		}{
			{"uniflow", ipfixgen.Options{}, "ipfix", time.Microsecond},
			{"biflow", ipfixgen.Options{Biflow: true, PerMessage: 7}, "ipfix", time.Microsecond},
			{"netflow-v9", ipfixgen.Options{V9: true, PerMessage: 24}, "netflow v9", time.Millisecond}, // FIRST_SWITCHED: milliseconds
		} {
			t.Run(p.family+"/"+o.name, func(t *testing.T) {
				var b bytes.Buffer
				if err := ipfixgen.Write(&b, conns, o.opts); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(tmp, p.family+"-"+o.name+".dat") // the content decides
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
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
					t.Fatalf("ipfix report: %v: %s\n%.400s", err, errs, logJSON)
				}
				compareLogReport(t, capRep, logRep, path, o.format, o.tol)
			})
		}
	}
}

// TestIPFIXWireshark holds the IPFIX the tests write, and the reader's
// decoding of it, to Wireshark's: a sample's connections as IPFIX
// messages over UDP (port 4739, a record a message) in a pcap, decoded by
// tshark's cflow dissector, give the records the reader reads back.
// Skipped without tshark (none of the shared captures carries IPFIX or
// NetFlow, so the messages are the ones this repository writes).
func TestIPFIXWireshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	t.Chdir(sampleRoot)
	conns := sampleConnections(t, samplePilots[2].capture()) // ras: IPv4 and IPv6, TCP, UDP, ICMP
	for _, v9 := range []bool{false, true} {
		name := "ipfix"
		if v9 {
			name = "netflow-v9"
		}
		t.Run(name, func(t *testing.T) { wiresharkCheck(t, tshark, conns, v9) })
	}
}

// wiresharkCheck writes conns as IPFIX (or NetFlow v9) over UDP and holds
// what tshark decodes of it to what connlog reads.
func wiresharkCheck(t *testing.T, tshark string, conns []flow.Connection, v9 bool) {
	msgs, err := ipfixgen.Messages(conns, ipfixgen.Options{PerMessage: 1, V9: v9})
	if err != nil {
		t.Fatal(err)
	}
	s := pcapgen.New(pcapgen.Config{Seed: 1})
	exporter := netip.MustParseAddr("192.0.2.250")
	collector := netip.AddrPortFrom(netip.MustParseAddr("192.0.2.251"), 4739)
	for i, m := range msgs {
		s.UDP(time.Duration(i)*time.Millisecond, netip.AddrPortFrom(exporter, 40000), collector, pcapgen.UDPOpts{Reply: pcapgen.ReplyNone, Data: m})
	}
	pcap := filepath.Join(t.TempDir(), "ipfix.pcap")
	f, err := os.Create(pcap)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(f, pcapgen.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cmd := exec.Command(tshark, "-r", pcap, "-d", "udp.port==4739,cflow", "-T", "fields", "-E", "separator=|",
		"-e", "cflow.srcaddr", "-e", "cflow.srcaddrv6", "-e", "cflow.dstaddr", "-e", "cflow.dstaddrv6",
		"-e", "cflow.srcport", "-e", "cflow.dstport", "-e", "cflow.protocol", "-e", "cflow.packets", "-e", "cflow.octets",
		"-e", "cflow.abstimestart", "-e", "cflow.abstimeend", "-e", "cflow.timestart", "-e", "cflow.timeend")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v: %s", err, stderr.Bytes())
	}
	// A record: addresses, ports (none for ICMP), protocol, packets,
	// octets; its start and end apart, to compare within a nanosecond
	// (Wireshark truncates NTP fractions where the reader rounds).
	type rec struct {
		key        string
		start, end time.Time
	}
	var shark []rec
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(l, "|")
		if len(f) != 13 {
			t.Fatalf("tshark line %q", l)
		}
		sp, dp := f[4], f[5]
		if f[6] == "1" || f[6] == "58" {
			sp, dp = "-", "-"
		}
		var st, en time.Time
		if v9 {
			// FIRST_SWITCHED, LAST_SWITCHED, as tshark shows them:
			// seconds relative to the packet.
			a, err1 := strconv.ParseFloat(f[11], 64)
			b, err2 := strconv.ParseFloat(f[12], 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("tshark times %q %q", f[11], f[12])
			}
			st, en = time.Unix(0, int64(math.Round(a*1e3))*1e6), time.Unix(0, int64(math.Round(b*1e3))*1e6)
		} else {
			var err1, err2 error
			st, err1 = time.Parse("Jan 2, 2006 15:04:05.999999999 MST", f[9])
			en, err2 = time.Parse("Jan 2, 2006 15:04:05.999999999 MST", f[10])
			if err1 != nil || err2 != nil {
				t.Fatalf("tshark times %q %q", f[9], f[10])
			}
		}
		shark = append(shark, rec{strings.Join([]string{f[0] + f[1], f[2] + f[3], sp, dp, f[6], f[7], f[8]}, " "), st, en})
	}

	// The same messages, one after another, read by connlog: each
	// connection is the records of its directions that carried packets.
	r, err := connlog.NewReader("ipfix", bytes.NewReader(bytes.Join(msgs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var mine []rec
	for {
		var c flow.Connection
		if err := r.Next(&c); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
		dir := func(src, dst netip.Addr, sp, dp uint16, pkts, octs uint64) {
			p, q := fmt.Sprint(sp), fmt.Sprint(dp)
			if c.Proto == 1 || c.Proto == 58 {
				p, q = "-", "-"
			}
			mine = append(mine, rec{strings.Join([]string{src.String(), dst.String(), p, q, fmt.Sprint(c.Proto), fmt.Sprint(pkts), fmt.Sprint(octs)}, " "), c.Start, c.End})
		}
		if c.OrigPkts > 0 {
			dir(c.Orig, c.Resp, c.OrigPort, c.RespPort, c.OrigPkts, c.OrigIPBytes)
		}
		if c.RespPkts > 0 {
			dir(c.Resp, c.Orig, c.RespPort, c.OrigPort, c.RespPkts, c.RespIPBytes)
		}
	}
	if v9 {
		// tshark shows FIRST_SWITCHED and LAST_SWITCHED against each
		// packet's own uptime: compare the durations, not the instants.
		for _, rs := range [][]rec{shark, mine} {
			for i := range rs {
				rs[i].start, rs[i].end = time.Unix(0, 0), time.Unix(0, int64(rs[i].end.Sub(rs[i].start)))
			}
		}
	}
	order := func(a, b rec) int { return strings.Compare(a.key+a.start.String(), b.key+b.start.String()) }
	slices.SortFunc(shark, order)
	slices.SortFunc(mine, order)
	if len(shark) != len(mine) || len(shark) != len(msgs) {
		t.Fatalf("tshark decoded %d records, connlog %d, %d messages written", len(shark), len(mine), len(msgs))
	}
	for i := range shark {
		ds, de := shark[i].start.Sub(mine[i].start), shark[i].end.Sub(mine[i].end)
		if shark[i].key != mine[i].key || ds < -time.Nanosecond || ds > time.Nanosecond || de < -time.Nanosecond || de > time.Nanosecond {
			t.Errorf("record %d:\n tshark  %s %v–%v\n connlog %s %v–%v", i, shark[i].key, shark[i].start, shark[i].end, mine[i].key, mine[i].start, mine[i].end)
		}
	}
}

// TestIPFIXDamage: an IPFIX file with garbage after its last message is
// damaged (exit 1, the message and offset named, the records before it
// analysed); one whose data set never had its template is incomplete
// (exit 1: flows were not analysed); one cut inside its last message is
// cut short, a warning.
func TestIPFIXDamage(t *testing.T) {
	t.Chdir(sampleRoot)
	p := samplePilots[2] // ras
	var b bytes.Buffer
	if err := ipfixgen.Write(&b, sampleConnections(t, p.capture()), ipfixgen.Options{}); err != nil {
		t.Fatal(err)
	}
	good := b.Bytes()
	noTemplate := []byte{0, 10, 0, 28, 0x6b, 0x0c, 0x2a, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0xe7, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8}
	tmp := t.TempDir()
	for _, tt := range []struct {
		name   string
		data   []byte
		code   int
		stderr string
		status string
	}{
		{"garbage", append(bytes.Clone(good), "garbage!"...), exitError, fmt.Sprintf("garbage.ipfix: offset %d (message ", len(good)), `damaged: `},
		{"no-template", append(bytes.Clone(good), noTemplate...), exitError, "records without template: 1 data sets (8 bytes)", `incomplete: `},
		{"cut", good[:len(good)-3], exitOK, "", `cut short in its last record: `},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(tmp, tt.name+".ipfix")
			os.WriteFile(path, tt.data, 0o644)
			args := p.args("json", "--fail-on", "none")
			args[len(args)-1] = path
			code, out, errs := analyzeCmd(t, args...)
			if code != tt.code || !strings.Contains(errs, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, errs, tt.code, tt.stderr)
			}
			var rep map[string]any
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("%v: %s", err, errs)
			}
			c := rep["captures"].([]any)[0].(map[string]any)
			if c["records"].(float64) == 0 || len(rep["flows"].([]any)) == 0 {
				t.Errorf("nothing read before the damage: %v", c)
			}
			targs := p.args("table", "--fail-on", "none")
			targs[len(targs)-1] = path
			_, table, _ := analyzeCmd(t, targs...)
			if !strings.Contains(table, tt.status) {
				t.Errorf("the captures table does not say %q:\n%s", tt.status, table)
			}
		})
	}
}

// nfdumpJSON writes connections as `nfdump -o json` prints their one-way
// records (output_json.c's keys, a tab before each), times to the
// millisecond.
func nfdumpJSON(conns []flow.Connection) string {
	var b strings.Builder
	b.WriteString("[\n")
	n := 0
	flags := func(f uint16) string {
		out := []byte("........")
		for i, l := range "CEUAPRSF" {
			if f&(0x80>>i) != 0 {
				out[i] = byte(l)
			}
		}
		return string(out)
	}
	for i := range conns {
		for _, r := range ipfixgen.Records(&conns[i], false) {
			if n > 0 {
				b.WriteString(",\n")
			}
			n++
			v := "4"
			if r.V6 {
				v = "6"
			}
			const layout = "2006-01-02T15:04:05.000"
			fmt.Fprintf(&b, "{\n\t\"type\" : \"FLOW\",\n\t\"sampled\" : 0,\n\t\"export_sysid\" : 1,\n\t\"first\" : \"%s\",\n\t\"last\" : \"%s\",\n\t\"received\" : \"%s\",\n\t\"in_packets\" : %d,\n\t\"in_bytes\" : %d,\n\t\"proto\" : %d,\n",
				r.Start.UTC().Format(layout), r.End.UTC().Format(layout), r.End.UTC().Format(layout), r.Packets, r.Octets, r.Proto)
			if r.Proto == 1 || r.Proto == 58 {
				fmt.Fprintf(&b, "\t\"icmp_type\" : %d,\n\t\"icmp_code\" : %d,\n", r.ICMP>>8, r.ICMP&0xff)
			} else {
				fmt.Fprintf(&b, "\t\"tcp_flags\" : \"%s\",\n\t\"src_port\" : %d,\n\t\"dst_port\" : %d,\n\t\"fwd_status\" : 0,\n", flags(r.Flags), r.SrcPort, r.DstPort)
			}
			fmt.Fprintf(&b, "\t\"src_tos\" : 0,\n\t\"src%s_addr\" : \"%s\",\n\t\"dst%s_addr\" : \"%s\",\n\t\"src_geo\" : \"\",\n\t\"dst_geo\" : \"\",\n\t\"label\" : \"<none>\"\n}", v, r.Src, v, r.Dst)
		}
	}
	b.WriteString("]\n")
	return b.String()
}

// TestSampleNfdumpJSON: each sample pilot's connections as `nfdump -o
// json` prints their one-way records give the capture's findings, with a
// conn.log's differences and times to the millisecond.
func TestSampleNfdumpJSON(t *testing.T) {
	t.Chdir(sampleRoot)
	tmp := t.TempDir()
	for _, p := range samplePilots {
		t.Run(p.family, func(t *testing.T) {
			path := filepath.Join(tmp, p.family+".out") // the content decides
			if err := os.WriteFile(path, []byte(nfdumpJSON(sampleConnections(t, p.capture()))), 0o644); err != nil {
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
				t.Fatalf("nfdump json report: %v: %s\n%.400s", err, errs, logJSON)
			}
			compareLogReport(t, capRep, logRep, path, "nfdump json", time.Millisecond)
		})
	}
}
