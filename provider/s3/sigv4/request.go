package sigv4

import (
	"fmt"
	"strings"
	"time"

	"github.com/mediasign/mediasign"
)

// Request is one URL to presign.
//
// The object is named either by Bucket and Key, which the engine encodes
// with the S3 rule (every byte but A-Z a-z 0-9 - . _ ~ and / percent-encoded
// once, nothing normalized), or by Path, a path the caller has already
// encoded, used as is in the URL and the canonical request.
type Request struct {
	// Method is GET, HEAD, PUT or DELETE.
	Method string

	Bucket string
	Key    string
	Path   string

	// Time is the signing time, X-Amz-Date; it is never read from a clock.
	Time time.Time

	// Expires is the validity, 1 to 604800 seconds; fractions of a second
	// are dropped.
	Expires time.Duration

	// ContentType, for PUT, is signed as the content-type header: the
	// upload must send exactly this value.
	ContentType string

	// ResponseContentType and ResponseContentDisposition, for GET and
	// HEAD, ask S3 to answer with these headers.
	ResponseContentType        string
	ResponseContentDisposition string

	// Query holds further query parameters, unencoded.
	Query []Param

	// Headers holds further headers to sign; the client must send them.
	// All are signed as headers, X-Amz- ones included: unlike the AWS
	// SDK, the engine moves none into the query.
	Headers []Header
}

// Presigned is a presigned URL and what a client needs to use it.
type Presigned struct {
	URL string

	// ExpiresAt is when the URL stops working: X-Amz-Date plus the
	// expiry, or the end of the temporary credentials when that is sooner.
	ExpiresAt time.Time

	// Headers are the headers besides Host that were signed and that the
	// client must send with exactly these values; nil when there are none.
	Headers []Header
}

// Param is one query parameter, unencoded.
type Param struct {
	Name  string
	Value string
}

// Header is one header to sign. Repeated names are joined with commas, in
// order; values are trimmed and runs of spaces become one.
type Header struct {
	Name  string
	Value string
}

// ExpiresAt returns when a URL presigned for r stops working: X-Amz-Date,
// which has whole seconds, plus the whole seconds of Expires. Signer's
// ExpiresAt also counts the end of temporary credentials.
func (r *Request) ExpiresAt() time.Time {
	return r.Time.Truncate(time.Second).Add(r.Expires.Truncate(time.Second))
}

// sendHeaders returns the signed headers the client must send: the
// content type, then r.Headers; nil when there are none.
func (r *Request) sendHeaders() []Header {
	if r.ContentType == "" && len(r.Headers) == 0 {
		return nil
	}

	out := make([]Header, 0, len(r.Headers)+1)
	if r.ContentType != "" {
		out = append(out, Header{Name: "Content-Type", Value: r.ContentType})
	}
	return append(out, r.Headers...)
}

// reservedParams are the query parameters the engine sets itself.
var reservedParams = []string{
	"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
	"X-Amz-Security-Token", "X-Amz-Signature", "X-Amz-SignedHeaders",
	"response-content-type", "response-content-disposition",
}

// check returns an invalid-argument error for the first fault of r.
func (s *Signer) check(r *Request) error {
	if err := checkMethod(r); err != nil {
		return err
	}
	if err := checkTime(r); err != nil {
		return err
	}
	if err := s.checkCredentials(r); err != nil {
		return err
	}
	if err := s.checkTarget(r); err != nil {
		return err
	}
	if err := checkQuery(r.Query); err != nil {
		return err
	}
	return checkHeaders(r)
}

// checkMethod accepts the methods a presigned URL grants and the options
// that fit each.
func checkMethod(r *Request) error {
	switch r.Method {
	case "GET", "HEAD", "PUT", "DELETE":
	default:
		return mediasign.Invalidf("method %q is not one of GET, HEAD, PUT, DELETE", r.Method)
	}

	if r.ContentType != "" && r.Method != "PUT" {
		return mediasign.Invalidf("content type is only signed for PUT")
	}
	overrides := r.ResponseContentType != "" || r.ResponseContentDisposition != ""
	if overrides && r.Method != "GET" && r.Method != "HEAD" {
		return mediasign.Invalidf("response overrides apply to GET and HEAD only")
	}
	return nil
}

// checkTime accepts a four-digit year and an expiry of 1 to 604800 seconds.
func checkTime(r *Request) error {
	if r.Time.IsZero() {
		return mediasign.Invalidf("signing time is not set")
	}
	if y := r.Time.UTC().Year(); y < 0 || y > 9999 {
		return mediasign.Invalidf("signing year %d has no four-digit form", y)
	}

	if r.Expires < time.Second || r.Expires.Truncate(time.Second) > MaxExpires {
		return mediasign.Invalidf("expiry must be 1 to 604800 seconds, got %g",
			r.Expires.Seconds())
	}
	return nil
}

// checkCredentials refuses to sign with temporary credentials that have
// expired at the signing time: the URL would never work.
func (s *Signer) checkCredentials(r *Request) error {
	if s.credsEnd.IsZero() || r.Time.Before(s.credsEnd) {
		return nil
	}
	return mediasign.Unavailable(fmt.Sprintf("the temporary credentials expired at %s: "+
		"renew the session token and its expiry", s.credsEnd.UTC().Format(time.RFC3339)), nil)
}

// checkTarget accepts either a bucket and a key or an encoded path.
func (s *Signer) checkTarget(r *Request) error {
	if r.Path != "" {
		if r.Bucket != "" || r.Key != "" {
			return mediasign.Invalidf("give either a path or a bucket and key, not both")
		}
		return checkPath(r.Path)
	}

	switch {
	case r.Bucket == "":
		return mediasign.Invalidf("bucket is empty")
	case r.Key == "":
		return mediasign.Invalidf("object key is empty")
	case !isBucketName(r.Bucket):
		return mediasign.Invalidf("bucket %q is not a bucket name: give the name alone, "+
			"without '/', '?', '#', '%%' or control characters", r.Bucket)
	}
	return nil
}

// isBucketName reports whether b holds none of the bytes that would change
// the meaning of a URL's host or path: / ? # % and controls.
func isBucketName(b string) bool {
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c < 0x20 || c == 0x7f, c == '/', c == '?', c == '#', c == '%':
			return false
		}
	}
	return true
}

// checkPath accepts an encoded absolute path: printable ASCII without
// spaces, query or fragment.
func checkPath(p string) error {
	if p[0] != '/' {
		return mediasign.Invalidf("path %q does not start with a slash", p)
	}

	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c >= 0x7f || c == '?' || c == '#' {
			return mediasign.Invalidf("path %q is not encoded", p)
		}
	}
	return nil
}

// checkQuery refuses unnamed parameters and those the engine sets itself.
func checkQuery(params []Param) error {
	for _, p := range params {
		if p.Name == "" {
			return mediasign.Invalidf("query parameter has no name")
		}

		for _, name := range reservedParams {
			if strings.EqualFold(p.Name, name) {
				return mediasign.Invalidf("query parameter %q is set by the signer", p.Name)
			}
		}
	}
	return nil
}

// checkHeaders accepts header names that are HTTP tokens other than host,
// values without control bytes (tabs aside), and one content type.
func checkHeaders(r *Request) error {
	if !isFieldValue(r.ContentType) {
		return mediasign.Invalidf("content type holds a control character")
	}

	for _, h := range r.Headers {
		switch {
		case !isToken(h.Name):
			return mediasign.Invalidf("header name %q is not a token", h.Name)
		case strings.EqualFold(h.Name, "host"):
			return mediasign.Invalidf("host header comes from the endpoint")
		case r.ContentType != "" && strings.EqualFold(h.Name, "content-type"):
			return mediasign.Invalidf("content type is given twice")
		case !isFieldValue(h.Value):
			return mediasign.Invalidf("header %q holds a control character", h.Name)
		}
	}
	return nil
}

// isToken reports whether s is a non-empty HTTP token.
func isToken(s string) bool {
	if s == "" {
		return false
	}

	for i := 0; i < len(s); i++ {
		c := s[i]
		if !unreserved[c] && !strings.ContainsRune("!#$%&'*+^`|", rune(c)) {
			return false
		}
	}
	return true
}

// isFieldValue reports whether s can be a header value: no control bytes
// but tab.
func isFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
