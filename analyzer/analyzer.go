// Package analyzer is the pipeline glue: it reads capture files in order
// (capture), decodes each frame with one decoder (decode) and feeds the
// connection tracker (flow). Frames are numbered per file while connections
// continue across files, so rotated captures of one link read as one.
//
// An input whose content is a sensor's connection log (a Zeek conn.log,
// TSV or JSON, gzip or not; see connlog) is read as records instead: each
// is a finished connection, folded into the same services and sweeps. A
// directory stands for the conn.log files in it (rotated logs), in order.
//
// Run returns a Result with the per-service aggregates, per-capture facts
// (path, format, SHA-256 of the bytes read, packet count, time span) and the
// counters of what was read, decoded, skipped and failed.
package analyzer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/capture"
	"github.com/flowaudit/flowaudit/analyzer/connlog"
	"github.com/flowaudit/flowaudit/analyzer/decode"
	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/names"
	"github.com/flowaudit/flowaudit/catalog"
)

// Options tune Run. The zero value uses the flow package's defaults and the
// embedded catalog.
type Options struct {
	// Idle timeouts and the live-table bound; see flow.Config.
	TCPTimeout, UDPTimeout, OtherTimeout, ClosedTimeout time.Duration
	MaxConnections                                      int
	VLANKey                                             bool // VLAN tags are part of the connection key (flow.Config.VLANKey)

	// ServerPorts decides the client of mid-stream TCP and UDP
	// connections; nil means the embedded catalog's ports
	// (catalog.BuiltinServerPorts).
	ServerPorts flow.ServerPorts

	// OnConnection receives each connection as it finishes (see
	// flow.Config.OnConnection). Connections still open at the end come
	// last, ordered by first frame.
	OnConnection func(*flow.Connection)

	// Progress, if set, is called as each file is read: about every
	// MiB, and once when the file is done.
	Progress func(Progress)

	// Stdin is read for the path "-"; nil means os.Stdin.
	Stdin io.Reader

	// Opened are inputs the caller opened already, by path: a named pipe
	// or device it had to look at first (the bytes it looked at kept in
	// front), which could not be opened again without losing them. The
	// file is read from here, under its path, not opened.
	Opened map[string]io.Reader

	// NoHash skips the SHA-256 of each capture (Capture.SHA256 stays
	// empty), for commands that do not report it.
	NoHash bool

	// MaxServices bounds the per-service aggregates; see flow.Config.
	MaxServices int

	// NoServices skips the per-service aggregates (Result.Services stays
	// empty), for commands that only print connections.
	NoServices bool

	// ForAudit converts the services straight into the audit's input as
	// Run finishes (Result.TakeAuditServices), in place of
	// Result.Services: one copy of each service instead of two, for a
	// command that only audits them.
	ForAudit bool

	// SweepThreshold: see flow.Config.SweepThreshold (0: the default,
	// negative: off).
	SweepThreshold int

	// AddrMACs records the source MAC of every sender (Result.AddrMACs),
	// which role inference ties addresses to hosts by; without it the
	// tracker records none.
	AddrMACs bool

	// NoNames skips learning host names (DNS answers, SNI, HTTP Host;
	// see package names): connections and services carry none.
	NoNames bool

	// Rotated says the captures are rotated parts of one link: their
	// connections are followed from one file into the next, whatever
	// their times. Without it a capture whose first packet is older than
	// the latest packet of the captures before it is another link (two
	// links captured at the same time): it starts a connection table of
	// its own, so that the links' connections are not mixed up.
	Rotated bool

	// LateDigests lets Run return before the SHA-256 of every regular
	// file is done: Result.WaitDigests waits for them and completes the
	// captures. What the caller does in between (the audit) runs while
	// the files are hashed, on the second core. Without it, or with
	// Parallel, Run waits for them itself.
	LateDigests bool

	// Parallel reads the files concurrently, one per core, when
	// OnConnection is nil and none is standard input ("-") or another
	// pipe, which could not be read again. The Result is the same as without it: files
	// that form one link (each starts at or after the previous ended)
	// and share connections, or where a bound was reached, are read
	// again in order, in one connection table. The files read at once
	// share MaxConnections, so memory is that of one table; a file that
	// needs more than its share is read again with the whole bound.
	Parallel bool

	// MaxNames bounds the uids whose host names Zeek's ssl.log and
	// http.log give (0: connlog.DefaultMaxNames); names past it are
	// counted in ZeekNames.Overflow, their connections left unnamed. It
	// bounds the dns.log's address answers too (ZeekNames.DNSOverflow).
	MaxNames int

	// Stop, once set, ends the reading at the next check (every 1,024
	// packets, records or lines of a Zeek name log, and between files)
	// with ErrStopped, and the digests of mapped files at their next
	// window: the caller no longer
	// needs what is read (it failed while the files were read in the
	// background).
	Stop *atomic.Bool

	// Early is the first capture, opened and its digest begun before Run
	// (StartEarly); Run reads it when it reads that path.
	Early *Early

	// OnFiles, when set, is called once with the files Run reads, in
	// order, before it reads any: the paths given with a directory
	// replaced by the connection logs in it and the Zeek name logs
	// (ssl.log, http.log, dns.log) taken out. A connection's
	// flow.Pos.File is an index into them, not into the paths given.
	OnFiles func(files []string)

	// zeekNames are the host names of Zeek's ssl.log and http.log by uid
	// and the dns.log's answers (Run finds them; see ZeekNames).
	zeekNames *connlog.Names
}

// Progress reports how far Run is through one file.
type Progress struct {
	File int    // index of the file among those Run reads (see Options.OnFiles)
	Path string // its path ("-" for standard input)
	Read int64  // bytes read from it so far (compressed bytes for .gz)
	Size int64  // its size, or -1 when unknown (standard input, pipes)
	Done bool   // the file is finished (read to the end or failed)
}

// Capture describes one input file.
type Capture struct {
	Path   string // as given ("-" for standard input)
	Format string // as capture.Reader.Format reports it, e.g. "pcapng (little-endian)"
	// SHA256 is the hex SHA-256 of the file's bytes as stored (before
	// gzip decompression). For a regular file it covers the whole file,
	// even when reading stopped at an error; for standard input it covers
	// the bytes read.
	SHA256  string
	Size    int64  // bytes hashed
	Packets uint64 // frames read; for a connection log, the packets its records count
	Bytes   uint64 // captured bytes of those frames; for a connection log, their IP bytes
	// Records is the number of connection records read from a
	// connection log (Format names it); 0 for a capture. A record has no
	// frames: Decoded, Skipped and LinkTypes stay empty.
	Records uint64
	// Uncounted is how many of those records gave no packet or no IP
	// byte count for a direction (a conn.log without those columns or
	// with them unset, a NetFlow record without octets): Packets, Bytes
	// and the services' counts take them as 0.
	Uncounted uint64
	// OneWay says that the file holds NetFlow/IPFIX records none of
	// which saw packets both ways: its exporter may see one direction
	// only, so that "unanswered" may mean a reply not exported.
	OneWay  bool
	FlowLog bool      // the file is a connection log (connlog), not a capture
	First   time.Time // earliest and latest frame timestamp (zero without timestamped frames)
	Last    time.Time
	// Complete is true when the file was read to its end without error.
	Complete bool
	// Status says how far the file was read; Err why it was not read to
	// its end (nil when complete). A cut-short file's Err is a warning:
	// every record before the last one was read and analysed.
	Status Status
	Err    error

	Decoded   uint64   // frames decoded and tracked
	Skipped   []Skip   // frames not decoded, per reason
	LinkTypes []uint32 // link types of its frames, in order of appearance

	start time.Time // the time of its first frame (zero without one): where a link starts
}

// Status is how far a capture was read.
type Status string

// Capture statuses.
const (
	// StatusComplete: read to its end.
	StatusComplete Status = "complete"
	// StatusCutShort: the file ends inside its last record (tcpdump
	// killed, a file copied while written); all the records before it
	// were read. A warning, not an error.
	StatusCutShort Status = "cut-short"
	// StatusDamaged: reading stopped at damage before the end (a corrupt
	// record or block, a damaged gzip stream); the records before it
	// were read. An error.
	StatusDamaged Status = "damaged"
	// StatusUnreadable: not a capture, or no record could be read from
	// it. An error.
	StatusUnreadable Status = "unreadable"
)

// IsError says whether the status makes the run fail.
func (s Status) IsError() bool { return s == StatusDamaged || s == StatusUnreadable }

// NothingAnalysed says why a capture that was read gave no frame to the
// tracker, or "" when some frame was analysed (or the file holds none and
// says so through its status): "12 frames of link type 127 (RadioTap),
// which flowaudit does not decode".
func (c *Capture) NothingAnalysed() string {
	if c.Decoded > 0 || c.Packets == 0 || c.Records > 0 {
		return ""
	}
	lts := make([]string, len(c.LinkTypes))
	for i, lt := range c.LinkTypes {
		lts[i] = fmt.Sprintf("%d (%s)", lt, capture.LinkTypeName(lt))
	}
	reasons := make([]string, len(c.Skipped))
	unknownOnly := len(c.Skipped) == 1 && c.Skipped[0].Reason == decode.ReasonUnknownLinkType.String()
	for i, sk := range c.Skipped {
		reasons[i] = fmt.Sprintf("%s %d", sk.Reason, sk.Count)
	}
	frames := "frames"
	if c.Packets == 1 {
		frames = "frame"
	}
	lt := "link type " + strings.Join(lts, ", ")
	if len(lts) > 1 {
		lt = "link types " + strings.Join(lts, ", ")
	}
	if unknownOnly {
		return fmt.Sprintf("%d %s of %s, which flowaudit does not decode, skipped", c.Packets, frames, lt)
	}
	return fmt.Sprintf("%d %s of %s, none carrying IP traffic flowaudit follows, skipped (%s)", c.Packets, frames, lt, strings.Join(reasons, ", "))
}

// NotDecoded says how many of the capture's frames were of link types
// flowaudit does not decode, and which: "3 frames of link type 147
// (USER0), which flowaudit does not decode"; "" when there were none.
// Whatever those frames carried is missing from the analysis.
func (c *Capture) NotDecoded() string {
	var n uint64
	for _, sk := range c.Skipped {
		if sk.Reason == decode.ReasonUnknownLinkType.String() {
			n += sk.Count
		}
	}
	if n == 0 {
		return ""
	}
	var lts []string
	for _, lt := range c.LinkTypes {
		if !decode.SupportedLinkType(lt) {
			lts = append(lts, fmt.Sprintf("%d (%s)", lt, capture.LinkTypeName(lt)))
		}
	}
	frames, which := "frames", "link type "
	if n == 1 {
		frames = "frame"
	}
	if len(lts) > 1 {
		which = "link types "
	}
	return fmt.Sprintf("%d %s of %s%s, which flowaudit does not decode", n, frames, which, strings.Join(lts, ", "))
}

// ErrNoData: no frame of any capture was decoded into a connection, so
// there is nothing to report on, and a run that says "no findings" would
// say it about nothing.
var ErrNoData = errors.New("no frame was analysed")

// NoData returns an error wrapping ErrNoData that names each capture, its
// link types and how many frames were skipped, when no frame of any
// capture was tracked; nil otherwise.
func (r *Result) NoData() error {
	if r.Decoded > 0 || r.Records > 0 {
		return nil
	}
	var parts []string
	for i := range r.Captures {
		c := &r.Captures[i]
		why := c.NothingAnalysed()
		switch {
		case why != "":
		case c.Status == StatusUnreadable && c.Err != nil:
			why = "unreadable"
		case c.Records == 0 && c.FlowLog:
			why = "no connection records (a header and nothing after it)"
		case c.Packets == 0:
			why = "no packets (a file header and nothing after it)"
		default:
			continue
		}
		parts = append(parts, displayName(c.Path)+": "+why)
	}
	return fmt.Errorf("%w: %s", ErrNoData, strings.Join(parts, "; "))
}

func displayName(path string) string {
	if path == "-" {
		return "<stdin>"
	}
	return path
}

// span widens First and Last to take in ts; a zero ts (a pcapng simple
// packet block has no time) is left out. Time moves on in most captures, so
// most packets cost one comparison.
func (c *Capture) span(ts time.Time) {
	if ts.After(c.Last) {
		c.Last = ts
		if c.First.IsZero() {
			c.First = ts
		}
	} else if !ts.IsZero() && ts.Before(c.First) {
		c.First = ts
	}
}

// addLinkType notes a link type of the file's frames.
func (c *Capture) addLinkType(lt uint32) {
	for _, have := range c.LinkTypes {
		if have == lt {
			return
		}
	}
	c.LinkTypes = append(c.LinkTypes, lt)
}

// Skip counts frames the decoder passed over for one reason.
type Skip struct {
	Reason string // decode.Reason's String
	Count  uint64
}

// DecodeError is the first frame the decoder failed on.
type DecodeError struct {
	Path  string
	Frame uint64
	Err   error
}

func (e *DecodeError) Error() string { return fmt.Sprintf("%s: frame %d: %v", e.Path, e.Frame, e.Err) }
func (e *DecodeError) Unwrap() error { return e.Err }

// given is the reader Run takes path's bytes from without opening it:
// standard input for "-" (Stdin, else the process's), or an input the
// caller opened (Opened); nil for a path to open.
func (o *Options) given(path string) io.Reader {
	switch {
	case path == "-":
		if o.Stdin != nil {
			return o.Stdin
		}
		return os.Stdin
	case o.Opened[path] != nil:
		return o.Opened[path]
	}
	return nil
}

// Result is what Run found.
type Result struct {
	Captures []Capture      // one per file read, in order
	Services []flow.Service // per client, server, protocol and server port; sorted
	Sweeps   []flow.Sweep   // clients that swept many servers or ports; their services are here, not in Services
	Stats    flow.Stats     // tracker counters
	// AddrMACs is the source MAC of every address that sent an Ethernet
	// frame (not in a tunnel), sorted by address: what ties the
	// addresses of a dual-stack host (roles).
	AddrMACs []flow.AddrMAC

	Packets   uint64 // frames read, all files
	Bytes     uint64 // their captured bytes
	WireBytes uint64 // their original (on the wire) lengths
	Decoded   uint64 // frames decoded to an IP packet and tracked
	Skipped   []Skip // frames not decoded, per reason, in decode's reason order
	Records   uint64 // connection records read from connection logs, all files

	DecodeErrors     uint64       // frames the decoder failed on (also counted in Skipped, truncated or malformed)
	FirstDecodeError *DecodeError // the first of them, nil if none

	digests []pendingDigest // captures still being hashed (Options.LateDigests)

	// forAudit: the services were converted into audit, not Services
	// (Options.ForAudit).
	forAudit bool
	audit    []audit.Service

	// Names counts the host names learnt (DNS answers, SNI, HTTP Host);
	// NamesSeen says whether there was any.
	Names     names.Stats
	NamesSeen bool

	// ZeekNames are the host names Zeek's ssl.log and http.log gave the
	// conn.log's connections by uid, and its dns.log by address; nil when
	// no such log was read.
	ZeekNames *ZeekNames
}

// SkippedTotal is the number of frames skipped for any reason.
func (r *Result) SkippedTotal() uint64 {
	var n uint64
	for _, s := range r.Skipped {
		n += s.Count
	}
	return n
}

// Run reads the captures in paths, in order, and tracks their connections.
// A file that cannot be read to its end does not stop the run: what was
// read of it is kept, its Capture says where and why it stopped, and the
// files after it are read. Run returns the Result with the errors of the
// damaged and unreadable files joined (each a *capture.Error with the
// file, byte offset and frame, where there is one); a file cut short in
// its last record is a warning in its Capture, not an error. Paths that
// do not exist are reported before any file is read. A directory is
// replaced by the connection logs in it (connlog.Files), so the Result's
// Captures name the files read.
func Run(paths []string, opts Options) (*Result, error) {
	// An early file Run does not read (its path is not among the files,
	// or Run fails before it reads any) is given up: its digest stopped,
	// its descriptor and map released.
	defer opts.Early.Close()
	var expanded []string
	once := false // a file that can be read only once: standard input, a pipe
	for _, p := range paths {
		if p == "-" {
			expanded = append(expanded, p)
			once = true
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			expanded = append(expanded, p)
			once = once || !st.Mode().IsRegular()
			continue
		}
		files, err := connlog.Files(p)
		if err != nil {
			return nil, err
		}
		expanded = append(expanded, files...)
	}
	looker := inputLooker{opts: &opts}
	defer looker.close()
	paths, zeekNames, zeekReadErrs, zeekErr := zeekNameLogs(expanded, opts.MaxNames, opts.Stop, looker.look)
	if paths == nil && zeekErr != nil {
		return nil, zeekErr
	}
	if opts.OnFiles != nil {
		opts.OnFiles(paths)
	}
	if opts.Early != nil && !slices.Contains(paths, opts.Early.path) {
		// A Zeek name log, read above: its early digest, of no use, is
		// stopped now rather than left to compete with the captures'.
		opts.Early.Close()
	}
	opts.zeekNames = zeekNames
	sp := opts.ServerPorts
	if sp == nil {
		sp = catalog.BuiltinServerPorts()
	}
	cfg := flow.Config{
		TCPTimeout:     opts.TCPTimeout,
		UDPTimeout:     opts.UDPTimeout,
		OtherTimeout:   opts.OtherTimeout,
		ClosedTimeout:  opts.ClosedTimeout,
		MaxConnections: opts.MaxConnections,
		VLANKey:        opts.VLANKey,
		ServerPorts:    sp,
		OnConnection:   opts.OnConnection,
		NoServices:     opts.NoServices,
		NoAddrMACs:     !opts.AddrMACs,
		MaxServices:    opts.MaxServices,
		SweepThreshold: opts.SweepThreshold,
	}
	// Standard input or a pipe (bash's <(zcat ...)) can be read only
	// once, and runParallel may read a file again: with one among the
	// files they are read in order.
	if opts.Parallel && !opts.Rotated && opts.OnConnection == nil && len(paths) > 1 && !once {
		res, err := runParallel(paths, opts, cfg)
		if res != nil {
			res.ZeekNames = zeekNamesOf(zeekNames, zeekReadErrs)
		}
		return res, errors.Join(zeekErr, err)
	}
	run := newRunner(opts, cfg)
	run.late = true // the digests are waited for after the merge, or by the caller
	errs := make([]error, len(paths))
	for i, p := range paths {
		if opts.Stop != nil && opts.Stop.Load() {
			errs[i] = ErrStopped
			break
		}
		errs[i] = run.file(i, p)
	}
	res := run.result()
	if !opts.LateDigests {
		for _, d := range res.digests {
			errs[d.file] = errors.Join(errs[d.file], res.waitDigest(d))
		}
		res.digests = nil
	}
	res.ZeekNames = zeekNamesOf(zeekNames, zeekReadErrs)
	return res, errors.Join(append([]error{zeekErr}, errs...)...)
}

type runner struct {
	opts     Options
	cfg      flow.Config
	ports    flow.ServerPorts
	tr       *flow.Tracker
	dec      *decode.Decoder
	res      *Result
	pkt      decode.Packet
	skipped  [256]uint64
	names    *names.Sniffer   // the current link's; nil with Options.NoNames
	sniffers []*names.Sniffer // every link's

	// links are the trackers of the links before the current one (see
	// Options.Rotated); linkLast is the latest packet time of the
	// current link's captures. oneLink keeps every file in one tracker.
	links    []*flow.Tracker
	linkLast time.Time
	oneLink  bool

	// late leaves the digests of regular files to Result.waitDigest
	// (Result.digests) instead of waiting for each at the end of its
	// file; hashing holds a slot of hashSlots from the file's open to
	// its digest, so that few files are hashed (open, mapped) at once.
	late      bool
	hashSlots chan struct{}

	// stopIfEvicted stops reading a file once the tracker ended a
	// connection early: runParallel's first pass, whose share of the
	// live bound is too small for the file; it is read again.
	stopIfEvicted bool
}

// hashQueue is how many files a runner hashes at once at most: files
// read faster than they are hashed wait for a slot.
const hashQueue = 2

// ErrStopped ends a Run whose Options.Stop was set.
var ErrStopped = errors.New("reading stopped: no longer needed")

// errShareExceeded stops a file of runParallel's first pass that needs
// more than its share of the live-connection bound.
var errShareExceeded = errors.New("more live connections than this file's share of --max-connections")

func newRunner(opts Options, cfg flow.Config) *runner {
	r := &runner{opts: opts, cfg: cfg, ports: cfg.ServerPorts, dec: decode.NewDecoder(), res: &Result{}, oneLink: opts.Rotated,
		hashSlots: make(chan struct{}, hashQueue)}
	r.tr = r.newTracker()
	return r
}

// newTracker returns the tracker of a link, with a name sniffer of its
// own: a link's connections are named from its own traffic.
func (r *runner) newTracker() *flow.Tracker {
	cfg := r.cfg
	if !r.opts.NoNames {
		r.names = names.New(names.Limits{})
		r.sniffers = append(r.sniffers, r.names)
		cfg.Namer = r.names
	}
	return flow.NewTracker(cfg)
}

// linkSlack is how much earlier than the previous captures' latest packet
// a capture may start and still continue their link: the packets of one
// link can be a little out of time order where a capture was rotated.
const linkSlack = time.Second

// startsNewLink says whether a capture whose first frame is at start is
// another link than the captures before it, whose latest packet was at
// last: it starts more than linkSlack before last (both were captured at
// the same time). The first frame alone decides, so that a capture is
// never split between links: one without a time (a pcapng simple packet
// block) cannot be placed and continues the link, as with Rotated (its
// frames, and the untimed frames of any capture, are tracked at the time
// of the frame before them); one stamped zero (1970) is earlier than any
// capture before it, so another link. Frames without a time do not move
// last.
func startsNewLink(start, last time.Time) bool {
	return !start.IsZero() && !last.IsZero() && start.Before(last.Add(-linkSlack))
}

// newLink ends the current link: its connections end (as at the end of
// input) and the next capture starts a tracker of its own.
func (r *runner) newLink() {
	r.tr.Flush()
	next := r.newTracker()
	next.ContinueIDs(r.tr)
	r.links = append(r.links, r.tr)
	r.tr = next
	r.linkLast = time.Time{}
}

// result flushes the trackers, merges them in order and fills the Result;
// the files may still be being hashed (Result.digests).
func (r *runner) result() *Result {
	r.tr.Flush()
	r.res.fill(append(r.links, r.tr), r.sniffers, &r.skipped, r.opts.ForAudit)
	return r.res
}

// fill merges the flushed trackers in order into the first and sets what
// the Result takes from it, from the name sniffers and from the frames
// skipped per reason; forAudit: see Options.ForAudit. The Captures are
// all there.
func (res *Result) fill(trackers []*flow.Tracker, sniffers []*names.Sniffer, skipped *[256]uint64, forAudit bool) {
	tr := trackers[0]
	for _, o := range trackers[1:] {
		tr.Merge(o)
	}
	if forAudit {
		res.audit, res.forAudit = auditServices(tr.SortedServices(), res.Paths(), res.Workers()), true
	} else {
		res.Services = tr.Services()
	}
	res.Sweeps = tr.Sweeps()
	res.Stats = tr.Stats()
	res.AddrMACs = tr.AddrMACs()
	res.Names, res.NamesSeen = nameStats(sniffers)
	for reason, n := range skipped { // in decode's reason order
		if n > 0 {
			res.Skipped = append(res.Skipped, Skip{Reason: decode.Reason(reason).String(), Count: n})
		}
	}
}

// nameStats adds up the sniffers' counters.
func nameStats(sniffers []*names.Sniffer) (st names.Stats, seen bool) {
	for _, sn := range sniffers {
		s := sn.Stats()
		st.DNSResponses += s.DNSResponses
		st.DNSMalformed += s.DNSMalformed
		st.DNSAnswers += s.DNSAnswers
		st.SNI += s.SNI
		st.QUICSNI += s.QUICSNI
		st.QUICUndecrypt += s.QUICUndecrypt
		st.HTTPHost += s.HTTPHost
		st.Malformed += s.Malformed
		st.Reassembled += s.Reassembled
		st.Dropped += s.Dropped
		seen = seen || sn.Seen()
	}
	return st, seen
}

// file reads one capture into the tracker.
func (r *runner) file(idx int, path string) (err error) {
	prog := progress{idx: idx, path: path, size: -1, fn: r.opts.Progress}
	var in io.Reader
	regular := false
	early := r.opts.Early.take(path)
	switch {
	case early != nil:
		defer early.f.Close()
		if st, err := early.f.Stat(); err == nil {
			prog.size = st.Size()
		}
		in, regular = early.f, true
	case r.opts.given(path) != nil:
		in = r.opts.given(path)
	default:
		f, err := os.Open(path)
		if err != nil {
			r.res.Captures = append(r.res.Captures, Capture{Path: path, Status: StatusUnreadable, Err: err})
			return err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			prog.size = st.Size()
			regular = true
		}
		in = f
	}
	// A regular file is hashed on another goroutine, so the digest costs
	// no time on the packet path when a second core is free: through the
	// memory map the capture reader reads it by (capture.Share: each
	// window mapped once for both, the digest of exactly the bytes read),
	// or, where the file cannot be mapped, from its own handle (hashOpen);
	// a pipe can only be hashed as it is read, its bytes handed to another
	// goroutine (teeHash).
	var digest chan hashResult
	var h *teeHash
	var mapped io.ReadCloser // the reader's side of the shared map
	switch {
	case early != nil: // begun before Run, holding no slot
		mapped, digest = early.mapped, early.digest
		defer mapped.Close()
	case r.opts.NoHash:
	case regular:
		digest = make(chan hashResult, 1)
		r.hashSlots <- struct{}{}
		share := capture.Share
		if r.opts.Parallel { // the files' windows add up
			share = capture.ShareSmall
		}
		if sh := share(in.(*os.File), 2); sh != nil {
			mapped = sh[0]
			defer mapped.Close() // a flow log, or a capture that failed to open
			go func() {
				digest <- hashReader(sh[1], path, r.opts.Stop)
				<-r.hashSlots
			}()
			break
		}
		hf, err := os.Open(path)
		if err != nil {
			<-r.hashSlots
			digest <- hashResult{err: err}
			break
		}
		go func() {
			digest <- hashOpen(hf, path)
			<-r.hashSlots
		}()
	default:
		h = newTeeHash(in)
		in = h
	}

	c := Capture{Path: path}
	decodedBefore, skippedBefore := r.res.Decoded, r.skipped
	var rd *capture.Reader
	var log *connlog.Reader
	var logRead *countingReader
	defer func() {
		// The digest names the whole of a regular file, even one whose
		// reading stopped at an error; a pipe's covers what was read.
		if rd != nil {
			prog.read = rd.Consumed()
		}
		if logRead != nil {
			prog.read = logRead.n
		}
		c.Size = prog.read
		switch {
		case digest != nil && r.late:
			r.res.digests = append(r.res.digests, pendingDigest{file: idx, capture: len(r.res.Captures), flowLog: log != nil, sum: digest})
		case digest != nil:
			d := <-digest
			if d.err == nil {
				c.SHA256, c.Size = d.sum, d.size
			} else if err == nil {
				err = d.err
			}
		case h != nil:
			c.SHA256 = h.Sum()
		}
		err = c.settle(err, log != nil)
		c.Decoded = r.res.Decoded - decodedBefore
		for reason, n := range r.skipped {
			if n -= skippedBefore[reason]; n > 0 {
				c.Skipped = append(c.Skipped, Skip{Reason: decode.Reason(reason).String(), Count: n})
			}
		}
		if log == nil && c.Last.After(r.linkLast) {
			r.linkLast = c.Last
		}
		r.res.Captures = append(r.res.Captures, c)
		prog.report(true)
	}()
	lastLT := ^uint32(0)

	format, in, err := sniff(in)
	if err != nil {
		return fmt.Errorf("%s: %w", displayName(path), err)
	}
	if format != connlog.None {
		if mapped != nil {
			mapped.Close() // read as a log, not through the map
		}
		logRead = &countingReader{r: in}
		if log, err = connlog.NewReader(path, logRead); err != nil {
			return err
		}
		defer log.Close()
		log.Full = r.opts.OnConnection != nil
		log.ServerPorts = r.ports
		c.Format, c.FlowLog = log.Format(), true
		return r.records(log, idx, &c, &prog, logRead)
	}

	if mapped != nil {
		in = mapped
	}
	rd, err = capture.NewReader(path, in)
	if err != nil {
		rd = nil
		return err
	}
	defer rd.Close()
	c.Format = rd.Format()
	for {
		p, err := rd.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		c.Packets++
		if c.Packets%progressEvery == 0 {
			if prog.fn != nil {
				prog.update(rd.Consumed())
			}
			if r.stopIfEvicted && r.tr.Stats().Evicted > 0 {
				return errShareExceeded
			}
			if r.opts.Stop != nil && r.opts.Stop.Load() {
				return ErrStopped
			}
		}
		c.Bytes += uint64(p.CaptureLength)
		if c.Packets == 1 {
			// The first frame decides the link (see startsNewLink); one
			// without a time continues the current link.
			c.start = p.Timestamp
			if !r.oneLink && startsNewLink(p.Timestamp, r.linkLast) {
				r.newLink() // another link, captured at the same time
			}
		}
		c.span(p.Timestamp)
		if p.LinkType != lastLT {
			lastLT = p.LinkType
			c.addLinkType(lastLT)
		}
		r.res.Packets++
		r.res.Bytes += uint64(p.CaptureLength)
		r.res.WireBytes += uint64(p.Length)

		reason, derr := r.dec.Decode(p.LinkType, p.Data, &r.pkt)
		if derr != nil {
			r.res.DecodeErrors++
			if r.res.FirstDecodeError == nil {
				r.res.FirstDecodeError = &DecodeError{Path: path, Frame: p.Frame, Err: derr}
			}
		}
		switch {
		case reason != decode.ReasonNone:
			// Every frame not tracked is counted by its reason, those
			// the decoder failed on (truncated, malformed) included.
			r.skipped[reason]++
		case derr != nil:
			r.skipped[decode.ReasonMalformed]++
		default:
			r.res.Decoded++
			r.tr.Add(&r.pkt, p.Timestamp, flow.Pos{File: idx, Frame: p.Frame})
			// Only TCP and UDP packets with data can name a server; the
			// sniffer looks at a few bytes of most and returns at once.
			if r.names != nil && r.pkt.PayloadLen > 0 && (r.pkt.Proto == decode.ProtoTCP || r.pkt.Proto == decode.ProtoUDP) {
				if n, src := r.names.Packet(&r.pkt, r.dec.Payload(), p.Timestamp.UnixNano()); n != "" {
					r.tr.SetServerName(&r.pkt, n, src)
				}
			}
		}
	}
}

// settle sets Complete, Err and Status from err, why reading the file (a
// connection log if flowLog) stopped, or nil; it returns err, or nil when
// that is only a warning (a file cut short in its last record).
func (c *Capture) settle(err error, flowLog bool) error {
	c.Complete = err == nil
	c.Err = err
	var le *connlog.Error
	switch {
	case err == nil:
		c.Status = StatusComplete
	case flowLog && c.Records > 0 && errors.As(err, &le) && le.CutShort:
		c.Status = StatusCutShort
		err = nil // a warning: every complete line was read
	case flowLog && c.Records > 0:
		c.Status = StatusDamaged
	case flowLog:
		c.Status = StatusUnreadable
	case c.Packets > 0 && capture.CutShort(err):
		c.Status = StatusCutShort
		err = nil // a warning: every complete record was analysed
	case c.Packets > 0:
		c.Status = StatusDamaged
	default:
		c.Status = StatusUnreadable
	}
	return err
}

// pendingDigest is the SHA-256 of a capture still being computed when its
// file was done (runner.late).
type pendingDigest struct {
	file    int // index in Run's paths
	capture int // index in Result.Captures
	flowLog bool
	sum     chan hashResult
}

// WaitDigests waits for the SHA-256 of the files still being hashed when
// Run returned (Options.LateDigests) and completes their Captures: SHA256
// and Size, or, where hashing failed a file that was read to its end,
// Err and Status as Run would have set them. It returns those errors,
// joined, as Run would have returned them. Once it has returned, it
// returns nil.
func (r *Result) WaitDigests() error {
	var errs []error
	for _, d := range r.digests {
		errs = append(errs, r.waitDigest(d))
	}
	r.digests = nil
	return errors.Join(errs...)
}

// Workers is how many cores the work on a Result may take now: 1 while a
// capture's digest is still being computed on another core
// (Options.LateDigests), which a second worker would take turns with, so
// that the digest, the longest single task of a large analysis, is not
// delayed; else 0, every core.
func (r *Result) Workers() int {
	for _, d := range r.digests {
		if len(d.sum) == 0 {
			return 1
		}
	}
	return 0
}

// waitDigest waits for one capture's digest and completes its Capture; it
// returns the hashing error of a file that was read to its end.
func (r *Result) waitDigest(d pendingDigest) error {
	h := <-d.sum
	c := &r.Captures[d.capture]
	switch {
	case h.err == nil:
		c.SHA256, c.Size = h.sum, h.size
	case c.Complete:
		return c.settle(h.err, d.flowLog)
	}
	return nil
}

// progress reports how far the reading of one file is.
type progress struct {
	fn   func(Progress)
	idx  int
	path string
	size int64
	read int64 // bytes of the file consumed at the last update
	next int64 // report when read passes this
}

// Progress is reported about every progressStep bytes, looked at every
// progressEvery packets.
const (
	progressStep  = 1 << 20
	progressEvery = 1024
)

func (p *progress) update(read int64) {
	p.read = read
	if read >= p.next {
		p.report(false)
		p.next = read + progressStep
	}
}

func (p *progress) report(done bool) {
	if p.fn != nil {
		p.fn(Progress{File: p.idx, Path: p.path, Read: p.read, Size: p.size, Done: done})
	}
}

type hashResult struct {
	sum  string
	size int64
	err  error
}

// FileSHA256 is the hex SHA-256 of a file's bytes as stored (an
// inventory's, a capture's): what reports name their inputs by.
func FileSHA256(path string) (string, error) {
	r := hashFile(path)
	return r.sum, r.err
}

// hashFile is the SHA-256 of a file's bytes as stored.
func hashFile(path string) hashResult {
	f, err := os.Open(path)
	if err != nil {
		return hashResult{err: err}
	}
	return hashOpen(f, path)
}

// hashOpen is the SHA-256 of the bytes of f, open at its start, and
// closes it. A regular file is hashed from a memory map of it (a window
// at a time, capture.MapFile): the hash reads the page cache in place,
// without the copy of a read system call, and its digest covers the file
// as it was when opened, as the capture reader reads it.
func hashOpen(f *os.File, path string) hashResult {
	defer f.Close()
	if m := capture.MapFile(f); m != nil {
		return hashReader(m, path, nil)
	}
	return hashReader(io.NopCloser(f), path, nil)
}

// sniff says whether in is a connection log. A regular file is looked at
// without moving its offset (so the capture reader still maps it); a pipe
// is wrapped in a buffer that keeps the bytes looked at.
func sniff(in io.Reader) (connlog.Format, io.Reader, error) {
	head := make([]byte, connlog.SniffSize)
	if f, ok := in.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			off, err := f.Seek(0, io.SeekCurrent)
			if err == nil {
				n, err := f.ReadAt(head, off)
				if err != nil && !errors.Is(err, io.EOF) {
					return connlog.None, in, err
				}
				return connlog.Sniff(head[:n]), in, nil
			}
		}
	}
	br := bufio.NewReaderSize(in, connlog.SniffSize)
	h, err := br.Peek(connlog.SniffSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return connlog.None, br, err
	}
	return connlog.Sniff(h), br, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// records reads a connection log's records into the tracker: each is a
// finished connection at position (idx, 0), since a record has no frame.
func (r *runner) records(log *connlog.Reader, idx int, c *Capture, prog *progress, in *countingReader) error {
	var conn flow.Connection
	netflow := log.Kind() >= connlog.NfdumpCSV // one-way records, paired
	bothWays := false
	defer func() { c.OneWay = netflow && c.Records > 0 && !bothWays }()
	for {
		if err := log.Next(&conn); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		bothWays = bothWays || conn.OrigPkts > 0 && conn.RespPkts > 0
		c.Records++
		r.res.Records++
		if c.Records%progressEvery == 0 {
			if prog.fn != nil {
				prog.update(in.n)
			}
			if r.opts.Stop != nil && r.opts.Stop.Load() {
				return ErrStopped
			}
		}
		conn.FirstPos = flow.Pos{File: idx}
		conn.LastPos = conn.FirstPos
		if log.Full && conn.CommunityID == "" {
			conn.CommunityID = flow.CommunityID(0, conn.Orig, conn.Resp, conn.OrigPort, conn.RespPort, conn.Proto)
		}
		if !conn.Known(flow.FieldOrigPkts | flow.FieldRespPkts | flow.FieldOrigIPBytes | flow.FieldRespIPBytes) {
			c.Uncounted++
		}
		pkts := conn.OrigPkts + conn.RespPkts
		bytes := conn.OrigIPBytes + conn.RespIPBytes
		c.Packets += pkts
		c.Bytes += bytes
		r.res.Packets += pkts
		r.res.Bytes += bytes
		r.res.WireBytes += bytes
		c.span(conn.Start)
		c.span(conn.End)
		if r.opts.zeekNames != nil {
			r.opts.zeekNames.Name(&conn) // ssl.log, http.log: by uid; dns.log: by address
		}
		r.tr.AddConnection(&conn)
	}
}
