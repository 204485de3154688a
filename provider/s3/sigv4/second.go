package sigv4

import (
	"crypto/sha256"
	"encoding"
	"time"
)

// secondState is what every URL that one Signer signs within one second
// shares: the X-Amz-Date, the signing key of its day, the fixed head of the
// canonical query and of the string to sign, and the inner HMAC state after
// the whole blocks of the string to sign that come before the hash of the
// canonical request. Bulk signing reuses it for every URL of the second,
// which saves the date formatting, the key lookup and one SHA-256 block
// per URL.
type secondState struct {
	unix int64
	date amzDate
	key  *signingKey

	// queryHead is the canonical query up to the value of X-Amz-Expires,
	// and stsPrefix the string to sign up to the hash.
	queryHead []byte
	stsPrefix []byte

	// inner is the marshaled SHA-256 state after the key's inner pad and
	// the first skip bytes of the string to sign.
	inner []byte
	skip  int
}

// secondFor returns the state of the second of t, building it when the
// signer last signed in another second.
func (s *Signer) secondFor(t time.Time) *secondState {
	unix := t.Unix()
	if st := s.second.Load(); st != nil && st.unix == unix {
		return st
	}

	st := s.newSecond(t, s.second.Load())
	s.second.Store(st)
	return st
}

// newSecond builds the state of the second of t, taking the signing key
// from prev when it is of the same day.
func (s *Signer) newSecond(t time.Time, prev *secondState) *secondState {
	st := &secondState{unix: t.Unix(), date: makeAmzDate(t)}

	day := [8]byte(st.date.day())
	if prev != nil && prev.key.day == day {
		st.key = prev.key
	} else {
		id := scopeID{secret: s.secretID, day: day, region: s.region, service: s.service}
		st.key = s.keys.get(id, s.secret)
	}

	st.queryHead = append([]byte(s.queryHead), st.date.day()...)
	st.queryHead = append(st.queryHead, s.scopeTail...)
	st.queryHead = append(st.queryHead, st.date[:]...)
	st.queryHead = append(st.queryHead, "&X-Amz-Expires="...)

	st.stsPrefix = appendSTSPrefix(nil, &st.date, s.scope)
	st.skip = len(st.stsPrefix) / shaBlock * shaBlock
	st.inner = st.key.inner
	if st.skip > 0 {
		st.inner = advanceState(st.key.inner, st.stsPrefix[:st.skip])
	}
	return st
}

// appendSTSPrefix appends the part of the string to sign that comes before
// the hash of the canonical request.
func appendSTSPrefix(dst []byte, date *amzDate, scope string) []byte {
	dst = append(dst, algorithm+"\n"...)
	dst = append(dst, date[:]...)
	dst = append(dst, '\n')
	dst = append(dst, date.day()...)
	dst = append(dst, scope...)
	return append(dst, '\n')
}

// advanceState returns the marshaled SHA-256 state after hashing msg from
// the marshaled state.
func advanceState(state, msg []byte) []byte {
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		// The states come from padState, marshaled by the same package.
		panic("sigv4: restore sha256 state: " + err.Error())
	}
	h.Write(msg)
	return marshalState(h)
}
