package names

import (
	"cmp"
	"net/netip"
	"slices"
	"sync"

	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// AnswerLog is the DNS answers a sensor logged (Zeek's dns.log: the name
// asked for, the addresses answered, to which client and when), for
// naming the connections of flow records as a Sniffer names a capture's
// from the answers it saw: the latest answer for the server's address that
// the client received at or before the connection's start (flow.NameDNS),
// else the latest other answer for the address before the start, or the
// earliest after it (flow.NameDNSOther); DNSName in any case.
//
// It differs from a Sniffer in what it keeps, not in how it chooses: a
// Sniffer names a connection when the tracker ends it, from the answers
// seen by then (the latest four per address and per client and address),
// while a log is read whole first, so every answer it holds counts, an
// answer after the connection ended too. The answers are bounded (Max);
// past it they are counted in Overflow and not kept.
//
// Add answers, then Name connections; Name may be called concurrently
// once the adding is done.
type AnswerLog struct {
	Max      int    // answers kept; 0: DefaultMaxAnswers
	Overflow uint64 // answers not kept: past Max

	answers []logAnswer
	byAddr  []int32 // answers by (address, time), for any client
	intern  map[string]string
	nm      dnsName
	index   sync.Once
}

// DefaultMaxAnswers bounds the answers an AnswerLog keeps (about 80 bytes
// each, the names shared).
const DefaultMaxAnswers = 1 << 20

type logAnswer struct {
	addr, client netip.Addr
	t            int64
	name         string
	seq          uint32 // the order of Add
}

// Add records that DNS answered client's question for name with addr at
// t (Unix nanoseconds: when the response came). A name that is no host
// name (as cleanName holds a capture's DNS names to) is not recorded and
// Add reports false; an answer past Max is counted in Overflow.
func (l *AnswerLog) Add(client, addr netip.Addr, name []byte, t int64) bool {
	if !cleanName(name, &l.nm) {
		return false
	}
	max := l.Max
	if max <= 0 {
		max = DefaultMaxAnswers
	}
	if len(l.answers) >= max {
		l.Overflow++
		return true
	}
	if l.intern == nil {
		l.intern = map[string]string{}
	}
	n, ok := l.intern[string(l.nm.bytes())]
	if !ok {
		n = string(l.nm.bytes())
		l.intern[n] = n
	}
	l.answers = append(l.answers, logAnswer{addr: addr.Unmap(), client: client.Unmap(), t: t, name: n, seq: uint32(len(l.answers))})
	return true
}

// Len is the number of answers kept.
func (l *AnswerLog) Len() int { return len(l.answers) }

// sort orders the answers by (address, client, time) and byAddr by
// (address, time), answers at the same time in the order added: the one
// added last is the latest and the one added first the earliest, as in a
// Sniffer's ring.
func (l *AnswerLog) sort() {
	slices.SortStableFunc(l.answers, func(a, b logAnswer) int {
		if c := a.addr.Compare(b.addr); c != 0 {
			return c
		}
		if c := a.client.Compare(b.client); c != 0 {
			return c
		}
		return cmp.Compare(a.t, b.t)
	})
	l.byAddr = make([]int32, len(l.answers))
	for i := range l.byAddr {
		l.byAddr[i] = int32(i)
	}
	slices.SortFunc(l.byAddr, func(i, j int32) int {
		a, b := &l.answers[i], &l.answers[j]
		if c := a.addr.Compare(b.addr); c != 0 {
			return c
		}
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
}

// Name names c from the answers (flow.Namer), as Sniffer.Name does.
func (l *AnswerLog) Name(c *flow.Connection) {
	if len(l.answers) == 0 {
		return
	}
	l.index.Do(l.sort)
	start := c.Start.UnixNano()
	addr, client := c.Resp.Unmap(), c.Orig.Unmap()
	var a *logAnswer
	src := flow.NameNone
	// The client's own answers for addr: the latest at or before start.
	lo, _ := slices.BinarySearchFunc(l.answers, logAnswer{addr: addr, client: client}, func(x, k logAnswer) int {
		if c := x.addr.Compare(k.addr); c != 0 {
			return c
		}
		return x.client.Compare(k.client)
	})
	hi, _ := slices.BinarySearchFunc(l.answers[lo:], start, func(x logAnswer, t int64) int {
		if x.addr != addr || x.client != client || x.t > t {
			return 1
		}
		return -1
	})
	if hi > 0 {
		a, src = &l.answers[lo+hi-1], flow.NameDNS
	}
	if src == flow.NameNone {
		// Any client's: the latest at or before start, else the
		// earliest after it.
		lo, _ := slices.BinarySearchFunc(l.byAddr, addr, func(i int32, k netip.Addr) int { return l.answers[i].addr.Compare(k) })
		n, _ := slices.BinarySearchFunc(l.byAddr[lo:], start, func(i int32, t int64) int {
			if x := &l.answers[i]; x.addr != addr || x.t > t {
				return 1
			}
			return -1
		})
		switch {
		case n > 0:
			a, src = &l.answers[l.byAddr[lo+n-1]], flow.NameDNSOther
		case lo < len(l.byAddr) && l.answers[l.byAddr[lo]].addr == addr:
			a, src = &l.answers[l.byAddr[lo]], flow.NameDNSOther
		}
	}
	if src == flow.NameNone {
		return
	}
	c.DNSName = a.name
	if c.NameSource == flow.NameNone {
		c.ServerName, c.NameSource = a.name, src
	}
}
