package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/catalog"
	"github.com/jedib0t/go-pretty/v6/progress"
	"github.com/spf13/pflag"
)

// progressMinSize is the file size from which a progress bar is drawn.
const progressMinSize = 8 << 20

// captureFlags are the reading and tracking flags flows and analyze share.
type captureFlags struct {
	tcpTimeout, udpTimeout time.Duration
	maxConnections         int
}

func (c *captureFlags) register(fs *pflag.FlagSet) {
	fs.DurationVar(&c.tcpTimeout, "tcp-timeout", 0, "idle time after which a TCP connection ends (default 5m, as Zeek)")
	fs.DurationVar(&c.udpTimeout, "udp-timeout", 0, "idle time after which a UDP flow ends (default 1m, as Zeek)")
	fs.IntVar(&c.maxConnections, "max-connections", 0, "bound on live connections; the oldest idle is evicted past it (default 1,000,000)")
}

// readCaptures runs the pipeline with the flags, drawing a progress bar and
// a summary on stderr when it is a terminal. It returns what was read even
// when a capture fails part-way, together with the error.
func (e *env) readCaptures(paths []string, cat *catalog.Catalog, c captureFlags, onConn func(*flow.Connection)) (*analyzer.Result, error) {
	opts := analyzer.Options{
		TCPTimeout: c.tcpTimeout, UDPTimeout: c.udpTimeout, MaxConnections: c.maxConnections,
		ServerPorts: cat, OnConnection: onConn, Stdin: e.stdin,
	}
	var pw progress.Writer
	trackers := map[int]*progress.Tracker{}
	if e.stderrTTY {
		opts.Progress = func(p analyzer.Progress) {
			t := trackers[p.File]
			if t == nil {
				if p.Size < progressMinSize || p.Done {
					return
				}
				if pw == nil {
					pw = progress.NewWriter()
					pw.SetOutputWriter(e.stderr)
					pw.SetUpdateFrequency(100 * time.Millisecond)
					pw.SetAutoStop(false)
					pw.ShowETA(true)
					if !e.color {
						pw.Style().Colors = progress.StyleColors{}
					}
					go pw.Render()
				}
				t = &progress.Tracker{Message: p.Path, Total: p.Size, Units: progress.UnitsBytes}
				trackers[p.File] = t
				pw.AppendTracker(t)
			}
			t.SetValue(p.Read)
			if p.Done {
				t.MarkAsDone()
			}
		}
	}
	res, err := analyzer.Run(paths, opts)
	if pw != nil {
		for pw.IsRenderInProgress() && pw.LengthActive() > 0 {
			time.Sleep(10 * time.Millisecond)
		}
		pw.Stop()
	}
	if res != nil && e.stderrTTY {
		e.summary(res)
	}
	return res, err
}

// summary prints what was read to stderr: packets, bytes, skipped frames
// by reason, decode errors.
func (e *env) summary(res *analyzer.Result) {
	var b strings.Builder
	fmt.Fprintf(&b, "read %d packets (%d bytes) from %d file(s); %d decoded, %d connections",
		res.Packets, res.Bytes, len(res.Captures), res.Decoded, res.Stats.Connections)
	if n := res.SkippedTotal(); n > 0 {
		var parts []string
		for _, s := range res.Skipped {
			parts = append(parts, fmt.Sprintf("%s %d", s.Reason, s.Count))
		}
		fmt.Fprintf(&b, "; skipped %d (%s)", n, strings.Join(parts, ", "))
	}
	if res.DecodeErrors > 0 {
		fmt.Fprintf(&b, "; %d decode errors, first: %v", res.DecodeErrors, res.FirstDecodeError)
	}
	fmt.Fprintln(e.stderr, b.String())
}
