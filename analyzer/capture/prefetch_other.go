//go:build !amd64

package capture

const cacheLine = 64

// prefetchLines does nothing here: only amd64 has the instruction written
// out (prefetch_amd64.s).
func prefetchLines(*byte, int) {}
