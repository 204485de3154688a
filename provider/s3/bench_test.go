package s3

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/mediasign/mediasign"
)

// benchExpiry is the validity the benchmarks ask for: the default offset of
// new cache entries, 6 days.
const benchExpiry = 518400 * time.Second

// benchKeys reads the object keys both benchmarks sign, one a line; the
// bench-presign script gives the same file to boto3.
func benchKeys(tb testing.TB) []string {
	tb.Helper()

	raw, err := os.ReadFile(filepath.Join("testdata", "bench-keys.txt"))
	if err != nil {
		tb.Fatalf("read bench keys: %v", err)
	}
	keys := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(keys) < 100 {
		tb.Fatalf("bench keys: %d keys, want at least 100", len(keys))
	}
	return keys
}

// newBenchStorage opens the storage the benchmark signs with: an AWS
// connection in the case region, on the clock given.
func newBenchStorage(tb testing.TB, clock mediasign.Clock) *Storage {
	tb.Helper()

	cfg := caseConfig()
	s, err := New(&mediasign.Connection{Name: "bench", Provider: mediasign.ProviderS3, S3: &cfg},
		Options{Clock: clock})
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return s
}

// fixedTimePresigner is the SDK's v4 presigner with the signing time
// pinned, so that the SDK presign client can be compared at a fixed clock.
type fixedTimePresigner struct {
	signer *v4.Signer
	at     time.Time
}

func (p fixedTimePresigner) PresignHTTP(ctx context.Context, creds aws.Credentials,
	r *http.Request, payloadHash, service, region string, _ time.Time,
	optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return p.signer.PresignHTTP(ctx, creds, r, payloadHash, service, region, p.at, optFns...)
}

// newSDKPresignClient returns the AWS SDK presign client for the same
// connection as newBenchStorage. A zero at signs with the wall clock.
func newSDKPresignClient(at time.Time) *awss3.PresignClient {
	cfg := caseConfig()
	client := awss3.New(awss3.Options{
		Region: cfg.Region,
		Credentials: credentials.NewStaticCredentialsProvider(
			cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken),
	})
	return awss3.NewPresignClient(client, func(o *awss3.PresignOptions) {
		o.Expires = benchExpiry
		if !at.IsZero() {
			// The client's own signer leaves S3 paths as they are; so must this one.
			signer := v4.NewSigner(func(so *v4.SignerOptions) { so.DisableURIPathEscaping = true })
			o.Presigner = fixedTimePresigner{signer: signer, at: at}
		}
	})
}

// BenchmarkPresignGet measures the serving path of this provider,
// Storage.SignURL with the wall clock, over the bench keys.
func BenchmarkPresignGet(b *testing.B) {
	keys := benchKeys(b)
	s := newBenchStorage(b, mediasign.SystemClock{})
	ctx := context.Background()
	req := mediasign.SignRequest{Bucket: caseBucket, Method: mediasign.MethodGet,
		Expires: benchExpiry}

	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req.Key = keys[i%len(keys)]
		if _, err := s.SignURL(ctx, req); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSDKPresignGet measures the AWS SDK for Go v2 presign client on
// the same keys, bucket, region and validity.
func BenchmarkSDKPresignGet(b *testing.B) {
	keys := benchKeys(b)
	pc := newSDKPresignClient(time.Time{})
	ctx := context.Background()
	in := &awss3.GetObjectInput{Bucket: aws.String(caseBucket)}

	b.ReportAllocs()
	i := 0
	for b.Loop() {
		in.Key = aws.String(keys[i%len(keys)])
		if _, err := pc.PresignGetObject(ctx, in); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// TestBenchPeersAgree checks that the two benchmarks do the same work: for
// every bench key, at one clock, both URLs have the same address and the
// same parameters (the SDK adds x-id=GetObject), and both signatures
// verify.
func TestBenchPeersAgree(t *testing.T) {
	s := newBenchStorage(t, &fakeClock{now: caseTime})
	pc := newSDKPresignClient(caseTime)

	for _, key := range benchKeys(t) {
		ours := mustSign(t, s, mediasign.SignRequest{Key: key, Expires: benchExpiry})
		theirs, err := pc.PresignGetObject(context.Background(), &awss3.GetObjectInput{
			Bucket: aws.String(caseBucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("SDK presign %q: %v", key, err)
		}

		oursBase, oursQuery, _ := strings.Cut(ours.URL, "?")
		theirBase, theirQuery, _ := strings.Cut(theirs.URL, "?")
		if oursBase != theirBase {
			t.Fatalf("key %q: address\n ours %s\n SDK  %s", key, oursBase, theirBase)
		}

		_, host, _, _ := rawParts(t, ours.URL)
		if !verify(t, "GET", theirs.URL, host, caseSecret, nil) ||
			!verify(t, "GET", ours.URL, host, caseSecret, nil) {
			t.Fatalf("key %q: a signature does not verify", key)
		}
		oursParams, theirParams := queryParams(t, oursQuery), queryParams(t, theirQuery)
		delete(oursParams, "X-Amz-Signature")
		delete(theirParams, "X-Amz-Signature")
		if theirParams["x-id"] != "GetObject" {
			t.Fatalf("SDK URL %s lacks x-id=GetObject", theirs.URL)
		}
		delete(theirParams, "x-id")
		if canonicalQuery(oursParams) != canonicalQuery(theirParams) {
			t.Fatalf("key %q: parameters\n ours %v\n SDK  %v", key, oursParams, theirParams)
		}
	}
}
