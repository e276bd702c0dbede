package capture

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/capturetest"
	"github.com/gopacket/gopacket/layers"
)

// smallWindows maps one page at a time for the rest of the test, so that
// records and pcapng blocks straddle windows.
func smallWindows(t *testing.T) {
	old, oldShare := mapWindow, shareWindow
	mapWindow, shareWindow = os.Getpagesize(), os.Getpagesize()
	t.Cleanup(func() { mapWindow, shareWindow = old, oldShare })
}

// readFile reads a capture through NewReader, given the *os.File itself
// (mapped where the platform can) or hidden behind a plain io.Reader
// (buffered reads), and returns every packet and the final error.
func readFile(t *testing.T, path string, mapped bool) ([]Packet, string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var in io.Reader = f
	if !mapped {
		in = struct{ io.Reader }{f}
	}
	r, err := NewReader(filepath.Base(path), in)
	if err != nil {
		return nil, err.Error()
	}
	defer r.Close()
	if mapped && runtime.GOOS == "linux" && r.Consumed() == 0 {
		t.Errorf("%s: nothing consumed after the file header", path)
	}
	pkts, err := readAll(t, r)
	if err == io.EOF {
		return pkts, "EOF"
	}
	return pkts, err.Error()
}

// TestMappedMatchesBuffered: a file read through the memory map gives the
// same packets, offsets, frame numbers and errors as the same file read
// through buffered reads, for every generated capture and every shared one
// (the broken ones included), with windows small enough to cut records.
func TestMappedMatchesBuffered(t *testing.T) {
	smallWindows(t)
	paths, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "captures", "*.pcap*"))
	if len(paths) == 0 {
		t.Fatal("no generated captures under testdata/captures")
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) { compareMapped(t, path) })
	}
	t.Run("shared", func(t *testing.T) {
		for _, name := range capturetest.Files(t) {
			t.Run(name, func(t *testing.T) { compareMapped(t, capturetest.Path(t, name)) })
		}
	})
}

func compareMapped(t *testing.T, path string) {
	t.Helper()
	want, wantErr := readFile(t, path, false)
	got, gotErr := readFile(t, path, true)
	if gotErr != wantErr {
		t.Errorf("mapped: %s\nbuffered: %s", gotErr, wantErr)
	}
	if len(got) != len(want) {
		t.Fatalf("mapped: %d packets, buffered: %d", len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("packet %d differs:\nmapped   %+v\nbuffered %+v", i+1, got[i], want[i])
		}
	}
}

// TestMappedFileCutWhileRead: a file truncated under the reader (as a
// copytruncate log rotation does) ends the read with an error naming the
// offset, after the packets before it; the process does not die of SIGBUS.
func TestMappedFileCutWhileRead(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("files are memory-mapped on Linux only")
	}
	smallWindows(t)
	pkts := somePackets(3000, 1) // several hundred KiB, many windows
	path := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(path, writePcap(t, false, 65535, layers.LinkTypeEthernet, pkts), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader("cut.pcap", f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for range 10 {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	n := 10
	for {
		_, err = r.Next()
		if err != nil {
			break
		}
		n++
	}
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "shrank while it was being read") {
		t.Fatalf("after %d packets: %v", n, err)
	}
	if n >= len(pkts) || e.Frame != uint64(n+1) {
		t.Errorf("error at frame %d after %d packets of %d: %v", e.Frame, n, len(pkts), err)
	}
	if _, err2 := r.Next(); err2 != err {
		t.Errorf("error not sticky: %v then %v", err, err2)
	}
}

// TestFileNotAtStart: a file handed over after some of it was read is read
// from where it stands, as any reader is, not mapped from its start.
func TestFileNotAtStart(t *testing.T) {
	pkts := somePackets(50, 1)
	capFile := writePcap(t, false, 65535, layers.LinkTypeEthernet, pkts)
	path := filepath.Join(t.TempDir(), "prefixed")
	if err := os.WriteFile(path, append([]byte("some header of another format\n"), capFile...), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(int64(len("some header of another format\n")), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader("prefixed", f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := readAll(t, r)
	if err != io.EOF || len(got) != len(pkts) {
		t.Fatalf("%d packets, %v", len(got), err)
	}
}

// TestMappingPrefetch: the prefetch cursor moves in whole lines from the
// read position, never past the window, and never asks for a line twice.
func TestMappingPrefetch(t *testing.T) {
	const size = 10*cacheLine + 17
	for _, tc := range []struct {
		name   string
		off    int   // read position
		pf     int   // cursor before
		ahead  []int // successive calls
		wantPF int
	}{
		{"nothing used", 0, 0, []int{0}, 0},
		{"less than a line", 0, 0, []int{63}, 0},
		{"one line", 0, 0, []int{64}, 64},
		{"lines only", 0, 0, []int{200}, 192},
		{"growing", 0, 0, []int{70, 130, 300}, 256},
		{"from the read position", 5 * cacheLine, 0, []int{2 * cacheLine}, 7 * cacheLine},
		{"not twice", 0, 4 * cacheLine, []int{4 * cacheLine, 4*cacheLine + 10}, 4 * cacheLine},
		{"window end", 3, 0, []int{1 << 20}, 3 + (size-3)&^(cacheLine-1)},
		{"at the end", size, 0, []int{1 << 20}, size},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &mapping{win: make([]byte, size), off: tc.off, pf: tc.pf}
			for _, a := range tc.ahead {
				before := max(m.pf, m.off)
				m.prefetch(a)
				if m.pf > len(m.win) || m.pf < m.off || (m.pf-before)%cacheLine != 0 {
					t.Fatalf("prefetch(%d) from %d: cursor %d (window %d, read position %d)", a, before, m.pf, len(m.win), m.off)
				}
			}
			if m.pf != tc.wantPF {
				t.Errorf("cursor %d, want %d", m.pf, tc.wantPF)
			}
		})
	}
}

// TestMapFileWriteTo: io.Copy from MapFile writes the file's bytes
// exactly, straight from the map, whatever the file's size against the
// window (one page here): sha256sum's digest; files the map cannot take
// (shorter than a pcap file header, or not at their start) give nil.
func TestMapFileWriteTo(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("files are memory-mapped on Linux only")
	}
	smallWindows(t)
	page := os.Getpagesize()
	for _, tc := range []struct {
		name   string
		size   int
		skip   int64 // offset the file is handed over at
		mapped bool
	}{
		{"too short", 23, 0, false},
		{"file header", 24, 0, true},
		{"less than a window", page - 1, 0, true},
		{"one window", page, 0, true},
		{"one byte more", page + 1, 0, true},
		{"many windows", 7*page + 123, 0, true},
		{"not at its start", 2 * page, 5, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := make([]byte, tc.size)
			for i := range data {
				data[i] = byte(i*31 + i>>9)
			}
			path := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Seek(tc.skip, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			m := MapFile(f)
			if (m != nil) != tc.mapped {
				t.Fatalf("mapped %v, want %v", m != nil, tc.mapped)
			}
			if m == nil {
				return
			}
			defer m.Close()
			h := sha256.New()
			n, err := io.Copy(h, m)
			if err != nil || n != int64(tc.size) || !bytes.Equal(h.Sum(nil), sha256Of(data)) {
				t.Errorf("copied %d of %d bytes, %v; digest %x, want %x", n, tc.size, err, h.Sum(nil), sha256Of(data))
			}
			if n, err := io.Copy(h, m); n != 0 || err != nil {
				t.Errorf("after the end: %d bytes, %v", n, err)
			}
		})
	}
}

func sha256Of(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// TestMapFileCutWhileHashed: a file truncated while it is copied from its
// map ends the copy with an error naming the offset (a digest of a file
// that changed is no digest), not a SIGBUS; the bytes before are written.
func TestMapFileCutWhileHashed(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("files are memory-mapped on Linux only")
	}
	smallWindows(t)
	page := os.Getpagesize()
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, 8*page), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := MapFile(f)
	if m == nil {
		t.Fatal("not mapped")
	}
	defer m.Close()
	w := &cutAfter{Hash: sha256.New(), path: path, at: 2 * page}
	n, err := io.Copy(w, m)
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "shrank while it was being read") {
		t.Fatalf("after %d bytes: %v", n, err)
	}
	if n != int64(2*page) || w.n != n {
		t.Errorf("%d bytes copied, %d written, want %d", n, w.n, 2*page)
	}
}

// cutAfter hashes what it is written and truncates the file at path to
// nothing once it has been written at bytes.
type cutAfter struct {
	hash.Hash
	path string
	at   int
	n    int64
}

func (w *cutAfter) Write(p []byte) (int, error) {
	w.Hash.Write(p) // reads every byte: a fault on a page cut off
	w.n += int64(len(p))
	if w.n >= int64(w.at) {
		if err := os.Truncate(w.path, 0); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// TestLoneWindow: a file mapped for one reader alone (flows, which hashes
// nothing) is held 8 MiB at a time at most, as the README says, the whole
// file read all the same; a Share (a capture read while it is hashed)
// maps shareWindow at a time.
func TestLoneWindow(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("files are memory-mapped on Linux only")
	}
	const lone = 8 << 20
	data := make([]byte, lone+12345)
	for i := range data {
		data[i] = byte(i * 13)
	}
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := mapFile(f)
	if m == nil {
		t.Fatal("not mapped")
	}
	var got []byte
	buf := make([]byte, 1<<20)
	for {
		if len(m.win) > lone {
			t.Fatalf("at offset %d: a window of %d bytes, more than %d", m.pos(), len(m.win), lone)
		}
		n, err := m.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	m.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, want the file's %d", len(got), len(data))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	sh := Share(f, 2)
	if sh == nil {
		t.Fatal("not shared")
	}
	defer sh[0].Close()
	defer sh[1].Close()
	if w, want := len(sh[0].(*mapping).win), min(shareWindow, len(data)); w != want {
		t.Errorf("shared: a first window of %d bytes, want %d (shareWindow %d)", w, want, shareWindow)
	}
	// A file read while others are (--parallel) is shared with the lone
	// reader's windows: theirs add up.
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	small := ShareSmall(f, 2)
	if small == nil {
		t.Fatal("not shared")
	}
	var hashed bytes.Buffer
	done := make(chan error, 1)
	go func() { _, err := io.Copy(&hashed, small[1]); small[1].Close(); done <- err }()
	got = got[:0]
	for {
		if w := len(small[0].(*mapping).win); w > lone {
			t.Fatalf("ShareSmall: a window of %d bytes, more than %d", w, lone)
		}
		n, err := small[0].Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	small[0].Close()
	if err := <-done; err != nil || !bytes.Equal(got, data) || !bytes.Equal(hashed.Bytes(), data) {
		t.Fatalf("ShareSmall: read %d and %d bytes (%v), want the file's %d", len(got), hashed.Len(), err, len(data))
	}
}
