package prefetch

import "unsafe"

// Line asks for the cache line at p (prefetch_amd64.s).
//
//go:noescape
func Line(p unsafe.Pointer)

// Lines asks for the n bytes at p, a LineSize-byte line at a time.
//
//go:noescape
func Lines(p unsafe.Pointer, n uintptr)
