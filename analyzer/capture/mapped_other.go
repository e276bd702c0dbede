//go:build !linux

package capture

import "errors"

// Elsewhere files are read through the buffered path.
func mapRange(uintptr, int64, int) ([]byte, error) { return nil, errors.ErrUnsupported }

func unmapRange([]byte) {}
