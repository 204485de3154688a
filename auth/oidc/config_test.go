package oidc

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// roundTripFunc lets a function serve as an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNewRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"empty issuer", Config{Audience: "a"}, []string{"issuer is empty"}},
		{"empty audience", Config{Issuer: "https://idp.example.com"},
			[]string{"audience is empty"}},
		{"blank audience", Config{Issuer: "https://idp.example.com", Audience: "  "},
			[]string{"audience is empty"}},
		{"both empty", Config{}, []string{"issuer is empty", "audience is empty"}},
		{"http issuer on another host", Config{Issuer: "http://idp.example.com", Audience: "a"},
			[]string{"uses http: use https"}},
		{"ftp issuer", Config{Issuer: "ftp://idp.example.com", Audience: "a"},
			[]string{"must be an https URL"}},
		{"issuer without host", Config{Issuer: "https://", Audience: "a"},
			[]string{"plain URL with a host"}},
		{"issuer with query", Config{Issuer: "https://idp.example.com/?tenant=1", Audience: "a"},
			[]string{"no user, query or fragment"}},
		{"issuer with user", Config{Issuer: "https://u:p@idp.example.com", Audience: "a"},
			[]string{"no user, query or fragment"}},
		{"HS256", Config{Issuer: "https://idp.example.com", Audience: "a",
			Algorithms: []string{"RS256", "HS256"}}, []string{`algorithm "HS256" is refused`}},
		{"hs512 in lower case", Config{Issuer: "https://idp.example.com", Audience: "a",
			Algorithms: []string{"hs512"}}, []string{`algorithm "hs512" is refused`}},
		{"none", Config{Issuer: "https://idp.example.com", Audience: "a",
			Algorithms: []string{"none"}}, []string{`algorithm "none" is refused`}},
		{"None", Config{Issuer: "https://idp.example.com", Audience: "a",
			Algorithms: []string{"None"}}, []string{`algorithm "None" is refused`}},
		{"unknown algorithm", Config{Issuer: "https://idp.example.com", Audience: "a",
			Algorithms: []string{"RSA256", "rs256"}},
			[]string{`algorithm "RSA256" is not supported`, `algorithm "rs256" is not supported`}},
		{"negative leeway", Config{Issuer: "https://idp.example.com", Audience: "a",
			Leeway: -time.Second}, []string{"leeway -1s is negative"}},
		{"leeway too long", Config{Issuer: "https://idp.example.com", Audience: "a",
			Leeway: 6 * time.Minute}, []string{"leeway 6m0s is longer than the 5m0s maximum"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int64
			tt.cfg.HTTPClient = &http.Client{Transport: roundTripFunc(
				func(r *http.Request) (*http.Response, error) {
					requests.Add(1)
					return nil, errors.New("no request may leave a config check")
				})}

			v, err := New(context.Background(), tt.cfg)
			if err == nil {
				t.Fatalf("New accepted the config: %+v", v)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("New made %d requests for a bad config", n)
			}
		})
	}
}

func TestValidateAcceptsGoodConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Issuer: "https://idp.example.com", Audience: "a"},
		{Issuer: "https://idp.example.com/realms/x", Audience: "a",
			Algorithms: []string{"RS256", "PS512", "ES384", "EdDSA"}, Leeway: MaxLeeway},
		{Issuer: "http://127.0.0.1:8080", Audience: "a"},
		{Issuer: "http://[::1]:8080/", Audience: "a"},
		{Issuer: "http://localhost:8080", Audience: "a"},
	} {
		if err := cfg.Validate(); err != nil {
			t.Errorf("Validate(%+v): %v", cfg, err)
		}
	}
}

func TestNewRefusesBadProvider(t *testing.T) {
	key := rsaKey(t, 0, "rsa-1")
	tests := []struct {
		name  string
		setup func(p *testProvider)
		want  string
	}{
		{"discovery 404", func(p *testProvider) {
			p.setDiscovery(http.NotFound)
		}, "status 404"},
		{"discovery garbage", func(p *testProvider) {
			p.setDiscovery(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte("<html>sign in</html>"))
			})
		}, "decode"},
		{"discovery too large", func(p *testProvider) {
			p.setDiscovery(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = w.Write([]byte(`{"x":"` + strings.Repeat("a", maxDiscoveryBytes) + `"}`))
			})
		}, "larger than"},
		{"issuer mismatch", func(p *testProvider) {
			p.setDiscovery(func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, map[string]any{
					"issuer": p.issuer() + "/", "jwks_uri": p.issuer() + "/jwks"})
			})
		}, "not the configured"},
		{"other issuer", func(p *testProvider) {
			p.setDiscovery(func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, map[string]any{
					"issuer": "https://idp.example.com", "jwks_uri": p.issuer() + "/jwks"})
			})
		}, "not the configured"},
		{"no jwks_uri", func(p *testProvider) {
			p.setDiscovery(func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, map[string]any{"issuer": p.issuer()})
			})
		}, "no jwks_uri"},
		{"jwks_uri over http on another host", func(p *testProvider) {
			p.setDiscovery(func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, map[string]any{
					"issuer": p.issuer(), "jwks_uri": "http://idp.example.com/jwks"})
			})
		}, "jwks_uri"},
		{"redirect to another host", func(p *testProvider) {
			p.setDiscovery(func(w http.ResponseWriter, r *http.Request) {
				other := strings.Replace(p.issuer(), "127.0.0.1", "localhost", 1)
				http.Redirect(w, r, other+discoveryPath, http.StatusFound)
			})
		}, "refused redirect"},
		{"JWKS garbage", func(p *testProvider) {
			p.setJWKS([]byte("garbage"))
		}, "decode"},
		{"JWKS without usable keys", func(p *testProvider) {
			p.setJWKS([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`))
		}, "no usable public signing key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestProvider(t, key)
			tt.setup(p)

			v, err := New(context.Background(), Config{Issuer: p.issuer(), Audience: testAudience})
			if err == nil {
				t.Fatalf("New accepted the provider: %+v", v)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

func TestNewFollowsRedirectOnSameHost(t *testing.T) {
	key := rsaKey(t, 0, "rsa-1")
	p := newTestProvider(t, key)
	p.setDiscovery(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("moved") == "" {
			http.Redirect(w, r, discoveryPath+"?moved=1", http.StatusFound)
			return
		}
		writeJSON(w, map[string]any{"issuer": p.issuer(), "jwks_uri": p.issuer() + "/jwks"})
	})

	cfg := Config{Issuer: p.issuer(), Audience: testAudience}
	if _, err := New(context.Background(), cfg); err != nil {
		t.Fatalf("New: %v", err)
	}
}

func TestNewWithTrailingSlashIssuer(t *testing.T) {
	key := rsaKey(t, 0, "rsa-1")
	p := newTestProvider(t, key)
	issuer := p.issuer() + "/"
	p.setDiscovery(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"issuer": issuer, "jwks_uri": p.issuer() + "/jwks"})
	})

	f := fixtureFor(t, p, func(c *Config) { c.Issuer = issuer })
	token := key.sign(t, with(f.claims(), "iss", issuer))
	if _, err := f.v.Verify(context.Background(), token); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}
