package s3

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/provider/s3/sigv4"
)

const awsHost = "media-test.s3.eu-north-1.amazonaws.com"

func TestSignURLShapes(t *testing.T) {
	pathStyleMinio := func(c *mediasign.S3Config) {
		c.Endpoint, c.PathStyle = "http://minio.local:9000", true
	}
	tests := []struct {
		id       string
		edit     func(*mediasign.S3Config)
		req      mediasign.SignRequest
		wantBase string // everything before '?', byte for byte
		contains []string
		absent   []string
	}{
		{id: "C01 space", req: mediasign.SignRequest{Key: "videos/my clip.mp4"},
			wantBase: "https://" + awsHost + "/videos/my%20clip.mp4", absent: []string{"+"}},
		{id: "C02 plus", req: mediasign.SignRequest{Key: "pkgs/libstdc++-1.0.tgz"},
			wantBase: "https://" + awsHost + "/pkgs/libstdc%2B%2B-1.0.tgz"},
		{id: "C03 reserved path-style", edit: pathStyleMinio,
			req:      mediasign.SignRequest{Key: "docs/report_(1)=final@v2.pdf"},
			wantBase: "http://minio.local:9000/media-test/docs/report_%281%29%3Dfinal%40v2.pdf",
			absent:   []string{"%25"}},
		{id: "C04 tilde", req: mediasign.SignRequest{Key: "users/~alice/a.jpg"},
			wantBase: "https://" + awsHost + "/users/~alice/a.jpg", absent: []string{"%7E", "%7e"}},
		{id: "C05 hash and question mark", req: mediasign.SignRequest{Key: "notes/a#1?.txt"},
			wantBase: "https://" + awsHost + "/notes/a%231%3F.txt", absent: []string{"#"}},
		{id: "C06 double slashes", req: mediasign.SignRequest{Key: "/2024//clip.mp4"},
			wantBase: "https://" + awsHost + "//2024//clip.mp4"},
		{id: "C06 dot segments", req: mediasign.SignRequest{Key: "a/./b/../c"},
			wantBase: "https://" + awsHost + "/a/./b/../c"},
		{id: "C06 double slashes path-style", edit: pathStyleMinio,
			req:      mediasign.SignRequest{Key: "/2024//clip.mp4"},
			wantBase: "http://minio.local:9000/media-test//2024//clip.mp4"},
		{id: "C07 response overrides", req: mediasign.SignRequest{Key: "q1.pdf",
			ResponseContentType:        "application/pdf",
			ResponseContentDisposition: `attachment; filename="Q1 report!.pdf"`},
			wantBase: "https://" + awsHost + "/q1.pdf",
			contains: []string{"response-content-disposition=" +
				"attachment%3B%20filename%3D%22Q1%20report%21.pdf%22",
				"response-content-type=application%2Fpdf"}},
		{id: "C08 plain GET", req: mediasign.SignRequest{Key: "a.jpg"},
			wantBase: "https://" + awsHost + "/a.jpg",
			contains: []string{"X-Amz-SignedHeaders=host&"}},
		{id: "C11 session token", edit: func(c *mediasign.S3Config) {
			c.AccessKeyID, c.SessionToken = "ASIAEXAMPLEKEY00001", "FwoG/ZXIvYXdz+EJr//a=="
		}, req: mediasign.SignRequest{Key: "a.jpg"}, wantBase: "https://" + awsHost + "/a.jpg",
			contains: []string{"X-Amz-Security-Token=FwoG%2FZXIvYXdz%2BEJr%2F%2Fa%3D%3D&"}},
		{id: "C12 regional host", req: mediasign.SignRequest{Key: "a.jpg"},
			wantBase: "https://" + awsHost + "/a.jpg",
			contains: []string{"X-Amz-Credential=AKIAEXAMPLEKEY00001%2F20240301%2F" +
				"eu-north-1%2Fs3%2Faws4_request&"}},
		{id: "C13 custom port kept", edit: func(c *mediasign.S3Config) {
			c.Endpoint = "http://minio.local:9000"
		}, req: mediasign.SignRequest{Key: "a.jpg"},
			wantBase: "http://media-test.minio.local:9000/a.jpg"},
		{id: "C13 https default port dropped", edit: func(c *mediasign.S3Config) {
			c.Endpoint, c.PathStyle = "https://s3.example.internal:443", true
		}, req: mediasign.SignRequest{Key: "a.jpg"},
			wantBase: "https://s3.example.internal/media-test/a.jpg", absent: []string{":443"}},
		{id: "C13 http default port dropped", edit: func(c *mediasign.S3Config) {
			c.Endpoint, c.PathStyle = "http://h:80", true
		}, req: mediasign.SignRequest{Key: "a.jpg"},
			wantBase: "http://h/media-test/a.jpg", absent: []string{":80"}},
		{id: "C14 public endpoint", edit: func(c *mediasign.S3Config) {
			c.Endpoint, c.PublicEndpoint, c.PathStyle =
				"http://minio:9000", "https://files.example.com", true
		}, req: mediasign.SignRequest{Key: "a.jpg"},
			wantBase: "https://files.example.com/media-test/a.jpg", absent: []string{"minio"}},
		{id: "C15 path-style localhost", edit: func(c *mediasign.S3Config) {
			c.Endpoint, c.PathStyle = "http://localhost:9000", true
		}, req: mediasign.SignRequest{Key: "key"},
			wantBase: "http://localhost:9000/media-test/key"},
		{id: "C15 dotted bucket over https", req: mediasign.SignRequest{
			Bucket: "media.example.com", Key: "key"},
			wantBase: "https://s3.eu-north-1.amazonaws.com/media.example.com/key"},
		{id: "dotted bucket over http stays virtual", edit: func(c *mediasign.S3Config) {
			c.Endpoint = "http://minio.local:9000"
		}, req: mediasign.SignRequest{Bucket: "media.example.com", Key: "key"},
			wantBase: "http://media.example.com.minio.local:9000/key"},
		{id: "bucket not DNS-compatible", req: mediasign.SignRequest{
			Bucket: "Media_Test", Key: "key"},
			wantBase: "https://s3.eu-north-1.amazonaws.com/Media_Test/key"},
		{id: "IP endpoint uses path style", edit: func(c *mediasign.S3Config) {
			c.Endpoint = "http://127.0.0.1:9000"
		}, req: mediasign.SignRequest{Key: "key"},
			wantBase: "http://127.0.0.1:9000/media-test/key"},
		{id: "unicode key", req: mediasign.SignRequest{Key: "фото/é.png"},
			wantBase: "https://" + awsHost + "/%D1%84%D0%BE%D1%82%D0%BE/%C3%A9.png"},
		{id: "endpoint host lower-cased", edit: func(c *mediasign.S3Config) {
			c.Endpoint, c.PathStyle = "HTTPS://Files.Example.COM/", true
		}, req: mediasign.SignRequest{Key: "a.jpg"},
			wantBase: "https://files.example.com/media-test/a.jpg"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			s, _ := newCaseStorage(t, tt.edit)
			out := mustSign(t, s, tt.req)

			base, _, _ := strings.Cut(out.URL, "?")
			if base != tt.wantBase {
				t.Fatalf("URL = %s\nwant base %s", out.URL, tt.wantBase)
			}
			for _, want := range tt.contains {
				if !strings.Contains(out.URL, want) {
					t.Errorf("URL %s lacks %q", out.URL, want)
				}
			}
			for _, bad := range tt.absent {
				if strings.Contains(out.URL, bad) {
					t.Errorf("URL %s contains %q", out.URL, bad)
				}
			}
			checkParsesBack(t, out.URL, tt.req.Key)

			_, host, _, _ := rawParts(t, out.URL)
			if !verify(t, "GET", out.URL, host, caseSecret, nil) {
				t.Fatalf("signature of %s does not verify", out.URL)
			}
		})
	}
}

// checkParsesBack checks that a standard URL parser finds the exact key at
// the end of the path and no fragment.
func checkParsesBack(t *testing.T, signed, key string) {
	t.Helper()

	u, err := url.Parse(signed)
	if err != nil {
		t.Fatalf("url.Parse(%s): %v", signed, err)
	}
	if u.Fragment != "" || strings.Contains(signed, "#") {
		t.Errorf("URL %s has a fragment", signed)
	}
	if !strings.HasSuffix(u.Path, "/"+key) {
		t.Errorf("parsed path %q does not end with the key %q", u.Path, key)
	}
}

func TestSignedHeadersAreSigned(t *testing.T) {
	s, _ := newCaseStorage(t, nil)
	out := mustSign(t, s, mediasign.SignRequest{Key: "a.jpg"})
	_, host, _, _ := rawParts(t, out.URL)

	if !verify(t, "GET", out.URL, host, caseSecret, nil) {
		t.Fatal("signature does not verify for the signed host")
	}
	if verify(t, "GET", out.URL, "files.example.com", caseSecret, nil) {
		t.Error("signature verifies for another host (C14)")
	}
	if verify(t, "GET", out.URL, host, "another-secret", nil) {
		t.Error("signature verifies with another secret")
	}
	if verify(t, "PUT", out.URL, host, caseSecret, nil) {
		t.Error("GET signature verifies for PUT")
	}
	if out.Headers != nil {
		t.Errorf("GET Headers = %v, want none", out.Headers)
	}
}

func TestSignPutContentType(t *testing.T) {
	s, _ := newCaseStorage(t, nil)
	out := mustSign(t, s, mediasign.SignRequest{Key: "uploads/a.png",
		Method: mediasign.MethodPut, ContentType: "image/png"})

	if !strings.Contains(out.URL, "X-Amz-SignedHeaders=content-type%3Bhost&") {
		t.Fatalf("URL %s does not sign content-type;host (C09)", out.URL)
	}
	if len(out.Headers) != 1 || out.Headers["Content-Type"] != "image/png" {
		t.Fatalf("Headers = %v, want Content-Type: image/png", out.Headers)
	}

	_, host, _, _ := rawParts(t, out.URL)
	if !verify(t, "PUT", out.URL, host, caseSecret, map[string]string{"content-type": "image/png"}) {
		t.Fatal("PUT signature does not verify with image/png")
	}
	if verify(t, "PUT", out.URL, host, caseSecret, map[string]string{"content-type": "image/gif"}) {
		t.Fatal("PUT signature verifies with another content type")
	}

	plain := mustSign(t, s, mediasign.SignRequest{Key: "uploads/a.png", Method: mediasign.MethodPut})
	if !strings.Contains(plain.URL, "X-Amz-SignedHeaders=host&") || plain.Headers != nil {
		t.Fatalf("PUT without a type: URL %s headers %v", plain.URL, plain.Headers)
	}
}

// countingSigner counts the requests that reach the signer and signs none.
type countingSigner struct{ calls int }

func (c *countingSigner) presign(sigv4.Request) (sigv4.Presigned, error) {
	c.calls++
	return sigv4.Presigned{}, errors.New("must not be called")
}

func TestSignRefusesExpiry(t *testing.T) {
	for _, d := range []time.Duration{0, -5 * time.Second, 604801 * time.Second,
		500 * time.Millisecond, 30 * 24 * time.Hour} {
		t.Run(d.String(), func(t *testing.T) {
			s, _ := newCaseStorage(t, nil)
			spy := &countingSigner{}
			s.signer = spy

			_, err := s.SignURL(context.Background(), mediasign.SignRequest{
				Bucket: caseBucket, Key: "a.jpg", Method: mediasign.MethodGet, Expires: d})
			if mediasign.ErrorCode(err) != mediasign.CodeInvalid {
				t.Fatalf("err = %v, want invalid argument", err)
			}
			if !strings.Contains(err.Error(), "1 to 604800") {
				t.Errorf("error %q does not name the 1..604800 range", err)
			}
			if spy.calls != 0 {
				t.Errorf("signer called %d times for a refused expiry (C10)", spy.calls)
			}
		})
	}
}

func TestSignAcceptsExpiryBounds(t *testing.T) {
	s, _ := newCaseStorage(t, nil)
	for _, d := range []time.Duration{time.Second, 1500 * time.Millisecond, MaxExpiry} {
		out := mustSign(t, s, mediasign.SignRequest{Key: "a", Expires: d})
		secs := d.Truncate(time.Second)
		want := "X-Amz-Expires=" + strconv.Itoa(int(secs/time.Second))
		if !strings.Contains(out.URL, want+"&") {
			t.Errorf("URL %s lacks %s", out.URL, want)
		}
		if !out.ExpiresAt.Equal(caseTime.Add(secs)) {
			t.Errorf("ExpiresAt = %v, want %v", out.ExpiresAt, caseTime.Add(secs))
		}
	}
}

func TestSignDatesFromClock(t *testing.T) {
	s, clock := newCaseStorage(t, nil)
	clock.now = caseTime.Add(999 * time.Millisecond)
	first := mustSign(t, s, mediasign.SignRequest{Key: "a.jpg", Expires: 300 * time.Second})
	clock.now = caseTime.Add(10 * time.Second)
	second := mustSign(t, s, mediasign.SignRequest{Key: "a.jpg", Expires: 300 * time.Second})

	for _, c := range []struct {
		out      mediasign.SignedURL
		date     string
		expireAt time.Time
	}{
		{first, "20240301T120000Z", caseTime.Add(300 * time.Second)},
		{second, "20240301T120010Z", caseTime.Add(310 * time.Second)},
	} {
		if !strings.Contains(c.out.URL, "X-Amz-Date="+c.date+"&") {
			t.Errorf("URL %s lacks X-Amz-Date=%s (C16)", c.out.URL, c.date)
		}
		if !c.out.ExpiresAt.Equal(c.expireAt) {
			t.Errorf("ExpiresAt = %v, want %v (from X-Amz-Date)", c.out.ExpiresAt, c.expireAt)
		}
	}
	if first.URL == second.URL {
		t.Error("two calls 10 seconds apart gave the same URL")
	}
}

func TestSignCapsAtCredentialExpiry(t *testing.T) {
	end := caseTime.Add(30 * time.Minute)
	s, clock := newCaseStorage(t, func(c *mediasign.S3Config) {
		c.SessionToken, c.CredentialsExpireAt = "token", &end
	})

	out := mustSign(t, s, mediasign.SignRequest{Key: "a.jpg", Expires: time.Hour})
	if !out.ExpiresAt.Equal(end) {
		t.Errorf("ExpiresAt = %v, want the credentials' end %v", out.ExpiresAt, end)
	}
	short := mustSign(t, s, mediasign.SignRequest{Key: "a.jpg", Expires: time.Minute})
	if !short.ExpiresAt.Equal(caseTime.Add(time.Minute)) {
		t.Errorf("ExpiresAt = %v, want %v", short.ExpiresAt, caseTime.Add(time.Minute))
	}

	clock.now = end
	_, err := s.SignURL(context.Background(), mediasign.SignRequest{Bucket: caseBucket,
		Key: "a.jpg", Method: mediasign.MethodGet, Expires: time.Minute})
	if err == nil || !strings.Contains(mediasign.PublicMessage(err), "expired") {
		t.Fatalf("signing with expired credentials: err = %v, want a clear refusal", err)
	}
}

func TestSignRefusesBadRequests(t *testing.T) {
	tests := []struct {
		name string
		req  mediasign.SignRequest
	}{
		{"method", mediasign.SignRequest{Bucket: caseBucket, Key: "a", Method: "DELETE"}},
		{"empty key", mediasign.SignRequest{Bucket: caseBucket, Method: mediasign.MethodGet}},
		{"empty bucket", mediasign.SignRequest{Key: "a", Method: mediasign.MethodGet}},
		{"slash in bucket", mediasign.SignRequest{Bucket: "a/b", Key: "a", Method: mediasign.MethodGet}},
		{"long key", mediasign.SignRequest{Bucket: caseBucket, Key: strings.Repeat("k", 1025),
			Method: mediasign.MethodGet}},
		{"newline in content type", mediasign.SignRequest{Bucket: caseBucket, Key: "a",
			Method: mediasign.MethodPut, ContentType: "image/png\r\nX-Evil: 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newCaseStorage(t, nil)
			tt.req.Expires = time.Hour
			if _, err := s.SignURL(context.Background(), tt.req); mediasign.ErrorCode(err) != mediasign.CodeInvalid {
				t.Fatalf("err = %v, want invalid argument", err)
			}
		})
	}
}

func TestMaxExpiry(t *testing.T) {
	s, _ := newCaseStorage(t, nil)
	if s.MaxExpiry() != 604800*time.Second {
		t.Fatalf("MaxExpiry = %v, want 604800s", s.MaxExpiry())
	}
}

func TestNewKeepsConnectionUnchanged(t *testing.T) {
	cfg := caseConfig()
	cfg.Endpoint = "https://h:443/"
	conn := &mediasign.Connection{Name: "c", Provider: mediasign.ProviderS3, S3: &cfg}
	if _, err := New(conn, Options{}); err != nil {
		t.Fatal(err)
	}
	if cfg.Endpoint != "https://h:443/" {
		t.Fatalf("New changed the connection's endpoint to %q", cfg.Endpoint)
	}

	for _, bad := range []*mediasign.Connection{nil,
		{Provider: mediasign.ProviderLocal}, {Provider: mediasign.ProviderS3}} {
		if _, err := New(bad, Options{}); mediasign.ErrorCode(err) != mediasign.CodeInvalid {
			t.Errorf("New(%+v) err = %v, want invalid argument", bad, err)
		}
	}
}

// TestVirtualHostedBuckets checks which buckets go into the host name over
// HTTP, where a name with dots can be a subdomain, and which fall back to
// path style.
func TestVirtualHostedBuckets(t *testing.T) {
	for bucket, want := range map[string]bool{
		"media-test": true, "a.b.c": true, "abc": true, "ab": false, "Media": false,
		"a_b": false, "-ab": false, "ab-": false, "a..b": false, "192.168.1.1": false,
		"a-.b": false, strings.Repeat("a", 64): false,
	} {
		s, _ := newCaseStorage(t, func(c *mediasign.S3Config) { c.Endpoint = "http://minio.local:9000" })
		out := mustSign(t, s, mediasign.SignRequest{Bucket: bucket, Key: "k"})

		virtual := strings.HasPrefix(out.URL, "http://"+bucket+".minio.local:9000/k?")
		path := strings.HasPrefix(out.URL, "http://minio.local:9000/"+bucket+"/k?")
		if virtual != want || path == want {
			t.Errorf("bucket %q: URL %s, want virtual-hosted %v", bucket, out.URL, want)
		}
	}
}

// TestKeyEncodingEveryByte signs a key holding each byte value and checks
// the path: every byte but A-Z a-z 0-9 - . _ ~ / is %XX, upper-case.
func TestKeyEncodingEveryByte(t *testing.T) {
	s, _ := newCaseStorage(t, nil)
	for c := 0; c < 256; c++ {
		out := mustSign(t, s, mediasign.SignRequest{Key: "k" + string([]byte{byte(c)})})

		const kept = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/"
		want := fmt.Sprintf("%%%02X", c)
		if strings.IndexByte(kept, byte(c)) >= 0 {
			want = string([]byte{byte(c)})
		}
		_, _, path, _ := rawParts(t, out.URL)
		if path != "/k"+want {
			t.Errorf("byte %#x: path %q, want %q", c, path, "/k"+want)
		}
	}
}

// TestSignURLAllocations checks the serving path's allocation budget: the
// URL alone for a GET; for a bound PUT the headers to send besides (the
// engine's list and the map of mediasign.SignedURL).
func TestSignURLAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("skipping: the race detector makes sync.Pool drop buffers at random")
	}
	s, _ := newCaseStorage(t, nil)
	for _, tc := range []struct {
		req  mediasign.SignRequest
		most float64
	}{
		{mediasign.SignRequest{Key: "datasets/a b/фото (1).jpg"}, 1},
		{mediasign.SignRequest{Key: "a.pdf", ResponseContentDisposition: "attachment"}, 1},
		{mediasign.SignRequest{Key: "uploads/a.png", Method: mediasign.MethodPut,
			ContentType: "image/png"}, 4},
	} {
		req := tc.req
		req.Bucket, req.Expires = caseBucket, time.Hour
		if req.Method == "" {
			req.Method = mediasign.MethodGet
		}
		n := testing.AllocsPerRun(100, func() {
			if _, err := s.SignURL(context.Background(), req); err != nil {
				t.Fatal(err)
			}
		})
		if n > tc.most {
			t.Errorf("%s %q: %v allocations, want at most %v", req.Method, req.Key, n, tc.most)
		}
	}
}
