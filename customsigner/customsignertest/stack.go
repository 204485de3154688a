package customsignertest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
	"github.com/mediasign/mediasign/customsigner"
	"github.com/mediasign/mediasign/httpapi"
	"github.com/mediasign/mediasign/metrics"
	s3provider "github.com/mediasign/mediasign/provider/s3"
	"github.com/mediasign/mediasign/service"
	"github.com/mediasign/mediasign/store/sqlite"
	"github.com/mediasign/mediasign/urlcache"
)

// Password is the password of every user a Stack adds.
const Password = "password-1"

// Options configures a Stack.
type Options struct {
	// Policy is the cache policy; zero means the default.
	Policy urlcache.Policy

	// Clock is the clock of everything; nil means the wall clock.
	Clock mediasign.Clock

	// Verifier switches the stack to OAuth2 mode.
	Verifier auth.TokenVerifier

	// Transport sends signer requests; nil means the default.
	Transport http.RoundTripper
}

// Stack is mediasign's HTTP API over SQLite, as a real process wires it,
// with everything logged to Logs.
type Stack struct {
	T       testing.TB
	URL     string
	Store   *Store
	Service *service.Service
	Auth    *auth.Authenticator
	Cache   *urlcache.Cache
	Metrics *metrics.Metrics
	Logs    *Logs
	client  *http.Client
}

// NewStack starts a stack that stops when the test ends.
func NewStack(t testing.TB, opts Options) *Stack {
	t.Helper()
	if opts.Policy == (urlcache.Policy{}) {
		opts.Policy = urlcache.DefaultPolicy()
	}
	if opts.Clock == nil {
		opts.Clock = mediasign.SystemClock{}
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	s := &Stack{T: t, Store: NewStore(db), Logs: &Logs{}, Metrics: metrics.New(),
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}}
	logger := s.Logs.Logger()
	s.Cache = urlcache.New(urlcache.Options{Policy: opts.Policy, Store: s.Store,
		Clock: opts.Clock, Logger: logger, Metrics: s.Metrics})
	signers := customsigner.NewRegistry(customsigner.Options{Clock: opts.Clock, Logger: logger,
		Metrics: customsigner.NewMetrics(s.Metrics.Registry), Transport: opts.Transport})
	s.Service = service.New(service.Options{Store: s.Store, Drivers: s3Drivers(opts.Clock),
		Cache: s.Cache, Clock: opts.Clock, Logger: logger, Metrics: s.Metrics, Signers: signers})
	s.Auth = newAuth(t, s.Store, opts, logger)

	srv := httptest.NewServer(httpapi.New(httpapi.Options{Service: s.Service, Auth: s.Auth,
		Clock: opts.Clock, Logger: logger, Metrics: s.Metrics}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func s3Drivers(clock mediasign.Clock) service.Drivers {
	return service.Drivers{mediasign.ProviderS3: {
		Validate: func(c *mediasign.Connection) error { return s3provider.ValidateConfig(c.S3) },
		Open: func(c *mediasign.Connection) (mediasign.Storage, error) {
			return s3provider.New(c, s3provider.Options{Clock: clock})
		},
	}}
}

func newAuth(t testing.TB, st mediasign.Store, opts Options, logger *slog.Logger) *auth.Authenticator {
	t.Helper()
	ao := auth.Options{Store: st, Mode: auth.ModeSession, Clock: opts.Clock, Logger: logger,
		Passwords: auth.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1, Concurrent: 8}}
	if opts.Verifier != nil {
		ao.Mode, ao.Verifier = auth.ModeOAuth2, opts.Verifier
	}
	a, err := auth.New(ao)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// DummyS3 is S3 settings that sign nothing anyone fetches: for connections
// whose URLs come from a custom signer.
func DummyS3() *mediasign.S3Config {
	return &mediasign.S3Config{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "dummy-secret",
		Region: "us-east-1", Endpoint: "http://127.0.0.1:9", PathStyle: true}
}

// AddConnection adds an s3 connection with a custom signer.
func (s *Stack) AddConnection(name string, s3 *mediasign.S3Config,
	signer *mediasign.SignerConfig) *mediasign.Connection {
	s.T.Helper()
	c := &mediasign.Connection{Name: name, Provider: mediasign.ProviderS3, S3: s3, Signer: signer}
	if err := s.Service.AddConnection(context.Background(), c); err != nil {
		s.T.Fatal(err)
	}
	return c
}

// AddMedia adds the keys of bucket on conn to a dataset of project, both
// made when missing, and returns the dataset id and the media ids in key
// order.
func (s *Stack) AddMedia(project string, conn *mediasign.Connection, bucket string,
	keys ...string) (int64, []int64) {
	s.T.Helper()
	ctx := context.Background()
	p, err := s.Service.EnsureProject(ctx, project)
	must(s.T, err)
	d, err := s.Service.EnsureDataset(ctx, p.ID, "d")
	must(s.T, err)

	files := make([]mediasign.MediaFile, len(keys))
	for i, k := range keys {
		files[i] = mediasign.MediaFile{DatasetID: d.ID, ConnectionID: conn.ID, Bucket: bucket,
			Key: k, MediaType: "image/jpeg"}
	}
	_, err = s.Store.AddMedia(ctx, files)
	must(s.T, err)

	ids := make([]int64, 0, len(keys))
	for after := int64(0); ; {
		page, err := s.Store.ListMedia(ctx, d.ID, after, 1000)
		must(s.T, err)
		for _, f := range page {
			ids = append(ids, f.ID)
		}
		if len(page) < 1000 {
			return d.ID, ids
		}
		after = page[len(page)-1].ID
	}
}

// AddUser adds a user with Password (or, with subject, an OAuth2 user) and
// gives them role in project.
func (s *Stack) AddUser(name, subject, project string, role mediasign.Role) *mediasign.User {
	s.T.Helper()
	ctx := context.Background()
	nu := auth.NewUser{Name: name, Password: Password}
	if subject != "" {
		nu = auth.NewUser{Name: name, Subject: subject}
	}
	u, err := s.Auth.Users().Add(ctx, nu)
	must(s.T, err)
	if role != "" {
		_, err = s.Auth.Users().SetMember(ctx, project, name, role)
		must(s.T, err)
	}
	return u
}

// Session is a signed-in browser of a Stack.
type Session struct {
	ID   string // the session ID: the credential a signer receives
	CSRF string
}

// Login signs a user in through the API.
func (s *Stack) Login(name string) Session {
	s.T.Helper()
	resp, body := s.Do("POST", "/api/v1/login",
		`{"username":"`+name+`","password":"`+Password+`"}`, nil)
	if resp.StatusCode != 200 {
		s.T.Fatalf("login %s = %d %s", name, resp.StatusCode, body)
	}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	must(s.T, json.Unmarshal(body, &out))
	for _, c := range resp.Cookies() {
		if c.Name == auth.SessionCookie {
			return Session{ID: c.Value, CSRF: out.CSRF}
		}
	}
	s.T.Fatalf("login %s set no session cookie", name)
	return Session{}
}

// Apply sends the session's cookie and CSRF token.
func (se Session) Apply(r *http.Request) {
	r.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: se.ID})
	r.Header.Set(auth.CSRFHeader, se.CSRF)
}

// Bearer sends a token in the Authorization header.
func Bearer(token string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// Do sends a request without following redirects and returns the answer
// with its body read.
func (s *Stack) Do(method, path, body string, prepare func(*http.Request)) (*http.Response, []byte) {
	s.T.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	must(s.T, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if prepare != nil {
		prepare(req)
	}
	resp, err := s.client.Do(req)
	must(s.T, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(s.T, err)
	return resp, b
}

// URLAnswer is the JSON answer for one media file's URL.
type URLAnswer struct {
	ID        int64  `json:"id"`
	URL       string `json:"url"`
	ExpiresAt string `json:"expires_at"`
	Stale     bool   `json:"stale"`
	Error     *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
