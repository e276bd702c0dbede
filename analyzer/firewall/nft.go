package firewall

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/flowaudit/flowaudit/catalog"
)

// NFTChain is the chain the nftables request's lines are in.
const NFTChain = "flowaudit_request"

// NFT writes a complete `table inet flowaudit` for `nft -f`: one named
// interval set per object and address family, and one accept rule per
// line and family in a chain without a hook, to be jumped to from the
// policy's forward chain. Host-name destinations are comments naming them
// unresolved.
func (r *Request) NFT(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("#!/usr/sbin/nft -f\n")
	header(bw, "# ", r)
	fmt.Fprintf(bw, "# The chain %s has no hook: copy the sets and the chain into the table of\n", NFTChain)
	fmt.Fprintf(bw, "# your policy and jump to it from its forward chain (nftables jumps stay within a table).\n\n")
	bw.WriteString("table inet flowaudit {\n")
	for _, o := range r.Objects {
		if o.Kind == KindAny || o.Kind == KindFQDN {
			continue
		}
		for _, f := range []int{4, 6} {
			ps := o.Family(f)
			if len(ps) == 0 {
				continue
			}
			fmt.Fprintf(bw, "\tset %s {\n", nftSet(o, f))
			fmt.Fprintf(bw, "\t\ttype ipv%d_addr\n\t\tflags interval\n", f)
			fmt.Fprintf(bw, "\t\tcomment \"%s\"\n", nftString(o.Label, 100))
			fmt.Fprintf(bw, "\t\telements = { %s }\n", strings.Join(prefixStrings(ps), ", "))
			bw.WriteString("\t}\n")
		}
	}
	fmt.Fprintf(bw, "\n\tchain %s {\n", NFTChain)
	for i, l := range r.Lines {
		if i > 0 {
			bw.WriteString("\n")
		}
		commentBlock(bw, "\t\t# ", l)
		if why := unresolvedReason(l); why != "" {
			fmt.Fprintf(bw, "\t\t# not written: %s\n", why)
			continue
		}
		for _, f := range l.Families() {
			var parts []string
			fam := "ip"
			if f == 6 {
				fam = "ip6"
			}
			if !l.Src.IsAny() {
				parts = append(parts, fmt.Sprintf("%s saddr @%s", fam, nftSet(l.Src, f)))
			}
			if !l.Dst.IsAny() {
				parts = append(parts, fmt.Sprintf("%s daddr @%s", fam, nftSet(l.Dst, f)))
			}
			if l.Src.IsAny() && l.Dst.IsAny() {
				parts = append(parts, "meta nfproto ipv"+fmt.Sprint(f))
			}
			parts = append(parts, nftProto(l, f))
			parts = append(parts, "accept", fmt.Sprintf("comment \"%s\"", shortComment(l, 127)))
			fmt.Fprintf(bw, "\t\t%s\n", strings.Join(parts, " "))
		}
	}
	bw.WriteString("\t}\n}\n")
	return bw.Flush()
}

func nftSet(o *Object, f int) string { return fmt.Sprintf("%s_v%d", o.Name, f) }

func nftProto(l *Line, family int) string {
	if !catalog.HasPorts(l.Proto) || len(l.Ports) == 0 {
		return fmt.Sprintf("meta l4proto %d", familyProto(l.Proto, family))
	}
	name := l.ProtoName()
	ps := make([]string, len(l.Ports))
	for i, p := range l.Ports {
		ps[i] = p.String()
	}
	if len(ps) == 1 {
		return fmt.Sprintf("%s dport %s", name, ps[0])
	}
	return fmt.Sprintf("%s dport { %s }", name, strings.Join(ps, ", "))
}

// nftString is s safe inside an nft double-quoted string of at most max
// bytes.
func nftString(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < ' ' || r > '~' {
			return '_'
		}
		return r
	}, s)
	if len(s) > max {
		s = s[:max]
	}
	return s
}
