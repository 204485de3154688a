package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
)

// TestKeyCacheDerivesOncePerScope checks that the signing key is derived
// once per secret, day, region and service, however many URLs are signed
// and however many signers share the cache, and that each scope gets a key
// of its own.
func TestKeyCacheDerivesOncePerScope(t *testing.T) {
	keys := NewKeyCache(16)
	cfg := Config{Credentials: Credentials{AccessKeyID: caseAccessKey, SecretAccessKey: caseSecret},
		Region: caseRegion, Scheme: "https", Host: "s3.eu-north-1.amazonaws.com", Keys: keys}
	sign := func(s *Signer, at time.Time) string {
		t.Helper()
		return presignTrace(t, s, &Request{Method: "GET", Bucket: caseBucket, Key: "k",
			Time: at, Expires: time.Hour}).URL
	}

	a, b := newSigner(t, cfg), newSigner(t, cfg)
	for i := range 500 {
		sign(a, caseTime.Add(time.Duration(i)*time.Second))
		sign(b, caseTime.Add(time.Duration(i)*time.Second))
	}
	if n := keys.derived.Load(); n != 1 {
		t.Fatalf("1000 URLs of one scope derived %d keys, want 1", n)
	}

	other := cfg
	other.Region = "us-east-1"
	third := cfg
	third.Credentials.SecretAccessKey = "another-secret"
	sign(a, caseTime.Add(24*time.Hour))
	sign(newSigner(t, other), caseTime)
	sign(newSigner(t, third), caseTime)
	if n := keys.derived.Load(); n != 4 {
		t.Fatalf("next day, other region, other secret: %d keys derived in all, want 4", n)
	}
}

// TestDayBoundary checks that the date and the key follow the clock across
// midnight, from one call to the next.
func TestDayBoundary(t *testing.T) {
	s := caseSigner(t, "https", "s3.eu-north-1.amazonaws.com", false)
	before := time.Date(2024, 12, 31, 23, 59, 59, 999_999_999, time.UTC)
	for _, tc := range []struct {
		at         time.Time
		date, days string
	}{
		{before, "20241231T235959Z", "%2F20241231%2F"},
		{before.Add(time.Nanosecond), "20250101T000000Z", "%2F20250101%2F"},
		{before, "20241231T235959Z", "%2F20241231%2F"},
	} {
		got := presignTrace(t, s, &Request{Method: "GET", Bucket: caseBucket, Key: "k",
			Time: tc.at, Expires: time.Hour})
		if !strings.Contains(got.URL, "X-Amz-Date="+tc.date+"&") ||
			!strings.Contains(got.URL, tc.days) {
			t.Errorf("at %v: URL %s, want date %s", tc.at, got.URL, tc.date)
		}
		want := signatureFor(t, caseSecret, got)
		if signature(got.URL) != want {
			t.Errorf("at %v: signature %s, want %s", tc.at, signature(got.URL), want)
		}
	}
}

// TestConcurrentPresign signs from many goroutines across changing seconds
// and days and checks every URL against the test's own signer.
func TestConcurrentPresign(t *testing.T) {
	s := caseSigner(t, "https", "s3.eu-north-1.amazonaws.com", false)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := range 200 {
				at := caseTime.Add(time.Duration(w*7919+i*3607) * time.Second)
				r := &Request{Method: "GET", Bucket: caseBucket, Key: fmt.Sprintf("w%d/%d", w, i),
					Time: at, Expires: time.Hour}
				got := presignTrace(t, s, r)
				if want := signatureFor(t, caseSecret, got); signature(got.URL) != want {
					errs <- fmt.Errorf("key %s at %v: signature %s, want %s", r.Key, at,
						signature(got.URL), want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestCredentialExpiry checks the honest expiry with temporary credentials:
// capped by their end, and nothing signed from their end on.
func TestCredentialExpiry(t *testing.T) {
	end := caseTime.Add(30 * time.Minute)
	s := newSigner(t, Config{
		Credentials: Credentials{AccessKeyID: "ASIAEXAMPLEKEY00001", SecretAccessKey: caseSecret,
			SessionToken: "token", Expires: end},
		Region: caseRegion, Scheme: "https", Host: "s3.eu-north-1.amazonaws.com",
	})
	r := &Request{Method: "GET", Bucket: caseBucket, Key: "k", Time: caseTime}

	for _, tc := range []struct {
		expires time.Duration
		want    time.Time
	}{
		{time.Hour, end},
		{time.Minute + 900*time.Millisecond, caseTime.Add(time.Minute)},
		{30 * time.Minute, end},
	} {
		r.Expires = tc.expires
		got, err := s.Presign(r)
		if err != nil || !got.ExpiresAt.Equal(tc.want) || got.ExpiresAt.Location() != time.UTC {
			t.Errorf("expiry %v: ExpiresAt %v, %v; want %v in UTC", tc.expires, got.ExpiresAt, err, tc.want)
		}
	}

	r.Time = end
	got, err := s.Presign(r)
	if err == nil || got.URL != "" || mediasign.ErrorCode(err) != mediasign.CodeUnavailable ||
		!strings.Contains(mediasign.PublicMessage(err), "expired") {
		t.Fatalf("signing at the credentials' end: %q, %v; want a clear refusal", got.URL, err)
	}
}

// TestMethods checks that HEAD, PUT and DELETE are signed for their own
// method, and that the headers to send come back only when some are signed.
func TestMethods(t *testing.T) {
	s := caseSigner(t, "https", "s3.eu-north-1.amazonaws.com", false)
	for _, tc := range []struct {
		r           Request
		wantHeaders string
	}{
		{Request{Method: "HEAD"}, "[]"},
		{Request{Method: "DELETE"}, "[]"},
		{Request{Method: "PUT"}, "[]"},
		{Request{Method: "PUT", ContentType: "image/png"}, "[{Content-Type image/png}]"},
		{Request{Method: "PUT", ContentType: "image/png", Headers: []Header{{"x-extra", " a "}}},
			"[{Content-Type image/png} {x-extra  a }]"},
	} {
		r := tc.r
		r.Bucket, r.Key, r.Time, r.Expires = caseBucket, "k", caseTime, time.Hour
		got, err := s.Presign(&r)
		if err != nil {
			t.Fatalf("%s: %v", r.Method, err)
		}

		trace := presignTrace(t, s, &r)
		if canonicalLine(trace, 0) != r.Method || got.URL != trace.URL {
			t.Errorf("%s: canonical request starts %q", r.Method, canonicalLine(trace, 0))
		}
		if h := fmt.Sprint(got.Headers); h != tc.wantHeaders {
			t.Errorf("%s: Headers %s, want %s", r.Method, h, tc.wantHeaders)
		}
	}
}

// TestPresignAllocations checks that a URL costs one allocation, the URL,
// for the usual requests.
func TestPresignAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("skipping: the race detector makes sync.Pool drop buffers at random")
	}
	token := newSigner(t, Config{
		Credentials: Credentials{AccessKeyID: "ASIAEXAMPLEKEY00001", SecretAccessKey: caseSecret,
			SessionToken: "FwoGZXIvYXdzEB/+abc=="},
		Region: caseRegion, Scheme: "https", Host: "s3.eu-north-1.amazonaws.com",
	})
	plain := caseSigner(t, "http", "minio.local:9000", true)

	for name, tc := range map[string]struct {
		s *Signer
		r Request
	}{
		"GET":           {plain, Request{Method: "GET"}},
		"GET overrides": {plain, Request{Method: "GET", ResponseContentType: "text/plain; a=b"}},
		"GET token":     {token, Request{Method: "GET"}},
		"PUT":           {token, Request{Method: "PUT"}},
		"extra param":   {plain, Request{Method: "GET", Query: []Param{{"x-id", "GetObject"}}}},
	} {
		r := tc.r
		r.Bucket, r.Key, r.Time, r.Expires = caseBucket, "some dir/фото (1).jpg", caseTime, time.Hour
		if _, err := tc.s.Presign(&r); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = tc.s.Presign(&r) }); n != 1 {
			t.Errorf("%s: %v allocations per URL, want 1", name, n)
		}
	}
}

// BenchmarkEngineGet measures the engine alone: one presigned GET of a
// typical key, without the provider around it.
func BenchmarkEngineGet(b *testing.B) {
	s := caseSigner(b, "https", "s3.eu-north-1.amazonaws.com", false)
	r := &Request{Method: "GET", Bucket: caseBucket, Key: "datasets/street-scenes/train/img_000123.jpg",
		Time: caseTime, Expires: 6 * 24 * time.Hour}

	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Presign(r); err != nil {
			b.Fatal(err)
		}
	}
}

// signatureFor computes the signature of got with the plain HMAC chain,
// apart from the engine's cached keys and states, after checking that the
// string to sign ends in the hash of the canonical request.
func signatureFor(t *testing.T, secret string, got trace) string {
	t.Helper()

	lines := strings.Split(got.StringToSign, "\n")
	if sum := sha256.Sum256([]byte(got.Canonical)); lines[3] != hex.EncodeToString(sum[:]) {
		t.Fatalf("string to sign ends in %s, not the hash of the canonical request", lines[3])
	}

	mac := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	key := []byte("AWS4" + secret)
	for _, part := range strings.Split(lines[2], "/") {
		key = mac(key, part)
	}
	return hex.EncodeToString(mac(key, got.StringToSign))
}

// TestDigestWithoutStateLayout checks that the fallback for a SHA-256 state
// layout the engine does not know signs the same URLs.
func TestDigestWithoutStateLayout(t *testing.T) {
	if !padsOwnMessages {
		t.Skip("skipping: this Go version marshals SHA-256 states differently, so every " +
			"URL goes through the fallback (hash.Sum), which is slower")
	}

	s := caseSigner(t, "https", "s3.eu-north-1.amazonaws.com", false)
	var fast []string
	reqs := []Request{
		{Method: "GET", Key: "k"},
		{Method: "GET", Key: strings.Repeat("long key ", 40)},
		{Method: "PUT", Key: "uploads/a.png", ContentType: "image/png"},
	}
	for _, r := range reqs {
		r.Bucket, r.Time, r.Expires = caseBucket, caseTime, time.Hour
		fast = append(fast, presignTrace(t, s, &r).URL)
	}

	padsOwnMessages = false
	defer func() { padsOwnMessages = true }()
	for i, r := range reqs {
		r.Bucket, r.Time, r.Expires = caseBucket, caseTime, time.Hour
		got := presignTrace(t, s, &r)
		if got.URL != fast[i] || signature(got.URL) != signatureFor(t, caseSecret, got) {
			t.Errorf("request %d: fallback URL %s\nwant %s", i, got.URL, fast[i])
		}
	}
}
