package local

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mediasign/mediasign"
)

// Query parameters of a signed local URL.
const (
	ParamExpires   = "X-Mediasign-Expires"
	ParamKeyID     = "X-Mediasign-Key"
	ParamSignature = "X-Mediasign-Signature"
)

// maxKeyLen is the length in bytes of the longest key a local URL can name.
const maxKeyLen = 4096

// macContext opens every signed message, so that a MAC made for another
// purpose with the same key can never pass as a local URL signature.
const macContext = "mediasign-local-url-v1"

// signedFields are the values a local URL signature covers.
type signedFields struct {
	keyID   string
	method  mediasign.Method
	connID  int64
	root    string
	key     string
	expires int64
}

// computeMAC returns the HMAC-SHA256 of f under secret. Every field is
// written with its length in front, so no two sets of fields give the same
// message. The connection root is covered so that URLs stop working when the
// connection is pointed at another directory.
func computeMAC(secret []byte, f signedFields) []byte {
	h := hmac.New(sha256.New, secret)
	writeField(h, macContext)
	writeField(h, f.keyID)
	writeField(h, string(f.method))
	writeField(h, strconv.FormatInt(f.connID, 10))
	writeField(h, filepath.Clean(f.root))
	writeField(h, f.key)
	writeField(h, strconv.FormatInt(f.expires, 10))
	return h.Sum(nil)
}

func writeField(h hash.Hash, s string) {
	var buf [20]byte
	h.Write(strconv.AppendInt(buf[:0], int64(len(s)), 10))
	h.Write([]byte{':'})
	h.Write([]byte(s))
}

// appendEscapedKey appends key to b with every byte percent-encoded except
// A-Z a-z 0-9 - . _ ~ and the slash.
func appendEscapedKey(b []byte, key string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(key); i++ {
		c := key[i]
		if isUnreserved(c) || c == '/' {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return b
}

func isUnreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// checkObjectKey returns why key cannot name a file under a local root, or ""
// when it can. A key is a relative slash-separated path of non-empty
// segments. Segments that start with a dot (".", "..", hidden names), NUL
// bytes and backslashes (a separator on some systems) are refused; any other
// byte, valid UTF-8 or not, is part of a name.
func checkObjectKey(key string) string {
	switch {
	case key == "":
		return "key is empty"
	case len(key) > maxKeyLen:
		return "key is longer than 4096 bytes"
	case strings.IndexByte(key, 0) >= 0:
		return "key contains a NUL byte"
	case strings.IndexByte(key, '\\') >= 0:
		return "key contains a backslash"
	case strings.HasPrefix(key, "/"):
		return "key starts with a slash"
	case strings.HasSuffix(key, "/"):
		return "key ends with a slash"
	}

	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return "key contains an empty path segment"
		case seg[0] == '.':
			return "key contains a segment that starts with a dot"
		}
	}
	return ""
}
