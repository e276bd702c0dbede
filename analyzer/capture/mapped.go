package capture

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"unsafe"

	"github.com/flowaudit/flowaudit/analyzer/prefetch"
)

// mapWindow is how much of a file is mapped at a time: the memory a mapped
// read holds, whatever the file's size. It is a multiple of the page size.
// A Share maps shareWindow at a time (its windows are unmapped while
// another core hashes the file, and each unmap interrupts that core).
var mapWindow = 8 << 20

// shareWindow is how much of a file a Share maps at a time. Each window
// unmapped interrupts every other core the process runs on (a TLB flush),
// the one hashing the capture among them: 32 MiB windows take a fourth of
// the interrupts 8 MiB ones did (on the make-bench capture, the digest's
// window changes took 15-20 ms of analyze's run, now 9). A lone reader
// keeps mapWindow: it gains nothing from larger ones.
var shareWindow = 32 << 20

// mapping reads a regular file through a sliding read-only memory map of
// the file, one window at a time, in place of read system calls: the
// bytes come from the page cache with a plain copy and no system call per
// buffer. On the make-bench capture that is about 5% of the whole run of
// `flowaudit flows`.
//
// The file is read as it was when it was opened: bytes appended later are
// not read. A file truncated while it is read (a copytruncate rotation)
// makes the kernel raise SIGBUS on the pages that are gone; reads run with
// debug.SetPanicOnFault, so that becomes an error, never a crash.
type mapping struct {
	fd   uintptr
	size int64  // file size when opened
	base int64  // file offset of win[0]
	win  []byte // the mapped window
	off  int    // read position in win
	pf   int    // win is prefetched up to here
	err  error  // sticky: io.EOF, or why the input failed

	// sh, when set, is the mapping of the file this cursor shares with
	// others (Share); cur is this cursor's index in it.
	sh  *shared
	cur int
}

// errChanged is the cause when the mapped file shrank under the reader.
var errChanged = errors.New("the file shrank while it was being read")

// mapFile maps the start of f if it is a regular file read from its
// beginning and mapping is supported here; otherwise it returns nil and
// f is untouched.
func mapFile(f *os.File) *mapping {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() < 24 {
		return nil
	}
	if off, err := f.Seek(0, io.SeekCurrent); err != nil || off != 0 {
		return nil
	}
	m := &mapping{fd: f.Fd(), size: st.Size()}
	if m.mapAt(0) != nil {
		return nil
	}
	return m
}

// mapAt replaces the window by the one starting at base.
func (m *mapping) mapAt(base int64) error {
	if m.sh != nil {
		return m.sh.move(m, base)
	}
	if m.win != nil {
		unmapRange(m.win)
		m.win = nil
	}
	m.base, m.off, m.pf = base, 0, 0
	if base >= m.size {
		return io.EOF
	}
	b, err := mapRange(m.fd, base, int(min(int64(mapWindow), m.size-base)))
	if err != nil {
		return fmt.Errorf("mapping offset %d: %w", base, err)
	}
	m.win = b
	return nil
}

func (m *mapping) Read(p []byte) (n int, err error) {
	if m.err != nil {
		return 0, m.err
	}
	if m.off == len(m.win) {
		if err := m.mapAt(m.base + int64(len(m.win))); err != nil {
			m.err = err
			return 0, err
		}
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil { // SIGBUS: the page is no longer in the file
			n, err = 0, fmt.Errorf("%w: %w (at offset %d)", ErrTruncated, errChanged, m.pos())
			m.err = err
		}
	}()
	n = copy(p, m.win[m.off:])
	m.off += n
	return n, nil
}

// WriteTo writes the rest of the file to w straight from the map, a
// window at a time, without copying it: how a digest reads a file
// (MapFile). A file that shrank under the map is an error, as for Read.
func (m *mapping) WriteTo(w io.Writer) (n int64, err error) {
	for m.err == nil {
		if m.off == len(m.win) {
			if err := m.mapAt(m.base + int64(len(m.win))); err != nil {
				m.err = err
				break
			}
		}
		k, err := m.writeWindow(w)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	if m.err == io.EOF {
		return n, nil
	}
	return n, m.err
}

// writeWindow writes the rest of the window to w, turning a fault on a
// page the file no longer has into an error.
func (m *mapping) writeWindow(w io.Writer) (n int, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			n, err = 0, fmt.Errorf("%w: %w (at offset %d)", ErrTruncated, errChanged, m.pos())
			m.err = err
		}
	}()
	n, err = w.Write(m.win[m.off:])
	m.off += n
	return n, err
}

// MapFile returns a reader of the regular file f, open at its start,
// through a sliding memory map (see mapping), or nil when f cannot be
// mapped here. io.Copy from it writes each mapped window to its
// destination without a copy or a read system call (WriteTo): the
// SHA-256 of a capture costs the hash alone. Close unmaps it; f stays
// open.
func MapFile(f *os.File) io.ReadCloser {
	if m := mapFile(f); m != nil {
		return m
	}
	return nil
}

// cacheLine is the unit prefetch.Lines works in.
const cacheLine = prefetch.LineSize

// prefetch asks the CPU to start loading the window's bytes up to ahead
// bytes past the read position, skipping lines it asked for before. It
// never waits for memory and never faults, even on pages a truncation took
// away.
func (m *mapping) prefetch(ahead int) {
	end := min(m.off+ahead, len(m.win))
	m.pf = max(m.pf, m.off)
	if n := end - m.pf; n >= cacheLine {
		prefetch.Lines(unsafe.Pointer(&m.win[m.pf]), uintptr(n))
		m.pf += n &^ (cacheLine - 1)
	}
}

// pos is the file offset of the next byte Read returns.
func (m *mapping) pos() int64 { return m.base + int64(m.off) }

func (m *mapping) Close() error {
	if m.sh != nil {
		m.sh.leave(m)
		return nil
	}
	if m.win != nil {
		unmapRange(m.win)
		m.win = nil
	}
	return nil
}
