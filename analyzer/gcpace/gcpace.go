// Package gcpace paces the garbage collector for a run like flowaudit's:
// a command reads its inputs into tables bounded by its flags, keeps
// most of what it allocates until it reports, and exits. Under the
// default pacing (GOGC=100) such a heap is collected each time it
// doubles, from 4 MiB up: on the make-bench capture, five collections
// that mark the tables again and again, with write barriers on while they
// are filled, for garbage of a few tens of megabytes.
//
// Start lets the heap grow to a floor before the first collection, and
// after each collection to the larger of the floor and the default
// pacing's goal (twice the live heap, plus the roots). A run whose heap
// stays under the floor is never collected; a larger one is paced as by
// GOGC=100, never more often, so a heap that approaches a limit cannot
// make the collector run without end, as a memory limit (GOMEMLIMIT)
// below the live heap would. Peak memory is at most the floor more than
// under the default pacing.
//
// GOGC or GOMEMLIMIT in the environment is the user's choice: Start then
// leaves the collector as the runtime set it.
package gcpace

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// heapMinimum is the runtime's smallest heap goal at GOGC=100 (it scales
// with GOGC): the goal before the first collection.
const heapMinimum = 4 << 20

// pacer re-sets GOGC after each collection.
type pacer struct {
	floor   uint64
	samples []metrics.Sample
	set     func(int) int // debug.SetGCPercent, or a test's
	stopped atomic.Bool   // a test's pacer is done
}

var started sync.Once

// Start paces the collector of the process as the package describes,
// with the given floor in bytes, unless GOGC or GOMEMLIMIT is set in the
// environment. Only the first call has an effect. It reports whether the
// pacing was set.
func Start(floor uint64) bool {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return false
	}
	on := false
	started.Do(func() {
		p := &pacer{floor: floor, set: debug.SetGCPercent}
		p.start()
		on = true
	})
	return on
}

func (p *pacer) start() {
	p.samples = []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/gc/scan/globals:bytes"},
		{Name: "/gc/scan/stack:bytes"},
	}
	p.after()
	p.arm()
}

// arm has after run once the next collection has ended: a finalizer runs
// when the collector has found its object unreachable, and re-arms.
func (p *pacer) arm() {
	runtime.SetFinalizer(new(sentinel), func(*sentinel) {
		if p.stopped.Load() {
			return
		}
		p.after()
		p.arm()
	})
}

// sentinel is the object whose finalizer marks the end of a collection.
// It holds a pointer so that it is allocated on its own: a finalizer set
// on a zero-sized or tiny pointer-free object may never run.
type sentinel struct{ _ *int }

// after sets GOGC for the next collection from the heap the last one left
// (none before the first).
func (p *pacer) after() {
	metrics.Read(p.samples)
	var v [3]uint64
	for i, s := range p.samples {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	p.set(percentFor(p.floor, v[0], v[1]+v[2]))
}

// percentFor is the GOGC whose goal, after a collection that left live
// bytes of heap (0 before the first) and roots bytes of globals and
// stacks, is the floor, but never under 100. The runtime's goal is
// live + (live+roots)*GOGC/100, and at least 4 MiB*GOGC/100.
func percentFor(floor, live, roots uint64) int {
	if floor <= live {
		return 100
	}
	p := floor * 100 / heapMinimum
	if live+roots > 0 {
		p = min(p, (floor-live)*100/(live+roots))
	}
	return int(max(100, p))
}
