package catalog

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The Citrix tech paper "Communication Ports Used by Citrix Technologies" in
// its English (older) and Japanese (newer) editions.
const (
	citrixEN = "001_78128bcbdf871e6b.txt"
	citrixJA = "003_749f51a489efcfcc.txt"
)

// citrixSection is one table section: its heading in each edition and the
// number of body rows, read off each edition by hand (0: no table there).
type citrixSection struct {
	en, ja         string
	enRows, jaRows int
	// jaFlat marks a Japanese table flattened into markdown lines, whose
	// rows cannot be counted line by line.
	jaFlat bool
}

var citrixSections = []citrixSection{
	{en: "Citrix SDX", ja: "Citrix SDX", enRows: 10, jaRows: 10},
	{en: "Citrix ADC", ja: "Citrix ADC", enRows: 27, jaRows: 27},
	{en: "Citrix ADM", ja: "Citrix ADM", enRows: 18, jaRows: 20, jaFlat: true},
	{en: "Connector Appliance", ja: "Connector Appliance", enRows: 4, jaRows: 4},
	{en: "Connector Appliance with Active Directory", ja: "Active Directory 搭載Connector Appliance", enRows: 10, jaRows: 10},
	{en: "Cloud Connector", ja: "Cloud Connector", enRows: 4, jaRows: 4},
	{en: "Citrix DaaS", ja: "Citrix DaaS", enRows: 9, jaRows: 12},
	{en: "Rendezvous Protocol and HDX Enlightened Data Transport Protocol (EDT)",
		ja: "ランデブープロトコルとHDX Enlightened Data Transport プロトコル(EDT)", enRows: 1, jaRows: 1},
	{en: "Citrix Workspace Environment Management Service", ja: "Citrix Workspace Environment Management サービス", enRows: 2},
	{en: "Citrix Gateway", ja: "Citrix Gateway", enRows: 18, jaRows: 17},
	{en: "Citrix Hypervisor", ja: "Citrix Hypervisor", enRows: 15, jaRows: 15},
	{en: "Citrix License Server", ja: "Citrixライセンスサーバー", enRows: 5, jaRows: 7},
	{en: "Citrix SD-WAN", ja: "Citrix SD-WAN", enRows: 23, jaRows: 23},
	{en: "Citrix Virtual Apps and Desktops", ja: "Citrix Virtual Apps and Desktops", enRows: 17, jaRows: 20},
	{en: "Federated Authentication Service", ja: "フェデレーション認証サービス", enRows: 3, jaRows: 3},
	{en: "Provisioning Services", ja: "Provisioning Services", enRows: 13, jaRows: 19},
	{en: "Universal Print Server", ja: "ユニバーサルプリントサーバー", enRows: 2, jaRows: 2},
	{en: "Remote PC Access", ja: "リモートPCアクセス", enRows: 2, jaRows: 2},
	{en: "Session Recording", ja: "Session Recording", enRows: 3, jaRows: 3},
	{en: "StoreFront", ja: "StoreFront", enRows: 9, jaRows: 9},
	{en: "Workspace Environment Management", ja: "Workspace Environment Management", enRows: 9, jaRows: 9},
}

func citrixCatalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	return c
}

func TestCitrixRowsPerSection(t *testing.T) {
	c := citrixCatalog(t)
	for _, ed := range []struct {
		doc     string
		heading func(citrixSection) string
		rows    func(citrixSection) int
	}{
		{citrixEN, func(s citrixSection) string { return s.en }, func(s citrixSection) int { return s.enRows }},
		{citrixJA, func(s citrixSection) string { return s.ja }, func(s citrixSection) int { return s.jaRows }},
	} {
		got := seedRows(c, ed.doc)
		want := map[string]int{}
		for _, s := range citrixSections {
			if n := ed.rows(s); n > 0 {
				want[ed.heading(s)] = n
			}
		}
		for sec, n := range want {
			rows := got[sec]
			if len(rows) != n {
				t.Errorf("%s § %s: %d distinct rows cited, want %d", ed.doc, sec, len(rows), n)
			}
			for i := 1; i <= n; i++ {
				if !rows[i] {
					t.Errorf("%s § %s: row %d has no rule", ed.doc, sec, i)
				}
			}
			for i := range rows {
				if i < 1 || i > n {
					t.Errorf("%s § %s: rule cites row %d of %d", ed.doc, sec, i, n)
				}
			}
		}
		for sec := range got {
			if _, ok := want[sec]; !ok {
				t.Errorf("%s: rules cite unknown section %q", ed.doc, sec)
			}
		}
	}
}

// citrixSeed reads a seed document, or skips when /work/shared is absent.
func citrixSeed(t *testing.T, name string) []string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(wd) // the repository root: this package is catalog/
	path := filepath.Join(root, "..", "shared", "seeds", name)
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("seed %s not available", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
}

// citrixCountEN counts the body rows of the first table after the heading
// line: the English edition writes markdown tables ("Source | Destination
// ..." or "Service | Port ...", a "---|" line, then one "|"-line per row).
func citrixCountEN(lines []string, heading string) int {
	i := citrixFind(lines, heading)
	if i < 0 {
		return -1
	}
	for ; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "Source | Destination") || strings.HasPrefix(lines[i], "Service | Port") {
			break
		}
	}
	n := 0
	for i += 2; i < len(lines) && strings.Contains(lines[i], "|"); i++ {
		n++
	}
	return n
}

// citrixCountJA counts the body rows of the first table after the heading
// line: the Japanese edition writes a header line ("接続元 接続先 ..." or
// "サービス ポート ...") and one line per row up to a blank line.
func citrixCountJA(lines []string, heading string) int {
	i := citrixFind(lines, heading)
	if i < 0 {
		return -1
	}
	for ; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "接続元 接続先") || strings.HasPrefix(lines[i], "サービス ポート") {
			break
		}
	}
	n := 0
	for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
		n++
	}
	return n
}

func citrixFind(lines []string, heading string) int {
	for i, l := range lines {
		if strings.TrimSpace(l) == heading {
			return i
		}
	}
	return -1
}

func TestCitrixRowsAgainstDocuments(t *testing.T) {
	en := citrixSeed(t, citrixEN)
	ja := citrixSeed(t, citrixJA)
	c := citrixCatalog(t)
	enRows, jaRows := seedRows(c, citrixEN), seedRows(c, citrixJA)
	for k, s := range citrixSections {
		if got := citrixCountEN(en, s.en); got != s.enRows || got != len(enRows[s.en]) {
			t.Errorf("English § %s: %d table lines in the document, expected %d, catalog cites %d", s.en, got, s.enRows, len(enRows[s.en]))
		}
		if s.jaRows == 0 {
			// A heading without a table: no header line up to the next section.
			i, j := citrixFind(ja, s.ja), citrixFind(ja, citrixSections[k+1].ja)
			if i < 0 || j < i {
				t.Errorf("Japanese edition: headings %q and %q not found in order", s.ja, citrixSections[k+1].ja)
				continue
			}
			for _, l := range ja[i:j] {
				if strings.HasPrefix(l, "接続元 接続先") {
					t.Errorf("Japanese § %s has a table; expected none", s.ja)
				}
			}
			if len(jaRows[s.ja]) != 0 {
				t.Errorf("Japanese § %s: catalog cites %d rows of a section without a table", s.ja, len(jaRows[s.ja]))
			}
			continue
		}
		if s.jaFlat {
			if citrixFind(ja, s.ja) < 0 {
				t.Errorf("Japanese edition lacks the heading %q", s.ja)
			}
			continue
		}
		if got := citrixCountJA(ja, s.ja); got != s.jaRows || got != len(jaRows[s.ja]) {
			t.Errorf("Japanese § %s: %d table lines in the document, expected %d, catalog cites %d", s.ja, got, s.jaRows, len(jaRows[s.ja]))
		}
	}
}

// TestCitrixFiles checks the split between the two files: citrix_ja.yaml
// holds only rows of the Japanese edition, citrix_en.yaml cites the English
// edition first, and no row is transcribed in both files.
func TestCitrixFiles(t *testing.T) {
	c := citrixCatalog(t)
	type rowKey struct {
		doc, section string
		row          int
	}
	fileOf := map[rowKey]string{}
	var en, ja int
	for _, r := range c.Rules() {
		if r.Product != "citrix" {
			continue
		}
		base := filepath.Base(r.File)
		switch base {
		case "citrix_en.yaml":
			en++
			if len(r.Sources) == 0 || r.Sources[0].Doc != citrixEN {
				t.Errorf("%s (%s:%d): first source is not the English edition: %v", r.ID, base, r.Line, r.Sources)
			}
			if len(r.Sources) > 2 || len(r.Sources) == 2 && r.Sources[1].Doc != citrixJA {
				t.Errorf("%s: sources %v, want English then at most one Japanese", r.ID, r.Sources)
			}
		case "citrix_ja.yaml":
			ja++
			if len(r.Sources) != 1 || r.Sources[0].Doc != citrixJA {
				t.Errorf("%s: sources %v, want only the Japanese edition", r.ID, r.Sources)
			}
			if r.Original == "" {
				t.Errorf("%s: a Japanese-only row keeps its Japanese wording in original", r.ID)
			}
		default:
			t.Errorf("%s: citrix rule in %s", r.ID, r.File)
		}
		if !strings.HasPrefix(r.ID, "ctx-") {
			t.Errorf("%s: citrix rule ids start with ctx-", r.ID)
		}
		if r.Description == "" {
			t.Errorf("%s: no description", r.ID)
		}
		for _, s := range r.Sources {
			k := rowKey{s.Doc, s.Section, s.Row}
			if f, ok := fileOf[k]; ok && f != base {
				t.Errorf("%s § %s row %d is transcribed in both %s and %s", s.Doc, s.Section, s.Row, f, base)
			}
			fileOf[k] = base
		}
	}
	// citrix_en.yaml has 207 rule entries: 8 name two roles in a cell (+8
	// rules), and the two same_as entries copy the three Delivery Controller
	// to Delivery Controller rules and the one Delivery Controller to VDA
	// rule (+2): 217 rules. citrix_ja.yaml has the 17 Japanese-only rows.
	if en != 217 || ja != 17 {
		t.Errorf("citrix rules: %d from citrix_en.yaml, %d from citrix_ja.yaml; want 217 and 17", en, ja)
	}
}

type citrixSpot struct {
	id       string
	from, to string // Endpoint.String()
	protos   string // ProtocolNames, space-separated
	ports    string // FormatPorts
	flags    string // optional,bidirectional,configurable,dynamic,direction
	sources  string // "en:ROW ja:ROW"
}

func citrixSources(r *Rule) string {
	var s []string
	for _, src := range r.Sources {
		ed := map[string]string{citrixEN: "en", citrixJA: "ja"}[src.Doc]
		s = append(s, ed+":"+strconv.Itoa(src.Row))
	}
	return strings.Join(s, " ")
}

func TestCitrixSpotChecks(t *testing.T) {
	c := citrixCatalog(t)
	spots := []citrixSpot{
		// ICMP rows: no ports.
		{"ctx-sdx-svm-adc-icmp", "Citrix SDX SVM", "Citrix ADC", "icmp", "", "", "en:7 ja:7"},
		{"ctx-sdx-nsip-svm-icmp", "Citrix ADC (NSIP)", "Citrix SDX SVM", "icmp", "", "", "en:10 ja:10"},
		{"ctx-sdwan-wo-adm-icmp", "Citrix SD-WAN WANOP Edition", "Citrix ADM", "icmp", "", "", "en:15 ja:15"},
		// Application names in the Type column.
		{"ctx-sdx-nsip-svm-161-162", "Citrix ADC (NSIP)", "Citrix SDX SVM", "udp", "161, 162", "", "en:9 ja:9"},
		{"ctx-adc-nsip-adm-514", "Citrix ADC (NSIP)", "Citrix ADM", "udp", "514", "", "en:23 ja:23"},
		{"ctx-adm-adm-radius-1812", "Citrix ADM", "RADIUS Server", "udp", "1812", "", "en:9 ja:9"},
		{"ctx-sdwan-se-tacacs-49", "Citrix SD-WAN Standard and Enterprise Edition", "TACACS+ Server", "tcp", "49", "", "en:5 ja:5"},
		{"ctx-sdwan-orch-se-22", "Citrix Orchestrator On-Premises", "Citrix SD-WAN Standard and Enterprise Edition", "tcp", "22", "", "en:23 ja:23"},
		// Host patterns and addresses.
		{"ctx-adc-nsip-bot-sig-443", "Citrix ADC (NSIP)", "nsbotsignatures.s3.amazonaws.com", "tcp", "443", "", "en:12 ja:12"},
		{"ctx-cc-cc-digicert-80", "Cloud Connector", "*.digicert.com", "tcp", "80", "outbound-only", "en:1 ja:1"},
		{"ctx-cc-cc-cacerts-codesign-443", "Cloud Connector", "dl.cacerts.digicert.com", "tcp", "443", "outbound-only", "en:4 ja:4"},
		{"ctx-edt-vda-nssvc-443", "Virtual Delivery Agent", "*.nssvc.net", "udp", "443", "", "en:1 ja:1"},
		{"ctx-sdwan-orch-quad9-53", "Citrix Orchestrator On-Premises", "9.9.9.9", "tcp udp", "53", "", "en:20 ja:20"},
		// Multi-role cells: one rule per role.
		{"ctx-adm-adm-nsip-sdwan-80-443.citrix-adc-nsip", "Citrix ADM", "Citrix ADC (NSIP)", "tcp", "80, 443", "", "en:1 ja:1"},
		{"ctx-adm-adm-nsip-sdwan-icmp.citrix-sd-wan-instance", "Citrix ADM", "Citrix SD-WAN Instance", "icmp", "", "", "en:3 ja:3"},
		{"ctx-adm-adc-admlic-27000.citrix-adm-agent", "Citrix ADC", "Citrix ADM Agent", "tcp", "27000", "", "en:11 ja:11"},
		{"ctx-cvad-director-aw-vda-135-3389.citrix-director", "Citrix Director", "Virtual Delivery Agent", "tcp", "135, 3389", "", "en:9 ja:10"},
		{"ctx-cvad-director-aw-vda-135-3389.admin-workstation", "Admin Workstation", "Virtual Delivery Agent", "tcp", "135, 3389", "", "en:9 ja:10"},
		{"ctx-sf-sf-ddc-xm-80-443.xenmobile", "StoreFront", "Citrix Endpoint Management", "tcp", "80, 443", "", "en:7 ja:7"},
		// same_as rows, expanded from the Delivery Controller rules.
		{"ctx-daas-cc-cc-same-ddc-ddc.ctx-cvad-ddc-ddc-9095", "Cloud Connector", "Cloud Connector", "tcp", "9095", "", "en:2 ja:2"},
		{"ctx-daas-cc-vda-same-ddc-vda.ctx-cvad-ddc-vda-80", "Cloud Connector", "Virtual Delivery Agent", "tcp", "80", "bidirectional", "en:5 ja:5"},
		// Ranges, bidirectional, dynamic, configurable, optional.
		{"ctx-cvad-ddc-vda-80", "Delivery Controller", "Virtual Delivery Agent", "tcp", "80", "bidirectional", "en:5 ja:5"},
		{"ctx-cvad-vda-ddc-80", "Virtual Delivery Agent", "Delivery Controller", "tcp", "80", "bidirectional", "en:13 ja:16"},
		{"ctx-cvad-aw-vda-49152-65535", "Admin Workstation", "Virtual Delivery Agent", "tcp udp", "49152-65535", "dynamic", "en:16 ja:19"},
		{"ctx-capad-cap-ad-49152-65535", "Connector Appliance", "Domain Controller", "tcp", "49152-65535", "dynamic,outbound-only", "en:10 ja:10"},
		{"ctx-capad-cap-ad-88", "Connector Appliance", "Domain Controller", "tcp udp", "88", "outbound-only", "en:1 ja:1"},
		{"ctx-cap-hv-cap-3128", "Citrix Hypervisor", "Connector Appliance", "tcp", "3128", "optional,inbound-only", "en:4 ja:4"},
		{"ctx-gw-snip-vda-16500-16509", "Citrix Gateway (SNIP)", "Virtual Delivery Agent", "udp", "16500-16509", "optional", "en:12 ja:11"},
		{"ctx-gw-plugin-vpn-3148-3149-3159", "Citrix Gateway Plug-in", "VPN/CVAD", "tcp udp", "3148, 3149, 3159", "optional", "en:15 ja:14"},
		{"ctx-pvs-td-pvs-6910-6930", "Provisioning Target Device", "Citrix Provisioning Server", "udp", "6910-6930", "configurable", "en:7 ja:13"},
		{"ctx-pvs-td-pvs-6901-6902-6905", "Provisioning Target Device", "Citrix Provisioning Server", "udp", "6901, 6902, 6905", "", "en:8 ja:14"},
		{"ctx-ups-vda-ups-7229", "Virtual Delivery Agent", "Universal Print Server", "udp", "7229", "configurable", "en:1 ja:1"},
		{"ctx-sf-sf-sf-p2p", "StoreFront", "StoreFront", "tcp", "1024-65535", "configurable,dynamic", "en:5 ja:5"},
		{"ctx-sf-sf-sf-808", "StoreFront", "StoreFront", "tcp", "808", "optional", "en:6 ja:6"},
		{"ctx-sdwan-wo-wo-tcp", "Citrix SD-WAN WANOP Edition", "Citrix SD-WAN WANOP Edition", "tcp", "0-65535", "", "en:11 ja:11"},
		// Groups and modes.
		{"ctx-lic-any-lic-27000", "Any Citrix Component", "Citrix License Server", "tcp", "27000", "", "en:1 ja:1"},
		{"ctx-cvad-ddc-hvmaster-80-443", "Delivery Controller", "Citrix Hypervisor (Resource Pool Master)", "tcp", "80, 443", "", "en:1 ja:1"},
		{"ctx-hv-hv-cluster-5404-5405", "Citrix Hypervisor", "Citrix Hypervisor (Clustered pool member)", "udp", "5404, 5405", "", "en:11 ja:11"},
		{"ctx-sdwan-wossl-wossl-443", "Citrix SD-WAN WANOP Edition (SSL Acceleration Enabled)", "Citrix SD-WAN WANOP Edition (SSL Acceleration Enabled)", "tcp", "443", "", "en:19 ja:19"},
		// One row, two destinations.
		{"ctx-hv-hv-dns-53", "Citrix Hypervisor", "DNS Server", "tcp udp", "53", "", "en:3 ja:3"},
		{"ctx-hv-hv-ad-389", "Citrix Hypervisor", "Domain Controller", "tcp", "389", "", "en:3 ja:3"},
		// Rows only one edition has, or where the editions differ.
		{"ctx-gw-snip-vda-8008", "Citrix Gateway (SNIP)", "Virtual Delivery Agent", "tcp", "8008", "optional", "en:11"},
		{"ctx-wems-agent-cc-443-8080", "WEM Agent", "Cloud Connector", "tcp", "443, 8080", "", "en:2"},
		{"ctx-cvad-wsa-sf-16500-16509", "Citrix Workspace app", "StoreFront", "udp", "16500-16509", "", "en:12"},
		{"ctx-cvad-wsa-vda-16500-16509", "Citrix Workspace app", "Virtual Delivery Agent", "udp", "16500-16509", "", "ja:15"},
		{"ctx-cvad-wsa-vda-1494", "Citrix Workspace app", "Virtual Delivery Agent", "tcp udp", "1494", "", "ja:13"},
		{"ctx-daas-wsa-vda-2598", "Citrix Workspace app", "Virtual Delivery Agent", "tcp udp", "2598", "", "ja:12"},
		{"ctx-daas-fas-cloud-443", "Citrix FAS Server", "Citrix Cloud", "tcp", "443", "", "ja:9"},
		{"ctx-lic-ddc-lic-8083", "Delivery Controller", "Citrix License Server", "tcp", "8083", "", "ja:4"},
		{"ctx-cvad-ddc-director-80-443", "Delivery Controller", "Citrix Director", "tcp", "80, 443", "", "ja:6"},
		{"ctx-adm-adc-adm-5005", "Citrix ADC", "Citrix ADM", "udp", "5005", "", "ja:13"},
		{"ctx-pvs-pvs-td-6901-6902-6905", "Citrix Provisioning Server", "Provisioning Target Device", "udp", "6901, 6902, 6905", "", "ja:4"},
		{"ctx-pvs-pvs-hyperv-8100", "Citrix Provisioning Server", "Microsoft Hyper-V Host", "tcp", "8100", "", "ja:7"},
		{"ctx-pvs-pvs-gcp-443", "Citrix Provisioning Server", "Google Cloud Platform", "tcp", "443", "", "ja:9"},
		{"ctx-pvs-pvs-xenserver-80-443", "Citrix Provisioning Server", "Citrix Hypervisor", "tcp", "80, 443", "", "ja:5"},
		// The ADM rows after the two Japanese-only ones shift by two.
		{"ctx-adm-adm-admagent-443-7443-8443", "Citrix ADM", "Citrix ADM Agent", "tcp", "443, 7443, 8443", "", "en:18 ja:20"},
	}
	for _, s := range spots {
		t.Run(s.id, func(t *testing.T) {
			r := c.Rule(s.id)
			if r == nil {
				t.Fatalf("no rule %s", s.id)
			}
			got := citrixSpot{
				id:      r.ID,
				from:    r.From.String(),
				to:      r.To.String(),
				protos:  strings.Join(r.ProtocolNames(), " "),
				ports:   FormatPorts(r.Ports),
				flags:   strings.Join(r.Flags(), ","),
				sources: citrixSources(r),
			}
			if got != s {
				t.Errorf("rule %s:\n got %+v\nwant %+v", s.id, got, s)
			}
		})
	}
}

// TestCitrixApps checks that Type-column application names are kept.
func TestCitrixApps(t *testing.T) {
	c := citrixCatalog(t)
	for id, want := range map[string]string{
		"ctx-sdx-nsip-svm-161-162":    "SNMP",
		"ctx-adc-nsip-adm-514":        "Syslog",
		"ctx-adm-adm-radius-1812":     "RADIUS",
		"ctx-adm-adm-tacacs-49":       "TACACS",
		"ctx-cc-cc-digicert-80":       "HTTP",
		"ctx-daas-lic-cloud-443":      "HTTPS",
		"ctx-sdwan-orch-se-22":        "SSH",
		"ctx-wems-agent-wems-443":     "HTTPS",
		"ctx-sdwan-se-snmp-161-162":   "",
		"ctx-capad-cap-ad-88":         "",
		"ctx-hv-hv-cluster-5404-5405": "",
	} {
		r := c.Rule(id)
		if r == nil {
			t.Errorf("no rule %s", id)
			continue
		}
		if got := strings.Join(r.Apps, ","); got != want {
			t.Errorf("%s: apps %q, want %q", id, got, want)
		}
	}
}

// TestCitrixRoleNames checks that every name the two editions give a role in
// a table cell finds that role (and mode).
func TestCitrixRoleNames(t *testing.T) {
	c := citrixCatalog(t)
	checkLookupsIn(t, c, NewScope("citrix"), []roleLookup{
		{"Admin Workstation", "admin-workstation", ""},
		{"管理ワークステーション", "admin-workstation", ""},
		{"管理者ワークステーション(XenCenter)", "admin-workstation", ""},
		{"Admin Workstation (XenCenter)", "admin-workstation", ""},
		{"Citrix SDX lights out management", "citrix-sdx-lom", ""},
		{"Citrix SDX ライトアウト管理", "citrix-sdx-lom", ""},
		{"Citrix ADC instance", "citrix-adc", ""},
		{"Citrix ADC インスタンス", "citrix-adc", ""},
		{"Citrix ADC NSIP", "citrix-adc", "nsip"},
		{"Citrix ADC SNIP", "citrix-adc", "snip"},
		{"Citrix ADC (SNIP)", "citrix-adc", "snip"},
		{"クラスタセットアップ中のCitrix ADCアプライアンス", "citrix-adc", ""},
		{"Citrix ADCアプライアンス(高可用性用)", "citrix-adc", ""},
		{"Citrix ADC/CPX インスタンス", "citrix-adc", ""},
		{"ADCがライトアウト管理", "citrix-adc-lom", ""},
		{"NTPサーバ", "ntp-server", ""},
		{"NTP Service", "ntp-server", ""},
		{"NTPサービス", "ntp-server", ""},
		{"DNS", "dns-server", ""},
		{"DNS サーバー", "dns-server", ""},
		{"DNS サービス", "dns-server", ""},
		{"LDAP サーバー (負荷分散)", "ldap-server", ""},
		{"LDAP external authentication server", "ldap-server", ""},
		{"RADIUS 外部認証サーバ", "radius-server", ""},
		{"RADIUS", "radius-server", ""},
		{"TACACS+", "tacacs-server", ""},
		{"TACACS 外部認証サーバ", "tacacs-server", ""},
		{"SNMP", "snmp-manager", ""},
		{"NetFlow", "netflow-collector", ""},
		{"Syslog", "syslog-server", ""},
		{"AppFlow (Citrix ADM)", "citrix-adm", ""},
		{"AppFlow(Citrix ADM)", "citrix-adm", ""},
		{"SSH(Citrix ADM)", "citrix-adm", ""},
		{"API", "nitro-api-client", ""},
		{"Citrix SD-WAN instance", "citrix-sd-wan-instance", ""},
		{"Cloud Connectors", "cloud-connector", ""},
		{"Cloud Connector", "cloud-connector", ""},
		{"Gateway Service", "citrix-gateway-service", ""},
		{"Gatewayサービス", "citrix-gateway-service", ""},
		{"Citrix Gateway SNIP", "citrix-gateway", "snip"},
		{"Citrix Gateway プラグイン", "citrix-gateway-plugin", ""},
		{"安全な発券機関 (STA)", "secure-ticket-authority", ""},
		{"Secure Ticketing Authority (STA)", "secure-ticket-authority", ""},
		{"FileServer", "file-server", ""},
		{"ファイルサーバー", "file-server", ""},
		{"NASヘッド/ファイル・サーバ", "file-server", ""},
		{"SANコントローラー", "san-controller", ""},
		{"クラスタリング", "citrix-hypervisor", "clustered"},
		{"仮想マシン", "virtual-machine", ""},
		{"すべてのCitrix コンポーネント", "any-citrix-component", ""},
		{"Citrixライセンスサーバー", "citrix-license-server", ""},
		{"SD-WAN Standard およびEnterprise Edition", "sd-wan-se-ee", ""},
		{"SD-WANセンター", "sd-wan-center", ""},
		{"Citrix Cloud ゼロタッチ展開サービス", "citrix-cloud-ztd", ""},
		{"SD-WAN WANOP エディション", "sd-wan-wanop", ""},
		{"SD-WAN WANOP エディション (SSL アクセラレーションが有効)", "sd-wan-wanop", "ssl-acceleration"},
		{"Citrix Orchestrator オンプレミ", "citrix-orchestrator-onprem", ""},
		{"Citrix Hypervisor リソースプールマスター", "citrix-hypervisor", "pool-master"},
		{"XenServer", "citrix-hypervisor", ""},
		{"Microsoft SCVMM サーバー", "scvmm-server", ""},
		{"VMware vCenterサーバ", "vcenter-server", ""},
		{"Director", "citrix-director", ""},
		{"Directorサーバー", "citrix-director", ""},
		{"Citrix Workspaceアプリ", "citrix-workspace-app", ""},
		{"Citrix Workspace アプリケーション", "citrix-workspace-app", ""},
		{"FAS Server", "fas-server", ""},
		{"Citrix FAS サーバー", "fas-server", ""},
		{"Microsoft認証局", "certificate-authority", ""},
		{"Provisioningサーバー", "provisioning-server", ""},
		{"ターゲットデバイス", "pvs-target-device", ""},
		{"ドメイン コントローラー", "domain-controller", ""},
		{"ドメインコントローラ", "domain-controller", ""},
		{"ブロードキャスト/DHCPServer", "dhcp-server", ""},
		{"Broadcast/PXEService", "pvs-pxe-service", ""},
		{"ブロードキャスト/xeService", "pvs-pxe-service", ""},
		{"TFTP サーバ", "tftp-server", ""},
		{"CVAD サービス", "cvad-service", ""},
		{"Citrix Provisioning サーバーコンソール", "pvs-console", ""},
		{"CVAD リモート PowerShell SDK", "cvad-powershell-sdk", ""},
		{"Microsoft Hyper-V", "hyper-v-host", ""},
		{"Microsoft Azure", "microsoft-azure", ""},
		{"Google Cloud Platform", "google-cloud-platform", ""},
		{"ユニバーサルプリントサーバー", "universal-print-server", ""},
		{"WOL プロキシ", "wol-proxy", ""},
		{"Session Recording サーバー", "session-recording-server", ""},
		{"Session Recording ポリシー コンソール", "session-recording-policy-console", ""},
		{"ユーザーデバイス", "user-device", ""},
		{"StoreFront Server", "storefront", ""},
		{"StoreFront サーバー", "storefront", ""},
		{"XenMobile", "xenmobile", ""},
		{"インフラストラクチャ・サービス", "wem-infrastructure-service", ""},
		{"Agent host", "wem-agent", ""},
		{"エージェントホスト", "wem-agent", ""},
		{"エージェントキャッシュの同期プロセス", "wem-agent", ""},
		{"管理コンソール", "wem-administration-console", ""},
		{"監視サービス", "wem-monitoring-service", ""},
		{"WEM Service", "wem-service", ""},
		{"HdxVideo.js", "hdx-video-js", ""},
	})
}

// TestCitrixGroups checks the group roles: Any Citrix Component takes in
// the Citrix components and not the third-party infrastructure.
func TestCitrixGroups(t *testing.T) {
	c := citrixCatalog(t)
	group := c.RoleByID("any-citrix-component")
	if group == nil || !group.IsGroup() {
		t.Fatalf("any-citrix-component is not a group: %+v", group)
	}
	members := map[string]bool{}
	for _, m := range group.Members {
		members[m] = true
	}
	for _, id := range []string{"delivery-controller", "storefront", "virtual-delivery-agent", "citrix-adc", "provisioning-server", "wem-infrastructure-service"} {
		if !members[id] {
			t.Errorf("Any Citrix Component lacks %s", id)
		}
	}
	for _, id := range []string{"any-citrix-component", "citrix-sd-wan-instance", "scvmm-server", "user-device", "google-cloud-platform", "domain-controller", "horizon-agent"} {
		if members[id] {
			t.Errorf("Any Citrix Component includes %s", id)
		}
	}
	for _, r := range c.Roles() {
		if r.Product == "citrix" && !r.IsGroup() && !members[r.ID] {
			t.Errorf("citrix role %s is not a member of Any Citrix Component", r.ID)
		}
	}
	sdwan := c.RoleByID("citrix-sd-wan-instance")
	if sdwan == nil {
		t.Fatal("no citrix-sd-wan-instance")
	}
	got := append([]string(nil), sdwan.Members...)
	sort.Strings(got)
	if strings.Join(got, " ") != "sd-wan-se-ee sd-wan-wanop" {
		t.Errorf("Citrix SD-WAN Instance members %v", got)
	}
}
