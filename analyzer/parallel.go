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
	runs := make([]fileRun, len(paths))
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
			}
		}()
	}
	for i := range paths {
		work <- i
	}
	close(work)
	wg.Wait()

	// The links Run would see, and whether each can be merged as read.
	type link struct{ from, to int } // files [from, to)
	var links []link
	var last time.Time
	for i := range runs {
		c := &runs[i].r.res.Captures[0]
		if i == 0 || (c.Records == 0 && startsNewLink(c.start, last)) {
			links = append(links, link{i, i})
			last = time.Time{}
		}
		links[len(links)-1].to = i + 1
		if c.Records == 0 && c.Last.After(last) {
			last = c.Last
		}
	}
	maxServices := cfg.MaxServices
	if maxServices <= 0 {
		maxServices = flow.DefaultMaxServices
	}

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
		var ok bool
		if l.to-l.from == 1 {
			// Alone on its link: as read, unless its share of the
			// live bound changed what it kept.
			ok = shared.MaxConnections == maxLive || runs[l.from].r.tr.Stats().Evicted == 0
		} else {
			ok = mergeable(runs[l.from:l.to], maxLive, maxServices)
		}
		if testOnLink != nil && (l.to-l.from > 1 || !ok) {
			testOnLink(l.from, l.to, ok)
		}
		if ok {
			for i := l.from; i < l.to; i++ {
				add(runs[i].r, runs[i].err)
				trackers = append(trackers, runs[i].r.tr)
			}
			continue
		}
		// One link whose files share connections, or a file that
		// needed more than its share of the live bound: read it in
		// order, with the whole bound.
		r := newRunner(opts, cfg)
		r.oneLink = true
		var lerrs []error
		for i := l.from; i < l.to; i++ {
			runs[i] = fileRun{}
			if err := r.file(i, paths[i]); err != nil {
				lerrs = append(lerrs, err)
			}
		}
		r.tr.Flush()
		add(r, errors.Join(lerrs...))
		trackers = append(trackers, r.tr)
	}
	res.fill(trackers, sniffers, &skipped)
	return res, errors.Join(errs...)
}

// mergeable says whether the files of one link, each read into a tracker
// of its own, can be merged into what one tracker reading them in order
// would hold: no host name was learnt (a DNS answer names the
// connections that end after it, in any file), no connection live at the end of a file is looked up at the
// start of a later one, no later file starts with frames without a time
// (they take the time of the file before), no IP datagram waits for fragments, no bound
// changed what a tracker kept, and the live connections of all of them
// together never need more than the live table holds.
func mergeable(runs []fileRun, maxLive, maxServices int) bool {
	peak, services := 0, 0
	for i := range runs {
		fr := &runs[i]
		if fr.r.tr.Bounded() {
			return false
		}
		if fr.r.names != nil && fr.r.names.Seen() {
			// A DNS answer in one file names connections that end
			// after it, in any file of the link.
			return false
		}
		if i < len(runs)-1 && fr.frags > 0 {
			return false
		}
		if c := &fr.r.res.Captures[0]; i > 0 && !c.FlowLog && c.Packets > 0 && c.start.IsZero() {
			// Its first frames have no time: read in order they take
			// the time of the file before, on their own 1970.
			return false
		}
		peak += fr.peakLive
		services += fr.r.tr.ServiceCount()
		for j := range i {
			for _, k := range fr.misses {
				if _, found := slices.BinarySearch(runs[j].endKeys, k); found {
					return false
				}
			}
		}
	}
	return peak <= maxLive && services <= maxServices
}
