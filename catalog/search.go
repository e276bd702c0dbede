package catalog

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// ErrNotPort is the error of a search query that looks like a port and is
// none ("99999", "udp/abc").
var ErrNotPort = errors.New("not a port")

// Filter returns the rules keep accepts, in their order.
func Filter(rules []*Rule, keep func(*Rule) bool) []*Rule {
	var out []*Rule
	for _, r := range rules {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// Search finds rules by port ("4172", "udp/4172", "4172/udp"), by
// role (any name of it, within scope, matching either side, groups
// included), by address, or by whole words. Port matches come specific
// first: the rules of exactly that port, then narrow ranges, then wide
// ones (1024-65535, dynamic); every answer puts the rules of the products
// in scope first. A query that looks like a port and is not one is a
// usage error (ErrNotPort); note says how an ambiguous role name was
// searched.
func (cat *Catalog) Search(q string, scope Scope) (rules []*Rule, note string, err error) {
	q = strings.TrimSpace(q)
	proto, port, isPort, err := parsePortQuery(q)
	if err != nil {
		return nil, "", err
	}
	switch {
	case isPort:
		rules = Filter(cat.Rules(), func(r *Rule) bool {
			if proto != 0 {
				return r.CoversPort(proto, port)
			}
			return (r.HasProto(6) || r.HasProto(17) || r.HasProto(132)) && PortsContain(r.Ports, port)
		})
	default:
		role, mode, lerr := cat.LookupRoleIn(q, scope)
		if errors.Is(lerr, ErrAmbiguousRole) {
			note = lerr.Error() + "; listing the rules whose words match instead"
		}
		if a, perr := netip.ParseAddr(q); perr == nil {
			rules = Filter(cat.Rules(), func(r *Rule) bool { return r.To.MatchesAddr(a) })
		} else if lerr == nil {
			rules = Filter(cat.Rules(), func(r *Rule) bool {
				return sideCovers(r.From, role, mode) || sideCovers(r.To, role, mode)
			})
		} else {
			want := words(q)
			rules = Filter(cat.Rules(), func(r *Rule) bool {
				have := map[string]bool{}
				for _, s := range []string{r.ID, r.Description, r.Original, r.Section, r.Note, strings.Join(r.Apps, " "), r.To.Host} {
					for _, w := range words(s) {
						have[w] = true
					}
				}
				for _, w := range want {
					if !have[w] {
						return false
					}
				}
				return len(want) > 0
			})
		}
	}
	rank := func(r *Rule) (int, int) {
		s := 0
		if !scope.HasRule(r) {
			s = 1
		}
		return s, portRank(r, port, isPort)
	}
	sort.SliceStable(rules, func(i, j int) bool {
		si, pi := rank(rules[i])
		sj, pj := rank(rules[j])
		if si != sj {
			return si < sj
		}
		return pi < pj
	})
	return rules, note, nil
}

// portRank orders port matches: the rule names exactly the port (0), a
// range of at most 1024 ports (1), a wider one or a dynamic one (2).
func portRank(r *Rule, port uint16, isPort bool) int {
	if !isPort {
		return 0
	}
	if r.Dynamic {
		return 2
	}
	best := 2
	for _, p := range r.Ports {
		if !p.Contains(port) {
			continue
		}
		switch n := int(p.Hi) - int(p.Lo) + 1; {
		case n == 1:
			return 0
		case n <= MaxLintRange:
			best = min(best, 1)
		}
	}
	return best
}

// words splits text into lower-case words of letters and digits, so
// "appl-ica-tion" holds "appl", "ica" and "tion" but "application" does
// not hold "ica".
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// sideCovers says whether a rule side is written for role (or a group
// holding it), in a compatible mode. Any does not count: searching for a
// role lists the rules that name it.
func sideCovers(ep Endpoint, role *Role, mode string) bool {
	if ep.Role == nil {
		return false
	}
	if role.IsGroup() {
		return ep.Role == role
	}
	return ep.Role.Covers(ep.Mode, role.ID, mode)
}

// parsePortQuery reads "4172", "udp/4172" or "4172/udp". isPort is false
// for a query that is no port at all ("StoreFront", "VPN/CVAD"); a query
// that is a port or a protocol with something that is not a port
// ("99999", "udp/abc") is a usage error.
func parsePortQuery(q string) (proto uint8, port uint16, isPort bool, err error) {
	num, protoName := q, ""
	// "tcp 443" and "443 tcp" (two arguments) are "tcp/443", not the
	// words tcp and 443 in descriptions.
	if f := strings.Fields(q); len(f) == 2 && (isProto(f[0]) && isDigits(f[1]) || isDigits(f[0]) && isProto(f[1])) {
		q = f[0] + "/" + f[1]
	}
	if a, b, slash := strings.Cut(q, "/"); slash {
		switch {
		case isProto(a):
			protoName, num = a, b
		case isProto(b):
			protoName, num = b, a
		default:
			return 0, 0, false, nil
		}
	} else if !isDigits(q) {
		return 0, 0, false, nil
	}
	v, perr := strconv.ParseUint(strings.TrimSpace(num), 10, 16)
	if perr != nil {
		return 0, 0, false, fmt.Errorf("%q is %w: want 0-65535, as in 4172, udp/4172 or 4172/udp", q, ErrNotPort)
	}
	if protoName != "" {
		proto, _ = ParseProto(protoName)
	}
	return proto, uint16(v), true, nil
}

func isProto(s string) bool {
	_, err := ParseProto(strings.TrimSpace(s))
	return err == nil && strings.TrimSpace(s) != ""
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
