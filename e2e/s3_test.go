package e2e

import (
	"bytes"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/internal/testenv/s3server"
	"github.com/mediasign/mediasign/urlcache"
)

// awkwardKeys are object keys from the signing cases that other tools got
// wrong, each holding one of the real images.
var awkwardKeys = []string{
	"videos/my clip.png",               // C01: a space
	"pkgs/libstdc++-1.0.png",           // C02: plus signs
	"docs/report_(1)=final@v2.png",     // C03: sub-delimiters
	"users/~alice/a.png",               // C04: a tilde
	"notes/a#1?.png",                   // C05: fragment and query markers
	"dots/.hidden/..clip.png",          // C06: dots kept as given (the test server folds "//" and "/./" on disk)
	"unicode/café-日本.png",              // non-ASCII
	"percent/100%25 done.png",          // a literal percent sign
	"quote/it's \"quoted\" & more.png", // quotes and ampersand
	"semi/a;b,c.png",                   // semicolon and comma
}

// s3Fixture is a real S3 server holding real images under awkward keys,
// registered in a running mediasign.
type s3Fixture struct {
	S3        *s3server.Server
	Svc       *service
	Bucket    string
	DatasetID int64
	Want      map[string][]byte // object bytes by key
}

func newS3Fixture(t *testing.T, policy urlcache.Policy) *s3Fixture {
	t.Helper()
	srv := s3server.Start(t)
	const bucket = "media-test"
	srv.CreateBucket(t, bucket)

	images := testImages(t)
	names := make([]string, 0, len(images))
	for name := range images {
		names = append(names, name)
	}
	sort.Strings(names)

	want := make(map[string][]byte)
	for i, key := range awkwardKeys {
		body := images[names[i%len(names)]]
		srv.Put(t, bucket, "images/"+key, body, "image/png")
		want["images/"+key] = body
	}
	// A thumbnail for the first image and an object that is not media.
	srv.Put(t, bucket, "thumbs/"+awkwardKeys[0], images[names[1]], "image/png")
	srv.Put(t, bucket, "images/readme.txt", []byte("not media"), "text/plain")

	svc := startService(t, policy, mediasign.SystemClock{})
	addS3Connection(t, svc, "primary", srv.Endpoint, srv)

	var p mediasign.Project
	svc.mustDo(201, "POST", "/api/v1/projects", map[string]string{"name": "annotation"}, &p)
	var d mediasign.Dataset
	svc.mustDo(201, "POST", pathf("/api/v1/projects/%s/datasets", p.Name),
		map[string]string{"name": "batch-1"}, &d)

	return &s3Fixture{S3: srv, Svc: svc, Bucket: bucket, DatasetID: d.ID, Want: want}
}

func addS3Connection(t *testing.T, svc *service, name, endpoint string, srv *s3server.Server) {
	t.Helper()
	svc.mustDo(201, "POST", "/api/v1/connections", map[string]any{
		"name": name, "provider": "s3",
		"s3": map[string]any{"access_key_id": srv.AccessKey, "secret_access_key": srv.Secret,
			"region": srv.Region, "endpoint": endpoint, "path_style": true},
	}, nil)
}

func (f *s3Fixture) importAll(t *testing.T) importResult {
	t.Helper()
	var res importResult
	f.Svc.mustDo(200, "POST", pathf("/api/v1/datasets/%d/imports", f.DatasetID), map[string]any{
		"connection": "primary", "bucket": f.Bucket, "prefix": "images/", "thumb_prefix": "thumbs/",
	}, &res)
	return res
}

func TestS3EndToEnd(t *testing.T) {
	f := newS3Fixture(t, urlcache.DefaultPolicy())

	res := f.importAll(t)
	if res.Added != len(awkwardKeys) || res.Listed != len(awkwardKeys)+1 {
		t.Fatalf("import = %+v, want %d added of %d listed", res, len(awkwardKeys), len(awkwardKeys)+1)
	}
	again := f.importAll(t)
	if again.Added != 0 {
		t.Fatalf("second import added %d, want 0", again.Added)
	}

	media := f.Svc.datasetMedia(f.DatasetID)
	if len(media) != len(awkwardKeys) {
		t.Fatalf("dataset holds %d media, want %d", len(media), len(awkwardKeys))
	}

	t.Run("single", func(t *testing.T) { f.checkSingleURLs(t, media) })
	t.Run("batch", func(t *testing.T) { f.checkBatch(t, media) })
	t.Run("redirect", func(t *testing.T) { f.checkRedirects(t, media) })
	t.Run("tampered", func(t *testing.T) { f.checkTampered(t, media[0]) })
	t.Run("no token leaks into logs", func(t *testing.T) { f.checkLogs(t) })
}

func (f *s3Fixture) checkSingleURLs(t *testing.T, media []mediaItem) {
	for _, m := range media {
		var a urlAnswer
		f.Svc.mustDo(200, "GET", pathf("/api/v1/media/%d/url", m.ID), nil, &a)
		code, body := fetch(t, a.URL)
		if code != 200 || !bytes.Equal(body, f.Want[m.Key]) {
			t.Errorf("key %q: GET signed URL = %d (%d bytes), want 200 with %d bytes",
				m.Key, code, len(body), len(f.Want[m.Key]))
		}
		left := time.Until(a.ExpiresAt)
		if left < 517000*time.Second || left > 518400*time.Second {
			t.Errorf("key %q: expires_at %s is %s away, want about 6 days", m.Key, a.ExpiresAt, left)
		}
		if m.ThumbKey != "" {
			if a.ThumbURL == "" || a.ThumbExpiresAt == nil {
				t.Errorf("key %q has thumbnail %q but no thumb_url", m.Key, m.ThumbKey)
				continue
			}
			if code, _ := fetch(t, a.ThumbURL); code != 200 {
				t.Errorf("thumbnail of %q: GET = %d", m.Key, code)
			}
		}
	}
}

func (f *s3Fixture) checkBatch(t *testing.T, media []mediaItem) {
	ids := []any{media[2].ID, 999999, "seven", media[0].ID}
	var out struct {
		URLs []urlAnswer `json:"results"`
	}
	f.Svc.mustDo(200, "POST", "/api/v1/media/urls", map[string]any{"ids": ids}, &out)
	if len(out.URLs) != len(ids) {
		t.Fatalf("batch answered %d items for %d ids", len(out.URLs), len(ids))
	}
	for i, want := range []int64{media[2].ID, media[0].ID} {
		a := out.URLs[i*3]
		if a.ID != want || a.Error != nil {
			t.Fatalf("batch item %d = %+v, want a URL for id %d", i*3, a, want)
		}
		if code, body := fetch(t, a.URL); code != 200 || !bytes.Equal(body, f.Want[keyOf(media, want)]) {
			t.Errorf("batch URL for id %d: GET = %d", want, code)
		}
	}
	if e := out.URLs[1].Error; e == nil || e.Code != "not_found" {
		t.Errorf("batch item for a missing id = %+v, want not_found", out.URLs[1])
	}
	if e := out.URLs[2].Error; e == nil || e.Code != "invalid_argument" {
		t.Errorf("batch item for a string id = %+v, want invalid_argument", out.URLs[2])
	}
}

func keyOf(media []mediaItem, id int64) string {
	for _, m := range media {
		if m.ID == id {
			return m.Key
		}
	}
	return ""
}

func (f *s3Fixture) checkRedirects(t *testing.T, media []mediaItem) {
	for _, m := range media {
		resp := f.Svc.raw("GET", pathf("/m/%d", m.ID), nil)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusFound || loc == "" {
			t.Fatalf("GET /m/%d = %d, want 302 with a Location", m.ID, resp.StatusCode)
		}
		cc := resp.Header.Get("Cache-Control")
		if !strings.HasPrefix(cc, "private, max-age=") {
			t.Errorf("GET /m/%d Cache-Control = %q, want a private max-age", m.ID, cc)
		}
		if code, body := fetch(t, loc); code != 200 || !bytes.Equal(body, f.Want[m.Key]) {
			t.Errorf("redirect target of %q: GET = %d", m.Key, code)
		}
	}

	withThumb := media[0]
	for _, m := range media {
		if m.ThumbKey != "" {
			withThumb = m
		}
	}
	resp := f.Svc.raw("GET", pathf("/m/%d?variant=thumb", withThumb.ID), nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET /m/%d?variant=thumb = %d, want 302", withThumb.ID, resp.StatusCode)
	}
	if code, _ := fetch(t, resp.Header.Get("Location")); code != 200 {
		t.Errorf("thumbnail redirect target: GET = %d", code)
	}
	if resp := f.Svc.raw("GET", pathf("/m/%d?variant=huge", withThumb.ID), nil); resp.StatusCode != 400 {
		t.Errorf("unknown variant: status %d, want 400", resp.StatusCode)
	}
}

func (f *s3Fixture) checkTampered(t *testing.T, m mediaItem) {
	var a urlAnswer
	f.Svc.mustDo(200, "GET", pathf("/api/v1/media/%d/url", m.ID), nil, &a)
	u, err := url.Parse(a.URL)
	if err != nil {
		t.Fatal(err)
	}

	q := u.Query()
	sig := []byte(q.Get("X-Amz-Signature"))
	if sig[0] == 'a' {
		sig[0] = 'b'
	} else {
		sig[0] = 'a'
	}
	q.Set("X-Amz-Signature", string(sig))
	bad := *u
	bad.RawQuery = q.Encode()
	if code, _ := fetch(t, bad.String()); code != http.StatusForbidden {
		t.Errorf("tampered signature: GET = %d, want 403", code)
	}

	other := *u
	other.Path = strings.Replace(u.Path, "images/", "thumbs/", 1)
	other.RawPath = ""
	if code, _ := fetch(t, other.String()); code != http.StatusForbidden {
		t.Errorf("URL moved to another key: GET = %d, want 403", code)
	}
}

func (f *s3Fixture) checkLogs(t *testing.T) {
	logs := f.Svc.logs.String()
	for _, secret := range []string{f.S3.Secret, "X-Amz-Signature", f.Svc.Token} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs hold %q", secret)
		}
	}
}

// TestS3ShortPolicy runs with a small M and N: a cached URL is served while
// it has M seconds left, a new one is signed after, and the server refuses
// the old one once it has expired.
func TestS3ShortPolicy(t *testing.T) {
	f := newS3Fixture(t, urlcache.Policy{MinValid: 2 * time.Second, NewValid: 4 * time.Second})
	f.importAll(t)
	m := f.Svc.datasetMedia(f.DatasetID)[0]

	var first, cached, fresh urlAnswer
	path := pathf("/api/v1/media/%d/url", m.ID)
	f.Svc.mustDo(200, "GET", path, nil, &first)
	f.Svc.mustDo(200, "GET", path, nil, &cached)
	if cached.URL != first.URL || !cached.ExpiresAt.Equal(first.ExpiresAt) {
		t.Fatalf("second request within M signed anew: %s then %s", first.ExpiresAt, cached.ExpiresAt)
	}
	if left := time.Until(first.ExpiresAt); left > 4*time.Second || left < 2*time.Second {
		t.Fatalf("expires_at is %s away, want at most N=4s", left)
	}

	time.Sleep(time.Until(first.ExpiresAt.Add(-1500 * time.Millisecond)))
	f.Svc.mustDo(200, "GET", path, nil, &fresh)
	if fresh.URL == first.URL || !fresh.ExpiresAt.After(first.ExpiresAt) {
		t.Fatalf("a URL with less than M left was served again (expires %s)", fresh.ExpiresAt)
	}

	time.Sleep(time.Until(first.ExpiresAt.Add(1100 * time.Millisecond)))
	if code, _ := fetch(t, first.URL); code != http.StatusForbidden {
		t.Errorf("expired URL: GET = %d, want 403", code)
	}
	if code, _ := fetch(t, fresh.URL); code != http.StatusOK {
		t.Errorf("fresh URL: GET = %d, want 200", code)
	}
}

// TestS3UnreachableImport imports from an endpoint where nothing listens:
// the answer says so and the catalog is unchanged.
func TestS3UnreachableImport(t *testing.T) {
	f := newS3Fixture(t, urlcache.DefaultPolicy())
	f.importAll(t)
	before := f.Svc.datasetMedia(f.DatasetID)

	addS3Connection(t, f.Svc, "gone", "http://"+closedPort(t), f.S3)
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	code := f.Svc.do("POST", pathf("/api/v1/datasets/%d/imports", f.DatasetID),
		map[string]any{"connection": "gone", "bucket": f.Bucket, "prefix": "images/"}, &e)
	if code != http.StatusServiceUnavailable || e.Error.Code != "unavailable" || e.Error.Message == "" {
		t.Fatalf("import from a dead endpoint = %d %+v, want 503 unavailable", code, e)
	}
	if after := f.Svc.datasetMedia(f.DatasetID); len(after) != len(before) {
		t.Fatalf("failed import changed the dataset: %d media, was %d", len(after), len(before))
	}

	code = f.Svc.do("POST", "/api/v1/connections/gone/test?bucket="+f.Bucket, nil, &e)
	if code != http.StatusServiceUnavailable || !strings.Contains(e.Error.Message, "cannot reach") {
		t.Errorf("test of a dead endpoint = %d %+v, want 503 saying it cannot reach it", code, e)
	}
	f.Svc.mustDo(200, "POST", "/api/v1/connections/primary/test?bucket="+f.Bucket, nil, nil)
}

// TestS3ExpiryBeyondProvider is C10 at the connection level: a policy whose
// N exceeds S3's 7 days cannot save an S3 connection.
func TestS3ExpiryBeyondProvider(t *testing.T) {
	srv := s3server.Start(t)
	svc := startService(t, urlcache.Policy{MinValid: time.Hour, NewValid: 604801 * time.Second},
		mediasign.SystemClock{})
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	code := svc.do("POST", "/api/v1/connections", map[string]any{
		"name": "s3", "provider": "s3",
		"s3": map[string]any{"access_key_id": srv.AccessKey, "secret_access_key": srv.Secret,
			"region": srv.Region, "endpoint": srv.Endpoint, "path_style": true},
	}, &e)
	if code != http.StatusBadRequest || !strings.Contains(e.Error.Message, "604800") {
		t.Fatalf("save with N=604801 = %d %+v, want 400 naming 604800", code, e)
	}
	var list struct {
		Connections []any `json:"connections"`
	}
	svc.mustDo(200, "GET", "/api/v1/connections", nil, &list)
	if len(list.Connections) != 0 {
		t.Fatalf("refused connection was stored: %v", list.Connections)
	}
}
