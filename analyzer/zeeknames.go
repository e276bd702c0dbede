package analyzer

import (
	"errors"
	"fmt"
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
func zeekNameLogs(paths []string, max int, stop *atomic.Bool) (rest []string, names *connlog.Names, readErrs []string, err error) {
	var given, conns []string
	records := false // some input may hold flow records: a log, standard input, a pipe
	for _, p := range paths {
		records = records || p == "-"
		if p != "-" {
			if st, serr := os.Stat(p); serr == nil && st.Mode().IsRegular() {
				if kind := nameLogKind(p); kind != "" {
					given = append(given, p)
					continue
				}
				f, _ := connlog.SniffFile(p)
				if f == connlog.ZeekTSV || f == connlog.ZeekJSON {
					conns = append(conns, p)
				}
				records = records || f != connlog.None
			} else {
				records = true
			}
		}
		rest = append(rest, p)
	}
	if len(given) > 0 && !records {
		kind := nameLogKind(given[0])
		article := "an"
		if kind == "dns" {
			article = "a"
		}
		if len(rest) == 0 {
			return nil, nil, nil, fmt.Errorf("%s: %s %s.log names the connections of a Zeek conn.log, and none is given", given[0], article, kind)
		}
		// Read and cited, it would name nothing: a capture's
		// connections are named from its own packets.
		return nil, nil, nil, fmt.Errorf("%s: %s %s.log names the connections of flow records (a Zeek conn.log, nfdump, IPFIX), and the other inputs are captures, named by their own DNS answers, SNI and Host headers: leave it out, or give the conn.log", given[0], article, kind)
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
