package customsigner

import (
	"net/url"
	"strings"
	"time"

	"github.com/mediasign/mediasign"
)

// Defaults and limits of a custom URL signer's settings.
const (
	DefaultTimeout        = 5 * time.Second
	MinTimeout            = 50 * time.Millisecond
	MaxTimeout            = time.Minute
	DefaultMaxConcurrency = 32
	MaxMaxConcurrency     = 1024

	// MaxAnswerBytes bounds the body of an answer to one key.
	MaxAnswerBytes = 64 << 10

	maxServiceToken = 4096
)

// ValidateConfig normalizes cfg in place, filling in defaults, and reports
// the first problem with it in a message that says what to change.
func ValidateConfig(cfg *mediasign.SignerConfig) error {
	if cfg == nil {
		return mediasign.Invalidf("signer settings are missing")
	}
	base, err := normalizeURL(cfg.URL)
	if err != nil {
		return err
	}
	cfg.URL = base

	for _, check := range []func(*mediasign.SignerConfig) error{
		checkForward, checkCookie, checkServiceToken, checkScope, checkLimits,
	} {
		if err := check(cfg); err != nil {
			return err
		}
	}
	return nil
}

// normalizeURL checks that raw is an absolute http(s) URL without user,
// query or fragment, and drops trailing slashes.
func normalizeURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", mediasign.Invalidf("signer url is empty: give the base URL of the signer, " +
			"for example https://signer.internal")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", mediasign.Invalidf("signer url %q is not a URL", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", mediasign.Invalidf("signer url %q must start with https:// or http://", raw)
	case u.Host == "" || u.Opaque != "":
		return "", mediasign.Invalidf("signer url %q has no host", raw)
	case u.User != nil:
		return "", mediasign.Invalidf("signer url must not hold a user name or password: " +
			"use service_token for the signer's own credential")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		return "", mediasign.Invalidf("signer url %q must not have a query or fragment: "+
			"mediasign adds /{bucket}/?key=...&method=... itself", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

func checkForward(cfg *mediasign.SignerConfig) error {
	switch cfg.Forward {
	case "":
		cfg.Forward = mediasign.ForwardAuto
	case mediasign.ForwardAuto, mediasign.ForwardBearer, mediasign.ForwardJWT, mediasign.ForwardCookie:
	default:
		return mediasign.Invalidf("signer forward %q is not known: use auto, bearer, jwt "+
			"(the bare token, for older signers) or cookie", cfg.Forward)
	}
	return nil
}

func checkCookie(cfg *mediasign.SignerConfig) error {
	if cfg.CookieName == "" {
		cfg.CookieName = mediasign.DefaultSignerCookie
	}
	for i := 0; i < len(cfg.CookieName); i++ {
		if !isTokenByte(cfg.CookieName[i]) {
			return mediasign.Invalidf("signer cookie_name %q is not a cookie name: use letters, "+
				"digits, '-' and '_'", cfg.CookieName)
		}
	}
	return nil
}

func checkServiceToken(cfg *mediasign.SignerConfig) error {
	t := cfg.ServiceToken
	if len(t) > maxServiceToken {
		return mediasign.Invalidf("signer service_token is longer than %d bytes", maxServiceToken)
	}
	for i := 0; i < len(t); i++ {
		if t[i] <= ' ' || t[i] == 0x7f {
			return mediasign.Invalidf("signer service_token must not contain spaces or " +
				"control characters: paste the token alone")
		}
	}
	return nil
}

func checkScope(cfg *mediasign.SignerConfig) error {
	switch cfg.CacheScope {
	case "":
		cfg.CacheScope = mediasign.SignerScopeUser
	case mediasign.SignerScopeUser, mediasign.SignerScopeShared:
	default:
		return mediasign.Invalidf("signer cache_scope %q is not known: use user (each user "+
			"gets their own URLs) or shared", cfg.CacheScope)
	}
	return nil
}

func checkLimits(cfg *mediasign.SignerConfig) error {
	if cfg.TimeoutMS == 0 {
		cfg.TimeoutMS = int(DefaultTimeout / time.Millisecond)
	}
	if d := timeoutOf(cfg); d < MinTimeout || d > MaxTimeout {
		return mediasign.Invalidf("signer timeout_ms %d is out of range: give %d to %d",
			cfg.TimeoutMS, MinTimeout.Milliseconds(), MaxTimeout.Milliseconds())
	}
	if cfg.MaxConcurrency == 0 {
		cfg.MaxConcurrency = DefaultMaxConcurrency
	}
	if cfg.MaxConcurrency < 1 || cfg.MaxConcurrency > MaxMaxConcurrency {
		return mediasign.Invalidf("signer max_concurrency %d is out of range: give 1 to %d",
			cfg.MaxConcurrency, MaxMaxConcurrency)
	}
	return nil
}

// isTokenByte reports whether c may appear in an HTTP token such as a
// header or cookie name.
func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// timeoutOf returns the total time one signing may take.
func timeoutOf(cfg *mediasign.SignerConfig) time.Duration {
	return time.Duration(cfg.TimeoutMS) * time.Millisecond
}
