package catalog

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// IP protocol numbers by name. Names are the ones flowaudit prints.
var protoNumbers = map[string]uint8{
	"icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "udp": 17, "ipv6": 41, "gre": 47,
	"esp": 50, "ah": 51, "icmpv6": 58, "ospf": 89, "pim": 103, "vrrp": 112, "sctp": 132,
}

// protoNames holds every protocol number's name, "ip/N" included, so that
// ProtoName is an index: flows prints one per connection.
var protoNames = func() (t [256]string) {
	for p := range t {
		t[p] = "ip/" + strconv.Itoa(p)
	}
	for n, p := range protoNumbers {
		t[p] = n
	}
	return t
}()

// ProtoName is the name of IP protocol p: "tcp", "vrrp", or "ip/99" for
// protocols without one.
func ProtoName(p uint8) string { return protoNames[p] }

// ParseProto reads a protocol name as ProtoName prints it, or "ip/N".
func ParseProto(s string) (uint8, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if p, ok := protoNumbers[s]; ok {
		return p, nil
	}
	if n, ok := strings.CutPrefix(s, "ip/"); ok {
		v, err := strconv.ParseUint(n, 10, 8)
		if err == nil {
			return uint8(v), nil
		}
	}
	return 0, fmt.Errorf("unknown protocol %q", s)
}

// HasPorts says whether protocol p has port numbers.
func HasPorts(p uint8) bool { return p == 6 || p == 17 || p == 132 }

// application is what a Type-column name such as "HTTPS" or "TCP (TLS)"
// means: the transports it runs over, and the name kept on the rule.
type application struct {
	protos []uint8
	name   string
}

var tcp, udp = []uint8{6}, []uint8{17}

var transportApp = regexp.MustCompile(`^(?i)(tcp|udp|sctp)\s*\(\s*([^()]+?)\s*\)$`)

// applications maps the application names the documents use in their
// Type or Protocol column (case-folded) to their transports.
var applications = map[string]application{
	"http":              {tcp, "HTTP"},
	"https":             {tcp, "HTTPS"},
	"ssh":               {tcp, "SSH"},
	"scp":               {tcp, "SCP"},
	"snmp":              {udp, "SNMP"},
	"radius":            {udp, "RADIUS"},
	"tacacs":            {tcp, "TACACS"},
	"tacacs+":           {tcp, "TACACS+"},
	"dhcp":              {udp, "DHCP"},
	"dns":               {[]uint8{6, 17}, "DNS"},
	"ntp":               {udp, "NTP"},
	"ldap":              {tcp, "LDAP"},
	"ldaps":             {tcp, "LDAPS"},
	"kerberos":          {[]uint8{6, 17}, "Kerberos"},
	"smb":               {tcp, "SMB"},
	"sip":               {[]uint8{6, 17}, "SIP"},
	"syslog":            {udp, "Syslog"},
	"tftp":              {udp, "TFTP"},
	"rdp":               {tcp, "RDP"},
	"dcom/rpc":          {tcp, "DCOM/RPC"},
	"rpc":               {tcp, "RPC"},
	"tcp (tls)":         {tcp, "TLS"},
	"tcp (mtls)":        {tcp, "MTLS"},
	"tls":               {tcp, "TLS"},
	"mtls":              {tcp, "MTLS"},
	"udp (stun/msturn)": {udp, "STUN/MSTURN"},
	"tcp (stun/msturn)": {tcp, "STUN/MSTURN"},
	"stun":              {udp, "STUN"},
	"tcp/udp":           {[]uint8{6, 17}, ""},
	"udp/tcp":           {[]uint8{6, 17}, ""},
	"tcp y udp":         {[]uint8{6, 17}, ""},
	"tcp and udp":       {[]uint8{6, 17}, ""},
}

// parseProtocols turns a rule's protocol tokens into IP protocol numbers
// and application names. A token is tried whole first ("TCP (TLS)",
// "DCOM/RPC"), then split at commas.
func parseProtocols(tokens []string) (protos []uint8, apps []string, err error) {
	add := func(ps []uint8, app string) {
		for _, p := range ps {
			if !slices.Contains(protos, p) {
				protos = append(protos, p)
			}
		}
		if app != "" && !slices.Contains(apps, app) {
			apps = append(apps, app)
		}
	}
	var one func(t string) error
	one = func(t string) error {
		key := strings.ToLower(strings.Join(strings.Fields(t), " "))
		if key == "" {
			return fmt.Errorf("empty protocol")
		}
		if a, ok := applications[key]; ok {
			add(a.protos, a.name)
			return nil
		}
		if p, err := ParseProto(key); err == nil {
			add([]uint8{p}, "")
			return nil
		}
		// "TCP (PSOM/TLS)": a transport with the application in brackets.
		if m := transportApp.FindStringSubmatch(strings.TrimSpace(t)); m != nil {
			p, _ := ParseProto(m[1])
			add([]uint8{p}, m[2])
			return nil
		}
		if strings.Contains(key, ",") {
			for _, part := range strings.Split(key, ",") {
				if err := one(part); err != nil {
					return err
				}
			}
			return nil
		}
		return fmt.Errorf("unknown protocol %q (want a transport such as tcp, udp, icmp, vrrp or ip/N, or an application name such as HTTPS)", strings.TrimSpace(t))
	}
	for _, t := range tokens {
		if err := one(t); err != nil {
			return nil, nil, err
		}
	}
	return protos, apps, nil
}
