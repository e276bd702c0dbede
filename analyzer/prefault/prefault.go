// Package prefault makes the pages of a freshly allocated slice present
// for writing before it is filled.
//
// A large slice of structs with pointers, allocated while the collector
// is marking, is filled through write barriers that read each slot's old
// value first. On memory fresh from the operating system that read maps
// the shared zero page, and the write that follows faults again to copy
// it, flushing the TLB of every core the process runs on (an
// inter-processor interrupt to the core hashing the captures). Writing
// one byte of zero to each page first takes one fault per page and no
// flush. The zero is what the fresh memory holds: nothing changes.
package prefault

import "unsafe"

// pageSize is the smallest page of the platforms flowaudit runs on; on
// larger pages the extra writes find the page present.
const pageSize = 4096

// Slice writes a zero byte to each page of s's elements. s must be freshly
// allocated (all zero) and not yet shared with another goroutine.
func Slice[T any](s []T) {
	if len(s) == 0 {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(s))
	n := uintptr(len(s)) * unsafe.Sizeof(s[0])
	for off := uintptr(0); off < n; off += pageSize {
		*(*byte)(unsafe.Add(p, off)) = 0
	}
}
