package capture

import (
	"errors"
	"fmt"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Writer writes packets to a pcapng stream, with one interface per link
// type met, so packets from captures of different link types can share a
// file. The output is deterministic: no host name, OS or time is written.
type Writer struct {
	w      io.Writer
	ng     *pcapgo.NgWriter
	ifaces map[uint32]int
}

// NewWriter writes pcapng to w. Nothing is written before the first
// packet; Flush must be called at the end.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w, ifaces: map[uint32]int{}} }

var ngOptions = pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "flowaudit"}}

func ngInterface(linkType uint32) pcapgo.NgInterface {
	return pcapgo.NgInterface{LinkType: layers.LinkType(linkType), TimestampResolution: 9}
}

// Write appends one packet, keeping its timestamp, lengths and link type.
func (w *Writer) Write(p Packet) error {
	if len(p.Data) > p.CaptureLength && p.CaptureLength > 0 {
		return errors.New("packet data longer than its capture length")
	}
	if p.LinkType > 0xFFFF {
		return fmt.Errorf("link type %d does not fit in a pcapng interface", p.LinkType)
	}
	id, ok := w.ifaces[p.LinkType]
	if !ok {
		var err error
		if w.ng == nil {
			w.ng, err = pcapgo.NewNgWriterInterface(w.w, ngInterface(p.LinkType), ngOptions)
			id = 0
		} else {
			id, err = w.ng.AddInterface(ngInterface(p.LinkType))
		}
		if err != nil {
			return err
		}
		w.ifaces[p.LinkType] = id
	}
	length := p.Length
	if length < len(p.Data) {
		length = len(p.Data)
	}
	ci := gopacket.CaptureInfo{Timestamp: p.Timestamp, CaptureLength: len(p.Data), Length: length, InterfaceIndex: id}
	return w.ng.WritePacket(ci, p.Data)
}

// Flush writes out buffered packets. A writer that saw no packet writes
// an empty section with one Ethernet interface, so the file still opens.
func (w *Writer) Flush() error {
	if w.ng == nil {
		ng, err := pcapgo.NewNgWriterInterface(w.w, ngInterface(1), ngOptions)
		if err != nil {
			return err
		}
		w.ng = ng
	}
	return w.ng.Flush()
}
