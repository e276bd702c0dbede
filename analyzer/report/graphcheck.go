package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
)

// LabelOverlaps checks a Graphviz SVG for text of one node or edge drawn
// over text of another: it estimates each <text> element's box from its
// position, anchor, font size and Verdana's character widths (the font
// the layout measured with), and reports the first two boxes of different
// elements that intersect. The tests hold every sample pilot's graph to it.
func LabelOverlaps(svg []byte) error {
	type box struct {
		owner, text    string
		x0, y0, x1, y1 float64
	}
	var boxes []box
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var groups []string // the id of each open <g> (the innermost node or edge owns its texts)
	var cur *box
	var owner string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("svg: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			attr := func(name string) string {
				for _, a := range t.Attr {
					if a.Name.Local == name {
						return a.Value
					}
				}
				return ""
			}
			switch t.Name.Local {
			case "g":
				id := ""
				if c := attr("class"); c == "node" || c == "edge" {
					id = attr("id")
				}
				groups = append(groups, id)
				owner = ""
				for _, g := range groups {
					if g != "" {
						owner = g
					}
				}
			case "text":
				x, _ := strconv.ParseFloat(attr("x"), 64)
				y, _ := strconv.ParseFloat(attr("y"), 64)
				fs, _ := strconv.ParseFloat(attr("font-size"), 64)
				cur = &box{owner: owner, x0: x, y0: y - 0.8*fs, y1: y + 0.2*fs, x1: fs} // x1 holds the size until the text is read
				switch attr("text-anchor") {
				case "middle":
					cur.text = "middle"
				case "end":
					cur.text = "end"
				}
			}
		case xml.CharData:
			if cur != nil {
				s := string(t)
				w := textWidth(s) * cur.x1
				switch cur.text {
				case "middle":
					cur.x0 -= w / 2
				case "end":
					cur.x0 -= w
				}
				cur.x1 = cur.x0 + w
				cur.text = s
				boxes = append(boxes, *cur)
				cur = nil
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "g":
				groups = groups[:len(groups)-1]
			case "text":
				cur = nil
			}
		}
	}
	const slack = 0.5 // points each box may touch another by
	for i := range boxes {
		for j := i + 1; j < len(boxes); j++ {
			a, b := boxes[i], boxes[j]
			if a.owner == b.owner || a.owner == "" || b.owner == "" {
				continue
			}
			if a.x0+slack < b.x1-slack && b.x0+slack < a.x1-slack && a.y0+slack < b.y1-slack && b.y0+slack < a.y1-slack {
				return fmt.Errorf("label %q (%s) overlaps %q (%s)", a.text, a.owner, b.text, b.owner)
			}
		}
	}
	return nil
}

// verdana are Verdana's advance widths in ems for the letters labels use
// most; other characters count as wide as an uppercase letter.
var verdana = map[rune]float64{
	' ': 0.352, ',': 0.364, '.': 0.364, ':': 0.454, ';': 0.454, '/': 0.454, '(': 0.454, ')': 0.454, '[': 0.454, ']': 0.454,
	'-': 0.431, '+': 0.818, '×': 0.818, '_': 0.636,
	'a': 0.601, 'b': 0.623, 'c': 0.521, 'd': 0.623, 'e': 0.596, 'f': 0.352, 'g': 0.623, 'h': 0.633, 'i': 0.274, 'j': 0.344,
	'k': 0.592, 'l': 0.274, 'm': 0.973, 'n': 0.633, 'o': 0.607, 'p': 0.623, 'q': 0.623, 'r': 0.427, 's': 0.521, 't': 0.394,
	'u': 0.633, 'v': 0.592, 'w': 0.818, 'x': 0.592, 'y': 0.592, 'z': 0.525,
	'I': 0.421, 'J': 0.455, 'M': 0.843, 'W': 0.989,
}

// textWidth is a string's width in ems, from Verdana's advance widths.
func textWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		switch v, ok := verdana[r]; {
		case ok:
			w += v
		case r >= '0' && r <= '9':
			w += 0.636
		default:
			w += 0.75
		}
	}
	return w
}
