package oidc

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// requireFetches fails unless the provider served want JWKS documents.
func requireFetches(t *testing.T, p *testProvider, want int64) {
	t.Helper()
	if got := p.jwksFetches.Load(); got != want {
		t.Errorf("JWKS fetches = %d, want %d", got, want)
	}
}

func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	oldKey, newKey := rsaKey(t, 0, "rsa-old"), rsaKey(t, 1, "rsa-new")
	f := newFixture(t, nil, oldKey)
	requireFetches(t, f.p, 1)

	oldToken := oldKey.sign(t, with(f.claims(), "exp", testStart.Add(3*time.Hour).Unix()))
	if _, err := f.v.Verify(ctx, oldToken); err != nil {
		t.Fatalf("Verify before rotation: %v", err)
	}

	// The provider rotates: the new key replaces the old one.
	f.p.setKeys(t, newKey)
	newToken := newKey.sign(t, f.claims())

	// Within the refresh interval the new key is not fetched yet.
	_, err := f.v.Verify(ctx, newToken)
	requireRefused(t, err, msgUnknownKey, newToken)
	requireFetches(t, f.p, 1)

	f.clock.Advance(minRefreshInterval)
	if _, err := f.v.Verify(ctx, newToken); err != nil {
		t.Fatalf("Verify with the rotated key: %v", err)
	}
	requireFetches(t, f.p, 2)

	// The old key is gone from the refreshed set.
	_, err = f.v.Verify(ctx, oldToken)
	requireRefused(t, err, msgUnknownKey, oldToken)
	requireFetches(t, f.p, 2)

	// Later fetches do not bring it back either.
	f.clock.Advance(minRefreshInterval)
	_, err = f.v.Verify(ctx, oldToken)
	requireRefused(t, err, msgUnknownKey, oldToken)
	requireFetches(t, f.p, 3)
}

func TestKeyRotationKeepsBothKeysWhilePublished(t *testing.T) {
	ctx := context.Background()
	oldKey, newKey := rsaKey(t, 0, "rsa-old"), ecKey(t, "ec-new")
	f := newFixture(t, nil, oldKey)

	f.p.setKeys(t, oldKey, newKey)
	f.clock.Advance(time.Minute)
	for _, k := range []testKey{newKey, oldKey} {
		if _, err := f.v.Verify(ctx, k.sign(t, f.claims())); err != nil {
			t.Errorf("Verify %s: %v", k.kid, err)
		}
	}
	requireFetches(t, f.p, 2)
}

func TestKeysRefreshedWhenOld(t *testing.T) {
	ctx := context.Background()
	oldKey, newKey := rsaKey(t, 0, "rsa-old"), rsaKey(t, 1, "rsa-new")
	f := newFixture(t, nil, oldKey)
	token := oldKey.sign(t, with(f.claims(), "exp", testStart.Add(3*time.Hour).Unix()))

	f.p.setKeys(t, newKey)
	f.clock.Advance(keyMaxAge - time.Second)
	if _, err := f.v.Verify(ctx, token); err != nil {
		t.Fatalf("Verify before the keys are old: %v", err)
	}
	requireFetches(t, f.p, 1)

	f.clock.Advance(time.Second)
	_, err := f.v.Verify(ctx, token)
	requireRefused(t, err, msgUnknownKey, token)
	requireFetches(t, f.p, 2)
}

func TestOldKeysStayWhenRefreshFails(t *testing.T) {
	ctx := context.Background()
	key := rsaKey(t, 0, "rsa-1")
	f := newFixture(t, nil, key)
	f.p.setJWKS([]byte("not json"))

	f.clock.Advance(keyMaxAge + time.Minute)
	if _, err := f.v.Verify(ctx, key.sign(t, f.claims())); err != nil {
		t.Fatalf("Verify with the provider's JWKS broken: %v", err)
	}
	requireFetches(t, f.p, 2)
}

func TestUnknownKeyRefetchIsRateLimited(t *testing.T) {
	ctx := context.Background()
	key := ecKey(t, "ec-1")
	f := newFixture(t, nil, key)
	requireFetches(t, f.p, 1)
	f.clock.Advance(minRefreshInterval)

	// A flood of tokens with made-up key ids, at once.
	const flood = 200
	var wg sync.WaitGroup
	errs := make(chan error, flood)
	for i := range flood {
		token := ecKey(t, fmt.Sprintf("made-up-%d", i)).sign(t, f.claims())
		wg.Go(func() {
			_, err := f.v.Verify(ctx, token)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		requireRefused(t, err, msgUnknownKey, "")
	}
	requireFetches(t, f.p, 2)

	// Still within the interval: no fetch.
	f.clock.Advance(minRefreshInterval - time.Second)
	_, err := f.v.Verify(ctx, ecKey(t, "made-up-late").sign(t, f.claims()))
	requireRefused(t, err, msgUnknownKey, "")
	requireFetches(t, f.p, 2)

	// Past it: one more fetch.
	f.clock.Advance(time.Second)
	_, err = f.v.Verify(ctx, ecKey(t, "made-up-later").sign(t, f.claims()))
	requireRefused(t, err, msgUnknownKey, "")
	requireFetches(t, f.p, 3)

	// Known keys never cause a fetch.
	for range 50 {
		if _, err := f.v.Verify(ctx, key.sign(t, f.claims())); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	}
	requireFetches(t, f.p, 3)
}

func TestPublishedAlgorithmOfKeyIsEnforced(t *testing.T) {
	key := rsaKey(t, 0, "rsa-1") // published with alg RS256
	f := newFixture(t, func(c *Config) { c.Algorithms = []string{"RS256", "PS256"} }, key)

	token := key.signAs(t, jose.PS256, f.claims())
	_, err := f.v.Verify(context.Background(), token)
	requireRefused(t, err, msgUnknownKey, token)
}

func TestTokenWithoutKeyID(t *testing.T) {
	key := rsaKey(t, 0, "rsa-1")
	f := newFixture(t, nil, key, ecKey(t, "ec-1"))

	for _, k := range []testKey{{alg: jose.RS256, priv: key.priv}, {alg: jose.ES256, priv: ecPriv}} {
		if _, err := f.v.Verify(context.Background(), k.sign(t, f.claims())); err != nil {
			t.Errorf("Verify %s without kid: %v", k.alg, err)
		}
	}
}

func TestUnusableKeysAreSkipped(t *testing.T) {
	good := rsaKey(t, 0, "rsa-good")
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatalf("generate RSA key: %v", err)
	}
	weak := testKey{kid: "rsa-weak", alg: jose.RS256, priv: small}
	encKey := rsaKey(t, 1, "rsa-enc")

	p := newTestProvider(t)
	encJWK := encKey.jwk()
	encJWK.Use = "enc"
	p.setJWKS(jwksJSON(t,
		good.jwk(), weak.jwk(), encJWK,
		json.RawMessage(`{"kty":"oct","kid":"hmac","k":"c2VjcmV0"}`),
		json.RawMessage(`{"kty":"OKP","crv":"Ed448","kid":"ed448","x":"AAAA"}`),
		json.RawMessage(`{"kty":"weird","kid":"weird"}`),
	))
	f := fixtureFor(t, p, nil)
	claims := f.claims()

	if _, err := f.v.Verify(context.Background(), good.sign(t, claims)); err != nil {
		t.Errorf("Verify with the good key: %v", err)
	}
	for _, k := range []testKey{weak, encKey} {
		token := k.sign(t, claims)
		_, err := f.v.Verify(context.Background(), token)
		requireRefused(t, err, msgUnknownKey, token)
	}
}

// jwksJSON builds a JWKS document from JWKs and raw key objects.
func jwksJSON(t *testing.T, keys ...any) []byte {
	t.Helper()
	body, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatalf("marshal JWKS: %v", err)
	}
	return body
}
