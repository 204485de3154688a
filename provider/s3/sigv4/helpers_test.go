package sigv4

import (
	"testing"
	"time"
)

// Placeholder values of the signing cases.
const (
	caseAccessKey = "AKIAEXAMPLEKEY00001"
	caseSecret    = "example-secret"
	caseBucket    = "media-test"
	caseRegion    = "eu-north-1"
)

// caseTime is the fixed signing time of the tests.
var caseTime = time.Date(2024, 5, 1, 12, 34, 56, 0, time.UTC)

// newSigner returns a signer for cfg with a cache of its own, failing the
// test on error.
func newSigner(t testing.TB, cfg Config) *Signer {
	t.Helper()

	if cfg.Keys == nil {
		cfg.Keys = NewKeyCache(8)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("new signer: %v", err)
	}
	return s
}

// caseSigner returns a signer with the placeholder credentials of the
// signing cases, for scheme://host.
func caseSigner(t testing.TB, scheme, host string, pathStyle bool) *Signer {
	t.Helper()

	return newSigner(t, Config{
		Credentials: Credentials{AccessKeyID: caseAccessKey, SecretAccessKey: caseSecret},
		Region:      caseRegion,
		Scheme:      scheme,
		Host:        host,
		PathStyle:   pathStyle,
	})
}

// trace is a presigned URL with the canonical request and the string to
// sign it was made from.
type trace struct {
	URL, Canonical, StringToSign string
}

// presignTrace presigns r and returns the URL with its canonical request
// and string to sign, failing the test on error.
func presignTrace(t testing.TB, s *Signer, r *Request) trace {
	t.Helper()

	if err := s.check(r); err != nil {
		t.Fatalf("check request: %v", err)
	}
	sc := getScratch()
	defer putScratch(sc)

	url := s.build(nil, r, sc)
	return trace{URL: string(url), Canonical: string(sc.canon), StringToSign: string(sc.sts)}
}
