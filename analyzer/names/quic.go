package names

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
)

// QUIC versions whose Initial packets are read: 1 (RFC 9000) and 2 (RFC
// 9369), which differ only in the salt, the key labels and the packet type
// bits of an Initial.
const (
	quicV1 = 0x00000001
	quicV2 = 0x6b3343cf
)

var (
	quicSaltV1 = []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}
	quicSaltV2 = []byte{0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9}
)

var (
	errQUICShort   = errors.New("quic: packet cut short")
	errQUICNot     = errors.New("quic: not a client Initial of version 1 or 2")
	errQUICDecrypt = errors.New("quic: Initial does not decrypt with the keys of its connection id")
	errQUICFrame   = errors.New("quic: malformed frame")
)

// looksLikeQUICInitial says whether a UDP payload starts with a long-header
// packet of QUIC version 1 or 2.
func looksLikeQUICInitial(b []byte) bool {
	if len(b) < 7 || b[0]&0xc0 != 0xc0 {
		return false
	}
	v := uint32(b[1])<<24 | uint32(b[2])<<16 | uint32(b[3])<<8 | uint32(b[4])
	return v == quicV1 && b[0]&0x30 == 0x00 || v == quicV2 && b[0]&0x30 == 0x10
}

// initialKeys are the client's Initial packet protection keys (RFC 9001
// §5.2).
type initialKeys struct {
	aead cipher.AEAD
	hp   cipher.Block
	iv   [12]byte
}

// expandLabel is TLS 1.3's HKDF-Expand-Label with an empty context (RFC
// 8446 §7.1).
func expandLabel(secret []byte, label string, n int) ([]byte, error) {
	full := "tls13 " + label
	info := make([]byte, 0, 4+len(full))
	info = append(info, byte(n>>8), byte(n), byte(len(full)))
	info = append(info, full...)
	info = append(info, 0)
	return hkdf.Expand(sha256.New, secret, string(info), n)
}

// clientInitialSecret derives client_initial_secret from the destination
// connection id of the client's first Initial.
func clientInitialSecret(version uint32, dcid []byte) ([]byte, error) {
	salt := quicSaltV1
	if version == quicV2 {
		salt = quicSaltV2
	}
	initial, err := hkdf.Extract(sha256.New, dcid, salt)
	if err != nil {
		return nil, err
	}
	return expandLabel(initial, "client in", sha256.Size)
}

// deriveInitialKeys derives the AEAD key, IV and header protection key.
func deriveInitialKeys(version uint32, dcid []byte) (*initialKeys, error) {
	secret, err := clientInitialSecret(version, dcid)
	if err != nil {
		return nil, err
	}
	prefix := "quic "
	if version == quicV2 {
		prefix = "quicv2 "
	}
	key, err := expandLabel(secret, prefix+"key", 16)
	if err != nil {
		return nil, err
	}
	iv, err := expandLabel(secret, prefix+"iv", 12)
	if err != nil {
		return nil, err
	}
	hp, err := expandLabel(secret, prefix+"hp", 16)
	if err != nil {
		return nil, err
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, err
	}
	hpb, err := aes.NewCipher(hp)
	if err != nil {
		return nil, err
	}
	k := &initialKeys{aead: aead, hp: hpb}
	copy(k.iv[:], iv)
	return k, nil
}

// varint reads a QUIC variable-length integer (RFC 9000 §16).
func varint(b []byte) (uint64, int, bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	n := 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0, false
	}
	v := uint64(b[0] & 0x3f)
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
	}
	return v, n, true
}

// quicHeader is the cleartext part of a long-header Initial packet.
type quicHeader struct {
	version  uint32
	dcid     []byte
	pnOffset int // offset of the protected packet number
	end      int // offset just past the packet (its Length field)
}

// parseInitialHeader reads the long header of a client Initial at the
// start of b.
func parseInitialHeader(b []byte) (quicHeader, error) {
	var h quicHeader
	if !looksLikeQUICInitial(b) {
		return h, errQUICNot
	}
	h.version = uint32(b[1])<<24 | uint32(b[2])<<16 | uint32(b[3])<<8 | uint32(b[4])
	off := 5
	dl := int(b[off])
	off++
	if dl > 20 || off+dl >= len(b) {
		return h, errQUICShort
	}
	h.dcid = b[off : off+dl]
	off += dl
	sl := int(b[off])
	off++
	if sl > 20 || off+sl > len(b) {
		return h, errQUICShort
	}
	off += sl
	tl, n, ok := varint(b[off:])
	if !ok || tl > uint64(len(b)) {
		return h, errQUICShort
	}
	off += n
	if off+int(tl) > len(b) {
		return h, errQUICShort
	}
	off += int(tl)
	length, n, ok := varint(b[off:])
	if !ok {
		return h, errQUICShort
	}
	off += n
	if length > uint64(len(b)-off) || length < 20 {
		return h, errQUICShort
	}
	h.pnOffset = off
	h.end = off + int(length)
	return h, nil
}

// openInitial removes header protection and decrypts the Initial packet
// pkt (exactly one packet, as parseInitialHeader delimited it), working in
// buf, which must be at least len(pkt) long. It returns the plaintext
// frames, a slice of buf.
func openInitial(pkt []byte, h quicHeader, k *initialKeys, buf []byte) ([]byte, error) {
	if h.pnOffset+4+16 > len(pkt) {
		return nil, errQUICShort
	}
	buf = buf[:len(pkt)]
	copy(buf, pkt)
	var mask [16]byte
	k.hp.Encrypt(mask[:], buf[h.pnOffset+4:h.pnOffset+20])
	buf[0] ^= mask[0] & 0x0f
	pnLen := int(buf[0]&3) + 1
	var pn uint64
	for i := 0; i < pnLen; i++ {
		buf[h.pnOffset+i] ^= mask[1+i]
		pn = pn<<8 | uint64(buf[h.pnOffset+i])
	}
	nonce := k.iv
	for i := 0; i < 8; i++ {
		nonce[11-i] ^= byte(pn >> (8 * i))
	}
	hdr := buf[:h.pnOffset+pnLen]
	ct := buf[h.pnOffset+pnLen:]
	pt, err := k.aead.Open(ct[:0], nonce[:], ct, hdr)
	if err != nil {
		return nil, errQUICDecrypt
	}
	return pt, nil
}

// cryptoFrames calls fn for each CRYPTO frame of an Initial's plaintext.
// PADDING, PING, ACK and CONNECTION_CLOSE frames are stepped over; any
// other frame type in an Initial is malformed.
func cryptoFrames(pt []byte, fn func(off uint64, data []byte)) error {
	for len(pt) > 0 {
		typ, n, ok := varint(pt)
		if !ok {
			return errQUICFrame
		}
		pt = pt[n:]
		switch typ {
		case 0x00, 0x01: // PADDING, PING
		case 0x02, 0x03: // ACK
			var vals [4]uint64
			for i := range vals {
				if vals[i], n, ok = varint(pt); !ok {
					return errQUICFrame
				}
				pt = pt[n:]
			}
			ranges := vals[2]
			if ranges > uint64(len(pt)) {
				return errQUICFrame
			}
			for i := uint64(0); i < 2*ranges; i++ {
				if _, n, ok = varint(pt); !ok {
					return errQUICFrame
				}
				pt = pt[n:]
			}
			if typ == 0x03 {
				for i := 0; i < 3; i++ {
					if _, n, ok = varint(pt); !ok {
						return errQUICFrame
					}
					pt = pt[n:]
				}
			}
		case 0x06: // CRYPTO
			off, n, ok := varint(pt)
			if !ok {
				return errQUICFrame
			}
			pt = pt[n:]
			l, n, ok := varint(pt)
			if !ok || l > uint64(len(pt)-n) {
				return errQUICFrame
			}
			pt = pt[n:]
			fn(off, pt[:l])
			pt = pt[l:]
		case 0x1c: // CONNECTION_CLOSE (transport)
			var v uint64
			for i := 0; i < 3; i++ {
				if v, n, ok = varint(pt); !ok {
					return errQUICFrame
				}
				pt = pt[n:]
			}
			if v > uint64(len(pt)) {
				return errQUICFrame
			}
			pt = pt[v:]
		default:
			return errQUICFrame
		}
	}
	return nil
}
