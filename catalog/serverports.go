package catalog

import "sync"

// PortSet answers ServerPort from the ports of a catalog, without the
// catalog: flow.ServerPorts for callers that need nothing else.
type PortSet struct {
	bits [3]*[65536 / 64]uint64 // tcp, udp, sctp; nil when no port is set
}

// ServerPort says whether port on protocol proto (tcp, udp or sctp) is
// documented as a destination port.
func (s *PortSet) ServerPort(proto uint8, port uint16) bool {
	i := PortProtoIndex(proto)
	if i < 0 || s.bits[i] == nil {
		return false
	}
	return s.bits[i][port/64]&(1<<(port%64)) != 0
}

// portSpan is an inclusive range of ports.
type portSpan struct{ lo, hi uint16 }

// spans lists the set's ports of the protocol with index i as ranges.
func (s *PortSet) spans(i int) []portSpan {
	var out []portSpan
	if s.bits[i] == nil {
		return out
	}
	for p := 0; p < 65536; p++ {
		if s.bits[i][p/64]&(1<<(p%64)) == 0 {
			continue
		}
		if n := len(out); n > 0 && int(out[n-1].hi)+1 == p {
			out[n-1].hi = uint16(p)
		} else {
			out = append(out, portSpan{uint16(p), uint16(p)})
		}
	}
	return out
}

func portSetFrom(spans [3][]portSpan) *PortSet {
	s := new(PortSet)
	for i, list := range spans {
		for _, sp := range list {
			if s.bits[i] == nil {
				s.bits[i] = new([65536 / 64]uint64)
			}
			for p := int(sp.lo); p <= int(sp.hi); p++ {
				s.bits[i][p/64] |= 1 << (p % 64)
			}
		}
	}
	return s
}

var builtinPorts = sync.OnceValue(func() *PortSet { return portSetFrom(builtinServerPortSpans) })

// BuiltinServerPorts is the ServerPort answer of the embedded catalog
// (Default) from a table kept beside it, which a test holds equal to it: a
// command that only needs to know server ports (flows) starts without
// parsing the catalog's YAML, about 25 ms.
func BuiltinServerPorts() *PortSet { return builtinPorts() }
