package flow

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"

	"github.com/flowaudit/flowaudit/analyzer/decode"
)

// CommunityID returns the version 1 Community ID of a flow
// (https://github.com/corelight/community-id-spec): "1:" followed by the
// base64 SHA-1 of seed, the ordered addresses, the protocol, a zero byte and,
// for TCP, UDP, SCTP, ICMP and ICMPv6, the ordered ports.
//
// For ICMP and ICMPv6, sport is the message type and dport the code; they
// are mapped to port equivalents as the spec does (a request type and its
// reply type, or type and code for messages without a counterpart, which
// keep their direction).
func CommunityID(seed uint16, src, dst netip.Addr, sport, dport uint16, proto uint8) string {
	hasPorts := false
	oneWay := false
	switch proto {
	case decode.ProtoTCP, decode.ProtoUDP, decode.ProtoSCTP:
		hasPorts = true
	case decode.ProtoICMP, decode.ProtoICMPv6:
		hasPorts = true
		var ok bool
		t := uint8(sport)
		if c, found := icmpCounterpart(proto, t); found {
			dport, ok = uint16(c), true
		}
		sport = uint16(t)
		oneWay = !ok
	}
	if !oneWay && !cidLess(src, dst, sport, dport) {
		src, dst = dst, src
		sport, dport = dport, sport
	}
	var buf [40]byte
	binary.BigEndian.PutUint16(buf[0:], seed)
	n := 2
	n += putAddr(buf[n:], src)
	n += putAddr(buf[n:], dst)
	buf[n] = proto
	buf[n+1] = 0
	n += 2
	if hasPorts {
		binary.BigEndian.PutUint16(buf[n:], sport)
		binary.BigEndian.PutUint16(buf[n+2:], dport)
		n += 4
	}
	sum := sha1.Sum(buf[:n])
	// "1:" and the base64 of the 20-byte digest, made as one string.
	var out [2 + 28]byte
	out[0], out[1] = '1', ':'
	base64.StdEncoding.Encode(out[2:], sum[:])
	return string(out[:])
}

// putAddr writes an address's 4 or 16 bytes without the slice AsSlice
// allocates.
func putAddr(b []byte, a netip.Addr) int {
	if a.Is4() {
		v := a.As4()
		return copy(b, v[:])
	}
	v := a.As16()
	return copy(b, v[:])
}

// cidLess is the spec's ordering: address first, then port.
func cidLess(a, b netip.Addr, pa, pb uint16) bool {
	c := a.Compare(b)
	return c < 0 || (c == 0 && pa < pb)
}

// icmpCounterpart returns the reply type of a request type and the request
// type of a reply type, as Zeek and the Community ID spec pair them.
func icmpCounterpart(proto, t uint8) (uint8, bool) {
	if proto == decode.ProtoICMP {
		switch t {
		case 8:
			return 0, true // echo request -> echo reply
		case 0:
			return 8, true
		case 13:
			return 14, true // timestamp
		case 14:
			return 13, true
		case 15:
			return 16, true // information request
		case 16:
			return 15, true
		case 10:
			return 9, true // router solicitation -> advertisement (one way only)
		case 17:
			return 18, true // address mask
		case 18:
			return 17, true
		}
		return 0, false
	}
	switch t {
	case 128:
		return 129, true // echo request
	case 129:
		return 128, true
	case 133:
		return 134, true // router solicitation
	case 134:
		return 133, true
	case 135:
		return 136, true // neighbor solicitation
	case 136:
		return 135, true
	case 130:
		return 131, true // multicast listener query
	case 131:
		return 130, true
	case 139:
		return 140, true // node information query
	case 140:
		return 139, true
	case 144:
		return 145, true // home agent address discovery
	case 145:
		return 144, true
	}
	return 0, false
}

// icmpIsRequest says whether t is the request half of a request/reply pair.
func icmpIsRequest(proto, t uint8) bool {
	if proto == decode.ProtoICMP {
		switch t {
		case 8, 13, 15, 10, 17:
			return true
		}
		return false
	}
	switch t {
	case 128, 133, 135, 130, 139, 144:
		return true
	}
	return false
}

// icmpIsEcho says whether t is an echo request or reply.
func icmpIsEcho(proto, t uint8) bool {
	if proto == decode.ProtoICMP {
		return t == 8 || t == 0
	}
	return t == 128 || t == 129
}

// icmpIsError says whether t is an error message that quotes the packet
// that caused it.
func icmpIsError(proto, t uint8) bool {
	if proto == decode.ProtoICMP {
		switch t {
		case 3, 4, 5, 11, 12:
			return true
		}
		return false
	}
	return t >= 1 && t <= 4
}

// icmpIsUnreachable says whether an error reports the destination as
// unreachable (not a path-MTU message).
func icmpIsUnreachable(proto, t, code uint8) bool {
	if proto == decode.ProtoICMP {
		return t == 3 && code != 4
	}
	return t == 1
}
