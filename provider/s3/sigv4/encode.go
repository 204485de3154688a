package sigv4

import "time"

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

// keeps reports whether c stays unencoded, given whether '/' is kept.
func keeps(c byte, keepSlash bool) bool {
	return unreserved[c] || (keepSlash && c == '/')
}

// appendEscaped appends s to dst with every byte outside the unreserved set
// percent-encoded once with uppercase hex. With keepSlash, '/' stays literal,
// as the S3 rule wants for object keys in a path. Nothing is decoded or
// normalized first.
func appendEscaped[T string | []byte](dst []byte, s T, keepSlash bool) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keeps(c, keepSlash) {
			continue
		}

		dst = append(dst, s[start:i]...)
		dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		start = i + 1
	}
	return append(dst, s[start:]...)
}

// lowerHex holds the digits of the hex signature; SigV4 wants lowercase.
const lowerHex = "0123456789abcdef"

// appendHex appends b in lowercase hex.
func appendHex(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, lowerHex[c>>4], lowerHex[c&15])
	}
	return dst
}

// escapedLen returns the length of s once appendEscaped has encoded it.
func escapedLen(s string, keepSlash bool) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if !keeps(s[i], keepSlash) {
			n += 2
		}
	}
	return n
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
