package analyzer

import "time"

// Paths are the captures' paths, in the order of flow.Pos.File.
func (r *Result) Paths() []string {
	out := make([]string, len(r.Captures))
	for i, c := range r.Captures {
		out[i] = c.Path
	}
	return out
}

// LastPacket is the latest packet time of all captures: what a
// reproducible report's generation time is pinned to, and a conn.log's
// #close.
func (r *Result) LastPacket() time.Time {
	var t time.Time
	for _, c := range r.Captures {
		if c.Last.After(t) {
			t = c.Last
		}
	}
	return t
}
