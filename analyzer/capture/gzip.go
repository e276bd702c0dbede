package capture

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// gzipStream decompresses a gzip file as `gzip -t` checks it: every member
// must end with its trailer (CRC-32 and size), members may follow one
// another, and anything else after the last member is an error, said once
// and plainly (compress/gzip alone reports trailing junk as a second
// member's "invalid header", or as an unexpected EOF).
type gzipStream struct {
	raw *counter      // the compressed input, counted
	br  *bufio.Reader // over raw; compress/gzip reads no further than a member's end through it
	zr  *gzip.Reader
	err error // sticky
}

func newGzipStream(raw *counter, head []byte) (*gzipStream, error) {
	g := &gzipStream{raw: raw}
	g.br = bufio.NewReader(io.MultiReader(bytes.NewReader(head), raw))
	zr, err := gzip.NewReader(g.br)
	if err != nil {
		return nil, g.wrap(err)
	}
	zr.Multistream(false)
	g.zr = zr
	return g, nil
}

// offset is the compressed byte offset gzip has reached.
func (g *gzipStream) offset() int64 { return g.raw.n - int64(g.br.Buffered()) }

func (g *gzipStream) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.zr.Read(p)
	if err == io.EOF { // a member ended with a good trailer
		err = g.next()
		if err == nil && n == 0 {
			return g.Read(p)
		}
	} else if err != nil {
		err = g.wrap(err)
	}
	if err != nil {
		g.err = err
	}
	return n, err
}

// next starts the member after the one that ended, if one follows; it
// returns io.EOF at the end of the input.
func (g *gzipStream) next() error {
	b, err := g.br.Peek(2)
	switch {
	case len(b) == 0 && err == io.EOF:
		return io.EOF
	case len(b) == 0:
		return g.wrap(err)
	case len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b:
		return &gzipError{kind: ErrCorrupt, msg: fmt.Sprintf("data after the end of the compressed stream, at compressed byte offset %d (gzip -t: trailing garbage)", g.offset())}
	}
	start := g.offset()
	if err := g.zr.Reset(g.br); err != nil {
		if errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
			return &gzipError{kind: ErrCorrupt, cause: err, msg: fmt.Sprintf("data after the end of the compressed stream, at compressed byte offset %d, is not a gzip member (gzip -t: trailing garbage)", start)}
		}
		return g.wrap(err)
	}
	g.zr.Multistream(false)
	return nil
}

// wrap describes a decompression failure.
func (g *gzipStream) wrap(err error) error {
	var ce flate.CorruptInputError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &gzipError{kind: ErrTruncated, cause: err, msg: fmt.Sprintf("the compressed stream is cut short at compressed byte offset %d, before its trailer (gzip -t: unexpected end of file)", g.offset())}
	case errors.Is(err, gzip.ErrChecksum):
		return &gzipError{kind: ErrCorrupt, cause: err, msg: "the trailer's CRC-32 or length does not match the data (gzip -t: invalid compressed data--crc error)"}
	case errors.Is(err, gzip.ErrHeader):
		return &gzipError{kind: ErrCorrupt, cause: err, msg: fmt.Sprintf("invalid member header at compressed byte offset %d", g.offset())}
	case errors.As(err, &ce):
		return &gzipError{kind: ErrCorrupt, cause: err, msg: fmt.Sprintf("corrupt compressed data at compressed byte offset %d", int64(ce))}
	}
	return &gzipError{kind: err, msg: err.Error()}
}

// ErrGzip: the gzip layer of a compressed capture is damaged (cut short,
// bad CRC, junk after the stream). Such a file is always an error, even
// when the damage is at its end: what the compressed bytes held cannot be
// trusted.
var ErrGzip = errors.New("gzip stream is damaged")

// gzipError is a gzip failure: "gzip: <what>", matching ErrGzip, its kind
// (ErrTruncated, ErrCorrupt or the input's own error) and the
// compress/gzip error behind it.
type gzipError struct {
	kind  error
	cause error
	msg   string
}

func (e *gzipError) Error() string { return "gzip: " + e.msg }
func (e *gzipError) Unwrap() []error {
	out := []error{ErrGzip, e.kind}
	if e.cause != nil {
		out = append(out, e.cause)
	}
	return out
}
