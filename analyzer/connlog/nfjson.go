package connlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/decode"
)

// nfdump's JSON (nfdump 1.7, src/output/output_json.c): `-o json` is an
// array of objects, `-o json-log` one object a line. A record's keys:
// "type" ("FLOW", or "EVENT" for NSEL/NEL events), "first" and "last"
// ("t_first", "t_last" before 1.7.2) in local time to the millisecond
// ("2026-11-29T10:00:00.123"), "proto", "src4_addr"/"dst4_addr" or
// "src6_addr"/"dst6_addr", "src_port"/"dst_port" and "tcp_flags"
// ("...AP.SF"), or "icmp_type"/"icmp_code" for ICMP, "in_packets",
// "in_bytes", and "out_packets"/"out_bytes" for a bidirectional record.

// sniffNfdumpJSON says whether head (without leading space) starts
// nfdump's JSON: an array or object whose first record has nfdump's keys.
func sniffNfdumpJSON(head []byte) bool {
	if len(head) == 0 || head[0] != '[' && head[0] != '{' {
		return false
	}
	if bytes.Contains(head, []byte(`"id.orig_h"`)) {
		return false
	}
	return bytes.Contains(head, []byte(`"export_sysid"`)) ||
		bytes.Contains(head, []byte(`"in_packets"`)) && (bytes.Contains(head, []byte(`"src4_addr"`)) || bytes.Contains(head, []byte(`"src6_addr"`)))
}

type nfJSONState struct {
	dec     *json.Decoder
	array   bool // -o json: inside the array
	records int  // records read
}

// nfJSONFlow is the part of a record flowaudit reads.
type nfJSONFlow struct {
	Type       string  `json:"type"`
	First      string  `json:"first"`
	Last       string  `json:"last"`
	TFirst     string  `json:"t_first"`
	TLast      string  `json:"t_last"`
	Proto      *uint8  `json:"proto"`
	Src4       string  `json:"src4_addr"`
	Dst4       string  `json:"dst4_addr"`
	Src6       string  `json:"src6_addr"`
	Dst6       string  `json:"dst6_addr"`
	SrcPort    uint16  `json:"src_port"`
	DstPort    uint16  `json:"dst_port"`
	ICMPType   uint8   `json:"icmp_type"`
	ICMPCode   uint8   `json:"icmp_code"`
	TCPFlags   string  `json:"tcp_flags"`
	InPackets  *uint64 `json:"in_packets"`
	InBytes    uint64  `json:"in_bytes"`
	OutPackets uint64  `json:"out_packets"`
	OutBytes   uint64  `json:"out_bytes"`
}

// nfJSONFail is an error of the current record.
func (r *Reader) nfJSONFail(err error) error {
	r.err = &Error{Path: r.path, Record: max(r.js.records, 1), Offset: r.js.dec.InputOffset(), Err: err}
	return r.err
}

// nfJSONRecord reads the next record into the pending table; io.EOF at
// the end.
func (r *Reader) nfJSONRecord() error {
	s := &r.js
	if s.dec == nil {
		s.dec = json.NewDecoder(r.br)
		if head, _ := r.br.Peek(SniffSize); len(bytes.TrimLeft(head, " \t\r\n")) > 0 && bytes.TrimLeft(head, " \t\r\n")[0] == '[' {
			if _, err := s.dec.Token(); err != nil {
				return r.nfJSONFail(err)
			}
			s.array = true
		}
	}
	if s.array && !s.dec.More() {
		if _, err := s.dec.Token(); err != nil { // the closing bracket
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return r.nfJSONUnclosed()
			}
			return r.nfJSONFail(fmt.Errorf("the array is not closed (%v)", err))
		}
		if _, err := s.dec.Token(); !errors.Is(err, io.EOF) {
			return r.nfJSONFail(errors.New("data after the array's closing bracket"))
		}
		return r.nfEnd()
	}
	s.records++
	var f nfJSONFlow
	if err := s.dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			s.records--
			if s.array {
				return r.nfJSONUnclosed() // after a comma
			}
			return r.nfEnd()
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			// Cut short (a file copied while written), as an IPFIX file
			// that ends inside its last message: a warning, the record
			// not taken. A json-log line whole to its closing brace is
			// taken, newline or not, as a Zeek JSON line is.
			e := r.nfJSONFail(errors.New("the file ends inside the record: cut short (a file copied while written?)")).(*Error)
			e.CutShort = true
			return e
		}
		return r.nfJSONFail(err)
	}
	if f.Type != "" && f.Type != "FLOW" {
		r.nf.skip(fmt.Sprintf("record %d: type %q, not a flow", s.records, f.Type))
		return nil
	}
	rec := &nfRecord{line: s.records}
	var err error
	first, last := f.First, f.Last
	if first == "" {
		first, last = f.TFirst, f.TLast
	}
	if first == "" {
		return r.nfJSONFail(errors.New(`no "first" (or "t_first") time`))
	}
	if rec.start, err = nfJSONTime(first); err != nil {
		return r.nfJSONFail(fmt.Errorf("first %q: %w", first, err))
	}
	rec.end, rec.noEnd = rec.start, last == ""
	if last != "" {
		if rec.end, err = nfJSONTime(last); err != nil {
			return r.nfJSONFail(fmt.Errorf("last %q: %w", last, err))
		}
		if rec.end < rec.start {
			return r.nfJSONFail(fmt.Errorf("last %s before first %s", last, first))
		}
	}
	src, dst := f.Src4, f.Dst4
	if src == "" && dst == "" {
		src, dst = f.Src6, f.Dst6
	}
	if rec.src, err = r.addr([]byte(src)); err != nil {
		return r.nfJSONFail(fmt.Errorf("source: %w", err))
	}
	if rec.dst, err = r.addr([]byte(dst)); err != nil {
		return r.nfJSONFail(fmt.Errorf("destination: %w", err))
	}
	if f.Proto == nil {
		return r.nfJSONFail(errors.New(`no "proto"`))
	}
	if f.InPackets == nil {
		return r.nfJSONFail(errors.New(`no "in_packets"`))
	}
	rec.proto, rec.pkts, rec.ipb, rec.opkts, rec.ob = *f.Proto, *f.InPackets, f.InBytes, f.OutPackets, f.OutBytes
	rec.sp, rec.dp, rec.flags = f.SrcPort, f.DstPort, f.TCPFlags
	if rec.proto == decode.ProtoICMP || rec.proto == decode.ProtoICMPv6 {
		rec.sp, rec.dp = 0, uint16(f.ICMPType)<<8|uint16(f.ICMPCode)
	}
	r.nfAdd(rec)
	return nil
}

// nfJSONUnclosed is an array that ends, after its last whole record, before its
// closing bracket: cut short as a file that ends inside a record is (a
// warning, every record read), not damaged.
func (r *Reader) nfJSONUnclosed() error {
	e := r.nfJSONFail(errors.New("the file ends after it, before the array's closing bracket: cut short (a file copied while written?)")).(*Error)
	e.CutShort = true
	return e
}

// nfEnd is the end of a NetFlow file: io.EOF, or an *Error when records
// were skipped.
func (r *Reader) nfEnd() error {
	if r.nf.unusable > 0 {
		r.err = &Error{Path: r.path, Err: fmt.Errorf("%d records are no connection (the first: %s)", r.nf.unusable, r.nf.why), AtEnd: true}
		return r.err
	}
	r.err = io.EOF
	return io.EOF
}

// nfJSONTime reads nfdump's JSON time, "2026-11-29T10:00:00.123" (local
// time as nfdump printed it, read as UTC).
func nfJSONTime(s string) (int64, error) {
	t, err := time.Parse("2006-01-02T15:04:05.999999999", strings.Replace(s, " ", "T", 1))
	if err != nil {
		return 0, errors.New("not a time (want 2006-01-02T15:04:05.000)")
	}
	return t.UnixNano(), nil
}
