package catalog

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// PortRange is an inclusive range of port numbers.
type PortRange struct{ Lo, Hi uint16 }

func (r PortRange) String() string {
	if r.Lo == r.Hi {
		return strconv.Itoa(int(r.Lo))
	}
	return fmt.Sprintf("%d-%d", r.Lo, r.Hi)
}

// Contains says whether port p is in the range.
func (r PortRange) Contains(p uint16) bool { return r.Lo <= p && p <= r.Hi }

// FormatPorts prints ranges as "80, 443, 16500-16509".
func FormatPorts(rs []PortRange) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ", ")
}

// PortsContain says whether any range holds p.
func PortsContain(rs []PortRange, p uint16) bool {
	for _, r := range rs {
		if r.Contains(p) {
			return true
		}
	}
	return false
}

var (
	rangeDash  = regexp.MustCompile(`\s*(?:\.\.|-|–|—|~|〜)\s*`)
	portSplits = regexp.MustCompile(`[,;/、，\s]+`)
)

// ParsePorts reads ports as the documents write them: "443", "80, 443", "67/68",
// "16500..16509", "49152-65535", "6891 -6901", "1024-65535*". "none",
// "n/a" and the empty string mean no ports; "any" means 0-65535. The
// result is sorted and overlapping ranges are merged.
func ParsePorts(s string) ([]PortRange, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "", "none", "n/a", "na", "-":
		return nil, nil
	case "any", "all":
		return []PortRange{{0, 65535}}, nil
	}
	t = rangeDash.ReplaceAllString(t, "-")
	var out []PortRange
	for _, item := range portSplits.Split(t, -1) {
		if item == "" {
			continue
		}
		item = strings.TrimRight(item, "*")
		lo, hi, isRange := strings.Cut(item, "-")
		a, err := parsePort(lo)
		if err != nil {
			return nil, fmt.Errorf("bad ports %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = parsePort(hi); err != nil {
				return nil, fmt.Errorf("bad ports %q: %w", s, err)
			}
			if b < a {
				return nil, fmt.Errorf("bad ports %q: range %d-%d runs backwards", s, a, b)
			}
		}
		out = append(out, PortRange{a, b})
	}
	return mergePorts(out), nil
}

func parsePort(s string) (uint16, error) {
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a port number", s)
	}
	if v < 0 || v > 65535 {
		return 0, fmt.Errorf("port %d is outside 0-65535", v)
	}
	return uint16(v), nil
}

func mergePorts(rs []PortRange) []PortRange {
	if len(rs) < 2 {
		return rs
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Lo < rs[j].Lo || rs[i].Lo == rs[j].Lo && rs[i].Hi < rs[j].Hi })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if r.Lo <= last.Hi { // overlapping; adjacent ports stay as written
			last.Hi = max(last.Hi, r.Hi)
			continue
		}
		out = append(out, r)
	}
	return out
}
