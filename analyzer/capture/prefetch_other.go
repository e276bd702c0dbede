//go:build !amd64

package capture

// prefetchLines does nothing here: only amd64 has the instruction written
// out (prefetch_amd64.s).
func prefetchLines(*byte, int) {}
