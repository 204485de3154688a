package s3

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	serviceName     = "s3"
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// presigner turns a request whose URL is already built into a SigV4
// presigned URL. It is the seam where the SigV4 engine plugs in.
type presigner interface {
	presign(ctx context.Context, in presignInput) (string, error)
}

// presignInput is one request to presign. The path is final: encoded once,
// never cleaned, and used as is for both the URL and the canonical URI.
type presignInput struct {
	method string
	scheme string
	host   string // host[:port], signed as the host header
	path   string

	// query holds extra parameters, not encoded yet.
	query map[string]string

	// headers holds signed headers besides host, lower-case names.
	headers map[string]string

	accessKey string
	secret    string
	token     string
	region    string

	time    time.Time
	expires int64 // seconds
}

// sdkPresigner signs with the AWS SDK for Go v2 v4 signer.
type sdkPresigner struct {
	signer *v4.Signer
}

func newSDKPresigner() sdkPresigner {
	return sdkPresigner{signer: v4.NewSigner(func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = true
	})}
}

func (p sdkPresigner) presign(ctx context.Context, in presignInput) (string, error) {
	q := make(url.Values, len(in.query)+1)
	for k, v := range in.query {
		q.Set(k, v)
	}
	q.Set("X-Amz-Expires", strconv.FormatInt(in.expires, 10))

	// Opaque carries the path exactly as encoded: the signer reads the
	// canonical URI from it and the URL is printed from it.
	u := &url.URL{
		Scheme:   in.scheme,
		Host:     in.host,
		Opaque:   "//" + in.host + in.path,
		RawQuery: encodeQuery(q),
	}
	r := (&http.Request{
		Method: in.method,
		URL:    u,
		Host:   in.host,
		Header: make(http.Header, len(in.headers)),
	}).WithContext(ctx)
	for k, v := range in.headers {
		r.Header.Set(k, v)
	}

	creds := aws.Credentials{
		AccessKeyID:     in.accessKey,
		SecretAccessKey: in.secret,
		SessionToken:    in.token,
	}
	signed, _, err := p.signer.PresignHTTP(ctx, creds, r, unsignedPayload,
		serviceName, in.region, in.time)
	return signed, err
}

// encodeQuery encodes q strictly (space as %20, every reserved byte
// escaped), so that parsing it back gives the same values.
func encodeQuery(q url.Values) string {
	var b strings.Builder
	for k, vs := range q {
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			writeQueryEscaped(&b, k)
			b.WriteByte('=')
			writeQueryEscaped(&b, v)
		}
	}
	return b.String()
}

func writeQueryEscaped(b *strings.Builder, s string) {
	b.WriteString(strings.ReplaceAll(url.QueryEscape(s), "+", "%20"))
}
