package customsigner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mediasign/mediasign"
)

// userAgent names mediasign to the signer.
const userAgent = "mediasign-custom-signer-client/1"

// signURL returns {base}/{bucket}/?key={key}&method={method}, with the
// bucket and the key percent-encoded byte by byte: every byte but the
// unreserved ones of RFC 3986 becomes %XX, so a space is %20 and a plus
// sign %2B whatever the signer's decoder thinks of "+". A positive expires
// adds &expires={seconds}, the validity wanted (see expiresParam).
func signURL(base, bucket, key string, m mediasign.Method, expires time.Duration) string {
	var b strings.Builder
	b.Grow(len(base) + len(bucket) + 3*len(key) + 48)
	b.WriteString(base)
	b.WriteByte('/')
	escape(&b, bucket)
	b.WriteString("/?key=")
	escape(&b, key)
	b.WriteString("&method=")
	b.WriteString(methodParam(m))
	expiresParam(&b, expires)
	return b.String()
}

// batchURL returns {base}/{bucket}/?method={method}, the address of the
// batch extension, with &expires={seconds} as signURL adds it.
func batchURL(base, bucket string, m mediasign.Method, expires time.Duration) string {
	var b strings.Builder
	b.WriteString(base)
	b.WriteByte('/')
	escape(&b, bucket)
	b.WriteString("/?method=")
	b.WriteString(methodParam(m))
	expiresParam(&b, expires)
	return b.String()
}

// expiresParam writes &expires={whole seconds}, the validity mediasign wants,
// an optional extension of the protocol: a signer that knows it signs for
// at most that long, and one that does not ignores it.
func expiresParam(b *strings.Builder, expires time.Duration) {
	secs := int64(expires / time.Second)
	if secs <= 0 {
		return
	}
	b.WriteString("&expires=")
	b.WriteString(strconv.FormatInt(secs, 10))
}

func methodParam(m mediasign.Method) string {
	if m == mediasign.MethodPut {
		return "put"
	}
	return "get"
}

const upperHex = "0123456789ABCDEF"

func escape(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
}

func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// newSignRequest builds the GET request for one key.
func newSignRequest(ctx context.Context, base string, id identity,
	req mediasign.SignRequest) (*http.Request, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodGet,
		signURL(base, req.Bucket, req.Key, req.Method, req.Expires), nil)
	if err != nil {
		return nil, fmt.Errorf("build signer request: %w", err)
	}
	setHeaders(r, id)
	if req.Method == mediasign.MethodPut && req.ContentType != "" {
		r.Header.Set("Content-Type", req.ContentType)
	}
	return r, nil
}

// batchItem is one key of a batch call.
type batchItem struct {
	Key         string `json:"key"`
	ContentType string `json:"content_type,omitempty"`
}

// newBatchRequest builds the POST request of the batch extension:
// {"items": [{"key": ..., "content_type": ...}, ...]}.
func newBatchRequest(ctx context.Context, base string, id identity, bucket string,
	m mediasign.Method, expires time.Duration, items []batchItem) (*http.Request, error) {
	body, err := json.Marshal(map[string][]batchItem{"items": items})
	if err != nil {
		return nil, fmt.Errorf("encode batch request: %w", err)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, batchURL(base, bucket, m, expires),
		bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build batch request: %w", err)
	}
	setHeaders(r, id)
	r.Header.Set("Content-Type", "application/json")
	return r, nil
}

func setHeaders(r *http.Request, id identity) {
	r.Header.Set("Accept", "application/json")
	r.Header.Set("User-Agent", userAgent)
	r.Header.Set(id.header, id.value)
}
