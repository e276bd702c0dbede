//go:build !linux

package capture

import "errors"

// Elsewhere files are read through the buffered path.
func mapRange(uintptr, int64, int) ([]byte, error) { return nil, errors.ErrUnsupported }

func unmapRange([]byte) {}

// Nor is a file shared (Share): it is not mapped.
func dupFD(uintptr) (int, error) { return -1, errors.ErrUnsupported }

func closeFD(int) {}
