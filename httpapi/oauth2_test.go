package httpapi

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mediasign/mediasign"
	"github.com/mediasign/mediasign/auth"
	"github.com/mediasign/mediasign/auth/oidc"
)

// testIssuer is an OpenID provider on loopback: a discovery document and a
// JWKS with one RSA key.
type testIssuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
}

func newTestIssuer(t *testing.T) *testIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	iss := &testIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": iss.srv.URL,
			"jwks_uri": iss.srv.URL + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		b64 := base64.RawURLEncoding
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"kty": "RSA",
			"kid": "k1", "alg": "RS256", "use": "sig", "n": b64.EncodeToString(key.N.Bytes()),
			"e": b64.EncodeToString(big.NewInt(int64(key.E)).Bytes())}}})
	})
	iss.srv = httptest.NewServer(mux)
	t.Cleanup(iss.srv.Close)
	return iss
}

// token signs claims with RS256, filling in the issuer, audience and times.
func (iss *testIssuer) token(t *testing.T, now time.Time, claims map[string]any) string {
	t.Helper()
	all := map[string]any{"iss": iss.srv.URL, "aud": "mediasign", "iat": now.Unix(),
		"nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range claims {
		all[k] = v
	}
	b64 := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "k1", "typ": "JWT"})
	payload, _ := json.Marshal(all)
	signing := b64.EncodeToString(header) + "." + b64.EncodeToString(payload)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, iss.key, crypto.SHA256, sum[:])
	must(t, err)
	return signing + "." + b64.EncodeToString(sig)
}

// TestOAuth2Mode runs bearer JWTs from a test provider through the
// middleware: users appear on first sight, roles follow the role claim,
// and bad tokens are refused before anything is signed.
func TestOAuth2Mode(t *testing.T) {
	iss := newTestIssuer(t)
	var f *fixture
	verifier := &lazyVerifier{build: func() (*oidc.Verifier, error) {
		return oidc.New(context.Background(), oidc.Config{Issuer: iss.srv.URL,
			Audience: "mediasign", RoleClaim: "mediasign_roles", Clock: f.clock})
	}}
	f = newFixture(t, auth.Options{Mode: auth.ModeOAuth2, Verifier: verifier, SyncRoles: true})
	now := f.clock.Now()
	issued := now.Add(-time.Minute)
	alice := func(roles map[string]string) string {
		issued = issued.Add(time.Second) // each token newer than the last
		return iss.token(t, issued, map[string]any{"sub": "sub-alice", "email": "alice@example.com",
			"email_verified": true, "mediasign_roles": roles})
	}

	var me struct {
		Method string `json:"method"`
		User   struct {
			Name string `json:"name"`
		} `json:"user"`
	}
	resp, body := f.do("GET", "/api/v1/me", "", bearer(alice(map[string]string{"p": "viewer"})))
	must(t, json.Unmarshal(body, &me))
	if resp.StatusCode != 200 || me.Method != "oauth2" || me.User.Name != "alice@example.com" {
		t.Fatalf("me = %d %s, want the oauth2 user alice@example.com", resp.StatusCode, body)
	}

	viewer := bearer(alice(map[string]string{"p": "viewer", "nope": "admin"}))
	if got := f.status("GET", "/m/1", "", viewer); got != 302 {
		t.Errorf("viewer by claim: /m/1 = %d, want 302", got)
	}
	if got := f.status("GET", "/m/2", "", viewer); got != 404 {
		t.Errorf("viewer by claim: /m/2 of another project = %d, want 404", got)
	}
	if got := f.status("GET", "/api/v1/projects/p/members", "", viewer); got != 403 {
		t.Errorf("viewer by claim: members = %d, want 403", got)
	}
	admin := bearer(alice(map[string]string{"p": "admin"}))
	if got := f.status("GET", "/api/v1/projects/p/members", "", admin); got != 200 {
		t.Errorf("new token with admin claim: members = %d, want 200", got)
	}
	if got := f.status("GET", "/m/1", "", bearer(alice(nil))); got != 404 {
		t.Errorf("token without roles: /m/1 = %d, want 404 (claim roles dropped)", got)
	}

	before := f.storage.calls()
	for name, token := range map[string]string{
		"expired":        iss.token(t, now.Add(-2*time.Hour), map[string]any{"sub": "sub-alice"}),
		"wrong audience": iss.token(t, now, map[string]any{"sub": "sub-alice", "aud": "other"}),
		"wrong issuer":   iss.token(t, now, map[string]any{"sub": "sub-alice", "iss": "https://evil.example"}),
		"bad signature":  alice(map[string]string{"p": "viewer"})[:100] + "x" + alice(nil)[101:],
	} {
		resp, body := f.do("GET", "/m/1", "", bearer(token))
		if resp.StatusCode != 401 || errorOf(t, resp, body).Code != mediasign.CodeUnauthorized {
			t.Errorf("%s token: /m/1 = %d %s, want 401", name, resp.StatusCode, body)
		}
	}
	if f.storage.calls() != before {
		t.Error("a refused token reached the storage")
	}

	resp, body = f.do("POST", "/api/v1/login", `{"username":"alice","password":"password-1"}`, nil)
	if resp.StatusCode != 400 || !strings.Contains(errorOf(t, resp, body).Message, "OAuth2") {
		t.Errorf("password login in OAuth2 mode = %d %s, want 400 naming OAuth2", resp.StatusCode, body)
	}
	if got := f.status("GET", "/api/v1/me", "", nil); got != 401 {
		t.Errorf("no token = %d, want 401", got)
	}
}

// lazyVerifier builds the verifier on first use, once the fixture's clock
// exists.
type lazyVerifier struct {
	build func() (*oidc.Verifier, error)
	once  sync.Once
	v     auth.TokenVerifier
	err   error
}

func (l *lazyVerifier) Verify(ctx context.Context, raw string) (*auth.ExternalClaims, error) {
	l.once.Do(func() {
		v, err := l.build()
		l.v, l.err = auth.OIDC(v), err
	})
	if l.err != nil {
		return nil, l.err
	}
	return l.v.Verify(ctx, raw)
}

// oauth2Fixture is a fixture in OAuth2 mode with a role claim, and its
// test provider.
func oauth2Fixture(t *testing.T) (*fixture, *testIssuer) {
	t.Helper()
	iss := newTestIssuer(t)
	var f *fixture
	verifier := &lazyVerifier{build: func() (*oidc.Verifier, error) {
		return oidc.New(context.Background(), oidc.Config{Issuer: iss.srv.URL,
			Audience: "mediasign", RoleClaim: "mediasign_roles", Clock: f.clock})
	}}
	f = newFixture(t, auth.Options{Mode: auth.ModeOAuth2, Verifier: verifier, SyncRoles: true})
	return f, iss
}

// TestOlderTokenKeepsRemovedRoles checks that a token issued before the one
// whose roles were last applied cannot bring back a role the provider
// removed since, whether it has an issue time or only an expiry.
func TestOlderTokenKeepsRemovedRoles(t *testing.T) {
	f, iss := oauth2Fixture(t)
	now := f.clock.Now()
	members := "/api/v1/projects/p/members"

	for _, withIAT := range []bool{true, false} {
		sub := "sub-with-iat"
		if !withIAT {
			sub = "sub-without-iat"
		}
		tok := func(issued time.Time, role string) func(*http.Request) {
			claims := map[string]any{"sub": sub, "mediasign_roles": map[string]string{"p": role}}
			if !withIAT {
				claims["iat"] = nil
			}
			return bearer(iss.token(t, issued, claims))
		}

		if got := f.status("GET", members, "", tok(now.Add(-20*time.Minute), "admin")); got != 200 {
			t.Fatalf("iat %v: admin by claim: members = %d, want 200", withIAT, got)
		}
		if got := f.status("GET", members, "", tok(now.Add(-time.Minute), "viewer")); got != 403 {
			t.Fatalf("iat %v: newer token without admin: members = %d, want 403", withIAT, got)
		}
		for name, old := range map[string]func(*http.Request){
			"older token":                 tok(now.Add(-10*time.Minute), "admin"),
			"same-time token, other role": tok(now.Add(-time.Minute), "admin"),
		} {
			if got := f.status("GET", members, "", old); got != 403 {
				t.Errorf("iat %v: %s with the admin claim: members = %d, want 403", withIAT, name, got)
			}
		}
		if got := f.status("GET", members, "", tok(now, "admin")); got != 200 {
			t.Errorf("iat %v: newest token with the admin claim: members = %d, want 200", withIAT, got)
		}
	}
}

// TestOAuth2NamesNeedVerifiedEmail checks how users made from tokens are
// named: an email counts only when the provider verified it, a name that
// exists in any case or width is never taken, and names are stored in
// their compatibility-normalized form.
func TestOAuth2NamesNeedVerifiedEmail(t *testing.T) {
	f, iss := oauth2Fixture(t)
	f.addUser("dave", "")
	now := f.clock.Now()

	for _, tc := range []struct {
		claims map[string]any
		prefix string // the name, or its start followed by "-" and a suffix
	}{
		{map[string]any{"sub": "s1", "email": "boss@example.com"}, "user"},
		{map[string]any{"sub": "s2", "email": "boss@example.com", "email_verified": false}, "user"},
		{map[string]any{"sub": "s3", "email": "eve@example.com", "email_verified": true},
			"eve@example.com"},
		{map[string]any{"sub": "s4", "preferred_username": "ＣＡＲＯＬ"}, "CAROL"},
		{map[string]any{"sub": "s5", "preferred_username": "ＤＡＶＥ"}, "DAVE"},
	} {
		_, body := f.do("GET", "/api/v1/me", "", bearer(iss.token(t, now, tc.claims)))
		var me struct {
			User struct {
				Name string `json:"name"`
			} `json:"user"`
		}
		must(t, json.Unmarshal(body, &me))
		got := me.User.Name
		exact := tc.prefix != "user" && tc.prefix != "DAVE"
		if (exact && got != tc.prefix) || (!exact && !strings.HasPrefix(got, tc.prefix+"-")) {
			t.Errorf("claims %v: user %q, want %q or %q-SUFFIX", tc.claims, got, tc.prefix, tc.prefix)
		}
	}
}
