package auth

import (
	"context"

	"github.com/mediasign/mediasign/auth/oidc"
)

// OIDC adapts an OpenID Connect verifier to TokenVerifier.
func OIDC(v *oidc.Verifier) TokenVerifier { return oidcVerifier{v: v} }

type oidcVerifier struct{ v *oidc.Verifier }

// Verify checks a token and returns its claims.
func (o oidcVerifier) Verify(ctx context.Context, rawToken string) (*ExternalClaims, error) {
	c, err := o.v.Verify(ctx, rawToken)
	if err != nil {
		return nil, err
	}
	return &ExternalClaims{Subject: c.Subject, Email: c.Email, EmailVerified: c.EmailVerified,
		Name: c.Name, PreferredUsername: c.PreferredUsername, Roles: c.Roles,
		IssuedAt: c.IssuedAt, Expiry: c.Expiry}, nil
}
