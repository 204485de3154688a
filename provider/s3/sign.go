package s3

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/provider/s3/sigv4"
)

const (
	maxKeyLen     = 1024
	awsHostSuffix = ".amazonaws.com"
)

// presigner turns one request into a SigV4 presigned URL. The engine of
// package sigv4 implements it; tests put a spy in its place.
type presigner interface {
	presign(r sigv4.Request) (sigv4.Presigned, error)
}

// engine is the presigner of a connection: a sigv4.Signer built once from
// its settings.
type engine struct{ s *sigv4.Signer }

func (e engine) presign(r sigv4.Request) (sigv4.Presigned, error) { return e.s.Presign(&r) }

// newSigner builds the SigV4 signer of a validated connection: credentials,
// region, and the endpoint browsers reach (the public endpoint, else the
// endpoint, else the regional AWS endpoint).
func newSigner(cfg *mediasign.S3Config) (*sigv4.Signer, error) {
	base := cfg.PublicEndpoint
	if base == "" {
		base = cfg.Endpoint
	}
	if base == "" {
		base = awsEndpoint(cfg.Region)
	}
	scheme, host, _ := strings.Cut(base, "://")

	creds := sigv4.Credentials{
		AccessKeyID:     cfg.AccessKeyID,
		SecretAccessKey: cfg.SecretAccessKey,
		SessionToken:    cfg.SessionToken,
	}
	if cfg.CredentialsExpireAt != nil {
		creds.Expires = *cfg.CredentialsExpireAt
	}
	return sigv4.New(sigv4.Config{
		Credentials: creds,
		Region:      cfg.Region,
		Scheme:      scheme,
		Host:        host,
		PathStyle:   cfg.PathStyle,
	})
}

// SignURL returns a presigned URL for one object. ContentType binds a PUT
// URL to one Content-Type, which the answer lists in Headers; the response
// overrides apply to GET only. ExpiresAt counts from X-Amz-Date and never
// passes the end of temporary credentials.
func (s *Storage) SignURL(ctx context.Context, req mediasign.SignRequest) (mediasign.SignedURL, error) {
	if err := checkExpiry(req.Expires); err != nil {
		return mediasign.SignedURL{}, err
	}
	if err := checkRequest(&req); err != nil {
		return mediasign.SignedURL{}, err
	}

	r := sigv4.Request{
		Method:  string(req.Method),
		Bucket:  req.Bucket,
		Key:     req.Key,
		Time:    s.clock.Now(),
		Expires: req.Expires,
	}
	if req.Method == mediasign.MethodPut {
		r.ContentType = req.ContentType
	} else {
		r.ResponseContentType = req.ResponseContentType
		r.ResponseContentDisposition = req.ResponseContentDisposition
	}

	p, err := s.signer.presign(r)
	if err != nil {
		return mediasign.SignedURL{}, fmt.Errorf("presign %s %s: %w", req.Method, req.Bucket, err)
	}
	return mediasign.SignedURL{URL: p.URL, ExpiresAt: p.ExpiresAt, Headers: headerMap(p.Headers)}, nil
}

// checkExpiry refuses a validity that S3 would refuse, before anything is
// signed.
func checkExpiry(d time.Duration) error {
	if d < time.Second || d.Truncate(time.Second) > MaxExpiry {
		return mediasign.Invalidf("expiry %s is out of range: S3 signed URLs must be "+
			"valid for 1 to 604800 seconds (7 days)", d)
	}
	return nil
}

func checkRequest(req *mediasign.SignRequest) error {
	if req.Method != mediasign.MethodGet && req.Method != mediasign.MethodPut {
		return mediasign.Invalidf("method %q cannot be signed: use GET or PUT", req.Method)
	}
	if req.Bucket == "" || strings.IndexByte(req.Bucket, '/') >= 0 {
		return mediasign.Invalidf("bucket %q is not a bucket name: give the name alone, "+
			"without '/'", req.Bucket)
	}
	if req.Key == "" {
		return mediasign.Invalidf("object key is required")
	}
	if len(req.Key) > maxKeyLen {
		return mediasign.Invalidf("object key is %d bytes long: S3 keys hold at most %d",
			len(req.Key), maxKeyLen)
	}

	switch {
	case hasControl(req.ContentType):
		return mediasign.Invalidf("content type must not contain control characters")
	case hasControl(req.ResponseContentType):
		return mediasign.Invalidf("response content type must not contain control characters")
	case hasControl(req.ResponseContentDisposition):
		return mediasign.Invalidf("response content disposition must not contain " +
			"control characters")
	}
	return nil
}

// hasControl reports whether s holds an ASCII control character.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// headerMap turns the headers a client must send into the map of
// mediasign.SignedURL; nil when there are none.
func headerMap(hs []sigv4.Header) map[string]string {
	if len(hs) == 0 {
		return nil
	}

	m := make(map[string]string, len(hs))
	for _, h := range hs {
		m[h.Name] = h.Value
	}
	return m
}

// awsEndpoint is the regional AWS endpoint; it is only written into URLs.
func awsEndpoint(region string) string {
	suffix := awsHostSuffix
	if strings.HasPrefix(region, "cn-") {
		suffix += ".cn"
	}
	return "https://s3." + region + suffix
}
