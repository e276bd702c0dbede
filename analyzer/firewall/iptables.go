package firewall

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/flowaudit/flowaudit/catalog"
)

// IPTablesChain is the chain the iptables request's lines are in.
const IPTablesChain = "flowaudit-request"

// IPv6Marker starts the ip6tables-restore section when IPTables writes
// both sections to one writer.
const IPv6Marker = "# ---- ip6tables-restore input ----"

// IPTables writes iptables-restore input for the IPv4 lines to w4 and,
// when some line has IPv6 addresses on both sides, ip6tables-restore
// input to w6 (which may be w4: the second section then starts with
// IPv6Marker). Lines go to a chain of their own, to be jumped to from
// FORWARD; --noflush keeps the rest of the policy when loading it.
func (r *Request) IPTables(w4, w6 io.Writer) error {
	if err := r.iptables(w4, 4); err != nil {
		return err
	}
	if !r.HasIPv6() {
		return nil
	}
	if w6 == w4 {
		if _, err := fmt.Fprintf(w4, "\n%s\n", IPv6Marker); err != nil {
			return err
		}
	}
	return r.iptables(w6, 6)
}

// HasIPv6 says whether some line is written for IPv6.
func (r *Request) HasIPv6() bool {
	for _, l := range r.Lines {
		if unresolvedReason(l) == "" && slices.Contains(l.Families(), 6) {
			return true
		}
	}
	return false
}

func (r *Request) iptables(w io.Writer, family int) error {
	bw := bufio.NewWriter(w)
	tool := "iptables-restore"
	if family == 6 {
		tool = "ip6tables-restore"
	}
	fmt.Fprintf(bw, "# %s input (IPv%d). Load with `%s --noflush`, then\n", tool, family, tool)
	fmt.Fprintf(bw, "# jump to it from FORWARD after established traffic: -A FORWARD -j %s\n", IPTablesChain)
	header(bw, "# ", r)
	fmt.Fprintf(bw, "*filter\n:%s - [0:0]\n", IPTablesChain)
	for _, l := range r.Lines {
		commentBlock(bw, "# ", l)
		if why := unresolvedReason(l); why != "" {
			fmt.Fprintf(bw, "# not written: %s\n", why)
			continue
		}
		if !slices.Contains(l.Families(), family) {
			fmt.Fprintf(bw, "# not written for IPv%d: no IPv%d addresses on both sides\n", family, family)
			continue
		}
		var sel []string
		if !l.Src.IsAny() {
			sel = append(sel, "-s "+strings.Join(prefixStrings(l.Src.Family(family)), ","))
		}
		if !l.Dst.IsAny() {
			sel = append(sel, "-d "+strings.Join(prefixStrings(l.Dst.Family(family)), ","))
		}
		for _, m := range iptablesMatches(l, family) {
			args := append(append([]string{"-A", IPTablesChain}, sel...), m)
			args = append(args, fmt.Sprintf("-m comment --comment \"%s\"", shortComment(l, 255)), "-j ACCEPT")
			fmt.Fprintln(bw, strings.Join(args, " "))
		}
	}
	bw.WriteString("COMMIT\n")
	return bw.Flush()
}

// iptablesMatches are the protocol and port matches of a line: multiport
// takes at most 15 ports, a range counting two, so long lists take
// several rules.
func iptablesMatches(l *Line, family int) []string {
	p := l.ProtoName()
	switch {
	case (l.Proto == 1 || l.Proto == 58) && family == 4:
		p = "icmp"
	case (l.Proto == 58 || l.Proto == 1) && family == 6:
		p = "ipv6-icmp"
	case !catalog.HasPorts(l.Proto):
		p = fmt.Sprint(familyProto(l.Proto, family))
	}
	if !catalog.HasPorts(l.Proto) || len(l.Ports) == 0 {
		return []string{"-p " + p}
	}
	if len(l.Ports) == 1 {
		return []string{fmt.Sprintf("-p %s --dport %s", p, iptPort(l.Ports[0]))}
	}
	var out, chunk []string
	n := 0
	for _, pr := range l.Ports {
		w := 1
		if pr.Lo != pr.Hi {
			w = 2
		}
		if n+w > 15 {
			out = append(out, fmt.Sprintf("-p %s -m multiport --dports %s", p, strings.Join(chunk, ",")))
			chunk, n = nil, 0
		}
		chunk = append(chunk, iptPort(pr))
		n += w
	}
	return append(out, fmt.Sprintf("-p %s -m multiport --dports %s", p, strings.Join(chunk, ",")))
}

func iptPort(p catalog.PortRange) string {
	if p.Lo == p.Hi {
		return fmt.Sprint(p.Lo)
	}
	return fmt.Sprintf("%d:%d", p.Lo, p.Hi)
}

// familyProto is the protocol number to match in an address family: a
// rule's ICMP is ICMPv6 over IPv6, and the other way round.
func familyProto(p uint8, family int) uint8 {
	switch {
	case p == 1 && family == 6:
		return 58
	case p == 58 && family == 4:
		return 1
	}
	return p
}
