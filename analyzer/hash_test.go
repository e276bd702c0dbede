package analyzer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"
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
