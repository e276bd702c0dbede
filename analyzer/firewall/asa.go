package firewall

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// ASAList is the access list the ASA request's lines are in.
const ASAList = "flowaudit_request"

// ASA writes Cisco ASA commands: an object-group network per object
// (IPv4 and IPv6 together), an object network with fqdn for a host-name
// destination (wildcard patterns are comments: ASA fqdn objects take
// none), an object-group service per line with ports, and one
// `access-list ... extended permit` per line with its remarks.
func (r *Request) ASA(w io.Writer) error {
	bw := bufio.NewWriter(w)
	header(bw, "! ", r)
	fmt.Fprintf(bw, "! Apply with: access-group %s in interface <inside>, after review.\n", ASAList)
	for _, o := range r.Objects {
		switch o.Kind {
		case KindAny:
			continue
		case KindFQDN:
			if o.Wildcard() {
				fmt.Fprintf(bw, "! %s: ASA fqdn objects take no wildcard; name the hosts it stands for\n", o.FQDN)
				continue
			}
			fmt.Fprintf(bw, "object network %s\n fqdn %s\n", o.Name, o.FQDN)
			continue
		}
		fmt.Fprintf(bw, "object-group network %s\n", o.Name)
		fmt.Fprintf(bw, " description %s\n", truncate(asaText(objectDescription(o)), 200))
		for _, p := range o.Prefixes {
			fmt.Fprintf(bw, " network-object %s\n", asaPrefix(p))
		}
	}
	for _, l := range r.Lines {
		bw.WriteString("!\n")
		fmt.Fprintf(bw, "access-list %s remark %s\n", ASAList, truncate(asaText(fmt.Sprintf("%d. %s [%s]", l.N, l.Summary(), l.StatusText())), 100))
		for _, j := range l.Why {
			fmt.Fprintf(bw, "access-list %s remark %s\n", ASAList, truncate(asaText(j.Rule.ID+": "+j.EvidenceText()), 100))
		}
		if l.Dst.Kind == KindFQDN && l.Dst.Wildcard() {
			fmt.Fprintf(bw, "! not written: %s\n", unresolvedReason(l))
			continue
		}
		if l.Dst.Kind != KindFQDN && len(l.Families()) == 0 {
			fmt.Fprintf(bw, "! not written: %s\n", unresolvedReason(l))
			continue
		}
		proto, svc := asaProto(l)
		if svc != "" {
			fmt.Fprintf(bw, "object-group service %s %s\n", svc, proto)
			for _, p := range l.Ports {
				if p.Lo == p.Hi {
					fmt.Fprintf(bw, " port-object eq %d\n", p.Lo)
				} else {
					fmt.Fprintf(bw, " port-object range %d %d\n", p.Lo, p.Hi)
				}
			}
			svc = " object-group " + svc
		}
		fmt.Fprintf(bw, "access-list %s extended permit %s %s %s%s\n", ASAList, proto, asaObject(l.Src), asaObject(l.Dst), svc)
	}
	return bw.Flush()
}

func objectDescription(o *Object) string {
	if len(o.Hosts) == 0 {
		return o.Label
	}
	return o.Label + ": " + strings.Join(o.Hosts, ", ")
}

func asaObject(o *Object) string {
	switch o.Kind {
	case KindAny:
		return "any"
	case KindFQDN:
		return "object " + o.Name
	}
	return "object-group " + o.Name
}

func asaPrefix(p netip.Prefix) string {
	if p.Addr().Is6() {
		if p.IsSingleIP() {
			return "host " + p.Addr().String()
		}
		return p.String()
	}
	if p.IsSingleIP() {
		return "host " + p.Addr().String()
	}
	mask := [4]byte{}
	bits := p.Bits()
	for i := 0; i < 4; i++ {
		n := min(max(bits-8*i, 0), 8)
		mask[i] = byte(0xff << (8 - n))
	}
	return p.Addr().String() + " " + netip.AddrFrom4(mask).String()
}

// asaProto is the ACE's protocol keyword and, for TCP, UDP and SCTP with
// ports, the name of the line's service group.
func asaProto(l *Line) (proto, svc string) {
	switch l.Proto {
	case 6, 17, 132:
		proto = l.ProtoName()
		if len(l.Ports) > 0 {
			svc = fmt.Sprintf("flowaudit_svc_%d", l.N)
		}
		return proto, svc
	case 1:
		return "icmp", ""
	case 58:
		return "icmp6", ""
	case 47:
		return "gre", ""
	case 50:
		return "esp", ""
	}
	return fmt.Sprint(l.Proto), ""
}

// asaText keeps a remark or description printable ASCII.
func asaText(s string) string {
	s = strings.NewReplacer("→", "->", "—", "-", "§", "section").Replace(oneLine(s))
	return strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return '?'
		}
		return r
	}, s)
}
