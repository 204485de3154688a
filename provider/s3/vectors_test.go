package s3

import (
	"strings"
	"testing"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/internal/testenv/vectors"
)

// TestAWSDocumentationExample signs the AWS documentation's presigned GET
// through this provider and compares the published signature.
func TestAWSDocumentationExample(t *testing.T) {
	ex := vectors.ReadDocExample(t)

	_, host, path, _ := rawParts(t, ex.URL)
	bucket, endpointHost, _ := strings.Cut(host, ".")

	cfg := mediasign.S3Config{AccessKeyID: ex.AccessKey, SecretAccessKey: ex.Secret,
		Region: ex.Region, Endpoint: "https://" + endpointHost}
	s, err := New(&mediasign.Connection{Name: "doc", Provider: mediasign.ProviderS3, S3: &cfg},
		Options{Clock: &fakeClock{now: ex.Time}})
	if err != nil {
		t.Fatal(err)
	}

	out := mustSign(t, s, mediasign.SignRequest{Bucket: bucket, Key: strings.TrimPrefix(path, "/"),
		Expires: ex.Expires})

	if base, _, _ := strings.Cut(out.URL, "?"); base != ex.URL {
		t.Errorf("URL base = %s, want %s", base, ex.URL)
	}
	if !strings.HasSuffix(out.URL, "&X-Amz-Signature="+ex.Signature) {
		t.Fatalf("URL = %s\nwant signature %s", out.URL, ex.Signature)
	}
	if !verify(t, "GET", out.URL, host, ex.Secret, nil) {
		t.Fatal("the test's own verifier disagrees with the published signature")
	}
}
