package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/mediasign/mediasign"
)

// Public reasons a token is refused. None of them quotes the token.
const (
	msgMissing       = "token is missing"
	msgTooLarge      = "token is too large"
	msgMalformed     = "token is malformed"
	msgAlgorithm     = "token signed with an algorithm that is not allowed"
	msgUnknownKey    = "token signed with an unknown key"
	msgSignature     = "token signature is invalid"
	msgClaims        = "token claims are malformed"
	msgNoExpiry      = "token has no expiry"
	msgExpired       = "token has expired"
	msgNotValidYet   = "token is not valid yet"
	msgIssuedFuture  = "token was issued in the future"
	msgIssuer        = "token issuer does not match"
	msgAudience      = "token audience does not match"
	msgNoSubject     = "token has no subject"
	msgUnknownReason = "token is not valid"
)

// Verify checks rawToken (without a "Bearer " prefix) and returns its
// claims. Every error is a *mediasign.Error with code CodeUnauthorized whose
// message says what was wrong without quoting the token.
func (v *Verifier) Verify(ctx context.Context, rawToken string) (*Claims, error) {
	jws, err := v.parse(rawToken)
	if err != nil {
		return nil, err
	}

	payload, err := v.checkSignature(ctx, jws)
	if err != nil {
		return nil, err
	}

	return v.checkClaims(payload)
}

// refuse returns an unauthorized error with a public message and internal
// detail.
func refuse(message string, detail error) error {
	return &mediasign.Error{Code: mediasign.CodeUnauthorized, Message: message, Err: detail}
}

// parse splits a compact JWS and checks its size and algorithm.
func (v *Verifier) parse(raw string) (*jose.JSONWebSignature, error) {
	if raw == "" {
		return nil, refuse(msgMissing, nil)
	}
	if len(raw) > MaxTokenBytes {
		return nil, refuse(msgTooLarge,
			fmt.Errorf("token has %d bytes, more than the %d allowed", len(raw), MaxTokenBytes))
	}

	jws, err := jose.ParseSignedCompact(raw, v.algs)
	if err != nil {
		if alg, ok := headerAlgorithm(raw); ok && !slices.Contains(v.algs, alg) {
			return nil, refuse(msgAlgorithm, fmt.Errorf("alg %q is not in the allow-list", alg))
		}
		return nil, refuse(msgMalformed, fmt.Errorf("parse token: %w", err))
	}
	if len(jws.Signatures) != 1 {
		return nil, refuse(msgMalformed, errors.New("token does not have exactly one signature"))
	}
	return jws, nil
}

// headerAlgorithm reads the alg of a compact JWS header without trusting
// anything else in it, so that a refused algorithm can be named as such.
func headerAlgorithm(raw string) (jose.SignatureAlgorithm, bool) {
	encoded, _, ok := strings.Cut(raw, ".")
	if !ok {
		return "", false
	}
	header, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		return "", false
	}

	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(header, &h); err != nil || h.Alg == "" {
		return "", false
	}
	return jose.SignatureAlgorithm(h.Alg), true
}

// checkSignature finds the provider keys that may have signed jws and
// returns the payload once one of them verifies the signature.
func (v *Verifier) checkSignature(ctx context.Context, jws *jose.JSONWebSignature) ([]byte, error) {
	header := jws.Signatures[0].Header
	alg := jose.SignatureAlgorithm(header.Algorithm)

	keys, err := v.keys.candidates(ctx, header.KeyID, alg)
	if len(keys) == 0 {
		if err == nil {
			err = errors.New("no key in the provider's JWKS has the token's key id and algorithm")
		}
		return nil, refuse(msgUnknownKey, fmt.Errorf("find signing key: %w", err))
	}

	var verifyErr error
	for _, k := range keys {
		payload, err := jws.Verify(k.Key)
		if err == nil {
			return payload, nil
		}
		verifyErr = err
	}
	return nil, refuse(msgSignature, fmt.Errorf("verify %s signature: %w", alg, verifyErr))
}

// checkClaims decodes a verified payload and checks issuer, audience, times
// and subject.
func (v *Verifier) checkClaims(payload []byte) (*Claims, error) {
	var std jwt.Claims
	if err := json.Unmarshal(payload, &std); err != nil {
		return nil, refuse(msgClaims, fmt.Errorf("decode registered claims: %w", err))
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(payload, &all); err != nil {
		return nil, refuse(msgClaims, fmt.Errorf("decode claims: %w", err))
	}

	if std.Expiry == nil {
		return nil, refuse(msgNoExpiry, nil)
	}
	now := v.clock.Now()
	expected := jwt.Expected{
		Issuer:      v.issuer,
		AnyAudience: jwt.Audience{v.audience},
		Time:        now,
	}
	if err := std.ValidateWithLeeway(expected, v.leeway); err != nil {
		detail := fmt.Errorf("check claims at %s with leeway %s: %w",
			now.UTC().Format(time.RFC3339), v.leeway, err)
		return nil, refuse(claimMessage(err), detail)
	}
	if std.Subject == "" {
		return nil, refuse(msgNoSubject, nil)
	}

	c := &Claims{
		Subject:       std.Subject,
		Email:         stringClaim(all, "email"),
		EmailVerified: trueClaim(all, "email_verified"),
		Name:          stringClaim(all, "name"),

		PreferredUsername: stringClaim(all, "preferred_username"),
		Roles:             v.roles(all),
		Expiry:            std.Expiry.Time(),
	}
	if std.IssuedAt != nil {
		c.IssuedAt = std.IssuedAt.Time()
	}
	return c, nil
}

// claimMessage returns the public message for a go-jose claim check error.
func claimMessage(err error) string {
	switch {
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return msgIssuer
	case errors.Is(err, jwt.ErrInvalidAudience):
		return msgAudience
	case errors.Is(err, jwt.ErrExpired):
		return msgExpired
	case errors.Is(err, jwt.ErrNotValidYet):
		return msgNotValidYet
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return msgIssuedFuture
	default:
		return msgUnknownReason
	}
}
