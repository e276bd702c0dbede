package capture

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// TestWriterRoundTrip: packets of several link types written as pcapng read
// back the same, each with its link type; the bytes depend only on the
// packets.
func TestWriterRoundTrip(t *testing.T) {
	in := []Packet{
		{Data: payload(1, 60), Timestamp: synthTime(1), Length: 60, LinkType: 1},
		{Data: payload(2, 41), Timestamp: synthTime(2), Length: 1500, LinkType: 276},
		{Data: payload(3, 33), Timestamp: synthTime(3), Length: 33, LinkType: 101},
		{Data: payload(4, 70), Timestamp: synthTime(4), Length: 70, LinkType: 1},
	}
	write := func() []byte {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		for _, p := range in {
			if err := w.Write(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	out := write()
	if again := write(); !bytes.Equal(out, again) {
		t.Error("two writes of the same packets differ")
	}
	r, err := NewReader("evidence.pcapng", bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	if err != io.EOF {
		t.Fatal(err)
	}
	if len(got) != len(in) {
		t.Fatalf("%d packets back, want %d", len(got), len(in))
	}
	wantIface := []int{0, 1, 2, 0}
	for i, p := range got {
		w := in[i]
		if !bytes.Equal(p.Data, w.Data) || !p.Timestamp.Equal(w.Timestamp) || p.Length != w.Length || p.LinkType != w.LinkType || p.InterfaceIndex != wantIface[i] {
			t.Errorf("packet %d: %+v, want %+v on interface %d", i+1, p, w, wantIface[i])
		}
	}
	if r.Format() != "pcapng" {
		t.Errorf("format %q", r.Format())
	}
}

func TestWriterEmptyAndErrors(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader("empty.pcapng", bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("empty evidence file: %v, want io.EOF", err)
	}
	if err := NewWriter(io.Discard).Write(Packet{Data: []byte{1}, LinkType: 1 << 20, Timestamp: time.Unix(0, 0)}); err == nil {
		t.Error("link type over 16 bits accepted")
	}
}
