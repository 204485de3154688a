package refsigner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
	"github.com/mediasign/mediasign/auth/oidc"
	cst "github.com/mediasign/mediasign/customsigner/customsignertest"
	"github.com/mediasign/mediasign/internal/testenv/s3server"
	"github.com/mediasign/mediasign/refsigner"
)

// e2ePolicy lets alice view images/, editors of project p upload to
// uploads/, and nobody else anything.
const e2ePolicy = `{"rules": [
	{"users": ["alice", "sub-alice"], "buckets": ["media"], "prefixes": ["images/"], "methods": ["GET"]},
	{"groups": ["p:editor"], "buckets": ["media"], "prefixes": ["uploads/"], "methods": ["GET", "PUT"]}
]}`

// e2e is mediasign, the reference signer and a real S3 server holding a
// real image.
type e2e struct {
	t       *testing.T
	s3      *s3server.Server
	stack   *cst.Stack
	signer  *cst.Logs
	image   []byte
	dataset int64
	media   map[string]int64
}

func newE2E(t *testing.T, opts cst.Options, mode refsigner.Mode,
	edit func(*refsigner.Config, *cst.Stack)) *e2e {
	t.Helper()
	srv := s3server.Start(t)
	srv.CreateBucket(t, "media")
	img, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src", "image", "testdata", "video-001.png"))
	if err != nil {
		t.Skipf("skipping: Go's image test data is missing: %v", err)
	}
	srv.Put(t, "media", "images/cat 1+1.png", img, "image/png")
	srv.Put(t, "media", "private/dog.png", img, "image/png")

	e := &e2e{t: t, s3: srv, stack: cst.NewStack(t, opts), image: img}
	cfg := e.signerConfig(mode)
	edit(&cfg, e.stack)
	signerURL, logs := startSignerLogs(t, cfg)
	e.signer = logs

	conn := e.stack.AddConnection("media", cst.DummyS3(), &mediasign.SignerConfig{URL: signerURL})
	// The dataset's file under uploads/ makes that folder one uploads may go to.
	keys := []string{"images/cat 1+1.png", "private/dog.png", "uploads/first.png"}
	ds, ids := e.stack.AddMedia("p", conn, "media", keys...)
	e.dataset, e.media = ds, map[string]int64{keys[0]: ids[0], keys[1]: ids[1]}
	return e
}

// signerConfig signs with the S3 server's credentials.
func (e *e2e) signerConfig(mode refsigner.Mode) refsigner.Config {
	path := filepath.Join(e.t.TempDir(), "policy.json")
	if err := os.WriteFile(path, []byte(e2ePolicy), 0o600); err != nil {
		e.t.Fatal(err)
	}
	cfg := refsigner.Default()
	cfg.Mode, cfg.PolicyFile, cfg.Listen = mode, path, "127.0.0.1:0"
	cfg.S3 = mediasign.S3Config{AccessKeyID: e.s3.AccessKey, SecretAccessKey: e.s3.Secret,
		Region: e.s3.Region, Endpoint: e.s3.Endpoint, PathStyle: true}
	return cfg
}

func startSignerLogs(t *testing.T, cfg refsigner.Config) (string, *cst.Logs) {
	t.Helper()
	srv, logs := startSigner(t, cfg)
	return srv.URL, logs
}

// viewURL asks mediasign for a media file's URL as a caller.
func (e *e2e) viewURL(key string, as func(*http.Request)) (int, cst.URLAnswer) {
	e.t.Helper()
	resp, body := e.stack.Do("GET", "/api/v1/media/"+strconv.FormatInt(e.media[key], 10)+"/url",
		"", as)
	var a cst.URLAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		e.t.Fatalf("answer %s: %v", body, err)
	}
	return resp.StatusCode, a
}

// mustFetch GETs a signed URL from the S3 server and compares the bytes.
func (e *e2e) mustFetch(u string) {
	e.t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(body, e.image) {
		e.t.Fatalf("GET signed URL = %d with %d bytes, want 200 with the image", resp.StatusCode,
			len(body))
	}
}

// checkAccess checks what alice and bob get: alice's URL fetches the
// image from the S3 server; bob, outside the policy, and alice outside her
// prefix get 403 from mediasign.
func (e *e2e) checkAccess(alice, bob func(*http.Request)) {
	e.t.Helper()
	code, a := e.viewURL("images/cat 1+1.png", alice)
	if code != 200 {
		e.t.Fatalf("alice: %d %+v", code, a)
	}
	e.mustFetch(a.URL)

	for name, tc := range map[string]struct {
		key string
		as  func(*http.Request)
	}{
		"bob":                   {"images/cat 1+1.png", bob},
		"alice outside images/": {"private/dog.png", alice},
	} {
		if code, a := e.viewURL(tc.key, tc.as); code != 403 || a.Error == nil {
			e.t.Errorf("%s: %d %+v, want 403", name, code, a)
		}
	}
}

// TestEndToEndSessionMode runs mediasign in session mode with the
// reference signer asking mediasign's introspection endpoint, and uploads
// through the signer.
func TestEndToEndSessionMode(t *testing.T) {
	var secret string
	e := newE2E(t, cst.Options{}, refsigner.ModeSession, func(cfg *refsigner.Config, s *cst.Stack) {
		var err error
		if secret, err = s.Service.ResetSignerSecret(context.Background()); err != nil {
			t.Fatal(err)
		}
		cfg.MediasignURL, cfg.IntrospectionSecret = s.URL, secret
	})
	e.stack.AddUser("alice", "", "p", mediasign.RoleViewer)
	e.stack.AddUser("bob", "", "p", mediasign.RoleViewer)
	e.stack.AddUser("ed", "", "p", mediasign.RoleEditor)
	alice, bob, ed := e.stack.Login("alice"), e.stack.Login("bob"), e.stack.Login("ed")

	e.checkAccess(alice.Apply, bob.Apply)
	e.checkUpload(ed.Apply, alice.Apply)
	for _, logs := range []*cst.Logs{e.stack.Logs, e.signer} {
		logs.MustNotHold(t, alice.ID, bob.ID, ed.ID, secret, "X-Amz-Signature=")
	}
}

// checkUpload uploads a file through an editor's upload URL, then finds a
// second upload of the same key refused with 409, and a viewer refused.
func (e *e2e) checkUpload(editor, viewer func(*http.Request)) {
	e.t.Helper()
	path := "/api/v1/datasets/" + strconv.FormatInt(e.dataset, 10) + "/uploads"
	body := `{"key": "uploads/new.png"}`
	resp, raw := e.stack.Do("POST", path, body, editor)
	var up struct {
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
	}
	if err := json.Unmarshal(raw, &up); err != nil || resp.StatusCode != 200 {
		e.t.Fatalf("upload URL = %d %s", resp.StatusCode, raw)
	}

	req, err := http.NewRequest("PUT", up.URL, bytes.NewReader(e.image))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range up.Headers {
		req.Header.Set(k, v)
	}
	put, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	put.Body.Close()
	if put.StatusCode != 200 {
		e.t.Fatalf("PUT to the upload URL = %d", put.StatusCode)
	}

	if resp, raw := e.stack.Do("POST", path, body, editor); resp.StatusCode != 409 {
		e.t.Fatalf("second upload of the key = %d %s, want 409", resp.StatusCode, raw)
	}
	if resp, raw := e.stack.Do("POST", path, `{"key": "uploads/other.png"}`, viewer); resp.StatusCode != 403 {
		e.t.Fatalf("viewer upload = %d %s, want 403", resp.StatusCode, raw)
	}
}

// TestEndToEndJWTMode runs mediasign in OAuth2 mode: it forwards each
// user's JWT and the reference signer checks it against the provider's
// keys.
func TestEndToEndJWTMode(t *testing.T) {
	p := cst.NewProvider(t)
	v, err := oidc.New(context.Background(), oidc.Config{Issuer: p.Issuer, Audience: cst.Audience})
	if err != nil {
		t.Fatal(err)
	}
	e := newE2E(t, cst.Options{Verifier: auth.OIDC(v)}, refsigner.ModeJWT,
		func(cfg *refsigner.Config, _ *cst.Stack) { cfg.Issuer, cfg.Audience = p.Issuer, cst.Audience })
	e.stack.AddUser("alice", "sub-alice", "p", mediasign.RoleViewer)
	e.stack.AddUser("bob", "sub-bob", "p", mediasign.RoleViewer)
	alice, bob := p.Token(t, "sub-alice", nil), p.Token(t, "sub-bob", nil)

	e.checkAccess(cst.Bearer(alice), cst.Bearer(bob))
	for _, logs := range []*cst.Logs{e.stack.Logs, e.signer} {
		logs.MustNotHold(t, alice, bob, "X-Amz-Signature=")
	}
}
