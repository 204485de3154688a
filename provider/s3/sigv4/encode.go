package sigv4

import (
	"crypto/sha256"
	"slices"
	"time"
)

// upperHex holds the digits of percent-encoding; SigV4 wants uppercase.
const upperHex = "0123456789ABCDEF"

// unreserved marks the bytes that SigV4 leaves as they are: A-Z a-z 0-9 - . _ ~.
var unreserved = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['-'], t['.'], t['_'], t['~'] = true, true, true, true
	return t
}()

// pathSafe marks the bytes an object key keeps in a path: the unreserved
// ones and '/'.
var pathSafe = func() [256]bool {
	t := unreserved
	t['/'] = true
	return t
}()

// appendEscaped appends s to dst with every byte that safe does not mark
// percent-encoded once with uppercase hex: &unreserved for query names and
// values, &pathSafe for object keys. Nothing is decoded or normalized first.
func appendEscaped(dst []byte, s string, safe *[256]bool) []byte {
	n := len(dst)
	dst = slices.Grow(dst, 3*len(s))[:n+3*len(s)]

	j := n
	for i := 0; i < len(s); i++ {
		c := s[i]
		if safe[c] {
			dst[j] = c
			j++
			continue
		}
		dst[j], dst[j+1], dst[j+2] = '%', upperHex[c>>4], upperHex[c&15]
		j += 3
	}
	return dst[:j]
}

// appendEscapedBytes is appendEscaped for query text held in a byte slice.
func appendEscapedBytes(dst, s []byte) []byte {
	for _, c := range s {
		if unreserved[c] {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
	}
	return dst
}

// hexPairs holds the two lowercase hex digits of every byte value.
var hexPairs = func() (t [256][2]byte) {
	const digits = "0123456789abcdef"
	for i := range t {
		t[i] = [2]byte{digits[i>>4], digits[i&15]}
	}
	return t
}()

// appendHexSum appends a SHA-256 sum in lowercase hex.
func appendHexSum(dst, sum []byte) []byte {
	n := len(dst)
	dst = slices.Grow(dst, 2*sha256.Size)[:n+2*sha256.Size]

	// Fixed-size views let the compiler drop the bounds checks.
	in := (*[sha256.Size]byte)(sum)
	out := (*[2 * sha256.Size]byte)(dst[n:])
	for i, c := range in {
		p := hexPairs[c]
		out[2*i], out[2*i+1] = p[0], p[1]
	}
	return dst
}

// amzDate is a signing time in the basic ISO 8601 form SigV4 uses,
// YYYYMMDDTHHMMSSZ; its first 8 bytes are the date of the credential scope.
type amzDate [16]byte

// makeAmzDate formats t, taken in UTC. The year must have four digits.
func makeAmzDate(t time.Time) amzDate {
	var d amzDate

	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()

	putDigits(d[0:4], year)
	putDigits(d[4:6], int(month))
	putDigits(d[6:8], day)
	d[8] = 'T'
	putDigits(d[9:11], hour)
	putDigits(d[11:13], minute)
	putDigits(d[13:15], sec)
	d[15] = 'Z'
	return d
}

// putDigits writes v in decimal into b, padded with zeros to len(b).
func putDigits(b []byte, v int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}

// day returns the date part, YYYYMMDD.
func (d *amzDate) day() []byte { return d[:8] }
