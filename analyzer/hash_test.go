package analyzer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/capture"
	"github.com/flowaudit/flowaudit/analyzer/capturetest"
)

// TestTeeHash: the digest of a pipe, hashed on another goroutine, is
// sha256sum's, whatever the sizes of the reads (a read larger than the
// chunks, reads that end inside one, an empty input).
func TestTeeHash(t *testing.T) {
	for _, size := range []int{0, 1, teeChunk - 1, teeChunk, teeChunk + 1, 3*teeChunk*teeChunks + 12345} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i*7 + i>>11)
		}
		want := sha256.Sum256(data)
		for _, readSize := range []int{1 << 10, 64 << 10, 5 * teeChunk} {
			if size > 1<<20 && readSize == 1<<10 {
				continue
			}
			h := newTeeHash(bytes.NewReader(data))
			buf := make([]byte, readSize)
			var n int
			for {
				k, err := h.Read(buf)
				n += k
				if err != nil {
					break
				}
			}
			if got := h.Sum(); n != size || got != hex.EncodeToString(want[:]) {
				t.Errorf("size %d, reads of %d: read %d, sum %s, want %x", size, readSize, n, got, want)
			}
		}
	}
}

// TestLateDigests: with Options.LateDigests, Run leaves the captures'
// SHA-256 to Result.WaitDigests, which completes them as Run does by
// itself (the shared captures, damaged and cut-short ones among them, in
// one run; a gzip file is hashed as stored).
func TestLateDigests(t *testing.T) {
	var paths []string
	for _, name := range capturetest.Files(t) {
		paths = append(paths, capturetest.Path(t, name))
	}
	paths = append(paths, filepath.Join("..", "testdata", "captures", "pcapng-le.pcapng.gz"))
	want, wantErr := Run(paths, Options{})
	got, gotErr := Run(paths, Options{LateDigests: true})
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Errorf("Run: %v\nwithout LateDigests: %v", gotErr, wantErr)
	}
	if len(got.digests) != len(paths) {
		t.Errorf("%d digests pending, want %d", len(got.digests), len(paths))
	}
	for _, c := range got.Captures {
		if c.SHA256 != "" {
			t.Errorf("%s: digest %s before WaitDigests", c.Path, c.SHA256)
		}
	}
	if err := got.WaitDigests(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Captures, want.Captures) {
		t.Errorf("captures after WaitDigests:\n%+v\nwithout LateDigests:\n%+v", got.Captures, want.Captures)
	}
	if err := got.WaitDigests(); err != nil || got.digests != nil {
		t.Errorf("again: %v, %d pending", err, len(got.digests))
	}
}

// TestWaitDigestFailed: a file read to its end whose digest failed is
// not complete, with the status Run gives a read that stopped at that
// error; the error of a file whose reading stopped first wins, and a
// digest that came is taken whatever the read.
func TestWaitDigestFailed(t *testing.T) {
	hashErr := errors.New("f: hashing: input/output error")
	cut := &capture.Error{Path: "f", Frame: 4, Err: capture.ErrTruncated}
	for _, tc := range []struct {
		name    string
		c       Capture
		flowLog bool
		h       hashResult
		status  Status
		err     bool
	}{
		{"hashed", Capture{Packets: 3}, false, hashResult{sum: "ab", size: 9}, StatusComplete, false},
		{"packets", Capture{Packets: 3}, false, hashResult{err: hashErr}, StatusDamaged, true},
		{"no packets", Capture{}, false, hashResult{err: hashErr}, StatusUnreadable, true},
		{"records", Capture{Records: 2}, true, hashResult{err: hashErr}, StatusDamaged, true},
		{"cut short first", Capture{Packets: 3}, false, hashResult{err: hashErr}, StatusCutShort, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			readErr := error(nil)
			if tc.status == StatusCutShort {
				readErr = cut
			}
			if err := c.settle(readErr, tc.flowLog); err != nil {
				t.Fatal(err)
			}
			sum := make(chan hashResult, 1)
			sum <- tc.h
			r := &Result{Captures: []Capture{c}, digests: []pendingDigest{{capture: 0, flowLog: tc.flowLog, sum: sum}}}
			err := r.WaitDigests()
			got := r.Captures[0]
			if (err != nil) != tc.err || got.Status != tc.status || got.Complete != (tc.status == StatusComplete) {
				t.Errorf("status %s complete %v error %v; want %s, error %v", got.Status, got.Complete, err, tc.status, tc.err)
			}
			if tc.err && !errors.Is(got.Err, hashErr) {
				t.Errorf("capture error %v", got.Err)
			}
			if got.SHA256 != tc.h.sum || (tc.h.err == nil && got.Size != tc.h.size) {
				t.Errorf("digest %q size %d", got.SHA256, got.Size)
			}
		})
	}
}
