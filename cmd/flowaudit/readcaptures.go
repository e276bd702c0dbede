package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/report"
	"github.com/flowaudit/flowaudit/catalog"
	"github.com/jedib0t/go-pretty/v6/progress"
	"github.com/spf13/pflag"
)

// captureFlags are the reading and tracking flags flows, analyze and roles
// share.
type captureFlags struct {
	tcpTimeout, udpTimeout, otherTimeout time.Duration
	maxConnections, maxServices          int
	sweepThreshold                       int
	vlanKey                              bool
	cpuProfile                           string
	rotated, parallel                    bool

	// lateDigests is not a flag: analyze reads with
	// analyzer.Options.LateDigests and waits for the captures' SHA-256
	// after its audit (analysis.Report).
	lateDigests bool
	// early is the first capture, its digest begun before the catalogs
	// and inventory load (analyze: analyzer.StartEarly).
	early *analyzer.Early
	// addrMACs records each sender's MAC, for role inference (roles,
	// --infer-roles); nothing else uses them.
	addrMACs bool
	// forAudit: the services are only audited (analyze without
	// --infer-roles): analyzer.Options.ForAudit.
	forAudit bool
	// opened are named pipes diff looked at first, read from here (see
	// analyzer.Options.Opened).
	opened map[string]io.Reader
	// onFiles is given the files read (analyzer.Options.OnFiles): flows
	// names each connection's file from them.
	onFiles func(files []string)
}

func (c *captureFlags) register(fs *pflag.FlagSet) {
	fs.DurationVar(&c.tcpTimeout, "tcp-timeout", flow.DefaultTCPTimeout, "idle timeout of TCP connections")
	fs.DurationVar(&c.udpTimeout, "udp-timeout", flow.DefaultUDPTimeout, "idle timeout of UDP connections")
	fs.DurationVar(&c.otherTimeout, "icmp-timeout", flow.DefaultOtherTimeout, "idle timeout of ICMP and other IP protocols")
	fs.IntVar(&c.maxConnections, "max-connections", flow.DefaultMaxConnections, "live connections kept before the oldest idle one is ended early")
	fs.IntVar(&c.maxServices, "max-services", flow.DefaultMaxServices, "services aggregated at most (client, server, protocol, port); connections of more are counted, not kept")
	fs.IntVar(&c.sweepThreshold, "sweep-threshold", flow.DefaultSweepThreshold, "a client contacting more than `N` servers on one port, or N ports of one server, is one sweep finding instead of N services; 0: off")
	fs.BoolVar(&c.vlanKey, "vlan-key", false, "tell connections apart by VLAN too (same addresses in several VLANs)")
	fs.BoolVar(&c.rotated, "rotated", false, "the captures are rotated parts of one link: follow connections from each into the next whatever their times (without it, a capture starting more than 1s before the previous ones ended is another link)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the command to `FILE` (for performance work: make pgo)")
	_ = fs.MarkHidden("cpuprofile")
}

// registerParallel adds --parallel, for the commands that aggregate
// (analyze, roles, rules); flows writes connections as they end, in order.
func (c *captureFlags) registerParallel(fs *pflag.FlagSet) {
	fs.BoolVar(&c.parallel, "parallel", false, "read the captures concurrently, one per core, sharing --max-connections; the report is byte-identical to reading them in order (captures of one link that share connections, and one needing more than its share, are read again in order)")
}

// profile starts the CPU profile --cpuprofile asks for. The returned
// function stops it; the command defers it, so the profile covers the
// reports written too.
func (c *captureFlags) profile(cmd string) (stop func(), err error) {
	if c.cpuProfile == "" {
		return func() {}, nil
	}
	f, err := os.Create(c.cpuProfile)
	if err != nil {
		return nil, fmt.Errorf("%s: --cpuprofile: %w", cmd, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: --cpuprofile: %w", cmd, err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func (c *captureFlags) validate(cmd string) error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--tcp-timeout", c.tcpTimeout}, {"--udp-timeout", c.udpTimeout}, {"--icmp-timeout", c.otherTimeout}} {
		if d.v <= 0 {
			return usagef("%s: %s must be positive, got %s", cmd, d.name, d.v)
		}
	}
	if c.maxConnections <= 0 {
		return usagef("%s: --max-connections must be positive, got %d", cmd, c.maxConnections)
	}
	if c.sweepThreshold < 0 {
		return usagef("%s: --sweep-threshold must be 0 (off) or positive, got %d", cmd, c.sweepThreshold)
	}
	if c.maxServices <= 0 {
		return usagef("%s: --max-services must be positive, got %d", cmd, c.maxServices)
	}
	return nil
}

// readCaptures runs the pipeline with the flags, drawing a progress bar
// for large files and a summary on stderr when it is a terminal. cat
// decides the client of mid-stream connections (nil: the built-in
// catalog). It returns what was read even when a capture fails part-way,
// together with the error.
//
// With onConn set the caller wants connections, not the per-service
// aggregates or the captures' digests (flows): both are skipped.
func (e *env) readCaptures(paths []string, cat *catalog.Catalog, c captureFlags, onConn func(*flow.Connection)) (*analyzer.Result, error) {
	p, err := e.startCaptures(paths, cat, c, onConn, false)
	if err != nil {
		return nil, err
	}
	return p.wait()
}

// pendingRead is a read of the captures under way on its own goroutine
// (startCaptures in the background): analyze starts it before it loads
// catalogs, inventory and waivers when it needs none of them to read.
type pendingRead struct {
	e    *env
	prog *captureProgress
	done chan struct{}
	stop atomic.Bool
	// early is the first capture's digest begun before the read: cancel
	// ends it too.
	early  *analyzer.Early
	waited bool // wait was called: nothing to cancel
	res    *analyzer.Result
	err    error
}

// startCaptures begins what readCaptures does; with background the
// captures are read on another goroutine (their progress bar held back
// until wait, so that what the caller prints meanwhile is not drawn
// over), else at once.
func (e *env) startCaptures(paths []string, cat *catalog.Catalog, c captureFlags, onConn func(*flow.Connection), background bool) (*pendingRead, error) {
	if stdin := slices.Index(paths, "-"); stdin >= 0 && slices.Contains(paths[stdin+1:], "-") {
		return nil, usagef("standard input (-) is given more than once: it can be read only once")
	}
	p := &pendingRead{e: e, done: make(chan struct{}), early: c.early}
	opts := analyzer.Options{
		TCPTimeout: c.tcpTimeout, UDPTimeout: c.udpTimeout, OtherTimeout: c.otherTimeout,
		MaxConnections: c.maxConnections, MaxServices: c.maxServices, VLANKey: c.vlanKey,
		OnConnection: onConn, Stdin: e.stdin, Opened: c.opened, NoHash: onConn != nil, NoServices: onConn != nil,
		SweepThreshold: c.sweepThreshold, Rotated: c.rotated, Parallel: c.parallel,
		LateDigests: c.lateDigests && onConn == nil, MaxNames: maxNames,
		Early: c.early, Stop: &p.stop, AddrMACs: c.addrMACs, OnFiles: c.onFiles, ForAudit: c.forAudit && onConn == nil,
	}
	if c.sweepThreshold == 0 {
		opts.SweepThreshold = -1 // off
	}
	if cat != nil {
		opts.ServerPorts = cat
	}
	e.setMemoryLimit(c, onConn == nil)
	p.prog = e.newCaptureProgress()
	if p.prog != nil {
		opts.Progress = p.prog.update
		p.prog.held = background
	}
	if !background {
		p.res, p.err = analyzer.Run(paths, opts)
		close(p.done)
		return p, nil
	}
	go func() {
		p.res, p.err = analyzer.Run(paths, opts)
		close(p.done)
	}()
	return p, nil
}

// cancel stops the read at its next check (every progressEvery packets
// or records) and waits for it: the command failed before it needed
// what was read. Its progress bar, held, is never drawn: a read given
// up is not "done".
func (p *pendingRead) cancel() {
	if p == nil || p.waited {
		return
	}
	p.stop.Store(true)
	p.early.Abandon()
	<-p.done
	if p.prog != nil {
		p.prog.stop()
	}
}

// wait waits for the read, ends the progress bar, writes the summary and
// the warnings, and returns what was read, with the error.
func (p *pendingRead) wait() (*analyzer.Result, error) {
	e, prog := p.e, p.prog
	p.waited = true
	if prog != nil {
		prog.release()
	}
	<-p.done
	res, err := p.res, p.err
	if prog != nil {
		prog.stop()
	}
	if res != nil && e.stderrTTY {
		e.summary(res)
	}
	if res != nil {
		// Always said, terminal or not: a warning is not an error, but
		// the capture was not read to its end.
		for _, c := range res.Captures {
			if c.Status == analyzer.StatusCutShort {
				// A connection log counts records, not frames (its
				// packets are those the records count).
				last, n, what, done := "record", c.Packets, "frame", "analysed"
				if c.FlowLog {
					last, n, what, done = "line", c.Records, "connection record", "read"
				}
				were := "were"
				if n == 1 {
					were = "was"
				}
				fmt.Fprintf(e.stderr, "flowaudit: warning: %v (its last %s is incomplete; the %s before it %s %s)\n", c.Err, last, report.CountOf(int(n), what), were, done)
			}
		}
		err = errors.Join(err, res.NoData())
	}
	return res, err
}

// Memory the live connections and the services cost, for the soft limit
// setMemoryLimit sets: measured on generated scans (README, "Memory").
const (
	memoryBase          = 64 << 20
	memoryPerConnection = 640
	memoryServices      = 64 << 20
	memoryPerService    = 3 << 10
)

// setMemoryLimit gives Go's collector a soft memory limit from the bounds
// the flags set (the live connections and, for commands that keep them,
// the services), so garbage is collected before it doubles the peak: 224
// MiB for flows and 480 MiB for analyze at the defaults. --parallel needs
// no more: the files read at once share --max-connections (runParallel).
// GOMEMLIMIT, when set, wins.
func (e *env) setMemoryLimit(c captureFlags, services bool) {
	if e.getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(memoryLimit(c, services))
}

// memoryLimit is the soft limit setMemoryLimit sets. Huge bounds
// (--max-connections 1e17) saturate at no limit instead of overflowing
// into a small one, under which the collector would run without pause.
func memoryLimit(c captureFlags, services bool) int64 {
	limit := int64(memoryBase)
	add := func(n int, per int64) {
		if n > 0 && int64(n) > (math.MaxInt64-limit)/per {
			limit = math.MaxInt64
			return
		}
		limit += int64(n) * per
	}
	add(c.maxConnections, memoryPerConnection)
	if services {
		add(1, memoryServices)
		add(c.maxServices, memoryPerService)
	}
	return limit
}

// summary prints what was read on stderr.
func (e *env) summary(res *analyzer.Result) {
	var b strings.Builder
	files := "files"
	if len(res.Captures) == 1 {
		files = "file"
	}
	fmt.Fprintf(&b, "%d %s, %d packets, %d bytes; %d decoded", len(res.Captures), files, res.Packets, res.Bytes, res.Decoded)
	if len(res.Skipped) > 0 {
		fmt.Fprintf(&b, "; %s", skippedText(res))
	}
	st := res.Stats
	fmt.Fprintf(&b, "\n%d connections", st.Connections)
	if n := res.ServiceCount(); n > 0 {
		fmt.Fprintf(&b, ", %d services", n)
	}
	if st.Evicted > 0 {
		fmt.Fprintf(&b, "; %d ended early because more than --max-connections were live", st.Evicted)
	}
	if st.ICMPErrorsAttached > 0 {
		fmt.Fprintf(&b, "; %d ICMP errors attached to the connections they quote", st.ICMPErrorsAttached)
	}
	if st.ClockJumps > 0 {
		fmt.Fprintf(&b, "; the clock went back %d times (files out of time order?)", st.ClockJumps)
	}
	if st.FragmentsOrphaned > 0 {
		fmt.Fprintf(&b, "; %d fragments without their first fragment", st.FragmentsOrphaned)
	}
	fmt.Fprintln(e.stderr, b.String())
}

// skippedText says how many frames were not analysed, by reason, and the
// first the decoder failed on.
func skippedText(res *analyzer.Result) string {
	parts := make([]string, len(res.Skipped))
	for i, s := range res.Skipped {
		parts[i] = fmt.Sprintf("%s %d", s.Reason, s.Count)
	}
	t := fmt.Sprintf("skipped %s (%s)", report.CountOf(int(res.SkippedTotal()), "frame"), strings.Join(parts, ", "))
	if res.FirstDecodeError != nil {
		t += fmt.Sprintf("; first decode error: %v", res.FirstDecodeError)
	}
	return t
}

// progressMinSize is the file size from which a progress bar is drawn (a
// variable for tests).
var progressMinSize int64 = 8 << 20

// captureProgress draws a go-pretty progress bar on stderr for each file of
// at least progressMinSize bytes.
type captureProgress struct {
	pw       progress.Writer
	mu       sync.Mutex
	trackers map[int]*progress.Tracker // per file: --parallel reads several at once
	started  bool
	held     bool // not drawn yet: release draws it
	done     chan struct{}
}

func (e *env) newCaptureProgress() *captureProgress {
	if !e.stderrTTY {
		return nil
	}
	pw := progress.NewWriter()
	pw.SetOutputWriter(e.stderr)
	pw.SetUpdateFrequency(100 * time.Millisecond)
	pw.SetTrackerLength(30)
	pw.SetMessageLength(32)
	pw.Style().Visibility.ETA = true
	pw.Style().Visibility.Value = true
	if e.getenv("NO_COLOR") != "" {
		pw.Style().Colors = progress.StyleColors{}
	}
	return &captureProgress{pw: pw, trackers: map[int]*progress.Tracker{}, done: make(chan struct{})}
}

func (p *captureProgress) update(u analyzer.Progress) {
	if u.Size < progressMinSize {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.render()
	tr := p.trackers[u.File]
	if tr == nil {
		tr = &progress.Tracker{Message: filepath.Base(u.Path), Total: u.Size, Units: progress.UnitsBytes}
		p.trackers[u.File] = tr
		p.pw.AppendTracker(tr)
	}
	tr.SetValue(u.Read)
	if u.Done {
		tr.MarkAsDone()
	}
}

// render starts drawing, unless held or started before. p.mu is held.
func (p *captureProgress) render() {
	if p.started || p.held {
		return
	}
	p.started = true
	go func() {
		p.pw.Render()
		close(p.done)
	}()
}

// release lets a held progress bar be drawn, at once if a file is under
// way.
func (p *captureProgress) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held = false
	if len(p.trackers) > 0 {
		p.render()
	}
}

func (p *captureProgress) stop() {
	p.mu.Lock()
	started := p.started
	p.mu.Unlock()
	if !started {
		return
	}
	// Let the last state render, then stop.
	deadline := time.Now().Add(time.Second)
	for p.pw.LengthActive() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	p.pw.Stop()
	<-p.done
}

// unaggregatedError says that connections past --max-services were
// counted, not analysed: their services were never audited, so every
// command that reads captures exits 1 on it, as on a damaged capture,
// after writing what it has.
func unaggregatedError(conns uint64, maxServices int) error {
	return fmt.Errorf("%d connections were not analysed: more than --max-services=%d services (a scan?): the analysis is incomplete; raise --max-services to analyse them", conns, maxServices)
}

// maxNames bounds the uids of Zeek's ssl.log and http.log host names (0:
// connlog.DefaultMaxNames); tests lower it to reach the bound.
var maxNames int

// nameOverflowError says that host names of Zeek's ssl.log and http.log
// past the uid bound were not kept: their connections are unnamed, so a
// host-name rule may have left a service undocumented. Every command that
// reads captures exits 1 on it, after writing what it has.
func nameOverflowError(overflow uint64, max int) error {
	return fmt.Errorf("%d host names of the ssl.log and http.log were not kept: more than %d uids: their connections are unnamed and a host-name rule may have left their service undocumented: the analysis is incomplete", overflow, max)
}

// dnsOverflowError says that answers of Zeek's dns.log past the bound
// were not kept, as nameOverflowError does for the uids.
func dnsOverflowError(overflow uint64, max int) error {
	return fmt.Errorf("%d DNS answers of the dns.log were not kept: more than %d answers: the addresses they named may be unnamed and a host-name rule may have left their service undocumented: the analysis is incomplete", overflow, max)
}
