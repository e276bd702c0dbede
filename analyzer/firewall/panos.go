package firewall

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// PANOS writes PAN-OS configuration-mode commands: `set address` per
// address (ip-netmask) and per host name (fqdn; wildcard patterns are
// comments, as PAN-OS FQDN objects take none), `set address-group` per
// object, `set service` per line with ports, and `set rulebase security
// rules` per line (zones any: set them to the pilot's zones). Protocols
// without ports use their App-ID with service application-default.
func (r *Request) PANOS(w io.Writer) error {
	bw := bufio.NewWriter(w)
	header(bw, "# ", r)
	bw.WriteString("# Paste in configuration mode (configure), review, then commit. Zones are any: narrow them.\n")
	done := map[string]bool{}
	for _, o := range r.Objects {
		switch o.Kind {
		case KindAny:
			continue
		case KindFQDN:
			if o.Wildcard() {
				fmt.Fprintf(bw, "# %s: PAN-OS FQDN objects take no wildcard; use a custom URL category or name the hosts\n", o.FQDN)
				continue
			}
			fmt.Fprintf(bw, "set address %s fqdn %s\n", o.Name, o.FQDN)
			continue
		}
		var members []string
		for _, p := range o.Prefixes {
			name := panosAddrName(p)
			members = append(members, name)
			if !done[name] {
				done[name] = true
				fmt.Fprintf(bw, "set address %s ip-netmask %s\n", name, p.String())
			}
		}
		fmt.Fprintf(bw, "set address-group %s static [ %s ]\n", o.Name, strings.Join(members, " "))
		fmt.Fprintf(bw, "set address-group %s description \"%s\"\n", o.Name, panosText(objectDescription(o), 255))
	}
	for _, l := range r.Lines {
		bw.WriteString("\n")
		commentBlock(bw, "# ", l)
		if l.Dst.Kind == KindFQDN && l.Dst.Wildcard() || l.Dst.Kind != KindFQDN && len(l.Families()) == 0 {
			fmt.Fprintf(bw, "# not written: %s\n", unresolvedReason(l))
			continue
		}
		name := fmt.Sprintf("flowaudit-%03d", l.N)
		app, svc := "any", ""
		switch l.Proto {
		case 6, 17, 132:
			if len(l.Ports) > 0 {
				svc = fmt.Sprintf("flowaudit-svc-%03d", l.N)
				ps := make([]string, len(l.Ports))
				for i, p := range l.Ports {
					ps[i] = p.String()
				}
				fmt.Fprintf(bw, "set service %s protocol %s port %s\n", svc, l.ProtoName(), strings.Join(ps, ","))
			} else {
				svc = "any"
			}
		default:
			svc = "application-default"
			if a, ok := panosApps[l.Proto]; ok {
				app = a
			} else {
				svc = "any"
				fmt.Fprintf(bw, "# IP protocol %d has no App-ID here: the rule allows any application; narrow it\n", l.Proto)
			}
		}
		base := "set rulebase security rules " + name
		fmt.Fprintf(bw, "%s from any to any source %s destination %s source-user any category any application %s service %s action allow\n",
			base, panosObject(l.Src), panosObject(l.Dst), app, svc)
		fmt.Fprintf(bw, "%s description \"%s\"\n", base, panosText(fmt.Sprintf("%s [%s]: %s", l.Summary(), l.StatusText(), strings.Join(ruleTexts(l), " | ")), 1000))
	}
	return bw.Flush()
}

// panosApps are the App-IDs of protocols without ports.
var panosApps = map[uint8]string{1: "icmp", 58: "ipv6-icmp", 2: "igmp", 47: "gre", 50: "ipsec-esp", 89: "ospf", 103: "pim", 112: "vrrp"}

func panosObject(o *Object) string {
	if o.IsAny() {
		return "any"
	}
	return o.Name
}

// panosAddrName names an address object after its prefix: letters,
// digits, '.', '-' and '_' only.
func panosAddrName(p netip.Prefix) string {
	s := strings.NewReplacer(":", "-", "/", "_").Replace(p.String())
	return "flowaudit_" + s
}

// panosText is s inside a double-quoted PAN-OS string of at most n bytes.
func panosText(s string, n int) string {
	s = strings.NewReplacer("\"", "'", "\\", "/").Replace(oneLine(s))
	return truncate(s, n)
}
