//go:build !amd64

package flow

import "unsafe"

// prefetch does nothing here: only amd64 has the instruction written
// (prefetch_amd64.s).
func prefetch(unsafe.Pointer) {}

// prefetchLines does nothing here either.
func prefetchLines(unsafe.Pointer, uintptr) {}
