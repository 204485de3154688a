package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/internal/fakeclock"
	"github.com/mediasign/mediasign/urlcache"
)

type apiErr struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// localFixture is a running mediasign with a local connection holding a
// few real images, imported into dataset 1.
func localFixture(t *testing.T, clock mediasign.Clock) (*service, string) {
	t.Helper()
	root := t.TempDir()
	for name, b := range testImages(t) {
		if err := os.WriteFile(filepath.Join(root, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	svc := startService(t, urlcache.DefaultPolicy(), clock)
	svc.mustDo(201, "POST", "/api/v1/connections", map[string]any{
		"name": "disk", "provider": "local", "local": map[string]string{"root": root}}, nil)
	svc.mustDo(201, "POST", "/api/v1/projects", map[string]string{"name": "p"}, nil)
	svc.mustDo(201, "POST", "/api/v1/projects/p/datasets", map[string]string{"name": "d"}, nil)
	svc.mustDo(200, "POST", "/api/v1/datasets/1/imports", map[string]string{"connection": "disk"}, nil)
	return svc, root
}

// send posts a raw body and decodes the error answer.
func (s *service) send(method, path, token, body string) (int, apiErr) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var e apiErr
	if resp.StatusCode >= 400 {
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			s.t.Errorf("%s %s: error answer has Content-Type %q, want JSON", method, path, ct)
		}
		if err := json.Unmarshal(raw, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
			s.t.Errorf("%s %s: error answer %q is not {error:{code,message}}", method, path, raw)
		}
	}
	return resp.StatusCode, e
}

func TestAPIBadInput(t *testing.T) {
	svc, root := localFixture(t, mediasign.SystemClock{})
	bearer := "Bearer " + svc.Token
	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprint(i + 1)
	}

	cases := []struct {
		name, method, path, token, body string
		status                          int
		code, mention                   string
	}{
		{"no token", "GET", "/api/v1/media/1/url", "", "", 401, "unauthorized", "Bearer"},
		{"wrong token", "GET", "/api/v1/media/1/url", "Bearer msa_wrong", "", 401, "unauthorized", "token"},
		{"basic auth", "GET", "/m/1", "Basic YTpi", "", 401, "unauthorized", "Bearer"},
		{"redirect without token", "GET", "/m/1", "", "", 401, "unauthorized", ""},
		{"unknown media", "GET", "/api/v1/media/424242/url", bearer, "", 404, "not_found", "424242"},
		{"id not a number", "GET", "/api/v1/media/abc/url", bearer, "", 400, "invalid_argument", "abc"},
		{"negative id", "GET", "/api/v1/media/-3/url", bearer, "", 400, "invalid_argument", ""},
		{"huge id", "GET", "/api/v1/media/99999999999999999999/url", bearer, "", 400, "invalid_argument", ""},
		{"bad variant", "GET", "/m/1?variant=x", bearer, "", 400, "invalid_argument", "variant"},
		{"no thumbnail", "GET", "/m/1?variant=thumb", bearer, "", 404, "not_found", "thumbnail"},
		{"batch too big", "POST", "/api/v1/media/urls", bearer, `{"ids":[` + strings.Join(many, ",") + `]}`,
			400, "invalid_argument", "1000"},
		{"batch empty", "POST", "/api/v1/media/urls", bearer, `{"ids":[]}`, 400, "invalid_argument", "ids"},
		{"batch not JSON", "POST", "/api/v1/media/urls", bearer, `{"ids":[1,`, 400, "invalid_argument", ""},
		{"batch unknown field", "POST", "/api/v1/media/urls", bearer, `{"idz":[1]}`, 400, "invalid_argument", "idz"},
		{"batch too large body", "POST", "/api/v1/media/urls", bearer,
			`{"ids":["` + strings.Repeat("1", 2<<20) + `"]}`, 413, "invalid_argument", ""},
		{"connection without name", "POST", "/api/v1/connections", bearer,
			`{"provider":"local","local":{"root":"/"}}`, 400, "invalid_argument", "name"},
		{"connection unknown provider", "POST", "/api/v1/connections", bearer,
			`{"name":"x","provider":"ftp"}`, 400, "invalid_argument", "ftp"},
		{"s3 without secret", "POST", "/api/v1/connections", bearer,
			`{"name":"x","provider":"s3","s3":{"access_key_id":"AKIAEXAMPLEKEY00001","region":"eu-north-1"}}`,
			400, "invalid_argument", "secret"},
		{"s3 bad endpoint", "POST", "/api/v1/connections", bearer,
			`{"name":"x","provider":"s3","s3":{"access_key_id":"A","secret_access_key":"s","region":"eu-north-1","endpoint":"ftp://h"}}`,
			400, "invalid_argument", "endpoint"},
		{"local relative root", "POST", "/api/v1/connections", bearer,
			`{"name":"x","provider":"local","local":{"root":"media"}}`, 400, "invalid_argument", "root"},
		{"duplicate connection", "POST", "/api/v1/connections", bearer,
			`{"name":"disk","provider":"local","local":{"root":"` + root + `"}}`, 409, "conflict", "disk"},
		{"duplicate project", "POST", "/api/v1/projects", bearer, `{"name":"p"}`, 409, "conflict", "p"},
		{"unknown project", "GET", "/api/v1/projects/nope/datasets", bearer, "", 404, "not_found", "nope"},
		{"import unknown connection", "POST", "/api/v1/datasets/1/imports", bearer,
			`{"connection":"nope"}`, 404, "not_found", "nope"},
		{"import into unknown dataset", "POST", "/api/v1/datasets/77/imports", bearer,
			`{"connection":"disk"}`, 404, "not_found", ""},
		{"unknown route", "GET", "/api/v1/nothing", bearer, "", 404, "not_found", "/api/v1/nothing"},
		{"wrong method", "DELETE", "/api/v1/media/urls", bearer, "", 405, "invalid_argument", "POST"},
		{"bad page limit", "GET", "/api/v1/datasets/1/media?limit=0", bearer, "", 400, "invalid_argument", "limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, e := svc.send(c.method, c.path, c.token, c.body)
			if status != c.status || e.Error.Code != c.code {
				t.Fatalf("%s %s = %d %+v, want %d %s", c.method, c.path, status, e, c.status, c.code)
			}
			if !strings.Contains(e.Error.Message, c.mention) {
				t.Errorf("message %q does not mention %q", e.Error.Message, c.mention)
			}
			if strings.Contains(e.Error.Message, svc.Token) {
				t.Errorf("message holds the admin token")
			}
		})
	}

	var list struct {
		Connections []struct{ Name string } `json:"connections"`
	}
	svc.mustDo(200, "GET", "/api/v1/connections", nil, &list)
	if len(list.Connections) != 1 || list.Connections[0].Name != "disk" {
		t.Fatalf("refused requests changed the connections: %+v", list.Connections)
	}
}

// TestUpdateConnectionKeepsSecrets checks that an update without a secret
// keeps the stored one, that a failed update changes nothing, and that the
// API never shows a secret.
func TestUpdateConnectionKeepsSecrets(t *testing.T) {
	svc := startService(t, urlcache.DefaultPolicy(), mediasign.SystemClock{})
	const secret = "example-secret-value"
	svc.mustDo(201, "POST", "/api/v1/connections", map[string]any{"name": "s3", "provider": "s3",
		"s3": map[string]any{"access_key_id": "AKIAEXAMPLEKEY00001", "secret_access_key": secret,
			"region": "eu-north-1"}}, nil)

	status, _ := svc.send("PUT", "/api/v1/connections/s3", "Bearer "+svc.Token,
		`{"name":"s3","provider":"s3","s3":{"access_key_id":"AKIAEXAMPLEKEY00002","region":"not a region"}}`)
	if status != 400 {
		t.Fatalf("update with a bad region = %d, want 400", status)
	}
	status, e := svc.send("PUT", "/api/v1/connections/s3", "Bearer "+svc.Token,
		`{"s3":{"access_key_id":"AKIAEXAMPLEKEY00002","region":"eu-north-1"}}`)
	if status != 400 || !strings.Contains(e.Error.Message, "secret_access_key") {
		t.Fatalf("new access key without its secret = %d %+v, want 400 asking for the secret", status, e)
	}
	status, e = svc.send("PUT", "/api/v1/connections/s3", "Bearer "+svc.Token,
		`{"s3":{"access_key_id":"AKIAEXAMPLEKEY00001","region":"eu-north-1","credentials_expire_at":"tomorrow"}}`)
	if status != 400 || !strings.Contains(e.Error.Message, "RFC 3339") {
		t.Fatalf("malformed expiry = %d %+v, want 400 naming RFC 3339", status, e)
	}
	var view struct {
		CreatedAt time.Time `json:"created_at"`
	}
	svc.mustDo(200, "PUT", "/api/v1/connections/s3", map[string]any{
		"s3": map[string]any{"access_key_id": "AKIAEXAMPLEKEY00001", "region": "eu-west-1"}}, &view)
	if view.CreatedAt.IsZero() {
		t.Errorf("update answer has no created_at")
	}

	c, err := svc.App.Store.ConnectionByName(t.Context(), "s3")
	if err != nil {
		t.Fatal(err)
	}
	if c.S3.SecretAccessKey != secret || c.S3.Region != "eu-west-1" || c.Revision < 2 {
		t.Fatalf("after update: region %q revision %d, secret kept %v", c.S3.Region, c.Revision,
			c.S3.SecretAccessKey == secret)
	}

	resp := svc.raw("GET", "/api/v1/connections/s3", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET connection = %d", resp.StatusCode)
	}
	var body json.RawMessage
	svc.do("GET", "/api/v1/connections", nil, &body)
	if strings.Contains(string(body), secret) || !strings.Contains(string(body), `"has_secret_access_key":true`) {
		t.Fatalf("connection listing: %s", body)
	}
}

// TestLocalURLExpiry signs a local URL at a fake time, then moves the clock
// past its expiry: mediasign refuses the old URL and signs a new one.
func TestLocalURLExpiry(t *testing.T) {
	clock := fakeclock.New(time.Now())
	svc, _ := localFixture(t, clock)

	var a urlAnswer
	svc.mustDo(200, "GET", "/api/v1/media/1/url", nil, &a)
	if code, _ := fetch(t, a.URL); code != 200 {
		t.Fatalf("fresh local URL: GET = %d", code)
	}
	if !a.ExpiresAt.Equal(clock.Now().Add(518400 * time.Second).Truncate(time.Second)) {
		t.Errorf("expires_at = %s, want now + N", a.ExpiresAt)
	}

	clock.Advance(518400*time.Second - 432000*time.Second + time.Second)
	var b urlAnswer
	svc.mustDo(200, "GET", "/api/v1/media/1/url", nil, &b)
	if b.URL == a.URL {
		t.Fatalf("URL with less than M left was served from the cache")
	}

	clock.Advance(432000 * time.Second)
	if code, _ := fetch(t, a.URL); code != http.StatusForbidden {
		t.Errorf("expired local URL: GET = %d, want 403", code)
	}
	if code, _ := fetch(t, b.URL); code != http.StatusOK {
		t.Errorf("newer local URL: GET = %d, want 200", code)
	}
}

// TestHealthAndMetrics checks the probes and that metrics count signing.
func TestHealthAndMetrics(t *testing.T) {
	svc, _ := localFixture(t, mediasign.SystemClock{})
	svc.mustDo(200, "GET", "/api/v1/media/1/url", nil, nil)
	svc.mustDo(200, "GET", "/api/v1/media/1/url", nil, nil)

	for _, path := range []string{"/healthz", "/readyz"} {
		if resp := svc.raw("GET", path, http.Header{"Authorization": {"none"}}); resp.StatusCode != 200 {
			t.Errorf("%s = %d", path, resp.StatusCode)
		}
	}
	code, body := fetch(t, svc.URL+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{"mediasign_", "go_goroutines"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestConnectionUpdateResigns checks that URLs cached under a connection's
// old settings are not served after it changes.
func TestConnectionUpdateResigns(t *testing.T) {
	svc := startService(t, urlcache.DefaultPolicy(), mediasign.SystemClock{})
	s3 := func(public string) map[string]any {
		return map[string]any{"name": "s3", "provider": "s3", "s3": map[string]any{
			"access_key_id": "AKIAEXAMPLEKEY00001", "secret_access_key": "example-secret",
			"region": "eu-north-1", "endpoint": "http://127.0.0.1:9", "path_style": true,
			"public_endpoint": public}}
	}
	svc.mustDo(201, "POST", "/api/v1/connections", s3("https://files-old.example.com"), nil)
	c, err := svc.App.Store.ConnectionByName(t.Context(), "s3")
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.App.Service.AddProject(t.Context(), "p")
	if err != nil {
		t.Fatal(err)
	}
	d, err := svc.App.Service.AddDataset(t.Context(), p.ID, "d")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.App.Store.AddMedia(t.Context(), []mediasign.MediaFile{{DatasetID: d.ID,
		ConnectionID: c.ID, Bucket: "media-test", Key: "a b.png", MediaType: "image/png"}}); err != nil {
		t.Fatal(err)
	}

	var before, cached, after urlAnswer
	svc.mustDo(200, "GET", "/api/v1/media/1/url", nil, &before)
	svc.mustDo(200, "GET", "/api/v1/media/1/url", nil, &cached)
	if cached.URL != before.URL {
		t.Fatalf("second request signed anew")
	}
	svc.mustDo(200, "PUT", "/api/v1/connections/s3", s3("https://files-new.example.com"), nil)
	svc.mustDo(200, "GET", "/api/v1/media/1/url", nil, &after)
	if !strings.HasPrefix(before.URL, "https://files-old.example.com/media-test/a%20b.png?") ||
		!strings.HasPrefix(after.URL, "https://files-new.example.com/media-test/a%20b.png?") {
		t.Fatalf("URLs before and after the update: %s then %s", before.URL, after.URL)
	}
}

// TestTemporaryCredentialsKeepTheirExpiry checks that an update that keeps a
// session token keeps its expiry, so expires_at never outlives the
// credentials, and that expired credentials are refused.
func TestTemporaryCredentialsKeepTheirExpiry(t *testing.T) {
	svc := startService(t, urlcache.Policy{MinValid: time.Minute, NewValid: time.Hour},
		mediasign.SystemClock{})
	exp := time.Now().Add(30 * time.Minute).UTC().Truncate(time.Second)
	svc.mustDo(201, "POST", "/api/v1/connections", map[string]any{"name": "sts", "provider": "s3",
		"s3": map[string]any{"access_key_id": "ASIAEXAMPLEKEY00001", "secret_access_key": "example-secret",
			"session_token": "token/with+special=", "credentials_expire_at": exp, "region": "eu-north-1"}}, nil)
	svc.mustDo(200, "PUT", "/api/v1/connections/sts", map[string]any{
		"s3": map[string]any{"access_key_id": "ASIAEXAMPLEKEY00001", "region": "eu-north-1"}}, nil)

	signed, err := svc.App.Service.Sign(t.Context(), "sts", mediasign.SignRequest{Bucket: "media-test",
		Key: "a.png", Method: mediasign.MethodGet, Expires: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !signed.ExpiresAt.Equal(exp) {
		t.Fatalf("expires_at %s, want the credentials' expiry %s", signed.ExpiresAt, exp)
	}

	status, e := svc.send("POST", "/api/v1/connections", "Bearer "+svc.Token,
		`{"name":"old","provider":"s3","s3":{"access_key_id":"ASIAEXAMPLEKEY00001","secret_access_key":"s",`+
			`"session_token":"t","credentials_expire_at":"2020-01-01T00:00:00Z","region":"eu-north-1"}}`)
	if status != 400 || !strings.Contains(e.Error.Message, "expired") {
		t.Fatalf("expired credentials = %d %+v, want 400", status, e)
	}
}
