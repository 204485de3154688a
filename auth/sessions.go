package auth

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mediasign/mediasign"
)

// Names the browser sees.
const (
	// SessionCookie holds the session ID. It is HttpOnly, so scripts on
	// the page never read it.
	SessionCookie = "mediasign_session"

	// CSRFHeader carries the session's CSRF token on state-changing
	// requests that the session cookie authenticates.
	CSRFHeader = "X-CSRF-Token"
)

// LoginResult is a successful sign-in.
type LoginResult struct {
	User      *mediasign.User
	CSRFToken string
	ExpiresAt time.Time
}

// errWrongLogin is the one answer to every wrong name or password, so the
// answer does not tell which one was wrong.
var errWrongLogin = unauthorized("wrong user name or password")

// Login checks a user name and password, and on success starts a session
// with a new ID, sets its cookie on w and ends the session the request came
// with, if any, so an ID planted before sign-in is worth nothing after it.
// Attempts are rate-limited per client address and per user name.
func (a *Authenticator) Login(w http.ResponseWriter, r *http.Request, name, password string) (LoginResult, error) {
	ctx := r.Context()
	if a.opts.Mode != ModeSession {
		return LoginResult{}, mediasign.Invalidf("this installation signs in through OAuth2: " +
			"send 'Authorization: Bearer <token>' with a token from the provider")
	}
	if err := a.checkSameOrigin(r); err != nil {
		return LoginResult{}, err
	}
	_, key, err := NormalizeName(name)
	if err != nil {
		return LoginResult{}, err
	}
	if password, err = normalizePassword(password); err != nil {
		return LoginResult{}, err
	}
	if err := a.limiter.allow(r, key, a.clock.Now()); err != nil {
		a.logger.WarnContext(ctx, "login rate limited", "address", a.limiter.address(r))
		return LoginResult{}, err
	}

	u, err := a.checkPassword(ctx, key, password)
	if err != nil {
		return LoginResult{}, err
	}
	return a.startSession(w, r, u)
}

// CheckCurrentPassword checks the current password that a signed-in user
// gives to change their own. Each check takes a token from the same
// per-address and per-user buckets as sign-in, so a stolen session cannot
// guess the password faster than a sign-in could.
func (a *Authenticator) CheckCurrentPassword(r *http.Request, u *mediasign.User, password string) error {
	if password == "" {
		return mediasign.Invalidf("current_password is empty: give your current password to " +
			"change your own")
	}
	if err := a.limiter.allow(r, u.NameKey, a.clock.Now()); err != nil {
		a.logger.WarnContext(r.Context(), "password check rate limited", "user_id", u.ID,
			"address", a.limiter.address(r))
		return err
	}
	return a.users.CheckCurrentPassword(r.Context(), u, password)
}

// checkPassword returns the user with name key when password is theirs.
// Missing users and users without a password cost a hash too.
func (a *Authenticator) checkPassword(ctx context.Context, key, password string) (*mediasign.User, error) {
	u, err := a.opts.Store.UserByName(ctx, key)
	if err != nil && mediasign.ErrorCode(err) != mediasign.CodeNotFound {
		return nil, err
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}

	ok, err := a.users.hasher.verify(ctx, hash, password)
	if err != nil {
		return nil, fmt.Errorf("check password: %w", err)
	}
	if !ok || u == nil || hash == "" {
		if u != nil {
			a.logger.InfoContext(ctx, "login refused", "user_id", u.ID)
		}
		return nil, errWrongLogin
	}
	return u, nil
}

func (a *Authenticator) startSession(w http.ResponseWriter, r *http.Request, u *mediasign.User) (LoginResult, error) {
	ctx := r.Context()
	if old, present, err := sessionCookie(r); present && err == nil {
		if err := a.opts.Store.DeleteSession(ctx, hashSecret(old)); err != nil {
			return LoginResult{}, err
		}
	}
	now := a.clock.Now()
	if _, err := a.opts.Store.DeleteExpiredSessions(ctx, now); err != nil {
		a.logger.WarnContext(ctx, "delete expired sessions", "error", err)
	}

	id, err := newSecret()
	if err != nil {
		return LoginResult{}, err
	}
	s := &mediasign.Session{IDHash: hashSecret(id), UserID: u.ID, CreatedAt: now,
		ExpiresAt: now.Add(a.opts.SessionTTL)}
	if err := a.opts.Store.CreateSession(ctx, s); err != nil {
		return LoginResult{}, err
	}

	a.setCookie(w, r, id, a.opts.SessionTTL)
	a.logger.InfoContext(ctx, "login", "user_id", u.ID)
	return LoginResult{User: u, CSRFToken: csrfFor(id), ExpiresAt: s.ExpiresAt}, nil
}

// Logout ends the session of the request, if it has a live one, and clears
// the cookie. Ending a live session needs its CSRF token.
func (a *Authenticator) Logout(w http.ResponseWriter, r *http.Request) error {
	id, present, err := sessionCookie(r)
	if !present || err != nil {
		a.ClearCookie(w, r)
		return nil
	}
	c, err := a.session(r.Context(), id)
	if err != nil {
		a.ClearCookie(w, r)
		return nil
	}
	if err := a.CheckCSRF(r, c); err != nil {
		return err
	}
	if err := a.opts.Store.DeleteSession(r.Context(), hashSecret(id)); err != nil {
		return err
	}
	a.ClearCookie(w, r)
	a.logger.InfoContext(r.Context(), "logout", "user_id", c.UserID)
	return nil
}

// sessionCookie returns the session ID of r's cookie, whether there is one,
// and an error when it is malformed.
func sessionCookie(r *http.Request) (string, bool, error) {
	cookies := r.CookiesNamed(SessionCookie)
	switch {
	case len(cookies) == 0:
		return "", false, nil
	case len(cookies) > 1:
		return "", true, unauthorized("the request has %d session cookies: clear this "+
			"site's cookies and log in again", len(cookies))
	case !wellFormed(cookies[0].Value):
		return "", true, unauthorized("the session cookie is malformed: log in again")
	}
	return cookies[0].Value, true, nil
}

func (a *Authenticator) setCookie(w http.ResponseWriter, r *http.Request, value string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: value, Path: "/",
		MaxAge: int(ttl / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil || a.opts.BehindHTTPS})
}

// ClearCookie tells the browser to drop its session cookie.
func (a *Authenticator) ClearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || a.opts.BehindHTTPS})
}

// CSRFToken returns the CSRF token of a session caller, or "".
func (a *Authenticator) CSRFToken(c mediasign.Caller) string {
	if c.Method != mediasign.AuthSession {
		return ""
	}
	return csrfFor(c.Credential)
}

// CheckCSRF refuses a state-changing request that the session cookie
// authenticates unless it comes from the same origin and carries the
// session's CSRF token in the X-CSRF-Token header. The token is a
// synchronizer token, bound to the session, which a page of another site
// can neither read nor guess; the origin check is a second line. Requests
// authenticated by an Authorization header need neither: browsers never add
// that header by themselves.
func (a *Authenticator) CheckCSRF(r *http.Request, c mediasign.Caller) error {
	if c.Method != mediasign.AuthSession || safeMethod(r.Method) {
		return nil
	}
	if err := a.checkSameOrigin(r); err != nil {
		return err
	}
	sent := r.Header.Get(CSRFHeader)
	if sent == "" {
		return forbidden("this request needs the %s header: read csrf_token from the login "+
			"answer or GET /api/v1/me", CSRFHeader)
	}
	if !csrfMatches(c.Credential, sent) {
		return forbidden("the %s header does not match your session: reload the page", CSRFHeader)
	}
	return nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkSameOrigin refuses requests that a browser marks as sent from
// another site, by Sec-Fetch-Site or by an Origin whose scheme, host and
// port are neither the public URL's nor the request's own. Clients that send
// neither header, such as curl, pass.
func (a *Authenticator) checkSameOrigin(r *http.Request) error {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return forbidden("cross-site request refused: send it from mediasign's own page")
	}

	sent := r.Header.Get("Origin")
	if sent == "" {
		return nil
	}
	u, err := url.Parse(sent)
	if err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https") {
		got := origin(u.Scheme, u.Host)
		if got == a.publicOrigin || got == a.requestOrigin(r) {
			return nil
		}
	}
	return forbidden("cross-site request refused: Origin %q is not this service; behind a "+
		"proxy, the service's public URL must be the one browsers use", sent)
}

// requestOrigin is the origin a browser sees when it reaches the service
// directly: the request's host, over https when the request came over TLS
// or the service is configured as behind HTTPS.
func (a *Authenticator) requestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || a.opts.BehindHTTPS {
		scheme = "https"
	}
	return origin(scheme, r.Host)
}

// origin returns scheme://host:port in lower case, without the scheme's
// default port, so that two spellings of one origin compare equal.
func origin(scheme, hostport string) string {
	scheme = strings.ToLower(scheme)
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), ""
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	host = strings.ToLower(host)
	if port != "" {
		return scheme + "://" + net.JoinHostPort(host, port)
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host
}
