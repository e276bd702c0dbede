package firewall

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Windows writes Windows Defender Firewall rules as PowerShell
// New-NetFirewallRule commands, in group "flowaudit": an inbound rule on
// the destination hosts for a line to a role or host, an outbound rule on
// the source hosts for a line to addresses the rule names (multicast,
// broadcast, metadata) or to any. Host-name destinations are comments.
// The script starts with a UTF-8 byte order mark.
func (r *Request) Windows(w io.Writer) error {
	bw := bufio.NewWriter(w)
	// Windows PowerShell 5.1 reads a script without a byte order mark in
	// the ANSI code page: the mark keeps the documents' names intact.
	bw.WriteString("\ufeff")
	header(bw, "# ", r)
	bw.WriteString("# Remove them all with: Remove-NetFirewallRule -Group 'flowaudit'\n")
	for _, l := range r.Lines {
		bw.WriteString("\n")
		commentBlock(bw, "# ", l)
		if l.Dst.Kind == KindFQDN {
			fmt.Fprintf(bw, "# not written: %s\n", unresolvedReason(l))
			continue
		}
		inbound := l.Dst.Kind == KindRole || l.Dst.Kind == KindHost
		if !inbound && l.Src.IsAny() {
			fmt.Fprintf(bw, "# not written: neither side is an inventory host to put the rule on\n")
			continue
		}
		var on *Object
		args := []string{"New-NetFirewallRule", "-DisplayName " + psQuote(fmt.Sprintf("flowaudit %d: %s", l.N, oneLine(l.Summary()))),
			"-Group 'flowaudit'"}
		if inbound {
			on = l.Dst
			args = append(args, "-Direction Inbound", "-Action Allow")
			args = append(args, winProto(l, "-LocalPort")...)
			args = append(args, "-RemoteAddress "+winAddrs(l.Src))
		} else {
			on = l.Src
			args = append(args, "-Direction Outbound", "-Action Allow")
			args = append(args, winProto(l, "-RemotePort")...)
			args = append(args, "-RemoteAddress "+winAddrs(l.Dst))
		}
		args = append(args, "-Description "+psQuote(truncate(oneLine(strings.Join(ruleTexts(l), " | ")), 1000)))
		fmt.Fprintf(bw, "# on %s: %s\n", on.Label, strings.Join(on.Hosts, ", "))
		fmt.Fprintln(bw, strings.Join(args, " "))
	}
	return bw.Flush()
}

func ruleTexts(l *Line) []string {
	out := make([]string, len(l.Why))
	for i, j := range l.Why {
		out[i] = j.Text()
	}
	return out
}

func winProto(l *Line, portFlag string) []string {
	switch l.Proto {
	case 6, 17:
		p := "TCP"
		if l.Proto == 17 {
			p = "UDP"
		}
		ps := make([]string, len(l.Ports))
		for i, r := range l.Ports {
			ps[i] = r.String()
		}
		return []string{"-Protocol " + p, portFlag + " " + strings.Join(ps, ",")}
	case 1:
		return []string{"-Protocol ICMPv4"}
	case 58:
		return []string{"-Protocol ICMPv6"}
	}
	return []string{fmt.Sprintf("-Protocol %d", l.Proto)}
}

func winAddrs(o *Object) string {
	if o.IsAny() {
		return "Any"
	}
	return strings.Join(prefixStrings(o.Prefixes), ",")
}

// psQuote is s as a PowerShell single-quoted string.
func psQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "..."
}
