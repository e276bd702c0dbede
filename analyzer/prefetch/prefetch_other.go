//go:build !amd64

package prefetch

import "unsafe"

// Line does nothing here: only amd64 has the instruction written
// (prefetch_amd64.s).
func Line(unsafe.Pointer) {}

// Lines does nothing here either.
func Lines(unsafe.Pointer, uintptr) {}
