package firewall

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Formats are the syntaxes a request is written in.
var Formats = []string{"csv", "markdown", "json", "nft", "iptables", "windows", "asa", "panos"}

// Write writes the request in format. For iptables, the ip6tables-restore
// section follows the iptables-restore one; IPTables writes them apart.
func (r *Request) Write(format string, w io.Writer) error {
	switch format {
	case "csv":
		return r.CSV(w)
	case "markdown":
		return r.Markdown(w)
	case "json":
		return r.JSON(w)
	case "nft":
		return r.NFT(w)
	case "iptables":
		return r.IPTables(w, w)
	case "windows":
		return r.Windows(w)
	case "asa":
		return r.ASA(w)
	case "panos":
		return r.PANOS(w)
	}
	return fmt.Errorf("unknown format %q: want %s", format, strings.Join(Formats, ", "))
}

// HeaderLines are the words every syntax starts with, as comment text.
func (r *Request) HeaderLines() []string {
	version := r.Version
	if version == "" {
		version = "dev"
	}
	out := []string{
		"flowaudit rules: a firewall change request to review, not a policy to apply blindly.",
		"Each line names the vendor documents' rules that justify it; check every one against the site's policy.",
		"A source written as any is Any in the documents: every client may open the connection.",
	}
	inv := r.Inventory
	if inv == "" {
		inv = "none"
	}
	out = append(out, fmt.Sprintf("flowaudit %s; inventory %s; %d of %d catalog rules apply.", version, inv, r.Applicable, r.Rules))
	if r.Evidence {
		out = append(out, fmt.Sprintf("Evidence: %s.", strings.Join(r.Inputs, ", ")))
	} else {
		out = append(out, "Evidence: none (no capture or report), so no line is checked against traffic.")
	}
	group := "one address object per role"
	if r.GroupBy == GroupHost {
		group = "one address object per host"
	}
	out = append(out, fmt.Sprintf("%d lines (--only %s, %s).", len(r.Lines), r.Only, group))
	for _, w := range r.Warnings {
		out = append(out, "WARNING: "+w)
	}
	for _, w := range r.Waived {
		out = append(out, "Left out, waived: "+w.Text())
	}
	for _, w := range r.Expired {
		out = append(out, "Kept, waiver expired: "+w.Text())
	}
	return out
}

// Text is "id (ticket T, expires D: reason; what the captures saw)".
func (w *WaivedRule) Text() string {
	s := fmt.Sprintf("%s (ticket %s", w.Rule.ID, w.Ticket)
	if w.Expiry != "" {
		s += ", expires " + w.Expiry
	}
	if w.Reason != "" {
		s += ": " + w.Reason
	}
	if w.Status != "" && w.Status != Unchecked {
		s += "; " + string(w.Status)
	}
	return s + ")"
}

// commentBlock writes a line's title and justifications as comments
// starting with prefix.
func commentBlock(bw *bufio.Writer, prefix string, l *Line) {
	fmt.Fprintf(bw, "%s%d. %s [%s]\n", prefix, l.N, l.Summary(), l.StatusText())
	for _, j := range l.Why {
		fmt.Fprintf(bw, "%s   %s\n", prefix, oneLine(j.Text()))
	}
}

func header(bw *bufio.Writer, prefix string, r *Request) {
	for _, h := range r.HeaderLines() {
		fmt.Fprintf(bw, "%s%s\n", prefix, oneLine(h))
	}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// shortComment is "flowaudit N: id, id" cut to max bytes on a rune
// boundary, without characters a firewall's comment quoting would trip on.
func shortComment(l *Line, max int) string {
	s := fmt.Sprintf("flowaudit %d: %s", l.N, strings.Join(l.RuleIDs(), ", "))
	s = strings.Map(func(r rune) rune {
		if r == '"' || r == '\'' || r == '\\' || r < ' ' || r > '~' {
			return '_'
		}
		return r
	}, s)
	if len(s) > max {
		s = s[:max-3] + "..."
	}
	return s
}

// unresolvedReason says why a line cannot be written as addresses, or "".
func unresolvedReason(l *Line) string {
	if l.Dst.Kind == KindFQDN {
		return fmt.Sprintf("destination %s is a host name, unresolved: resolve it to addresses (or a name-based object) before opening", l.Dst.FQDN)
	}
	if len(l.Families()) == 0 {
		return fmt.Sprintf("%s and %s have no address family in common", l.Src.Label, l.Dst.Label)
	}
	return ""
}
