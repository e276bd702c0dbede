package capture

import (
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// shareOf opens path and shares it between a capture reader and a hasher.
func shareOf(t *testing.T, path string) (*Reader, io.ReadCloser, *shared) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	sh := Share(f, 2)
	if sh == nil {
		t.Fatal("not shared")
	}
	r, err := NewReader(filepath.Base(path), sh[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, sh[1], sh[1].(*mapping).sh
}

// TestShareReadAndHash: a capture read and hashed through one Share gives
// the packets, offsets and errors of the file read on its own and the
// file's SHA-256, whichever goes first, however far the other lags behind
// (beyond maxWaiting windows it maps them again), or when both go at
// once; every window is unmapped and the descriptor closed at the end.
func TestShareReadAndHash(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("files are memory-mapped on Linux only")
	}
	smallWindows(t)
	pkts := somePackets(3000, 1) // several hundred KiB: ~100 windows of a page
	data := writePcap(t, false, 65535, layers.LinkTypeEthernet, pkts)
	path := filepath.Join(t.TempDir(), "c.pcap")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want, wantErr := readFile(t, path, false)
	sum := sha256.Sum256(data)
	for _, order := range []string{"reader first", "hasher first", "at once", "in step"} {
		t.Run(order, func(t *testing.T) {
			r, hr, sh := shareOf(t, path)
			var got []Packet
			var gotErr error
			read := func() {
				for {
					p, err := r.Next()
					if err != nil {
						gotErr = err
						return
					}
					c := *p
					c.Data = append([]byte(nil), p.Data...)
					got = append(got, c)
				}
			}
			h := sha256.New()
			var n int64
			var hashErr error
			hash := func() { n, hashErr = io.Copy(h, hr); hr.Close() }
			switch order {
			case "reader first":
				read()
				hash()
			case "hasher first":
				hash()
				read()
			case "at once":
				var wg sync.WaitGroup
				wg.Go(read)
				wg.Go(hash)
				wg.Wait()
			case "in step": // a packet, then a buffer of the digest
				buf := make([]byte, 1000)
				for gotErr == nil || hashErr == nil {
					if gotErr == nil {
						p, err := r.Next()
						if err != nil {
							gotErr = err
						} else {
							c := *p
							c.Data = append([]byte(nil), p.Data...)
							got = append(got, c)
						}
					}
					if hashErr == nil {
						k, err := hr.Read(buf)
						h.Write(buf[:k])
						n += int64(k)
						if err != nil {
							hashErr = err
						}
					}
				}
				if hashErr == io.EOF {
					hashErr = nil
				}
				hr.Close()
			}
			if gotErr != io.EOF || wantErr != "EOF" {
				t.Fatalf("read ended with %v, alone with %s", gotErr, wantErr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%d packets, alone %d; they differ", len(got), len(want))
			}
			if hashErr != nil || n != int64(len(data)) || [32]byte(h.Sum(nil)) != sum {
				t.Fatalf("hashed %d of %d bytes, %v; digest %x, want %x", n, len(data), hashErr, h.Sum(nil), sum)
			}
			r.Close()
			sh.mu.Lock()
			left, open := len(sh.wins), sh.open
			sh.mu.Unlock()
			if left != 0 || open != 0 {
				t.Errorf("after both closed: %d windows mapped, %d readers open", left, open)
			}
		})
	}
}

// TestShareBounded: a reader that lags keeps at most maxWaiting windows
// mapped for it, whatever the file's size.
func TestShareBounded(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("files are memory-mapped on Linux only")
	}
	smallWindows(t)
	page := os.Getpagesize()
	data := make([]byte, 40*page+7)
	for i := range data {
		data[i] = byte(i * 7)
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
	sh := Share(f, 2)
	if sh == nil {
		t.Fatal("not shared")
	}
	s := sh[0].(*mapping).sh
	buf := make([]byte, page/3)
	for { // the first reader to the end, the second still at its start
		_, err := sh[0].Read(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		n := len(s.wins)
		s.mu.Unlock()
		if n > maxWaiting+2 {
			t.Fatalf("%d windows mapped", n)
		}
	}
	// The second reads it all the same, mapping again what was let go.
	h := sha256.New()
	if n, err := io.Copy(h, sh[1]); err != nil || n != int64(len(data)) || [32]byte(h.Sum(nil)) != sha256.Sum256(data) {
		t.Fatalf("lagging reader: %d of %d bytes, %v", n, len(data), err)
	}
	sh[0].Close()
	sh[1].Close()
	sh[1].Close() // twice: nothing happens
	if len(s.wins) != 0 || s.open != 0 {
		t.Errorf("%d windows mapped, %d readers open after both closed", len(s.wins), s.open)
	}
}

// TestShareOneLeaves: a reader closed before its end (a file that turns
// out to be a flow log, a capture that failed) lets the other read on;
// the windows kept for it are let go at once.
func TestShareOneLeaves(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("files are memory-mapped on Linux only")
	}
	smallWindows(t)
	page := os.Getpagesize()
	data := make([]byte, 20*page)
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sh := Share(f, 2)
	if sh == nil {
		t.Fatal("not shared")
	}
	s := sh[0].(*mapping).sh
	buf := make([]byte, page)
	for range 5 {
		if _, err := sh[0].Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sh[0].Read(buf); err != nil { // into the sixth window
		t.Fatal(err)
	}
	sh[1].Close() // the one behind leaves
	if n := len(s.wins); n != 1 {
		t.Errorf("%d windows mapped after the lagging reader left, want the one in use", n)
	}
	if _, err := sh[1].Read(buf); err != io.EOF {
		t.Errorf("read after close: %v", err)
	}
	n, err := io.Copy(io.Discard, sh[0])
	if err != nil || n != int64(len(data)-6*page) {
		t.Fatalf("the other read on: %d bytes, %v", n, err)
	}
	sh[0].Close()
	if len(s.wins) != 0 || s.open != 0 {
		t.Errorf("%d windows, %d open at the end", len(s.wins), s.open)
	}
}

// TestShareCutWhileRead: a file truncated under a Share ends both readers
// with an error naming the offset, never a SIGBUS.
func TestShareCutWhileRead(t *testing.T) {
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
	sh := Share(f, 2)
	if sh == nil {
		t.Fatal("not shared")
	}
	defer sh[0].Close()
	defer sh[1].Close()
	w := &cutAfter{Hash: sha256.New(), path: path, at: 2 * page}
	if _, err := io.Copy(w, sh[1]); !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "shrank while it was being read") {
		t.Fatalf("hasher: %v", err)
	}
	_, err = io.Copy(sha256.New(), sh[0]) // reads every byte, as the capture reader does
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "at offset 0") {
		t.Fatalf("reader: %v", err)
	}
}

// TestShareNotMapped: what cannot be mapped is not shared, and the file is
// left as it was.
func TestShareNotMapped(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, make([]byte, 23), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(short)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if sh := Share(f, 2); sh != nil {
		t.Error("a 23-byte file was shared")
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	if sh := Share(pr, 2); sh != nil {
		t.Error("a pipe was shared")
	}
}
