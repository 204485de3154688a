package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/mediasign/mediasign"
)

// Mode is how people sign in to an installation.
type Mode string

// Installation modes.
const (
	// ModeSession: local users sign in with a password and get a session
	// cookie.
	ModeSession Mode = "session"

	// ModeOAuth2: people send bearer JWTs from an OAuth2 provider.
	ModeOAuth2 Mode = "oauth2"
)

// Defaults of Options.
const (
	DefaultSessionTTL = 24 * time.Hour

	// maxAuthorization bounds the Authorization header value read.
	maxAuthorization = 64 << 10
)

// Options configures an Authenticator.
type Options struct {
	Store mediasign.Store
	Mode  Mode

	// Admin is the optional installation admin token.
	Admin *AdminToken

	// Verifier checks bearer JWTs in OAuth2 mode.
	Verifier TokenVerifier

	// SyncRoles makes each new OAuth2 token set the user's claim
	// memberships to the roles it carries.
	SyncRoles bool

	// SessionTTL is how long a session lasts after sign-in.
	SessionTTL time.Duration

	// BehindHTTPS marks cookies Secure even on plain HTTP requests, for a
	// service behind a TLS-terminating proxy.
	BehindHTTPS bool

	// PublicURL is how browsers reach the service; requests whose Origin
	// has its scheme, host and port count as same-origin.
	PublicURL string

	// TrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For header names the client, for the per-address
	// sign-in limit and logs. Requests from elsewhere are judged by their
	// peer address alone.
	TrustedProxies []netip.Prefix

	Passwords   PasswordParams
	LoginLimits LoginLimits
	Clock       mediasign.Clock
	Logger      *slog.Logger
}

// Authenticator finds the caller of each request and decides what they may
// do.
type Authenticator struct {
	opts         Options
	publicOrigin string
	users        *Users
	limiter      *loginLimiter
	clock        mediasign.Clock
	logger       *slog.Logger
}

// New returns an Authenticator configured by opts.
func New(opts Options) (*Authenticator, error) {
	switch opts.Mode {
	case ModeSession:
	case ModeOAuth2:
		if opts.Verifier == nil {
			return nil, errors.New("configure authentication: OAuth2 mode needs a token verifier")
		}
	default:
		return nil, fmt.Errorf("configure authentication: mode %q is not session or oauth2", opts.Mode)
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.Clock == nil {
		opts.Clock = mediasign.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}

	users := NewUsers(opts.Store, UsersOptions{Passwords: opts.Passwords, Clock: opts.Clock,
		Logger: opts.Logger, SignIn: opts.Mode.signIn()})
	var public string
	if u, err := url.Parse(opts.PublicURL); err == nil && u.Host != "" {
		public = origin(u.Scheme, u.Host)
	}
	return &Authenticator{opts: opts, publicOrigin: public, users: users,
		limiter: newLoginLimiter(opts.LoginLimits, opts.TrustedProxies),
		clock:   opts.Clock, logger: opts.Logger}, nil
}

// signIn returns how users of an installation in mode m sign in.
func (m Mode) signIn() mediasign.SignIn {
	if m == ModeOAuth2 {
		return mediasign.SignInOAuth2
	}
	return mediasign.SignInPassword
}

// Mode returns the installation mode.
func (a *Authenticator) Mode() Mode { return a.opts.Mode }

// Users returns the user manager.
func (a *Authenticator) Users() *Users { return a.users }

func unauthorized(format string, args ...any) error {
	return &mediasign.Error{Code: mediasign.CodeUnauthorized, Message: fmt.Sprintf(format, args...)}
}

func forbidden(format string, args ...any) error {
	return &mediasign.Error{Code: mediasign.CodeForbidden, Message: fmt.Sprintf(format, args...)}
}

// Authenticate returns the caller of r. A request with an Authorization
// header is judged by it alone; otherwise the session cookie counts, in
// session mode. Every refusal is a CodeUnauthorized error that says what to
// send instead.
func (a *Authenticator) Authenticate(r *http.Request) (mediasign.Caller, error) {
	headers := r.Header.Values("Authorization")
	switch {
	case len(headers) > 1:
		return mediasign.Caller{}, unauthorized("the request has %d Authorization headers: "+
			"send one", len(headers))
	case len(headers) == 1:
		return a.bearer(r.Context(), headers[0])
	}

	if a.opts.Mode == ModeSession {
		if id, present, err := sessionCookie(r); present {
			if err != nil {
				return mediasign.Caller{}, err
			}
			return a.session(r.Context(), id)
		}
	}
	return mediasign.Caller{}, a.missing()
}

func (a *Authenticator) missing() error {
	if a.opts.Mode == ModeSession {
		return unauthorized("this endpoint needs you to sign in: log in at POST /api/v1/login, " +
			"or send 'Authorization: Bearer <token>' with an API token")
	}
	return unauthorized("this endpoint needs a token: send 'Authorization: Bearer <token>' " +
		"with a token from the OAuth2 provider, or an API token")
}

// bearer authenticates an Authorization header.
func (a *Authenticator) bearer(ctx context.Context, header string) (mediasign.Caller, error) {
	if len(header) > maxAuthorization {
		return mediasign.Caller{}, unauthorized("the Authorization header is longer than %d "+
			"bytes: send 'Authorization: Bearer <token>'", maxAuthorization)
	}
	scheme, token, ok := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return mediasign.Caller{}, unauthorized("malformed Authorization header: send " +
			"'Authorization: Bearer <token>'")
	}

	switch {
	case a.opts.Admin != nil && a.opts.Admin.Matches(token):
		return mediasign.Caller{InstallAdmin: true, Method: mediasign.AuthAdminToken}, nil
	case strings.HasPrefix(token, APITokenPrefix):
		return a.apiToken(ctx, token)
	case a.opts.Mode == ModeOAuth2:
		return a.oauth2(ctx, token)
	}
	return mediasign.Caller{}, unauthorized("the token is not valid: send an API token (mst_...) " +
		"or the admin token")
}

// apiToken authenticates an API token.
func (a *Authenticator) apiToken(ctx context.Context, token string) (mediasign.Caller, error) {
	secret, ok := splitAPIToken(token)
	if !ok {
		return mediasign.Caller{}, unauthorized("the API token is malformed: send the whole " +
			"mst_... token as it was shown")
	}
	t, err := a.opts.Store.APITokenByHash(ctx, hashSecret(secret))
	if mediasign.ErrorCode(err) == mediasign.CodeNotFound {
		return mediasign.Caller{}, unauthorized("the API token is not valid or was revoked")
	}
	if err != nil {
		return mediasign.Caller{}, err
	}
	if !t.ExpiresAt.IsZero() && !a.clock.Now().Before(t.ExpiresAt) {
		return mediasign.Caller{}, unauthorized("the API token expired at %s: ask a project "+
			"admin for a new one", t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return mediasign.Caller{Method: mediasign.AuthAPIToken, TokenProjectID: t.ProjectID,
		TokenRole: t.Role}, nil
}

// session authenticates a session ID from the cookie.
func (a *Authenticator) session(ctx context.Context, id string) (mediasign.Caller, error) {
	s, err := a.opts.Store.Session(ctx, hashSecret(id))
	if mediasign.ErrorCode(err) == mediasign.CodeNotFound {
		return mediasign.Caller{}, errSessionEnded
	}
	if err != nil {
		return mediasign.Caller{}, err
	}
	if !a.clock.Now().Before(s.ExpiresAt) {
		if err := a.opts.Store.DeleteSession(ctx, s.IDHash); err != nil {
			a.logger.WarnContext(ctx, "delete expired session", "error", err)
		}
		return mediasign.Caller{}, errSessionEnded
	}

	u, err := a.opts.Store.User(ctx, s.UserID)
	if mediasign.ErrorCode(err) == mediasign.CodeNotFound {
		return mediasign.Caller{}, errSessionEnded
	}
	if err != nil {
		return mediasign.Caller{}, err
	}
	return mediasign.Caller{UserID: u.ID, UserName: u.Name,
		Account: mediasign.AccountTag(u), InstallAdmin: u.InstallAdmin,
		Method: mediasign.AuthSession, Credential: id}, nil
}

var errSessionEnded = unauthorized("your session has ended: log in again")
