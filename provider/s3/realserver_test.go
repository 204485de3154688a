package s3

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/internal/testenv/s3server"
)

// awkwardKeys are object keys that presigners have got wrong; each is
// stored on the real server and fetched through a URL of this provider.
var awkwardKeys = []string{
	"videos/my clip.mp4",           // C01
	"pkgs/libstdc++-1.0.tgz",       // C02
	"docs/report_(1)=final@v2.pdf", // C03
	"users/~alice/a.jpg",           // C04
	"notes/a#1?.txt",               // C05
	"100%/a%2Fb%20c.txt",
	"фото/é 写真 🦊.png",
	`quotes/"double" 'single' back\slash.txt`,
	"marks/!$&*,;:=@[]{}^|`<>.txt",
	"space at end ",
	"nbsp\u00a0and\u200bzero width.txt",
	"deep/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p.txt",
	strings.Repeat("long-name-", 24) + ".txt",
}

// serverClient sends the test's requests; it never follows redirects, so
// every answer is the server's own.
var serverClient = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// newServerStorage opens a storage for the real server on clock, changed by
// edit.
func newServerStorage(t *testing.T, srv *s3server.Server, clock mediasign.Clock,
	edit func(*mediasign.S3Config)) *Storage {
	t.Helper()

	cfg := mediasign.S3Config{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.Secret,
		Region: srv.Region, Endpoint: srv.Endpoint}
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(&mediasign.Connection{Name: "real", Provider: mediasign.ProviderS3, S3: &cfg},
		Options{Clock: clock})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// send makes one request and returns the status and body.
func send(t *testing.T, method, url string, body []byte, header map[string]string) (int, []byte) {
	t.Helper()

	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("new request for %s: %v", url, err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := serverClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()

	got, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("read answer of %s: %v", url, err)
	}
	return resp.StatusCode, got
}

// TestRealServerFetchesAwkwardKeys stores each awkward key on the real S3
// server and fetches it through a presigned URL, path-style as the server
// wants and the default way (an IP endpoint falls back to path style).
func TestRealServerFetchesAwkwardKeys(t *testing.T) {
	srv := s3server.Start(t)
	srv.CreateBucket(t, caseBucket)
	clock := &fakeClock{now: time.Now()}
	storages := map[string]*Storage{
		"default":    newServerStorage(t, srv, clock, nil),
		"path style": newServerStorage(t, srv, clock, func(c *mediasign.S3Config) { c.PathStyle = true }),
	}

	for _, key := range awkwardKeys {
		body := []byte("object " + key)
		srv.Put(t, caseBucket, key, body, "")

		for name, s := range storages {
			t.Run(name+"/"+key, func(t *testing.T) {
				out := mustSign(t, s, mediasign.SignRequest{Key: key, Expires: 5 * time.Minute})
				status, got := send(t, "GET", out.URL, nil, nil)
				if status != http.StatusOK || !bytes.Equal(got, body) {
					t.Fatalf("GET %s: %d %q, want 200 %q", out.URL, status, got, body)
				}
			})
		}
	}
}

// TestRealServerDotSegments covers the server half of C06: keys with empty
// and dot segments are signed as given, uploaded and fetched through this
// provider's URLs. The server checks the raw path: the same signature on
// the cleaned path is refused. (Its posix backend stores such keys under
// the cleaned file name, so aliases are the backend's and not checked here.)
func TestRealServerDotSegments(t *testing.T) {
	srv := s3server.Start(t)
	srv.CreateBucket(t, caseBucket)
	s := newServerStorage(t, srv, &fakeClock{now: time.Now()}, nil)

	for key, cleaned := range map[string]string{
		"/2024//clip.mp4": "2024/clip.mp4", "a/./b/../c": "a/c", "x//y": "x/y",
	} {
		t.Run(key, func(t *testing.T) {
			body := []byte("body of " + key)
			put := mustSign(t, s, mediasign.SignRequest{Key: key, Method: mediasign.MethodPut,
				Expires: 5 * time.Minute})
			if status, got := send(t, "PUT", put.URL, body, nil); status != http.StatusOK {
				t.Fatalf("PUT %s: %d %s", put.URL, status, got)
			}

			get := mustSign(t, s, mediasign.SignRequest{Key: key, Expires: 5 * time.Minute})
			if status, got := send(t, "GET", get.URL, nil, nil); status != http.StatusOK ||
				!bytes.Equal(got, body) {
				t.Fatalf("GET %s: %d %q, want 200 %q", get.URL, status, got, body)
			}

			moved := strings.Replace(get.URL, "/"+caseBucket+"/"+key, "/"+caseBucket+"/"+cleaned, 1)
			if moved == get.URL {
				t.Fatalf("URL %s does not hold the raw key", get.URL)
			}
			if status, got := send(t, "GET", moved, nil, nil); status != http.StatusForbidden {
				t.Fatalf("GET with the cleaned path %s: %d %s, want 403", moved, status, got)
			}
		})
	}
}

// TestRealServerRefuses checks that the real server refuses this provider's
// URLs once anything in them changes, once they have expired, and when
// they claim more than seven days; the untouched URL works.
func TestRealServerRefuses(t *testing.T) {
	srv := s3server.Start(t)
	srv.CreateBucket(t, caseBucket)
	srv.Put(t, caseBucket, "a.jpg", []byte("a"), "")
	srv.Put(t, caseBucket, "b.jpg", []byte("b"), "")

	now := time.Now()
	s := newServerStorage(t, srv, &fakeClock{now: now}, nil)
	good := mustSign(t, s, mediasign.SignRequest{Key: "a.jpg", Expires: 5 * time.Minute}).URL
	if status, got := send(t, "GET", good, nil, nil); status != http.StatusOK {
		t.Fatalf("untouched URL: %d %s", status, got)
	}

	past := newServerStorage(t, srv, &fakeClock{now: now.Add(-time.Hour)}, nil)
	expired := mustSign(t, past, mediasign.SignRequest{Key: "a.jpg", Expires: time.Minute}).URL
	_, host, _, _ := rawParts(t, good)
	longest := resign(t, good, srv.Secret, "X-Amz-Expires", "604800")
	if status, got := send(t, "GET", longest, nil, nil); status != http.StatusOK {
		t.Fatalf("URL re-signed for 604800 s: %d %s (the test's signer is wrong)", status, got)
	}

	for name, u := range map[string]string{
		"signature":    flipLastHex(good),
		"key":          strings.Replace(good, "/a.jpg?", "/b.jpg?", 1),
		"expiry":       strings.Replace(good, "X-Amz-Expires=300&", "X-Amz-Expires=301&", 1),
		"host (C14)":   strings.Replace(good, host, strings.Replace(host, "127.0.0.1", "localhost", 1), 1),
		"added param":  good + "&response-content-type=text%2Fhtml",
		"expired":      expired,
		"over 7 days":  resign(t, good, srv.Secret, "X-Amz-Expires", "604801"),
		"other secret": resign(t, good, "not-the-secret", "X-Amz-Expires", "300"),
	} {
		t.Run(name, func(t *testing.T) {
			if u == good {
				t.Fatalf("the change left the URL as it was: %s", u)
			}
			status, got := send(t, "GET", u, nil, nil)
			if status != http.StatusForbidden && status != http.StatusBadRequest {
				t.Fatalf("GET %s: %d %s, want 403 or 400", u, status, got)
			}
			t.Logf("refused with %d %.160s", status, got)
		})
	}
}

// flipLastHex changes the last digit of the signature.
func flipLastHex(u string) string {
	last := u[len(u)-1]
	repl := byte('0')
	if last == '0' {
		repl = '1'
	}
	return u[:len(u)-1] + string(repl)
}

// resign sets one query parameter of a presigned GET URL and signs it again
// with secret, with the test's own signer, so that the server judges the
// parameter and not a broken signature.
func resign(t *testing.T, signed, secret, name, value string) string {
	t.Helper()

	scheme, host, path, rawQuery := rawParts(t, signed)
	unsigned, _, _ := strings.Cut(rawQuery, "&X-Amz-Signature=")
	params := queryParams(t, unsigned)
	params[name] = value

	query := canonicalQuery(params)
	creq := strings.Join([]string{"GET", path, query, "host:" + host + "\n", "host",
		"UNSIGNED-PAYLOAD"}, "\n")
	return scheme + "://" + host + path + "?" + query + "&X-Amz-Signature=" +
		signature(params, secret, creq)
}

// TestRealServerUploadContentType covers C09 on the real server: a PUT URL
// bound to image/png takes an upload with that type only, and the object
// keeps it.
func TestRealServerUploadContentType(t *testing.T) {
	srv := s3server.Start(t)
	srv.CreateBucket(t, caseBucket)
	s := newServerStorage(t, srv, &fakeClock{now: time.Now()}, nil)

	out := mustSign(t, s, mediasign.SignRequest{Key: "uploads/a.png", Method: mediasign.MethodPut,
		ContentType: "image/png", Expires: 5 * time.Minute})
	if out.Headers["Content-Type"] != "image/png" {
		t.Fatalf("Headers = %v, want Content-Type: image/png", out.Headers)
	}

	for _, bad := range []map[string]string{{"Content-Type": "image/gif"}, nil} {
		if status, got := send(t, "PUT", out.URL, []byte("gif"), bad); status != http.StatusForbidden {
			t.Fatalf("PUT with headers %v: %d %s, want 403", bad, status, got)
		}
	}
	body := []byte("\x89PNG fake")
	if status, got := send(t, "PUT", out.URL, body, out.Headers); status != http.StatusOK {
		t.Fatalf("PUT with the signed headers %v: %d %s", out.Headers, status, got)
	}

	get := mustSign(t, s, mediasign.SignRequest{Key: "uploads/a.png", Expires: 5 * time.Minute})
	resp, err := serverClient.Get(get.URL)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET: %d, Content-Type %q; want 200 image/png", resp.StatusCode,
			resp.Header.Get("Content-Type"))
	}
}

// TestRealServerResponseOverrides covers C07 on the real server: the
// strictly encoded overrides come back as the answer's headers.
func TestRealServerResponseOverrides(t *testing.T) {
	srv := s3server.Start(t)
	srv.CreateBucket(t, caseBucket)
	srv.Put(t, caseBucket, "q1.pdf", []byte("%PDF"), "application/octet-stream")
	s := newServerStorage(t, srv, &fakeClock{now: time.Now()}, nil)

	const disposition = `attachment; filename="Q1 report!.pdf"`
	out := mustSign(t, s, mediasign.SignRequest{Key: "q1.pdf", Expires: 5 * time.Minute,
		ResponseContentType: "application/pdf", ResponseContentDisposition: disposition})
	resp, err := serverClient.Get(out.URL)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()

	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", out.URL, resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Disposition"); got != disposition {
		t.Errorf("Content-Disposition = %q, want %q", got, disposition)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/pdf" {
		t.Errorf("Content-Type = %q, want application/pdf", got)
	}
}

// TestRealServerPublicEndpoint covers C14 on the real server: URLs are
// signed for the public endpoint and work there; the same URL sent to the
// internal address is refused.
func TestRealServerPublicEndpoint(t *testing.T) {
	srv := s3server.Start(t)
	srv.CreateBucket(t, caseBucket)
	srv.Put(t, caseBucket, "a.jpg", []byte("a"), "")

	public := strings.Replace(srv.Endpoint, "127.0.0.1", "localhost", 1)
	s := newServerStorage(t, srv, &fakeClock{now: time.Now()}, func(c *mediasign.S3Config) {
		c.PublicEndpoint, c.PathStyle = public, true
	})
	out := mustSign(t, s, mediasign.SignRequest{Key: "a.jpg", Expires: 5 * time.Minute})
	if !strings.HasPrefix(out.URL, public+"/") {
		t.Fatalf("URL %s is not on the public endpoint %s", out.URL, public)
	}
	if status, got := send(t, "GET", out.URL, nil, nil); status != http.StatusOK {
		t.Fatalf("GET on the public endpoint: %d %s", status, got)
	}

	inner := strings.Replace(out.URL, public, srv.Endpoint, 1)
	if status, got := send(t, "GET", inner, nil, nil); status != http.StatusForbidden {
		t.Fatalf("GET on the internal address: %d %s, want 403", status, got)
	}
}
