package s3

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
)

// Placeholder values of the signing cases.
const (
	caseAccessKey = "AKIAEXAMPLEKEY00001"
	caseSecret    = "example-secret"
	caseBucket    = "media-test"
	caseRegion    = "eu-north-1"
)

var caseTime = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is a clock that tests move by hand.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func caseConfig() mediasign.S3Config {
	return mediasign.S3Config{
		AccessKeyID:     caseAccessKey,
		SecretAccessKey: caseSecret,
		Region:          caseRegion,
	}
}

// newCaseStorage opens a storage with the case placeholders, changed by edit,
// and a fake clock at caseTime.
func newCaseStorage(t *testing.T, edit func(*mediasign.S3Config)) (*Storage, *fakeClock) {
	t.Helper()

	cfg := caseConfig()
	if edit != nil {
		edit(&cfg)
	}
	clock := &fakeClock{now: caseTime}
	s, err := New(&mediasign.Connection{Name: "case", Provider: mediasign.ProviderS3, S3: &cfg},
		Options{Clock: clock})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, clock
}

func mustSign(t *testing.T, s *Storage, req mediasign.SignRequest) mediasign.SignedURL {
	t.Helper()

	if req.Bucket == "" {
		req.Bucket = caseBucket
	}
	if req.Method == "" {
		req.Method = mediasign.MethodGet
	}
	if req.Expires == 0 {
		req.Expires = time.Hour
	}
	out, err := s.SignURL(context.Background(), req)
	if err != nil {
		t.Fatalf("SignURL(%+v): %v", req, err)
	}
	return out
}

// rawParts splits a URL string into scheme, host, raw path and raw query
// without decoding anything.
func rawParts(t *testing.T, u string) (scheme, host, path, query string) {
	t.Helper()

	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		t.Fatalf("URL %q has no scheme", u)
	}
	rest, query, _ = strings.Cut(rest, "?")
	i := strings.IndexByte(rest, '/')
	if i < 0 {
		t.Fatalf("URL %q has no path", u)
	}
	return scheme, rest[:i], rest[i:], query
}

// queryParams decodes a raw query into name -> value, failing on repeats.
func queryParams(t *testing.T, raw string) map[string]string {
	t.Helper()

	out := map[string]string{}
	for _, pair := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(pair, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			t.Fatalf("query pair %q does not decode", pair)
		}
		if _, dup := out[dk]; dup {
			t.Fatalf("query parameter %q repeats", dk)
		}
		out[dk] = dv
	}
	return out
}

// verify checks a presigned URL the way an S3 server does, independently of
// the code under test: the canonical URI is the raw path as sent, the
// canonical query is every parameter but the signature, strictly encoded and
// sorted, and the signed host is host. It also checks that the URL's query is
// the canonical query byte for byte. headers holds the other signed headers.
func verify(t *testing.T, method, signed, host, secret string, headers map[string]string) bool {
	t.Helper()

	_, _, path, rawQuery := rawParts(t, signed)
	unsigned, sig, ok := strings.Cut(rawQuery, "&X-Amz-Signature=")
	if !ok || strings.Contains(sig, "&") {
		t.Fatalf("URL %q does not end with X-Amz-Signature", signed)
	}
	params := queryParams(t, unsigned)

	canonQuery := canonicalQuery(params)
	if canonQuery != unsigned {
		t.Fatalf("URL query differs from the canonical query:\n url   %s\n canon %s",
			unsigned, canonQuery)
	}

	all := map[string]string{"host": host}
	for k, v := range headers {
		all[strings.ToLower(k)] = v
	}
	names := make([]string, 0, len(all))
	for k := range all {
		names = append(names, k)
	}
	sort.Strings(names)
	if got := params["X-Amz-SignedHeaders"]; got != strings.Join(names, ";") {
		t.Fatalf("X-Amz-SignedHeaders = %q, want %q", got, strings.Join(names, ";"))
	}

	var canonHeaders strings.Builder
	for _, k := range names {
		canonHeaders.WriteString(k + ":" + strings.TrimSpace(all[k]) + "\n")
	}
	creq := strings.Join([]string{method, path, canonQuery, canonHeaders.String(),
		strings.Join(names, ";"), "UNSIGNED-PAYLOAD"}, "\n")

	return hmac.Equal([]byte(sig), []byte(signature(params, secret, creq)))
}

func canonicalQuery(params map[string]string) string {
	pairs := make([]string, 0, len(params))
	for k, v := range params {
		pairs = append(pairs, strictEscape(k)+"="+strictEscape(v))
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

func strictEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return b.String()
}

func signature(params map[string]string, secret, creq string) string {
	scope := strings.SplitN(params["X-Amz-Credential"], "/", 2)[1]
	parts := strings.Split(scope, "/") // date, region, service, aws4_request
	sum := sha256.Sum256([]byte(creq))
	sts := "AWS4-HMAC-SHA256\n" + params["X-Amz-Date"] + "\n" + scope + "\n" +
		hex.EncodeToString(sum[:])

	key := []byte("AWS4" + secret)
	for _, p := range parts {
		key = hmacSHA256(key, p)
	}
	return hex.EncodeToString(hmacSHA256(key, sts))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
