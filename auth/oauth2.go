package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mediasign/mediasign"
)

// ExternalClaims is what a verified OAuth2 token says about its bearer.
type ExternalClaims struct {
	Subject string
	Email   string
	Name    string

	// PreferredUsername is the name the user chose at the provider.
	PreferredUsername string

	// Roles maps project names to role names.
	Roles map[string]string

	Expiry time.Time
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
	if a.opts.SyncRoles && a.seen.first(token, claims.Expiry, a.clock.Now()) {
		if err := a.syncRoles(ctx, u, claims.Roles); err != nil {
			a.seen.forget(token)
			return mediasign.Caller{}, err
		}
	}
	return mediasign.Caller{UserID: u.ID, UserName: u.Name, InstallAdmin: u.InstallAdmin,
		Method: mediasign.AuthOAuth2, Credential: token}, nil
}

// oauth2User returns the user of a subject, creating it on first sight.
func (a *Authenticator) oauth2User(ctx context.Context, c *ExternalClaims) (*mediasign.User, error) {
	u, err := a.opts.Store.UserBySubject(ctx, c.Subject)
	if mediasign.ErrorCode(err) != mediasign.CodeNotFound {
		return u, err
	}

	for _, name := range nameCandidates(c) {
		display, key, err := NormalizeName(name)
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
// preferred user name, the email, the name with spaces as dots, then each
// with a suffix from the subject, and last a name made from the subject
// alone.
func nameCandidates(c *ExternalClaims) []string {
	sum := sha256.Sum256([]byte(c.Subject))
	tag := hex.EncodeToString(sum[:])[:8]
	var out []string
	for _, n := range []string{c.PreferredUsername, c.Email, strings.Join(strings.Fields(c.Name), ".")} {
		if n != "" && len(n) <= MaxNameChars-len(tag)-1 {
			out = append(out, n, n+"-"+tag)
		}
	}
	return append(out, "user-"+tag, "user-"+hex.EncodeToString(sum[:])[:20])
}

// syncRoles sets the claim memberships of u to the roles of a token.
// Unknown projects and roles are skipped.
func (a *Authenticator) syncRoles(ctx context.Context, u *mediasign.User, roles map[string]string) error {
	byID := make(map[int64]mediasign.Role, len(roles))
	for project, role := range roles {
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
	return a.opts.Store.SyncClaimMemberships(ctx, u.ID, byID)
}

// maxSeenTokens bounds the tokens remembered for role syncing.
const maxSeenTokens = 10_000

// seenTokens remembers which tokens already synced their roles, until they
// expire, so roles are written once per token rather than per request.
type seenTokens struct {
	mu     sync.Mutex
	expiry map[[sha256.Size]byte]time.Time
}

func newSeenTokens() *seenTokens {
	return &seenTokens{expiry: make(map[[sha256.Size]byte]time.Time)}
}

// first records token and reports whether it was new.
func (s *seenTokens) first(token string, exp, now time.Time) bool {
	h := sha256.Sum256([]byte(token))
	s.mu.Lock()
	defer s.mu.Unlock()

	if _, ok := s.expiry[h]; ok {
		return false
	}
	if len(s.expiry) >= maxSeenTokens {
		for k, e := range s.expiry {
			if !e.After(now) {
				delete(s.expiry, k)
			}
		}
		if len(s.expiry) >= maxSeenTokens {
			clear(s.expiry)
		}
	}
	s.expiry[h] = exp
	return true
}

// forget drops token, so its roles are synced again next time.
func (s *seenTokens) forget(token string) {
	h := sha256.Sum256([]byte(token))
	s.mu.Lock()
	delete(s.expiry, h)
	s.mu.Unlock()
}
