package pcapgen

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"net"
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Payloads that name a server, for TCPOpts.Data, UDPOpts.Data and
// UDPOpts.ReplyData: DNS messages, a TLS ClientHello, an HTTP request and
// a QUIC Initial packet.

// DNSRecord is one answer of DNSResponse: an address for Name, or an alias
// (CNAME) of Name when Target is set.
type DNSRecord struct {
	Name   string
	Addr   netip.Addr
	Target string
}

// DNSQuery is a recursive query for name (type A, or AAAA when v6).
func DNSQuery(id uint16, name string, v6 bool) []byte {
	qt := layers.DNSTypeA
	if v6 {
		qt = layers.DNSTypeAAAA
	}
	return serializeDNS(&layers.DNS{ID: id, RD: true,
		Questions: []layers.DNSQuestion{{Name: []byte(name), Type: qt, Class: layers.DNSClassIN}}})
}

// DNSResponse is the answer to DNSQuery(id, name, v6) with the records
// given, in the order given.
func DNSResponse(id uint16, name string, v6 bool, answers ...DNSRecord) []byte {
	qt := layers.DNSTypeA
	if v6 {
		qt = layers.DNSTypeAAAA
	}
	d := &layers.DNS{ID: id, QR: true, RD: true, RA: true,
		Questions: []layers.DNSQuestion{{Name: []byte(name), Type: qt, Class: layers.DNSClassIN}}}
	for _, a := range answers {
		rr := layers.DNSResourceRecord{Name: []byte(a.Name), Class: layers.DNSClassIN, TTL: 300}
		switch {
		case a.Target != "":
			rr.Type, rr.CNAME = layers.DNSTypeCNAME, []byte(a.Target)
		case a.Addr.Is4():
			rr.Type, rr.IP = layers.DNSTypeA, net.IP(a.Addr.AsSlice())
		default:
			rr.Type, rr.IP = layers.DNSTypeAAAA, net.IP(a.Addr.AsSlice())
		}
		d.Answers = append(d.Answers, rr)
	}
	return serializeDNS(d)
}

func serializeDNS(d *layers.DNS) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		panic(err) // the messages built here always serialize
	}
	return append([]byte(nil), buf.Bytes()...)
}

// DNSOverTCP prefixes a DNS message with its length, as DNS over TCP sends
// it.
func DNSOverTCP(msg []byte) []byte {
	return append([]byte{byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

// HTTPRequest is a GET request for / of host.
func HTTPRequest(host string) []byte {
	return []byte("GET / HTTP/1.1\r\nUser-Agent: pcapgen\r\nAccept: */*\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
}

// ClientHello is the TLS record of a TLS 1.3 ClientHello for sni (no
// server_name extension when sni is ""), with a padding extension (RFC
// 7685) of pad bytes to make it as large as those of clients with
// post-quantum key shares. Its random, session id and key share are fixed
// bytes, so captures are reproducible.
func ClientHello(sni string, pad int) []byte {
	hs := helloMessage(sni, pad)
	rec := []byte{0x16, 3, 1, byte(len(hs) >> 8), byte(len(hs))}
	return append(rec, hs...)
}

// helloMessage is the handshake message of a ClientHello for sni.
func helloMessage(sni string, pad int) []byte {
	u16 := func(b []byte, v int) []byte { return append(b, byte(v>>8), byte(v)) }
	ext := func(b []byte, typ int, body []byte) []byte {
		b = u16(b, typ)
		b = u16(b, len(body))
		return append(b, body...)
	}
	var exts []byte
	if sni != "" {
		var sn []byte
		sn = u16(sn, len(sni)+3)
		sn = append(sn, 0)
		sn = u16(sn, len(sni))
		sn = append(sn, sni...)
		exts = ext(exts, 0, sn)
	}
	exts = ext(exts, 10, []byte{0, 4, 0, 0x1d, 0, 0x17})             // supported_groups: x25519, secp256r1
	exts = ext(exts, 13, []byte{0, 6, 4, 3, 8, 4, 4, 1})             // signature_algorithms
	exts = ext(exts, 16, []byte{0, 3, 2, 'h', '2'})                  // ALPN: h2
	exts = ext(exts, 43, []byte{4, 3, 4, 3, 3})                      // supported_versions: TLS 1.3, 1.2
	ks := append([]byte{0, 36, 0, 0x1d, 0, 32}, make([]byte, 32)...) // key_share: x25519
	for i := 6; i < len(ks); i++ {
		ks[i] = byte(i * 37)
	}
	exts = ext(exts, 51, ks)
	if pad > 0 {
		exts = ext(exts, 21, make([]byte, pad))
	}
	var body []byte
	body = append(body, 3, 3)
	for i := 0; i < 32; i++ {
		body = append(body, byte(i*7+1)) // random
	}
	body = append(body, 32)
	for i := 0; i < 32; i++ {
		body = append(body, byte(255-i)) // legacy session id
	}
	body = append(body, 0, 6, 0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f) // cipher suites
	body = append(body, 1, 0)                                     // compression: null
	body = u16(body, len(exts))
	body = append(body, exts...)
	hs := []byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	return append(hs, body...)
}

// QUICInitial is a client's first QUIC version 1 Initial packet to a
// server, with destination connection id dcid, carrying a ClientHello for
// sni in a CRYPTO frame (cut into two frames in reverse order when split,
// as browsers do) and padded to 1200 bytes, protected as RFC 9001 §5
// says.
func QUICInitial(dcid []byte, sni string, split bool) []byte {
	hello := helloMessage(sni, 0)
	var frames []byte
	if split {
		h := len(hello) / 2
		frames = cryptoFrame(frames, h, hello[h:])
		frames = cryptoFrame(frames, 0, hello[:h])
	} else {
		frames = cryptoFrame(frames, 0, hello)
	}
	return sealInitial(dcid, 0, frames)
}

// QUICInitials are the client's first n Initial packets (packet numbers 0
// to n-1) when its ClientHello for sni, padded by pad bytes, does not fit
// in one: each carries its share of the CRYPTO stream, as a client with
// post-quantum key shares sends it.
func QUICInitials(dcid []byte, sni string, pad, n int) [][]byte {
	hello := helloMessage(sni, pad)
	per := (len(hello) + n - 1) / n
	var out [][]byte
	for i := 0; i < n; i++ {
		lo, hi := i*per, min((i+1)*per, len(hello))
		out = append(out, sealInitial(dcid, byte(i), cryptoFrame(nil, lo, hello[lo:hi])))
	}
	return out
}

func cryptoFrame(b []byte, off int, data []byte) []byte {
	b = append(b, 0x06)
	b = appendVarint(b, uint64(off))
	b = appendVarint(b, uint64(len(data)))
	return append(b, data...)
}

// sealInitial protects frames as the Initial packet numbered pn (one byte)
// of the connection whose first destination connection id is dcid, padded
// to 1200 bytes.
func sealInitial(dcid []byte, pn byte, frames []byte) []byte {
	hdr := []byte{0xc0, 0, 0, 0, 1, byte(len(dcid))}
	hdr = append(hdr, dcid...)
	hdr = append(hdr, 0)    // source connection id: empty
	hdr = append(hdr, 0)    // token length
	padTo := 1200 - 16 - 1  // AEAD tag, packet number
	headLen := len(hdr) + 2 // the Length field as 2 bytes
	if n := padTo - headLen - len(frames); n > 0 {
		frames = append(frames, make([]byte, n)...) // PADDING
	}
	length := 1 + len(frames) + 16
	hdr = append(hdr, byte(0x40|length>>8), byte(length))
	pnOff := len(hdr)
	hdr = append(hdr, pn)

	key, iv, hp := quicClientKeys(dcid)
	blk, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(blk)
	nonce := append([]byte(nil), iv...)
	nonce[11] ^= pn
	pkt := aead.Seal(append([]byte(nil), hdr...), nonce, frames, hdr)
	hpb, _ := aes.NewCipher(hp)
	mask := make([]byte, 16)
	hpb.Encrypt(mask, pkt[pnOff+4:pnOff+20])
	pkt[0] ^= mask[0] & 0x0f
	pkt[pnOff] ^= mask[1]
	return pkt
}

func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, 0x40|byte(v>>8), byte(v))
	}
	return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// quicClientKeys derives the client's Initial key, IV and header
// protection key for QUIC version 1 (RFC 9001 §5.2).
func quicClientKeys(dcid []byte) (key, iv, hp []byte) {
	salt := []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}
	label := func(secret []byte, l string, n int) []byte {
		full := "tls13 " + l
		info := append([]byte{byte(n >> 8), byte(n), byte(len(full))}, full...)
		info = append(info, 0)
		out, err := hkdf.Expand(sha256.New, secret, string(info), n)
		if err != nil {
			panic(err)
		}
		return out
	}
	initial, err := hkdf.Extract(sha256.New, dcid, salt)
	if err != nil {
		panic(err)
	}
	secret := label(initial, "client in", 32)
	return label(secret, "quic key", 16), label(secret, "quic iv", 12), label(secret, "quic hp", 16)
}
