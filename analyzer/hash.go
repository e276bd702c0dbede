package analyzer

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
)

// teeHash hashes the bytes read through it on another goroutine, so that
// the SHA-256 of a pipe (standard input) costs the packet path a copy,
// not the digest, when a second core is free. The bytes are copied into
// a few fixed chunks that the hashing goroutine hands back: memory stays
// bounded whatever the input's size.
type teeHash struct {
	r    io.Reader
	cur  []byte      // the chunk being filled
	full chan []byte // chunks to hash
	free chan []byte // chunks hashed
	sum  chan string // the digest, once full is closed
}

const (
	teeChunk  = 1 << 20
	teeChunks = 4
)

func newTeeHash(r io.Reader) *teeHash {
	t := &teeHash{r: r, full: make(chan []byte, teeChunks), free: make(chan []byte, teeChunks), sum: make(chan string, 1)}
	for range teeChunks {
		t.free <- make([]byte, 0, teeChunk)
	}
	go func() {
		h := sha256.New()
		for b := range t.full {
			h.Write(b)
			t.free <- b[:0]
		}
		t.sum <- hex.EncodeToString(h.Sum(nil))
	}()
	return t
}

func (t *teeHash) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	for b := p[:n]; len(b) > 0; {
		if t.cur == nil {
			t.cur = <-t.free
		}
		k := copy(t.cur[len(t.cur):cap(t.cur)], b)
		t.cur = t.cur[:len(t.cur)+k]
		b = b[k:]
		if len(t.cur) == cap(t.cur) {
			t.full <- t.cur
			t.cur = nil
		}
	}
	return n, err
}

// Sum waits for the digest of every byte read. The teeHash must not be
// read afterwards.
func (t *teeHash) Sum() string {
	if len(t.cur) > 0 {
		t.full <- t.cur
	}
	t.cur = nil
	close(t.full)
	return <-t.sum
}
