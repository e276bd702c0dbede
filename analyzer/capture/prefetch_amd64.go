package capture

// prefetchLines asks the CPU to bring the n bytes at p into its caches
// (PREFETCHT0, one instruction per 64-byte line). It returns at once, and
// an address that is not mapped, or no longer backed by its file, is
// ignored rather than faulting.
//
//go:noescape
func prefetchLines(p *byte, n int)
