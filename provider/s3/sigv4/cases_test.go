package sigv4

import (
	"errors"
	"github.com/mediasign/mediasign/internal/testenv/vectors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
)

// TestAWSDocumentationExample checks the presigned GET of the S3
// documentation, as the vectors README gives it, addressed both by bucket
// and key and by a raw path.
func TestAWSDocumentationExample(t *testing.T) {
	ex := vectors.ReadDocExample(t)
	u := mustParse(t, ex.URL)
	bucket, endpoint, _ := strings.Cut(u.Host, ".")

	tests := []struct {
		name, host string
		req        Request
	}{
		{"bucket and key", endpoint, Request{Bucket: bucket, Key: u.Path[1:]}},
		{"raw path", u.Host, Request{Path: u.Path}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSigner(t, Config{
				Credentials: Credentials{AccessKeyID: ex.AccessKey, SecretAccessKey: ex.Secret},
				Region:      ex.Region,
				Scheme:      u.Scheme,
				Host:        tt.host,
			})
			r := tt.req
			r.Method, r.Time, r.Expires = "GET", ex.Time, ex.Expires

			got, err := s.Presign(&r)
			if err != nil {
				t.Fatalf("Presign: %v", err)
			}
			base, query, _ := strings.Cut(got.URL, "?")
			if base != ex.URL || !strings.HasSuffix(query, "&X-Amz-Signature="+ex.Signature) {
				t.Errorf("URL %s\nwant %s?...&X-Amz-Signature=%s", got.URL, ex.URL, ex.Signature)
			}
			if !strings.Contains(query, "&X-Amz-SignedHeaders=host&") {
				t.Errorf("URL %s does not sign host alone", got.URL)
			}
		})
	}
}

// TestKeyEncodingCases covers C01-C06: the S3 key rule in the URL path and
// the canonical URI, nothing encoded twice or normalized.
func TestKeyEncodingCases(t *testing.T) {
	tests := []struct {
		id, key, wantPath string
		pathStyle         bool
		absent            []string
	}{
		{"C01", "videos/my clip.mp4", "/videos/my%20clip.mp4", false, []string{"+"}},
		{"C02", "pkgs/libstdc++-1.0.tgz", "/pkgs/libstdc%2B%2B-1.0.tgz", false, nil},
		{"C03", "docs/report_(1)=final@v2.pdf", "/media-test/docs/report_%281%29%3Dfinal%40v2.pdf",
			true, []string{"%25"}},
		{"C04", "users/~alice/a.jpg", "/users/~alice/a.jpg", false, []string{"%7E"}},
		{"C05", "notes/a#1?.txt", "/notes/a%231%3F.txt", false, []string{"#"}},
		{"C06 slashes", "/2024//clip.mp4", "//2024//clip.mp4", false, nil},
		{"C06 dots", "a/./b/../c", "/a/./b/../c", false, nil},
		{"percent sign", "100%/a%2Fb", "/100%25/a%252Fb", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			host := "s3.eu-north-1.amazonaws.com"
			if tt.pathStyle {
				host = "minio.local:9000"
			}
			s := caseSigner(t, "https", host, tt.pathStyle)
			got := presignTrace(t, s, &Request{
				Method: "GET", Bucket: caseBucket, Key: tt.key, Time: caseTime, Expires: time.Hour,
			})

			u := mustParse(t, got.URL)
			if u.EscapedPath() != tt.wantPath || canonicalLine(got, 1) != tt.wantPath {
				t.Errorf("path %q, canonical URI %q, want %q",
					u.EscapedPath(), canonicalLine(got, 1), tt.wantPath)
			}
			for _, s := range tt.absent {
				if strings.Contains(got.URL, s) || strings.Contains(got.Canonical, s) {
					t.Errorf("%q appears in %s", s, got.URL)
				}
			}
			checkKeyRoundTrip(t, u, tt.pathStyle, tt.key)
		})
	}
}

// checkKeyRoundTrip fails the test unless the decoded path of u gives back
// key after the bucket part, with no fragment.
func checkKeyRoundTrip(t testing.TB, u *url.URL, pathStyle bool, key string) {
	t.Helper()

	prefix := "/"
	if pathStyle {
		prefix = "/" + caseBucket + "/"
	}
	if u.Fragment != "" || u.Path != prefix+key {
		t.Errorf("URL path %q, fragment %q; want %q and none", u.Path, u.Fragment, prefix+key)
	}
}

// TestQueryCases covers C07, C08, C09 and C11: the parameters and signed
// headers in the URL, the same bytes in the canonical query, and a URL
// query equal to the canonical query.
func TestQueryCases(t *testing.T) {
	tests := []struct {
		id        string
		token     string
		req       Request
		wantQuery []string // name=value pairs of the URL and canonical query
		wantCanon []string // further text of the canonical request
	}{
		{"C07", "", Request{Method: "GET",
			ResponseContentDisposition: `attachment; filename="Q1 report!.pdf"`,
			ResponseContentType:        "text/plain; charset=utf-8"}, []string{
			"response-content-disposition=attachment%3B%20filename%3D%22Q1%20report%21.pdf%22",
			"response-content-type=text%2Fplain%3B%20charset%3Dutf-8",
		}, nil},
		{"C08", "", Request{Method: "GET"}, []string{"X-Amz-SignedHeaders=host"},
			[]string{"\nhost:media-test.s3.eu-north-1.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD"}},
		{"C09", "", Request{Method: "PUT", ContentType: "image/png"},
			[]string{"X-Amz-SignedHeaders=content-type%3Bhost"},
			[]string{"\ncontent-type:image/png\nhost:", "\ncontent-type;host\n"}},
		{"C11", "FwoGZXIvYXdzEB/+abc==", Request{Method: "GET"},
			[]string{"X-Amz-Security-Token=FwoGZXIvYXdzEB%2F%2Babc%3D%3D"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			s := newSigner(t, Config{
				Credentials: Credentials{AccessKeyID: "ASIAEXAMPLEKEY00001",
					SecretAccessKey: caseSecret, SessionToken: tt.token},
				Region: caseRegion, Scheme: "https", Host: "s3.eu-north-1.amazonaws.com",
			})
			r := tt.req
			r.Bucket, r.Key, r.Time, r.Expires = caseBucket, "uploads/a.png", caseTime, time.Hour
			got := presignTrace(t, s, &r)

			checkQueryIsCanonical(t, got)
			_, rawQuery, _ := strings.Cut(got.URL, "?")
			urlPairs := strings.Split(rawQuery, "&")
			canonPairs := strings.Split(canonicalLine(got, 2), "&")
			for _, w := range tt.wantQuery {
				if !slices.Contains(urlPairs, w) || !slices.Contains(canonPairs, w) {
					t.Errorf("URL or canonical query lacks %q:\n%s\n%s", w, got.URL, got.Canonical)
				}
			}
			for _, w := range tt.wantCanon {
				if !strings.Contains(got.Canonical, w) {
					t.Errorf("canonical request lacks %q:\n%s", w, got.Canonical)
				}
			}
			if tt.token == "" && strings.Contains(got.URL, "X-Amz-Security-Token") {
				t.Errorf("URL without a session token has X-Amz-Security-Token: %s", got.URL)
			}
		})
	}
}

// checkQueryIsCanonical fails the test unless the URL's query is the
// canonical query, sorted by encoded name, followed by the signature.
func checkQueryIsCanonical(t testing.TB, got trace) {
	t.Helper()

	query := canonicalLine(got, 2)
	_, rawQuery, _ := strings.Cut(got.URL, "?")
	before, sig, ok := strings.Cut(rawQuery, "&X-Amz-Signature=")
	if !ok || before != query || len(sig) != 64 {
		t.Errorf("URL query %q is not canonical query %q and a signature", rawQuery, query)
	}

	pairs := strings.Split(query, "&")
	for i := 1; i < len(pairs); i++ {
		a, _, _ := strings.Cut(pairs[i-1], "=")
		b, _, _ := strings.Cut(pairs[i], "=")
		if a > b {
			t.Errorf("parameter %q comes before %q", a, b)
		}
	}
}

// TestContentTypeIsSigned covers the signing half of C09: another content
// type gives another signature.
func TestContentTypeIsSigned(t *testing.T) {
	s := caseSigner(t, "https", "s3.eu-north-1.amazonaws.com", false)
	sign := func(ct string) string {
		return presignTrace(t, s, &Request{Method: "PUT", Bucket: caseBucket, Key: "uploads/a.png",
			ContentType: ct, Time: caseTime, Expires: time.Hour}).URL
	}

	if sign("image/png") == sign("image/jpeg") {
		t.Error("URLs for image/png and image/jpeg are equal")
	}
}

// TestExpiryRange covers C10: expiries outside 1..604800 seconds are refused
// with an invalid-argument error, and nothing is appended.
func TestExpiryRange(t *testing.T) {
	s := caseSigner(t, "https", "s3.eu-north-1.amazonaws.com", false)
	tests := []struct {
		expires time.Duration
		ok      bool
	}{
		{0, false}, {-5 * time.Second, false}, {604801 * time.Second, false},
		{500 * time.Millisecond, false}, {time.Second, true}, {MaxExpires, true},
	}
	for _, tt := range tests {
		t.Run(tt.expires.String(), func(t *testing.T) {
			dst := []byte("prefix")
			got, err := s.AppendPresign(dst, &Request{Method: "GET", Bucket: caseBucket, Key: "k",
				Time: caseTime, Expires: tt.expires})

			if tt.ok {
				if err != nil {
					t.Fatalf("AppendPresign: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "1 to 604800 seconds") ||
				mediasign.ErrorCode(err) != mediasign.CodeInvalid || string(got) != "prefix" {
				t.Errorf("AppendPresign = %q, %v; want the prefix alone and a range error", got, err)
			}
		})
	}
}

// TestHostCases covers C12-C15: the regional host and scope, default ports
// dropped from the URL and the signed host alike, the public endpoint
// signed, and path style where asked or needed.
func TestHostCases(t *testing.T) {
	tests := []struct {
		id, scheme, host string
		pathStyle        bool
		bucket           string
		wantPrefix       string
	}{
		{"C12", "https", "s3.eu-north-1.amazonaws.com", false, caseBucket,
			"https://media-test.s3.eu-north-1.amazonaws.com/k?"},
		{"C13 custom port", "http", "minio.local:9000", true, caseBucket, "http://minio.local:9000/media-test/k?"},
		{"C13 https 443", "https", "S3.Example.Internal:443", true, caseBucket,
			"https://s3.example.internal/media-test/k?"},
		{"C13 http 80", "http", "h:80", true, caseBucket, "http://h/media-test/k?"},
		{"C14 public endpoint", "https", "files.example.com", true, caseBucket,
			"https://files.example.com/media-test/k?"},
		{"C15 path style", "http", "localhost:9000", true, caseBucket, "http://localhost:9000/media-test/k?"},
		{"C15 dotted bucket over https", "https", "s3.example.com", false, "media.example.com",
			"https://s3.example.com/media.example.com/k?"},
		{"dotted bucket over http", "http", "s3.example.com", false, "media.example.com",
			"http://media.example.com.s3.example.com/k?"},
		{"uppercase bucket", "https", "s3.example.com", false, "Media_Test", "https://s3.example.com/Media_Test/k?"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			s := caseSigner(t, tt.scheme, tt.host, tt.pathStyle)
			got := presignTrace(t, s, &Request{Method: "GET", Bucket: tt.bucket, Key: "k",
				Time: caseTime, Expires: time.Hour})

			if !strings.HasPrefix(got.URL, tt.wantPrefix) {
				t.Errorf("URL %s does not start with %s", got.URL, tt.wantPrefix)
			}
			u := mustParse(t, got.URL)
			if canonicalLine(got, 3) != "host:"+u.Host {
				t.Errorf("signed %q, URL host %q", canonicalLine(got, 3), u.Host)
			}
			if !strings.Contains(got.StringToSign, "/eu-north-1/s3/aws4_request\n") {
				t.Errorf("scope is not eu-north-1/s3: %s", got.StringToSign)
			}
		})
	}
}

// TestHostIsSigned covers the engine half of C14: the same request signed
// for another host has another signature, so rewriting the host breaks it.
func TestHostIsSigned(t *testing.T) {
	r := &Request{Method: "GET", Bucket: caseBucket, Key: "k", Time: caseTime, Expires: time.Hour}
	public := presignTrace(t, caseSigner(t, "https", "files.example.com", true), r)
	inner := presignTrace(t, caseSigner(t, "https", "minio:9000", true), r)

	if signature(public.URL) == signature(inner.URL) {
		t.Error("signatures for two hosts are equal")
	}
}

// TestSigningTimeCases covers C16: X-Amz-Date is the given time at each
// call, and the expiry counts from it.
func TestSigningTimeCases(t *testing.T) {
	s := caseSigner(t, "https", "s3.eu-north-1.amazonaws.com", false)
	first := &Request{Method: "GET", Bucket: caseBucket, Key: "k", Time: caseTime.Add(400 * time.Millisecond),
		Expires: time.Hour}
	second := *first
	second.Time = first.Time.Add(10 * time.Second)

	a, b := presignTrace(t, s, first), presignTrace(t, s, &second)
	for _, tc := range []struct {
		got  trace
		date string
		r    *Request
	}{{a, "20240501T123456Z", first}, {b, "20240501T123506Z", &second}} {
		if !strings.Contains(tc.got.URL, "X-Amz-Date="+tc.date+"&") {
			t.Errorf("URL %s lacks X-Amz-Date=%s", tc.got.URL, tc.date)
		}
		want := time.Date(2024, 5, 1, 13, 34, 56, 0, time.UTC).Add(tc.r.Time.Sub(first.Time).Truncate(time.Second))
		if !tc.r.ExpiresAt().Equal(want) {
			t.Errorf("ExpiresAt = %v, want %v", tc.r.ExpiresAt(), want)
		}
	}
}

// TestRequestErrors checks that malformed requests are refused with an
// invalid-argument error before anything is signed.
func TestRequestErrors(t *testing.T) {
	ok := Request{Method: "GET", Bucket: caseBucket, Key: "k", Time: caseTime, Expires: time.Hour}
	tests := []struct {
		name   string
		change func(r *Request)
	}{
		{"method", func(r *Request) { r.Method = "POST" }},
		{"zero time", func(r *Request) { r.Time = time.Time{} }},
		{"no key", func(r *Request) { r.Key = "" }},
		{"no bucket", func(r *Request) { r.Bucket = "" }},
		{"slash in bucket", func(r *Request) { r.Bucket = "a/b" }},
		{"path and key", func(r *Request) { r.Path = "/x" }},
		{"relative path", func(r *Request) { r.Bucket, r.Key, r.Path = "", "", "x" }},
		{"unencoded path", func(r *Request) { r.Bucket, r.Key, r.Path = "", "", "/a b" }},
		{"content type on GET", func(r *Request) { r.ContentType = "image/png" }},
		{"override on PUT", func(r *Request) { r.Method, r.ResponseContentType = "PUT", "text/plain" }},
		{"reserved param", func(r *Request) { r.Query = []Param{{"x-amz-signature", "x"}} }},
		{"unnamed param", func(r *Request) { r.Query = []Param{{"", "x"}} }},
		{"host header", func(r *Request) { r.Headers = []Header{{"Host", "evil"}} }},
		{"bad header name", func(r *Request) { r.Headers = []Header{{"a b", "x"}} }},
		{"header newline", func(r *Request) { r.Headers = []Header{{"x-a", "1\r\nx-b: 2"}} }},
		{"content type twice", func(r *Request) {
			r.Method, r.ContentType, r.Headers = "PUT", "a/b", []Header{{"Content-Type", "a/b"}}
		}},
	}
	s := caseSigner(t, "https", "s3.eu-north-1.amazonaws.com", false)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.change(&r)
			got, err := s.Presign(&r)
			if err == nil || mediasign.ErrorCode(err) != mediasign.CodeInvalid || got.URL != "" {
				t.Errorf("Presign = %q, %v; want an invalid-argument error", got.URL, err)
			}
		})
	}
}

// TestConfigErrors checks that New refuses incomplete settings.
func TestConfigErrors(t *testing.T) {
	ok := Config{Credentials: Credentials{AccessKeyID: caseAccessKey, SecretAccessKey: caseSecret},
		Region: caseRegion,
		Scheme: "https", Host: "s3.example.com"}
	tests := []struct {
		name   string
		change func(c *Config)
	}{
		{"no access key", func(c *Config) { c.Credentials.AccessKeyID = "" }},
		{"no secret", func(c *Config) { c.Credentials.SecretAccessKey = "" }},
		{"no region", func(c *Config) { c.Region = "" }},
		{"slash in region", func(c *Config) { c.Region = "eu/north" }},
		{"scheme", func(c *Config) { c.Scheme = "ftp" }},
		{"no host", func(c *Config) { c.Host = "" }},
		{"host with path", func(c *Config) { c.Host = "h/x" }},
		{"host with user", func(c *Config) { c.Host = "u@h" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			s, err := New(c)
			if err == nil || s != nil || !errors.Is(err, &mediasign.Error{Code: mediasign.CodeInvalid}) {
				t.Errorf("New = %v, %v; want an invalid-argument error", s, err)
			}
			if err != nil && strings.Contains(err.Error(), caseSecret) {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
}

// canonicalLine returns line i of the canonical request of got.
func canonicalLine(got trace, i int) string {
	return strings.Split(got.Canonical, "\n")[i]
}

// signature returns the X-Amz-Signature of a URL.
func signature(u string) string {
	_, sig, _ := strings.Cut(u, "&X-Amz-Signature=")
	return sig
}

// mustParse parses a URL, failing the test on error.
func mustParse(t testing.TB, raw string) *url.URL {
	t.Helper()

	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse URL %q: %v", raw, err)
	}
	return u
}
