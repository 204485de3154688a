package customsignertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Audience is the audience of the tokens a Provider mints.
const Audience = "mediasign-test"

// Provider is an OpenID Connect provider on loopback: a discovery document,
// a JWKS with one ES256 key, and tokens minted on demand.
type Provider struct {
	Issuer string
	key    *ecdsa.PrivateKey
}

// NewProvider starts a provider that stops when the test ends.
func NewProvider(t testing.TB) *Provider {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{key: key}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p.Issuer = srv.URL

	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, 200, map[string]string{"issuer": p.Issuer, "jwks_uri": p.Issuer + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, 200, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(),
			KeyID: "k1", Algorithm: string(jose.ES256), Use: "sig"}}})
	})
	return p
}

// Token mints a token for subject, valid for an hour from now, with the
// extra claims given.
func (p *Provider) Token(t testing.TB, subject string, extra map[string]any) string {
	t.Helper()
	now := time.Now()
	claims := map[string]any{"iss": p.Issuer, "aud": Audience, "sub": subject,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range extra {
		claims[k] = v
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256,
		Key: jose.JSONWebKey{Key: p.key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
