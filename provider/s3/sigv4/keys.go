package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding"
	"hash"
	"sync"
	"sync/atomic"
)

// shaBlock is the block size of SHA-256, the width of the HMAC pads.
const shaBlock = 64

// signingKey is the SigV4 key of one secret, day, region and service, kept
// as the two SHA-256 states that HMAC starts from: after the key XOR ipad
// block and after the key XOR opad block. Signing with it hashes no pad.
type signingKey struct {
	day   [8]byte
	inner []byte
	outer []byte
}

// scopeID names a signing key in a KeyCache. The secret is held only as its
// SHA-256 fingerprint.
type scopeID struct {
	secret  [sha256.Size]byte
	day     [8]byte
	region  string
	service string
}

// KeyCache holds derived signing keys, so that the four HMACs of the key
// derivation run once per secret, day, region and service. It is safe for
// concurrent use; the zero value is not, use NewKeyCache.
type KeyCache struct {
	mu      sync.Mutex
	keys    map[scopeID]*signingKey
	max     int
	derived atomic.Int64
}

// defaultKeys is the cache of signers whose Config names none.
var defaultKeys = NewKeyCache(1024)

// NewKeyCache returns a cache that holds at most size keys (at least 1).
func NewKeyCache(size int) *KeyCache {
	return &KeyCache{keys: make(map[scopeID]*signingKey), max: max(size, 1)}
}

// get returns the key of id, deriving it from secret on first use.
func (c *KeyCache) get(id scopeID, secret string) *signingKey {
	c.mu.Lock()
	defer c.mu.Unlock()

	if k, ok := c.keys[id]; ok {
		return k
	}

	k := deriveKey(secret, id)
	c.derived.Add(1)
	c.evictFor(id.day)
	c.keys[id] = k
	return k
}

// evictFor makes room for one key of day: it drops keys of other days
// first, then any key.
func (c *KeyCache) evictFor(day [8]byte) {
	if len(c.keys) < c.max {
		return
	}

	for id := range c.keys {
		if id.day != day {
			delete(c.keys, id)
		}
	}
	for id := range c.keys {
		if len(c.keys) < c.max {
			return
		}
		delete(c.keys, id)
	}
}

// deriveKey runs the SigV4 key derivation and prepares the HMAC states.
func deriveKey(secret string, id scopeID) *signingKey {
	key := hmacSum([]byte("AWS4"+secret), id.day[:])
	key = hmacSum(key, []byte(id.region))
	key = hmacSum(key, []byte(id.service))
	key = hmacSum(key, []byte("aws4_request"))

	return &signingKey{
		day:   id.day,
		inner: padState(key, 0x36),
		outer: padState(key, 0x5c),
	}
}

// hmacSum returns HMAC-SHA256 of msg under key.
func hmacSum(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// padState returns the marshaled SHA-256 state after hashing key, padded
// with zeros to one block, XOR pad.
func padState(key []byte, pad byte) []byte {
	var block [shaBlock]byte
	copy(block[:], key)
	for i := range block {
		block[i] ^= pad
	}

	h := sha256.New()
	h.Write(block[:])
	return marshalState(h)
}

// marshalState returns the marshaled state of a SHA-256 hash.
func marshalState(h hash.Hash) []byte {
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		// crypto/sha256 documents that its hashes marshal their state.
		panic("sigv4: marshal sha256 state: " + err.Error())
	}
	return state
}
