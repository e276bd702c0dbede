package firewall

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

const flowJSON = `{"client": "198.51.100.7", "server": "192.0.2.10", "proto": "tcp", "port": 443, "status": "documented",
 "outcome": "established", "connections": 2, "established": 2, "first_seen": "2026-03-02T09:00:11.000000Z",
 "first_frame": 11, "first_file": "pilot.pcapng", "blocked": false, "rules": [{"id": "fw-client-server-443"}]}`

func TestReadReport(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		want       string // observations as "client server proto port rules blocked by", or the error
	}{
		{"one flow", `{"tool": "flowaudit", "flows": [` + flowJSON + `]}`,
			"198.51.100.7 192.0.2.10 6 443 [fw-client-server-443] blocked=false by="},
		{"undocumented left out", `{"tool": "flowaudit", "flows": [{"client": "192.0.2.1", "server": "192.0.2.2", "proto": "tcp", "port": 22, "status": "undocumented", "rules": []}]}`, ""},
		{"blocked_by string", `{"tool": "flowaudit", "flows": [{"client": "192.0.2.1", "server": "192.0.2.2", "proto": "udp", "port": 53, "status": "documented",
			"outcome": "unanswered", "blocked": true, "blocked_by": "no answer: 3 datagrams over 2s", "rules": [{"id": "r"}]}]}`,
			"192.0.2.1 192.0.2.2 17 53 [r] blocked=true by=no answer: 3 datagrams over 2s"},
		{"blocked_by object", `{"tool": "flowaudit", "flows": [{"client": "192.0.2.1", "server": "192.0.2.2", "proto": "tcp", "port": 80, "status": "documented",
			"outcome": "rejected", "blocked_by": {"kind": "icmp", "text": "ICMP 3/13 admin-prohibited from 192.0.2.254"}, "rules": [{"id": "r"}]}]}`,
			"192.0.2.1 192.0.2.2 6 80 [r] blocked=true by=ICMP 3/13 admin-prohibited from 192.0.2.254"},
		{"blocked_by fields", `{"tool": "flowaudit", "flows": [{"client": "192.0.2.1", "server": "224.0.0.18", "proto": "vrrp", "port": null, "status": "documented",
			"outcome": "unanswered", "multicast": true, "blocked_by": {"ttl": 64, "kind": "rst"}, "rules": [{"id": "r"}]}]}`,
			"192.0.2.1 224.0.0.18 112 0 [r] blocked=false by=kind=rst ttl=64"},
		{"syntax error", "{\"tool\": \"flowaudit\",\n \"flows\": [}", "error: r.json: line 2 (offset 34): invalid character '}'"},
		{"type error", `{"tool": "flowaudit", "flows": [{"client": 1}]}`, "error: r.json: line 1 (offset 44): json: cannot unmarshal number"},
		{"not a report", `{"hosts": []}`, "error: r.json: not a flowaudit analyze JSON report"},
		{"a capture", "\x0a\x0d\x0d\x0a\x1c\x00\x00\x00", "error: r.json: not a flowaudit analyze JSON report (it does not start with '{'; a capture or a conn.log goes to --capture)"},
		{"a csv report", "kind,status,blocked\n", "error: r.json: not a flowaudit analyze JSON report (it does not start with '{'"},
		{"a byte order mark", "\ufeff" + `{"tool": "flowaudit", "flows": [` + flowJSON + `]}`,
			"198.51.100.7 192.0.2.10 6 443 [fw-client-server-443] blocked=false by="},
		{"bad address", `{"tool": "flowaudit", "flows": [{"client": "host", "server": "192.0.2.2", "proto": "tcp", "port": 1, "rules": [{"id": "r"}]}]}`,
			"error: r.json: flows[0]: client: ParseAddr(\"host\")"},
		{"bad port", `{"tool": "flowaudit", "flows": [{"client": "192.0.2.1", "server": "192.0.2.2", "proto": "tcp", "port": 70000, "rules": [{"id": "r"}]}]}`,
			"error: r.json: flows[0]: port 70000 out of range"},
		{"bad proto", `{"tool": "flowaudit", "flows": [{"client": "192.0.2.1", "server": "192.0.2.2", "proto": "xyz", "port": 1, "rules": [{"id": "r"}]}]}`,
			"error: r.json: flows[0]: unknown protocol"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs, _, err := ReadReport("r.json", strings.NewReader(tc.json))
			var got []string
			if err != nil {
				got = append(got, "error: "+err.Error())
			}
			for _, o := range obs {
				got = append(got, strings.Join([]string{o.Client.String(), o.Server.String(), strconv.Itoa(int(o.Proto)), strconv.Itoa(int(o.Port)),
					"[" + strings.Join(o.Rules, " ") + "]", "blocked=" + map[bool]string{true: "true", false: "false"}[o.Blocked], "by=" + o.BlockedBy}, " "))
			}
			if s := strings.Join(got, "\n"); !strings.HasPrefix(s, tc.want) || tc.want == "" && s != "" {
				t.Errorf("got  %s\nwant %s", s, tc.want)
			}
		})
	}
}

// The sample reports read without error, with every documented flow.
func TestReadSampleReports(t *testing.T) {
	for _, s := range []string{"citrix", "horizon", "lync", "ras"} {
		data, err := os.ReadFile("../../testdata/samples/" + s + "/report.json")
		if err != nil {
			t.Fatal(err)
		}
		obs, info, err := ReadReport(s, bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if len(obs) == 0 || len(info.Captures) != 1 {
			t.Errorf("%s: %d observations, captures %v", s, len(obs), info.Captures)
		}
	}
}

// FuzzReadReport: any bytes give observations or an error with a
// position, never a panic; a request built from them renders.
func FuzzReadReport(f *testing.F) {
	f.Add([]byte(`{"tool": "flowaudit", "flows": [` + flowJSON + `]}`))
	f.Add([]byte(`{"tool": "flowaudit", "flows": [{"client": "::1", "server": "ff02::1", "proto": "ip/99", "port": null, "multicast": true, "blocked_by": [1, {"a": null}], "rules": [{"id": "fw-peer-peer-vrrp"}]}]}`))
	f.Add([]byte(`{"tool": "flowaudit", "flows": null}`))
	fx := load(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		obs, _, err := ReadReport("fuzz.json", bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.json: ") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		req, err := Build(fx.cat, fx.inv, Options{Products: []string{"fwtest"}, Evidence: true, Only: OnlyAll, Observations: obs})
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range Formats {
			if err := req.Write(format, &bytes.Buffer{}); err != nil {
				t.Fatal(err)
			}
		}
	})
}
