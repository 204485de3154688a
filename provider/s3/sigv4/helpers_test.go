package sigv4

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
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

// vectorsDir returns the directory of the shared public test vectors, from
// MEDIASIGN_VECTORS_DIR or ../shared/vectors beside the module root, and
// skips the test when neither exists.
func vectorsDir(t testing.TB) string {
	t.Helper()

	if dir := os.Getenv("MEDIASIGN_VECTORS_DIR"); dir != "" {
		return dir
	}

	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("get working directory: %v", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			vectors := filepath.Join(dir, "..", "shared", "vectors")
			if _, err := os.Stat(vectors); err != nil {
				t.Skipf("test vectors not found at ../shared/vectors beside the module; "+
					"set MEDIASIGN_VECTORS_DIR: %v", err)
			}
			return vectors
		}
		if filepath.Dir(dir) == dir {
			t.Skip("module root not found; set MEDIASIGN_VECTORS_DIR to run with test vectors")
		}
	}
}

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

// docExample is the presigned GET of the AWS S3 documentation, as the
// vectors README describes it.
type docExample struct {
	accessKey, secret, url, region, signature string
	time                                      time.Time
	expires                                   time.Duration
}

// readDocExample reads the documentation example from the vectors README,
// skipping the test when the vectors are absent.
func readDocExample(t *testing.T) docExample {
	t.Helper()

	raw, err := os.ReadFile(filepath.Join(vectorsDir(t), "README.md"))
	if err != nil {
		t.Skipf("skipping: read the vectors README: %v", err)
	}
	text := strings.Join(strings.Fields(string(raw)), " ")
	find := func(pattern string) string {
		m := regexp.MustCompile(pattern).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("vectors README: no match for %s", pattern)
		}
		return m[1]
	}

	ex := docExample{
		accessKey: find("access key `([A-Z0-9]+)`"),
		secret:    find("secret `([^`]+)`"),
		url:       find("GET `(https://[^`]+)`"),
		region:    find("Z`, ([a-z]{2}-[a-z]+-[0-9]), [0-9]+ seconds"),
		signature: find("expected signature `([0-9a-f]{64})`"),
	}
	if ex.time, err = time.Parse("20060102T150405Z", find("`([0-9]{8}T[0-9]{6}Z)`")); err != nil {
		t.Fatalf("vectors README: signing time: %v", err)
	}
	secs, err := strconv.Atoi(find(", ([0-9]+) seconds"))
	if err != nil {
		t.Fatalf("vectors README: expiry: %v", err)
	}
	ex.expires = time.Duration(secs) * time.Second
	return ex
}
