package s3

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/mediasign/mediasign"
)

const (
	maxKeyLen     = 1024
	awsHostSuffix = ".amazonaws.com"
)

// SignURL returns a presigned URL for one object. ContentType binds a PUT
// URL to one Content-Type; the response overrides apply to GET only.
func (s *Storage) SignURL(ctx context.Context, req mediasign.SignRequest) (mediasign.SignedURL, error) {
	secs, err := expirySeconds(req.Expires)
	if err != nil {
		return mediasign.SignedURL{}, err
	}
	if err := checkRequest(req); err != nil {
		return mediasign.SignedURL{}, err
	}

	now := s.clock.Now()
	expiresAt, err := s.expiresAt(now, secs)
	if err != nil {
		return mediasign.SignedURL{}, err
	}

	in := s.presignInput(req, now, secs)
	signed, err := s.signer.presign(ctx, in)
	if err != nil {
		return mediasign.SignedURL{}, fmt.Errorf("presign %s %s: %w", req.Method, req.Bucket, err)
	}

	out := mediasign.SignedURL{URL: signed, ExpiresAt: expiresAt}
	if ct, ok := in.headers["content-type"]; ok {
		out.Headers = map[string]string{"Content-Type": ct}
	}
	return out, nil
}

// expirySeconds turns the requested validity into whole seconds and refuses
// what S3 would refuse.
func expirySeconds(d time.Duration) (int64, error) {
	secs := int64(d / time.Second)
	if secs < 1 || secs > int64(MaxExpiry/time.Second) {
		return 0, mediasign.Invalidf("expiry %s is out of range: S3 signed URLs must be "+
			"valid for 1 to 604800 seconds (7 days)", d)
	}
	return secs, nil
}

func checkRequest(req mediasign.SignRequest) error {
	if req.Method != mediasign.MethodGet && req.Method != mediasign.MethodPut {
		return mediasign.Invalidf("method %q cannot be signed: use GET or PUT", req.Method)
	}
	if req.Bucket == "" || strings.Contains(req.Bucket, "/") {
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

	for name, v := range map[string]string{
		"content type":                 req.ContentType,
		"response content type":        req.ResponseContentType,
		"response content disposition": req.ResponseContentDisposition,
	} {
		if hasControl(v) {
			return mediasign.Invalidf("%s must not contain control characters", name)
		}
	}
	return nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// expiresAt is the honest end of validity: the signing time to the second
// plus the expiry, never past the end of temporary credentials.
func (s *Storage) expiresAt(now time.Time, secs int64) (time.Time, error) {
	at := now.UTC().Truncate(time.Second).Add(time.Duration(secs) * time.Second)

	credsEnd := s.cfg.CredentialsExpireAt
	if credsEnd == nil {
		return at, nil
	}
	if !credsEnd.After(now) {
		return time.Time{}, mediasign.Unavailable(fmt.Sprintf("the temporary credentials "+
			"of this connection expired at %s: renew the session token and its expiry "+
			"in the connection settings", credsEnd.UTC().Format(time.RFC3339)), nil)
	}
	if credsEnd.Before(at) {
		at = credsEnd.UTC()
	}
	return at, nil
}

func (s *Storage) presignInput(req mediasign.SignRequest, now time.Time, secs int64) presignInput {
	scheme, host, virtual := s.address(req.Bucket)

	var path strings.Builder
	path.Grow(len(req.Bucket) + len(req.Key)*3 + 2)
	path.WriteByte('/')
	if !virtual {
		writeEncoded(&path, req.Bucket)
		path.WriteByte('/')
	}
	writeEncoded(&path, req.Key)

	in := presignInput{
		method:    string(req.Method),
		scheme:    scheme,
		host:      host,
		path:      path.String(),
		accessKey: s.cfg.AccessKeyID,
		secret:    s.cfg.SecretAccessKey,
		token:     s.cfg.SessionToken,
		region:    s.cfg.Region,
		time:      now,
		expires:   secs,
	}

	switch req.Method {
	case mediasign.MethodGet:
		in.query = responseOverrides(req)
	case mediasign.MethodPut:
		if req.ContentType != "" {
			in.headers = map[string]string{"content-type": req.ContentType}
		}
	}
	return in
}

func responseOverrides(req mediasign.SignRequest) map[string]string {
	if req.ResponseContentType == "" && req.ResponseContentDisposition == "" {
		return nil
	}
	q := make(map[string]string, 2)
	if req.ResponseContentType != "" {
		q["response-content-type"] = req.ResponseContentType
	}
	if req.ResponseContentDisposition != "" {
		q["response-content-disposition"] = req.ResponseContentDisposition
	}
	return q
}

// address returns the scheme and host a URL for bucket points at, and
// whether the bucket is in the host (virtual-hosted style) rather than the
// path.
func (s *Storage) address(bucket string) (scheme, host string, virtual bool) {
	base := s.cfg.PublicEndpoint
	if base == "" {
		base = s.cfg.Endpoint
	}
	if base == "" {
		base = awsEndpoint(s.cfg.Region)
	}
	scheme, host, _ = strings.Cut(base, "://")

	virtual = !s.cfg.PathStyle && dnsCompatible(bucket) &&
		!(scheme == "https" && strings.Contains(bucket, ".")) && !isIPHost(host)
	if virtual {
		host = bucket + "." + host
	}
	return scheme, host, virtual
}

// awsEndpoint is the regional AWS endpoint; it is only written into URLs.
func awsEndpoint(region string) string {
	suffix := awsHostSuffix
	if strings.HasPrefix(region, "cn-") {
		suffix += ".cn"
	}
	return "https://s3." + region + suffix
}

// dnsCompatible reports whether bucket can be a DNS label sequence in a
// host name, as virtual-hosted style needs.
func dnsCompatible(bucket string) bool {
	if len(bucket) < 3 || len(bucket) > 63 || net.ParseIP(bucket) != nil {
		return false
	}
	for _, label := range strings.Split(bucket, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// isIPHost reports whether host (with an optional port) is an IP address,
// where a bucket subdomain cannot exist.
func isIPHost(host string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	return net.ParseIP(strings.Trim(name, "[]")) != nil
}

// writeEncoded percent-encodes every byte of s once, upper-case hex, except
// the unreserved characters A-Z a-z 0-9 - . _ ~ and '/'. Nothing is decoded
// or cleaned first: "//" and dot segments stay as they are.
func writeEncoded(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
}

func isUnreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
