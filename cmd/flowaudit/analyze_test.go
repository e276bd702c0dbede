package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/capture"
	"github.com/flowaudit/flowaudit/analyzer/evidence"
)

var update = flag.Bool("update", false, "rewrite the golden reports testdata/samples/<family>/report.{json,md}")

// The sample samplePilots are analysed from the repository root, with the paths
// the README's quick start uses, so reports name
// testdata/samples/<family>/pilot.pcapng.
const sampleRoot = "../.."

// samplePilot is one sample samplePilot and the flags its analysis needs besides the
// inventory.
type samplePilot struct {
	family string
	flags  []string
}

var samplePilots = []samplePilot{
	{"horizon", []string{"--catalog", "testdata/samples/horizon/site-rules.yaml", "--waivers", "testdata/samples/horizon/waivers.yaml"}},
	{"citrix", nil},
	{"ras", []string{"--waivers", "testdata/samples/ras/waivers.yaml"}},
	{"lync", nil},
}

func (p samplePilot) dir() string     { return "testdata/samples/" + p.family }
func (p samplePilot) capture() string { return p.dir() + "/pilot.pcapng" }

// args is `analyze -i inventory [flags] --reproducible -f format extra... capture`.
func (p samplePilot) args(format string, extra ...string) []string {
	args := append([]string{"analyze", "-i", p.dir() + "/inventory.yaml"}, p.flags...)
	args = append(args, "--reproducible", "-f", format)
	args = append(args, extra...)
	return append(args, p.capture())
}

// analyzeCmd runs the command in-process from the repository root.
func analyzeCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// The JSON report, as much of it as the tests read.
type sampleReport struct {
	Summary struct {
		Flows, Documented, Undocumented, Blocked, Waived, Missing int
		OptionalMissing                                           int `json:"optional_missing"`
		ExpiredWaivers                                            int `json:"expired_waivers"`
		Findings                                                  int
	}
	Flows []struct {
		Client, Server, Proto, Status, Outcome string
		Port                                   *int
		Connections, Packets                   int
		ICMPErrors                             int `json:"icmp_errors"`
		Blocked, Multicast                     bool
		Rules                                  []struct{ ID string }
		Hints                                  []string
		Waiver                                 *sampleWaiver
	}
	Missing []struct {
		Rule, Proto string
		Optional    bool
		Waiver      *sampleWaiver
	}
	Noise []struct {
		Kind                           string
		Services, Connections, Packets int
	}
	Captures []struct {
		Path, Error, Status string
		Packets             int
		Offset, Frame       *int
	}
	Skipped    map[string]int `json:"skipped_packets"`
	Complete   bool
	Incomplete []string
	Limits     map[string]any
}

type sampleWaiver struct {
	Ticket  string
	Expired bool
	Where   string
}

func decodeSampleReport(t *testing.T, s string) *sampleReport {
	t.Helper()
	var r sampleReport
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%.500s", err, s)
	}
	return &r
}

// sampleFlowKey is how the tests name a flow: "client server proto/port"
// ("proto" alone for port-less protocols).
func sampleFlowKey(client, server, proto string, port *int) string {
	if port == nil {
		return client + " " + server + " " + proto
	}
	return client + " " + server + " " + proto + "/" + strconv.Itoa(*port)
}

// sampleLabel is what a flow is labelled: status, blocked or not, outcome, the
// documenting rules, the waiver (ticket, "expired" when it lapsed) and
// whether it went to a broadcast or multicast address.
func sampleLabel(status string, blocked bool, outcome string, rules []string, waiver *sampleWaiver, multicast bool) string {
	s := status
	if blocked {
		s += " blocked"
	}
	s += " " + outcome
	if len(rules) > 0 {
		s += " [" + strings.Join(rules, " ") + "]"
	}
	if waiver != nil {
		s += " waiver " + waiver.Ticket
		if waiver.Expired {
			s += " expired"
		}
	}
	if multicast {
		s += " multicast"
	}
	return s
}

type sampleWant struct {
	// summary: documented (blocked not included), undocumented, blocked,
	// waived, missing, optional missing, expired waivers, findings
	summary [8]int
	// findings are every flow that is undocumented, blocked, waived or
	// sent to a broadcast or multicast address, by sampleFlowKey, with its label;
	// documented lists some plainly documented flows.
	findings, documented map[string]string
	// hints: a substring of a hint of each undocumented flow
	hints map[string]string
	// missing: "rule/proto", with " optional" and " waiver TICKET"
	missing []string
	noise   []string
}

// samplesWant is what each sample's README promises.
var samplesWant = map[string]sampleWant{
	"horizon": {
		summary: [8]int{26, 3, 4, 2, 11, 1, 1, 7},
		findings: map[string]string{
			// an unexpected port between known hosts: SQL Server's real port
			"192.0.2.10 192.0.2.40 tcp/1433": "undocumented established",
			// the administrator's SSH: its waiver expired, the finding stands
			"198.51.100.200 192.0.2.20 tcp/22": "undocumented established waiver CHG-2025-0097 expired",
			// a host that is not in the inventory
			"198.51.100.250 192.0.2.10 tcp/443": "undocumented established",
			// blocked: ICMP administratively prohibited, RST, unanswered UDP, unanswered SYNs
			"198.51.100.42 192.0.2.101 tcp/3211":  "documented blocked rejected [hz-ext-client-agent-3211 hz-int-client-agent-3211]",
			"198.51.100.57 192.0.2.102 tcp/3389":  "documented blocked rejected [hz-ext-client-agent-3389 hz-int-client-agent-3389]",
			"203.0.113.140 203.0.113.10 udp/8443": "documented blocked unanswered [hz-ext-client-edge-8443]",
			"203.0.113.171 203.0.113.10 tcp/4172": "documented blocked unanswered [hz-ext-client-edge-4172]",
			// the monitoring probe, accepted
			"192.0.2.70 192.0.2.10 tcp/443": "waived established waiver CHG-2025-0142",
		},
		documented: map[string]string{
			"198.51.100.42 192.0.2.10 tcp/443":         "documented established [hz-int-client-cs-443]",
			"198.51.100.42 192.0.2.101 tcp/22443":      "documented established [hz-int-client-agent-22443]",
			"198.51.100.42 192.0.2.101 udp/22443":      "documented established [hz-int-client-agent-22443]",
			"198.51.100.57 192.0.2.102 udp/4172":       "documented established [hz-int-client-agent-4172]",
			"2001:db8:200::42 2001:db8:10::10 tcp/443": "documented established [hz-int-client-cs-443]",
			"192.0.2.10 192.0.2.30 tcp/443":            "documented established [hz-cs-vcenter-443]",
			"203.0.113.140 203.0.113.10 tcp/8443":      "documented established [hz-ext-client-edge-8443]",
			"192.0.2.20 192.0.2.103 tcp/22443":         "documented established [site-hz-uag-agent-22443]",
			"192.0.2.101 192.0.2.10 tcp/4002":          "documented established [site-hz-agent-cs-4002]",
			"198.51.100.57 192.0.2.5 udp/53":           "documented established [site-any-dns-53]",
		},
		hints: map[string]string{
			"192.0.2.10 192.0.2.40 tcp/1433":    "closest rules between these roles: hz-cs-eventdb-1443 (tcp/1443)",
			"198.51.100.200 192.0.2.20 tcp/22":  "22/tcp is not documented for any role of horizon (other products document it: --all-products names them)",
			"198.51.100.250 192.0.2.10 tcp/443": "client 198.51.100.250 is not in the inventory",
		},
		missing: []string{
			"hz-ext-client-edge-4172/udp",
			"hz-cs-agent-22443/tcp", "hz-cs-agent-22443/udp", "hz-cs-agent-4172/tcp", "hz-cs-agent-4172/udp",
			"hz-cs-agent-3389/tcp", "hz-cs-agent-9427/tcp", "hz-cs-agent-3211/tcp", "hz-cs-agent-8443/tcp",
			"hz-cs-eventdb-1443/tcp",
			"hz-cs-jmp-443/tcp waiver CHG-2025-0150",
			"hz-cs-composer-18443/tcp",
			"site-hz-cs-syslog-514/udp optional",
		},
		noise: []string{"arp", "ipv6-neighbour-discovery", "llmnr", "mdns"},
	},
	"citrix": {
		summary: [8]int{29, 2, 4, 0, 6, 1, 0, 6},
		findings: map[string]string{
			"198.51.100.77 192.0.2.11 tcp/80":     "undocumented established",
			"198.51.100.210 192.0.2.11 tcp/3389":  "undocumented established",
			"192.0.2.11 192.0.2.31 tcp/8082":      "documented blocked rejected [ctx-lic-ddc-lic-8082]",
			"192.0.2.22 192.0.2.11 tcp/443":       "documented blocked unanswered [ctx-sf-sf-ddc-xm-80-443.delivery-controller]",
			"198.51.100.64 192.0.2.132 udp/2598":  "documented blocked rejected [ctx-cvad-wsa-vda-2598 ctx-daas-wsa-vda-2598]",
			"198.51.100.64 192.0.2.132 udp/16500": "documented blocked unanswered [ctx-cvad-wsa-vda-16500-16509]",
		},
		documented: map[string]string{
			"198.51.100.31 192.0.2.21 tcp/443":   "documented established [ctx-cvad-wsa-sf-80-443]",
			"192.0.2.21 192.0.2.11 tcp/80":       "documented established [ctx-sf-sf-ddc-xm-80-443.delivery-controller]",
			"198.51.100.31 192.0.2.131 tcp/2598": "documented established [ctx-cvad-wsa-vda-2598 ctx-daas-wsa-vda-2598]",
			"198.51.100.31 192.0.2.131 udp/2598": "documented established [ctx-cvad-wsa-vda-2598 ctx-daas-wsa-vda-2598]",
			"198.51.100.31 192.0.2.131 tcp/1494": "documented established [ctx-cvad-wsa-vda-1494 ctx-daas-wsa-vda-1494]",
			"192.0.2.131 192.0.2.11 tcp/80":      "documented established [ctx-cvad-ddc-vda-80 ctx-cvad-vda-ddc-80]",
			"192.0.2.11 192.0.2.131 tcp/80":      "documented established [ctx-cvad-ddc-vda-80 ctx-cvad-vda-ddc-80]",
			"192.0.2.11 192.0.2.41 tcp/1433":     "documented established [ctx-cvad-ddc-sql-1433]",
			"192.0.2.11 192.0.2.31 tcp/27000":    "documented established [ctx-lic-any-lic-27000]",
			"192.0.2.11 192.0.2.31 tcp/7279":     "documented established [ctx-lic-any-lic-7279]",
			"192.0.2.11 192.0.2.51 tcp/443":      "documented established [ctx-cvad-ddc-vcenter-443]",
			"192.0.2.21 192.0.2.22 tcp/8090":     "documented established [ctx-sf-sf-sf-p2p]",
			"192.0.2.21 192.0.2.5 udp/389":       "documented established [ctx-sf-sf-ad-389]",
		},
		hints: map[string]string{
			"198.51.100.77 192.0.2.11 tcp/80":    "80/tcp is documented for Admin Workstation",
			"198.51.100.210 192.0.2.11 tcp/3389": "client 198.51.100.210 is not in the inventory",
		},
		missing: []string{
			"ctx-cvad-wsa-sf-80-443/udp", "ctx-cvad-wsa-sf-16500-16509/udp",
			"ctx-sf-sf-ad-464/tcp", "ctx-sf-sf-ad-464/udp",
			"ctx-sf-sf-sf-808/tcp optional",
			"ctx-daas-wsa-vda-1494/udp", "ctx-cvad-wsa-vda-1494/udp",
		},
		noise: []string{"arp", "ipv6-neighbour-discovery", "llmnr", "mdns"},
	},
	"ras": {
		summary: [8]int{24, 3, 4, 1, 13, 2, 1, 7},
		findings: map[string]string{
			"192.0.2.45 192.0.2.41 tcp/20001":    "undocumented established",
			"192.0.2.90 192.0.2.52 tcp/6160":     "undocumented established",
			"198.51.100.200 203.0.113.31 tcp/22": "undocumented established waiver CHG-2025-0288 expired",
			"192.0.2.45 192.0.2.52 udp/3389":     "documented blocked rejected [ras-sg-sgn-rds-3389]",
			"192.0.2.52 192.0.2.41 udp/20003":    "documented blocked unanswered [ras-rdsh-rdsh-cb-20003]",
			"198.51.100.57 192.0.2.51 tcp/3389":  "documented blocked unanswered [ras-client-client-sh-3389]",
			"203.0.113.31 192.0.2.45 tcp/20009":  "documented blocked rejected [ras-halb-halb-sgn-20009]",
			// broadcast and multicast: documented by the sender's role, never blocked
			"198.51.100.42 255.255.255.255 udp/20000": "documented unanswered [ras-client-client-sgf-20000 ras-client-client-sgn-20000] multicast",
			"203.0.113.31 224.0.0.18 vrrp":            "documented unanswered [ras-halb-halb-halb-vrrp] multicast",
			"192.0.2.51 192.0.2.200 tcp/9100":         "waived established waiver CHG-2025-0311",
		},
		documented: map[string]string{
			"198.51.100.42 203.0.113.30 tcp/443": "documented established [ras-client-client-halb-80-443]",
			"198.51.100.42 203.0.113.30 udp/443": "documented established [ras-client-client-halb-80-443]",
			"203.0.113.140 203.0.113.30 tcp/443": "documented established [ras-client-client-halb-80-443]",
			"203.0.113.31 192.0.2.45 tcp/443":    "documented established [ras-halb-halb-sgn-80-443]",
			"192.0.2.45 192.0.2.41 tcp/20002":    "documented established [ras-sg-sgn-cb-20002]",
			"192.0.2.45 192.0.2.51 tcp/3389":     "documented established [ras-sg-sgn-rds-3389]",
			"192.0.2.51 192.0.2.41 tcp/20003":    "documented established [ras-rdsh-rdsh-cb-20003]",
			"192.0.2.41 192.0.2.51 udp/30004":    "documented established [ras-cb-cb-rdsh-30004]",
			"192.0.2.42 192.0.2.41 tcp/20001":    "documented established [ras-cb-cb-cb-20001-20030]",
			"192.0.2.41 192.0.2.52 tcp/445":      "documented established [ras-all-pushers-components-135-445.ras-connection-broker ras-cb-cb-agents-135-445-49179.ras-rdsh-agent]",
			"192.0.2.41 192.0.2.5 udp/53":        "documented established [ras-cb-cb-dc-53]",
		},
		hints: map[string]string{
			"192.0.2.45 192.0.2.41 tcp/20001":    "closest rules between these roles: ras-sg-sgn-cb-20002 (tcp/20002), ras-sg-sgn-cb-20009 (tcp+udp/20009)",
			"192.0.2.90 192.0.2.52 tcp/6160":     "client 192.0.2.90 is not in the inventory",
			"198.51.100.200 203.0.113.31 tcp/22": "22/tcp is not documented for any role of ras (other products",
		},
		missing: []string{
			"ras-client-client-halb-20009/tcp", "ras-client-client-halb-20009/udp",
			"ras-client-client-sgn-80-443/tcp", "ras-client-client-sgn-80-443/udp",
			"ras-client-client-sgn-3389/tcp optional", "ras-client-client-sgn-3389/udp optional",
			"ras-client-client-sgn-20009/tcp", "ras-client-client-sgn-20009/udp",
			"ras-client-client-sh-3389/udp",
			"ras-halb-halb-sgn-20009/udp",
			"ras-sg-sgn-cb-20009/tcp", "ras-sg-sgn-cb-20009/udp",
			"ras-cb-cb-dc-636-3269/tcp",
			"ras-cb-cb-agents-135-445-49179.ras-connection-broker/tcp",
			"ras-cb-cb-agents-135-445-49179.ras-secure-gateway/tcp",
		},
		noise: []string{"arp", "ipv6-neighbour-discovery", "llmnr", "mdns"},
	},
	"lync": {
		summary: [8]int{23, 3, 4, 0, 25, 1, 0, 7},
		findings: map[string]string{
			"192.0.2.10 192.0.2.30 tcp/809":      "undocumented established",
			"198.51.100.120 203.0.113.40 tcp/22": "undocumented established",
			"198.51.100.230 192.0.2.10 tcp/3389": "undocumented established",
			"198.51.100.22 192.0.2.10 tcp/49880": "documented blocked unanswered [lync-srv-audio-49152-57500.lync-front-end lync-srv-fe-49152-65535]",
			"198.51.100.23 192.0.2.10 tcp/8058":  "documented blocked rejected [lync-srv-fe-8058]",
			"198.51.100.23 192.0.2.10 udp/3478":  "documented blocked unanswered [lync-cli-3478]",
			"198.51.100.23 192.0.2.10 udp/57652": "documented blocked rejected [lync-srv-fe-57501-65535]",
		},
		documented: map[string]string{
			"198.51.100.21 192.0.2.10 tcp/5061":         "documented established [lync-cli-5061 lync-srv-fe-5061]",
			"198.51.100.21 192.0.2.10 tcp/443":          "documented established [lync-cli-443-psom lync-cli-443-sip lync-cli-443-stun lync-srv-fe-443-mobility lync-srv-fe-443-web]",
			"198.51.100.21 192.0.2.10 tcp/8057":         "documented established [lync-srv-fe-8057]",
			"198.51.100.21 192.0.2.10 udp/57620":        "documented established [lync-srv-fe-57501-65535]",
			"198.51.100.21 198.51.100.22 udp/50042":     "documented established [lync-cli-audio lync-cli-video]", // client to client: not the servers' audio range
			"2001:db8:200::24 2001:db8:10::10 tcp/5061": "documented established [lync-cli-5061 lync-srv-fe-5061]",
			"198.51.100.201 192.0.2.5 udp/67":           "documented established [lync-cli-phone-dhcp]",
			"198.51.100.201 192.0.2.10 tcp/8080":        "documented established [lync-srv-fe-8080]",
			"203.0.113.40 192.0.2.10 tcp/4443":          "documented established [lync-srv-fe-4443]",
			"192.0.2.10 192.0.2.30 tcp/443":             "documented established [lync-srv-owa-443]",
			"198.51.100.120 192.0.2.10 udp/1434":        "documented established [lync-srv-all-1434 lync-srv-all-1434-b]",
			"198.51.100.120 192.0.2.10 tcp/445":         "documented established [lync-srv-fe-cms-445]",
		},
		hints: map[string]string{
			"192.0.2.10 192.0.2.30 tcp/809":      "809/tcp is not documented for any role of lync (other products",
			"198.51.100.120 203.0.113.40 tcp/22": "22/tcp is not documented for any role of lync (other products",
			"198.51.100.230 192.0.2.10 tcp/3389": "client 198.51.100.230 is not in the inventory",
		},
		missing: []string{
			"lync-srv-fe-5060/tcp optional",
			"lync-srv-fe-444-https/tcp", "lync-srv-fe-444-tcp/tcp", "lync-srv-fe-5062/tcp", "lync-srv-fe-5063/tcp",
			"lync-srv-fe-57501-65535/tcp", "lync-srv-fe-8060/tcp", "lync-srv-fe-8061/tcp", "lync-srv-fe-5086/tcp",
			"lync-srv-fe-5087/tcp", "lync-srv-fe-5064/tcp", "lync-srv-fe-5072/tcp", "lync-srv-fe-5065/tcp",
			"lync-srv-fe-5073/tcp", "lync-srv-fe-5075/tcp", "lync-srv-fe-5076/tcp", "lync-srv-fe-5066/tcp",
			"lync-srv-fe-5071/tcp", "lync-srv-fe-8404/tcp", "lync-srv-fe-5080/tcp", "lync-srv-fe-448/tcp",
			"lync-cli-audio/tcp", "lync-cli-video/tcp", "lync-cli-p2p-file/tcp", "lync-cli-appsharing/tcp",
			"lync-srv-audio-49152-57500.lync-front-end/udp",
		},
		noise: []string{"arp", "ipv6-neighbour-discovery", "llmnr", "mdns"},
	},
}

// TestSampleFindings analyses every sample samplePilot and checks, kind by kind,
// the findings its README promises: undocumented flows with their hints,
// blocked flows with their outcome and rules, broadcast and multicast
// flows documented by the sender's role, waived findings and expired
// waivers, documented flows never attempted (optional and waived ones
// marked), noise summarized, and the summary counts.
func TestSampleFindings(t *testing.T) {
	t.Chdir(sampleRoot)
	for _, p := range samplePilots {
		t.Run(p.family, func(t *testing.T) {
			want, ok := samplesWant[p.family]
			if !ok {
				t.Fatalf("no expectations for %s", p.family)
			}
			code, out, errs := analyzeCmd(t, p.args("json")...)
			if code != exitFindings {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitFindings, errs)
			}
			r := decodeSampleReport(t, out)

			s := r.Summary
			got := [8]int{s.Documented, s.Undocumented, s.Blocked, s.Waived, s.Missing, s.OptionalMissing, s.ExpiredWaivers, s.Findings}
			if got != want.summary {
				t.Errorf("summary (documented, undocumented, blocked, waived, missing, optional, expired, findings) = %v, want %v", got, want.summary)
			}

			findings := map[string]string{}
			all := map[string]string{}
			hints := map[string][]string{}
			for _, f := range r.Flows {
				var ids []string
				for _, rule := range f.Rules {
					ids = append(ids, rule.ID)
				}
				k := sampleFlowKey(f.Client, f.Server, f.Proto, f.Port)
				l := sampleLabel(f.Status, f.Blocked, f.Outcome, ids, f.Waiver, f.Multicast)
				if _, dup := all[k]; dup {
					t.Errorf("flow %s listed twice", k)
				}
				all[k] = l
				hints[k] = f.Hints
				if f.Status != "documented" || f.Blocked || f.Multicast {
					findings[k] = l
				}
			}
			t.Run("findings", func(t *testing.T) {
				for _, k := range sampleKeys(want.findings) {
					if got, ok := findings[k]; !ok {
						t.Errorf("%s: not a finding (labelled %q)", k, all[k])
					} else if got != want.findings[k] {
						t.Errorf("%s:\n got %s\nwant %s", k, got, want.findings[k])
					}
				}
				for _, k := range sampleKeys(findings) {
					if _, ok := want.findings[k]; !ok {
						t.Errorf("unexpected finding %s: %s", k, findings[k])
					}
				}
			})
			t.Run("documented", func(t *testing.T) {
				for _, k := range sampleKeys(want.documented) {
					if got := all[k]; got != want.documented[k] {
						t.Errorf("%s:\n got %q\nwant %q", k, got, want.documented[k])
					}
				}
			})
			t.Run("hints", func(t *testing.T) {
				for _, k := range sampleKeys(want.hints) {
					if !slices.ContainsFunc(hints[k], func(h string) bool { return strings.Contains(h, want.hints[k]) }) {
						t.Errorf("%s: no hint contains %q; hints: %q", k, want.hints[k], hints[k])
					}
				}
			})
			t.Run("missing", func(t *testing.T) {
				var missing []string
				for _, m := range r.Missing {
					s := m.Rule + "/" + m.Proto
					if m.Optional {
						s += " optional"
					}
					if m.Waiver != nil {
						s += " waiver " + m.Waiver.Ticket
						if m.Waiver.Expired {
							s += " expired"
						}
					}
					missing = append(missing, s)
				}
				sort.Strings(missing)
				w := slices.Sorted(slices.Values(want.missing))
				if !slices.Equal(missing, w) {
					t.Errorf("missing:\n got %q\nwant %q", missing, w)
				}
			})
			t.Run("noise", func(t *testing.T) {
				var kinds []string
				for _, n := range r.Noise {
					kinds = append(kinds, n.Kind)
					if n.Kind == "arp" {
						if n.Packets == 0 {
							t.Errorf("noise arp: no packets")
						}
						continue
					}
					if n.Services == 0 || n.Connections == 0 {
						t.Errorf("noise %s: %d services, %d connections", n.Kind, n.Services, n.Connections)
					}
				}
				if !slices.Equal(kinds, want.noise) {
					t.Errorf("noise kinds %q, want %q", kinds, want.noise)
				}
				for k := range all {
					if strings.Contains(k, "ff02::") || strings.Contains(k, "fe80::") || strings.Contains(k, "224.0.0.25") {
						t.Errorf("noise listed as a flow: %s", k)
					}
				}
				if r.Skipped["arp"] != 0 || r.Skipped["not IP"] != 0 {
					t.Errorf("ARP counted among the packets not analyzed rather than as noise: %v", r.Skipped)
				}
			})
		})
	}
}

func sampleKeys(m map[string]string) []string {
	return slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
}

// TestSampleKinds checks that each sample holds every kind of finding the
// quick start promises, counted from the report rather than from the
// expectation tables above.
func TestSampleKinds(t *testing.T) {
	t.Chdir(sampleRoot)
	for _, p := range samplePilots {
		t.Run(p.family, func(t *testing.T) {
			_, out, _ := analyzeCmd(t, p.args("json")...)
			r := decodeSampleReport(t, out)
			kinds := map[string]int{}
			for _, f := range r.Flows {
				switch {
				case f.Status == "undocumented" && f.Waiver != nil && f.Waiver.Expired:
					kinds["expired waiver"]++
				case f.Status == "undocumented":
					kinds["undocumented"]++
				case f.Status == "waived":
					kinds["waived"]++
				case f.Blocked && f.Outcome == "rejected":
					kinds["blocked rejected"]++
				case f.Blocked && f.Outcome == "unanswered" && f.Proto == "tcp":
					kinds["blocked unanswered tcp"]++
				case f.Blocked && f.Outcome == "unanswered" && f.Proto == "udp":
					kinds["blocked unanswered udp"]++
				case f.Multicast:
					kinds["multicast documented"]++
				case f.Status == "documented" && f.Outcome == "established":
					kinds["documented"]++
				}
			}
			for _, m := range r.Missing {
				if m.Optional {
					kinds["optional missing"]++
				} else if m.Waiver == nil {
					kinds["missing"]++
				}
			}
			if len(r.Noise) > 0 {
				kinds["noise"]++
			}
			want := []string{"documented", "undocumented", "blocked rejected", "blocked unanswered tcp",
				"blocked unanswered udp", "missing", "optional missing", "noise"}
			switch p.family {
			case "horizon", "ras":
				want = append(want, "waived", "expired waiver")
			}
			if p.family == "ras" {
				want = append(want, "multicast documented")
			}
			for _, k := range want {
				if kinds[k] == 0 {
					t.Errorf("no %s finding; kinds: %v", k, kinds)
				}
			}
			if kinds["documented"] < kinds["undocumented"]+kinds["blocked rejected"]+kinds["blocked unanswered tcp"]+kinds["blocked unanswered udp"] {
				t.Errorf("most traffic should be documented: %v", kinds)
			}
		})
	}
}

// TestSampleReports: exit codes, byte-identical output on two runs, and
// the golden reports testdata/samples/<family>/report.{json,md}
// (refreshed with go test ./cmd/flowaudit -update).
func TestSampleReports(t *testing.T) {
	t.Chdir(sampleRoot)
	for _, p := range samplePilots {
		t.Run(p.family, func(t *testing.T) {
			for _, f := range []struct{ format, golden string }{{"json", "report.json"}, {"markdown", "report.md"}} {
				code, first, errs := analyzeCmd(t, p.args(f.format)...)
				if code != exitFindings {
					t.Fatalf("%s: exit %d, want %d: %s", f.format, code, exitFindings, errs)
				}
				_, second, _ := analyzeCmd(t, p.args(f.format)...)
				if first != second {
					t.Errorf("%s: two runs differ", f.format)
				}
				path := filepath.Join(p.dir(), f.golden)
				if *update {
					if err := os.WriteFile(path, []byte(first), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				golden, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./cmd/flowaudit -update)", err)
				}
				if string(golden) != first {
					t.Errorf("%s differs from the report (run go test ./cmd/flowaudit -update if the change is intended)", path)
				}
			}
			// --fail-on decides the exit code, not the report.
			for _, c := range []struct {
				failOn string
				code   int
			}{{"none", exitOK}, {"missing", exitFindings}, {"optional-missing", exitFindings}, {"undocumented,blocked,missing", exitFindings}} {
				if code, _, errs := analyzeCmd(t, p.args("json", "--fail-on", c.failOn)...); code != c.code {
					t.Errorf("--fail-on %s: exit %d, want %d: %s", c.failOn, code, c.code, errs)
				}
			}
		})
	}
	// Without its waivers the Horizon pilot's waived probe is a finding
	// again, and the expired waiver's finding was one all along.
	code, out, _ := analyzeCmd(t, "analyze", "-i", "testdata/samples/horizon/inventory.yaml", "--catalog",
		"testdata/samples/horizon/site-rules.yaml", "--reproducible", "-f", "json", "--fail-on", "expired-waiver", "testdata/samples/horizon/pilot.pcapng")
	if r := decodeSampleReport(t, out); code != exitOK || r.Summary.Undocumented != 4 || r.Summary.Waived != 0 || r.Summary.Missing != 12 {
		t.Errorf("without waivers: exit %d, summary %+v; want exit 0, 4 undocumented, 0 waived, 12 missing", code, r.Summary)
	}
	code, _, _ = analyzeCmd(t, samplePilots[0].args("json", "--fail-on", "expired-waiver")...)
	if code != exitFindings {
		t.Errorf("--fail-on expired-waiver with an expired waiver: exit %d, want %d", code, exitFindings)
	}
}

// TestSampleEvidence: --evidence writes the report in every format, one
// pcapng per finding holding that finding's packets, and a SHA256SUMS
// that verifies.
func TestSampleEvidence(t *testing.T) {
	t.Chdir(sampleRoot)
	for _, p := range samplePilots {
		t.Run(p.family, func(t *testing.T) {
			dir := t.TempDir()
			code, out, errs := analyzeCmd(t, p.args("json", "--evidence", dir)...)
			if code != exitFindings {
				t.Fatalf("exit %d: %s", code, errs)
			}
			r := decodeSampleReport(t, out)
			for _, name := range []string{"report.txt", "report.md", "report.json", "report.csv", "report.html"} {
				if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
					t.Errorf("%s: %v", name, err)
				}
			}
			if ev, err := os.ReadFile(filepath.Join(dir, "report.json")); err != nil || string(ev) != out {
				t.Errorf("evidence report.json differs from the report printed (%v)", err)
			}

			// one pcapng per finding, named after it, with its packets
			type finding struct {
				name    string
				packets int
			}
			var want []finding
			for _, f := range r.Flows {
				if f.Status != "undocumented" && !f.Blocked {
					continue
				}
				kind := "blocked"
				if f.Status == "undocumented" {
					kind = "undocumented"
				}
				port := ""
				if f.Port != nil {
					port = "-" + strconv.Itoa(*f.Port)
				}
				if f.Connections > evidence.Connections {
					t.Fatalf("%s has %d connections: the evidence keeps %d, pick a smaller finding", f.Client, f.Connections, evidence.Connections)
				}
				// The evidence holds the flow's packets and the ICMP errors
				// quoting them, and so does its packet count.
				want = append(want, finding{sampleEvidenceName(len(want)+1, kind, f.Client, f.Server, f.Proto, port), f.Packets})
			}
			entries, err := os.ReadDir(filepath.Join(dir, "findings"))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.Name())
			}
			var names []string
			for _, w := range want {
				names = append(names, w.name)
			}
			if !slices.Equal(got, names) {
				t.Fatalf("evidence files:\n got %q\nwant %q", got, names)
			}
			for _, w := range want {
				if n := countCapturePackets(t, filepath.Join(dir, "findings", w.name)); n != w.packets {
					t.Errorf("%s: %d packets, the report says %d", w.name, n, w.packets)
				}
			}

			// SHA256SUMS lists every file but itself, and verifies
			sums, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(sums), "\n"), "\n")
			// the five reports, the findings, and the input files
			inputs := []string{"inputs/inventory-inventory.yaml"}
			for i := 0; i+1 < len(p.flags); i += 2 {
				switch p.flags[i] {
				case "--catalog":
					inputs = append(inputs, "inputs/catalog-1-"+filepath.Base(p.flags[i+1]))
				case "--waivers":
					inputs = append(inputs, "inputs/waivers-"+filepath.Base(p.flags[i+1]))
				}
			}
			if len(lines) != 5+len(want)+len(inputs) {
				t.Errorf("SHA256SUMS has %d lines, want %d", len(lines), 5+len(want)+len(inputs))
			}
			for _, in := range inputs {
				if !strings.Contains(string(sums), "  "+in+"\n") {
					t.Errorf("SHA256SUMS lacks %s", in)
				}
			}
			re := regexp.MustCompile(`^([0-9a-f]{64})  (\S+)$`)
			for _, l := range lines {
				m := re.FindStringSubmatch(l)
				if m == nil {
					t.Errorf("bad SHA256SUMS line %q", l)
					continue
				}
				data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(m[2])))
				if err != nil {
					t.Errorf("%s: %v", m[2], err)
					continue
				}
				if h := sha256.Sum256(data); hex.EncodeToString(h[:]) != m[1] {
					t.Errorf("%s: checksum does not verify", m[2])
				}
			}
		})
	}
}

// sampleEvidenceName is the evidence file name of the n-th finding, as the README
// documents it: 003-undocumented-192.0.2.1-192.0.2.20-tcp-8443.pcapng.
func sampleEvidenceName(n int, kind, client, server, proto, port string) string {
	addr := func(s string) string { return strings.ReplaceAll(s, ":", "_") }
	return strings.Join([]string{sampleLeftPad(n), kind, addr(client), addr(server), proto + port}, "-") + ".pcapng"
}

func sampleLeftPad(n int) string {
	s := strconv.Itoa(n)
	for len(s) < 3 {
		s = "0" + s
	}
	return s
}

func countCapturePackets(t *testing.T, path string) int {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("%s after %d packets: %v", path, n, err)
		}
		n++
	}
}

// TestAnalyzeErrors: bad inventories, flags and captures.
func TestAnalyzeErrors(t *testing.T) {
	t.Chdir(sampleRoot)
	tmp := t.TempDir()
	badInv := filepath.Join(tmp, "inventory.yaml")
	if err := os.WriteFile(badInv, []byte("hosts:\n  - name: cs01\n    addresses: [192.0.2.10]\n    roles: [Horizon Conection Server]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hz := samplePilots[0]
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string // regexp
	}{
		{"unknown role", []string{"analyze", "-i", badInv, hz.capture()}, exitError,
			regexp.QuoteMeta(badInv) + `:4: host "cs01": unknown role "Horizon Conection Server".*did you mean "Horizon Connection Server"`},
		{"unknown format", hz.args("yaml"), exitUsage, `unknown format "yaml": want table, markdown, json, csv, html`},
		{"unknown fail-on", hz.args("json", "--fail-on", "undocumented,blokced"), exitUsage, `--fail-on: unknown finding kind "blokced".*did you mean "blocked"`},
		{"empty fail-on", hz.args("json", "--fail-on", ""), exitUsage, `--fail-on: empty finding kind in "": want a comma-separated list`},
		{"fail-on with an empty kind", hz.args("json", "--fail-on", "undocumented,,blocked"), exitUsage, `--fail-on: empty finding kind in "undocumented,,blocked"`},
		{"fail-on none beside a kind", hz.args("json", "--fail-on", "none,undocumented"), exitUsage, `--fail-on: none in "none,undocumented": none stands alone`},
		{"unknown product", hz.args("json", "--product", "vmwre"), exitUsage, regexp.QuoteMeta(`--product: unknown product "vmwre" (did you mean "vmware"?): want citrix, horizon, lync, ras (or a vendor: vmware, parallels, skype, microsoft)`)},
		{"unknown product in a list", hz.args("json", "--product", "Horizon,lynk"), exitUsage, regexp.QuoteMeta(`unknown product "lynk" (did you mean "lync"?)`)},
		{"empty product", hz.args("json", "--product", ""), exitUsage, regexp.QuoteMeta(`--product: no product in "": want citrix, horizon, lync, ras`)},
		{"no capture", []string{"analyze", "-i", "testdata/samples/horizon/inventory.yaml"}, exitUsage, `analyze needs at least one CAPTURE`},
		{"missing capture", []string{"analyze", "-i", "testdata/samples/citrix/inventory.yaml", filepath.Join(tmp, "none.pcapng")}, exitError, `none.pcapng`},
		{"evidence from stdin", []string{"analyze", "--evidence", tmp, "-"}, exitUsage, `standard input can be read only once`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := analyzeCmd(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if !regexp.MustCompile(tc.stderr).MatchString(errs) {
				t.Errorf("stderr does not match %q:\n%s", tc.stderr, errs)
			}
			if tc.code == exitUsage && out != "" {
				t.Errorf("usage error printed a report:\n%.300s", out)
			}
		})
	}
}

// TestAnalyzeTruncated: a capture cut short still gets a report of what was
// read, with the error on the capture, and exit 1.
func TestAnalyzeTruncated(t *testing.T) {
	t.Chdir(sampleRoot)
	for _, p := range samplePilots {
		t.Run(p.family, func(t *testing.T) {
			data, err := os.ReadFile(p.capture())
			if err != nil {
				t.Fatal(err)
			}
			full := countCapturePackets(t, p.capture())
			cut := filepath.Join(t.TempDir(), "cut.pcapng")
			if err := os.WriteFile(cut, data[:len(data)*3/5+7], 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"analyze", "-i", p.dir() + "/inventory.yaml"}, p.flags...)
			code, out, errs := analyzeCmd(t, append(args, "--reproducible", "-f", "json", cut)...)
			if code != exitFindings { // a last record cut short is a warning: the exit follows the findings
				t.Errorf("exit %d, want %d", code, exitFindings)
			}
			if !strings.Contains(errs, "flowaudit: warning: "+cut+": offset ") {
				t.Errorf("stderr does not warn with the file and offset: %q", errs)
			}
			r := decodeSampleReport(t, out)
			if len(r.Captures) != 1 || r.Captures[0].Error == "" || r.Captures[0].Status != "cut-short" || r.Complete || len(r.Incomplete) != 1 {
				t.Fatalf("captures = %+v, complete %v, want one cut short with its read error", r.Captures, r.Complete)
			}
			if n := r.Captures[0].Packets; n == 0 || n >= full {
				t.Errorf("read %d packets of %d before the cut", n, full)
			}
			if len(r.Flows) == 0 || r.Summary.Documented == 0 {
				t.Errorf("no flows reported from what was read: %+v", r.Summary)
			}
		})
	}
}

// TestSampleReadmes: each sample's README names every rule and waiver
// ticket of the findings it is built to produce, so the story and the
// expectations above cannot drift apart.
func TestSampleReadmes(t *testing.T) {
	t.Chdir(sampleRoot)
	ids := regexp.MustCompile(`\[([^\]]+)\]|waiver (CHG-\S+)`)
	for _, p := range samplePilots {
		t.Run(p.family, func(t *testing.T) {
			readme, err := os.ReadFile(filepath.Join(p.dir(), "README.md"))
			if err != nil {
				t.Fatal(err)
			}
			want := samplesWant[p.family]
			var names []string
			for _, l := range want.findings {
				for _, m := range ids.FindAllStringSubmatch(l, -1) {
					names = append(names, strings.Fields(m[1]+" "+m[2])...)
				}
			}
			for _, m := range want.missing {
				f := strings.Fields(m)
				names = append(names, strings.SplitN(f[0], "/", 2)[0])
				if len(f) == 3 && f[1] == "waiver" {
					names = append(names, f[2])
				}
			}
			for _, n := range names {
				if !bytes.Contains(readme, []byte(n)) {
					t.Errorf("README.md does not mention %s", n)
				}
			}
			if len(names) < 10 {
				t.Errorf("only %d names checked", len(names))
			}
		})
	}
}

// reportWithout is a JSON report as a map, without the fields that name
// the inputs (so two analyses of one capture compare by their findings).
func reportWithout(t *testing.T, out string, keys ...string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%v:\n%.300s", err, out)
	}
	for _, k := range keys {
		delete(m, k)
	}
	return m
}

// TestEnglishLyncNames: the Lync pilot's inventory written with the role
// names of Microsoft's English page analyses cleanly, to the very report
// the display-name inventory gives.
func TestEnglishLyncNames(t *testing.T) {
	t.Chdir(sampleRoot)
	lync := samplePilots[3]
	code, want, errs := analyzeCmd(t, lync.args("json")...)
	if code != exitFindings {
		t.Fatalf("exit %d: %s", code, errs)
	}
	args := lync.args("json")
	args[2] = lync.dir() + "/inventory-english.yaml"
	code, got, errs := analyzeCmd(t, args...)
	if code != exitFindings || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if !reflect.DeepEqual(reportWithout(t, got, "inventory"), reportWithout(t, want, "inventory")) {
		t.Error("the English-names inventory gives another report")
	}
}

// TestProductFlags: --product takes vendor names, any case and comma
// lists; site rules stay in scope whatever it says; without it hints use
// the inventory's products, and --all-products widens them.
func TestProductFlags(t *testing.T) {
	t.Chdir(sampleRoot)
	hz := samplePilots[0]
	summary := func(extra ...string) (sampleReport, string) {
		t.Helper()
		code, out, errs := analyzeCmd(t, hz.args("json", extra...)...)
		if code != exitFindings {
			t.Fatalf("%v: exit %d: %s", extra, code, errs)
		}
		var r sampleReport
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		return r, out
	}
	all, allOut := summary()
	horizon, hzOut := summary("--product", "horizon")
	if all.Summary != horizon.Summary {
		t.Errorf("--product horizon changes the summary: %+v, want %+v (site rules are always in scope)", horizon.Summary, all.Summary)
	}
	for _, spelling := range [][]string{{"--product", "VMware"}, {"--product", "vmware,HORIZON"}, {"--product", "horizon", "--product", "vmware"}} {
		_, out := summary(spelling...)
		if out != hzOut {
			t.Errorf("%v: report differs from --product horizon", spelling)
		}
	}
	if !strings.Contains(hzOut, `"products": [
      "horizon"
    ]`) {
		t.Errorf("report does not name the product:\n%.600s", hzOut)
	}
	// Hints: the inventory's products, or every product.
	const hint443 = "443/tcp is documented for Horizon Client → Horizon Connection Server"
	if !strings.Contains(allOut, hint443) || strings.Contains(allOut, "CVAD Service") {
		t.Errorf("the Horizon report's 443/tcp hint is not Horizon's")
	}
	_, wide := summary("--all-products")
	if !strings.Contains(wide, "443/tcp is documented for Admin Workstation → CVAD Service") {
		t.Errorf("--all-products does not widen the hints")
	}
	if !strings.Contains(allOut, `"scope": [
      "horizon"
    ]`) || strings.Contains(wide, `"scope"`) {
		t.Errorf("catalog.scope not reported as the hints' products")
	}
}

// TestProductOutOfScope: --product naming products no inventory host plays
// a role of (a RAS inventory with --product horizon) makes every service
// of theirs undocumented because of the flag; analyze, diff and rules say
// so on stderr, once. A product the hosts play, or no --product, says
// nothing.
func TestProductOutOfScope(t *testing.T) {
	t.Chdir(sampleRoot)
	const warning = "flowaudit: warning: --product horizon: no inventory host plays a role of it (the hosts' roles are ras's): only shared infrastructure and site rules apply to them\n"
	ras := samplePilots[2]
	for _, tc := range []struct {
		name string
		args []string
		want bool
	}{
		{"analyze, other product", ras.args("json", "--product", "horizon"), true},
		{"analyze, the hosts' product", ras.args("json", "--product", "ras,horizon"), false},
		{"analyze, no product", ras.args("json"), false},
		{"diff", []string{"diff", "-i", "testdata/samples/ras/inventory.yaml", "--product", "vmware", "testdata/samples/ras/pilot.pcapng", "testdata/samples/ras/after.pcapng"}, true},
		{"rules", []string{"rules", "-i", "testdata/samples/ras/inventory.yaml", "--product", "horizon"}, true},
		{"rules, the hosts' product", []string{"rules", "-i", "testdata/samples/ras/inventory.yaml", "--product", "ras"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, errs := analyzeCmd(t, tc.args...)
			// Once, though diff analyses two captures.
			if got := strings.Count(errs, warning); got != map[bool]int{true: 1}[tc.want] {
				t.Errorf("warning given %d times, want it %v; stderr:\n%s", got, tc.want, errs)
			}
		})
	}
}

// An inventory of no hosts (`hosts: []`, what roles writes when it
// proposes none) is read, and said to leave every host without a role, as
// no inventory is.
func TestAnalyzeEmptyInventory(t *testing.T) {
	t.Chdir(sampleRoot)
	inv := filepath.Join(t.TempDir(), "inv.yaml")
	if err := os.WriteFile(inv, []byte("products: [ras]\nhosts: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := "flowaudit: warning: " + inv + " lists no hosts: hosts have no roles, so every service is undocumented"
	code, _, errs := analyzeCmd(t, "analyze", "-i", inv, "-f", "json", "testdata/samples/ras/pilot.pcapng")
	if code != exitFindings || !strings.Contains(errs, want) {
		t.Errorf("exit %d, stderr %q; want %d and %q", code, errs, exitFindings, want)
	}
	if _, _, errs := analyzeCmd(t, "analyze", "-i", inv, "--infer-roles", "-f", "json", "testdata/samples/ras/pilot.pcapng"); strings.Contains(errs, "lists no hosts") {
		t.Errorf("--infer-roles gives the hosts roles, but stderr says:\n%s", errs)
	}
}
