package analyzer

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/flowaudit/flowaudit/analyzer/capture"
)

// Early is a capture opened, and its SHA-256 begun on another goroutine,
// before Run: the digest of a large capture is the longest single task
// of an analysis, so a command starts it first, while it still loads its
// catalogs, inventory and waivers (Options.Early). Run reads the file
// through the same open handle and memory map (capture.Share), so the
// digest names exactly the bytes it read.
type Early struct {
	path string

	mu     sync.Mutex
	taken  bool
	f      *os.File
	mapped io.ReadCloser // the capture reader's side of the map
	digest chan hashResult
	stop   atomic.Bool
}

// StartEarly opens path and starts its digest when it is a regular file
// that can be mapped; otherwise it returns nil and Run opens the file as
// usual (an error opening it, say, is Run's to report). Anything else is
// not opened at all: opening a named pipe would wait for its writer, and
// closing it again would lose what the writer wrote, or kill it
// (SIGPIPE), before Run opened it.
//
// parallel says the file will be read at the same time as others
// (Options.Parallel): its map then holds smaller windows
// (capture.ShareSmall), since the files' windows add up.
func StartEarly(path string, parallel bool) *Early {
	if path == "" || path == "-" {
		return nil
	}
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil
	}
	share := capture.Share
	if parallel {
		share = capture.ShareSmall
	}
	sh := share(f, 2)
	if sh == nil {
		f.Close()
		return nil
	}
	e := &Early{path: path, f: f, mapped: sh[0], digest: make(chan hashResult, 1)}
	go func() { e.digest <- hashReader(sh[1], path, &e.stop) }()
	return e
}

// take hands the file over to the reading of path, once: nil when e is
// for another path or was taken before.
func (e *Early) take(path string) *Early {
	if e == nil || e.path != path {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.taken {
		return nil
	}
	e.taken = true
	return e
}

// Close gives up the file when Run did not read it (the command failed
// before, or the path turned out to be something else, such as a Zeek
// name log): its digest stops at the next window and the file is closed.
// It does nothing once Run took the file.
func (e *Early) Close() {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.taken {
		return
	}
	e.taken = true
	e.stop.Store(true)
	e.mapped.Close()
	e.f.Close()
}

// Abandon ends the digest at its next window, whether or not Run took the
// file: the command failed, nobody will wait for it.
func (e *Early) Abandon() {
	if e != nil {
		e.stop.Store(true)
	}
}

// errStopped ends a digest nobody waits for any more.
var errStopped = errors.New("digest no longer needed")

// stoppable passes writes to a hash until stop is set.
type stoppable struct {
	io.Writer
	stop *atomic.Bool
}

func (s stoppable) Write(p []byte) (int, error) {
	if s.stop != nil && s.stop.Load() {
		return 0, errStopped
	}
	return s.Writer.Write(p)
}

// hashReader is the SHA-256 of the bytes m reads (a file from its start:
// one reader of a capture.Share, a capture.MapFile, the file itself), and
// closes m. Setting stop (nil: never) ends it early with errStopped.
func hashReader(m io.ReadCloser, path string, stop *atomic.Bool) hashResult {
	defer m.Close()
	h := sha256.New()
	n, err := io.Copy(stoppable{h, stop}, m)
	if err != nil {
		return hashResult{err: fmt.Errorf("%s: hashing: %w", path, err)}
	}
	return hashResult{sum: hex.EncodeToString(h.Sum(nil)), size: n}
}
