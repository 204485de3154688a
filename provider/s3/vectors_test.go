package s3

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
)

// vectorsDir finds the public signing test vectors: $MEDIASIGN_VECTORS_DIR,
// else ../shared/vectors next to the repository root. It skips the test
// when they are not there.
func vectorsDir(t *testing.T) string {
	t.Helper()

	if dir := os.Getenv("MEDIASIGN_VECTORS_DIR"); dir != "" {
		return dir
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("skipping: no go.mod above the test directory to find the vectors from")
		}
		dir = parent
	}

	vectors := filepath.Join(dir, "..", "shared", "vectors")
	if _, err := os.Stat(vectors); err != nil {
		t.Skipf("skipping: signing vectors not found at ../shared/vectors from the "+
			"repository root; set MEDIASIGN_VECTORS_DIR (%v)", err)
	}
	return vectors
}

// docExample is the presigned GET example of the AWS S3 documentation, as
// the vectors README describes it.
type docExample struct {
	accessKey, secret, url, date, region, signature string
	expires                                         int
}

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
		date:      find("`([0-9]{8}T[0-9]{6}Z)`"),
		region:    find("Z`, ([a-z]{2}-[a-z]+-[0-9]), [0-9]+ seconds"),
		signature: find("expected signature `([0-9a-f]{64})`"),
	}
	ex.expires, err = strconv.Atoi(find(", ([0-9]+) seconds"))
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// TestAWSDocumentationExample signs the AWS documentation's presigned GET
// through this provider and compares the published signature.
func TestAWSDocumentationExample(t *testing.T) {
	ex := readDocExample(t)

	signingTime, err := time.Parse("20060102T150405Z", ex.date)
	if err != nil {
		t.Fatal(err)
	}
	_, host, path, _ := rawParts(t, ex.url)
	bucket, endpointHost, _ := strings.Cut(host, ".")

	cfg := mediasign.S3Config{AccessKeyID: ex.accessKey, SecretAccessKey: ex.secret,
		Region: ex.region, Endpoint: "https://" + endpointHost}
	s, err := New(&mediasign.Connection{Name: "doc", Provider: mediasign.ProviderS3, S3: &cfg},
		Options{Clock: &fakeClock{now: signingTime}})
	if err != nil {
		t.Fatal(err)
	}

	out := mustSign(t, s, mediasign.SignRequest{Bucket: bucket, Key: strings.TrimPrefix(path, "/"),
		Expires: time.Duration(ex.expires) * time.Second})

	if base, _, _ := strings.Cut(out.URL, "?"); base != ex.url {
		t.Errorf("URL base = %s, want %s", base, ex.url)
	}
	if !strings.HasSuffix(out.URL, "&X-Amz-Signature="+ex.signature) {
		t.Fatalf("URL = %s\nwant signature %s", out.URL, ex.signature)
	}
	if !verify(t, "GET", out.URL, host, ex.secret, nil) {
		t.Fatal("the test's own verifier disagrees with the published signature")
	}
}
