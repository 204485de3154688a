package sigv4

import (
	"crypto/sha256"
	"encoding"
	"hash"
	"strconv"
	"sync"
	"time"
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

	url     []byte // the URL, built in place before it is copied out
	headers []byte // canonical header lines, each ending in \n
	signed  []byte // signed header names, joined by ;
	hspans  []span // headers other than host, in hbuf
	hbuf    []byte

	params []span // query parameters, in pbuf
	pbuf   []byte

	canon []byte // canonical request
	sts   []byte // string to sign
	sum   []byte
}

// span is one name and value in a scratch buffer: name [start:mid], value
// [val:end].
type span struct{ start, mid, val, end int }

// scratches pools scratch values.
var scratches = sync.Pool{New: func() any {
	h := sha256.New()
	return &scratch{h: h, state: h.(encoding.BinaryUnmarshaler), sum: make([]byte, 0, 64)}
}}

// getScratch takes a scratch from the pool.
func getScratch() *scratch { return scratches.Get().(*scratch) }

// putScratch returns sc to the pool unless a long request grew it too much.
func putScratch(sc *scratch) {
	if cap(sc.url) > maxPooled || cap(sc.canon) > maxPooled ||
		cap(sc.pbuf) > maxPooled || cap(sc.hbuf) > maxPooled {
		return
	}
	scratches.Put(sc)
}

// Presign returns the presigned URL for r with its honest expiry and the
// headers the client must send. The URL's query is the canonical query,
// byte for byte, followed by X-Amz-Signature. The URL is the only
// allocation when r signs no header besides host.
func (s *Signer) Presign(r *Request) (Presigned, error) {
	if err := s.check(r); err != nil {
		return Presigned{}, err
	}

	sc := getScratch()
	s.build(r, sc)
	out := Presigned{URL: string(sc.url), ExpiresAt: s.ExpiresAt(r), Headers: r.sendHeaders()}
	putScratch(sc)
	return out, nil
}

// AppendPresign appends the presigned URL for r to dst, for callers that
// sign many URLs into one buffer. On error dst comes back unchanged.
func (s *Signer) AppendPresign(dst []byte, r *Request) ([]byte, error) {
	if err := s.check(r); err != nil {
		return dst, err
	}

	sc := getScratch()
	s.build(r, sc)
	dst = append(dst, sc.url...)
	putScratch(sc)
	return dst, nil
}

// ExpiresAt returns when a URL presigned for r stops working: X-Amz-Date
// plus the whole seconds of Expires, or the end of the temporary
// credentials when that comes first.
func (s *Signer) ExpiresAt(r *Request) time.Time {
	at := r.ExpiresAt()
	if !s.credsEnd.IsZero() && s.credsEnd.Before(at) {
		return s.credsEnd
	}
	return at
}

// build writes the URL for the checked request r into sc.url, leaving the
// canonical request and the string to sign in sc.
func (s *Signer) build(r *Request, sc *scratch) {
	date := makeAmzDate(r.Time)
	vhost := s.virtualHosted(r.Bucket)
	sc.buildHeaders(s, r, vhost)

	u := append(sc.url[:0], s.origin...)
	u = s.appendHost(u, r.Bucket, vhost)
	pathStart := len(u)
	u = s.appendPath(u, r, vhost)
	queryStart := len(u) + 1
	u = append(u, '?')
	u = s.appendQuery(u, r, &date, sc)
	queryEnd := len(u)

	sc.buildCanonical(r.Method, u[pathStart:queryStart-1], u[queryStart:queryEnd], s.payloadHash)
	sc.buildStringToSign(&date, s.scope)
	sig := sc.sign(s.signingKey(&date))

	u = append(u, signatureParam...)
	sc.url = appendHex(u, sig)
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

// appendQuery appends the canonical query: every parameter encoded, sorted
// by encoded name, then by encoded value.
func (s *Signer) appendQuery(dst []byte, r *Request, date *amzDate, sc *scratch) []byte {
	if len(r.Query) > 0 {
		sc.buildParams(s, r, date)
		return joinParams(dst, sc.params, sc.pbuf)
	}

	// Without extra parameters the order is known: the X-Amz- names sort
	// as written here, and the lower-case response- names after them.
	dst = s.appendAuthParams(dst, r, date, sc.signed)
	if r.ResponseContentDisposition != "" {
		dst = append(dst, "&response-content-disposition="...)
		dst = appendEscaped(dst, r.ResponseContentDisposition, false)
	}
	if r.ResponseContentType != "" {
		dst = append(dst, "&response-content-type="...)
		dst = appendEscaped(dst, r.ResponseContentType, false)
	}
	return dst
}

// appendAuthParams appends the X-Amz- parameters, in canonical order,
// joined by &.
func (s *Signer) appendAuthParams(dst []byte, r *Request, date *amzDate, signed []byte) []byte {
	dst = append(dst, s.queryHead...)
	dst = append(dst, date.day()...)
	dst = append(dst, s.scopeTail...)
	dst = append(dst, date[:]...)
	dst = append(dst, "&X-Amz-Expires="...)
	dst = strconv.AppendInt(dst, int64(r.Expires/time.Second), 10)
	dst = append(dst, s.tokenParam...)
	dst = append(dst, "&X-Amz-SignedHeaders="...)
	return appendEscaped(dst, signed, false)
}

// buildCanonical writes the canonical request from its parts.
func (sc *scratch) buildCanonical(method string, path, query []byte, payloadHash string) {
	b := append(sc.canon[:0], method...)
	b = append(b, '\n')
	b = append(b, path...)
	b = append(b, '\n')
	b = append(b, query...)
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
	sc.sts = appendHex(b, sc.sum)
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

// buildParams collects every parameter of r, encoded, in sc.params and
// sorts them: the general path, for requests with extra parameters.
func (sc *scratch) buildParams(s *Signer, r *Request, date *amzDate) {
	sc.pbuf, sc.params = sc.pbuf[:0], sc.params[:0]

	// The X-Amz- parameters are written as one run and split at '&'
	// and '='; none of their encoded names or values holds either.
	start := len(sc.pbuf)
	sc.pbuf = s.appendAuthParams(sc.pbuf, r, date, sc.signed)
	sc.splitParams(start)

	sc.addEscaped("response-content-disposition", r.ResponseContentDisposition, false)
	sc.addEscaped("response-content-type", r.ResponseContentType, false)
	for _, p := range r.Query {
		sc.addEscaped(p.Name, p.Value, true)
	}
	sortSpans(sc.params, sc.pbuf, true)
}

// splitParams adds spans for the name=value pairs joined by & in pbuf from
// start on. Spans hold no separators, so joinParams puts '=' back.
func (sc *scratch) splitParams(start int) {
	p := span{start: start, mid: -1}
	for i := start; i < len(sc.pbuf); i++ {
		switch sc.pbuf[i] {
		case '=':
			if p.mid < 0 {
				p.mid, p.val = i, i+1
			}
		case '&':
			p.end = i
			sc.params = append(sc.params, p)
			p = span{start: i + 1, mid: -1}
		}
	}
	p.end = len(sc.pbuf)
	sc.params = append(sc.params, p)
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
	sc.params = append(sc.params, span{start: start, mid: mid, val: mid, end: len(sc.pbuf)})
}
