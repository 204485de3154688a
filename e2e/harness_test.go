package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/app"
	"github.com/mediasign/mediasign/auth"
	"github.com/mediasign/mediasign/config"
	"github.com/mediasign/mediasign/httpapi"
	"github.com/mediasign/mediasign/urlcache"
)

// service is a mediasign instance running in the test process.
type service struct {
	t      *testing.T
	URL    string
	Token  string
	App    *app.App
	Auth   *auth.Authenticator
	client *http.Client
	logs   *logBuffer
}

// startService runs mediasign with its state in a temporary directory.
func startService(t *testing.T, policy urlcache.Policy, clock mediasign.Clock) *service {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = ln.Addr().String()
	cfg.Policy = policy
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	ctx := context.Background()
	a, err := app.Open(ctx, cfg, clock, logger)
	if err != nil {
		t.Fatal(err)
	}
	// The tests act as the installation admin through the admin token.
	token := "msa_" + rand.Text()
	au := newAuthenticator(t, a, token, clock, logger)

	srv := httptest.NewUnstartedServer(httpapi.New(httpapi.Options{Service: a.Service,
		Auth: au, Files: a.FilesHandler(), Clock: clock, Logger: logger, Metrics: a.Metrics}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})

	noRedirect := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &service{t: t, URL: srv.URL, Token: token, App: a, Auth: au, client: noRedirect,
		logs: logs}
}

// newAuthenticator returns a session-mode authenticator that also takes
// adminToken, with password hashing cheap enough for tests.
func newAuthenticator(t *testing.T, a *app.App, adminToken string, clock mediasign.Clock,
	logger *slog.Logger) *auth.Authenticator {
	t.Helper()
	admin, err := auth.SetupAdminToken(t.Context(), a.Store, adminToken)
	if err != nil {
		t.Fatal(err)
	}
	au, err := auth.New(auth.Options{Store: a.Store, Mode: auth.ModeSession, Admin: admin,
		Passwords: auth.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1, Concurrent: 4},
		Clock:     clock, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	return au
}

// do sends an authenticated API request and decodes a JSON answer into out.
func (s *service) do(method, path string, body any, out any) int {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

// mustDo is do that fails the test unless the status is want.
func (s *service) mustDo(want int, method, path string, body, out any) {
	s.t.Helper()
	var raw json.RawMessage
	got := s.do(method, path, body, &raw)
	if got != want {
		s.t.Fatalf("%s %s = %d %s, want %d", method, path, got, raw, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatal(err)
		}
	}
}

type urlAnswer struct {
	ID             int64      `json:"id"`
	URL            string     `json:"url"`
	ExpiresAt      time.Time  `json:"expires_at"`
	ThumbURL       string     `json:"thumb_url"`
	ThumbExpiresAt *time.Time `json:"thumb_expires_at"`
	Error          *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type mediaItem struct {
	ID        int64  `json:"id"`
	Key       string `json:"key"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"`
	ThumbKey  string `json:"thumb_key"`
}

// datasetMedia lists every media file of a dataset through the API.
func (s *service) datasetMedia(datasetID int64) []mediaItem {
	s.t.Helper()
	var all []mediaItem
	after := int64(0)
	for {
		var page struct {
			Media     []mediaItem `json:"media"`
			NextAfter int64       `json:"next_after"`
		}
		s.mustDo(200, "GET", pathf("/api/v1/datasets/%d/media?limit=2&after=%d", datasetID, after), nil, &page)
		all = append(all, page.Media...)
		if page.NextAfter == 0 {
			return all
		}
		after = page.NextAfter
	}
}

// fetch GETs a URL with a plain client and returns status and body.
func fetch(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET signed URL: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// testImages returns the real image files that ship with Go, by name.
func testImages(t *testing.T) map[string][]byte {
	t.Helper()
	dir := filepath.Join(runtime.GOROOT(), "src", "image", "testdata")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Skipf("skipping: Go's image test data is not at %s: %v", dir, err)
	}
	out := make(map[string][]byte)
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".png" && ext != ".jpeg" && ext != ".gif") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	if len(out) < 5 {
		t.Fatalf("found only %d images in %s", len(out), dir)
	}
	return out
}

// logBuffer collects log lines from concurrent loggers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// pathf formats a request path.
func pathf(format string, args ...any) string {
	return fmt.Sprintf(format, args...)
}

type importResult struct {
	Listed  int `json:"listed"`
	Added   int `json:"added"`
	Skipped int `json:"skipped"`
}

// raw sends an authenticated request and returns the response with its body
// read and closed.
func (s *service) raw(method, path string, header http.Header) *http.Response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
