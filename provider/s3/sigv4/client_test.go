package sigv4

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// clientCases is how many random requests each setup of
// TestSDKPresignClientAgrees signs.
const clientCases = 300

// clientSetup is one connection as both the engine and the SDK's S3 client
// describe it.
type clientSetup struct {
	name      string
	region    string
	endpoint  string // the SDK's BaseEndpoint; empty for AWS
	scheme    string
	host      string
	pathStyle bool
	token     string

	// noDots leaves out buckets with dots: for them the SDK's endpoint
	// rules put the bucket in front of an IP address
	// (http://a.b.127.0.0.1:9000), a host that cannot resolve, where the
	// engine keeps path style (TestHostCases).
	noDots bool
}

// pinnedPresigner is the SDK's v4 presigner with the signing time pinned.
type pinnedPresigner struct{ at time.Time }

func (p pinnedPresigner) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request,
	payloadHash, service, region string, _ time.Time,
	optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return sdkSigner.PresignHTTP(ctx, creds, r, payloadHash, service, region, p.at, optFns...)
}

// TestSDKPresignClientAgrees compares the engine with the whole presign
// client of the SDK's S3 package, its own endpoint rules, bucket addressing
// and key encoding included. The SDK adds x-id=GetObject or x-id=PutObject,
// so the engine is given that parameter too; the URLs must then be equal
// byte for byte.
func TestSDKPresignClientAgrees(t *testing.T) {
	setups := []clientSetup{
		{name: "aws", region: "eu-north-1", scheme: "https", host: "s3.eu-north-1.amazonaws.com"},
		{name: "aws us-east-1", region: "us-east-1", scheme: "https", host: "s3.us-east-1.amazonaws.com"},
		{name: "aws china", region: "cn-north-1", scheme: "https", host: "s3.cn-north-1.amazonaws.com.cn"},
		{name: "aws path style", region: "eu-north-1", scheme: "https",
			host: "s3.eu-north-1.amazonaws.com", pathStyle: true},
		{name: "aws session token", region: "eu-north-1", scheme: "https",
			host: "s3.eu-north-1.amazonaws.com", token: "FwoGZXIvYXdzEB/+abc=="},
		{name: "custom http", region: "us-east-1", endpoint: "http://minio.local:9000",
			scheme: "http", host: "minio.local:9000"},
		{name: "custom http path style", region: "us-east-1", endpoint: "http://minio.local:9000",
			scheme: "http", host: "minio.local:9000", pathStyle: true},
		{name: "custom https", region: "eu-north-1", endpoint: "https://files.example.com",
			scheme: "https", host: "files.example.com"},
		{name: "custom IP", region: "us-east-1", endpoint: "http://127.0.0.1:9000",
			scheme: "http", host: "127.0.0.1:9000", noDots: true},
	}
	buckets := []string{"media-test", "media.example.com", "my-bucket-2024", "Media_Test"}

	for _, setup := range setups {
		t.Run(setup.name, func(t *testing.T) {
			seed := uint64(time.Now().UnixNano())
			g := &gen{rng: rand.New(rand.NewPCG(seed, 7))}
			s := newSigner(t, Config{
				Credentials: Credentials{AccessKeyID: caseAccessKey, SecretAccessKey: caseSecret,
					SessionToken: setup.token},
				Region: setup.region, Scheme: setup.scheme, Host: setup.host,
				PathStyle: setup.pathStyle,
			})
			pc := newPresignClient(setup)

			for i := range clientCases {
				bucket := pick(g, buckets)
				if setup.noDots && strings.Contains(bucket, ".") {
					continue
				}
				r := g.clientRequest(bucket)
				theirs := presignWithClient(t, pc, &r)
				ours, err := s.Presign(&r)
				if err != nil {
					t.Fatalf("seed %d case %d: Presign: %v", seed, i, err)
				}
				if ours.URL != theirs {
					t.Fatalf("seed %d case %d: URLs differ for %+v\n ours %s\n SDK  %s",
						seed, i, r, ours.URL, theirs)
				}
			}
		})
	}
}

// clientRequest returns a random GET or PUT for bucket, with the x-id
// parameter the SDK's S3 client adds.
func (g *gen) clientRequest(bucket string) Request {
	r := Request{Method: "GET", Bucket: bucket, Key: g.key(), Time: diffTime,
		Expires: time.Duration(1+g.rng.IntN(604800)) * time.Second}
	if g.rng.IntN(3) == 0 {
		r.Method, r.ContentType = "PUT", g.text(20)
		r.Query = []Param{{Name: "x-id", Value: "PutObject"}}
		return r
	}

	if g.rng.IntN(3) == 0 {
		r.ResponseContentType = g.text(20)
		r.ResponseContentDisposition = `attachment; filename="` + g.text(20) + `"`
	}
	r.Query = []Param{{Name: "x-id", Value: "GetObject"}}
	return r
}

// newPresignClient returns the SDK's presign client for setup, signing at
// the fixed clock of the differential tests.
func newPresignClient(setup clientSetup) *awss3.PresignClient {
	opts := awss3.Options{
		Region:       setup.region,
		UsePathStyle: setup.pathStyle,
		Credentials: credentials.NewStaticCredentialsProvider(caseAccessKey, caseSecret,
			setup.token),
	}
	if setup.endpoint != "" {
		opts.BaseEndpoint = aws.String(setup.endpoint)
	}
	return awss3.NewPresignClient(awss3.New(opts), func(o *awss3.PresignOptions) {
		o.Presigner = pinnedPresigner{at: diffTime}
	})
}

// presignWithClient presigns r with the SDK's presign client.
func presignWithClient(t *testing.T, pc *awss3.PresignClient, r *Request) string {
	t.Helper()

	expires := func(o *awss3.PresignOptions) { o.Expires = r.Expires }
	ctx := context.Background()
	if r.Method == "PUT" {
		out, err := pc.PresignPutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(r.Bucket),
			Key: aws.String(r.Key), ContentType: aws.String(r.ContentType)}, expires)
		if err != nil {
			t.Fatalf("SDK PresignPutObject: %v", err)
		}
		return out.URL
	}

	in := &awss3.GetObjectInput{Bucket: aws.String(r.Bucket), Key: aws.String(r.Key)}
	if r.ResponseContentType != "" {
		in.ResponseContentType = aws.String(r.ResponseContentType)
		in.ResponseContentDisposition = aws.String(r.ResponseContentDisposition)
	}
	out, err := pc.PresignGetObject(ctx, in, expires)
	if err != nil {
		t.Fatalf("SDK PresignGetObject: %v", err)
	}
	return out.URL
}
