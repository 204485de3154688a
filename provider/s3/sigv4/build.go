package sigv4

import (
	"crypto/sha256"
	"encoding"
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
	h        hash.Hash
	restorer encoding.BinaryUnmarshaler
	appender encoding.BinaryAppender
	state    []byte // a marshaled state, read for the digest
	outer    []byte // the message of the outer HMAC hash

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
	return &scratch{
		h:        h,
		restorer: h.(encoding.BinaryUnmarshaler),
		appender: h.(encoding.BinaryAppender),
		sum:      make([]byte, 0, sha256.Size),
	}
}}

// getScratch takes a scratch from the pool.
func getScratch() *scratch { return scratches.Get().(*scratch) }

// putScratch returns sc to the pool unless a long request grew it too much.
func putScratch(sc *scratch) {
	if cap(sc.canon) > maxPooled ||
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
	buf := s.build(nil, r, sc)
	putScratch(sc)

	// buf is new and never written again, so the string can share it.
	url := unsafe.String(unsafe.SliceData(buf), len(buf))
	return Presigned{URL: url, ExpiresAt: s.ExpiresAt(r), Headers: r.sendHeaders()}, nil
}

// AppendPresign appends the presigned URL for r to dst, for callers that
// sign many URLs into one buffer. On error dst comes back unchanged.
func (s *Signer) AppendPresign(dst []byte, r *Request) ([]byte, error) {
	if err := s.check(r); err != nil {
		return dst, err
	}

	sc := getScratch()
	dst = s.build(dst, r, sc)
	putScratch(sc)
	return dst, nil
}

// ExpiresAt returns when a URL presigned for r stops working: X-Amz-Date
// plus the whole seconds of Expires, or the end of the temporary
// credentials when that comes first.
func (s *Signer) ExpiresAt(r *Request) time.Time {
	at := r.ExpiresAt()
	if !s.credsEnd.IsZero() && s.credsEnd.Before(at) {
		at = s.credsEnd
	}
	return at.UTC()
}

// build appends the URL for the checked request r to dst, growing dst once.
// The path and the query are written once, into the canonical request in
// sc, and copied from there into the URL; the string to sign stays in sc.
func (s *Signer) build(dst []byte, r *Request, sc *scratch) []byte {
	st := s.secondFor(r.Time)
	vhost := s.virtualHosted(r.Bucket)

	path, query := s.buildCanonical(r, st, vhost, sc)
	sc.buildStringToSign(st)
	sig := sc.sign(st)

	return s.appendURL(dst, r.Bucket, vhost, path, query, sig)
}

// buildCanonical writes the canonical request of r into sc and returns its
// path and query, which the URL repeats.
func (s *Signer) buildCanonical(r *Request, st *secondState, vhost bool,
	sc *scratch) (path, query []byte) {
	sc.buildHeaders(s, r, vhost)

	c := append(sc.canon[:0], r.Method...)
	c = append(c, '\n')
	pathStart := len(c)
	c = s.appendPath(c, r, vhost)
	pathEnd := len(c)
	c = append(c, '\n')
	c = s.appendQuery(c, r, st, sc)
	queryEnd := len(c)

	c = append(c, '\n')
	c = append(c, sc.headers...)
	c = append(c, '\n')
	c = append(c, sc.signed...)
	c = append(c, '\n')
	sc.canon = append(c, s.payloadHash...)
	return sc.canon[pathStart:pathEnd], sc.canon[pathEnd+1 : queryEnd]
}

// appendURL appends scheme://host, the path, the query and the signature,
// growing dst once.
func (s *Signer) appendURL(dst []byte, bucket string, vhost bool, path, query, sig []byte) []byte {
	n := len(s.base) + len(path) + 1 + len(query) + len(signatureParam) + 2*sha256.Size
	if vhost {
		n += len(bucket) + 1
	}
	dst = slices.Grow(dst, n)

	if vhost {
		dst = append(dst, s.origin...)
		dst = append(dst, bucket...)
		dst = append(dst, '.')
		dst = append(dst, s.host...)
	} else {
		dst = append(dst, s.base...)
	}
	dst = append(dst, path...)
	dst = append(dst, '?')
	dst = append(dst, query...)
	dst = append(dst, signatureParam...)
	return appendHexSum(dst, sig)
}

// appendPath appends the encoded path: the caller's path, /key when
// virtual-hosted, or /bucket/key.
func (s *Signer) appendPath(dst []byte, r *Request, vhost bool) []byte {
	if r.Path != "" {
		return append(dst, r.Path...)
	}

	dst = append(dst, '/')
	if !vhost {
		dst = appendEscaped(dst, r.Bucket, &unreserved)
		dst = append(dst, '/')
	}
	return appendEscaped(dst, r.Key, &pathSafe)
}

// appendQuery appends the canonical query: every parameter encoded, sorted
// by encoded name, then by encoded value.
func (s *Signer) appendQuery(dst []byte, r *Request, st *secondState, sc *scratch) []byte {
	if len(r.Query) > 0 {
		sc.buildParams(s, r, st)
		return joinParams(dst, sc.params, sc.pbuf)
	}

	// Without extra parameters the order is known: the X-Amz- names sort
	// as written here, and the lower-case response- names after them.
	dst = s.appendAuthParams(dst, r, st, sc.signed)
	if r.ResponseContentDisposition != "" {
		dst = append(dst, "&response-content-disposition="...)
		dst = appendEscaped(dst, r.ResponseContentDisposition, &unreserved)
	}
	if r.ResponseContentType != "" {
		dst = append(dst, "&response-content-type="...)
		dst = appendEscaped(dst, r.ResponseContentType, &unreserved)
	}
	return dst
}

// appendAuthParams appends the X-Amz- parameters, in canonical order,
// joined by &.
func (s *Signer) appendAuthParams(dst []byte, r *Request, st *secondState, signed []byte) []byte {
	dst = append(dst, st.queryHead...)
	dst = strconv.AppendInt(dst, int64(r.Expires/time.Second), 10)
	if string(signed) == "host" {
		return append(dst, s.hostOnlyTail...)
	}

	dst = append(dst, s.tokenParam...)
	dst = append(dst, "&X-Amz-SignedHeaders="...)
	return appendEscapedBytes(dst, signed)
}

// buildParams collects every parameter of r, encoded, in sc.params and
// sorts them: the general path, for requests with extra parameters.
func (sc *scratch) buildParams(s *Signer, r *Request, st *secondState) {
	sc.pbuf, sc.params = sc.pbuf[:0], sc.params[:0]

	// The X-Amz- parameters are written as one run and split at '&'
	// and '='; none of their encoded names or values holds either.
	start := len(sc.pbuf)
	sc.pbuf = s.appendAuthParams(sc.pbuf, r, st, sc.signed)
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
	sc.pbuf = appendEscaped(sc.pbuf, name, &unreserved)
	mid := len(sc.pbuf)
	sc.pbuf = appendEscaped(sc.pbuf, value, &unreserved)
	sc.params = append(sc.params, span{start: start, mid: mid, val: mid, end: len(sc.pbuf)})
}
