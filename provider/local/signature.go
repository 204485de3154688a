package local

import (
	"crypto/sha256"
	"encoding"
	"hash"
	"maps"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

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
	s := getMACScratch()
	defer putMACScratch(s)

	return append(make([]byte, 0, sha256.Size), s.mac(secret, &f)...)
}

// macScratch is the reusable state of one MAC computation: a SHA-256 hash
// that is reset from a precomputed key state, the message buffer, and room
// for the digests.
type macScratch struct {
	h     hash.Hash
	state encoding.BinaryUnmarshaler
	buf   []byte
	sum   [sha256.Size]byte
	out   [sha256.Size]byte
}

// maxPooledBuf is the largest message or URL buffer kept for reuse.
const maxPooledBuf = 16 << 10

var macScratchPool = sync.Pool{New: func() any {
	h := sha256.New()
	return &macScratch{h: h, state: h.(encoding.BinaryUnmarshaler), buf: make([]byte, 0, 512)}
}}

func getMACScratch() *macScratch { return macScratchPool.Get().(*macScratch) }

func putMACScratch(s *macScratch) {
	if cap(s.buf) > maxPooledBuf {
		s.buf = make([]byte, 0, 512)
	}
	macScratchPool.Put(s)
}

// mac returns the HMAC-SHA256 of f under secret. The result lives in s and
// is valid until s is used again.
func (s *macScratch) mac(secret []byte, f *signedFields) []byte {
	k := lookupMACKey(secret)
	s.buf = appendMessage(s.buf[:0], f)

	s.restore(k.inner)
	s.h.Write(s.buf)
	inner := s.h.Sum(s.sum[:0])

	s.restore(k.outer)
	s.h.Write(inner)
	return s.h.Sum(s.out[:0])
}

// restore sets the hash to a state made by marshalState. The states are
// made by this package from the same hash, so restoring cannot fail.
func (s *macScratch) restore(state []byte) {
	if err := s.state.UnmarshalBinary(state); err != nil {
		panic("local: restore hmac state: " + err.Error())
	}
}

// appendMessage appends the signed message of f, without the context
// field that the inner key state already holds, to b.
func appendMessage(b []byte, f *signedFields) []byte {
	var num [20]byte
	b = appendField(b, f.keyID)
	b = appendField(b, f.method)
	b = appendField(b, strconv.AppendInt(num[:0], f.connID, 10))
	b = appendField(b, filepath.Clean(f.root))
	b = appendField(b, f.key)
	return appendField(b, strconv.AppendInt(num[:0], f.expires, 10))
}

// appendField appends s to b as its decimal length, a colon and its bytes.
func appendField[T ~string | ~[]byte](b []byte, s T) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

// macKey holds the marshaled SHA-256 states of an HMAC key after its inner
// block, followed by the context field, and after its outer block.
type macKey struct {
	inner []byte
	outer []byte
}

// maxMACKeys bounds the number of cached key states; a keyring holds a
// handful of keys, so the cache is only ever emptied when secrets churn.
const maxMACKeys = 64

// macKeys caches key states by secret. Readers load the map without
// locking; writers copy it under macKeysMu and store the copy. The state of
// a key removed from its keyring stays until the cache is emptied; it grants
// nothing, because the handler asks the keyring for the secret first.
var (
	macKeysMu sync.Mutex
	macKeys   atomic.Pointer[map[string]*macKey]
)

// lookupMACKey returns the key states of secret, computing and caching
// them on first use. The states depend on the secret only, so a rotated or
// replaced secret under the same key id gets its own entry.
func lookupMACKey(secret []byte) *macKey {
	if m := macKeys.Load(); m != nil {
		if k, ok := (*m)[string(secret)]; ok {
			return k
		}
	}

	k := newMACKey(secret)
	macKeysMu.Lock()
	defer macKeysMu.Unlock()

	old := macKeys.Load()
	m := make(map[string]*macKey, 1)
	if old != nil && len(*old) < maxMACKeys {
		m = make(map[string]*macKey, len(*old)+1)
		maps.Copy(m, *old)
	}
	m[string(secret)] = k
	macKeys.Store(&m)
	return k
}

// newMACKey computes the key states of secret as HMAC (RFC 2104) defines
// them: a secret longer than the block is hashed first, then padded with
// zeros to one block and XORed with 0x36 (inner) or 0x5c (outer).
func newMACKey(secret []byte) *macKey {
	var block [sha256.BlockSize]byte
	if len(secret) > sha256.BlockSize {
		sum := sha256.Sum256(secret)
		copy(block[:], sum[:])
	} else {
		copy(block[:], secret)
	}

	var ipad, opad [sha256.BlockSize]byte
	for i, c := range block {
		ipad[i] = c ^ 0x36
		opad[i] = c ^ 0x5c
	}
	return &macKey{
		inner: marshalState(ipad[:], appendField(nil, macContext)),
		outer: marshalState(opad[:]),
	}
}

// marshalState returns the state of a SHA-256 hash that has been given
// parts.
func marshalState(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}

	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic("local: marshal hmac state: " + err.Error())
	}
	return state
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
