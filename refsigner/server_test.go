package refsigner_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mediasign/mediasign"
	cst "github.com/mediasign/mediasign/customsigner/customsignertest"
	"github.com/mediasign/mediasign/refsigner"
)

const (
	policyJSON = `{"rules": [
		{"users": ["alice", "sub-alice"], "buckets": ["media"], "prefixes": ["images/"], "methods": ["GET"]},
		{"groups": ["vision:editor"], "buckets": ["media"], "prefixes": ["uploads/"], "methods": ["GET", "PUT"]},
		{"service": true, "buckets": ["media"], "prefixes": [""], "methods": ["GET"]}
	]}`
	svcToken = "signer-service-token-42"
)

// baseConfig returns a signer config with the test policy and S3 settings
// that sign without reaching any server.
func baseConfig(t *testing.T) refsigner.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, []byte(policyJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := refsigner.Default()
	cfg.PolicyFile, cfg.ServiceToken, cfg.NoOverwrite = path, svcToken, false
	cfg.S3 = *cst.DummyS3()
	return cfg
}

func startSigner(t *testing.T, cfg refsigner.Config) (*httptest.Server, *cst.Logs) {
	t.Helper()
	logs := &cst.Logs{}
	s, err := refsigner.New(context.Background(), cfg, refsigner.Options{Logger: logs.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, logs
}

type signAnswer struct {
	URL       string            `json:"url"`
	ExpiresAt string            `json:"expires_at"`
	Headers   map[string]string `json:"headers"`
	Status    int               `json:"status"`
	Error     string            `json:"error"`
}

func call(t *testing.T, method, url, body string, header http.Header) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func authHeader(value string) http.Header { return http.Header{"Authorization": {value}} }

// TestJWTMode checks a signer that verifies forwarded JWTs: subjects and
// role groups against the policy, bearer and bare tokens, the service
// token, and refusals.
func TestJWTMode(t *testing.T) {
	p := cst.NewProvider(t)
	cfg := baseConfig(t)
	cfg.Mode, cfg.Issuer, cfg.Audience, cfg.RoleClaim = refsigner.ModeJWT, p.Issuer, cst.Audience, "roles"
	srv, logs := startSigner(t, cfg)

	alice := p.Token(t, "sub-alice", nil)
	editor := p.Token(t, "sub-eve", map[string]any{"roles": map[string]string{"vision": "admin"}})
	bob := p.Token(t, "sub-bob", nil)
	for _, tc := range []struct {
		name, query string
		header      http.Header
		want        int
	}{
		{"alice bearer", "key=images/a%20b.jpg&method=get", authHeader("Bearer " + alice), 200},
		{"alice bare", "key=images/a.jpg&method=get", authHeader(alice), 200},
		{"alice outside her prefix", "key=uploads/a.jpg&method=get", authHeader("Bearer " + alice), 403},
		{"alice upload", "key=images/a.jpg&method=put", authHeader("Bearer " + alice), 403},
		{"admin role implies editor", "key=uploads/n.png&method=put", authHeader("Bearer " + editor), 200},
		{"bob", "key=images/a.jpg&method=get", authHeader("Bearer " + bob), 403},
		{"service token", "key=anything&method=get", authHeader("Bearer " + svcToken), 200},
		{"no credential", "key=images/a.jpg", nil, 401},
		{"forged token", "key=images/a.jpg", authHeader("Bearer " + alice[:len(alice)-4] + "AAAA"), 401},
		{"dot segment", "key=images/../secret&method=get", authHeader("Bearer " + alice), 400},
		{"bad method", "key=images/a.jpg&method=delete", authHeader("Bearer " + alice), 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := call(t, "GET", srv.URL+"/media/?"+tc.query, "", tc.header)
			if code != tc.want {
				t.Fatalf("= %d %s, want %d", code, body, tc.want)
			}
			var a signAnswer
			if err := json.Unmarshal(body, &a); err != nil {
				t.Fatalf("answer %s is not JSON", body)
			}
			if code == 200 && (!strings.Contains(a.URL, "X-Amz-Signature=") || a.ExpiresAt == "") {
				t.Fatalf("answer %s is not a signed URL with its expiry", body)
			}
		})
	}
	logs.MustNotHold(t, alice, editor, bob, svcToken, "X-Amz-Signature")
}

// TestBatch answers each item on its own.
func TestBatch(t *testing.T) {
	p := cst.NewProvider(t)
	cfg := baseConfig(t)
	cfg.Mode, cfg.Issuer, cfg.Audience = refsigner.ModeJWT, p.Issuer, cst.Audience
	srv, _ := startSigner(t, cfg)

	body := `{"items": [{"key": "images/1.jpg"}, {"key": "private/2.jpg"}, {"key": "images/../3"}]}`
	code, out := call(t, "POST", srv.URL+"/media/?method=get", body,
		authHeader("Bearer "+p.Token(t, "alice", nil)))
	if code != 200 {
		t.Fatalf("batch = %d %s", code, out)
	}
	var res struct {
		Results []signAnswer `json:"results"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Results) != 3 {
		t.Fatalf("batch answer %s", out)
	}
	if res.Results[0].URL == "" || res.Results[1].Status != 403 || res.Results[2].Status != 400 {
		t.Fatalf("results %+v, want a URL, 403 and 400", res.Results)
	}
}

// TestSessionModeAsksMediasignOnce checks the introspection call: the
// secret is sent, the answer is reused, and unknown sessions are 401.
func TestSessionModeAsksMediasignOnce(t *testing.T) {
	var asked atomic.Int64
	mediasignSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		if r.URL.Path != "/api/v1/signer/introspect" || r.Header.Get("Authorization") != "Bearer mss_x" {
			w.WriteHeader(403)
			return
		}
		var in struct {
			SessionID string `json:"session_id"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		if in.SessionID != "sess-alice" {
			cst.WriteJSON(w, 200, map[string]any{"active": false})
			return
		}
		cst.WriteJSON(w, 200, map[string]any{"active": true,
			"user": map[string]any{"id": 1, "name": "alice"}, "groups": []string{"vision:viewer"}})
	}))
	t.Cleanup(mediasignSrv.Close)

	cfg := baseConfig(t)
	cfg.Mode, cfg.MediasignURL, cfg.IntrospectionSecret = refsigner.ModeSession, mediasignSrv.URL, "mss_x"
	srv, logs := startSigner(t, cfg)
	cookie := func(v string) http.Header {
		return http.Header{"Cookie": {mediasign.DefaultSignerCookie + "=" + v}}
	}

	for range 3 {
		if code, body := call(t, "GET", srv.URL+"/media/?key=images/a.jpg", "", cookie("sess-alice")); code != 200 {
			t.Fatalf("alice = %d %s", code, body)
		}
	}
	if code, _ := call(t, "GET", srv.URL+"/media/?key=images/a.jpg", "", cookie("sess-nobody")); code != 401 {
		t.Fatalf("unknown session = %d, want 401", code)
	}
	if asked.Load() != 2 {
		t.Fatalf("mediasign was asked %d times, want once per session", asked.Load())
	}
	logs.MustNotHold(t, "sess-alice", "mss_x")
}

func TestConfigNamesWhatIsMissing(t *testing.T) {
	_, err := refsigner.New(context.Background(), refsigner.Config{Mode: "magic"}, refsigner.Options{})
	if err == nil {
		t.Fatal("an empty config was accepted")
	}
	for _, want := range []string{refsigner.EnvListen, refsigner.EnvPolicy, refsigner.EnvMode,
		refsigner.EnvS3AccessKeyID} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	cfg := refsigner.Default()
	cfg.Mode = refsigner.ModeSession
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(),
		refsigner.EnvIntrospectionSecret) {
		t.Errorf("session mode without a secret: %v", err)
	}
}

// TestExpiresParameter checks that the signer signs for the validity asked
// with expires, never longer than its own setting, and refuses a bad value.
func TestExpiresParameter(t *testing.T) {
	p := cst.NewProvider(t)
	cfg := baseConfig(t)
	cfg.Mode, cfg.Issuer, cfg.Audience = refsigner.ModeJWT, p.Issuer, cst.Audience
	srv, _ := startSigner(t, cfg)
	bearer := authHeader("Bearer " + svcToken)
	for _, tc := range []struct {
		param string
		want  int // X-Amz-Expires wanted; 0: refused with 400
	}{
		{"", 604800},
		{"3600", 3600},
		{"60", 60},
		{"99999999", 604800},
		{"0", 0},
		{"-5", 0},
		{"1h", 0},
	} {
		query := "key=images/a.jpg&method=get"
		if tc.param != "" {
			query += "&expires=" + tc.param
		}
		code, body := call(t, "GET", srv.URL+"/media/?"+query, "", bearer)
		if tc.want == 0 {
			if code != 400 || !strings.Contains(string(body), "expires") {
				t.Errorf("expires=%q: %d %s, want 400 naming expires", tc.param, code, body)
			}
			continue
		}
		var a signAnswer
		if err := json.Unmarshal(body, &a); err != nil || code != 200 {
			t.Fatalf("expires=%q: %d %s", tc.param, code, body)
		}
		u, err := url.Parse(a.URL)
		if err != nil {
			t.Fatal(err)
		}
		if got := u.Query().Get("X-Amz-Expires"); got != strconv.Itoa(tc.want) {
			t.Errorf("expires=%q: the URL is valid for %s s, want %d", tc.param, got, tc.want)
		}
	}
}
