package capture

import (
	"errors"
	"fmt"
)

// Sentinel causes; an *Error wraps one of them (test with errors.Is) when the
// problem is one the reader recognises itself.
var (
	// ErrEmpty: the input has no bytes at all.
	ErrEmpty = errors.New("empty file")
	// ErrUnknownFormat: the input starts with neither a pcap, a pcapng nor a
	// gzip magic number.
	ErrUnknownFormat = errors.New("not a pcap or pcapng file")
	// ErrTruncated: the input ends inside a file header, record or block.
	ErrTruncated = errors.New("file is cut short")
	// ErrCorrupt: a header field is impossible (a length that does not fit,
	// a bad byte-order magic, lengths that disagree).
	ErrCorrupt = errors.New("file is corrupt")
	// ErrUnsupported: a well-formed variant this reader does not read
	// (another pcap or pcapng version, modified pcap).
	ErrUnsupported = errors.New("unsupported capture format")
)

// Error is a read error with its position: the file, the byte offset in the
// (decompressed) file of the record or block that failed (0 for the file
// header) and the 1-based number of the frame being read (0 while the file
// header is read). Packets before it were delivered.
type Error struct {
	Path   string
	Offset int64
	Frame  uint64
	Err    error
}

func (e *Error) Error() string {
	name := e.Path
	if name == "-" {
		name = "<stdin>"
	}
	if e.Frame == 0 {
		return fmt.Sprintf("%s: offset %d: %v", name, e.Offset, e.Err)
	}
	return fmt.Sprintf("%s: offset %d, frame %d: %v", name, e.Offset, e.Frame, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// blockError describes a pcapng block whose framing is impossible; it is
// found by the framer below pcapgo, before pcapgo reads the block.
type blockError struct {
	kind   error // ErrCorrupt or ErrTruncated or ErrUnsupported
	offset int64
	frame  uint64
	msg    string
}

func (e *blockError) Error() string { return e.msg }
func (e *blockError) Unwrap() error { return e.kind }

// CutShort reports whether err is a capture that ends inside its last
// record or block (tcpdump killed, a file copied while it was written):
// every record before it was complete. A damaged gzip layer is not cut
// short in this sense; nor is a file cut inside its file header, nor one
// that shrank while it was read (a copytruncate rotation): the records
// it held past the cut were never read.
func CutShort(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Frame > 0 && errors.Is(err, ErrTruncated) && !errors.Is(err, ErrGzip) && !errors.Is(err, errChanged)
}
