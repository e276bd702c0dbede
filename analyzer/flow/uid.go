package flow

// MaxUIDLen is the longest uid a UID holds: Zeek's are "C" and up to 17
// base-62 digits (96 random bits), room is left for a site's longer
// uid_bits.
const MaxUIDLen = 23

// UID is the uid a Zeek conn.log gave a connection, kept so that what
// flowaudit writes of it can be found again in Zeek's other logs (ssl.log,
// http.log, ...). It is held in place, without a string, so a Connection
// carries it without an allocation. The zero UID is none: a capture's
// connections have none (their uids are made when they are written).
type UID struct {
	n uint8
	b [MaxUIDLen]byte
}

// ParseUID reads a uid: 1 to MaxUIDLen letters and digits, as Zeek's base
// 62 uids are; ok is false for anything else.
func ParseUID(s []byte) (u UID, ok bool) {
	if len(s) == 0 || len(s) > MaxUIDLen {
		return UID{}, false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return UID{}, false
		}
	}
	u.n = uint8(copy(u.b[:], s))
	return u, true
}

// IsZero says the UID is none.
func (u *UID) IsZero() bool { return u.n == 0 }

// String is the uid; "" for none.
func (u UID) String() string { return string(u.b[:u.n]) }

// AppendTo appends the uid to b.
func (u *UID) AppendTo(b []byte) []byte { return append(b, u.b[:u.n]...) }

// Compare orders uids as strings (none first).
func (u *UID) Compare(v *UID) int {
	a, b := u.b[:u.n], v.b[:v.n]
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}

// FirstUID is the uid of the earliest of a set of a sensor's records that
// carried one: earliest start (Unix nanoseconds), ties by uid, so that it
// is the same whatever order the records came in.
type FirstUID struct {
	UID   UID
	Start int64
}

// Add takes u, of a record that started at start, if it comes first.
func (f *FirstUID) Add(u *UID, start int64) {
	if u.IsZero() {
		return
	}
	if f.UID.IsZero() || start < f.Start || start == f.Start && u.Compare(&f.UID) < 0 {
		f.UID, f.Start = *u, start
	}
}

// Merge takes o's uid if it comes first.
func (f *FirstUID) Merge(o *FirstUID) { f.Add(&o.UID, o.Start) }
