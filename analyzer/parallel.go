package analyzer

import (
	"errors"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/names"
)

// fileRun is one file read on its own (Options.Parallel).
type fileRun struct {
	r        *runner
	err      error
	endKeys  []uint64 // live connections at its end (flow.Tracker.EndKeys)
	frags    int      // datagrams waiting for fragments at its end
	misses   []uint64 // keys looked up and not found at its start
	peakLive int
}

// testOnLink, when set by a test, is told of each link of several files:
// merged as read, or read again in order.
var testOnLink func(from, to int, merged bool)

// testOnRetained, when set by a test, is told after each later file of a
// link is merged how many of the files read so far still hold a tracker.
var testOnRetained func(file, trackers int)

// runParallel reads each file on its own core, into a tracker of its own
// (the files read at once share the live-connection bound), then puts the
// files together as Run would read them in order: a file that needed more
// than its share of the bound is read again; files of
// one link (each starts within linkSlack of the latest packet before it,
// or later) are merged only when no connection could have continued from
// one into the next and no bound was reached; otherwise that link is read
// again, in order, in one tracker. The links are then merged in order, as
// Run merges them.
func runParallel(paths []string, opts Options, cfg flow.Config) (*Result, error) {
	if opts.Progress != nil {
		var mu sync.Mutex
		fn := opts.Progress
		opts.Progress = func(p Progress) {
			mu.Lock()
			defer mu.Unlock()
			fn(p)
		}
	}
	maxLive := cfg.MaxConnections
	if maxLive <= 0 {
		maxLive = flow.DefaultMaxConnections
	}
	// The files read at once share the live-connection bound, so that
	// memory stays what one table of --max-connections takes, whatever
	// the cores: a file that needs more than its share (it ended
	// connections early) is read again on its own, with the whole bound,
	// as reading in order would (its first reading stops there).
	workers := min(runtime.GOMAXPROCS(0), len(paths))
	shared := cfg
	shared.MaxConnections = max(1, maxLive/workers)
	maxServices := cfg.MaxServices
	if maxServices <= 0 {
		maxServices = flow.DefaultMaxServices
	}
	runs := make([]fileRun, len(paths))
	done := make([]chan struct{}, len(paths))
	for i := range done {
		done[i] = make(chan struct{})
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				fr := &runs[i]
				fr.r = newRunner(opts, shared)
				fr.r.stopIfEvicted = shared.MaxConnections < maxLive
				fr.r.oneLink = true
				fr.r.tr.RecordMisses()
				fr.err = fr.r.file(i, paths[i])
				fr.endKeys, fr.frags = fr.r.tr.EndKeys()
				fr.misses = fr.r.tr.Misses()
				fr.r.tr.Flush()
				fr.peakLive = fr.r.tr.Stats().PeakLive
				close(done[i])
			}
		}()
	}
	go func() {
		for i := range paths {
			work <- i
		}
		close(work)
	}()

	// The links Run would see, taken in file order as the files finish:
	// the files of a link are merged into one tracker as they come while
	// the link stays mergeable (so that memory holds one table of
	// services per link, as reading in order does, not one per file);
	// a link that is not is dropped at once and read again, in order,
	// once every file has been read.
	type link struct {
		from, to int           // files [from, to)
		acc      *flow.Tracker // the files merged so far; nil once the link must be read again
		peak     int
		services int
	}
	var links []*link
	var last time.Time
	drop := func(l *link) {
		l.acc = nil
		for i := l.from; i < l.to; i++ {
			runs[i].r.tr = nil
			runs[i].endKeys, runs[i].misses = nil, nil
		}
	}
	closeLink := func(l *link) {
		ok := l.acc != nil
		if ok && l.to-l.from == 1 {
			// Alone on its link: as read, unless its share of the
			// live bound changed what it kept.
			ok = shared.MaxConnections == maxLive || runs[l.from].r.tr.Stats().Evicted == 0
		}
		if testOnLink != nil && (l.to-l.from > 1 || !ok) {
			testOnLink(l.from, l.to, ok)
		}
		if !ok {
			drop(l)
		}
	}
	for i := range paths {
		<-done[i]
		fr := &runs[i]
		c := &fr.r.res.Captures[0]
		if i == 0 || (c.Records == 0 && startsNewLink(c.start, last)) {
			if len(links) > 0 {
				closeLink(links[len(links)-1])
			}
			links = append(links, &link{from: i, to: i, acc: fr.r.tr})
			last = time.Time{}
		}
		if c.Records == 0 && c.Last.After(last) {
			last = c.Last
		}
		l := links[len(links)-1]
		l.to = i + 1
		if l.acc == nil {
			fr.r.tr = nil // the link is read again
			continue
		}
		if i == l.from {
			l.peak, l.services = fr.peakLive, fr.r.tr.ServiceCount()
			continue
		}
		// A later file of the link: the first must be mergeable too.
		if (i == l.from+1 && !mergeable(runs, l.from, l.from)) || !mergeable(runs, l.from, i) ||
			l.peak+fr.peakLive > maxLive || l.services+fr.r.tr.ServiceCount() > maxServices {
			drop(l)
			continue
		}
		l.peak += fr.peakLive
		l.services += fr.r.tr.ServiceCount()
		l.acc.Merge(fr.r.tr)
		fr.r.tr = nil
		if testOnRetained != nil {
			n := 0
			for j := range i + 1 {
				if runs[j].r != nil && runs[j].r.tr != nil {
					n++
				}
			}
			testOnRetained(i, n)
		}
	}
	closeLink(links[len(links)-1])
	wg.Wait()

	res := &Result{}
	var skipped [256]uint64
	var trackers []*flow.Tracker
	var sniffers []*names.Sniffer
	var errs []error
	add := func(r *runner, err error) {
		sniffers = append(sniffers, r.sniffers...)
		res.Captures = append(res.Captures, r.res.Captures...)
		res.Packets += r.res.Packets
		res.Bytes += r.res.Bytes
		res.WireBytes += r.res.WireBytes
		res.Decoded += r.res.Decoded
		res.Records += r.res.Records
		res.DecodeErrors += r.res.DecodeErrors
		if res.FirstDecodeError == nil {
			res.FirstDecodeError = r.res.FirstDecodeError
		}
		for i, n := range r.skipped {
			skipped[i] += n
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, l := range links {
		if l.acc != nil {
			for i := l.from; i < l.to; i++ {
				add(runs[i].r, runs[i].err)
			}
			trackers = append(trackers, l.acc)
			continue
		}
		// One link whose files share connections, or a file that
		// needed more than its share of the live bound: read it in
		// order, with the whole bound.
		// The files were hashed whole by the first reading: their
		// digests are kept, not computed again.
		ropts := opts
		var first []Capture
		for i := l.from; i < l.to; i++ {
			c := runs[i].r.res.Captures[0]
			ropts.NoHash = ropts.NoHash || c.SHA256 != ""
			first = append(first, c)
			runs[i] = fileRun{}
		}
		for _, c := range first {
			if c.SHA256 == "" {
				ropts.NoHash = opts.NoHash
			}
		}
		r := newRunner(ropts, cfg)
		r.oneLink = true
		var lerrs []error
		for i := l.from; i < l.to; i++ {
			if err := r.file(i, paths[i]); err != nil {
				lerrs = append(lerrs, err)
			}
		}
		if ropts.NoHash && !opts.NoHash {
			for k := range r.res.Captures {
				r.res.Captures[k].SHA256, r.res.Captures[k].Size = first[k].SHA256, first[k].Size
			}
		}
		r.tr.Flush()
		add(r, errors.Join(lerrs...))
		trackers = append(trackers, r.tr)
	}
	res.fill(trackers, sniffers, &skipped, opts.ForAudit)
	return res, errors.Join(errs...)
}

// mergeable says whether file k of the link that starts at file from,
// read into a tracker of its own, can be merged with the files before it
// into what one tracker reading them in order would hold: no host name
// was learnt (a DNS answer names the connections that end after it, in
// any file), no connection live at the end of an earlier file is looked
// up at its start, it does not start with frames without a time (they
// take the time of the file before), no IP datagram waits for fragments
// at the end of the file before, and no bound changed what its tracker
// kept. runParallel checks too that the live connections and services of
// the link's files together stay within the bounds.
func mergeable(runs []fileRun, from, k int) bool {
	fr := &runs[k]
	if fr.r.tr.Bounded() {
		return false
	}
	if fr.r.names != nil && fr.r.names.Seen() {
		// A DNS answer in one file names connections that end
		// after it, in any file of the link.
		return false
	}
	if k == from {
		return true
	}
	if runs[k-1].frags > 0 {
		return false
	}
	if c := &fr.r.res.Captures[0]; !c.FlowLog && c.Packets > 0 && c.start.IsZero() {
		// Its first frames have no time: read in order they take
		// the time of the file before, on their own 1970.
		return false
	}
	for j := from; j < k; j++ {
		for _, key := range fr.misses {
			if _, found := slices.BinarySearch(runs[j].endKeys, key); found {
				return false
			}
		}
	}
	return true
}
