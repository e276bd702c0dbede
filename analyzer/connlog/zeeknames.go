package connlog

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/names"
)

// Names are the host names Zeek's ssl.log (server_name: the TLS SNI) and
// http.log (host: the Host header) gave connections, by uid, for naming
// the connections of a conn.log as a capture's SNI and Host headers name
// them (host-name rules). The map is bounded: past Max uids the names of
// others are counted in Overflow and not kept.
type Names struct {
	Max      int      // uids kept; 0: DefaultMaxNames
	Overflow uint64   // names not kept: the map was full
	Files    []string // the logs read, in order
	// SHA256 are the hex SHA-256 of Files' bytes (as stored, compressed
	// or not), one each; ReadFile hashes the whole file as it reads it,
	// Read leaves "".
	SHA256 []string
	Lines  uint64 // log lines that named a connection
	m      map[flow.UID]zeekName
	intern map[string]string
}

// DefaultMaxNames bounds the uids Names keeps (about 64 bytes each, the
// names shared), as the live connection table is bounded.
const DefaultMaxNames = 1 << 20

type zeekName struct {
	name string
	src  flow.NameSource
}

// NameLogKind says which Zeek log head starts: "ssl", "http", or "" for
// neither. It is recognised by content: a TSV log's #path, or a JSON log's
// keys (server_name for ssl.log, host and method or uri for http.log).
func NameLogKind(head []byte) string {
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(head))
		if err != nil {
			return ""
		}
		buf := make([]byte, SniffSize)
		n, _ := io.ReadFull(zr, buf)
		head = buf[:n]
	}
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) > 0 && head[0] == '#' {
		for _, line := range bytes.Split(head, []byte("\n")) {
			if p, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r"), []byte("#path")); ok {
				switch string(bytes.TrimSpace(p)) {
				case "ssl":
					return "ssl"
				case "http":
					return "http"
				}
				return ""
			}
		}
		return ""
	}
	line, _, _ := bytes.Cut(head, []byte("\n"))
	if len(line) == 0 || line[0] != '{' || !bytes.Contains(line, []byte(`"uid"`)) {
		return ""
	}
	switch {
	case bytes.Contains(line, []byte(`"server_name"`)) || bytes.Contains(line, []byte(`"ssl_history"`)) || bytes.Contains(line, []byte(`"cipher"`)):
		return "ssl"
	case bytes.Contains(line, []byte(`"method"`)) || bytes.Contains(line, []byte(`"trans_depth"`)):
		return "http"
	}
	return ""
}

// NameLogsBeside lists the ssl and http logs in the directory of a
// conn.log at path, as Zeek writes them beside it: ssl.log, http.log, and
// rotated ssl.*.log(.gz), http.*.log(.gz), in lexical (time) order.
func NameLogsBeside(path string) []string {
	dir := filepath.Dir(path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && IsNameLogName(e.Name()) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(out)
	return out
}

// IsNameLogName says whether a file name is one Zeek gives an ssl.log or
// http.log (ssl.log, ssl.*.log, ssl*.log.gz; the same for http).
func IsNameLogName(name string) bool {
	for _, p := range []string{"ssl", "http"} {
		if rest, ok := strings.CutPrefix(name, p); ok && (rest == ".log" ||
			strings.HasPrefix(rest, ".") && (strings.HasSuffix(rest, ".log") || strings.HasSuffix(rest, ".log.gz")) || rest == ".log.gz") {
			return true
		}
	}
	return false
}

// ReadFile reads the ssl.log or http.log at path (gzip-compressed or
// not). An error names the file and line; the names of the lines before
// it are kept.
func (n *Names) ReadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	before := len(n.Files)
	err = n.Read(path, io.TeeReader(f, h))
	if len(n.Files) > before {
		// The file is cited with its hash, read to its end even where
		// its names stopped at an error.
		if _, cerr := io.Copy(h, f); cerr != nil && err == nil {
			err = &Error{Path: path, Err: cerr}
		}
		n.SHA256[before] = hex.EncodeToString(h.Sum(nil))
	}
	return err
}

// Read reads an ssl.log or http.log, TSV or JSON, from r (named path in
// errors), gzip-compressed or not.
func (n *Names) Read(path string, r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if h, _ := br.Peek(2); len(h) == 2 && h[0] == 0x1f && h[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return &Error{Path: path, Err: fmt.Errorf("gzip: %w", err)}
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	n.Files = append(n.Files, path)
	n.SHA256 = append(n.SHA256, "")
	var (
		src             flow.NameSource // from #path or the JSON keys
		uidCol, nameCol = -1, -1
		sep             = []byte{'\t'}
		unset           = []byte("-")
		ncols           int
	)
	for line, lineNo := []byte(nil), 1; ; lineNo++ {
		var err error
		line, err = br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return &Error{Path: path, Line: lineNo, Err: errors.New("a line over 64 KiB")}
		}
		if len(line) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return &Error{Path: path, Line: lineNo, Err: err}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return &Error{Path: path, Line: lineNo, Err: err}
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			continue
		}
		if e := n.line(line, &src, &uidCol, &nameCol, &sep, &unset, &ncols); e != nil {
			return &Error{Path: path, Line: lineNo, Err: e}
		}
	}
}

// line reads one line of a names log; the TSV state is in the pointers.
func (n *Names) line(line []byte, src *flow.NameSource, uidCol, nameCol *int, sep, unset *[]byte, ncols *int) error {
	if line[0] == '{' {
		var j struct {
			UID        *string `json:"uid"`
			ServerName *string `json:"server_name"`
			Host       *string `json:"host"`
		}
		if err := json.Unmarshal(line, &j); err != nil {
			return fmt.Errorf("not a JSON ssl.log or http.log object: %w", err)
		}
		if j.UID == nil {
			return errors.New("no uid")
		}
		switch {
		case j.ServerName != nil:
			return n.add([]byte(*j.UID), []byte(*j.ServerName), flow.NameSNI)
		case j.Host != nil:
			return n.add([]byte(*j.UID), []byte(*j.Host), flow.NameHTTPHost)
		}
		return nil // no name (an ssl.log line without SNI)
	}
	if line[0] == '#' {
		if v, ok := bytes.CutPrefix(line, []byte("#separator ")); ok {
			s, err := unescapeZeek(bytes.TrimSpace(v))
			if err != nil || len(s) == 0 {
				return fmt.Errorf("#separator %q: not a separator", v)
			}
			*sep = bytes.Clone(s)
			return nil
		}
		key, val, _ := bytes.Cut(line, *sep)
		switch string(key) {
		case "#unset_field":
			*unset = bytes.Clone(val)
		case "#path":
			switch string(val) {
			case "ssl":
				*src = flow.NameSNI
			case "http":
				*src = flow.NameHTTPHost
			default:
				return fmt.Errorf("#path %s: not an ssl.log or http.log", val)
			}
		case "#fields":
			if *src == flow.NameNone {
				return errors.New("#fields before #path ssl or http")
			}
			names := bytes.Split(val, *sep)
			*ncols = len(names)
			want := "server_name"
			if *src == flow.NameHTTPHost {
				want = "host"
			}
			*uidCol, *nameCol = -1, -1
			for i, f := range names {
				switch string(f) {
				case "uid":
					*uidCol = i
				case want:
					*nameCol = i
				}
			}
			if *uidCol < 0 || *nameCol < 0 {
				return fmt.Errorf("#fields: no uid or %s column", want)
			}
		}
		return nil
	}
	if *uidCol < 0 {
		return errors.New("a data line before any #fields header")
	}
	cols := bytes.Split(line, *sep)
	if len(cols) != *ncols {
		return fmt.Errorf("%d columns, the #fields header names %d", len(cols), *ncols)
	}
	name := cols[*nameCol]
	if bytes.Equal(name, *unset) || len(name) == 0 {
		return nil
	}
	return n.add(cols[*uidCol], name, *src)
}

// add keeps name (from src) for uid; a name that is no host name (an
// address literal, as a Host header may be) is skipped, as a capture's is.
func (n *Names) add(uidText, name []byte, src flow.NameSource) error {
	uid, ok := flow.ParseUID(uidText)
	if !ok {
		return fmt.Errorf("uid %q: not a zeek uid", uidText)
	}
	host, ok := names.CleanHost(name, src == flow.NameHTTPHost)
	if !ok {
		return nil
	}
	n.Lines++
	if n.m == nil {
		n.m = make(map[flow.UID]zeekName)
		n.intern = make(map[string]string)
	}
	if old, there := n.m[uid]; there {
		if src < old.src { // SNI over Host, as in a capture
			n.m[uid] = zeekName{n.internName(host), src}
		}
		return nil
	}
	max := n.Max
	if max <= 0 {
		max = DefaultMaxNames
	}
	if len(n.m) >= max {
		n.Overflow++
		return nil
	}
	n.m[uid] = zeekName{n.internName(host), src}
	return nil
}

func (n *Names) internName(s string) string {
	if v, ok := n.intern[s]; ok {
		return v
	}
	n.intern[s] = s
	return s
}

// Len is how many uids have a name.
func (n *Names) Len() int { return len(n.m) }

// Name gives c the name its uid has, unless c has one already.
func (n *Names) Name(c *flow.Connection) {
	if len(n.m) == 0 || c.UID.IsZero() || c.ServerName != "" {
		return
	}
	if z, ok := n.m[c.UID]; ok {
		c.ServerName, c.NameSource = z.name, z.src
	}
}
