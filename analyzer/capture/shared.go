package capture

import (
	"fmt"
	"io"
	"math"
	"os"
	"sync"
)

// Share maps the regular file f, open at its start, once for n readers
// that each read all of it in order, at their own pace, on their own
// goroutines: the capture reader (NewReader given one) and the digest (a
// Reader's WriteTo, as from MapFile). Each window of the file is mapped,
// its pages populated, by the first reader to reach it and used in place
// by the others, so a file read and hashed at once costs one mapping
// instead of two. It returns nil when f cannot be mapped here (a pipe,
// another platform); f stays the caller's to close, the readers keep a
// duplicate of its descriptor until the last is closed.
//
// The readers see the file as it was when Share was called, the same
// bytes for each: a digest taken through one names exactly what the other
// read. Closing a reader before its end (a capture that failed, a file
// that was not a capture) lets the others go on without it.
func Share(f *os.File, n int) []io.ReadCloser {
	return share(f, n, shareWindow)
}

// ShareSmall is Share with the windows of a lone reader (8 MiB, not 32):
// for a file read while others are (--parallel), whose windows add up.
func ShareSmall(f *os.File, n int) []io.ReadCloser {
	return share(f, n, mapWindow)
}

func share(f *os.File, n, size int) []io.ReadCloser {
	if n < 1 {
		return nil
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() < 24 {
		return nil
	}
	if off, err := f.Seek(0, io.SeekCurrent); err != nil || off != 0 {
		return nil
	}
	fd, err := dupFD(f.Fd())
	if err != nil {
		return nil
	}
	sh := &shared{fd: fd, size: st.Size(), window: size, wins: map[int64]*window{}, at: make([]int64, n), open: n}
	out := make([]io.ReadCloser, n)
	cursors := make([]*mapping, n)
	for i := range n {
		cursors[i] = &mapping{fd: uintptr(fd), size: sh.size, sh: sh, cur: i}
	}
	// The first window now, as mapFile does: a file that cannot be
	// mapped is read the plain way, and said so before anything is read.
	if err := cursors[0].mapAt(0); err != nil {
		for _, m := range cursors {
			m.Close()
		}
		return nil
	}
	for i, m := range cursors {
		if i > 0 {
			if err := m.mapAt(0); err != nil {
				m.err = err
			}
		}
		out[i] = m
	}
	return out
}

// maxWaiting is how many windows the readers of a Share keep mapped for a
// reader that lags behind (besides the windows they are in): 32 MiB of
// the page cache at the default shareWindow. A window the leading reader
// leaves beyond that is unmapped, and the one behind maps it again.
const maxWaiting = 1

// shared is the state of a Share: the mapped windows and where each
// reader is.
type shared struct {
	mu     sync.Mutex
	fd     int
	size   int64
	window int               // bytes mapped at a time: shareWindow, or mapWindow (ShareSmall)
	wins   map[int64]*window // mapped windows by file offset
	at     []int64           // each reader's window offset; math.MaxInt64 once closed
	open   int               // readers not closed
}

// window is a mapped window of a shared file.
type window struct {
	b     []byte
	users int // readers in it
}

// move takes reader m from its window to the one at base (io.EOF past the
// end of the file).
func (s *shared) move(m *mapping, base int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.release(m)
	m.base, m.off, m.pf = base, 0, 0
	s.at[m.cur] = base
	if base >= s.size {
		return io.EOF
	}
	w := s.wins[base]
	if w == nil {
		b, err := mapRange(uintptr(s.fd), base, int(min(int64(s.window), s.size-base)))
		if err != nil {
			return fmt.Errorf("mapping offset %d: %w", base, err)
		}
		w = &window{b: b}
		s.wins[base] = w
	}
	w.users++
	m.win = w.b
	return nil
}

// release takes reader m out of its window; the window is unmapped when
// no reader is left to read it, or when too many wait for one that lags.
// s.mu is held.
func (s *shared) release(m *mapping) {
	if m.win == nil {
		return
	}
	base := m.base
	m.win = nil
	w := s.wins[base]
	if w == nil {
		return
	}
	w.users--
	if w.users > 0 {
		return
	}
	behind := false // a reader is yet to reach the window
	for i, at := range s.at {
		if i != m.cur && at < base {
			behind = true
		}
	}
	if behind && s.waiting() <= maxWaiting {
		return
	}
	unmapRange(w.b)
	delete(s.wins, base)
}

// waiting counts the windows no reader is in. s.mu is held.
func (s *shared) waiting() int {
	n := 0
	for _, w := range s.wins {
		if w.users == 0 {
			n++
		}
	}
	return n
}

// leave closes reader m: its window is released, and windows kept for it
// alone are unmapped; the last reader out closes the descriptor.
func (s *shared) leave(m *mapping) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at[m.cur] == math.MaxInt64 {
		return // closed before
	}
	s.release(m)
	s.at[m.cur] = math.MaxInt64
	if m.err == nil {
		m.err = io.EOF
	}
	lowest := int64(math.MaxInt64)
	for _, at := range s.at {
		lowest = min(lowest, at)
	}
	for base, w := range s.wins {
		if w.users == 0 && base < lowest {
			unmapRange(w.b)
			delete(s.wins, base)
		}
	}
	if s.open--; s.open == 0 {
		for base, w := range s.wins {
			unmapRange(w.b)
			delete(s.wins, base)
		}
		closeFD(s.fd)
	}
}
