package analyzer

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/flowaudit/flowaudit/analyzer/connlog"
)

// ZeekNames is what Zeek's ssl.log, http.log and dns.log files gave a run
// whose input holds a Zeek conn.log: host names by uid (ssl.log
// server_name, http.log host) and DNS answers by address (dns.log query
// and answers), given to the conn.log's connections as a capture's SNI,
// Host headers and DNS answers name them.
type ZeekNames struct {
	Files    []string // the ssl.log, http.log and dns.log files read, in order
	Kinds    []string // what each file is: "ssl", "http" or "dns"
	SHA256   []string // their SHA-256 (hex), one each
	Names    int      // connections (uids) with a name
	Max      int      // the uid bound, and the DNS answer bound (Options.MaxNames, else connlog.DefaultMaxNames)
	Overflow uint64   // names not kept: past Max uids; their connections are unnamed

	// Errors are what stopped the reading of a log, one each ("" for
	// none; a log that could not be opened is not among Files and has
	// its error last): its names after the error were not read.
	Errors []string

	DNSResponses uint64 // dns.log lines with a response from port 53
	DNSAnswers   int    // address answers kept
	DNSOverflow  uint64 // address answers not kept: past Max answers
}

// zeekNameLogs takes the ssl.log, http.log and dns.log files out of paths (inputs
// recognised by their content) and reads them, with those beside every
// Zeek conn.log among paths (connlog.NameLogsBeside). names is nil when
// there are none; err joins the logs' errors (file:line), the names read
// before an error kept, and readErrs the text of each log's error (see
// ZeekNames.Errors). Setting stop ends the reading of the logs at their
// next 1,024th line.
//
// A name log given that could name none of the other inputs' connections
// is an error, before anything is read: a dns.log names flow records by
// address (a Zeek conn.log, nfdump, IPFIX), an ssl.log or http.log only
// a Zeek conn.log's, by uid; a capture's connections are named from its
// own packets. Standard input and pipes, which cannot be opened again,
// are looked at through look (its format; false: it could not be, and is
// taken to hold a conn.log), and only when the regular files leave it
// open.
func zeekNameLogs(paths []string, max int, stop *atomic.Bool, look func(path string) (connlog.Format, bool)) (rest []string, names *connlog.Names, readErrs []string, err error) {
	var given, conns, unknown []string
	records, zeek := false, false // some input holds flow records; a Zeek conn.log
	for _, p := range paths {
		if p != "-" {
			if st, serr := os.Stat(p); serr == nil && st.Mode().IsRegular() {
				if kind := nameLogKind(p); kind != "" {
					given = append(given, p)
					continue
				}
				f, _ := connlog.SniffFile(p)
				if f == connlog.ZeekTSV || f == connlog.ZeekJSON {
					conns = append(conns, p)
					zeek = true
				}
				records = records || f != connlog.None
				rest = append(rest, p)
				continue
			}
		}
		unknown = append(unknown, p) // standard input, a pipe: not yet looked at
		rest = append(rest, p)
	}
	if len(given) > 0 && len(unknown) > 0 && !zeek {
		needs := false // a given log the regular files leave nothing to name
		for _, g := range given {
			needs = needs || !records || nameLogKind(g) != "dns"
		}
		for _, p := range unknown {
			f, ok := connlog.None, false
			if needs && look != nil {
				f, ok = look(p)
			}
			if !ok {
				f = connlog.ZeekTSV // not looked at: it may be a conn.log
			}
			zeek = zeek || f == connlog.ZeekTSV || f == connlog.ZeekJSON
			records = records || f != connlog.None
		}
	}
	for _, g := range given {
		kind := nameLogKind(g)
		article := "an"
		if kind == "dns" {
			article = "a"
		}
		switch {
		case len(rest) == 0:
			return nil, nil, nil, fmt.Errorf("%s: %s %s.log names the connections of a Zeek conn.log, and none is given", g, article, kind)
		case !records:
			// Read and cited, it would name nothing: a capture's
			// connections are named from its own packets.
			return nil, nil, nil, fmt.Errorf("%s: %s %s.log names the connections of flow records (a Zeek conn.log, nfdump, IPFIX), and the other inputs are captures, named by their own DNS answers, SNI and Host headers: leave it out, or give the conn.log", g, article, kind)
		case kind != "dns" && !zeek:
			// nfdump and IPFIX records have no Zeek uid to be named by.
			return nil, nil, nil, fmt.Errorf("%s: %s %s.log names the connections of a Zeek conn.log by their uid, and the flow records given (nfdump, IPFIX) have none: leave it out, or give the conn.log (a dns.log names any flow record, by address)", g, article, kind)
		}
	}
	seen := map[string]bool{}
	var files []string
	add := func(p string) {
		abs, aerr := filepath.Abs(p)
		if aerr != nil {
			abs = p
		}
		if !seen[abs] {
			seen[abs] = true
			files = append(files, p)
		}
	}
	for _, p := range given {
		add(p)
	}
	dirs := map[string]bool{}
	for _, p := range conns {
		if d := filepath.Dir(p); !dirs[d] {
			dirs[d] = true
			for _, q := range connlog.NameLogsBeside(p) {
				if nameLogKind(q) != "" {
					add(q)
				}
			}
		}
	}
	if len(files) == 0 {
		return rest, nil, nil, nil
	}
	names = &connlog.Names{Max: max, Stop: stop}
	var errs []error
	var opened []string // what could not be opened: not among names.Files
	for _, f := range files {
		before := len(names.Files)
		rerr := names.ReadFile(f)
		errs = append(errs, rerr)
		text := ""
		if rerr != nil && !errors.Is(rerr, connlog.ErrStopped) {
			text = rerr.Error()
		}
		if len(names.Files) > before {
			readErrs = append(readErrs, text)
		} else if text != "" {
			opened = append(opened, text)
		}
	}
	return rest, names, append(readErrs, opened...), errors.Join(errs...)
}

// inputLooker looks at standard input and pipes for zeekNameLogs: what
// it looked at is read from there afterwards (the bytes kept in front),
// as Options.Opened are.
type inputLooker struct {
	opts   *Options
	opened []*os.File // pipes it opened, closed when Run is done
}

// look sniffs the input at path: its format, or false when it could not
// be looked at.
func (l *inputLooker) look(path string) (connlog.Format, bool) {
	var in io.Reader
	switch {
	case l.opts.given(path) != nil:
		in = l.opts.given(path)
	default:
		f, err := os.Open(path)
		if err != nil {
			return connlog.None, false // the read says why
		}
		l.opened = append(l.opened, f)
		in = f
	}
	format, in, err := sniff(in)
	if path == "-" {
		l.opts.Stdin = in
	} else {
		opened := maps.Clone(l.opts.Opened) // the caller's map is left as it was
		if opened == nil {
			opened = map[string]io.Reader{}
		}
		opened[path] = in
		l.opts.Opened = opened
	}
	return format, err == nil
}

func (l *inputLooker) close() {
	for _, f := range l.opened {
		f.Close()
	}
}

// nameLogKind is connlog.NameLogKind of the head of the file at path.
func nameLogKind(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	head := make([]byte, connlog.SniffSize)
	n, _ := f.Read(head)
	return connlog.NameLogKind(head[:n])
}

// zeekNamesOf is the ZeekNames of names (nil: none), with the errors
// that stopped the reading of logs.
func zeekNamesOf(names *connlog.Names, readErrs []string) *ZeekNames {
	if names == nil {
		return nil
	}
	max := names.Max
	if max <= 0 {
		max = connlog.DefaultMaxNames
	}
	return &ZeekNames{Files: names.Files, Kinds: names.Kinds, SHA256: names.SHA256, Names: names.Len(), Max: max, Overflow: names.Overflow,
		DNSResponses: names.DNSResponses, DNSAnswers: names.DNS.Len(), DNSOverflow: names.DNS.Overflow, Errors: readErrs}
}
