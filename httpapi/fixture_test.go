package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
	"github.com/mediasign/mediasign/internal/fakeclock"
	"github.com/mediasign/mediasign/metrics"
	"github.com/mediasign/mediasign/service"
	"github.com/mediasign/mediasign/store/sqlite"
	"github.com/mediasign/mediasign/urlcache"
)

// providerFake is the provider of the counting test storage.
const providerFake mediasign.Provider = "fake"

// countingStorage is a test double that counts every call that could hand
// out access: signing, listing and checks.
type countingStorage struct {
	signs, lists, checks atomic.Int64
}

func (c *countingStorage) SignURL(ctx context.Context, req mediasign.SignRequest) (mediasign.SignedURL, error) {
	c.signs.Add(1)
	return mediasign.SignedURL{URL: "https://fake.example/" + req.Bucket + "/" + req.Key + "?sig=1",
		ExpiresAt: time.Now().Add(req.Expires)}, nil
}

func (c *countingStorage) MaxExpiry() time.Duration { return 7 * 24 * time.Hour }

func (c *countingStorage) List(ctx context.Context, bucket, prefix string, fn func([]mediasign.Object) error) error {
	c.lists.Add(1)
	return fn([]mediasign.Object{{Key: prefix + "new.jpg", Size: 3}})
}

func (c *countingStorage) Check(ctx context.Context, bucket string) error {
	c.checks.Add(1)
	return nil
}

// calls returns every count at once.
func (c *countingStorage) calls() [3]int64 {
	return [3]int64{c.signs.Load(), c.lists.Load(), c.checks.Load()}
}

// fixture is a Server over a real SQLite store and the counting storage,
// with two projects: "p" (dataset 1, media 1 with a thumbnail) and "other"
// (dataset 2, media 2). The connection "fake" is granted to "p" only.
type fixture struct {
	t       testing.TB
	srv     *httptest.Server
	store   mediasign.Store
	auth    *auth.Authenticator
	storage *countingStorage
	clock   *fakeclock.Clock
	admin   string // the admin token
}

// fastPasswords keeps argon2id cheap in tests.
var fastPasswords = auth.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1, Concurrent: 8}

func newFixture(t testing.TB, opts auth.Options) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	f := &fixture{t: t, store: st, storage: &countingStorage{},
		clock: fakeclock.New(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)),
		admin: "msa_" + strings.Repeat("t", 40)}
	svc := f.service()
	f.auth = f.authenticator(opts)
	s := New(Options{Service: svc, Auth: f.auth, Clock: f.clock, Metrics: metrics.New(),
		Files: http.NotFoundHandler()})
	f.srv = httptest.NewServer(s)
	t.Cleanup(f.srv.Close)

	f.seed(svc)
	return f
}

func (f *fixture) service() *service.Service {
	cache := urlcache.New(urlcache.Options{Policy: urlcache.DefaultPolicy(), Store: f.store,
		Clock: f.clock})
	drivers := service.Drivers{providerFake: {
		Validate: func(*mediasign.Connection) error { return nil },
		Open:     func(*mediasign.Connection) (mediasign.Storage, error) { return f.storage, nil },
	}}
	return service.New(service.Options{Store: f.store, Drivers: drivers, Cache: cache,
		Clock: f.clock})
}

func (f *fixture) authenticator(opts auth.Options) *auth.Authenticator {
	f.t.Helper()
	admin, err := auth.SetupAdminToken(context.Background(), f.store, f.admin)
	if err != nil {
		f.t.Fatal(err)
	}
	opts.Store, opts.Admin, opts.Clock, opts.Passwords = f.store, admin, f.clock, fastPasswords
	if opts.Mode == "" {
		opts.Mode = auth.ModeSession
	}
	a, err := auth.New(opts)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *fixture) seed(svc *service.Service) {
	f.t.Helper()
	ctx := context.Background()
	conn := &mediasign.Connection{Name: "fake", Provider: providerFake}
	must(f.t, svc.AddConnection(ctx, conn))
	for i, name := range []string{"p", "other"} {
		p, err := svc.AddProject(ctx, name)
		must(f.t, err)
		d, err := svc.AddDataset(ctx, p.ID, "d"+name)
		must(f.t, err)
		file := mediasign.MediaFile{DatasetID: d.ID, ConnectionID: conn.ID, Bucket: "b",
			Key: name + ".jpg", MediaType: "image/jpeg"}
		if i == 0 {
			file.ThumbKey = "thumbs/p.jpg"
		}
		_, err = f.store.AddMedia(ctx, []mediasign.MediaFile{file})
		must(f.t, err)
		if i == 0 {
			must(f.t, f.store.GrantConnection(ctx, conn.ID, p.ID))
		}
	}
}

// addUser creates a user with password "password-1" and, when role is
// set, a membership in project "p".
func (f *fixture) addUser(name string, role mediasign.Role) {
	f.t.Helper()
	users := f.auth.Users()
	_, err := users.Add(context.Background(), auth.NewUser{Name: name, Password: "password-1"})
	must(f.t, err)
	if role != "" {
		_, err = users.SetMember(context.Background(), "p", name, role)
		must(f.t, err)
	}
}

// apiToken creates an API token of a project.
func (f *fixture) apiToken(project string, role mediasign.Role) string {
	f.t.Helper()
	p, err := f.store.ProjectByName(context.Background(), project)
	must(f.t, err)
	_, raw, err := f.auth.Users().CreateAPIToken(context.Background(), auth.NewAPIToken{
		ProjectID: p.ID, Name: "t-" + string(role) + "-" + project, Role: role})
	must(f.t, err)
	return raw
}

// session is a signed-in browser.
type session struct {
	cookie *http.Cookie
	csrf   string
}

// login signs in through the API and returns the session.
func (f *fixture) login(name, password string) session {
	f.t.Helper()
	resp, body := f.do("POST", "/api/v1/login", `{"username":`+quote(name)+`,"password":`+
		quote(password)+`}`, nil)
	if resp.StatusCode != 200 {
		f.t.Fatalf("login %s = %d %s", name, resp.StatusCode, body)
	}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	must(f.t, json.Unmarshal(body, &out))
	for _, c := range resp.Cookies() {
		if c.Name == auth.SessionCookie {
			return session{cookie: c, csrf: out.CSRF}
		}
	}
	f.t.Fatalf("login %s set no session cookie", name)
	return session{}
}

// withSession sends the session's cookie and, for state changes, its CSRF
// token.
func (s session) apply(r *http.Request) {
	r.AddCookie(&http.Cookie{Name: s.cookie.Name, Value: s.cookie.Value})
	if r.Method != "GET" {
		r.Header.Set(auth.CSRFHeader, s.csrf)
	}
}

// bearer sends an Authorization header.
func bearer(token string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// do sends a request without following redirects and returns the answer
// with its body read.
func (f *fixture) do(method, path, body string, prepare func(*http.Request)) (*http.Response, []byte) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	must(f.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if prepare != nil {
		prepare(req)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Do(req)
	must(f.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(f.t, err)
	return resp, b
}

// errorOf decodes an error answer, failing unless it is the JSON error form.
func errorOf(t testing.TB, resp *http.Response, body []byte) apiError {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error answer has Content-Type %q: %s", ct, body)
	}
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("error answer %s is not {error:{code,message}}", body)
	}
	return e.Error
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
