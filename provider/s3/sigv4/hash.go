package sigv4

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
)

// stateDigestAt is where a marshaled SHA-256 state holds the eight words of
// the running hash, after a 4-byte magic.
const stateDigestAt = 4

// padsOwnMessages tells whether finish may pad messages itself and read the
// digest from the marshaled state, which skips the copy and the two writes
// of hash.Sum. It is checked once against sha256.Sum256, so that a change
// of the state layout falls back to Sum instead of signing wrong.
var padsOwnMessages = checkStateLayout()

// checkStateLayout reports whether the digest of a padded message is found
// in its marshaled state where finish reads it.
func checkStateLayout() bool {
	msg := []byte("mediasign checks the sha256 state layout")
	h := sha256.New()
	h.Write(appendPadding(bytes.Clone(msg), len(msg)))

	state, err := h.(encoding.BinaryAppender).AppendBinary(nil)
	want := sha256.Sum256(msg)
	return err == nil && len(state) >= stateDigestAt+sha256.Size &&
		bytes.Equal(state[stateDigestAt:stateDigestAt+sha256.Size], want[:])
}

// appendPadding appends the SHA-256 padding of a message of total bytes,
// whose tail b is: 0x80, zeros up to 56 mod 64, and the length in bits.
func appendPadding(b []byte, total int) []byte {
	var zeros [shaBlock]byte
	b = append(b, 0x80)
	b = append(b, zeros[:(shaBlock+55-total%shaBlock)%shaBlock]...)
	return binary.BigEndian.AppendUint64(b, uint64(total)*8)
}

// finish hashes (*buf)[from:], the rest of a message of which the hash has
// seen prior bytes already, and returns the digest, which lives in sc until
// its next use. *buf keeps its content.
func (sc *scratch) finish(buf *[]byte, from, prior int) []byte {
	b := *buf
	if !padsOwnMessages {
		sc.h.Write(b[from:])
		sc.sum = sc.h.Sum(sc.sum[:0])
		return sc.sum
	}

	n := len(b)
	b = appendPadding(b, prior+n-from)
	sc.h.Write(b[from:])
	*buf = b[:n]

	var err error
	if sc.state, err = sc.appender.AppendBinary(sc.state[:0]); err != nil {
		// crypto/sha256 documents that its hashes marshal their state.
		panic("sigv4: marshal sha256 state: " + err.Error())
	}
	sc.sum = append(sc.sum[:0], sc.state[stateDigestAt:stateDigestAt+sha256.Size]...)
	return sc.sum
}

// buildStringToSign writes the string to sign, which ends in the hex
// SHA-256 of the canonical request.
func (sc *scratch) buildStringToSign(st *secondState) {
	sc.h.Reset()
	sum := sc.finish(&sc.canon, 0, 0)

	b := append(sc.sts[:0], st.stsPrefix...)
	sc.sts = appendHexSum(b, sum)
}

// sign returns HMAC-SHA256 of the string to sign under the key of st,
// starting from the prepared states: the inner one has hashed the key
// block and the first st.skip bytes of the string to sign already. The
// result lives in sc until its next use.
func (sc *scratch) sign(st *secondState) []byte {
	sc.restore(st.inner)
	inner := sc.finish(&sc.sts, st.skip, shaBlock+st.skip)

	sc.outer = append(sc.outer[:0], inner...)
	sc.restore(st.key.outer)
	return sc.finish(&sc.outer, 0, shaBlock)
}

// restore sets the hash to a marshaled state.
func (sc *scratch) restore(state []byte) {
	if err := sc.restorer.UnmarshalBinary(state); err != nil {
		// The states come from padState, marshaled by the same package.
		panic("sigv4: restore sha256 state: " + err.Error())
	}
}
