package flow

import (
	"maps"
	"net/netip"
	"slices"
)

// Trackers of independent inputs (captures of different links, read on
// several cores) are combined with Merge. A service's figures do not
// depend on the order its connections finished in (its first-of evidence
// is that of its earliest connection by position), so merging trackers in
// file order gives the services and sweeps reading the files into one
// tracker would, provided no connection continues from one input into
// another (EndKeys and Misses tell) and no bound was reached.

// stableSeed hashes connection keys the same way in every tracker, so
// that EndKeys of one can be compared with Misses of another.
var stableSeed = connTable{seed: [4]uint64{0x9e3779b97f4a7c15, 0xbf58476d1ce4e5b9, 0x94d049bb133111eb, 0x2545f4914f6cdd1d}}

// RecordMisses makes the tracker remember the keys it looked up and did
// not find during its first longest-timeout of traffic (Misses): the
// packets that would have continued a connection of an earlier input, had
// the inputs been read into one tracker.
func (t *Tracker) RecordMisses() { t.recMisses = true }

// miss notes a key looked up and not found.
func (t *Tracker) miss(k *connKey) {
	if !t.missStarted {
		t.missStarted, t.missStart = true, t.now
	}
	if t.now-t.missStart < t.maxTimeout {
		t.misses = append(t.misses, stableSeed.hash(k))
	}
}

// Misses returns the keys (as hashes) RecordMisses recorded, sorted.
func (t *Tracker) Misses() []uint64 {
	out := slices.Clone(t.misses)
	slices.Sort(out)
	return slices.Compact(out)
}

// EndKeys returns the keys (as hashes, sorted) of the live connections
// and the number of IP datagrams waiting for fragments: what a following
// input could continue. Call it before Flush.
func (t *Tracker) EndKeys() (keys []uint64, fragments int) {
	t.conns.each(func(c *conn) { keys = append(keys, stableSeed.hash(&c.key)) })
	slices.Sort(keys)
	for i := range t.frags.slots {
		if t.frags.slots[i].used {
			fragments++
		}
	}
	return keys, fragments
}

// Bounded says whether a bound changed what the tracker kept: connections
// ended early (MaxConnections), services not kept (MaxServices), sweeps
// (whose boundaries depend on the order services arrive in), or sets that
// stopped growing (server TTLs, MACs).
func (t *Tracker) Bounded() bool {
	return t.stats.Evicted > 0 || t.stats.Unaggregated > 0 || t.stats.AddrMACsNotKept > 0 ||
		len(t.serverTTL) >= maxServerTTLs ||
		(t.sweeps != nil && len(t.sweeps.hosts)+len(t.sweeps.ports) > 0)
}

// ServiceCount is the number of services kept so far.
func (t *Tracker) ServiceCount() int { return t.services.len() }

// ContinueIDs makes t number its connections after prev's.
func (t *Tracker) ContinueIDs(prev *Tracker) { t.nextID = prev.nextID }

// Merge adds everything o tracked to t, as if o's connections had been
// folded into t after t's: services, sweeps, the servers' TTLs, the
// senders' MACs and the counters. Both trackers must have been flushed;
// o is not usable afterwards. The result depends only on the two
// trackers' contents, not on the order they were filled in.
func (t *Tracker) Merge(o *Tracker) {
	if t.sweeps != nil && o.sweeps != nil {
		t.sweeps.mergeSweeps(o.sweeps)
	}
	theirs := o.services.all()
	slices.SortFunc(theirs, func(a, b *svc) int { return a.ServiceKey.Compare(b.ServiceKey) })
	for _, v := range theirs {
		t.foldService(v)
	}
	for _, a := range slices.SortedFunc(maps.Keys(o.serverTTL), netip.Addr.Compare) {
		v := o.serverTTL[a]
		r, ok := t.serverTTL[a]
		if !ok && len(t.serverTTL) >= maxServerTTLs {
			continue
		}
		r[0], r[1] = widenTTLs(r[0], r[1], v[0], v[1])
		t.serverTTL[a] = r
	}
	for _, a := range slices.SortedFunc(maps.Keys(o.macs), netip.Addr.Compare) {
		e := o.macs[a]
		have, ok := t.macs[a]
		switch {
		case ok:
			have.add(e.mac)
			if e.n >= 2 {
				have.add(e.second)
			}
			if e.n >= 3 {
				have.n = 3
			}
			t.macs[a] = have
		case len(t.macs) < MaxAddrMACs:
			t.macs[a] = e
		default:
			t.stats.AddrMACsNotKept++
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(o.unaggregated), ServiceKey.Compare) {
		t.countUnaggregated(k)
	}
	if o.stats.UnaggregatedServicesMore {
		t.stats.UnaggregatedServicesMore = true
	}
	s, os := &t.stats, &o.stats
	s.Packets += os.Packets
	s.Ignored += os.Ignored
	s.Connections += os.Connections
	s.PeakLive = max(s.PeakLive, os.PeakLive)
	s.TimedOut += os.TimedOut
	s.Reused += os.Reused
	s.Evicted += os.Evicted
	s.Unaggregated += os.Unaggregated
	s.Swept += os.Swept
	s.ClockJumps += os.ClockJumps
	s.ICMPErrorsAttached += os.ICMPErrorsAttached
	s.ICMPErrorsUnmatched += os.ICMPErrorsUnmatched
	s.Fragments += os.Fragments
	s.FragmentsOrphaned += os.FragmentsOrphaned
	s.AddrMACsNotKept += os.AddrMACsNotKept
	t.nextID += o.nextID
}

// foldService adds o's service v to t as fold adds a connection.
func (t *Tracker) foldService(v *svc) {
	s, fresh, sw := t.route(v.ServiceKey, v.Connections, &keyHashes{})
	if sw != nil {
		t.sweeps.addService(sw, &v.Service)
	}
	if s == nil {
		return
	}
	if fresh {
		*s = *v
		return
	}
	s.ServerTTLMin, s.ServerTTLMax = widenTTLs(s.ServerTTLMin, s.ServerTTLMax, v.ServerTTLMin, v.ServerTTLMax)
	if v.RSTs > 0 && (s.RSTs == 0 || v.rstPos.Less(s.rstPos)) {
		s.RSTTTL, s.rstPos = v.RSTTTL, v.rstPos
	}
	if v.ICMPErrors > 0 && (s.ICMPErrors == 0 || v.icmpPos.Less(s.icmpPos)) {
		s.ICMPFrom, s.ICMPType, s.ICMPCode, s.icmpPos = v.ICMPFrom, v.ICMPType, v.ICMPCode, v.icmpPos
	}
	for _, n := range v.Names {
		i := slices.IndexFunc(s.Names, func(m ServiceName) bool { return m.Name == n.Name && m.Source == n.Source })
		switch {
		case i >= 0:
			s.Names[i].Connections += n.Connections
		case len(s.Names) < MaxServiceNames:
			s.Names = append(s.Names, n)
		}
	}
	for _, n := range v.DNSNames {
		if !slices.Contains(s.DNSNames, n) && len(s.DNSNames) < MaxServiceNames {
			s.DNSNames = append(s.DNSNames, n)
		}
	}
	s.RSTs += v.RSTs
	s.Counts.Add(&v.Counts)
	s.span(v.First, v.Last, v.FirstPos, v.FirstID)
	s.FirstUID.Merge(&v.FirstUID)
	for _, sp := range v.Spans {
		s.addSpan(sp, &t.arenas.spans)
	}
}

// mergeSweeps adds o's sweeps to w: the same sweep's counts add up and
// its servers or ports are united; a sweep w does not have is taken over.
func (w *sweeps) mergeSweeps(o *sweeps) {
	for _, k := range slices.SortedFunc(maps.Keys(o.hosts), func(a, b portKey) int { return o.hosts[a].Compare(o.hosts[b]) }) {
		os := o.hosts[k]
		s := w.hosts[k]
		if s == nil {
			s = &Sweep{Kind: SweepHosts, Client: os.Client, Proto: os.Proto, Ports: os.Ports, members: map[netip.Addr]struct{}{}}
			w.openHosts(k, s)
		}
		for _, a := range slices.SortedFunc(maps.Keys(os.members), netip.Addr.Compare) {
			w.member(s, ServiceKey{Client: os.Client, Server: a, Proto: os.Proto})
		}
		s.extend(os.ServerLo)
		s.extend(os.ServerHi)
		if os.ServersApprox {
			s.ServersApprox = true
			s.Servers += os.Servers - uint64(len(os.members))
		}
		s.addSweep(os)
	}
	for _, k := range slices.SortedFunc(maps.Keys(o.ports), func(a, b serverKey) int { return o.ports[a].Compare(o.ports[b]) }) {
		os := o.ports[k]
		s := w.ports[k]
		if s == nil {
			s = &Sweep{Kind: SweepPorts, Client: os.Client, Server: os.Server, Proto: os.Proto, Servers: 1,
				ServerLo: os.Server, ServerHi: os.Server, ports: new([1 << 13]byte)}
			w.openPorts(k, s)
		}
		for i, b := range os.ports {
			s.ports[i] |= b
		}
		s.addSweep(os)
	}
}

// addSweep adds o's counts to s.
func (s *Sweep) addSweep(o *Sweep) {
	if o.Connections == 0 {
		return
	}
	s.addCounts(&o.Counts, o.First, o.Last, o.FirstPos)
	s.FirstUID.Merge(&o.FirstUID)
}
