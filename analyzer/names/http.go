package names

import "bytes"

// httpMethods are the request methods whose requests are looked at.
var httpMethods = [...]string{"GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "CONNECT ", "PATCH ", "TRACE "}

// looksLikeHTTP says whether b starts an HTTP/1.x request line.
func looksLikeHTTP(b []byte) bool {
	if len(b) < 16 || b[0] < 'C' || b[0] > 'T' {
		return false
	}
	for _, m := range httpMethods {
		if len(b) > len(m) && string(b[:len(m)]) == m {
			return true
		}
	}
	return false
}

// httpHost reads the host an HTTP/1.x request is for from the bytes of its
// first segment: the Host header, else the authority of an absolute-form or
// CONNECT request target (RFC 9112 §3.2). The port is left out. Only the
// request line and the headers present in b are read; nil if none names a
// host.
func httpHost(b []byte) []byte {
	eol := bytes.IndexByte(b, '\n')
	if eol < 0 {
		return nil
	}
	line := bytes.TrimRight(b[:eol], "\r")
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return nil
	}
	rest := line[sp+1:]
	sp2 := bytes.LastIndexByte(rest, ' ')
	if sp2 < 0 || !bytes.HasPrefix(rest[sp2+1:], []byte("HTTP/1.")) {
		return nil
	}
	target := rest[:sp2]
	var fromTarget []byte
	switch {
	case bytes.HasPrefix(line, []byte("CONNECT ")):
		fromTarget = target
	case bytes.HasPrefix(target, []byte("http://")) || bytes.HasPrefix(target, []byte("https://")):
		t := target[bytes.Index(target, []byte("//"))+2:]
		if i := bytes.IndexAny(t, "/?#"); i >= 0 {
			t = t[:i]
		}
		if i := bytes.LastIndexByte(t, '@'); i >= 0 {
			t = t[i+1:]
		}
		fromTarget = t
	}
	if fromTarget != nil {
		return stripPort(fromTarget)
	}
	b = b[eol+1:]
	for len(b) > 0 {
		eol := bytes.IndexByte(b, '\n')
		if eol < 0 {
			eol = len(b) // a header cut by the segment's end is still read
		}
		h := bytes.TrimRight(b[:eol], "\r")
		if len(h) == 0 {
			return nil // end of headers
		}
		if len(h) > 5 && h[4] == ':' && bytes.EqualFold(h[:4], []byte("host")) {
			return stripPort(bytes.TrimSpace(h[5:]))
		}
		if eol >= len(b) {
			return nil
		}
		b = b[eol+1:]
	}
	return nil
}

// stripPort removes a :port suffix and the brackets of an IPv6 literal.
func stripPort(h []byte) []byte {
	if len(h) > 0 && h[0] == '[' {
		if i := bytes.IndexByte(h, ']'); i > 0 {
			return h[1:i]
		}
		return nil
	}
	if i := bytes.LastIndexByte(h, ':'); i >= 0 {
		return h[:i]
	}
	return h
}

// cleanName checks a host name from SNI or a Host header and writes it to
// out in lower case without a trailing dot. Names with characters no host
// name has, empty labels, labels over 63 bytes, over 253 bytes in all, and
// address literals are refused.
func cleanName(b []byte, out *dnsName) bool {
	if len(b) > 0 && b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	if len(b) == 0 || len(b) > 253 {
		return false
	}
	label := 0
	digitsDots := true
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
			digitsDots = false
		case c >= 'a' && c <= 'z', c == '-', c == '_':
			digitsDots = false
		case c >= '0' && c <= '9':
		case c == '.':
			if label == 0 {
				return false
			}
			label = -1
		default:
			return false // ':' of an IPv6 literal, spaces, control bytes ...
		}
		label++
		if label > maxLabel {
			return false
		}
		out.b[i] = c
	}
	if digitsDots || label == 0 {
		return false // an IPv4 literal; an empty last label ("a.." less its trailing dot)
	}
	out.n = uint8(len(b))
	return true
}

// CleanHost is a host name as a sensor logged it (Zeek's ssl.log
// server_name, http.log host), checked and written as a capture's SNI or
// Host header would give it: lower case, no trailing dot, a Host's :port
// removed; ok is false for what no host name is (an address literal ...).
func CleanHost(b []byte, hostHeader bool) (string, bool) {
	if hostHeader {
		b = stripPort(b)
	}
	var out dnsName
	if len(b) > len(out.b) || !cleanName(b, &out) {
		return "", false
	}
	return string(out.bytes()), true
}
