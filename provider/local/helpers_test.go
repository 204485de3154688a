package local_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/internal/fakeclock"
	"github.com/mediasign/mediasign/provider/local"
)

// Connection ids the fixture's lookup knows.
const (
	localConnID  = 7
	s3ConnID     = 8
	brokenConnID = 9
)

// outsideSecret is the content of a file beside the root that no URL may
// ever serve.
const outsideSecret = "OUTSIDE-THE-ROOT-SECRET"

// testBaseURL is the base URL of signed URLs that are served without a
// network server.
const testBaseURL = "http://127.0.0.1:8080"

// startTime is the fake clock's start, a quarter second past a whole second
// so that truncation to seconds shows.
var startTime = time.Date(2024, 3, 1, 12, 0, 0, 250_000_000, time.UTC)

// fixture is a local connection over a temporary directory, with its
// keyring, fake clock, storage and handler.
type fixture struct {
	parent  string
	root    string
	keyring *local.Keyring
	clock   *fakeclock.Clock
	storage *local.Storage
	handler http.Handler

	mu     sync.Mutex
	conn   *mediasign.Connection
	others map[int64]*mediasign.Connection
	logs   *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newFixture builds a root directory "media" beside a file that holds
// outsideSecret, a keyring in "data", and a storage and handler for
// connection localConnID.
func newFixture(t testing.TB) *fixture {
	t.Helper()

	parent := t.TempDir()
	root := filepath.Join(parent, "media")
	mustMkdir(t, root)
	writeFile(t, filepath.Join(parent, "secret.txt"), outsideSecret)

	kr, err := local.OpenKeyring(filepath.Join(parent, "data", "local-signing-keys.json"))
	if err != nil {
		t.Fatalf("OpenKeyring: %v", err)
	}

	fx := &fixture{parent: parent, root: root, keyring: kr, clock: fakeclock.New(startTime),
		logs: &syncBuffer{}}
	fx.conn = localConn(localConnID, root)
	fx.storage = fx.newStorage(t, fx.conn, testBaseURL)
	logger := slog.New(slog.NewTextHandler(fx.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fx.handler = local.NewHandler(fx.lookup, kr, fx.clock, logger)
	return fx
}

func localConn(id int64, root string) *mediasign.Connection {
	return &mediasign.Connection{ID: id, Name: "media", Provider: mediasign.ProviderLocal,
		Local: &mediasign.LocalConfig{Root: root}}
}

func (fx *fixture) newStorage(t testing.TB, conn *mediasign.Connection, base string) *local.Storage {
	t.Helper()

	s, err := local.New(conn, local.Options{BaseURL: base, Keyring: fx.keyring, Clock: fx.clock})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// lookup is the handler's view of the stored connections.
func (fx *fixture) lookup(_ context.Context, id int64) (*mediasign.Connection, error) {
	fx.mu.Lock()
	defer fx.mu.Unlock()

	if c, ok := fx.others[id]; ok {
		return c, nil
	}
	switch id {
	case localConnID:
		c := *fx.conn
		return &c, nil
	case s3ConnID:
		return &mediasign.Connection{ID: id, Provider: mediasign.ProviderS3,
			S3: &mediasign.S3Config{Region: "us-east-1"}}, nil
	case brokenConnID:
		return nil, errors.New("database is on fire")
	}
	return nil, mediasign.NotFoundf("connection %d not found", id)
}

// addConn stores another local connection with id and root.
func (fx *fixture) addConn(id int64, root string) *mediasign.Connection {
	fx.mu.Lock()
	defer fx.mu.Unlock()

	if fx.others == nil {
		fx.others = map[int64]*mediasign.Connection{}
	}
	c := localConn(id, root)
	fx.others[id] = c
	return c
}

// setRoot points the stored connection at another directory.
func (fx *fixture) setRoot(root string) {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	fx.conn = localConn(localConnID, root)
}

// file writes content to key under the root, creating directories.
func (fx *fixture) file(t testing.TB, key, content string) {
	t.Helper()

	path := filepath.Join(fx.root, filepath.FromSlash(key))
	mustMkdir(t, filepath.Dir(path))
	writeFile(t, path, content)
}

func (fx *fixture) sign(t testing.TB, key string, d time.Duration) mediasign.SignedURL {
	t.Helper()
	return signWith(t, fx.storage, key, d)
}

func signWith(t testing.TB, s *local.Storage, key string, d time.Duration) mediasign.SignedURL {
	t.Helper()

	u, err := s.SignURL(t.Context(), mediasign.SignRequest{Key: key,
		Method: mediasign.MethodGet, Expires: d})
	if err != nil {
		t.Fatalf("SignURL(%q): %v", key, err)
	}
	return u
}

// do serves one request for the raw URL through the handler. A URL that an
// HTTP server could not parse gets the 400 such a server would answer.
func (fx *fixture) do(t testing.TB, method, rawURL string, header http.Header) *http.Response {
	t.Helper()

	target := strings.TrimPrefix(rawURL, testBaseURL)
	line := method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(line)))
	if err != nil {
		return &http.Response{StatusCode: http.StatusBadRequest, Header: http.Header{},
			Body: http.NoBody}
	}
	for name, values := range header {
		req.Header[name] = values
	}

	rec := httptest.NewRecorder()
	fx.handler.ServeHTTP(rec, req)
	return rec.Result()
}

func (fx *fixture) get(t testing.TB, rawURL string) (*http.Response, string) {
	t.Helper()

	resp := fx.do(t, http.MethodGet, rawURL, nil)
	return resp, readBody(t, resp)
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()

	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatalf("read body: %v", err)
	}
	resp.Body.Close()
	return b.String()
}

// query returns the raw value of a parameter of a signed URL.
func query(t testing.TB, rawURL, name string) string {
	t.Helper()

	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("parse %q: %v", rawURL, err)
	}
	return u.Query().Get(name)
}

func mustMkdir(t testing.TB, dir string) {
	t.Helper()

	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("mkdir: %v", err)
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()

	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

func symlink(t testing.TB, target, link string) {
	t.Helper()

	if err := os.Symlink(target, link); err != nil {
		t.Fatalf("symlink %s -> %s: %v", link, target, err)
	}
}

// wantStatus fails unless resp has status want, showing the body.
func wantStatus(t testing.TB, resp *http.Response, body string, want int) {
	t.Helper()

	if resp.StatusCode != want {
		t.Fatalf("status %d, want %d; body %q", resp.StatusCode, want, body)
	}
}

// wantRefused fails unless resp is a clean JSON refusal (403 or 404) that
// serves nothing of the outside file.
func wantRefused(t testing.TB, resp *http.Response, body string) {
	t.Helper()

	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound &&
		resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want a refusal; body %q", resp.StatusCode, body)
	}
	if strings.Contains(body, outsideSecret) {
		t.Fatalf("refusal body holds the outside file: %q", body)
	}
	if resp.StatusCode != http.StatusBadRequest &&
		resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("refusal Content-Type %q, want application/json",
			resp.Header.Get("Content-Type"))
	}
}

func errorCode(err error) mediasign.Code { return mediasign.ErrorCode(err) }
