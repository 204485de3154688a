package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/mediasign/mediasign"
)

// Key refresh timing and key strength.
const (
	// minRefreshInterval is the shortest time between two JWKS fetches, so
	// that tokens with made-up key ids cannot flood the provider.
	minRefreshInterval = 10 * time.Second

	// keyMaxAge is how long fetched keys are used before they are fetched
	// again, so that a key the provider removed stops being accepted.
	keyMaxAge = time.Hour

	minRSABits = 2048
)

// Reasons a key fetch was skipped.
var (
	errRefreshTooSoon = fmt.Errorf("keys were fetched less than %s ago", minRefreshInterval)
	errFetchBusy      = errors.New("another key fetch is running")
)

// keySet caches the provider's public signing keys.
type keySet struct {
	url    string
	client *http.Client
	clock  mediasign.Clock

	// fetching holds one token while a fetch runs, so fetches never overlap.
	fetching chan struct{}

	mu        sync.RWMutex
	keys      []jose.JSONWebKey
	fetchedAt time.Time
	triedAt   time.Time
}

// newKeySet returns an empty key set for the JWKS at url.
func newKeySet(url string, client *http.Client, clock mediasign.Clock) *keySet {
	return &keySet{url: url, client: client, clock: clock, fetching: make(chan struct{}, 1)}
}

// load fetches the keys for the first time and requires at least one usable
// key.
func (s *keySet) load(ctx context.Context) error {
	if err := s.refresh(ctx, true); err != nil {
		return err
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.keys) == 0 {
		return fmt.Errorf("the JWKS holds no usable public signing key (RSA of at least "+
			"%d bits, ECDSA or Ed25519)", minRSABits)
	}
	return nil
}

// candidates returns the keys that may have signed a token with the key id
// kid (any key when kid is empty) and algorithm alg. Keys older than
// keyMaxAge are fetched again first, and so are keys when none matches; both
// fetches obey minRefreshInterval. It returns no keys and no error when a
// fresh fetch has no matching key.
func (s *keySet) candidates(
	ctx context.Context, kid string, alg jose.SignatureAlgorithm,
) ([]jose.JSONWebKey, error) {
	if s.old() {
		// A failed fetch keeps the old keys in use, so a provider that is
		// briefly unreachable does not lock every user out; and no caller
		// waits for a fetch that another one already runs.
		_ = s.refresh(ctx, false)
	}
	if keys := s.match(kid, alg); len(keys) > 0 {
		return keys, nil
	}

	err := s.refresh(ctx, true)
	if keys := s.match(kid, alg); len(keys) > 0 {
		return keys, nil
	}
	return nil, err
}

// old reports whether the keys were fetched more than keyMaxAge ago.
func (s *keySet) old() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.clock.Now().Sub(s.fetchedAt) >= keyMaxAge
}

// match returns the cached keys with key id kid that can check alg.
func (s *keySet) match(kid string, alg jose.SignatureAlgorithm) []jose.JSONWebKey {
	s.mu.RLock()
	defer s.mu.RUnlock()

	var out []jose.JSONWebKey
	for _, k := range s.keys {
		if (kid == "" || k.KeyID == kid) && fits(k, alg) {
			out = append(out, k)
		}
	}
	return out
}

// fits reports whether key k can check a signature made with alg.
func fits(k jose.JSONWebKey, alg jose.SignatureAlgorithm) bool {
	if k.Algorithm != "" && k.Algorithm != string(alg) {
		return false
	}

	switch key := k.Key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(string(alg), "RS") || strings.HasPrefix(string(alg), "PS")
	case *ecdsa.PublicKey:
		return curveFor(alg) == key.Curve
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	default:
		return false
	}
}

// curveFor returns the curve an ECDSA algorithm signs with, or nil.
func curveFor(alg jose.SignatureAlgorithm) elliptic.Curve {
	switch alg {
	case jose.ES256:
		return elliptic.P256()
	case jose.ES384:
		return elliptic.P384()
	case jose.ES512:
		return elliptic.P521()
	default:
		return nil
	}
}

// refresh fetches the JWKS and replaces the cached keys, unless a fetch was
// tried less than minRefreshInterval ago. While another fetch runs, it waits
// for it when wait is true and returns at once otherwise.
func (s *keySet) refresh(ctx context.Context, wait bool) error {
	if err := s.lockFetch(ctx, wait); err != nil {
		return err
	}
	defer func() { <-s.fetching }()

	now := s.clock.Now()
	if !s.mayFetch(now) {
		return errRefreshTooSoon
	}

	keys, err := s.fetch(ctx)
	if err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
	s.fetchedAt = now
	return nil
}

// lockFetch takes the fetch token, waiting for it only when wait is true.
func (s *keySet) lockFetch(ctx context.Context, wait bool) error {
	if !wait {
		select {
		case s.fetching <- struct{}{}:
			return nil
		default:
			return errFetchBusy
		}
	}

	select {
	case s.fetching <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// mayFetch records a fetch attempt at now unless the last one was less than
// minRefreshInterval before.
func (s *keySet) mayFetch(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()

	if since := now.Sub(s.triedAt); since >= 0 && since < minRefreshInterval {
		return false
	}
	s.triedAt = now
	return true
}

// fetch downloads the JWKS and returns its usable public signing keys.
func (s *keySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := getJSON(ctx, s.client, s.url, maxJWKSBytes, &set); err != nil {
		return nil, err
	}

	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		if k, ok := parseKey(raw); ok {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// parseKey decodes one JWK and reports whether it is a usable public
// signing key. Keys of unknown types, encryption keys, symmetric keys and
// RSA keys under minRSABits are skipped, as RFC 7517 asks for keys a reader
// does not understand.
func parseKey(raw json.RawMessage) (jose.JSONWebKey, bool) {
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(raw); err != nil {
		return k, false
	}
	if k.Use != "" && k.Use != "sig" {
		return k, false
	}

	switch k.Key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		k = k.Public()
	}

	switch key := k.Key.(type) {
	case *rsa.PublicKey:
		return k, key.N.BitLen() >= minRSABits && k.Valid()
	case *ecdsa.PublicKey, ed25519.PublicKey:
		return k, k.Valid()
	default:
		return k, false
	}
}
