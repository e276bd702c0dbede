package flow

import "unsafe"

// prefetch asks the CPU to bring the cache line at p into its caches,
// without waiting for it (prefetch_amd64.s).
//
//go:noescape
func prefetch(p unsafe.Pointer)

// prefetchLines asks the CPU to bring the n bytes at p into its caches,
// a 64-byte line at a time.
//
//go:noescape
func prefetchLines(p unsafe.Pointer, n uintptr)
