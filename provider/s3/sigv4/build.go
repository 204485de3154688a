package sigv4

import (
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"hash"
	"slices"
	"strconv"
	"sync"
	"time"
	"unsafe"
)

// signatureParam introduces the signature, the one parameter that follows
// the canonical query in the URL.
const signatureParam = "&X-Amz-Signature="

// maxPooled is the largest buffer a scratch keeps between uses.
const maxPooled = 64 << 10

// scratch holds the buffers and the hash one presign call works in. Scratches
// are pooled, so a call allocates nothing but the URL.
type scratch struct {
	h     hash.Hash
	state encoding.BinaryUnmarshaler

	headers []byte // canonical header lines, each ending in \n
	signed  []byte // signed header names, joined by ;
	hspans  []span // headers other than host, in hbuf
	hbuf    []byte

	params []span // query parameters, in pbuf
	pbuf   []byte
	query  []byte // canonical query

	canon []byte // canonical request
	sts   []byte // string to sign
	sum   []byte
}

// span is one name and value in a scratch buffer: name [start:mid], value
// [mid:end].
type span struct{ start, mid, end int }

// scratches pools scratch values.
var scratches = sync.Pool{New: func() any {
	h := sha256.New()
	return &scratch{h: h, state: h.(encoding.BinaryUnmarshaler), sum: make([]byte, 0, 64)}
}}

// getScratch takes a scratch from the pool.
func getScratch() *scratch { return scratches.Get().(*scratch) }

// putScratch returns sc to the pool unless a long request grew it too much.
func putScratch(sc *scratch) {
	if cap(sc.canon) > maxPooled || cap(sc.pbuf) > maxPooled || cap(sc.hbuf) > maxPooled {
		return
	}
	scratches.Put(sc)
}

// Presign returns the presigned URL for r. Its query is the canonical
// query, byte for byte, followed by X-Amz-Signature.
func (s *Signer) Presign(r *Request) (string, error) {
	buf, err := s.AppendPresign(nil, r)
	if err != nil {
		return "", err
	}
	return unsafe.String(unsafe.SliceData(buf), len(buf)), nil
}

// AppendPresign appends the presigned URL for r to dst. On error dst comes
// back unchanged.
func (s *Signer) AppendPresign(dst []byte, r *Request) ([]byte, error) {
	if err := s.check(r); err != nil {
		return dst, err
	}

	sc := getScratch()
	defer putScratch(sc)
	return s.build(dst, r, sc), nil
}

// build appends the URL for the checked request r, leaving the canonical
// request and the string to sign in sc.
func (s *Signer) build(dst []byte, r *Request, sc *scratch) []byte {
	date := makeAmzDate(r.Time)
	vhost := s.virtualHosted(r.Bucket)

	sc.buildHeaders(s, r, vhost)
	sc.buildQuery(s, r, &date)

	out := slices.Grow(dst, s.urlLen(r, vhost)+len(sc.query)+len(signatureParam)+2*sha256.Size)
	out = append(out, s.origin...)
	out = s.appendHost(out, r.Bucket, vhost)
	pathStart := len(out)
	out = s.appendPath(out, r, vhost)
	path := out[pathStart:]
	out = append(out, '?')
	out = append(out, sc.query...)

	sc.buildCanonical(r.Method, path, s.payloadHash)
	sc.buildStringToSign(&date, s.scope)
	sig := sc.sign(s.signingKey(&date))

	out = append(out, signatureParam...)
	return hex.AppendEncode(out, sig)
}

// urlLen returns the length of the URL up to the query.
func (s *Signer) urlLen(r *Request, vhost bool) int {
	n := len(s.origin) + len(s.host) + 2
	if r.Path != "" {
		return n + len(r.Path)
	}
	return n + len(r.Bucket) + 2 + escapedLen(r.Key, true)
}

// appendHost appends the host of the URL: bucket.host when virtual-hosted.
func (s *Signer) appendHost(dst []byte, bucket string, vhost bool) []byte {
	if vhost {
		dst = append(dst, bucket...)
		dst = append(dst, '.')
	}
	return append(dst, s.host...)
}

// appendPath appends the encoded path: the caller's path, /key when
// virtual-hosted, or /bucket/key.
func (s *Signer) appendPath(dst []byte, r *Request, vhost bool) []byte {
	if r.Path != "" {
		return append(dst, r.Path...)
	}

	dst = append(dst, '/')
	if !vhost {
		dst = appendEscaped(dst, r.Bucket, false)
		dst = append(dst, '/')
	}
	return appendEscaped(dst, r.Key, true)
}

// buildCanonical writes the canonical request from the parts in sc.
func (sc *scratch) buildCanonical(method string, path []byte, payloadHash string) {
	b := append(sc.canon[:0], method...)
	b = append(b, '\n')
	b = append(b, path...)
	b = append(b, '\n')
	b = append(b, sc.query...)
	b = append(b, '\n')
	b = append(b, sc.headers...)
	b = append(b, '\n')
	b = append(b, sc.signed...)
	b = append(b, '\n')
	sc.canon = append(b, payloadHash...)
}

// buildStringToSign writes the string to sign, which ends in the hex
// SHA-256 of the canonical request.
func (sc *scratch) buildStringToSign(date *amzDate, scope string) {
	sc.h.Reset()
	sc.h.Write(sc.canon)
	sc.sum = sc.h.Sum(sc.sum[:0])

	b := append(sc.sts[:0], algorithm+"\n"...)
	b = append(b, date[:]...)
	b = append(b, '\n')
	b = append(b, date.day()...)
	b = append(b, scope...)
	b = append(b, '\n')
	sc.sts = hex.AppendEncode(b, sc.sum)
}

// sign returns HMAC-SHA256 of the string to sign under key, starting from
// the prepared pad states. The result lives in sc until its next use.
func (sc *scratch) sign(key *signingKey) []byte {
	sc.restore(key.inner)
	sc.h.Write(sc.sts)
	sc.sum = sc.h.Sum(sc.sum[:0])

	sc.restore(key.outer)
	sc.h.Write(sc.sum)
	sc.sum = sc.h.Sum(sc.sum[:0])
	return sc.sum
}

// restore sets the hash to a marshaled state.
func (sc *scratch) restore(state []byte) {
	if err := sc.state.UnmarshalBinary(state); err != nil {
		// The states come from padState, marshaled by the same package.
		panic("sigv4: restore sha256 state: " + err.Error())
	}
}

// buildQuery writes the canonical query: every parameter encoded, sorted
// by encoded name, then by encoded value.
func (sc *scratch) buildQuery(s *Signer, r *Request, date *amzDate) {
	sc.pbuf, sc.params = sc.pbuf[:0], sc.params[:0]

	sc.addParam("X-Amz-Algorithm", algorithm)
	sc.begin("X-Amz-Credential")
	sc.pbuf = append(sc.pbuf, s.credential...)
	sc.pbuf = append(sc.pbuf, date.day()...)
	sc.pbuf = append(sc.pbuf, s.scopeEnc...)
	sc.end()
	sc.addParam("X-Amz-Date", string(date[:]))
	sc.begin("X-Amz-Expires")
	sc.pbuf = strconv.AppendInt(sc.pbuf, int64(r.Expires/time.Second), 10)
	sc.end()
	if s.token != "" {
		sc.addParam("X-Amz-Security-Token", s.token)
	}
	sc.begin("X-Amz-SignedHeaders")
	sc.pbuf = appendEscaped(sc.pbuf, sc.signed, false)
	sc.end()

	sc.addEscaped("response-content-disposition", r.ResponseContentDisposition, false)
	sc.addEscaped("response-content-type", r.ResponseContentType, false)
	for _, p := range r.Query {
		sc.addEscaped(p.Name, p.Value, true)
	}

	sortSpans(sc.params, sc.pbuf, true)
	sc.query = joinParams(sc.query[:0], sc.params, sc.pbuf)
}

// begin starts a parameter whose name needs no encoding.
func (sc *scratch) begin(name string) {
	start := len(sc.pbuf)
	sc.pbuf = append(sc.pbuf, name...)
	sc.params = append(sc.params, span{start: start, mid: len(sc.pbuf)})
}

// end closes the parameter begun last, at the end of pbuf.
func (sc *scratch) end() {
	sc.params[len(sc.params)-1].end = len(sc.pbuf)
}

// addParam adds a parameter whose name and value need no encoding.
func (sc *scratch) addParam(name, value string) {
	sc.begin(name)
	sc.pbuf = append(sc.pbuf, value...)
	sc.end()
}

// addEscaped adds a parameter, encoding its name and value; an empty value
// drops it unless keepEmpty.
func (sc *scratch) addEscaped(name, value string, keepEmpty bool) {
	if value == "" && !keepEmpty {
		return
	}

	start := len(sc.pbuf)
	sc.pbuf = appendEscaped(sc.pbuf, name, false)
	mid := len(sc.pbuf)
	sc.pbuf = appendEscaped(sc.pbuf, value, false)
	sc.params = append(sc.params, span{start: start, mid: mid, end: len(sc.pbuf)})
}
