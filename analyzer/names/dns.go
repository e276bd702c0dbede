package names

import (
	"errors"
	"net/netip"
)

// DNS message limits (RFC 1035 §2.3.4, §4.1.4).
const (
	maxLabel   = 63
	maxName    = 255
	maxJumps   = 64 // compression pointers followed for one name
	maxRecords = 64 // answer records kept from one message
	maxChain   = 16 // CNAME links followed from an address back to its query
)

var (
	errDNSShort    = errors.New("dns: message cut short")
	errDNSPointer  = errors.New("dns: compression pointer past the end or looping")
	errDNSLabel    = errors.New("dns: label over 63 bytes or of a reserved kind")
	errDNSNameLong = errors.New("dns: name over 255 bytes")
	errDNSNotResp  = errors.New("dns: not a response")
)

// dnsName is a name read from a message: lower case, dot-separated, no
// trailing dot. It is a fixed array so that reading a message allocates
// nothing.
type dnsName struct {
	b [maxName]byte
	n uint8
}

func (d *dnsName) bytes() []byte { return d.b[:d.n] }

func (d *dnsName) equal(o *dnsName) bool { return d.n == o.n && string(d.b[:d.n]) == string(o.b[:o.n]) }

// DNSRecord is one answer record of interest: an address (A, AAAA) or an
// alias (CNAME) for Name.
type dnsRecord struct {
	name   dnsName
	target dnsName    // CNAME
	addr   netip.Addr // A, AAAA
	cname  bool
}

// dnsMessage is the answers of one response, reused from message to
// message.
type dnsMessage struct {
	records [maxRecords]dnsRecord
	n       int
	spare   dnsRecord // read into when records is full
}

// readName reads the name at off in msg into out and returns the offset
// just past it (past the first pointer when compressed). Pointers must stay
// inside the message; more than maxJumps of them is a loop.
func readName(msg []byte, off int, out *dnsName) (int, error) {
	out.n = 0
	next := -1
	jumps := 0
	n := 0
	for {
		if off >= len(msg) {
			return 0, errDNSShort
		}
		c := int(msg[off])
		switch c & 0xc0 {
		case 0x00:
			if c == 0 {
				if next < 0 {
					next = off + 1
				}
				out.n = uint8(n)
				return next, nil
			}
			if off+1+c > len(msg) {
				return 0, errDNSShort
			}
			if n > 0 {
				if n >= maxName {
					return 0, errDNSNameLong
				}
				out.b[n] = '.'
				n++
			}
			if n+c > maxName {
				return 0, errDNSNameLong
			}
			for _, ch := range msg[off+1 : off+1+c] {
				if ch >= 'A' && ch <= 'Z' {
					ch += 'a' - 'A'
				}
				out.b[n] = ch
				n++
			}
			off += 1 + c
		case 0xc0:
			if off+1 >= len(msg) {
				return 0, errDNSShort
			}
			ptr := (c&0x3f)<<8 | int(msg[off+1])
			if ptr >= len(msg) || jumps >= maxJumps {
				return 0, errDNSPointer
			}
			jumps++
			if next < 0 {
				next = off + 2
			}
			off = ptr
		default: // 0x40 and 0x80: extended and reserved label types
			return 0, errDNSLabel
		}
	}
}

// parseDNS reads the answer section of a DNS response into m. Records other
// than A, AAAA and CNAME of class IN are skipped; a message whose answers
// are cut short keeps those read before the cut.
func parseDNS(msg []byte, m *dnsMessage) error {
	m.n = 0
	if len(msg) < 12 {
		return errDNSShort
	}
	if msg[2]&0x80 == 0 {
		return errDNSNotResp
	}
	qd := int(msg[4])<<8 | int(msg[5])
	an := int(msg[6])<<8 | int(msg[7])
	off := 12
	var scratch dnsName
	var err error
	for i := 0; i < qd; i++ {
		if off, err = readName(msg, off, &scratch); err != nil {
			return err
		}
		off += 4
		if off > len(msg) {
			return errDNSShort
		}
	}
	for i := 0; i < an; i++ {
		r := &m.spare
		if m.n < maxRecords {
			r = &m.records[m.n]
		}
		if off, err = readName(msg, off, &r.name); err != nil {
			return err
		}
		if off+10 > len(msg) {
			return errDNSShort
		}
		typ := int(msg[off])<<8 | int(msg[off+1])
		class := int(msg[off+2])<<8 | int(msg[off+3])
		rdlen := int(msg[off+8])<<8 | int(msg[off+9])
		off += 10
		if off+rdlen > len(msg) {
			return errDNSShort
		}
		rd := msg[off : off+rdlen]
		keep := false
		if class&0x7fff == 1 && m.n < maxRecords {
			switch {
			case typ == 1 && rdlen == 4:
				r.addr, r.cname, keep = netip.AddrFrom4([4]byte(rd)), false, true
			case typ == 28 && rdlen == 16:
				r.addr, r.cname, keep = netip.AddrFrom16([16]byte(rd)), false, true
			case typ == 5:
				if _, err := readName(msg, off, &r.target); err != nil {
					return err
				}
				r.cname, keep = true, true
			}
		}
		if keep {
			m.n++
		}
		off += rdlen
	}
	return nil
}

// head is the name a client asked for that led to record i's address:
// CNAMEs are followed backwards from the record's owner name, in any order
// of the answer section, at most maxChain links.
func (m *dnsMessage) head(i int) *dnsName {
	cur := &m.records[i].name
	for step := 0; step < maxChain; step++ {
		found := false
		for j := 0; j < m.n; j++ {
			r := &m.records[j]
			if r.cname && r.target.equal(cur) && !r.name.equal(cur) {
				cur = &r.name
				found = true
				break
			}
		}
		if !found {
			break
		}
	}
	return cur
}
