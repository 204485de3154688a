// Package oidc verifies bearer JWTs issued by an OpenID Connect provider. It
// reads the provider's discovery document once, keeps the provider's signing
// keys (JWKS) cached, and checks each token's signature, algorithm, issuer,
// audience, expiry, not-before and issue time.
package oidc

import (
	"context"
	"fmt"
	"net/http"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/mediasign/mediasign"
)

// Limits on configuration and tokens.
const (
	// DefaultLeeway is the clock skew allowed when Config.Leeway is zero.
	DefaultLeeway = 30 * time.Second

	// MaxLeeway is the largest clock skew a Config may allow.
	MaxLeeway = 5 * time.Minute

	// MaxTokenBytes is the size of the largest token Verify reads; larger
	// tokens are refused before any parsing.
	MaxTokenBytes = 32 << 10
)

// defaultAlgorithms are the signature algorithms accepted when
// Config.Algorithms is empty.
var defaultAlgorithms = []string{"RS256", "ES256"}

// Config says which tokens to accept.
type Config struct {
	// Issuer is the provider's issuer URL. It must use https; http is allowed
	// only for loopback hosts, for tests.
	Issuer string

	// Audience must appear in each token's aud claim. It is required.
	Audience string

	// Algorithms is the allow-list of signature algorithms; empty means
	// RS256 and ES256. "none" and the HMAC algorithms are always refused.
	Algorithms []string

	// RoleClaim, when set, names a claim that maps project names to roles,
	// for example {"vision": "editor"}.
	RoleClaim string

	// Leeway is the clock skew allowed for exp, nbf and iat: DefaultLeeway
	// when zero, at most MaxLeeway.
	Leeway time.Duration

	// HTTPClient fetches the discovery document and the JWKS. The default
	// has a 10 second timeout and follows no redirect to another host.
	HTTPClient *http.Client

	// Clock tells the time for token checks and key refreshes; nil means the
	// system clock.
	Clock mediasign.Clock
}

// Claims is what a verified token says.
type Claims struct {
	Subject string
	Email   string

	// EmailVerified is true when the email_verified claim is true: the
	// provider checked that the subject controls Email.
	EmailVerified bool

	Name string

	// PreferredUsername is the preferred_username claim, when present.
	PreferredUsername string

	// Roles maps project names to "viewer", "editor" or "admin", read from
	// Config.RoleClaim. Entries with any other value are dropped. It is
	// never nil.
	Roles map[string]string

	// IssuedAt is the iat claim; zero when the token has none.
	IssuedAt time.Time

	Expiry time.Time
}

// Verifier checks tokens against one provider. It is safe for concurrent
// use.
type Verifier struct {
	issuer    string
	audience  string
	algs      []jose.SignatureAlgorithm
	roleClaim string
	leeway    time.Duration
	clock     mediasign.Clock
	keys      *keySet
}

// New checks cfg, fetches the provider's discovery document (whose issuer
// must equal cfg.Issuer exactly) and its signing keys, and returns a
// Verifier.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("check oidc config: %w", err)
	}
	cfg = cfg.withDefaults()

	jwksURL, err := discover(ctx, cfg.HTTPClient, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover oidc provider %s: %w", cfg.Issuer, err)
	}

	keys := newKeySet(jwksURL, cfg.HTTPClient, cfg.Clock)
	if err := keys.load(ctx); err != nil {
		return nil, fmt.Errorf("load oidc signing keys from %s: %w", jwksURL, err)
	}

	return &Verifier{
		issuer:    cfg.Issuer,
		audience:  cfg.Audience,
		algs:      signatureAlgorithms(cfg.Algorithms),
		roleClaim: cfg.RoleClaim,
		leeway:    cfg.Leeway,
		clock:     cfg.Clock,
		keys:      keys,
	}, nil
}

// withDefaults returns cfg with its empty fields filled in.
func (cfg Config) withDefaults() Config {
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = defaultAlgorithms
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = defaultHTTPClient()
	}
	if cfg.Clock == nil {
		cfg.Clock = mediasign.SystemClock{}
	}
	return cfg
}

// signatureAlgorithms converts validated algorithm names for go-jose.
func signatureAlgorithms(names []string) []jose.SignatureAlgorithm {
	algs := make([]jose.SignatureAlgorithm, len(names))
	for i, name := range names {
		algs[i] = jose.SignatureAlgorithm(name)
	}
	return algs
}
