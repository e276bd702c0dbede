package gcpace

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestPercentFor: the goal is the floor while the heap is small, GOGC=100's
// beyond, never below it.
func TestPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		floor, live, roots uint64
		want               int
	}{
		{256 * mib, 0, 0, 6400},               // nothing yet: the smallest goal, 4 MiB * 64
		{256 * mib, 0, 10 * mib, 2560},        // before the first collection: the roots * 25.6
		{2 * mib, 0, 0, 100},                  // a floor under the runtime's minimum
		{256 * mib, 10 * mib, 10 * mib, 1230}, // 10 + 20*12.3 = 256 MiB
		{256 * mib, 120 * mib, 10 * mib, 104},
		{256 * mib, 200 * mib, 10 * mib, 100}, // the default's goal (410) is larger
		{256 * mib, 300 * mib, 0, 100},
	} {
		if got := percentFor(c.floor, c.live, c.roots); got != c.want {
			t.Errorf("percentFor(%d MiB, %d MiB, %d MiB) = %d, want %d", c.floor/mib, c.live/mib, c.roots/mib, got, c.want)
		}
		// The goal the runtime computes from the percent is the floor (to
		// a percent's rounding) or GOGC=100's, whichever is larger.
		if c.live+c.roots > 0 {
			p := uint64(percentFor(c.floor, c.live, c.roots))
			goal := c.live + (c.live+c.roots)*p/100
			def := 2*c.live + c.roots
			if goal < def || (goal > max(c.floor, def) && goal-max(c.floor, def) > (c.live+c.roots)/100) {
				t.Errorf("floor %d MiB, live %d MiB: goal %d MiB, want max(floor, %d MiB)", c.floor/mib, c.live/mib, goal/mib, def/mib)
			}
		}
	}
}

// TestPacerFollowsCollections: after each collection the pacer sets the
// percent from the live heap it finds: high while the heap is small, 100
// once the live heap passes the floor.
func TestPacerFollowsCollections(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	set := make(chan int, 64)
	p := &pacer{floor: 64 << 20, set: func(v int) int {
		select {
		case set <- v:
		default: // never block the finalizers
		}
		return debug.SetGCPercent(v)
	}}
	p.start()
	defer p.stopped.Store(true)
	if got := <-set; got != 1600 {
		t.Fatalf("first percent %d, want 1600 (the floor, 64 MiB, over the smallest goal, 4 MiB, the test binary's heap and roots being smaller)", got)
	}
	// wait runs collections until the pacer has set a percent after one.
	wait := func() int {
		for range 200 {
			runtime.GC()
			select {
			case v := <-set:
				return v
			case <-time.After(10 * time.Millisecond):
			}
		}
		t.Fatal("the pacer set nothing after 200 collections")
		return 0
	}
	if got := wait(); got <= 100 {
		t.Errorf("small heap: percent %d, want more than 100", got)
	}
	keep := make([]byte, 96<<20) // live past the floor
	for i := range keep {
		keep[i] = 1
	}
	// A collection that ended before keep was live may be reported first;
	// the one after must see it.
	if got := wait(); got != 100 {
		if got < 100 {
			t.Fatalf("percent %d, under 100", got)
		}
		if got := wait(); got != 100 {
			t.Fatalf("live heap past the floor: percent %d, want 100", got)
		}
	}
	runtime.KeepAlive(keep)
}

// TestStartLeavesTheUsersChoice: GOGC or GOMEMLIMIT in the environment
// turns the pacing off.
func TestStartLeavesTheUsersChoice(t *testing.T) {
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, map[string]string{"GOGC": "100", "GOMEMLIMIT": "1GiB"}[env])
			if Start(1 << 30) {
				t.Errorf("%s set: Start paced the collector", env)
			}
		})
	}
}
