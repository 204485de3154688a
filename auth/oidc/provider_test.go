package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/mediasign/mediasign/internal/fakeclock"
)

// testAudience is the audience every test verifier expects.
const testAudience = "mediasign-test"

// testStart is the fake time every test begins at.
var testStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Keys are made once per test binary: RSA key generation is slow under the
// race detector.
var (
	keysOnce sync.Once
	rsaPriv  [3]*rsa.PrivateKey
	ecPriv   *ecdsa.PrivateKey
)

// testKey is a private key with the key id and algorithm its JWK names.
type testKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

// rsaKey returns RSA 2048 key number i (0 to 2) under key id kid.
func rsaKey(t testing.TB, i int, kid string) testKey {
	t.Helper()
	makeKeys(t)
	return testKey{kid: kid, alg: jose.RS256, priv: rsaPriv[i]}
}

// ecKey returns the P-256 key under key id kid.
func ecKey(t testing.TB, kid string) testKey {
	t.Helper()
	makeKeys(t)
	return testKey{kid: kid, alg: jose.ES256, priv: ecPriv}
}

func makeKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		for i := range rsaPriv {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				t.Fatalf("generate RSA key: %v", err)
			}
			rsaPriv[i] = k
		}
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatalf("generate ECDSA key: %v", err)
		}
		ecPriv = k
	})
}

// jwk returns the public JWK of k.
func (k testKey) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// sign mints a compact JWT with the given claims, signed by k with its own
// algorithm.
func (k testKey) sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	return k.signAs(t, k.alg, claims)
}

// signAs mints a compact JWT signed by k with alg.
func (k testKey) signAs(t testing.TB, alg jose.SignatureAlgorithm, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}}, opts)
	if err != nil {
		t.Fatalf("new signer: %v", err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatalf("sign token: %v", err)
	}
	return raw
}

// testProvider is an OpenID Connect provider on loopback that serves a
// discovery document and a JWKS that tests can change.
type testProvider struct {
	srv *httptest.Server

	mu        sync.Mutex
	jwks      []byte
	discovery http.HandlerFunc

	jwksFetches atomic.Int64
}

// newTestProvider starts a provider that publishes keys.
func newTestProvider(t testing.TB, keys ...testKey) *testProvider {
	t.Helper()
	p := &testProvider{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+discoveryPath, p.serveDiscovery)
	mux.HandleFunc("GET /jwks", p.serveJWKS)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)

	p.setKeys(t, keys...)
	return p
}

// issuer returns the provider's issuer URL.
func (p *testProvider) issuer() string { return p.srv.URL }

// setKeys replaces the published JWKS with the public halves of keys.
func (p *testProvider) setKeys(t testing.TB, keys ...testKey) {
	t.Helper()
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.jwk())
	}
	body, err := json.Marshal(set)
	if err != nil {
		t.Fatalf("marshal JWKS: %v", err)
	}
	p.setJWKS(body)
}

// setJWKS replaces the published JWKS document with body.
func (p *testProvider) setJWKS(body []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.jwks = body
}

// setDiscovery replaces the discovery handler.
func (p *testProvider) setDiscovery(h http.HandlerFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.discovery = h
}

func (p *testProvider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	h := p.discovery
	p.mu.Unlock()
	if h != nil {
		h(w, r)
		return
	}
	writeJSON(w, map[string]any{
		"issuer":                                p.issuer(),
		"jwks_uri":                              p.issuer() + "/jwks",
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
	})
}

func (p *testProvider) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	p.jwksFetches.Add(1)
	p.mu.Lock()
	body := p.jwks
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// fixture is a provider, a fake clock and a verifier made against both.
type fixture struct {
	p     *testProvider
	clock *fakeclock.Clock
	v     *Verifier
}

// newFixture starts a provider publishing keys and makes a verifier for it;
// edit, when not nil, changes the config first.
func newFixture(t testing.TB, edit func(*Config), keys ...testKey) *fixture {
	t.Helper()
	return fixtureFor(t, newTestProvider(t, keys...), edit)
}

// fixtureFor makes a verifier for p; edit, when not nil, changes the config
// first.
func fixtureFor(t testing.TB, p *testProvider, edit func(*Config)) *fixture {
	t.Helper()
	f := &fixture{p: p, clock: fakeclock.New(testStart)}
	cfg := Config{Issuer: f.p.issuer(), Audience: testAudience, Clock: f.clock}
	if edit != nil {
		edit(&cfg)
	}

	v, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.v = v
	return f
}

// claims returns a valid claim set at the fixture's current time.
func (f *fixture) claims() map[string]any {
	now := f.clock.Now()
	return map[string]any{
		"iss":   f.p.issuer(),
		"aud":   testAudience,
		"sub":   "user-1",
		"email": "ada@example.com",
		"name":  "Ada Lovelace",
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
	}
}

// with returns a copy of claims with the pairs set; a nil value deletes.
func with(claims map[string]any, pairs ...any) map[string]any {
	out := make(map[string]any, len(claims))
	for k, v := range claims {
		out[k] = v
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		name := pairs[i].(string)
		if pairs[i+1] == nil {
			delete(out, name)
			continue
		}
		out[name] = pairs[i+1]
	}
	return out
}
