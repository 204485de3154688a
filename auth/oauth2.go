package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/mediasign/mediasign"
)

// ExternalClaims is what a verified OAuth2 token says about its bearer.
type ExternalClaims struct {
	Subject string
	Email   string

	// EmailVerified says the provider checked that the subject controls
	// Email. An unverified email never names a user.
	EmailVerified bool

	Name string

	// PreferredUsername is the name the user chose at the provider.
	PreferredUsername string

	// Roles maps project names to role names.
	Roles map[string]string

	// IssuedAt is when the token was issued; zero when it does not say.
	IssuedAt time.Time

	Expiry time.Time
}

// rolesTime is the time that orders tokens for role syncing, in whole
// seconds as the store keeps it: the issue time, or the expiry of a token
// that has none.
func (c *ExternalClaims) rolesTime() time.Time {
	if !c.IssuedAt.IsZero() {
		return c.IssuedAt.Truncate(time.Second)
	}
	return c.Expiry.Truncate(time.Second)
}

// TokenVerifier checks a bearer JWT: signature, issuer, audience, expiry
// and algorithm. Its errors are CodeUnauthorized errors with a message a
// client may see.
type TokenVerifier interface {
	Verify(ctx context.Context, rawToken string) (*ExternalClaims, error)
}

// oauth2 authenticates a bearer JWT and finds or creates its user.
func (a *Authenticator) oauth2(ctx context.Context, token string) (mediasign.Caller, error) {
	claims, err := a.opts.Verifier.Verify(ctx, token)
	if err != nil {
		if mediasign.ErrorCode(err) == mediasign.CodeUnauthorized {
			return mediasign.Caller{}, err
		}
		return mediasign.Caller{}, &mediasign.Error{Code: mediasign.CodeUnauthorized,
			Message: "the token could not be verified", Err: err}
	}
	if claims.Subject == "" {
		return mediasign.Caller{}, unauthorized("the token has no subject (sub claim)")
	}

	u, err := a.oauth2User(ctx, claims)
	if err != nil {
		return mediasign.Caller{}, err
	}
	if a.opts.SyncRoles && claims.rolesTime().After(u.RolesTokenTime) {
		if err := a.syncRoles(ctx, u, claims); err != nil {
			return mediasign.Caller{}, err
		}
	}
	return mediasign.Caller{UserID: u.ID, UserName: u.Name,
		Account: mediasign.AccountTag(u), InstallAdmin: u.InstallAdmin,
		Method: mediasign.AuthOAuth2, Credential: token}, nil
}

// oauth2User returns the user of a subject, creating it on first sight.
// A new user takes the first free name among the token's names; a name
// whose key is taken, in any case or width, goes to nobody new.
func (a *Authenticator) oauth2User(ctx context.Context, c *ExternalClaims) (*mediasign.User, error) {
	u, err := a.opts.Store.UserBySubject(ctx, c.Subject)
	if mediasign.ErrorCode(err) != mediasign.CodeNotFound {
		return u, err
	}

	for _, name := range nameCandidates(c) {
		// The compatibility form is stored, so a fullwidth or ligature
		// name is shown the way its key reads.
		display, key, err := NormalizeName(norm.NFKC.String(name))
		if err != nil {
			continue
		}
		u = &mediasign.User{Name: display, NameKey: key, Subject: c.Subject}
		err = a.opts.Store.CreateUser(ctx, u)
		if err == nil {
			a.logger.InfoContext(ctx, "user added from oauth2 token", "user_id", u.ID)
			return u, nil
		}
		if mediasign.ErrorCode(err) != mediasign.CodeConflict {
			return nil, err
		}
		// The name is taken, or another request created this subject's
		// user just now.
		if u, err := a.opts.Store.UserBySubject(ctx, c.Subject); err == nil {
			return u, nil
		}
	}
	return nil, fmt.Errorf("create user for oauth2 subject: no free name")
}

// nameCandidates returns the names to try for a new OAuth2 user: the
// preferred user name, the email when the provider verified it, the name
// with spaces as dots, then each with a suffix from the subject, and last a
// name made from the subject alone.
func nameCandidates(c *ExternalClaims) []string {
	sum := sha256.Sum256([]byte(c.Subject))
	tag := hex.EncodeToString(sum[:])[:8]
	email := ""
	if c.EmailVerified {
		email = c.Email
	}
	var out []string
	for _, n := range []string{c.PreferredUsername, email, strings.Join(strings.Fields(c.Name), ".")} {
		if n != "" && len(n) <= MaxNameChars-len(tag)-1 {
			out = append(out, n, n+"-"+tag)
		}
	}
	return append(out, "user-"+tag, "user-"+hex.EncodeToString(sum[:])[:20])
}

// syncRoles sets the claim memberships of u to the roles of a token, unless
// a token issued later already set them. Unknown projects and roles are
// skipped.
func (a *Authenticator) syncRoles(ctx context.Context, u *mediasign.User, c *ExternalClaims) error {
	byID := make(map[int64]mediasign.Role, len(c.Roles))
	for project, role := range c.Roles {
		r := mediasign.Role(role)
		if !r.Valid() {
			continue
		}
		p, err := a.opts.Store.ProjectByName(ctx, project)
		if mediasign.ErrorCode(err) == mediasign.CodeNotFound {
			continue
		}
		if err != nil {
			return err
		}
		byID[p.ID] = r
	}
	synced, err := a.opts.Store.SyncClaimMemberships(ctx, u.ID, byID, c.rolesTime())
	if err != nil {
		return err
	}
	if synced {
		a.logger.InfoContext(ctx, "roles synced from oauth2 token", "user_id", u.ID,
			"projects", len(byID))
	}
	return nil
}
