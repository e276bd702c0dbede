package names

// MaxHello bounds a ClientHello: the TLS records (TCP) or CRYPTO bytes
// (QUIC) that carry it are reassembled up to this many bytes, no more.
const MaxHello = 16 << 10

// helloResult says what a look at the start of a TLS stream found.
type helloResult uint8

const (
	helloNot  helloResult = iota // not a ClientHello, or a malformed one
	helloMore                    // a ClientHello that continues beyond the bytes given
	helloDone                    // a whole ClientHello (the name may be empty: no SNI)
)

// looksLikeHello says whether a client's first TCP bytes start a TLS
// handshake record (SSL 3.0 to TLS 1.3 record versions) holding a
// ClientHello, or its first fragment (a segment may end inside the record
// header).
func looksLikeHello(b []byte) bool {
	return len(b) >= 3 && b[0] == 0x16 && b[1] == 3 && b[2] <= 4 && (len(b) < 6 || b[5] == 1)
}

// helloFromRecords reads the handshake message out of the TLS records at
// the start of b (a ClientHello may span records), copying their bodies to
// scratch, and reads its server_name. It returns the name (a slice of
// scratch), helloMore while b holds less than the whole message, helloNot
// for anything else.
func helloFromRecords(b, scratch []byte) ([]byte, helloResult) {
	n := 0
	for len(b) > 0 {
		if len(b) < 5 {
			return nil, helloMore
		}
		if b[0] != 0x16 || b[1] != 3 {
			return nil, helloNot
		}
		rl := int(b[3])<<8 | int(b[4])
		if rl == 0 || rl > 1<<14+2048 {
			return nil, helloNot
		}
		body := b[5:]
		if len(body) > rl {
			body = body[:rl]
		}
		if n+len(body) > len(scratch) {
			return nil, helloNot
		}
		n += copy(scratch[n:], body)
		if n >= 4 {
			if scratch[0] != 1 {
				return nil, helloNot
			}
			total := 4 + (int(scratch[1])<<16 | int(scratch[2])<<8 | int(scratch[3]))
			if total > len(scratch) {
				return nil, helloNot
			}
			if n >= total {
				return sniFromHello(scratch[:total])
			}
		}
		if len(b) < 5+rl {
			return nil, helloMore
		}
		b = b[5+rl:]
	}
	return nil, helloMore
}

// helloLength is the size of the handshake message at the start of hs (4
// header bytes included), or -1 if it is not a ClientHello.
func helloLength(hs []byte) int {
	if len(hs) < 4 || hs[0] != 1 {
		return -1
	}
	return 4 + (int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3]))
}

// sniFromHello reads the host_name of the server_name extension (RFC 6066
// §3) of a whole ClientHello handshake message. A ClientHello without one
// gives helloDone and no name.
func sniFromHello(hs []byte) ([]byte, helloResult) {
	total := helloLength(hs)
	if total < 0 || total > len(hs) {
		return nil, helloNot
	}
	b := hs[4:total]
	// legacy_version, random
	if len(b) < 34 {
		return nil, helloNot
	}
	b = b[34:]
	var ok bool
	if b, ok = skipVec(b, 1); !ok { // legacy_session_id
		return nil, helloNot
	}
	if b, ok = skipVec(b, 2); !ok { // cipher_suites
		return nil, helloNot
	}
	if b, ok = skipVec(b, 1); !ok { // legacy_compression_methods
		return nil, helloNot
	}
	if len(b) == 0 {
		return nil, helloDone // SSL 3.0 style, no extensions
	}
	if len(b) < 2 {
		return nil, helloNot
	}
	el := int(b[0])<<8 | int(b[1])
	b = b[2:]
	if el > len(b) {
		return nil, helloNot
	}
	b = b[:el]
	for len(b) >= 4 {
		typ := int(b[0])<<8 | int(b[1])
		l := int(b[2])<<8 | int(b[3])
		b = b[4:]
		if l > len(b) {
			return nil, helloNot
		}
		ext := b[:l]
		b = b[l:]
		if typ != 0 {
			continue
		}
		if len(ext) < 2 {
			return nil, helloNot
		}
		ll := int(ext[0])<<8 | int(ext[1])
		list := ext[2:]
		if ll > len(list) {
			return nil, helloNot
		}
		list = list[:ll]
		for len(list) >= 3 {
			nt := list[0]
			nl := int(list[1])<<8 | int(list[2])
			list = list[3:]
			if nl > len(list) {
				return nil, helloNot
			}
			if nt == 0 {
				return list[:nl], helloDone
			}
			list = list[nl:]
		}
		return nil, helloDone
	}
	return nil, helloDone
}

// skipVec skips a vector with an n-byte length prefix.
func skipVec(b []byte, n int) ([]byte, bool) {
	if len(b) < n {
		return nil, false
	}
	l := int(b[0])
	if n == 2 {
		l = l<<8 | int(b[1])
	}
	if len(b) < n+l {
		return nil, false
	}
	return b[n+l:], true
}
