package customsigner

import (
	"context"
	"strconv"
	"strings"

	"github.com/mediasign/mediasign"
)

// scopeService is the cache scope of URLs signed with the service token.
const scopeService = "service"

// identity is who one request to the signer speaks for: the header that
// carries the credential and the scope of what comes back.
type identity struct {
	header string // "Authorization" or "Cookie"
	value  string // never logged

	// scope is userScope for users and "service" for the service token.
	scope string
}

// key identifies the identity for coalescing and batching: requests with
// different credentials never share a call.
func (id identity) key() string { return id.scope + "\x00" + id.value }

// CacheScope returns the part of a cache key that keeps URLs from the
// connection's signer apart per caller: the user, or the service token. It
// is empty for a shared scope.
func CacheScope(ctx context.Context, cfg *mediasign.SignerConfig) string {
	if cfg == nil || cfg.CacheScope == mediasign.SignerScopeShared {
		return ""
	}
	if c, ok := userCaller(ctx); ok {
		return userScope(c)
	}
	return scopeService
}

// userScope is "u<user id>", followed by the account tag when the caller has
// one, so a later account that reuses the id never shares the scope.
func userScope(c mediasign.Caller) string {
	scope := "u" + strconv.FormatInt(c.UserID, 10)
	if c.Account != "" {
		scope += "." + c.Account
	}
	return scope
}

// userCaller returns the caller of ctx when it is a user whose credential
// can be forwarded.
func userCaller(ctx context.Context) (mediasign.Caller, bool) {
	c, ok := mediasign.CallerFrom(ctx)
	ok = ok && c.UserID != 0 && c.Credential != "" &&
		(c.Method == mediasign.AuthSession || c.Method == mediasign.AuthOAuth2)
	return c, ok
}

// identify returns the identity to send for the caller of ctx: the user's
// credential, or the service token for callers that are not users.
func identify(ctx context.Context, cfg *mediasign.SignerConfig) (identity, error) {
	if c, ok := userCaller(ctx); ok {
		return forwardUser(c, cfg)
	}
	if cfg.ServiceToken == "" {
		return identity{}, &mediasign.Error{Code: mediasign.CodeForbidden,
			Message: "this connection's custom URL signer decides per user, and this request " +
				"has no user to forward: sign in as a user, or ask an installation admin to " +
				"give the connection a signer service_token for API tokens and background work"}
	}
	return identity{header: "Authorization", value: "Bearer " + cfg.ServiceToken,
		scope: scopeService}, nil
}

// forwardUser sends a user's JWT or session ID the way the connection asks.
func forwardUser(c mediasign.Caller, cfg *mediasign.SignerConfig) (identity, error) {
	mode := cfg.Forward
	if mode == mediasign.ForwardAuto || mode == "" {
		mode = mediasign.ForwardBearer
		if c.Method == mediasign.AuthSession {
			mode = mediasign.ForwardCookie
		}
	}
	if strings.ContainsAny(c.Credential, " \t\r\n;,\"") {
		return identity{}, mediasign.Invalidf("the credential of this request cannot be " +
			"forwarded to the custom URL signer: sign in again")
	}

	scope := userScope(c)
	wantJWT := mode == mediasign.ForwardBearer || mode == mediasign.ForwardJWT
	switch {
	case wantJWT && c.Method == mediasign.AuthOAuth2 && mode == mediasign.ForwardBearer:
		return identity{header: "Authorization", value: "Bearer " + c.Credential, scope: scope}, nil
	case wantJWT && c.Method == mediasign.AuthOAuth2:
		return identity{header: "Authorization", value: c.Credential, scope: scope}, nil
	case mode == mediasign.ForwardCookie && c.Method == mediasign.AuthSession:
		name := cfg.CookieName
		if name == "" {
			name = mediasign.DefaultSignerCookie
		}
		return identity{header: "Cookie", value: name + "=" + c.Credential, scope: scope}, nil
	}
	return identity{}, &mediasign.Error{Code: mediasign.CodeBadGateway,
		Message: "this connection's custom URL signer is not set up for your sign-in method: " +
			"ask an installation admin to set its forward mode to auto",
		Err: errMismatch(mode, c.Method)}
}

type forwardMismatch struct {
	mode   string
	method mediasign.AuthMethod
}

func errMismatch(mode string, m mediasign.AuthMethod) error { return forwardMismatch{mode, m} }

func (e forwardMismatch) Error() string {
	return "signer forward mode " + e.mode + " cannot carry a " + string(e.method) + " credential"
}
